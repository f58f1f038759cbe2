/*
 * mcd_chan.c - vchan and Unix-socket backends of the dom0/agent channel.
 */
#include "mcd_chan.h"
#include "mcd_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <libxenvchan.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct chan_ops {
	enum mcd_chan_state (*ready)(struct mcd_chan *c);
	enum mcd_chan_state (*state)(struct mcd_chan *c);
	ssize_t (*recv)(struct mcd_chan *c, void *buf, size_t n);
	ssize_t (*send)(struct mcd_chan *c, const void *buf, size_t n);
	void (*close)(struct mcd_chan *c);
};

struct mcd_chan {
	const struct chan_ops *ops;
	int domid;
	/* vchan */
	struct libxenvchan *vc;
	/* socket */
	int listen_fd;
	int fd;
	int peer_closed;
	/* Bytes the peer had no room for yet: q[q_off, q_off + q_len). */
	uint8_t *q;
	size_t q_off, q_len, q_cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A channel with nothing open yet; NULL with the reason in err. */
static struct mcd_chan *chan_new(const struct chan_ops *ops, char *err,
				 size_t errlen)
{
	struct mcd_chan *c = calloc(1, sizeof(*c));

	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->ops = ops;
	c->domid = -1;
	c->listen_fd = -1;
	c->fd = -1;
	return c;
}

/* ---- vchan ---- */

static enum mcd_chan_state vchan_state(struct mcd_chan *c)
{
	switch (libxenvchan_is_open(c->vc)) {
	case 1: return MCD_CHAN_OPEN;
	case 2: return MCD_CHAN_WAITING;
	}
	return MCD_CHAN_CLOSED;
}

static enum mcd_chan_state vchan_ready(struct mcd_chan *c)
{
	/* Consumes the pending event and unmasks the port.  The event fd is
	 * non-blocking (vchan_nonblock()), so an event already taken, or a
	 * spurious wake-up, is EAGAIN here and never a hang. */
	if (libxenvchan_wait(c->vc) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR)
		return MCD_CHAN_CLOSED;
	return vchan_state(c);
}

/* libxenvchan opens its event channel blocking; reading it must never
 * wait, whoever calls (see vchan_ready()). */
static int vchan_nonblock(struct mcd_chan *c)
{
	int fd = libxenvchan_fd_for_select(c->vc);
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static ssize_t vchan_recv(struct mcd_chan *c, void *buf, size_t n)
{
	int r = libxenvchan_read(c->vc, buf, n);

	if (r < 0)
		return -1;
	if (r == 0 && vchan_state(c) == MCD_CHAN_CLOSED)
		return -1;
	return r;
}

static ssize_t vchan_send(struct mcd_chan *c, const void *buf, size_t n)
{
	int r;

	if (vchan_state(c) == MCD_CHAN_CLOSED)
		return -1;
	r = libxenvchan_write(c->vc, buf, n);
	return r < 0 ? -1 : r;
}

static void vchan_close(struct mcd_chan *c)
{
	libxenvchan_close(c->vc);
}

static const struct chan_ops vchan_ops = {
	vchan_ready, vchan_state, vchan_recv, vchan_send, vchan_close,
};

struct mcd_chan *mcd_chan_vchan_server(struct xentoollog_logger *logger,
				       const char *xs_path, char *err,
				       size_t errlen)
{
	struct mcd_chan *c = chan_new(&vchan_ops, err, errlen);

	if (!c)
		return NULL;
	/* Only dom0 (domain 0) may connect. */
	c->vc = libxenvchan_server_init(logger, 0, xs_path, MCD_CHAN_RING_BYTES,
					MCD_CHAN_RING_BYTES);
	if (!c->vc) {
		set_err(err, errlen, "vchan server at %s: %s", xs_path,
			strerror(errno));
		free(c);
		return NULL;
	}
	c->vc->blocking = 0;
	c->domid = 0;
	if (vchan_nonblock(c) < 0) {
		set_err(err, errlen, "vchan server at %s: %s", xs_path,
			strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	return c;
}

struct mcd_chan *mcd_chan_vchan_client(struct xentoollog_logger *logger,
				       int domid, const char *xs_path,
				       char *err, size_t errlen)
{
	struct mcd_chan *c = chan_new(&vchan_ops, err, errlen);

	if (!c)
		return NULL;
	c->vc = libxenvchan_client_init(logger, domid, xs_path);
	if (!c->vc) {
		set_err(err, errlen, "vchan to domain %d at %s: %s", domid,
			xs_path, errno ? strerror(errno) : "not offered");
		free(c);
		return NULL;
	}
	c->vc->blocking = 0;
	c->domid = domid;
	if (vchan_nonblock(c) < 0) {
		set_err(err, errlen, "vchan to domain %d: %s", domid,
			strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	return c;
}

/* ---- Unix socket stand-in ---- */

static enum mcd_chan_state sock_state(struct mcd_chan *c)
{
	if (c->peer_closed)
		return MCD_CHAN_CLOSED;
	return c->fd >= 0 ? MCD_CHAN_OPEN : MCD_CHAN_WAITING;
}

static enum mcd_chan_state sock_ready(struct mcd_chan *c)
{
	if (c->fd < 0 && c->listen_fd >= 0) {
		c->fd = accept4(c->listen_fd, NULL, NULL,
				SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c->fd >= 0) {
			/* One client at a time, like a vchan server. */
			close(c->listen_fd);
			c->listen_fd = -1;
		}
	}
	return sock_state(c);
}

static ssize_t sock_recv(struct mcd_chan *c, void *buf, size_t n)
{
	ssize_t r;

	if (c->fd < 0)
		return c->peer_closed ? -1 : 0;
	r = recv(c->fd, buf, n, MSG_DONTWAIT);
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	c->peer_closed = 1;
	return -1;
}

static ssize_t sock_send(struct mcd_chan *c, const void *buf, size_t n)
{
	ssize_t r;

	if (c->fd < 0 || c->peer_closed)
		return -1;
	r = send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	c->peer_closed = 1;
	return -1;
}

static void sock_close(struct mcd_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
}

static const struct chan_ops sock_ops = {
	sock_ready, sock_state, sock_recv, sock_send, sock_close,
};

static int sock_addr(const char *path, struct sockaddr_un *sa, char *err,
		     size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		set_err(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

struct mcd_chan *mcd_chan_socket_server(const char *path, char *err,
					size_t errlen)
{
	struct sockaddr_un sa;
	struct mcd_chan *c;

	if (sock_addr(path, &sa, err, errlen) < 0)
		return NULL;
	c = chan_new(&sock_ops, err, errlen);
	if (!c)
		return NULL;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(path);
	if (c->listen_fd < 0 ||
	    bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->listen_fd, 1) < 0) {
		set_err(err, errlen, "listen on %s: %s", path, strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	return c;
}

struct mcd_chan *mcd_chan_socket_client(const char *path, char *err,
					size_t errlen)
{
	struct sockaddr_un sa;
	struct mcd_chan *c;

	if (sock_addr(path, &sa, err, errlen) < 0)
		return NULL;
	c = chan_new(&sock_ops, err, errlen);
	if (!c)
		return NULL;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		set_err(err, errlen, "connect to %s: %s", path, strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return c;
}

struct mcd_chan *mcd_chan_socket_fd(int fd, char *err, size_t errlen)
{
	struct mcd_chan *c = chan_new(&sock_ops, err, errlen);
	int fl = fcntl(fd, F_GETFL);

	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	return c;
}

/* ---- TCP stand-in (loopback only) ---- */

static void tcp_addr(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

struct mcd_chan *mcd_chan_tcp_client(int port, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	struct mcd_chan *c;
	int one = 1;

	if (port <= 0 || port > 65535) {
		set_err(err, errlen, "bad TCP port %d", port);
		return NULL;
	}
	tcp_addr(&sa, port);
	c = chan_new(&sock_ops, err, errlen);
	if (!c)
		return NULL;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		set_err(err, errlen, "connect to 127.0.0.1:%d: %s", port,
			strerror(errno));
		mcd_chan_close(c);
		return NULL;
	}
	/* Frames are small and interactive: send them at once. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return c;
}

/* ---- common ---- */

int mcd_chan_fd(const struct mcd_chan *c)
{
	if (c->vc)
		return libxenvchan_fd_for_select(c->vc);
	return c->fd >= 0 ? c->fd : c->listen_fd;
}

short mcd_chan_events(const struct mcd_chan *c)
{
	if (!c->vc && c->fd >= 0 && c->q_len > 0)
		return POLLIN | POLLOUT;
	return POLLIN;
}

/* Hand the queue to the peer as far as it has room.  0, or -1 when the
 * channel is closed. */
static int flush(struct mcd_chan *c)
{
	while (c->q_len > 0) {
		ssize_t w = c->ops->send(c, c->q + c->q_off, c->q_len);

		if (w < 0)
			return -1;
		if (w == 0)
			break;
		/* A LAUNCH2 carries the cookie and share passwords: what the
		 * peer took is gone from here too. */
		explicit_bzero(c->q + c->q_off, (size_t)w);
		c->q_off += (size_t)w;
		c->q_len -= (size_t)w;
	}
	if (c->q_len == 0)
		c->q_off = 0;
	return 0;
}

/* Append n bytes to the queue, within MCD_CHAN_QUEUE_MAX. */
static int enqueue(struct mcd_chan *c, const uint8_t *p, size_t n)
{
	if (n > MCD_CHAN_QUEUE_MAX - c->q_len)
		return -1;
	if (c->q_off + c->q_len + n > c->q_cap) {
		/* Move what is left to the front first; grow only if that
		 * is not enough. */
		/* The moved bytes' old place is wiped (secrets, above). */
		if (c->q_off) {
			memmove(c->q, c->q + c->q_off, c->q_len);
			explicit_bzero(c->q + c->q_len, c->q_off);
		}
		c->q_off = 0;
		if (c->q_len + n > c->q_cap) {
			size_t cap = c->q_cap ? c->q_cap : MCD_MAX_FRAME;
			uint8_t *q;

			while (cap < c->q_len + n)
				cap *= 2;
			if (cap > MCD_CHAN_QUEUE_MAX)
				cap = MCD_CHAN_QUEUE_MAX;
			/* Not realloc: the old block is wiped before it goes. */
			q = malloc(cap);
			if (!q)
				return -1;
			if (c->q) {
				memcpy(q, c->q, c->q_len);
				explicit_bzero(c->q, c->q_cap);
				free(c->q);
			}
			c->q = q;
			c->q_cap = cap;
		}
	}
	memcpy(c->q + c->q_off + c->q_len, p, n);
	c->q_len += n;
	return 0;
}

enum mcd_chan_state mcd_chan_ready(struct mcd_chan *c)
{
	enum mcd_chan_state st = c->ops->ready(c);

	if (st == MCD_CHAN_OPEN && flush(c) < 0)
		return MCD_CHAN_CLOSED;
	return st;
}

enum mcd_chan_state mcd_chan_state(struct mcd_chan *c)
{
	return c->ops->state(c);
}

ssize_t mcd_chan_recv(struct mcd_chan *c, void *buf, size_t n)
{
	return c->ops->recv(c, buf, n);
}

int mcd_chan_send(struct mcd_chan *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	/* Keep the order: nothing goes past bytes already queued. */
	if (c->q_len == 0) {
		ssize_t w = c->ops->send(c, p, n);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	} else if (flush(c) < 0) {
		return -1;
	}
	return n ? enqueue(c, p, n) : 0;
}

size_t mcd_chan_pending(const struct mcd_chan *c)
{
	return c->q_len;
}

int mcd_chan_has_room(const struct mcd_chan *c)
{
	return c->q_len < MCD_CHAN_QUEUE_LOW;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int mcd_chan_sync(struct mcd_chan *c, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (c->q_len > 0) {
		struct pollfd pfd = { mcd_chan_fd(c), mcd_chan_events(c), 0 };
		long left = deadline - now_ms();

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		if (pfd.revents && mcd_chan_ready(c) == MCD_CHAN_CLOSED)
			return -1;
	}
	return mcd_chan_state(c) == MCD_CHAN_CLOSED ? -1 : 0;
}

int mcd_chan_peer_domid(const struct mcd_chan *c)
{
	return c->domid;
}

void mcd_chan_close(struct mcd_chan *c)
{
	if (!c)
		return;
	c->ops->close(c);
	if (c->q)
		explicit_bzero(c->q, c->q_cap);
	free(c->q);
	free(c);
}
