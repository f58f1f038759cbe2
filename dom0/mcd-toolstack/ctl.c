/*
 * ctl.c - framing and sockets of the local control protocol.
 */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One frame into buf (room for cap bytes); its length, or -1. */
static long encode(char *buf, size_t cap, uint32_t type,
		   const char *const *strs, unsigned n)
{
	uint32_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;

		if (len + l > CTL_MAX_PAYLOAD || 8 + len + l > cap)
			return -1;
		memcpy(buf + 8 + len, strs[i], l);
		len += (uint32_t)l;
	}
	if (cap < 8)
		return -1;
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &len, 4);
	return 8 + (long)len;
}

int ctl_send(int fd, uint32_t type, const char *const *strs, unsigned n)
{
	char buf[8 + CTL_MAX_PAYLOAD];
	long len = encode(buf, sizeof(buf), type, strs, n);
	int rc = len < 0 ? -1 : write_all(fd, buf, (size_t)len);

	/* A LAUNCH carries the X cookie and share passwords. */
	explicit_bzero(buf, len < 0 ? sizeof(buf) : (size_t)len);
	return rc;
}

/* Make the queue's buffer, and room at its end by moving what waits to
 * the front.  0, or -1 out of memory. */
static int txq_prepare(struct ctl_txq *q)
{
	if (!q->buf && !(q->buf = malloc(CTL_TXQ_MAX)))
		return -1;
	if (q->off == q->len)
		q->off = q->len = 0;
	if (q->off > 0 && q->len > CTL_TXQ_MAX / 2) {
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	return 0;
}

int ctl_txq_put_raw(struct ctl_txq *q, const void *frame, size_t len)
{
	if (txq_prepare(q) < 0 || len > CTL_TXQ_MAX - q->len)
		return -1;
	memcpy(q->buf + q->len, frame, len);
	q->len += len;
	return 0;
}

int ctl_txq_put(struct ctl_txq *q, uint32_t type, const char *const *strs,
		unsigned n)
{
	long len;

	if (txq_prepare(q) < 0)
		return -1;
	len = encode(q->buf + q->len, CTL_TXQ_MAX - q->len, type, strs, n);
	if (len < 0)
		return -1;
	q->len += (size_t)len;
	return 0;
}

int ctl_txq_flush(int fd, struct ctl_txq *q)
{
	while (q->off < q->len) {
		ssize_t w = send(fd, q->buf + q->off, q->len - q->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		q->off += (size_t)w;
	}
	q->off = q->len = 0;
	return 1;
}

size_t ctl_txq_pending(const struct ctl_txq *q)
{
	return q->len - q->off;
}

void ctl_txq_free(struct ctl_txq *q)
{
	if (q->buf) {
		explicit_bzero(q->buf, CTL_TXQ_MAX);
		free(q->buf);
	}
	q->buf = NULL;
	q->off = q->len = 0;
}

int ctl_sendf(int fd, uint32_t type, const char *fmt, ...)
{
	char line[1024];
	const char *s = line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return ctl_send(fd, type, &s, 1);
}

/* Split a received payload into strings; every one must be terminated. */
static int split(struct ctl_msg *m, uint32_t type, const char *buf,
		 uint32_t len)
{
	uint32_t off = 0;

	m->type = type;
	m->nstr = 0;
	memcpy(m->buf, buf, len);
	while (off < len) {
		const char *nul = memchr(m->buf + off, '\0', len - off);

		if (!nul || m->nstr >= CTL_MAX_STRS)
			return -1;
		m->str[m->nstr++] = m->buf + off;
		off = (uint32_t)(nul - m->buf) + 1;
	}
	m->str[m->nstr] = NULL;
	return 0;
}

int ctl_rx_read(int fd, struct ctl_rx *rx, struct ctl_msg *m)
{
	for (;;) {
		size_t want;
		char *dst;
		ssize_t r;

		if (rx->have < 8) {
			want = 8 - rx->have;
			dst = (char *)rx->hdr + rx->have;
		} else {
			want = 8 + rx->len - rx->have;
			dst = rx->buf + (rx->have - 8);
		}
		if (want > 0) {
			r = recv(fd, dst, want, MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (r <= 0)
				return -1;
			rx->have += (size_t)r;
		}
		if (rx->have == 8) {
			memcpy(&rx->type, rx->hdr, 4);
			memcpy(&rx->len, rx->hdr + 4, 4);
			if (rx->len > CTL_MAX_PAYLOAD)
				return -1;
		}
		if (rx->have >= 8 && rx->have == 8 + rx->len) {
			int rc = split(m, rx->type, rx->buf, rx->len);

			/* A LAUNCH's secrets live on only in m. */
			explicit_bzero(rx->buf, rx->len);
			rx->have = 0;
			return rc < 0 ? -1 : 1;
		}
	}
}

static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

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

int ctl_recv(int fd, struct ctl_msg *m)
{
	static char buf[CTL_MAX_PAYLOAD];
	uint32_t hdr[2];
	int rc;

	if (read_all(fd, hdr, 8) < 0 || hdr[1] > CTL_MAX_PAYLOAD ||
	    read_all(fd, buf, hdr[1]) < 0)
		return -1;
	rc = split(m, hdr[0], buf, hdr[1]);
	explicit_bzero(buf, hdr[1]);
	return rc;
}

static int make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd;

	if (make_addr(path, &sa) < 0)
		return -1;
	/* The directory keeps everyone but root away from the socket; the
	 * credential check is the second lock. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -1;
		chmod(dir, 0700);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ctl_peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.uid == 0;
}

int ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (make_addr(path, &sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
