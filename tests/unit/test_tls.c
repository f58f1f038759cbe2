/*
 * test_tls.c - the site protocol's TLS legs on loopback TCP: a server
 * thread and the client in the test, certificates from two site CAs made
 * by scripts/mcd-site-certs (or $MCD_SITE_CERTS) into a temporary
 * directory.  Programs using mcd_tls ignore SIGPIPE; so does this one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "mcd_tls.h"

static char dir[] = "/tmp/mcd-tls-XXXXXX";
static SSL_CTX *server_ctx, *client_ctx, *other_ctx;
static char err[256];

/* What the server thread does with the one connection it accepts. */
enum serve {
	S_HELLO_LOAD, /* HELLO, then LOAD -> LOAD_OK */
	S_HANDSHAKE,  /* the handshake only (may fail: err says why) */
	S_SILENT,     /* handshake, then nothing until the client goes */
	S_OVERSIZE,   /* handshake, then a header announcing too much */
	S_NEVER,      /* never accept at all (TCP is up, TLS never) */
};

struct server {
	int lfd;
	enum serve what;
	pthread_t thr;
	int ok;
	char addr[64];
	char err[256];
	int version;
};

static char path_buf[4][128];

static const char *path(int i, const char *name)
{
	snprintf(path_buf[i], sizeof(path_buf[i]), "%s/%s", dir, name);
	return path_buf[i];
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	const char *certs = getenv("MCD_SITE_CERTS");

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!certs)
		certs = "scripts/mcd-site-certs";
	if (!mkdtemp(dir))
		return -1;
	if (run("%s %s ca && %s %s cert pool0 --ip 127.0.0.1 --dns pool0.site"
		" && mkdir %s/other && %s %s/other ca && %s %s/other cert pool0"
		" --ip 127.0.0.1", certs, dir, certs, dir, dir, certs, dir, certs,
		dir) < 0)
		return -1;
	server_ctx = mcd_tls_server_ctx(path(0, "pool0.pem"),
					path(1, "pool0.key"), err, sizeof(err));
	client_ctx = mcd_tls_client_ctx(path(2, "ca.pem"), err, sizeof(err));
	other_ctx = mcd_tls_client_ctx(path(3, "other/ca.pem"), err,
				       sizeof(err));
	return server_ctx && client_ctx && other_ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(other_ctx);
	return run("rm -rf %s", dir);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	struct mcd_site_msg m;
	struct mcd_site_out o;
	int fd = accept(s->lfd, NULL, NULL);
	SSL *ssl;

	if (fd < 0)
		return NULL;
	mcd_tls_peer_addr(fd, s->addr, sizeof(s->addr));
	ssl = mcd_tls_accept(server_ctx, fd, 2000, s->err, sizeof(s->err));
	if (!ssl) {
		close(fd);
		return NULL;
	}
	switch (s->what) {
	case S_HELLO_LOAD:
		s->version = mcd_tls_hello_server(ssl, MCD_SITE_C2P, 2000, s->err,
						  sizeof(s->err));
		if (s->version < 0 ||
		    mcd_tls_recv(ssl, MCD_SITE_C2P, &m, 2000, s->err,
				 sizeof(s->err)) < 0 ||
		    m.type != MCD_SITE_LOAD)
			break;
		mcd_site_begin(&o, MCD_SITE_LOAD_OK);
		mcd_site_put_str(&o, MCD_ST_POOL, "pool0");
		mcd_site_put_u32(&o, MCD_ST_LEVEL, 2);
		mcd_site_put_u32(&o, MCD_ST_LOAD, 250);
		mcd_site_put_u32(&o, MCD_ST_ROOM, 1);
		mcd_site_put_str(&o, MCD_ST_LIMIT, "memory");
		s->ok = mcd_site_finish(&o, MCD_SITE_P2C, s->err,
					sizeof(s->err)) == 0 &&
			mcd_tls_send(ssl, &o, 2000, s->err, sizeof(s->err)) == 0;
		/* The client's next frame is not allowed: it gets an ERROR. */
		if (mcd_tls_recv(ssl, MCD_SITE_C2P, &m, 2000, s->err,
				 sizeof(s->err)) < 0)
			mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST, 2000,
					   "%s\n(and a second line)", s->err);
		break;
	case S_HANDSHAKE:
		s->ok = 1;
		break;
	case S_SILENT:
		s->ok = 1;
		/* Until the client closes. */
		mcd_tls_recv(ssl, MCD_SITE_C2P, &m, 5000, s->err, sizeof(s->err));
		break;
	case S_OVERSIZE: {
		uint8_t hdr[MCD_SITE_HDR_LEN] = { MCD_SITE_LOAD_OK, 0, 0, 0,
						  0x00, 0x00, 0x01, 0x00 };

		s->ok = SSL_write(ssl, hdr, sizeof(hdr)) == sizeof(hdr);
		mcd_tls_recv(ssl, MCD_SITE_C2P, &m, 5000, s->err, sizeof(s->err));
		break;
	}
	case S_NEVER:
		break;
	}
	mcd_tls_close(ssl);
	return NULL;
}

/* A server on 127.0.0.1; addr gets "127.0.0.1:port". */
static void server_start(struct server *s, enum serve what, char *addr,
			 size_t addrlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->what = what;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(addr, addrlen, "127.0.0.1:%u", ntohs(sa.sin_port));
	if (what != S_NEVER)
		assert_int_equal(pthread_create(&s->thr, NULL, serve, s), 0);
}

static void server_join(struct server *s)
{
	if (s->what != S_NEVER)
		pthread_join(s->thr, NULL);
	close(s->lfd);
}

static void test_handshake_and_frames(void **state)
{
	struct server s;
	struct mcd_site_msg m;
	struct mcd_site_out o;
	char addr[64];
	SSL *ssl;

	(void)state;
	server_start(&s, S_HELLO_LOAD, addr, sizeof(addr));
	ssl = mcd_tls_connect(client_ctx, addr, "pool0", 2000, err, sizeof(err));
	if (!ssl)
		print_message("connect: %s\n", err);
	assert_non_null(ssl);
	assert_int_equal(mcd_tls_hello_client(ssl, 2000, err, sizeof(err)), 1);
	mcd_site_begin(&o, MCD_SITE_LOAD);
	assert_int_equal(mcd_site_finish(&o, MCD_SITE_C2P, err, sizeof(err)), 0);
	assert_int_equal(mcd_tls_send(ssl, &o, 2000, err, sizeof(err)), 0);
	assert_int_equal(mcd_tls_recv(ssl, MCD_SITE_P2C, &m, 2000, err,
				      sizeof(err)), 0);
	assert_int_equal(m.type, MCD_SITE_LOAD_OK);
	assert_int_equal(mcd_site_u32(&m, MCD_ST_LOAD, 0), 250);
	assert_string_equal(mcd_site_str(&m, MCD_ST_LIMIT), "memory");
	/* A reply type from a client: the server answers ERROR, one line. */
	mcd_site_begin(&o, MCD_SITE_OK);
	assert_int_equal(mcd_site_finish(&o, MCD_SITE_P2C, err, sizeof(err)), 0);
	assert_int_equal(mcd_tls_send(ssl, &o, 2000, err, sizeof(err)), 0);
	assert_int_equal(mcd_tls_recv(ssl, MCD_SITE_P2C, &m, 2000, err,
				      sizeof(err)), 0);
	assert_int_equal(m.type, MCD_SITE_ERROR);
	assert_int_equal(mcd_site_u32(&m, MCD_ST_CODE, 0), MCD_SITE_E_BAD_REQUEST);
	assert_non_null(strstr(mcd_site_str(&m, MCD_ST_TEXT),
			       "not allowed in this direction"));
	/* Then the server closes: a clean end of stream. */
	assert_int_equal(mcd_tls_recv(ssl, MCD_SITE_P2C, &m, 2000, err,
				      sizeof(err)), -1);
	assert_string_equal(err, "connection closed");
	mcd_tls_close(ssl);
	server_join(&s);
	assert_true(s.ok);
	assert_int_equal(s.version, 1);
	assert_string_equal(s.addr, "127.0.0.1");
}

static void test_ip_name(void **state)
{
	struct server s;
	char addr[64];
	SSL *ssl;

	(void)state;
	/* No name: the host part of the address, matched as an IP SAN. */
	server_start(&s, S_HANDSHAKE, addr, sizeof(addr));
	ssl = mcd_tls_connect(client_ctx, addr, NULL, 2000, err, sizeof(err));
	assert_non_null(ssl);
	mcd_tls_close(ssl);
	server_join(&s);
	server_start(&s, S_HANDSHAKE, addr, sizeof(addr));
	ssl = mcd_tls_connect(client_ctx, addr, "pool0.site", 2000, err,
			      sizeof(err));
	assert_non_null(ssl);
	mcd_tls_close(ssl);
	server_join(&s);
}

/* The client refuses the server; the reason starts with want. */
static void connect_refused(SSL_CTX *ctx, const char *name, const char *want)
{
	struct server s;
	char addr[64];
	SSL *ssl;

	server_start(&s, S_HANDSHAKE, addr, sizeof(addr));
	ssl = mcd_tls_connect(ctx, addr, name, 2000, err, sizeof(err));
	assert_null(ssl);
	if (!strstr(err, want))
		print_message("reason \"%s\", wanted \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
	server_join(&s);
	assert_false(s.ok);
}

static void test_refused(void **state)
{
	(void)state;
	connect_refused(other_ctx, "pool0", "certificate verify failed: ");
	connect_refused(client_ctx, "pool1", "certificate verify failed: "
			"hostname mismatch");
	connect_refused(client_ctx, "127.0.0.2", "certificate verify failed: "
			"IP address mismatch");
	assert_null(mcd_tls_connect(client_ctx, "no-port", NULL, 100, err,
				    sizeof(err)));
	assert_non_null(strstr(err, "not host:port"));
	assert_null(mcd_tls_client_ctx(path(0, "missing.pem"), err,
				       sizeof(err)));
	assert_null(mcd_tls_server_ctx(path(0, "pool0.pem"),
				       path(1, "other/pool0.key"), err,
				       sizeof(err)));
	assert_non_null(strstr(err, "mismatch"));
}

static void test_deadlines(void **state)
{
	struct server s;
	struct mcd_site_msg m;
	char addr[64];
	SSL *ssl;

	(void)state;
	/* TCP is accepted by the kernel, TLS never answers. */
	server_start(&s, S_NEVER, addr, sizeof(addr));
	assert_null(mcd_tls_connect(client_ctx, addr, "pool0", 300, err,
				    sizeof(err)));
	assert_string_equal(err, "handshake timed out after 300 ms");
	server_join(&s);
	/* A silent peer after the handshake. */
	server_start(&s, S_SILENT, addr, sizeof(addr));
	ssl = mcd_tls_connect(client_ctx, addr, "pool0", 2000, err, sizeof(err));
	assert_non_null(ssl);
	assert_int_equal(mcd_tls_recv(ssl, MCD_SITE_P2C, &m, 200, err,
				      sizeof(err)), -1);
	assert_string_equal(err, "read timed out after 200 ms");
	mcd_tls_close(ssl);
	server_join(&s);
}

static void test_oversize(void **state)
{
	struct server s;
	struct mcd_site_msg m;
	char addr[64];
	SSL *ssl;

	(void)state;
	server_start(&s, S_OVERSIZE, addr, sizeof(addr));
	ssl = mcd_tls_connect(client_ctx, addr, "pool0", 2000, err, sizeof(err));
	assert_non_null(ssl);
	assert_int_equal(mcd_tls_recv(ssl, MCD_SITE_P2C, &m, 2000, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "LOAD_OK: payload of 65536 bytes"));
	mcd_tls_close(ssl);
	server_join(&s);
	assert_true(s.ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_frames),
		cmocka_unit_test(test_ip_name),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_oversize),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
