/*
 * faceconn.c - one connection of the pool master's network face, in a
 * process of its own (see face.h): `mcd-toolstack face-conn`, started by
 * the service with the TCP socket as fd FACE_TCP_FD and its channel to the
 * service as fd FACE_PARENT_FD.
 *
 * It reads the certificate and key as root, then becomes a user of its own
 * with a seccomp allow-list before the first network byte; every step
 * with the peer has a deadline, so a slow or silent peer costs this
 * process only.  It passes one request on, re-encoded (never the peer's
 * bytes as they came), and relays the service's replies until a final one.
 */
#include "face.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faceconf.h"
#include "log.h"
#include "mcd_site.h"
#include "mcd_tls.h"
#include "sandbox.h"

/* How long a peer that sends after its request is given to finish the
 * frame before the connection ends. */
#define FACE_EXTRA_MS 1000

/* Become this connection's own unprivileged user, for good.  Beyond
 * what every child may do, TLS over the accepted socket and the
 * socketpair wants select and time; no files, no new sockets, no
 * processes. */
static int sandbox(unsigned slot)
{
	static const int extra[] = {
		SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(time),
	};
	const char *step;
	int rc = sandbox_drop(FACE_UID_BASE + slot, 16, &step);

	if (rc < 0)
		return -1;
	if (rc > 0)
		_exit(0); /* the service went while we changed */
	return sandbox_seccomp(extra, sizeof(extra) / sizeof(extra[0]), NULL);
}

/* The request, rebuilt field by field from its decoded values: what the
 * service reads is our encoding, never the peer's bytes. */
static int reencode(const struct mcd_site_msg *m, struct mcd_site_out *o)
{
	static const uint16_t str_tags[] = { MCD_ST_COOKIE, MCD_ST_SESSION,
					     MCD_ST_END_KEY };
	static const uint16_t bytes_tags[] = { MCD_ST_TICKET, MCD_ST_SIG };
	char err[160];

	mcd_site_begin(o, m->type);
	for (size_t i = 0; i < sizeof(bytes_tags) / sizeof(bytes_tags[0]); i++) {
		size_t n;
		const uint8_t *p = mcd_site_bytes(m, bytes_tags[i], &n);

		if (p)
			mcd_site_put_bytes(o, bytes_tags[i], p, n);
	}
	for (size_t i = 0; i < sizeof(str_tags) / sizeof(str_tags[0]); i++) {
		const char *s = mcd_site_str(m, str_tags[i]);

		if (s)
			mcd_site_put_str(o, str_tags[i], s);
	}
	if (mcd_site_count(m, MCD_ST_WAIT))
		mcd_site_put_u32(o, MCD_ST_WAIT, mcd_site_u32(m, MCD_ST_WAIT, 0));
	return mcd_site_finish(o, MCD_SITE_C2P, err, sizeof(err));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int is_final(uint16_t type)
{
	return type == MCD_SITE_ERROR || type == MCD_SITE_OK ||
	       type == MCD_SITE_LOAD_OK || type == MCD_SITE_FAILED ||
	       type == MCD_SITE_ENDED || type == MCD_SITE_SESSION_INFO;
}

/* One frame from the service, checked as from any peer, into o.  Its
 * type, or -1 when the service closed us or sent a bad frame. */
static int from_service(struct mcd_site_out *o, struct mcd_site_msg *chk)
{
	char err[160];
	uint16_t type;
	uint32_t len;

	if (read_all(FACE_PARENT_FD, o->buf, MCD_SITE_HDR_LEN) < 0 ||
	    mcd_site_check_hdr(o->buf, MCD_SITE_P2C, &type, &len, err,
			       sizeof(err)) < 0 ||
	    read_all(FACE_PARENT_FD, o->buf + MCD_SITE_HDR_LEN, len) < 0)
		return -1;
	o->len = MCD_SITE_HDR_LEN + len;
	o->failed = 0;
	if (mcd_site_decode(o->buf, o->len, MCD_SITE_P2C, chk, err,
			    sizeof(err)) < 0)
		return -1;
	mcd_site_wipe(chk);
	return type;
}

/* Pass the service's replies on until a final one.  The peer sends
 * nothing more: if it does, or goes, so do we (a launched session runs
 * on; it can be ended with END). */
static void relay(SSL *ssl, struct mcd_site_out *o, struct mcd_site_msg *m)
{
	char err[160];

	for (;;) {
		struct pollfd p[2] = { { FACE_PARENT_FD, POLLIN, 0 },
				       { FACE_TCP_FD, POLLIN, 0 } };
		int type;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents) {
			if (mcd_tls_recv(ssl, MCD_SITE_C2P, m, FACE_EXTRA_MS, err,
					 sizeof(err)) == 0)
				mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST,
						   MCD_TLS_IO_MS,
						   "one request per connection");
			return;
		}
		if (!p[0].revents)
			continue;
		type = from_service(o, m);
		if (type < 0 || mcd_tls_send(ssl, o, MCD_TLS_IO_MS, err,
					     sizeof(err)) < 0 ||
		    is_final((uint16_t)type))
			return;
		mcd_site_out_wipe(o);
	}
}

/* The peer's side: handshake, HELLO, one request, then the replies. */
static int serve(SSL_CTX *ctx)
{
	static struct mcd_site_msg m;
	static struct mcd_site_out o;
	char err[160];
	SSL *ssl = mcd_tls_accept(ctx, FACE_TCP_FD, MCD_TLS_HANDSHAKE_MS, err,
				  sizeof(err));

	if (!ssl)
		return 1;
	if (mcd_tls_hello_server(ssl, MCD_SITE_C2P, MCD_TLS_IO_MS, err,
				 sizeof(err)) < 0)
		goto out;
	if (mcd_tls_recv(ssl, MCD_SITE_C2P, &m, MCD_TLS_IO_MS, err,
			 sizeof(err)) < 0) {
		if (strcmp(err, "connection closed"))
			mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST,
					   MCD_TLS_IO_MS, "%s", err);
		goto out;
	}
	if (m.type == MCD_SITE_HELLO || reencode(&m, &o) < 0) {
		mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST, MCD_TLS_IO_MS,
				   "expected one request: LOAD, LAUNCH, END or STATUS");
		goto out;
	}
	mcd_site_wipe(&m);
	if (write_all(FACE_PARENT_FD, o.buf, o.len) < 0)
		goto out;
	mcd_site_out_wipe(&o);
	relay(ssl, &o, &m);
out:
	mcd_site_wipe(&m);
	mcd_site_out_wipe(&o);
	mcd_tls_close(ssl);
	return 0;
}

static int usage_error(const char *what)
{
	fprintf(stderr, "mcd-toolstack face-conn: %s\n"
		"usage: mcd-toolstack face-conn --cert FILE --key FILE --slot N "
		"[-vN]\n(started by the service only)\n", what);
	return 2;
}

int faceconn_main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL;
	long slot = -1;
	int verbose = 0;
	char err[256];
	SSL_CTX *ctx;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cert") && i + 1 < argc) {
			cert = argv[++i];
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
			key = argv[++i];
		} else if (!strcmp(argv[i], "--slot") && i + 1 < argc) {
			char *end;

			slot = strtol(argv[++i], &end, 10);
			if (*end || slot < 0 || slot >= FACE_CONN_MAX)
				return usage_error("bad --slot");
		} else if (!strncmp(argv[i], "-v", 2)) {
			verbose = atoi(argv[i] + 2);
		} else {
			return usage_error("unexpected argument");
		}
	}
	if (!cert || !key || slot < 0)
		return usage_error("--cert, --key and --slot are needed");
	if (fcntl(FACE_TCP_FD, F_GETFD) < 0 || fcntl(FACE_PARENT_FD, F_GETFD) < 0)
		return usage_error("no socket on fd 3 or channel on fd 4");
	/* The key is in memory from the next step on: no core, no dumps. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	log_init("mcd-toolstack face-conn", 0, verbose);
	ctx = mcd_tls_server_ctx(cert, key, err, sizeof(err));
	if (!ctx) {
		log_warnx("%s", err);
		return 1;
	}
	if (sandbox((unsigned)slot) < 0) {
		log_warn("cannot drop privileges");
		return 1;
	}
	return serve(ctx);
}
