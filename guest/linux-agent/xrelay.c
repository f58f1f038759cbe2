/*
 * xrelay.c - the X byte relay of relay mode (see xrelay.h).
 */
#include "xrelay.h"

#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads per connection per event: a busy client cannot starve the rest. */
#define XRELAY_READS_PER_EVENT 4

/* ---- parsing ---- */

uint8_t xrelay_byte_order(uint8_t first)
{
	return first == 'l' || first == 'B' ? first : 0;
}

static uint32_t get32(const uint8_t *p, uint8_t order)
{
	if (order == 'l')
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[0] << 24;
}

int xrelay_parse_reply(const uint8_t *hdr, uint8_t order, uint32_t *base,
		       uint32_t *mask)
{
	/* Byte 0 is 1 for Success (0 Failed, 2 Authenticate). */
	if (!xrelay_byte_order(order) || hdr[0] != 1)
		return -1;
	*base = get32(hdr + 12, order);
	*mask = get32(hdr + 16, order);
	/* A server hands out a non-empty id range disjoint from its mask. */
	if (*mask == 0 || (*base & *mask) != 0)
		return -1;
	return 0;
}

int xrelay_id_owned(uint32_t win, uint32_t base, uint32_t mask)
{
	return win != 0 && (win & ~mask) == base;
}

/* ---- connections ---- */

static struct xrelay_conn *conn_find(struct xrelay *r, uint32_t id)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		if (r->conn[i].fd >= 0 && r->conn[i].id == id)
			return &r->conn[i];
	return NULL;
}

static void conn_free(struct xrelay_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int send_close(struct xrelay *r, uint32_t id, const char *why)
{
	struct mcd_msg m = { .type = MCD_MSG_X_CLOSE };

	m.u.x.conn = id;
	m.u.x.reason = why;
	return r->out.send(r->out.ctx, &m);
}

/* The local side ended (or failed): tell dom0 and free the slot. */
static int conn_close_local(struct xrelay *r, struct xrelay_conn *c,
			    const char *why)
{
	uint32_t id = c->id;
	int draining = c->draining;

	log_debug("X connection %u closed locally%s%s", id, why[0] ? ": " : "",
		  why);
	conn_free(c);
	return draining ? 0 : send_close(r, id, why);
}

void xrelay_init(struct xrelay *r, const struct xrelay_out *out)
{
	memset(r, 0, sizeof(*r));
	r->out = *out;
	r->lfd = -1;
	r->afd = -1;
	r->next_id = 1;
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		r->conn[i].fd = -1;
}

int xrelay_adopt(struct xrelay *r, int fd)
{
	struct mcd_msg m = { .type = MCD_MSG_X_OPEN };
	struct xrelay_conn *c = NULL;

	for (int i = 0; i < MCD_MAX_X_CONNS && !c; i++)
		if (r->conn[i].fd < 0)
			c = &r->conn[i];
	if (!c) {
		log_warnx("X connection refused: %d already open",
			  MCD_MAX_X_CONNS);
		close(fd);
		return 0;
	}
	c->out = malloc(MCD_X_WINDOW);
	if (!c->out || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		log_warn("X connection refused");
		free(c->out);
		c->out = NULL;
		close(fd);
		return 0;
	}
	c->fd = fd;
	c->id = r->next_id++;
	c->app = r->app_started;
	m.u.x.conn = c->id;
	log_debug("X connection %u opened%s", c->id, c->app ? " (app)" : "");
	if (r->out.send(r->out.ctx, &m) < 0) {
		conn_free(c);
		return -1;
	}
	return 1;
}

static int chan_room(const struct xrelay *r)
{
	return !r->out.room || r->out.room(r->out.ctx);
}

/* Acknowledge what was written to the local client (MCD_X_ACK_BATCH). */
static int send_ack(struct xrelay *r, struct xrelay_conn *c)
{
	struct mcd_msg m = { .type = MCD_MSG_X_ACK };

	if (!c->ack_owed)
		return 0;
	m.u.x.conn = c->id;
	m.u.x.ack = c->ack_owed;
	c->ack_owed = 0;
	return r->out.send(r->out.ctx, &m);
}

/* Read what the local client wrote, within the credit dom0 gave us. */
static int conn_read(struct xrelay *r, struct xrelay_conn *c)
{
	struct mcd_msg m = { .type = MCD_MSG_X_DATA };

	for (int round = 0; round < XRELAY_READS_PER_EVENT; round++) {
		size_t want = MCD_X_WINDOW - c->unacked;
		ssize_t n;

		if (want == 0 || !chan_room(r))
			return 0;
		if (want > MCD_MAX_X_DATA)
			want = MCD_MAX_X_DATA;
		n = read(c->fd, r->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return conn_close_local(r, c, strerror(errno));
		if (n == 0)
			return conn_close_local(r, c, "");
		if (!c->order)
			c->order = xrelay_byte_order(r->buf[0]);
		m.u.x.conn = c->id;
		m.u.x.data = r->buf;
		m.u.x.len = (uint32_t)n;
		if (send_ack(r, c) < 0 || r->out.send(r->out.ctx, &m) < 0)
			return -1;
		c->unacked += (uint32_t)n;
	}
	return 0;
}

/* Write dom0's bytes to the local client and acknowledge what went. */
static int conn_flush(struct xrelay *r, struct xrelay_conn *c)
{
	size_t done = 0;

	while (c->out_len > 0) {
		/* A client that went away is an error here, never a signal. */
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return conn_close_local(r, c, "local client gone");
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
		done += (size_t)n;
	}
	if (c->out_len == 0)
		c->out_off = 0;
	if (c->draining) {
		if (c->out_len == 0)
			conn_free(c);
		return 0;
	}
	c->ack_owed += (uint32_t)done;
	return c->ack_owed >= MCD_X_ACK_BATCH ? send_ack(r, c) : 0;
}

/* Keep the first bytes the server sent: its setup reply header. */
static void note_reply(struct xrelay_conn *c, const uint8_t *p, size_t n)
{
	size_t take = XRELAY_REPLY_HDR - c->reply_len;

	if (take == 0)
		return;
	if (take > n)
		take = n;
	memcpy(c->reply + c->reply_len, p, take);
	c->reply_len += take;
	if (c->reply_len == XRELAY_REPLY_HDR &&
	    xrelay_parse_reply(c->reply, c->order, &c->base, &c->mask) == 0) {
		c->ids_known = 1;
		log_debug("X connection %u: ids 0x%x/0x%x", c->id, c->base,
			  c->mask);
	}
}

static int accept_one(struct xrelay *r, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("X accept");
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != r->uid && cred.uid != 0)) {
		log_warnx("X connection from uid %d refused", (int)cred.uid);
		close(fd);
		return 0;
	}
	return xrelay_adopt(r, fd) < 0 ? -1 : 0;
}

int xrelay_pollfds(struct xrelay *r, struct pollfd *pfd, uint32_t *tag,
		   int max)
{
	int n = 0;

	if (r->lfd >= 0 && n < max) {
		pfd[n] = (struct pollfd){ r->lfd, POLLIN, 0 };
		tag[n++] = 0;
	}
	if (r->afd >= 0 && n < max) {
		pfd[n] = (struct pollfd){ r->afd, POLLIN, 0 };
		tag[n++] = 0;
	}
	for (int i = 0; i < MCD_MAX_X_CONNS && n < max; i++) {
		struct xrelay_conn *c = &r->conn[i];
		short ev = 0;

		if (c->fd < 0)
			continue;
		if (!c->draining && c->unacked < MCD_X_WINDOW && chan_room(r))
			ev |= POLLIN;
		if (c->out_len > 0)
			ev |= POLLOUT;
		/* Nothing wanted: leave it out, or a hang-up we cannot act
		 * on yet would wake poll for ever. */
		if (!ev)
			continue;
		pfd[n] = (struct pollfd){ c->fd, ev, 0 };
		tag[n++] = c->id;
	}
	return n;
}

int xrelay_event(struct xrelay *r, const struct pollfd *pfd, uint32_t tag)
{
	struct xrelay_conn *c;

	if (!pfd->revents)
		return 0;
	if (tag == 0)
		return pfd->fd >= 0 && (pfd->fd == r->lfd || pfd->fd == r->afd)
			       ? accept_one(r, pfd->fd)
			       : 0;
	/* The connection may have been closed (and its fd number reused)
	 * by a message handled since poll. */
	c = conn_find(r, tag);
	if (!c || c->fd != pfd->fd)
		return 0;
	if ((pfd->revents & (POLLOUT | POLLERR | POLLHUP)) && c->out_len > 0 &&
	    conn_flush(r, c) < 0)
		return -1;
	c = conn_find(r, tag);
	if (c && !c->draining &&
	    (pfd->revents & (POLLIN | POLLERR | POLLHUP)))
		return conn_read(r, c);
	return 0;
}

/* ---- from dom0: the one place its X messages are checked ---- */

static int proto_error(uint32_t type, uint32_t id, const char *what)
{
	log_warnx("protocol error: %s for X connection %u: %s",
		  mcd_msg_name(type), id, what);
	return -1;
}

int xrelay_message(struct xrelay *r, const struct mcd_msg *m)
{
	const struct mcd_x *x = &m->u.x;
	struct xrelay_conn *c = conn_find(r, x->conn);
	int issued = x->conn != 0 && x->conn < r->next_id;

	if (!c) {
		/* Crossed our X_CLOSE: fine.  Never opened: dom0 is broken. */
		if (issued || m->type == MCD_MSG_X_CLOSE)
			return 0;
		return proto_error(m->type, x->conn, "never opened");
	}
	switch (m->type) {
	case MCD_MSG_X_DATA:
		if (c->draining)
			return proto_error(m->type, x->conn, "after X_CLOSE");
		if (c->out_len + x->len > MCD_X_WINDOW)
			return proto_error(m->type, x->conn,
					   "over the credit window");
		note_reply(c, x->data, x->len);
		if (c->out_off + c->out_len + x->len > MCD_X_WINDOW) {
			memmove(c->out, c->out + c->out_off, c->out_len);
			c->out_off = 0;
		}
		memcpy(c->out + c->out_off + c->out_len, x->data, x->len);
		c->out_len += x->len;
		return conn_flush(r, c);
	case MCD_MSG_X_ACK:
		if (c->draining)
			return proto_error(m->type, x->conn, "after X_CLOSE");
		if (x->ack > c->unacked)
			return proto_error(m->type, x->conn,
					   "acknowledges more than was sent");
		c->unacked -= x->ack;
		return 0;
	case MCD_MSG_X_CLOSE:
		log_debug("X connection %u closed by dom0%s%s", c->id,
			  x->reason[0] ? ": " : "", x->reason);
		if (x->reason[0])
			snprintf(r->last_close, sizeof(r->last_close), "%s",
				 x->reason);
		c->draining = 1;
		return conn_flush(r, c);
	}
	return proto_error(m->type, x->conn, "not an X relay message");
}

int xrelay_app_window(const struct xrelay *r, uint32_t win)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++) {
		const struct xrelay_conn *c = &r->conn[i];

		if (c->fd >= 0 && c->app && c->ids_known &&
		    xrelay_id_owned(win, c->base, c->mask))
			return 1;
	}
	return 0;
}

void xrelay_drop_all(struct xrelay *r)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		if (r->conn[i].fd >= 0)
			conn_free(&r->conn[i]);
}

void xrelay_close(struct xrelay *r)
{
	xrelay_drop_all(r);
	if (r->lfd >= 0) {
		close(r->lfd);
		unlink(r->path);
	}
	if (r->afd >= 0)
		close(r->afd);
	r->lfd = -1;
	r->afd = -1;
}

/* ---- the listening socket ---- */

/* /tmp/.X11-unix must be root's sticky, world-writable directory: then
 * nobody but root can replace the socket the relay puts there. */
static int socket_dir(char *reason, size_t reason_len)
{
	struct stat st;

	if (mkdir(XRELAY_SOCKET_DIR, 01777) == 0 &&
	    chmod(XRELAY_SOCKET_DIR, 01777) < 0) {
		snprintf(reason, reason_len, "chmod %s: %s", XRELAY_SOCKET_DIR,
			 strerror(errno));
		return -1;
	}
	if (lstat(XRELAY_SOCKET_DIR, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || !(st.st_mode & S_ISVTX)) {
		snprintf(reason, reason_len, "%s is not root's sticky "
			 "directory", XRELAY_SOCKET_DIR);
		return -1;
	}
	return 0;
}

/* The abstract twin: a client that finds it never looks further. */
static int listen_abstract(struct xrelay *r, char *reason, size_t reason_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(r->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	/* sun_path[0] == 0, then the name without a terminating NUL. */
	memcpy(sa.sun_path + 1, r->path, n);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) <
		    0 ||
	    listen(fd, 8) < 0) {
		snprintf(reason, reason_len, "X socket @%s: %s%s", r->path,
			 strerror(errno),
			 errno == EADDRINUSE ? " (another display is there)"
					     : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r->afd = fd;
	return 0;
}

int xrelay_listen(struct xrelay *r, int dnum, uid_t uid, gid_t gid,
		  char *reason, size_t reason_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	r->uid = uid;
	if (socket_dir(reason, reason_len) < 0)
		return -1;
	snprintf(r->path, sizeof(r->path), XRELAY_SOCKET_DIR "/X%d", dnum);
	memcpy(sa.sun_path, r->path, sizeof(r->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(reason, reason_len, "X socket: %s", strerror(errno));
		return -1;
	}
	/* A socket left by an earlier session or a crashed agent. */
	unlink(r->path);
	/* Created with the agent's umask (022): nobody but root may connect
	 * until it is the user's. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chown(r->path, uid, gid) < 0 || chmod(r->path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		snprintf(reason, reason_len, "X socket %s: %s", r->path,
			 strerror(errno));
		close(fd);
		unlink(r->path);
		return -1;
	}
	r->lfd = fd;
	if (listen_abstract(r, reason, reason_len) < 0) {
		xrelay_close(r);
		return -1;
	}
	return 0;
}
