/*
 * mcd_tls.c - the site protocol's TLS legs (see mcd_tls.h).  The only file
 * of the site protocol that uses libssl.
 *
 * Every socket here is non-blocking and every wait is a poll() bounded by
 * the caller's deadline.  OpenSSL writes to the socket with write(), so a
 * peer that goes away raises SIGPIPE: programs using this module must
 * ignore SIGPIPE (they then see EPIPE as a failed send).
 */
#include "mcd_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "site_err.h"

/* ---- contexts ---- */

/* What both sides refuse: old versions, compression (CRIME) and
 * renegotiation (nothing here needs it; it only adds attack surface). */
static int harden(SSL_CTX *ctx)
{
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 ? 0 : -1;
}

SSL_CTX *mcd_tls_server_ctx(const char *cert, const char *key, char *err,
			    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || harden(ctx) < 0) {
		mcd_site_fail(err, errlen, "TLS server context: %s", mcd_site_ssl_reason());
		goto bad;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		mcd_site_fail(err, errlen, "%s: %s", cert, mcd_site_ssl_reason());
		goto bad;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		mcd_site_fail(err, errlen, "%s: %s", key, mcd_site_ssl_reason());
		goto bad;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		mcd_site_fail(err, errlen, "%s: key does not match %s", key, cert);
		ERR_clear_error();
		goto bad;
	}
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *mcd_tls_client_ctx(const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || harden(ctx) < 0) {
		mcd_site_fail(err, errlen, "TLS client context: %s", mcd_site_ssl_reason());
		goto bad;
	}
	/* The site CA only: never the system's store, which would let any
	 * public CA vouch for a pool. */
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		mcd_site_fail(err, errlen, "%s: %s", ca, mcd_site_ssl_reason());
		goto bad;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- deadlines ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline timeout_ms from now; < 0: none. */
static long long deadline_in(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Wait for events on fd until the deadline: 0 ready, -1 timed out (errno
 * ETIMEDOUT) or failed. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline < 0 ? -1 : deadline - now_ms();
		int r;

		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* ---- one TLS operation under a deadline ---- */

enum op { OP_CONNECT, OP_ACCEPT, OP_READ, OP_WRITE };

static const char *op_name(enum op op)
{
	static const char *const names[] = { "handshake", "handshake", "read",
					     "write" };

	return names[op];
}

/* Why an operation failed, in one line. */
static int op_failed(SSL *ssl, enum op op, int code, char *err,
		     size_t errlen)
{
	long v = SSL_get_verify_result(ssl);

	if (code == SSL_ERROR_ZERO_RETURN)
		return mcd_site_fail(err, errlen, "connection closed");
	if (op == OP_CONNECT && v != X509_V_OK) {
		ERR_clear_error();
		return mcd_site_fail(err, errlen, "certificate verify failed: %s",
			    X509_verify_cert_error_string(v));
	}
	if (code == SSL_ERROR_SYSCALL) {
		int e = errno;

		if (ERR_peek_error())
			return mcd_site_fail(err, errlen, "%s: %s", op_name(op),
				    mcd_site_ssl_reason());
		if (e == 0)
			return mcd_site_fail(err, errlen, "connection closed");
		return mcd_site_fail(err, errlen, "%s: %s", op_name(op), strerror(e));
	}
	return mcd_site_fail(err, errlen, "%s: %s", op_name(op), mcd_site_ssl_reason());
}

/* Run op (retrying as OpenSSL asks) until done or the deadline.  For
 * reads and writes, *done gets the bytes moved.  0, or -1 with a reason. */
static int ssl_op(SSL *ssl, enum op op, void *buf, size_t len, size_t *done,
		  long long deadline, int timeout_ms, char *err, size_t errlen)
{
	int fd = SSL_get_fd(ssl);

	ERR_clear_error();
	for (;;) {
		int r, code;

		errno = 0;
		switch (op) {
		case OP_CONNECT: r = SSL_connect(ssl); break;
		case OP_ACCEPT: r = SSL_accept(ssl); break;
		case OP_READ: r = SSL_read_ex(ssl, buf, len, done); break;
		default: r = SSL_write_ex(ssl, buf, len, done); break;
		}
		if (r == 1)
			return 0;
		code = SSL_get_error(ssl, r);
		if (code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE)
			return op_failed(ssl, op, code, err, errlen);
		if (wait_fd(fd, code == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    deadline) < 0) {
			if (errno == ETIMEDOUT)
				return mcd_site_fail(err, errlen, "%s timed out after %d ms",
					    op_name(op), timeout_ms);
			return mcd_site_fail(err, errlen, "%s: poll: %s", op_name(op),
				    strerror(errno));
		}
	}
}

/* ---- connecting ---- */

/* Split "host:port" (host may be "[v6]") into its parts. */
static int split_address(const char *address, char *host, size_t hostlen,
			 char *port, size_t portlen)
{
	const char *colon;
	size_t n;

	if (!mcd_site_valid_address(address))
		return -1;
	colon = strrchr(address, ':');
	if (address[0] == '[') {
		n = (size_t)(colon - 1 - (address + 1));
		address++;
	} else {
		n = (size_t)(colon - address);
	}
	if (n >= hostlen || strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, address, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* A non-blocking connect to one address, bounded by the deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
					       SOCK_CLOEXEC, ai->ai_protocol);
	int e = 0;
	socklen_t elen = sizeof(e);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0)
		goto bad;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		goto bad;
	if (e == 0)
		return fd;
	errno = e;
bad:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The first address of host:port that answers before the deadline. */
static int tcp_connect(const char *host, const char *port, long long deadline,
		       int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int r, fd = -1;

	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0)
		return mcd_site_fail(err, errlen, "%s: %s", host, gai_strerror(r));
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0 && errno == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (errno == ETIMEDOUT)
		return mcd_site_fail(err, errlen, "connect to %s:%s timed out after %d ms",
			    host, port, timeout_ms);
	return mcd_site_fail(err, errlen, "connect to %s:%s: %s", host, port,
		    strerror(errno));
}

static int is_ip(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

/* What the peer's certificate must name: an IP SAN for an address, else
 * a DNS name (also sent as SNI). */
static int expect_name(SSL *ssl, const char *name)
{
	if (is_ip(name))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
			       ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1)
		return -1;
	return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

SSL *mcd_tls_connect(SSL_CTX *ctx, const char *address, const char *name,
		     int timeout_ms, char *err, size_t errlen)
{
	char host[MCD_SITE_ADDRESS_MAX + 1], port[8];
	long long deadline = deadline_in(timeout_ms);
	SSL *ssl;
	int fd;

	if (split_address(address, host, sizeof(host), port, sizeof(port)) < 0) {
		mcd_site_fail(err, errlen, "%s: not host:port", address);
		return NULL;
	}
	fd = tcp_connect(host, port, deadline, timeout_ms, err, errlen);
	if (fd < 0)
		return NULL;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
	    expect_name(ssl, name ? name : host) < 0) {
		mcd_site_fail(err, errlen, "TLS setup for %s: %s", address, mcd_site_ssl_reason());
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	if (ssl_op(ssl, OP_CONNECT, NULL, 0, NULL, deadline, timeout_ms, err,
		   errlen) < 0) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

/* On failure fd stays the caller's to close; on success mcd_tls_close()
 * closes it. */
SSL *mcd_tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, char *err,
		    size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);
	SSL *ssl;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		mcd_site_fail(err, errlen, "accept: %s", strerror(errno));
		return NULL;
	}
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		mcd_site_fail(err, errlen, "TLS setup: %s", mcd_site_ssl_reason());
		SSL_free(ssl);
		return NULL;
	}
	if (ssl_op(ssl, OP_ACCEPT, NULL, 0, NULL, deadline_in(timeout_ms),
		   timeout_ms, err, errlen) < 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

void mcd_tls_close(SSL *ssl)
{
	int fd;

	if (!ssl)
		return;
	fd = SSL_get_fd(ssl);
	/* One close_notify, no wait for the peer's: a silent peer must not
	 * hold us. */
	SSL_shutdown(ssl);
	ERR_clear_error();
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
}

/* ---- frames ---- */

static int write_all(SSL *ssl, const uint8_t *p, size_t len,
		     long long deadline, int timeout_ms, char *err,
		     size_t errlen)
{
	while (len > 0) {
		size_t n = 0;

		if (ssl_op(ssl, OP_WRITE, (void *)p, len, &n, deadline,
			   timeout_ms, err, errlen) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int mcd_tls_send(SSL *ssl, const struct mcd_site_out *o, int timeout_ms,
		 char *err, size_t errlen)
{
	if (o->failed || o->len < MCD_SITE_HDR_LEN)
		return mcd_site_fail(err, errlen, "not a finished frame");
	return write_all(ssl, o->buf, o->len, deadline_in(timeout_ms),
			 timeout_ms, err, errlen);
}

/* Read exactly len bytes; *got says how many arrived (for "closed
 * between frames" against "closed inside one"). */
static int read_all(SSL *ssl, uint8_t *p, size_t len, size_t *got,
		    long long deadline, int timeout_ms, char *err,
		    size_t errlen)
{
	*got = 0;
	while (*got < len) {
		size_t n = 0;

		if (ssl_op(ssl, OP_READ, p + *got, len - *got, &n, deadline,
			   timeout_ms, err, errlen) < 0)
			return -1;
		*got += n;
	}
	return 0;
}

/* As mcd_tls_recv, but -2 when the bytes arrived and did not validate
 * (the case that earns the peer an ERROR BAD_REQUEST). */
static int recv_frame(SSL *ssl, unsigned dir, struct mcd_site_msg *m,
		      int timeout_ms, char *err, size_t errlen)
{
	uint8_t frame[MCD_SITE_MAX_FRAME];
	long long deadline = deadline_in(timeout_ms);
	uint16_t type;
	uint32_t len;
	size_t got;
	int r = -1;

	if (read_all(ssl, frame, MCD_SITE_HDR_LEN, &got, deadline, timeout_ms,
		     err, errlen) < 0) {
		if (got > 0 && strcmp(err, "connection closed") == 0)
			mcd_site_fail(err, errlen, "connection closed inside a header");
		return -1;
	}
	if (mcd_site_check_hdr(frame, dir, &type, &len, err, errlen) < 0)
		return -2;
	if (read_all(ssl, frame + MCD_SITE_HDR_LEN, len, &got, deadline,
		     timeout_ms, err, errlen) < 0) {
		if (strcmp(err, "connection closed") == 0)
			mcd_site_fail(err, errlen, "connection closed inside a frame");
		goto out;
	}
	r = mcd_site_decode(frame, MCD_SITE_HDR_LEN + len, dir, m, err,
			    errlen) < 0 ? -2 : 0;
out:
	/* It may have held a password, token or key. */
	explicit_bzero(frame, MCD_SITE_HDR_LEN + len);
	return r;
}

int mcd_tls_recv(SSL *ssl, unsigned dir, struct mcd_site_msg *m,
		 int timeout_ms, char *err, size_t errlen)
{
	return recv_frame(ssl, dir, m, timeout_ms, err, errlen) < 0 ? -1 : 0;
}

/* ---- HELLO and ERROR ---- */

/* ERROR and HELLO read the same from either server. */
#define FROM_SERVER MCD_SITE_B2C

int mcd_tls_hello_client(SSL *ssl, int timeout_ms, char *err, size_t errlen)
{
	struct mcd_site_out o;
	struct mcd_site_msg m;
	uint32_t v;

	mcd_site_begin(&o, MCD_SITE_HELLO);
	mcd_site_put_u32(&o, MCD_ST_VMIN, MCD_SITE_VERSION_MIN);
	mcd_site_put_u32(&o, MCD_ST_VMAX, MCD_SITE_VERSION_MAX);
	if (mcd_site_finish(&o, MCD_SITE_C2B, err, errlen) < 0 ||
	    mcd_tls_send(ssl, &o, timeout_ms, err, errlen) < 0 ||
	    mcd_tls_recv(ssl, FROM_SERVER, &m, timeout_ms, err, errlen) < 0)
		return -1;
	if (m.type == MCD_SITE_ERROR)
		return mcd_site_fail(err, errlen, "server refused: %s: %s",
			    mcd_site_err_name(mcd_site_u32(&m, MCD_ST_CODE, 0)),
			    mcd_site_str(&m, MCD_ST_TEXT));
	if (m.type != MCD_SITE_HELLO)
		return mcd_site_fail(err, errlen, "server sent %s instead of HELLO",
			    mcd_site_type_name(m.type));
	v = mcd_site_u32(&m, MCD_ST_VERSION, 0);
	if (v < MCD_SITE_VERSION_MIN || v > MCD_SITE_VERSION_MAX)
		return mcd_site_fail(err, errlen, "server chose version %u", v);
	return (int)v;
}

/* The direction of a server's replies to a client sending from dir. */
static unsigned reply_dir(unsigned dir_from_client)
{
	return dir_from_client == MCD_SITE_C2P ? MCD_SITE_P2C : MCD_SITE_B2C;
}

static int send_hello(SSL *ssl, unsigned dir, uint32_t v, int timeout_ms,
		      char *err, size_t errlen)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_HELLO);
	mcd_site_put_u32(&o, MCD_ST_VERSION, v);
	if (mcd_site_finish(&o, dir, err, errlen) < 0)
		return -1;
	return mcd_tls_send(ssl, &o, timeout_ms, err, errlen);
}

int mcd_tls_hello_server(SSL *ssl, unsigned dir_from_client, int timeout_ms,
			 char *err, size_t errlen)
{
	struct mcd_site_msg m;
	uint32_t vmin, vmax;
	int r;

	r = recv_frame(ssl, dir_from_client, &m, timeout_ms, err, errlen);
	if (r == -2)
		mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST, timeout_ms,
				   "%s", err);
	if (r < 0)
		return -1;
	if (m.type != MCD_SITE_HELLO) {
		mcd_tls_send_error(ssl, MCD_SITE_E_BAD_REQUEST, timeout_ms,
				   "expected HELLO");
		return mcd_site_fail(err, errlen, "client sent %s before HELLO",
			    mcd_site_type_name(m.type));
	}
	vmin = mcd_site_u32(&m, MCD_ST_VMIN, 0);
	vmax = mcd_site_u32(&m, MCD_ST_VMAX, 0);
	if (vmin > vmax || vmin > MCD_SITE_VERSION_MAX ||
	    vmax < MCD_SITE_VERSION_MIN) {
		mcd_tls_send_error(ssl, MCD_SITE_E_VERSION, timeout_ms,
				   "versions %u..%u, this server speaks %d..%d",
				   vmin, vmax, MCD_SITE_VERSION_MIN,
				   MCD_SITE_VERSION_MAX);
		return mcd_site_fail(err, errlen, "no common version (client %u..%u)",
			    vmin, vmax);
	}
	if (vmax > MCD_SITE_VERSION_MAX)
		vmax = MCD_SITE_VERSION_MAX;
	if (send_hello(ssl, reply_dir(dir_from_client), vmax, timeout_ms, err,
		       errlen) < 0)
		return -1;
	return (int)vmax;
}

/* Make text a valid TEXT: control characters become spaces, and when the
 * result is still refused (bad UTF-8, cut inside a character), bytes
 * outside printable ASCII become '?'. */
static void text_safe(char *s, int ascii)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			*s = ' ';
		else if (ascii && c >= 0x80)
			*s = '?';
	}
}

int mcd_tls_send_error(SSL *ssl, uint32_t code, int timeout_ms,
		       const char *fmt, ...)
{
	char text[MCD_SITE_TEXT_MAX + 1];
	struct mcd_site_out o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!text[0])
		strcpy(text, mcd_site_err_name(code));
	for (int ascii = 0; ascii < 2; ascii++) {
		text_safe(text, ascii);
		mcd_site_begin(&o, MCD_SITE_ERROR);
		mcd_site_put_u32(&o, MCD_ST_CODE, code);
		mcd_site_put_str(&o, MCD_ST_TEXT, text);
		if (mcd_site_finish(&o, MCD_SITE_B2C, NULL, 0) == 0)
			return mcd_tls_send(ssl, &o, timeout_ms, NULL, 0);
	}
	return -1;
}

int mcd_tls_peer_addr(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outlen)
			       ? 0 : -1;
	if (ss.ss_family != AF_INET6)
		return -1;
	/* A v4 client on a dual-stack socket: say it the way its DISPLAY
	 * does, as plain IPv4. */
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
				 (socklen_t)outlen) ? 0 : -1;
	return inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen)
		       ? 0 : -1;
}
