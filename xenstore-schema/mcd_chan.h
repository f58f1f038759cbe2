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
 * Callers poll mcd_chan_fd() for readability, call mcd_chan_ready() when it
 * fires, then drain mcd_chan_recv() until it returns 0.  mcd_chan_send() may
 * consume a vchan event while it waits for room, so drain mcd_chan_recv()
 * after sending too.
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

/* dom0 side of the TCP stand-in: connect to an agent on 127.0.0.1:port
 * (the Windows agent's --transport tcp:PORT, under Wine). */
struct mcd_chan *mcd_chan_tcp_client(int port, char *err, size_t errlen);

/* The fd to poll for POLLIN. */
int mcd_chan_fd(const struct mcd_chan *c);
/* Call when the fd is readable: acknowledges the event (vchan) or accepts
 * the client (socket server).  Returns the new state. */
enum mcd_chan_state mcd_chan_ready(struct mcd_chan *c);
enum mcd_chan_state mcd_chan_state(struct mcd_chan *c);
/* Non-blocking read: bytes read, 0 if none are available, -1 if closed. */
ssize_t mcd_chan_recv(struct mcd_chan *c, void *buf, size_t n);
/* Send all n bytes, waiting at most timeout_ms for the peer to make room.
 * Returns 0, or -1 (closed, or the peer did not read in time). */
int mcd_chan_send(struct mcd_chan *c, const void *buf, size_t n,
		  int timeout_ms);
/* The peer's domid (vchan client), or -1 when not known. */
int mcd_chan_peer_domid(const struct mcd_chan *c);
void mcd_chan_close(struct mcd_chan *c);

#endif /* MCD_CHAN_H */
