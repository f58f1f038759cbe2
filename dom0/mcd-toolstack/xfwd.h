/*
 * xfwd.h - relay mode, dom0 side: a session's X connections between the
 * agent (over the channel) and the thin client's X server.
 *
 * The agent opens each connection with X_OPEN; dom0 connects to the thin
 * client named by the session's own display ("host:N": TCP port 6000 + N,
 * or the launch's TLS port), never to an address the guest chose.  Bytes
 * then travel as X_DATA both ways under the credit rule of mcd_proto.h:
 *   - towards the agent: at most MCD_X_WINDOW bytes unacknowledged per
 *     connection; the thin client's socket is not read while the window
 *     is full;
 *   - from the agent: its bytes are buffered (at most MCD_X_WINDOW) until
 *     written to the thin client, then acknowledged with X_ACK.
 * So every buffer is bounded and the channel never waits for a slow X
 * server; and while the channel's send queue is above its pause mark
 * (mcd_chan_has_room()) the thin client is not read, so a guest that
 * reads slowly holds up its own X connections only.
 *
 * The relay rules for what the agent sends are checked here, in one
 * place (mcd_decode() already checked framing and lengths): X_OPEN of an
 * open id, more than MCD_MAX_X_CONNS connections, X_DATA beyond the
 * window, X_ACK of more than is outstanding, or an id never opened are
 * guest protocol errors.  Messages for an id dom0 closed itself are
 * ignored: the agent may have sent them before it saw dom0's X_CLOSE.
 *
 * Sockets are non-blocking and driven by the service's poll loop.
 */
#ifndef MCD_XFWD_H
#define MCD_XFWD_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mcd_proto.h"

/* Where the TLS leg's CA certificates are, unless the service is told. */
#define XFWD_CA_DEFAULT "/etc/mcd/x11-ca.pem"

struct xfwd;
struct log_limit;

/*
 * The thin client's X server, resolved once when the launch is accepted:
 * each X_OPEN then only connects, with no name lookup, so a guest cannot
 * make dom0 wait for DNS, however many connections it opens.
 */
struct xfwd_addr {
	char display[MCD_MAX_DISPLAY_LEN + 1];
	char host[MCD_MAX_DISPLAY_LEN + 1]; /* for messages and TLS checks */
	unsigned port;       /* 0: cannot be relayed (see bad) */
	int tls;
	struct sockaddr_storage sa;
	socklen_t salen;
	char bad[MCD_MAX_REASON_LEN + 1]; /* why port is 0 */
};

/* How the relay reaches the agent: send one message, 0 or -1 (the
 * channel failed; the caller has already dealt with the session).  room,
 * if set, says whether the channel takes more now: the relay reads the
 * thin client only while it does. */
struct xfwd_out {
	int (*send)(void *ctx, const struct mcd_msg *m);
	void *ctx;
	int (*room)(void *ctx);
};

/* The CA file for every TLS connection of this process (the service's
 * --x11-ca).  Read when the first TLS connection is made, or by
 * xfwd_tls_preload(). */
void xfwd_set_ca(const char *path);
const char *xfwd_ca(void);
/* Make the TLS context now, while files can still be read (a session
 * worker, before its sandbox).  0, or -1: TLS connections will fail with
 * the reason. */
int xfwd_tls_preload(void);

/*
 * Resolve display ("host:N[.S]"): tls_port 0 for plain X11 on TCP
 * 6000 + N, else TLS on that port with the peer certificate checked
 * against the CA file and the host.  0, or -1 with a one-line reason in
 * err (also kept in a->bad, with a->port 0).  Blocks for the lookup: call
 * it when a launch is accepted, never for what a guest sends.
 */
int xfwd_resolve(const char *display, unsigned tls_port, struct xfwd_addr *a,
		 char *err, size_t errlen);
/*
 * A session's relay towards the resolved address a (copied).  Warnings
 * the guest can cause go through lim (the session's; NULL: the relay's
 * own).  NULL when out of memory.
 */
struct xfwd *xfwd_new_addr(const struct xfwd_addr *a,
			   const struct xfwd_out *out, struct log_limit *lim);
/* xfwd_resolve and xfwd_new_addr in one (for tests); a display that does
 * not resolve makes a relay that closes every connection with the reason. */
struct xfwd *xfwd_new(const char *display, unsigned tls_port,
		      const struct xfwd_out *out);
/* Close every connection (without telling the agent) and free. */
void xfwd_free(struct xfwd *x);

/* X_OPEN, X_DATA, X_ACK or X_CLOSE from the agent.  0, or -1 with a
 * reason in err: the guest broke the relay rules (or the channel failed
 * while answering: then err says so). */
int xfwd_message(struct xfwd *x, const struct mcd_msg *m, char *err,
		 size_t errlen);

/* Fill up to max pollfds for the thin-client sockets; returns how many. */
unsigned xfwd_pollfds(struct xfwd *x, struct pollfd *pfd, unsigned max);
/* Act on one pollfd that xfwd_pollfds() filled (matched by fd).  0, or
 * -1 when the channel to the agent failed. */
int xfwd_event(struct xfwd *x, const struct pollfd *pfd);

/* The channel has room again: read what TLS holds already decrypted
 * (poll cannot see it).  0, or -1 when the channel failed. */
int xfwd_resume(struct xfwd *x);

/* The last reason dom0 closed a connection because the thin client could
 * not be reached or refused ("" if none): the agent only sees the close,
 * so its own report lacks this. */
const char *xfwd_last_error(const struct xfwd *x);
/* Open connections (for tests and logs). */
unsigned xfwd_count(const struct xfwd *x);

#endif /* MCD_XFWD_H */
