/*
 * test_xfwd.c - the dom0 X relay (xfwd) against real sockets on the
 * loopback: the relay rules (window accounting, unknown ids, close races,
 * connection limit) with a plain TCP "thin client", and the TLS connector
 * against an in-test OpenSSL server with certificates made at test time
 * (right CA accepted, wrong CA refused, wrong host refused).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xfwd.h"

/* ---- the agent's side: what xfwd sent it ---- */

#define SENT_MAX 4096

struct sent {
	uint32_t type, conn, ack, len;
	char reason[MCD_MAX_REASON_LEN + 1];
};

static struct sent sent[SENT_MAX];
static unsigned nsent;
static uint8_t to_agent[1 << 20];  /* X_DATA bytes, all connections */
static size_t to_agent_len;
static int fail_sends;

static int fake_send(void *ctx, const struct mcd_msg *m)
{
	struct sent *s = &sent[nsent < SENT_MAX ? nsent++ : SENT_MAX - 1];

	(void)ctx;
	if (fail_sends)
		return -1;
	/* What xfwd sends must pass the peer's decoder. */
	{
		uint8_t buf[MCD_MAX_FRAME];

		assert_true(mcd_encode(m, buf, sizeof(buf)) > 0);
	}
	memset(s, 0, sizeof(*s));
	s->type = m->type;
	s->conn = m->u.x.conn;
	s->ack = m->u.x.ack;
	s->len = m->u.x.len;
	if (m->type == MCD_MSG_X_CLOSE)
		snprintf(s->reason, sizeof(s->reason), "%s", m->u.x.reason);
	if (m->type == MCD_MSG_X_DATA) {
		assert_true(to_agent_len + m->u.x.len <= sizeof(to_agent));
		memcpy(to_agent + to_agent_len, m->u.x.data, m->u.x.len);
		to_agent_len += m->u.x.len;
	}
	return 0;
}

static const struct xfwd_out out = { fake_send, NULL, NULL };

static void reset_sent(void)
{
	nsent = 0;
	to_agent_len = 0;
	fail_sends = 0;
}

static const struct sent *last_of(uint32_t type)
{
	for (unsigned i = nsent; i-- > 0;)
		if (sent[i].type == type)
			return &sent[i];
	return NULL;
}

static uint32_t sum_acks(uint32_t conn)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < nsent; i++)
		if (sent[i].type == MCD_MSG_X_ACK && sent[i].conn == conn)
			n += sent[i].ack;
	return n;
}

/* ---- messages from the agent ---- */

static int agent(struct xfwd *x, uint32_t type, uint32_t conn, uint32_t ack,
		 const void *data, uint32_t len, char *err, size_t errlen)
{
	struct mcd_msg m = { .type = type };

	m.u.x.conn = conn;
	m.u.x.ack = ack;
	m.u.x.data = data;
	m.u.x.len = len;
	m.u.x.reason = "";
	return xfwd_message(x, &m, err, errlen);
}

#define OK(x, ...) do { \
	char e_[200]; \
	int r_ = agent(x, __VA_ARGS__, e_, sizeof(e_)); \
	if (r_ != 0) \
		fail_msg("unexpected relay error: %s", e_); \
} while (0)

/* Expect a guest protocol error whose text contains want. */
static void refused(struct xfwd *x, uint32_t type, uint32_t conn, uint32_t ack,
		    const void *data, uint32_t len, const char *want)
{
	char err[200];

	assert_int_equal(agent(x, type, conn, ack, data, len, err, sizeof(err)),
			 -1);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* ---- driving the relay like the service's loop ---- */

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Poll and dispatch until done(arg) or ms pass; returns done's value. */
static int pump(struct xfwd *x, int (*done)(void *), void *arg, int ms)
{
	long end = ms_now() + ms;

	while (!done(arg)) {
		struct pollfd pfd[MCD_MAX_X_CONNS];
		unsigned n = xfwd_pollfds(x, pfd, MCD_MAX_X_CONNS);
		long left = end - ms_now();

		if (left <= 0)
			return 0;
		if (n == 0) {
			usleep(1000);
			continue;
		}
		assert_true(poll(pfd, n, left > 50 ? 50 : (int)left) >= 0);
		for (unsigned i = 0; i < n; i++)
			if (pfd[i].revents)
				assert_int_equal(xfwd_event(x, &pfd[i]), 0);
	}
	return 1;
}

static size_t want_bytes;
static int have_bytes(void *arg)
{
	(void)arg;
	return to_agent_len >= want_bytes;
}

static int have_close(void *arg)
{
	(void)arg;
	return last_of(MCD_MSG_X_CLOSE) != NULL;
}

static int never(void *arg)
{
	(void)arg;
	return 0;
}

/* ---- a plain "thin client": a listener on 127.0.0.1:6000+N ---- */

static int listen_on(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 64), 0);
	return fd;
}

/* A display number whose X11 port is free; its listener in *lfd. */
static unsigned free_display(int *lfd)
{
	for (unsigned n = 40; n < 200; n++) {
		*lfd = listen_on(6000 + n);
		if (*lfd >= 0)
			return n;
	}
	fail_msg("no free X11 port");
	return 0;
}

/* Any free port, listening. */
static unsigned free_port(int *lfd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	*lfd = listen_on(0);
	assert_true(*lfd >= 0);
	assert_int_equal(getsockname(*lfd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

struct plain {
	int lfd;
	struct xfwd *x;
	char display[32];
};

static struct xfwd *plain_relay(struct plain *p)
{
	unsigned n = free_display(&p->lfd);

	snprintf(p->display, sizeof(p->display), "127.0.0.1:%u", n);
	reset_sent();
	p->x = xfwd_new(p->display, 0, &out);
	assert_non_null(p->x);
	return p->x;
}

/* Open conn id on the relay and accept it on the thin client's side. */
static int open_conn(struct plain *p, uint32_t id)
{
	int fd;

	OK(p->x, MCD_MSG_X_OPEN, id, 0, NULL, 0);
	pump(p->x, never, NULL, 30); /* let the connect complete */
	fd = accept(p->lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

static void read_exactly(int fd, void *buf, size_t n)
{
	uint8_t *b = buf;

	while (n) {
		ssize_t r = read(fd, b, n);

		assert_true(r > 0);
		b += r;
		n -= (size_t)r;
	}
}

/* ---- relay rules ---- */

static void test_bytes_both_ways(void **state)
{
	struct plain p;
	char got[16];
	int fd;

	(void)state;
	plain_relay(&p);
	fd = open_conn(&p, 1);
	assert_int_equal(xfwd_count(p.x), 1);
	/* Agent to thin client; less than a batch written, so the X_ACK
	 * waits (MCD_X_ACK_BATCH)... */
	OK(p.x, MCD_MSG_X_DATA, 1, 0, "hello", 5);
	pump(p.x, never, NULL, 20);
	read_exactly(fd, got, 5);
	assert_memory_equal(got, "hello", 5);
	assert_int_equal(sum_acks(1), 0);
	/* ... for the thin client's answer, and goes just ahead of it. */
	assert_int_equal(write(fd, "world", 5), 5);
	want_bytes = 5;
	assert_true(pump(p.x, have_bytes, NULL, 2000));
	assert_memory_equal(to_agent, "world", 5);
	assert_int_equal(last_of(MCD_MSG_X_DATA)->conn, 1);
	assert_int_equal(sum_acks(1), 5);
	assert_true(last_of(MCD_MSG_X_ACK) < last_of(MCD_MSG_X_DATA));
	/* The agent closes: the socket goes, nothing is sent back. */
	nsent = 0;
	OK(p.x, MCD_MSG_X_CLOSE, 1, 0, NULL, 0);
	assert_int_equal(xfwd_count(p.x), 0);
	assert_int_equal(nsent, 0);
	assert_int_equal(read(fd, got, sizeof(got)), 0);
	close(fd);
	xfwd_free(p.x);
	close(p.lfd);
}

/* Never more than MCD_X_WINDOW unacknowledged bytes towards the agent. */
static void test_window_towards_agent(void **state)
{
	static uint8_t big[MCD_X_WINDOW + 100000];
	struct plain p;
	size_t off = 0;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	plain_relay(&p);
	fd = open_conn(&p, 3);
	/* A thin client that writes more than the window at once. */
	while (off < sizeof(big)) {
		ssize_t w = write(fd, big + off, sizeof(big) - off);

		if (w <= 0)
			break;
		off += (size_t)w;
		pump(p.x, never, NULL, 5);
	}
	want_bytes = MCD_X_WINDOW + 1;
	assert_false(pump(p.x, have_bytes, NULL, 300));
	assert_int_equal(to_agent_len, MCD_X_WINDOW);
	/* Each X_DATA within the wire limit. */
	for (unsigned i = 0; i < nsent; i++)
		if (sent[i].type == MCD_MSG_X_DATA)
			assert_true(sent[i].len <= MCD_MAX_X_DATA);
	/* An ack opens the window again. */
	OK(p.x, MCD_MSG_X_ACK, 3, 50000, NULL, 0);
	want_bytes = MCD_X_WINDOW + 50000;
	assert_true(pump(p.x, have_bytes, NULL, 2000));
	pump(p.x, never, NULL, 100);
	assert_int_equal(to_agent_len, MCD_X_WINDOW + 50000);
	OK(p.x, MCD_MSG_X_ACK, 3, MCD_X_WINDOW, NULL, 0);
	want_bytes = sizeof(big);
	assert_true(pump(p.x, have_bytes, NULL, 2000));
	assert_memory_equal(to_agent, big, sizeof(big));
	/* Acking more than is outstanding is the agent's error. */
	refused(p.x, MCD_MSG_X_ACK, 3, 100001, NULL, 0, "outstanding");
	close(fd);
	xfwd_free(p.x);
	close(p.lfd);
}

static void test_unknown_ids_and_races(void **state)
{
	struct plain p;
	int fd;

	(void)state;
	plain_relay(&p);
	refused(p.x, MCD_MSG_X_DATA, 77, 0, "a", 1, "unknown X connection 77");
	refused(p.x, MCD_MSG_X_ACK, 77, 0, NULL, 0, "unknown");
	refused(p.x, MCD_MSG_X_CLOSE, 77, 0, NULL, 0, "unknown");

	/* dom0 closes (the X server hung up): what the agent sent before it
	 * saw dom0's X_CLOSE is ignored. */
	fd = open_conn(&p, 5);
	close(fd);
	assert_true(pump(p.x, have_close, NULL, 2000));
	assert_int_equal(last_of(MCD_MSG_X_CLOSE)->conn, 5);
	assert_string_equal(last_of(MCD_MSG_X_CLOSE)->reason, "");
	assert_int_equal(xfwd_count(p.x), 0);
	OK(p.x, MCD_MSG_X_DATA, 5, 0, "late", 4);
	OK(p.x, MCD_MSG_X_ACK, 5, 100, NULL, 0);
	OK(p.x, MCD_MSG_X_CLOSE, 5, 0, NULL, 0);

	/* The agent closed 6 itself: it has no excuse to use it again. */
	fd = open_conn(&p, 6);
	OK(p.x, MCD_MSG_X_CLOSE, 6, 0, NULL, 0);
	refused(p.x, MCD_MSG_X_DATA, 6, 0, "x", 1, "unknown");
	close(fd);

	/* An id in use cannot be opened twice; a closed one may be reused. */
	fd = open_conn(&p, 7);
	refused(p.x, MCD_MSG_X_OPEN, 7, 0, NULL, 0, "open X connection 7");
	close(fd);
	fd = open_conn(&p, 5);
	OK(p.x, MCD_MSG_X_DATA, 5, 0, "again", 5);
	pump(p.x, never, NULL, 20);
	{
		char got[5];

		read_exactly(fd, got, 5);
		assert_memory_equal(got, "again", 5);
	}
	/* ... and a new close of it is checked again. */
	OK(p.x, MCD_MSG_X_CLOSE, 5, 0, NULL, 0);
	refused(p.x, MCD_MSG_X_ACK, 5, 1, NULL, 0, "unknown");
	close(fd);
	xfwd_free(p.x);
	close(p.lfd);
}

static void test_connection_limit(void **state)
{
	struct plain p;
	int fds[MCD_MAX_X_CONNS];

	(void)state;
	plain_relay(&p);
	for (uint32_t i = 0; i < MCD_MAX_X_CONNS; i++)
		OK(p.x, MCD_MSG_X_OPEN, 100 + i, 0, NULL, 0);
	assert_int_equal(xfwd_count(p.x), MCD_MAX_X_CONNS);
	refused(p.x, MCD_MSG_X_OPEN, 999, 0, NULL, 0, "more than 32");
	pump(p.x, never, NULL, 50);
	for (int i = 0; i < MCD_MAX_X_CONNS; i++) {
		fds[i] = accept(p.lfd, NULL, NULL);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		close(fds[i]);
	xfwd_free(p.x);
	close(p.lfd);
}

/* Displays dom0 cannot relay to, and thin clients that are not there:
 * the connection is closed with a reason, not the session failed. */
static void test_unreachable(void **state)
{
	struct xfwd *x;
	int lfd;
	unsigned port;

	(void)state;
	reset_sent();
	x = xfwd_new(":0", 0, &out);
	OK(x, MCD_MSG_X_OPEN, 1, 0, NULL, 0);
	assert_non_null(strstr(last_of(MCD_MSG_X_CLOSE)->reason, "local to dom0"));
	assert_non_null(strstr(xfwd_last_error(x), "local to dom0"));
	assert_int_equal(xfwd_count(x), 0);
	xfwd_free(x);

	/* A port nobody listens on (just released). */
	port = free_port(&lfd);
	close(lfd);
	reset_sent();
	x = xfwd_new("127.0.0.1:0", port, &out);
	OK(x, MCD_MSG_X_OPEN, 2, 0, NULL, 0);
	assert_true(pump(x, have_close, NULL, 2000));
	assert_non_null(strstr(last_of(MCD_MSG_X_CLOSE)->reason,
			       "cannot reach 127.0.0.1 port "));
	assert_non_null(strstr(xfwd_last_error(x), "refused"));
	xfwd_free(x);
}

/* The channel failing while the relay answers is reported as -1. */
static void test_channel_failure(void **state)
{
	struct xfwd *x;
	char err[200];

	(void)state;
	reset_sent();
	x = xfwd_new(":0", 0, &out);
	fail_sends = 1;
	assert_int_equal(agent(x, MCD_MSG_X_OPEN, 1, 0, NULL, 0, err,
			       sizeof(err)), -1);
	xfwd_free(x);
	reset_sent();
}

/* ---- TLS ---- */

static char tmpdir[64];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* A CA, and a server certificate it signs for the given subjectAltName. */
static void make_ca(const char *name)
{
	sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
	   "-subj /CN=%s -keyout %s.key -out %s.pem 2>/dev/null", tmpdir, name,
	   name, name);
}

static void make_cert(const char *name, const char *ca, const char *san)
{
	sh("cd %s && printf 'subjectAltName=%s\\n' > %s.ext && "
	   "openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s.key "
	   "-out %s.csr 2>/dev/null && openssl x509 -req -in %s.csr -CA %s.pem "
	   "-CAkey %s.key -CAcreateserial -days 1 -extfile %s.ext -out %s.pem "
	   "2>/dev/null", tmpdir, san, name, name, name, name, name, ca, ca,
	   name, name);
}

static int tls_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mcd-test-xfwd-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	make_ca("ca");
	make_ca("otherca");
	make_cert("srv", "ca", "IP:127.0.0.1,DNS:localhost");
	make_cert("srvwrong", "ca", "IP:127.0.0.2,DNS:other.example");
	return 0;
}

static int tls_teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmpdir);
	return 0;
}

/* An X server behind TLS for one connection: it echoes what it gets. */
struct tls_server {
	int lfd;
	unsigned port;
	char cert[128], key[128];
	int handshake_ok;
	pthread_t th;
};

static void *tls_serve(void *arg)
{
	struct tls_server *t = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	char buf[4096];
	int fd, n;

	SSL_CTX_use_certificate_file(ctx, t->cert, SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM);
	fd = accept(t->lfd, NULL, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		t->handshake_ok = 1;
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
			SSL_write(ssl, buf, n);
		SSL_shutdown(ssl);
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return NULL;
}

static void tls_start_server(struct tls_server *t, const char *cert)
{
	memset(t, 0, sizeof(*t));
	t->port = free_port(&t->lfd);
	snprintf(t->cert, sizeof(t->cert), "%s/%s.pem", tmpdir, cert);
	snprintf(t->key, sizeof(t->key), "%s/%s.key", tmpdir, cert);
	assert_int_equal(pthread_create(&t->th, NULL, tls_serve, t), 0);
}

static void tls_stop_server(struct tls_server *t)
{
	pthread_join(t->th, NULL);
	close(t->lfd);
}

static void use_ca(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.pem", tmpdir, name);
	xfwd_set_ca(path);
}

/* The agent may not send more than the window before dom0 acknowledges:
 * here the thin client never finishes the TLS handshake, so nothing is
 * written and every byte stays buffered. */
static void test_window_from_agent(void **state)
{
	static uint8_t chunk[MCD_MAX_X_DATA];
	unsigned port;
	int lfd;
	struct xfwd *x;
	uint32_t sent_bytes = 0;

	(void)state;
	use_ca("ca");
	port = free_port(&lfd);
	reset_sent();
	x = xfwd_new("127.0.0.1:0", port, &out);
	assert_non_null(x);
	OK(x, MCD_MSG_X_OPEN, 9, 0, NULL, 0);
	pump(x, never, NULL, 50); /* connected, handshake waits forever */
	while (sent_bytes + sizeof(chunk) <= MCD_X_WINDOW) {
		OK(x, MCD_MSG_X_DATA, 9, 0, chunk, sizeof(chunk));
		sent_bytes += sizeof(chunk);
	}
	/* Exactly up to the window is fine ... */
	if (sent_bytes < MCD_X_WINDOW)
		OK(x, MCD_MSG_X_DATA, 9, 0, chunk, MCD_X_WINDOW - sent_bytes);
	/* ... one byte more is not. */
	refused(x, MCD_MSG_X_DATA, 9, 0, chunk, 1, "over the window");
	assert_int_equal(sum_acks(9), 0);
	xfwd_free(x);
	close(lfd);
}

static void test_tls_right_ca(void **state)
{
	struct tls_server t;
	struct xfwd *x;

	(void)state;
	use_ca("ca");
	tls_start_server(&t, "srv");
	reset_sent();
	x = xfwd_new("127.0.0.1:0", t.port, &out);
	OK(x, MCD_MSG_X_OPEN, 1, 0, NULL, 0);
	/* Bytes sent before the handshake is done wait for it. */
	OK(x, MCD_MSG_X_DATA, 1, 0, "ping", 4);
	want_bytes = 4;
	assert_true(pump(x, have_bytes, NULL, 5000));
	assert_memory_equal(to_agent, "ping", 4);
	assert_int_equal(sum_acks(1), 4);
	assert_null(last_of(MCD_MSG_X_CLOSE));
	assert_string_equal(xfwd_last_error(x), "");
	xfwd_free(x); /* closes the socket: the server's read ends */
	tls_stop_server(&t);
	assert_true(t.handshake_ok);
}

static void expect_tls_refused(const char *display, const char *cert,
			       const char *ca, const char *want)
{
	struct tls_server t;
	struct xfwd *x;
	const struct sent *c;

	use_ca(ca);
	tls_start_server(&t, cert);
	reset_sent();
	x = xfwd_new(display, t.port, &out);
	OK(x, MCD_MSG_X_OPEN, 4, 0, NULL, 0);
	OK(x, MCD_MSG_X_DATA, 4, 0, "secret", 6);
	assert_true(pump(x, have_close, NULL, 5000));
	c = last_of(MCD_MSG_X_CLOSE);
	assert_int_equal(c->conn, 4);
	if (!strstr(c->reason, want))
		fail_msg("close reason \"%s\" does not contain \"%s\"", c->reason,
			 want);
	assert_string_equal(xfwd_last_error(x), c->reason);
	/* Nothing reached the agent and nothing was acknowledged. */
	assert_int_equal(to_agent_len, 0);
	assert_int_equal(sum_acks(4), 0);
	assert_int_equal(xfwd_count(x), 0);
	xfwd_free(x);
	tls_stop_server(&t);
	assert_false(t.handshake_ok);
}

static void test_tls_wrong_ca(void **state)
{
	(void)state;
	expect_tls_refused("127.0.0.1:0", "srv", "otherca",
			   "TLS: certificate verify failed");
}

static void test_tls_wrong_ip(void **state)
{
	(void)state;
	expect_tls_refused("127.0.0.1:0", "srvwrong", "ca",
			   "TLS: certificate verify failed: IP address mismatch");
}

static void test_tls_wrong_name(void **state)
{
	(void)state;
	expect_tls_refused("localhost:0", "srvwrong", "ca",
			   "TLS: certificate verify failed: hostname mismatch");
}

static void test_tls_no_ca_file(void **state)
{
	struct xfwd *x;
	int lfd;
	unsigned port;

	(void)state;
	xfwd_set_ca("/nonexistent/ca.pem");
	port = free_port(&lfd);
	reset_sent();
	x = xfwd_new("127.0.0.1:0", port, &out);
	OK(x, MCD_MSG_X_OPEN, 1, 0, NULL, 0);
	assert_true(pump(x, have_close, NULL, 2000));
	assert_non_null(strstr(last_of(MCD_MSG_X_CLOSE)->reason,
			       "cannot load the CA file /nonexistent/ca.pem"));
	xfwd_free(x);
	close(lfd);
}

/* A guest that opens X connections as fast as it can, to a display that
 * refuses each one, must not flood the log: every refusal closes its
 * connection, but the warnings stop after a burst (the limiter in log.c). */
static void test_open_flood_log_bounded(void **state)
{
	char path[] = "/tmp/mcd-test-xfwd-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	unsigned lines = 0, closes = 0;
	struct xfwd *x;
	FILE *f;
	int ch;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	reset_sent();
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	x = xfwd_new(":0", 0, &out);
	for (uint32_t id = 1; id <= 100000; id++) {
		char err[200];

		assert_int_equal(agent(x, MCD_MSG_X_OPEN, id, 0, NULL, 0, err,
				       sizeof(err)), 0);
		closes += nsent > 0 && sent[nsent - 1].type == MCD_MSG_X_CLOSE;
		nsent = 0;
	}
	xfwd_free(x);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(closes, 100000);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while ((ch = fgetc(f)) != EOF)
		lines += ch == '\n';
	rewind(f);
	{
		char line[512];
		int noted = 0;

		while (fgets(line, sizeof(line), f))
			noted |= strstr(line, " log lines dropped") != NULL;
		assert_true(noted);
	}
	fclose(f);
	unlink(path);
	/* The burst, a dropped-lines note or two: nowhere near 100,000. */
	assert_true(lines >= 1);
	assert_true(lines <= 40);
}

int main(void)
{
	const struct CMUnitTest rules[] = {
		cmocka_unit_test(test_bytes_both_ways),
		cmocka_unit_test(test_window_towards_agent),
		cmocka_unit_test(test_unknown_ids_and_races),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_channel_failure),
		cmocka_unit_test(test_open_flood_log_bounded),
	};
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls_right_ca),
		cmocka_unit_test(test_tls_wrong_ca),
		cmocka_unit_test(test_tls_wrong_ip),
		cmocka_unit_test(test_tls_wrong_name),
		cmocka_unit_test(test_window_from_agent),
		cmocka_unit_test(test_tls_no_ca_file),
	};
	int rc;

	rc = cmocka_run_group_tests_name("xfwd relay rules", rules, NULL, NULL);
	rc |= cmocka_run_group_tests_name("xfwd TLS", tls, tls_setup,
					  tls_teardown);
	return rc;
}
