/*
 * mcd-site-attack - what an attacker on the site's network can do to a pool
 * master, for the site tests (tests/site/cases/40-tickets.sh, run.sh):
 *
 *   launch ...      sign a launch ticket as told (with the right key or
 *                   another, changed after signing, expired, for another
 *                   pool, level or client address) and send it in a LAUNCH;
 *                   print the pool's answer as one line
 *   ticket ...      log in to the Auth/App server and ask it for a ticket
 *                   directly, as a client that skips its own catalog check
 *                   would; print the server's answer as one line
 *   silent-server   accept TCP connections and never answer (a pool master
 *                   that hangs)
 *
 * Exit status: 0 when the exchange happened (whatever the pool answered),
 * 1 when it could not, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "mcd_site.h"
#include "mcd_ticket.h"
#include "mcd_tls.h"

#define IO_MS 120000

struct opts {
	const char *address, *name, *ca, *key, *display, *template_name;
	const char *program, *user, *pool, *app, *password_file;
	unsigned level;
	long issued_ago, life;
	int tamper, twice;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: mcd-site-attack launch --address HOST:PORT --name POOL-CERT-NAME --ca PEM\n"
		"           --key TICKET-KEY --display HOST:N --template T --program /PATH\n"
		"           --user U --level N --pool NAME [--tamper] [--issued-ago S]\n"
		"           [--life S] [--twice]\n"
		"       mcd-site-attack ticket --address HOST:PORT --name SERVER-CERT-NAME --ca PEM\n"
		"           --user U --password-file F --app APP --pool NAME --display HOST:N\n"
		"       mcd-site-attack silent-server --port PORT\n");
}

/* One LAUNCH with the given ticket: print the pool's final answer. */
static int send_launch(const struct opts *o, const uint8_t *body, size_t blen,
		       const uint8_t *sig, const char *tag)
{
	char err[512];
	SSL_CTX *ctx = mcd_tls_client_ctx(o->ca, err, sizeof(err));
	struct mcd_site_out *out = calloc(1, sizeof(*out));
	struct mcd_site_msg *m = calloc(1, sizeof(*m));
	SSL *ssl = NULL;
	int rc = 1;

	if (!ctx || !out || !m) {
		printf("%serror: %s\n", tag, ctx ? "out of memory" : err);
		goto out;
	}
	ssl = mcd_tls_connect(ctx, o->address, o->name, 10000, err, sizeof(err));
	if (!ssl || mcd_tls_hello_client(ssl, IO_MS, err, sizeof(err)) < 0) {
		printf("%serror: %s\n", tag, err);
		goto out;
	}
	mcd_site_begin(out, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(out, MCD_ST_TICKET, body, blen);
	mcd_site_put_bytes(out, MCD_ST_SIG, sig, MCD_SITE_SIG_LEN);
	mcd_site_put_u32(out, MCD_ST_WAIT, 0);
	if (mcd_site_finish(out, MCD_SITE_C2P, err, sizeof(err)) < 0 ||
	    mcd_tls_send(ssl, out, IO_MS, err, sizeof(err)) < 0) {
		printf("%serror: %s\n", tag, err);
		goto out;
	}
	for (;;) {
		if (mcd_tls_recv(ssl, MCD_SITE_P2C, m, IO_MS, err, sizeof(err)) < 0) {
			printf("%serror: %s\n", tag, err);
			goto out;
		}
		if (m->type == MCD_SITE_WAIT)
			continue;
		break;
	}
	if (m->type == MCD_SITE_ERROR || m->type == MCD_SITE_FAILED)
		printf("%s%s %s: %s\n", tag, mcd_site_type_name(m->type),
		       mcd_site_err_name(mcd_site_u32(m, MCD_ST_CODE, 0)),
		       mcd_site_str(m, MCD_ST_TEXT) ? mcd_site_str(m, MCD_ST_TEXT) : "");
	else
		/* Accepted: the attack failed.  The caller ends the session
		 * through the pool's service. */
		printf("%s%s %s\n", tag, mcd_site_type_name(m->type),
		       mcd_site_str(m, MCD_ST_SESSION) ? mcd_site_str(m, MCD_ST_SESSION) : "");
	rc = 0;
out:
	if (ssl)
		mcd_tls_close(ssl);
	SSL_CTX_free(ctx);
	free(out);
	free(m);
	return rc;
}

static int cmd_launch(const struct opts *o)
{
	char err[512];
	uint8_t body[MCD_SITE_TICKET_MAX], sig[MCD_SITE_SIG_LEN];
	size_t blen = 0;
	struct mcd_ticket t = { 0 };
	EVP_PKEY *key;
	time_t now = time(NULL);
	int rc;

	if (!o->address || !o->name || !o->ca || !o->key || !o->display ||
	    !o->template_name || !o->program || !o->user || !o->pool || !o->level) {
		usage();
		return 2;
	}
	key = mcd_ticket_load_private(o->key, err, sizeof(err));
	if (!key) {
		printf("error: %s\n", err);
		return 1;
	}
	t.user = o->user;
	t.app = "attack";
	t.level = o->level;
	t.template_name = o->template_name;
	t.program = o->program;
	t.pool = o->pool;
	t.display = o->display;
	t.issued = (uint32_t)(now - o->issued_ago);
	t.expires = t.issued + (uint32_t)o->life;
	if (mcd_ticket_sign(key, &t, body, sizeof(body), &blen, sig, err,
			    sizeof(err)) < 0) {
		printf("error: %s\n", err);
		EVP_PKEY_free(key);
		return 1;
	}
	EVP_PKEY_free(key);
	/* Change one byte of the user name after signing: the body still
	 * decodes, only the signature no longer matches it. */
	if (o->tamper) {
		uint8_t *p = memmem(body, blen, o->user, strlen(o->user));

		if (p)
			p[0] ^= 0x01;
	}
	rc = send_launch(o, body, blen, sig, o->twice ? "1: " : "");
	if (rc == 0 && o->twice)
		rc = send_launch(o, body, blen, sig, "2: ");
	return rc;
}

/* One request to the server on a connection of its own: the answer (the
 * first frame that is not part of a list) in *m. */
static int ask_server(const struct opts *o, struct mcd_site_out *out,
		      struct mcd_site_msg *m, char *err, size_t errlen)
{
	SSL_CTX *ctx = mcd_tls_client_ctx(o->ca, err, errlen);
	SSL *ssl = NULL;
	int rc = -1;

	if (!ctx)
		return -1;
	ssl = mcd_tls_connect(ctx, o->address, o->name, 10000, err, errlen);
	if (ssl && mcd_tls_hello_client(ssl, IO_MS, err, errlen) >= 0 &&
	    mcd_site_finish(out, MCD_SITE_C2B, err, errlen) == 0 &&
	    mcd_tls_send(ssl, out, IO_MS, err, errlen) == 0 &&
	    mcd_tls_recv(ssl, MCD_SITE_B2C, m, IO_MS, err, errlen) == 0)
		rc = 0;
	if (ssl)
		mcd_tls_close(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

static void print_answer(const struct mcd_site_msg *m)
{
	const char *text = mcd_site_str(m, MCD_ST_TEXT);

	if (m->type == MCD_SITE_ERROR)
		printf("ERROR %s: %s\n",
		       mcd_site_err_name(mcd_site_u32(m, MCD_ST_CODE, 0)),
		       text ? text : "");
	else
		printf("%s\n", mcd_site_type_name(m->type));
}

static int cmd_ticket(const struct opts *o)
{
	struct mcd_site_out *out = calloc(1, sizeof(*out));
	struct mcd_site_msg *m = calloc(1, sizeof(*m));
	char err[512], pw[MCD_SITE_PASSWORD_MAX + 2], token[MCD_SITE_TOKEN_LEN + 1];
	FILE *f;
	int rc = 1;

	if (!o->address || !o->name || !o->ca || !o->user || !o->password_file ||
	    !o->app || !o->pool || !o->display) {
		usage();
		rc = 2;
		goto out;
	}
	if (!out || !m || !(f = fopen(o->password_file, "r"))) {
		printf("error: cannot read %s\n", o->password_file);
		goto out;
	}
	if (!fgets(pw, sizeof(pw), f))
		pw[0] = '\0';
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	mcd_site_begin(out, MCD_SITE_LOGIN);
	mcd_site_put_str(out, MCD_ST_USER, o->user);
	mcd_site_put_bytes(out, MCD_ST_PASSWORD, pw, strlen(pw));
	explicit_bzero(pw, sizeof(pw));
	if (ask_server(o, out, m, err, sizeof(err)) < 0) {
		printf("error: %s\n", err);
		goto out;
	}
	if (m->type != MCD_SITE_LOGIN_OK) {
		print_answer(m);
		goto out;
	}
	snprintf(token, sizeof(token), "%s", mcd_site_str(m, MCD_ST_TOKEN));
	mcd_site_begin(out, MCD_SITE_TICKET_REQ);
	mcd_site_put_str(out, MCD_ST_TOKEN, token);
	mcd_site_put_str(out, MCD_ST_APP, o->app);
	mcd_site_put_str(out, MCD_ST_POOL, o->pool);
	mcd_site_put_str(out, MCD_ST_DISPLAY, o->display);
	if (ask_server(o, out, m, err, sizeof(err)) < 0) {
		printf("error: %s\n", err);
		goto out;
	}
	print_answer(m);
	rc = 0;
out:
	if (out)
		mcd_site_out_wipe(out);
	if (m)
		mcd_site_wipe(m);
	free(out);
	free(m);
	return rc;
}

static int cmd_silent(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		fprintf(stderr, "mcd-site-attack: cannot listen on port %d: %s\n", port,
			strerror(errno));
		return 1;
	}
	printf("silent on port %d\n", port);
	fflush(stdout);
	/* Accept and keep every connection open, never sending a byte. */
	for (;;)
		if (accept(fd, NULL, NULL) < 0 && errno != EINTR && errno != EMFILE)
			return 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "address", 1, 0, 'a' }, { "name", 1, 0, 'n' }, { "ca", 1, 0, 'c' },
		{ "key", 1, 0, 'k' }, { "display", 1, 0, 'd' }, { "template", 1, 0, 't' },
		{ "program", 1, 0, 'p' }, { "user", 1, 0, 'u' }, { "level", 1, 0, 'l' },
		{ "pool", 1, 0, 'P' }, { "tamper", 0, 0, 'T' }, { "issued-ago", 1, 0, 'i' },
		{ "life", 1, 0, 'L' }, { "twice", 0, 0, '2' }, { "port", 1, 0, 'o' },
		{ "app", 1, 0, 'A' }, { "password-file", 1, 0, 'W' },
		{ 0, 0, 0, 0 }
	};
	struct opts o = { .life = MCD_TICKET_LIFE_DEFAULT };
	int c, port = 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage();
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o.address = optarg; break;
		case 'n': o.name = optarg; break;
		case 'c': o.ca = optarg; break;
		case 'k': o.key = optarg; break;
		case 'd': o.display = optarg; break;
		case 't': o.template_name = optarg; break;
		case 'p': o.program = optarg; break;
		case 'u': o.user = optarg; break;
		case 'l': o.level = (unsigned)atoi(optarg); break;
		case 'P': o.pool = optarg; break;
		case 'T': o.tamper = 1; break;
		case 'i': o.issued_ago = atol(optarg); break;
		case 'L': o.life = atol(optarg); break;
		case '2': o.twice = 1; break;
		case 'o': port = atoi(optarg); break;
		case 'A': o.app = optarg; break;
		case 'W': o.password_file = optarg; break;
		default: usage(); return 2;
		}
	}
	if (!strcmp(argv[1], "launch"))
		return cmd_launch(&o);
	if (!strcmp(argv[1], "ticket"))
		return cmd_ticket(&o);
	if (!strcmp(argv[1], "silent-server") && port > 0 && port < 65536)
		return cmd_silent(port);
	usage();
	return 2;
}
