/*
 * xfwd.c - relay mode, dom0 side: X connections from the agent to the thin
 * client's X server, over TCP or TLS.  See xfwd.h for the rules.
 *
 * This is the only file of the service that touches OpenSSL's TLS layer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xfwd.h"

#define X11_TCP_BASE 6000
/* dom0's own closes remembered, so the agent's messages that crossed them
 * are not taken for protocol errors. */
#define CLOSED_MEMORY (2 * MCD_MAX_X_CONNS)

enum conn_st {
	C_FREE,
	C_CONNECTING, /* TCP connect in progress */
	C_HANDSHAKE,  /* TLS handshake in progress */
	C_OPEN,
};

struct xconn {
	enum conn_st st;
	uint32_t id;
	int fd;
	SSL *ssl;            /* NULL for plain X11 */
	short hs_want;       /* poll events the handshake waits for */
	short rd_want;       /* ... SSL_read waits for (POLLIN normally) */
	short wr_want;       /* ... SSL_write waits for (POLLOUT normally) */
	uint32_t unacked;    /* our X_DATA the agent has not acknowledged */
	uint32_t ack_owed;   /* agent's bytes written, X_ACK not yet sent */
	uint8_t *out;        /* agent's bytes not yet written (MCD_X_WINDOW) */
	size_t out_off, out_len;
};

struct xfwd {
	struct xfwd_out out;
	struct xfwd_addr a;
	struct log_limit *lim; /* the session's, or own_lim */
	struct log_limit own_lim;
	struct xconn conn[MCD_MAX_X_CONNS];
	uint32_t closed[CLOSED_MEMORY];
	uint8_t closed_valid[CLOSED_MEMORY];
	unsigned closed_next;
	char last_error[MCD_MAX_REASON_LEN + 1];
	uint8_t buf[MCD_MAX_X_DATA];
};

/* ---- TLS context: one per process, from the CA file ---- */

static char ca_path[4096] = XFWD_CA_DEFAULT;
static SSL_CTX *tls_ctx_cached;

void xfwd_set_ca(const char *path)
{
	snprintf(ca_path, sizeof(ca_path), "%s", path);
	/* A new CA file takes effect with the next connection. */
	SSL_CTX_free(tls_ctx_cached);
	tls_ctx_cached = NULL;
}

const char *xfwd_ca(void)
{
	return ca_path;
}

static SSL_CTX *tls_ctx(char *err, size_t errlen);

int xfwd_tls_preload(void)
{
	return tls_ctx(NULL, 0) ? 0 : -1;
}

static SSL_CTX *tls_ctx(char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (tls_ctx_cached)
		return tls_ctx_cached;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		seterr(err, errlen, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* X11 writes whatever fits; the buffer may move between retries. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* A thin client that just drops the socket ends the X connection
	 * like a plain close would. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		ERR_clear_error();
		seterr(err, errlen, "TLS: cannot load the CA file %s", ca_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	tls_ctx_cached = ctx;
	return ctx;
}

/* ---- the display ---- */

/* "host:N[.S]" to host and port; 0, or -1 with a reason in a->bad. */
static int parse_display(struct xfwd_addr *a, unsigned tls_port)
{
	const char *colon = strrchr(a->display, ':');
	size_t hlen;
	char *end;
	unsigned long n;

	if (!colon) {
		seterr(a->bad, sizeof(a->bad), "display %s has no ':N'", a->display);
		return -1;
	}
	hlen = (size_t)(colon - a->display);
	/* "[::1]:0" names an IPv6 address. */
	if (hlen >= 2 && a->display[0] == '[' && colon[-1] == ']')
		snprintf(a->host, sizeof(a->host), "%.*s", (int)(hlen - 2),
			 a->display + 1);
	else
		snprintf(a->host, sizeof(a->host), "%.*s", (int)hlen, a->display);
	if (!a->host[0] || !strcmp(a->host, "unix")) {
		seterr(a->bad, sizeof(a->bad),
		       "display %s is local to dom0: relay needs HOST:N",
		       a->display);
		return -1;
	}
	errno = 0;
	n = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || (*end && *end != '.') ||
	    (!tls_port && n > 65535 - X11_TCP_BASE) || tls_port > 65535) {
		seterr(a->bad, sizeof(a->bad), "display %s: bad display number",
		       a->display);
		return -1;
	}
	a->port = tls_port ? tls_port : X11_TCP_BASE + (unsigned)n;
	a->tls = tls_port != 0;
	return 0;
}

int xfwd_resolve(const char *display, unsigned tls_port, struct xfwd_addr *a,
		 char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[16];
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(a->display, sizeof(a->display), "%s", display);
	if (parse_display(a, tls_port) < 0)
		goto bad;
	snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host, port, &hints, &ai);
	if (rc != 0 || !ai || ai->ai_addrlen > sizeof(a->sa)) {
		seterr(a->bad, sizeof(a->bad), "display %s: cannot resolve %s: %s",
		       a->display, a->host, rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		goto bad;
	}
	memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
	a->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	a->port = 0;
	seterr(err, errlen, "%s", a->bad);
	return -1;
}

struct xfwd *xfwd_new_addr(const struct xfwd_addr *a,
			   const struct xfwd_out *out, struct log_limit *lim)
{
	struct xfwd *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->out = *out;
	x->a = *a;
	if (!x->a.port && !x->a.bad[0])
		seterr(x->a.bad, sizeof(x->a.bad), "display %s cannot be relayed",
		       x->a.display);
	log_limit_init(&x->own_lim, "X relay");
	x->lim = lim ? lim : &x->own_lim;
	for (unsigned i = 0; i < MCD_MAX_X_CONNS; i++)
		x->conn[i].fd = -1;
	return x;
}

struct xfwd *xfwd_new(const char *display, unsigned tls_port,
		      const struct xfwd_out *out)
{
	struct xfwd_addr a;

	xfwd_resolve(display, tls_port, &a, NULL, 0);
	return xfwd_new_addr(&a, out, NULL);
}

static void conn_release(struct xconn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->st = C_FREE;
}

void xfwd_free(struct xfwd *x)
{
	if (!x)
		return;
	for (unsigned i = 0; i < MCD_MAX_X_CONNS; i++)
		if (x->conn[i].st != C_FREE)
			conn_release(&x->conn[i]);
	log_limit_flush(&x->own_lim);
	free(x);
}

const char *xfwd_last_error(const struct xfwd *x)
{
	return x->last_error;
}

unsigned xfwd_count(const struct xfwd *x)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MCD_MAX_X_CONNS; i++)
		n += x->conn[i].st != C_FREE;
	return n;
}

/* ---- bookkeeping ---- */

static struct xconn *find(struct xfwd *x, uint32_t id)
{
	for (unsigned i = 0; i < MCD_MAX_X_CONNS; i++)
		if (x->conn[i].st != C_FREE && x->conn[i].id == id)
			return &x->conn[i];
	return NULL;
}

static int closed_by_us(const struct xfwd *x, uint32_t id)
{
	for (unsigned i = 0; i < CLOSED_MEMORY; i++)
		if (x->closed_valid[i] && x->closed[i] == id)
			return 1;
	return 0;
}

/* The agent opened id again: its old life is over. */
static void forget_closed(struct xfwd *x, uint32_t id)
{
	for (unsigned i = 0; i < CLOSED_MEMORY; i++)
		if (x->closed[i] == id)
			x->closed_valid[i] = 0;
}

static void remember_closed(struct xfwd *x, uint32_t id)
{
	x->closed[x->closed_next] = id;
	x->closed_valid[x->closed_next] = 1;
	x->closed_next = (x->closed_next + 1) % CLOSED_MEMORY;
}

/* Printable ASCII within the wire limit, as X_CLOSE requires. */
static void clean_reason(char *r)
{
	for (char *p = r; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	if (strlen(r) > MCD_MAX_REASON_LEN)
		r[MCD_MAX_REASON_LEN] = '\0';
}

/* Whether the channel to the agent takes more X_DATA now: while it does
 * not, the thin client's sockets are not read (the X server waits, the
 * channel never piles up). */
static int chan_room(const struct xfwd *x)
{
	return !x->out.room || x->out.room(x->out.ctx);
}

static int send_x(struct xfwd *x, uint32_t type, uint32_t id, uint32_t ack,
		  const uint8_t *data, uint32_t len, const char *reason)
{
	struct mcd_msg m = { .type = type };

	m.u.x.conn = id;
	m.u.x.ack = ack;
	m.u.x.data = data;
	m.u.x.len = len;
	m.u.x.reason = reason;
	return x->out.send(x->out.ctx, &m);
}

/* dom0 ends connection c and tells the agent why ("" for a normal end).
 * failure: the thin client could not be reached; remembered for the
 * launch's error.  0, or -1 if the channel failed. */
static int conn_close(struct xfwd *x, struct xconn *c, const char *reason,
		      int failure)
{
	char r[MCD_MAX_REASON_LEN + 1];
	uint32_t id = c->id;

	snprintf(r, sizeof(r), "%s", reason);
	clean_reason(r);
	if (failure) {
		snprintf(x->last_error, sizeof(x->last_error), "%s", r);
		log_limit_warnx(x->lim, "X relay to %s: connection %u: %s",
				x->a.display, id, r);
	} else {
		log_debug("X relay to %s: connection %u closed%s%s", x->a.display,
			  id, r[0] ? ": " : "", r);
	}
	conn_release(c);
	remember_closed(x, id);
	return send_x(x, MCD_MSG_X_CLOSE, id, 0, NULL, 0, r);
}

/* ---- transport: plain or TLS ---- */

enum { IO_AGAIN = -1, IO_ERROR = -2 };

/* Why the last TLS call failed, in one line. */
static void tls_reason(SSL *ssl, int ret, const char *what, char *r,
		       size_t rlen)
{
	int e = SSL_get_error(ssl, ret);
	unsigned long code = ERR_peek_last_error();
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK)
		seterr(r, rlen, "TLS: certificate verify failed: %s",
		       X509_verify_cert_error_string(v));
	else if (code && ERR_reason_error_string(code))
		seterr(r, rlen, "TLS: %s failed: %s", what,
		       ERR_reason_error_string(code));
	else if (e == SSL_ERROR_SYSCALL && errno)
		seterr(r, rlen, "TLS: %s failed: %s", what, strerror(errno));
	else
		seterr(r, rlen, "TLS: %s failed: the thin client closed the connection",
		       what);
	ERR_clear_error();
}

/* Bytes read (>0), 0 at the end, IO_AGAIN, or IO_ERROR with a reason. */
static ssize_t conn_read(struct xconn *c, void *buf, size_t n, char *r,
			 size_t rlen)
{
	ssize_t got;
	int ret;

	if (!c->ssl) {
		got = read(c->fd, buf, n);
		if (got >= 0)
			return got;
		if (errno == EAGAIN || errno == EINTR)
			return IO_AGAIN;
		seterr(r, rlen, "thin client: %s", strerror(errno));
		return IO_ERROR;
	}
	ERR_clear_error();
	ret = SSL_read(c->ssl, buf, (int)n);
	if (ret > 0) {
		c->rd_want = POLLIN;
		return ret;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ: c->rd_want = POLLIN; return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE: c->rd_want = POLLOUT; return IO_AGAIN;
	case SSL_ERROR_ZERO_RETURN: return 0;
	}
	tls_reason(c->ssl, ret, "read", r, rlen);
	return IO_ERROR;
}

/* Bytes written (>0), IO_AGAIN, or IO_ERROR with a reason. */
static ssize_t conn_write(struct xconn *c, const void *buf, size_t n, char *r,
			  size_t rlen)
{
	ssize_t put;
	int ret;

	if (!c->ssl) {
		put = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (put > 0)
			return put;
		if (put < 0 && (errno == EAGAIN || errno == EINTR))
			return IO_AGAIN;
		seterr(r, rlen, "thin client: %s", put < 0 ? strerror(errno)
							  : "write failed");
		return IO_ERROR;
	}
	ERR_clear_error();
	ret = SSL_write(c->ssl, buf, (int)n);
	if (ret > 0) {
		c->wr_want = POLLOUT;
		return ret;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ: c->wr_want = POLLIN; return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE: c->wr_want = POLLOUT; return IO_AGAIN;
	}
	tls_reason(c->ssl, ret, "write", r, rlen);
	return IO_ERROR;
}

/* ---- moving bytes ---- */

/* Thin client to agent, while the window has room: one read from the
 * socket per call (plus what TLS already decrypted, which poll cannot
 * see), so the loop reads the agent's frames between our sends and never
 * sits in a long burst while the agent waits for us. */
/* Acknowledge what was written to the thin client (MCD_X_ACK_BATCH). */
static int send_ack(struct xfwd *x, struct xconn *c)
{
	uint32_t owed = c->ack_owed;

	if (!owed)
		return 0;
	c->ack_owed = 0;
	return send_x(x, MCD_MSG_X_ACK, c->id, owed, NULL, 0, NULL);
}

static int conn_pull(struct xfwd *x, struct xconn *c)
{
	char r[MCD_MAX_REASON_LEN + 1];
	int first = 1;

	while (c->st == C_OPEN && c->unacked < MCD_X_WINDOW && chan_room(x) &&
	       (first || (c->ssl && SSL_pending(c->ssl) > 0))) {
		size_t room = MCD_X_WINDOW - c->unacked;
		ssize_t n = conn_read(c, x->buf, room < MCD_MAX_X_DATA ? room
						: MCD_MAX_X_DATA, r, sizeof(r));

		if (n == IO_AGAIN)
			return 0;
		if (n == 0)
			return conn_close(x, c, "", 0);
		if (n < 0)
			return conn_close(x, c, r, 0);
		first = 0;
		c->unacked += (uint32_t)n;
		if (send_ack(x, c) < 0 || send_x(x, MCD_MSG_X_DATA, c->id, 0, x->buf, (uint32_t)n,
			   NULL) < 0)
			return -1;
	}
	return 0;
}

/* Agent to thin client: write what is buffered, acknowledge what went. */
static int conn_push(struct xfwd *x, struct xconn *c)
{
	char r[MCD_MAX_REASON_LEN + 1];
	uint32_t written = 0;

	while (c->st == C_OPEN && c->out_off < c->out_len) {
		ssize_t n = conn_write(c, c->out + c->out_off,
				       c->out_len - c->out_off, r, sizeof(r));

		if (n == IO_AGAIN)
			break;
		if (n < 0)
			return conn_close(x, c, r, 0);
		c->out_off += (size_t)n;
		written += (uint32_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	c->ack_owed += written;
	return c->ack_owed >= MCD_X_ACK_BATCH ? send_ack(x, c) : 0;
}

/* The connection is up: move whatever waits in either direction. */
static int conn_pump(struct xfwd *x, struct xconn *c)
{
	if (conn_push(x, c) < 0)
		return -1;
	return conn_pull(x, c);
}

/* ---- connecting ---- */

static int tls_start(struct xfwd *x, struct xconn *c, char *r, size_t rlen)
{
	SSL_CTX *ctx = tls_ctx(r, rlen);
	struct in6_addr a6;
	struct in_addr a4;

	if (!ctx)
		return -1;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		seterr(r, rlen, "TLS: cannot set up the connection");
		return -1;
	}
	/* The certificate must name the display's host: its IP address when
	 * the display gives one, else its DNS name. */
	if (inet_pton(AF_INET, x->a.host, &a4) == 1 ||
	    inet_pton(AF_INET6, x->a.host, &a6) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
						  x->a.host) != 1) {
			seterr(r, rlen, "TLS: cannot check address %s", x->a.host);
			return -1;
		}
	} else if (SSL_set1_host(c->ssl, x->a.host) != 1 ||
		   SSL_set_tlsext_host_name(c->ssl, x->a.host) != 1) {
		seterr(r, rlen, "TLS: cannot check host %s", x->a.host);
		return -1;
	}
	SSL_set_connect_state(c->ssl);
	c->st = C_HANDSHAKE;
	c->hs_want = POLLOUT;
	c->rd_want = POLLIN;
	c->wr_want = POLLOUT;
	return 0;
}

static int tls_step(struct xfwd *x, struct xconn *c)
{
	char r[MCD_MAX_REASON_LEN + 1];
	int ret;

	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->st = C_OPEN;
		log_debug("X relay to %s: connection %u: TLS %s", x->a.display,
			  c->id, SSL_get_version(c->ssl));
		return conn_pump(x, c);
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ: c->hs_want = POLLIN; return 0;
	case SSL_ERROR_WANT_WRITE: c->hs_want = POLLOUT; return 0;
	}
	tls_reason(c->ssl, ret, "handshake", r, sizeof(r));
	return conn_close(x, c, r, 1);
}

/* The TCP connect finished (or failed). */
static int tcp_done(struct xfwd *x, struct xconn *c)
{
	char r[MCD_MAX_REASON_LEN + 1];
	int e = 0;
	socklen_t len = sizeof(e);

	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	/* Still under way (an event meant for an earlier socket that had
	 * the same fd in this poll round): wait for the real one. */
	if (!e && getpeername(c->fd, (struct sockaddr *)&peer, &plen) < 0 &&
	    errno == ENOTCONN)
		return 0;
	if (e) {
		seterr(r, sizeof(r), "cannot reach %s port %u: %s", x->a.host, x->a.port,
		       strerror(e));
		return conn_close(x, c, r, 1);
	}
	if (!x->a.tls) {
		c->st = C_OPEN;
		return conn_pump(x, c);
	}
	if (tls_start(x, c, r, sizeof(r)) < 0)
		return conn_close(x, c, r, 1);
	return tls_step(x, c);
}

/* Start connecting c to the thin client at the address resolved when the
 * launch was accepted (dom0's own record of the display, never anything
 * from the guest; no name lookup here); failures close it. */
static int conn_start(struct xfwd *x, struct xconn *c)
{
	char r[MCD_MAX_REASON_LEN + 1];
	int one = 1, rc;

	if (!x->a.port)
		return conn_close(x, c, x->a.bad, 1);
	c->fd = socket(x->a.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		seterr(r, sizeof(r), "cannot reach %s port %u: %s", x->a.host,
		       x->a.port, strerror(errno));
		return conn_close(x, c, r, 1);
	}
	/* X is a request/reply protocol: small writes must not wait. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(c->fd, (const struct sockaddr *)&x->a.sa, x->a.salen);
	if (rc < 0 && errno != EINPROGRESS) {
		seterr(r, sizeof(r), "cannot reach %s port %u: %s", x->a.host,
		       x->a.port, strerror(errno));
		return conn_close(x, c, r, 1);
	}
	c->st = C_CONNECTING;
	if (rc == 0)
		return tcp_done(x, c);
	return 0;
}

/* ---- messages from the agent: the relay rules ---- */

static int on_open(struct xfwd *x, uint32_t id, char *err, size_t errlen)
{
	struct xconn *c = NULL;

	if (find(x, id)) {
		seterr(err, errlen, "X_OPEN of open X connection %u", id);
		return -1;
	}
	for (unsigned i = 0; i < MCD_MAX_X_CONNS && !c; i++)
		if (x->conn[i].st == C_FREE)
			c = &x->conn[i];
	if (!c) {
		seterr(err, errlen, "more than %d X connections", MCD_MAX_X_CONNS);
		return -1;
	}
	forget_closed(x, id);
	c->id = id;
	c->fd = -1;
	c->st = C_CONNECTING;
	if (conn_start(x, c) < 0) {
		seterr(err, errlen, "channel failed");
		return -1;
	}
	return 0;
}

static int on_data(struct xfwd *x, struct xconn *c, const struct mcd_x *m,
		   char *err, size_t errlen)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + m->len > MCD_X_WINDOW) {
		seterr(err, errlen, "X_DATA over the window on X connection %u",
		       c->id);
		return -1;
	}
	if (!c->out) {
		c->out = malloc(MCD_X_WINDOW);
		if (!c->out)
			return conn_close(x, c, "out of memory in dom0", 1);
	}
	if (c->out_len + m->len > MCD_X_WINDOW) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	memcpy(c->out + c->out_len, m->data, m->len);
	c->out_len += m->len;
	/* Before the connection is up the bytes wait within the window. */
	return c->st == C_OPEN ? conn_push(x, c) : 0;
}

static int on_ack(struct xfwd *x, struct xconn *c, uint32_t ack, char *err,
		  size_t errlen)
{
	if (ack > c->unacked) {
		seterr(err, errlen, "X_ACK of %u bytes with %u outstanding on X connection %u",
		       ack, c->unacked, c->id);
		return -1;
	}
	c->unacked -= ack;
	/* Room again: read on (TLS may already hold decrypted bytes that
	 * poll will never report). */
	return conn_pull(x, c);
}

int xfwd_message(struct xfwd *x, const struct mcd_msg *m, char *err,
		 size_t errlen)
{
	const struct mcd_x *xm = &m->u.x;
	struct xconn *c;
	int rc;

	if (errlen)
		err[0] = '\0';
	if (m->type == MCD_MSG_X_OPEN)
		return on_open(x, xm->conn, err, errlen);
	c = find(x, xm->conn);
	if (!c) {
		/* Sent before the agent saw our X_CLOSE: nothing to do. */
		if (closed_by_us(x, xm->conn))
			return 0;
		seterr(err, errlen, "%s for unknown X connection %u",
		       mcd_msg_name(m->type), xm->conn);
		return -1;
	}
	switch (m->type) {
	case MCD_MSG_X_DATA:
		rc = on_data(x, c, xm, err, errlen);
		break;
	case MCD_MSG_X_ACK:
		rc = on_ack(x, c, xm->ack, err, errlen);
		break;
	case MCD_MSG_X_CLOSE:
		/* The app's side went away: what it still had for the X
		 * server no longer matters. */
		log_debug("X relay to %s: agent closed connection %u%s%s",
			  x->a.display, c->id, xm->reason[0] ? ": " : "",
			  xm->reason);
		conn_release(c);
		return 0;
	default:
		seterr(err, errlen, "%s is not an X relay message",
		       mcd_msg_name(m->type));
		return -1;
	}
	if (rc < 0 && !err[0])
		seterr(err, errlen, "channel failed");
	return rc;
}

/* ---- poll ---- */

static short conn_events(const struct xfwd *x, const struct xconn *c)
{
	short ev = 0;

	switch (c->st) {
	case C_CONNECTING: return POLLOUT;
	case C_HANDSHAKE: return c->hs_want;
	case C_OPEN: break;
	case C_FREE: return 0;
	}
	if (c->unacked < MCD_X_WINDOW && chan_room(x))
		ev |= c->ssl ? c->rd_want : POLLIN;
	if (c->out_off < c->out_len)
		ev |= c->ssl ? c->wr_want : POLLOUT;
	return ev;
}

unsigned xfwd_pollfds(struct xfwd *x, struct pollfd *pfd, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MCD_MAX_X_CONNS && n < max; i++) {
		short ev = conn_events(x, &x->conn[i]);

		/* A socket with nothing to do stays out: a hang-up would
		 * otherwise wake the loop until the window opens. */
		if (!ev)
			continue;
		pfd[n++] = (struct pollfd){ x->conn[i].fd, ev, 0 };
	}
	return n;
}

int xfwd_resume(struct xfwd *x)
{
	/* TLS may hold decrypted bytes that poll cannot see: read them now
	 * that the channel has room again. */
	for (unsigned i = 0; i < MCD_MAX_X_CONNS && chan_room(x); i++) {
		struct xconn *c = &x->conn[i];

		if (c->st == C_OPEN && c->ssl && SSL_pending(c->ssl) > 0 &&
		    conn_pull(x, c) < 0)
			return -1;
	}
	return 0;
}

int xfwd_event(struct xfwd *x, const struct pollfd *pfd)
{
	struct xconn *c = NULL;

	for (unsigned i = 0; i < MCD_MAX_X_CONNS && !c; i++)
		if (x->conn[i].st != C_FREE && x->conn[i].fd == pfd->fd)
			c = &x->conn[i];
	if (!c || !pfd->revents)
		return 0;
	switch (c->st) {
	case C_CONNECTING: return tcp_done(x, c);
	case C_HANDSHAKE: return tls_step(x, c);
	case C_OPEN: return conn_pump(x, c);
	case C_FREE: break;
	}
	return 0;
}
