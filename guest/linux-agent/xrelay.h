/*
 * xrelay.h - relay mode: the local X display the app uses, carried over
 * the channel to dom0.
 *
 * The relay listens on /tmp/.X11-unix/X<N>, owned by the session's user
 * and mode 0600, and on the abstract socket of the same name, which X
 * clients on Linux try first: holding it keeps anybody else from posing
 * as the display to catch the cookie.  Abstract sockets have no
 * permissions, so every accepted peer's credentials are checked: only the
 * user (and root) may connect.  Each accepted
 * connection gets a fresh id (never reused in a session) and an X_OPEN;
 * its bytes travel as X_DATA both ways under the credit rule of
 * mcd_proto.h: at most MCD_X_WINDOW bytes unacknowledged per direction.
 * The relay stops reading a local client that has a full window out, and
 * acknowledges dom0's bytes once they are written to the local client;
 * dom0 going over the window is a protocol error.  So no connection ever
 * buffers more than MCD_X_WINDOW bytes.
 *
 * Ids from dom0: one the relay never issued is a protocol error; one it
 * issued and already closed is ignored (dom0's X_DATA, X_ACK or X_CLOSE may
 * cross the relay's X_CLOSE).
 *
 * To tell the app's windows from others, the relay reads two things of
 * each connection: the client's byte order (its first byte) and the
 * server's setup reply header (success, resource-id-base, -mask).  A
 * window belongs to a connection when id & ~mask == base.
 */
#ifndef MCD_AGENT_XRELAY_H
#define MCD_AGENT_XRELAY_H

#include "mcd_proto.h"

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#define XRELAY_SOCKET_DIR "/tmp/.X11-unix"
/* The setup reply bytes the relay needs: up to resource-id-mask. */
#define XRELAY_REPLY_HDR 20

/* How the relay sends to dom0 (0, or -1 when the channel failed).  room,
 * if set, says whether the channel takes more now: local clients are read
 * only while it does, so the channel's queue stays short. */
struct xrelay_out {
	int (*send)(void *ctx, const struct mcd_msg *m);
	void *ctx;
	int (*room)(void *ctx);
};

struct xrelay_conn {
	int fd;              /* -1: the slot is free */
	uint32_t id;
	int app;             /* accepted after the app started */
	int draining;        /* dom0 closed it: write what is left, then close */
	uint32_t unacked;    /* our X_DATA that dom0 has not acknowledged */
	uint32_t ack_owed;   /* dom0's bytes written, X_ACK not yet sent */
	uint8_t *out;        /* dom0's bytes not yet written (MCD_X_WINDOW) */
	size_t out_off, out_len;
	uint8_t order;       /* client byte order 'l' or 'B'; 0 until seen */
	uint8_t reply[XRELAY_REPLY_HDR];
	size_t reply_len;
	int ids_known;       /* base and mask are valid */
	uint32_t base, mask;
};

struct xrelay {
	struct xrelay_out out;
	int lfd;             /* listening socket, -1 when none */
	int afd;             /* the abstract one, -1 when none */
	uid_t uid;           /* who may connect (and root) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int app_started;
	uint32_t next_id;    /* ids 1..next_id-1 were issued */
	char last_close[MCD_MAX_REASON_LEN + 1]; /* dom0's last close reason */
	struct xrelay_conn conn[MCD_MAX_X_CONNS];
	uint8_t buf[MCD_MAX_X_DATA];
};

/* An empty relay (no socket yet). */
void xrelay_init(struct xrelay *r, const struct xrelay_out *out);
/* Serve display dnum for uid:gid.  0, or -1 with reason. */
int xrelay_listen(struct xrelay *r, int dnum, uid_t uid, gid_t gid,
		  char *reason, size_t reason_len);
/* Take fd (a connected local client, made non-blocking here) as a new
 * relayed connection and send X_OPEN.  1 taken, 0 refused (closed: too
 * many), -1 the channel failed. */
int xrelay_adopt(struct xrelay *r, int fd);
/* Fill up to max pollfds, each with its tag (0: a listening socket,
 * else a connection id); returns how many. */
int xrelay_pollfds(struct xrelay *r, struct pollfd *pfd, uint32_t *tag,
		   int max);
/* Act on one pollfd that xrelay_pollfds() filled.  -1: channel failed. */
int xrelay_event(struct xrelay *r, const struct pollfd *pfd, uint32_t tag);
/* X_DATA, X_ACK or X_CLOSE from dom0.  -1: protocol error (logged) or
 * the channel failed. */
int xrelay_message(struct xrelay *r, const struct mcd_msg *m);
/* Does window win belong to a connection the app opened? */
int xrelay_app_window(const struct xrelay *r, uint32_t win);
/* dom0 is gone: close every connection without telling it. */
void xrelay_drop_all(struct xrelay *r);
/* Close everything and remove the socket. */
void xrelay_close(struct xrelay *r);

/* The parsing pieces, for the tests. */

/* The byte order a client announces in its first byte ('l' or 'B'), or
 * 0 if the byte is neither. */
uint8_t xrelay_byte_order(uint8_t first);
/* The server's setup reply header hdr[0..XRELAY_REPLY_HDR) in byte order
 * order: 0 with *base and *mask when it is a success, else -1. */
int xrelay_parse_reply(const uint8_t *hdr, uint8_t order, uint32_t *base,
		       uint32_t *mask);
/* The ownership rule. */
int xrelay_id_owned(uint32_t win, uint32_t base, uint32_t mask);

#endif /* MCD_AGENT_XRELAY_H */
