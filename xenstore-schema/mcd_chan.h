/*
 * mcd_chan.h - the byte channel between dom0 and an agent.
 *
 * Two backends behind one small interface:
 *   vchan   the real one: libxenvchan, the agent is the server in its own
 *           XenStore area (MCD_XS_GUEST_VCHAN), dom0 is the client.
 *   socket  a stand-in over a Unix stream socket, so the real agent and the
 *           real dom0 code can be driven in tests without a hypervisor.
 *   tcp     the same stand-in over TCP on the loopback address (client
 *           only), for the Windows agent under Wine (guest/windows-agent).
 *
 * Nothing here blocks on the peer.  Callers poll mcd_chan_fd() for
 * mcd_chan_events(), call mcd_chan_ready() whenever it fires, then drain
 * mcd_chan_recv() until it returns 0.  mcd_chan_send() puts what the ring
 * (or socket) cannot take yet in a bounded queue and returns at once;
 * mcd_chan_ready() moves the queue on when the peer has made room.  A
 * vchan's event channel is non-blocking and only read by mcd_chan_ready(),
 * so a send never consumes an event the reader needs (the peer reading
 * and the peer writing share one event).
 *
 * Producers keep the queue short: they stop taking new data (an X
 * client's socket, say) while mcd_chan_has_room() is false, and resume
 * when it is true again.  A peer that lets more than MCD_CHAN_QUEUE_MAX
 * bytes pile up is not reading what it asked for: mcd_chan_send() fails
 * and the caller drops it.
 */
#ifndef MCD_CHAN_H
#define MCD_CHAN_H

#include <stddef.h>
#include <sys/types.h>

struct xentoollog_logger;
struct mcd_chan;

enum mcd_chan_state {
	MCD_CHAN_WAITING = 1, /* server: no client connected yet */
	MCD_CHAN_OPEN = 2,
	MCD_CHAN_CLOSED = 3,  /* peer went away: close and start over */
};

/* Ring size for each direction: one maximal frame always fits, so a
 * well-behaved peer never has to wait for the other side mid-frame. */
#define MCD_CHAN_RING_BYTES 65536

/* Producers pause above this many queued bytes (mcd_chan_has_room()). */
#define MCD_CHAN_QUEUE_LOW MCD_CHAN_RING_BYTES
/* Hard bound of the send queue.  Above the pause mark it only grows by
 * what one poll round may already have read (every X connection's last
 * read, MCD_MAX_X_CONNS * 16 KiB) plus replies the peer provoked. */
#define MCD_CHAN_QUEUE_MAX (2 * 1024 * 1024)

/* Agent side: offer a vchan to dom0 at xs_path in the guest's own area. */
struct mcd_chan *mcd_chan_vchan_server(struct xentoollog_logger *logger,
				       const char *xs_path, char *err,
				       size_t errlen);
/* dom0 side: connect to the agent of domain domid. */
struct mcd_chan *mcd_chan_vchan_client(struct xentoollog_logger *logger,
				       int domid, const char *xs_path,
				       char *err, size_t errlen);
/* Stand-ins: the agent listens, the test or dom0 code connects. */
struct mcd_chan *mcd_chan_socket_server(const char *path, char *err,
					size_t errlen);
struct mcd_chan *mcd_chan_socket_client(const char *path, char *err,
					size_t errlen);

/* An open stream socket already connected (one end of a socketpair: the
 * dom0 service and a session's worker).  Takes fd over. */
struct mcd_chan *mcd_chan_socket_fd(int fd, char *err, size_t errlen);

/* dom0 side of the TCP stand-in: connect to an agent on 127.0.0.1:port
 * (the Windows agent's --transport tcp:PORT, under Wine). */
struct mcd_chan *mcd_chan_tcp_client(int port, char *err, size_t errlen);

/* The fd to poll, and the events to ask for: POLLIN, plus POLLOUT for a
 * socket with queued bytes (a vchan says "room" with its one event). */
int mcd_chan_fd(const struct mcd_chan *c);
short mcd_chan_events(const struct mcd_chan *c);
/* Call whenever poll reports the fd: acknowledges the event (vchan; never
 * blocks), accepts the client (socket server) and writes what the queue
 * holds as far as the peer has room.  Returns the new state. */
enum mcd_chan_state mcd_chan_ready(struct mcd_chan *c);
enum mcd_chan_state mcd_chan_state(struct mcd_chan *c);
/* Non-blocking read: bytes read, 0 if none are available, -1 if closed. */
ssize_t mcd_chan_recv(struct mcd_chan *c, void *buf, size_t n);
/* Send n bytes: what does not fit now is queued.  Never waits.  Returns
 * 0, or -1 when the channel is closed or the queue would pass
 * MCD_CHAN_QUEUE_MAX (the peer does not read). */
int mcd_chan_send(struct mcd_chan *c, const void *buf, size_t n);
/* Bytes queued and not yet handed to the peer. */
size_t mcd_chan_pending(const struct mcd_chan *c);
/* Whether a producer may add more (the queue is below MCD_CHAN_QUEUE_LOW). */
int mcd_chan_has_room(const struct mcd_chan *c);
/* For tools and tests that have nothing else to do: wait up to timeout_ms
 * until the queue is empty.  0, or -1 (closed or timed out).  It handles
 * the channel's events itself, so drain mcd_chan_recv() afterwards.  The
 * service and the agents never call it. */
int mcd_chan_sync(struct mcd_chan *c, int timeout_ms);
/* The peer's domid (vchan client), or -1 when not known. */
int mcd_chan_peer_domid(const struct mcd_chan *c);
void mcd_chan_close(struct mcd_chan *c);

#endif /* MCD_CHAN_H */
