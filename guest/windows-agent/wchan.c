/*
 * wchan.c - TCP stand-in and libxenvchan-compatible vchan server for the
 * Windows agent (see wchan.h).
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include "wchan.h"

#include "vchan_ring.h"
#include "xeniface.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_BYTES 4096u
#define RING_PAGES (1u << (WCHAN_RING_ORDER - 12))

_Static_assert(RING_PAGES <= XI_MAX_GRANT_PAGES, "grant size");
_Static_assert(24 + 2 * RING_PAGES * 4 <= PAGE_BYTES, "grants fit the page");

struct chan_ops {
	enum wchan_state (*ready)(struct wchan *c);
	enum wchan_state (*state)(struct wchan *c);
	int (*recv)(struct wchan *c, void *buf, size_t n);
	int (*send)(struct wchan *c, const void *buf, size_t n);
	int (*wait_room)(struct wchan *c, DWORD ms);
	void (*close)(struct wchan *c);
};

struct wchan {
	const struct chan_ops *ops;
	HANDLE event;
	/* tcp */
	SOCKET listen_s;
	SOCKET s;
	int peer_closed;
	/* vchan */
	struct xeniface *xi;
	char xs_path[64];
	ULONG port;
	int port_bound;
	struct xi_grant ring_g, left_g, right_g;
	volatile struct vchan_page *ring;
	struct vring vr;
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

int wchan_net_init(void)
{
	WSADATA wsa;

	return WSAStartup(MAKEWORD(2, 2), &wsa) == 0 ? 0 : -1;
}

/* ---- TCP stand-in ---- */

/*
 * One listening socket for the life of the process: a dom0 that connects
 * while the agent is still dropping the previous connection waits in the
 * backlog instead of being refused or reset (closing a listener resets the
 * connections queued on it).  While a client is served, the listener is
 * not selected, so queued clients wait their turn, as with a vchan server.
 */
static SOCKET tcp_listener = INVALID_SOCKET;
static int tcp_listener_port;

static enum wchan_state tcp_state(struct wchan *c)
{
	if (c->peer_closed)
		return WCHAN_CLOSED;
	return c->s != INVALID_SOCKET ? WCHAN_OPEN : WCHAN_WAITING;
}

static enum wchan_state tcp_ready(struct wchan *c)
{
	WSANETWORKEVENTS ne;

	if (c->s == INVALID_SOCKET && c->listen_s != INVALID_SOCKET) {
		WSAEnumNetworkEvents(c->listen_s, c->event, &ne);
		c->s = accept(c->listen_s, NULL, NULL);
		if (c->s == INVALID_SOCKET)
			return tcp_state(c);
		SetHandleInformation((HANDLE)c->s, HANDLE_FLAG_INHERIT, 0);
		/* Also keeps the socket non-blocking. */
		if (WSAEventSelect(c->s, c->event, FD_READ | FD_CLOSE) != 0)
			c->peer_closed = 1;
		/* One client at a time: others wait in the backlog. */
		WSAEventSelect(c->listen_s, c->event, 0);
		c->listen_s = INVALID_SOCKET;
		return tcp_state(c);
	}
	if (c->s != INVALID_SOCKET)
		WSAEnumNetworkEvents(c->s, c->event, &ne);
	return tcp_state(c);
}

static int tcp_recv(struct wchan *c, void *buf, size_t n)
{
	int r;

	if (c->s == INVALID_SOCKET)
		return c->peer_closed ? -1 : 0;
	if (n > INT32_MAX)
		n = INT32_MAX;
	r = recv(c->s, buf, (int)n, 0);
	if (r > 0)
		return r;
	if (r < 0 && WSAGetLastError() == WSAEWOULDBLOCK)
		return 0;
	c->peer_closed = 1;
	return -1;
}

static int tcp_send(struct wchan *c, const void *buf, size_t n)
{
	int r;

	if (c->s == INVALID_SOCKET || c->peer_closed)
		return -1;
	if (n > INT32_MAX)
		n = INT32_MAX;
	r = send(c->s, buf, (int)n, 0);
	if (r >= 0)
		return r;
	if (WSAGetLastError() == WSAEWOULDBLOCK)
		return 0;
	c->peer_closed = 1;
	return -1;
}

static int tcp_wait_room(struct wchan *c, DWORD ms)
{
	fd_set w;
	struct timeval tv = { (long)(ms / 1000), (long)(ms % 1000) * 1000 };

	FD_ZERO(&w);
	FD_SET(c->s, &w);
	return select(0, NULL, &w, NULL, &tv) < 0 ? -1 : 0;
}

static void tcp_close(struct wchan *c)
{
	if (c->s != INVALID_SOCKET)
		closesocket(c->s);
	if (c->listen_s != INVALID_SOCKET && c->event)
		WSAEventSelect(c->listen_s, c->event, 0);
	if (c->event)
		WSACloseEvent(c->event);
}

static const struct chan_ops tcp_ops = {
	tcp_ready, tcp_state, tcp_recv, tcp_send, tcp_wait_room, tcp_close,
};

static struct wchan *chan_new(const struct chan_ops *ops)
{
	struct wchan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->listen_s = INVALID_SOCKET;
	c->s = INVALID_SOCKET;
	return c;
}

static int tcp_listen(int port, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	u_long nonblock = 1;
	BOOL excl = TRUE;
	SOCKET s;

	if (tcp_listener != INVALID_SOCKET && tcp_listener_port == port)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((u_short)port);
	/* Loopback only: the stand-in must never be reachable from outside. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
		       WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
	if (s == INVALID_SOCKET) {
		set_err(err, errlen, "socket: error %d", WSAGetLastError());
		return -1;
	}
	/* No other program may bind the same port under us. */
	setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&excl,
		   sizeof(excl));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 4) != 0 || ioctlsocket(s, FIONBIO, &nonblock) != 0) {
		set_err(err, errlen, "listen on 127.0.0.1:%d: error %d", port,
			WSAGetLastError());
		closesocket(s);
		return -1;
	}
	tcp_listener = s;
	tcp_listener_port = port;
	return 0;
}

void wchan_net_cleanup(void)
{
	if (tcp_listener != INVALID_SOCKET)
		closesocket(tcp_listener);
	tcp_listener = INVALID_SOCKET;
}

struct wchan *wchan_tcp_server(int port, char *err, size_t errlen)
{
	struct wchan *c;

	if (tcp_listen(port, err, errlen) < 0)
		return NULL;
	c = chan_new(&tcp_ops);
	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->event = WSACreateEvent();
	if (c->event == WSA_INVALID_EVENT) {
		set_err(err, errlen, "WSACreateEvent: error %d",
			WSAGetLastError());
		free(c);
		return NULL;
	}
	c->listen_s = tcp_listener;
	if (WSAEventSelect(c->listen_s, c->event, FD_ACCEPT) != 0) {
		set_err(err, errlen, "WSAEventSelect: error %d",
			WSAGetLastError());
		WSACloseEvent(c->event);
		free(c);
		return NULL;
	}
	/* A client may already wait in the backlog: look at once. */
	WSASetEvent(c->event);
	return c;
}

/* ---- vchan over XENIFACE ---- */

static enum wchan_state vchan_state(struct wchan *c)
{
	switch (vring_client_live(&c->vr)) {
	case 1: return WCHAN_OPEN;
	case 2: return WCHAN_WAITING;
	}
	return WCHAN_CLOSED;
}

static enum wchan_state vchan_ready(struct wchan *c)
{
	/* The event is auto-reset and the driver unmasks the port after
	 * signalling it: nothing to acknowledge. */
	return vchan_state(c);
}

static int vchan_notify(void *ctx)
{
	struct wchan *c = ctx;

	return xi_evtchn_notify(c->xi, c->port);
}

static int vchan_recv(struct wchan *c, void *buf, size_t n)
{
	return vring_recv(&c->vr, buf, n);
}

static int vchan_send(struct wchan *c, const void *buf, size_t n)
{
	return vring_send(&c->vr, buf, n);
}

static int vchan_wait_room(struct wchan *c, DWORD ms)
{
	/* dom0 notifies when it has read (we asked with NOTIFY_READ).  The
	 * event may also carry a "data written" notice: the caller drains
	 * wchan_recv() after sending (see mcd_chan.h), so none is lost. */
	return WaitForSingleObject(c->event, ms) == WAIT_FAILED ? -1 : 0;
}

static void vchan_close(struct wchan *c)
{
	if (c->ring) {
		c->ring->srv_live = 0;
		if (c->port_bound)
			xi_evtchn_notify(c->xi, c->port);
	}
	xi_revoke(c->xi, &c->right_g);
	xi_revoke(c->xi, &c->left_g);
	/* Clears srv_live and notifies dom0 once more (notify offset/port). */
	xi_revoke(c->xi, &c->ring_g);
	c->ring = NULL;
	if (c->port_bound)
		xi_evtchn_close(c->xi, c->port);
	if (c->xs_path[0])
		xi_store_remove(c->xi, c->xs_path);
	if (c->event)
		CloseHandle(c->event);
}

static const struct chan_ops vchan_ops = {
	vchan_ready, vchan_state, vchan_recv, vchan_send, vchan_wait_room,
	vchan_close,
};

struct wchan *wchan_vchan_server(struct xeniface *xi, int own_domid,
				 const char *xs_path, char *err,
				 size_t errlen)
{
	struct wchan *c = chan_new(&vchan_ops);
	char path[96], val[16];
	volatile struct vchan_page *r;

	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->xi = xi;
	c->event = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (!c->event) {
		set_err(err, errlen, "CreateEvent: error %lu", GetLastError());
		goto fail;
	}
	/* Only domain 0 may connect. */
	if (xi_evtchn_bind_unbound(xi, 0, c->event, &c->port) < 0) {
		set_err(err, errlen, "event channel for dom0: error %lu",
			GetLastError());
		goto fail;
	}
	c->port_bound = 1;
	if (xi_grant(xi, &c->ring_g, 0, 1,
		     XI_GNT_USE_NOTIFY_OFFSET | XI_GNT_USE_NOTIFY_PORT,
		     offsetof(struct vchan_page, srv_live), c->port) < 0 ||
	    xi_grant(xi, &c->left_g, 0, RING_PAGES, 0, 0, 0) < 0 ||
	    xi_grant(xi, &c->right_g, 0, RING_PAGES, 0, 0, 0) < 0) {
		set_err(err, errlen, "granting the vchan pages to dom0: error "
			"%lu", GetLastError());
		goto fail;
	}
	r = c->ring = c->ring_g.addr;
	for (unsigned i = 0; i < RING_PAGES; i++) {
		r->grants[i] = xi_grant_ref(&c->left_g, i);
		r->grants[RING_PAGES + i] = xi_grant_ref(&c->right_g, i);
	}
	c->vr.page = r;
	c->vr.rd = c->left_g.addr;
	c->vr.wr = c->right_g.addr;
	c->vr.notify = vchan_notify;
	c->vr.ctx = c;
	/* Orders, liveness, "tell us when dom0 writes"; a full barrier. */
	vring_server_init(&c->vr, WCHAN_RING_ORDER);

	/* ring-ref first, event-channel last: dom0 waits for the latter. */
	snprintf(c->xs_path, sizeof(c->xs_path), "%s", xs_path);
	snprintf(path, sizeof(path), "%s/ring-ref", xs_path);
	snprintf(val, sizeof(val), "%lu", xi_grant_ref(&c->ring_g, 0));
	if (xi_store_write(xi, path, val) < 0 ||
	    xi_store_set_owner_reader(xi, path, (USHORT)own_domid, 0) < 0)
		goto xs_fail;
	snprintf(path, sizeof(path), "%s/event-channel", xs_path);
	snprintf(val, sizeof(val), "%lu", c->port);
	if (xi_store_write(xi, path, val) < 0 ||
	    xi_store_set_owner_reader(xi, path, (USHORT)own_domid, 0) < 0)
		goto xs_fail;
	return c;
xs_fail:
	set_err(err, errlen, "writing %s: error %lu", path, GetLastError());
fail:
	vchan_close(c);
	free(c);
	return NULL;
}

/* ---- common ---- */

HANDLE wchan_event(const struct wchan *c)
{
	return c->event;
}

enum wchan_state wchan_ready(struct wchan *c)
{
	return c->ops->ready(c);
}

enum wchan_state wchan_state(struct wchan *c)
{
	return c->ops->state(c);
}

int wchan_recv(struct wchan *c, void *buf, size_t n)
{
	return c->ops->recv(c, buf, n);
}

int wchan_send(struct wchan *c, const void *buf, size_t n, int timeout_ms)
{
	const uint8_t *p = buf;
	ULONGLONG deadline = GetTickCount64() + (ULONGLONG)timeout_ms;

	while (n > 0) {
		int w = c->ops->send(c, p, n);
		ULONGLONG now;

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
		if (n == 0)
			break;
		now = GetTickCount64();
		if (now >= deadline)
			return -1;
		if (c->ops->wait_room(c, (DWORD)(deadline - now)) < 0)
			return -1;
	}
	return 0;
}

void wchan_close(struct wchan *c)
{
	if (!c)
		return;
	c->ops->close(c);
	free(c);
}
