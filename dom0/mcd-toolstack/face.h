/*
 * face.h - the pool master's network face (`daemon --face FILE`): thin
 * clients reach the service over TLS with the site protocol
 * (site-protocol/mcd_site.h) to ask its load, launch an app with a ticket
 * from the Auth/App server, and end or look at the session it started.
 *
 * The process design is the workers' (worker.h): the privileged service
 * only listens, accepts, notes the peer's numeric address (its own
 * knowledge, never the peer's word) and starts one child per connection,
 * `mcd-toolstack face-conn`, with the TCP socket as fd FACE_TCP_FD and one
 * end of a socketpair as fd FACE_PARENT_FD, nothing else.  The child loads
 * the certificate and key as root, then becomes uid FACE_UID_BASE + its
 * connection slot (no account, no groups, no capabilities, no new
 * privileges, not dumpable, a seccomp allow-list) before it reads a byte
 * of the network.  It does the TLS handshake and HELLO with deadlines,
 * reads one request, passes it on re-encoded, and relays the service's
 * replies to the peer until a final one.
 *
 * To the service a face child is one more control client (struct client
 * with its face set): the service decodes the child's frame again with
 * the one validating decoder, checks a LAUNCH's ticket itself
 * (faceticket.h), and turns it into the CTL_LAUNCH the CLI would have sent
 * (face_launch_msg), so the warm pool, cold starts, --wait and the boot
 * queue work as for `mcd-toolstack launch`.  Replies go back as site
 * frames through the client's non-blocking queue:
 *   LOAD   -> LOAD_OK, from a load sample a thread refreshes every second
 *   LAUNCH -> WAIT... then READY (a fresh END_KEY, kept in the session)
 *             and, the connection open, ENDED when the session goes;
 *             or FAILED (NO_ROOM, LAUNCH) / ERROR (TICKET, BUSY...)
 *   END    -> OK / ERROR (END_KEY compared in constant time)
 *   STATUS -> SESSION_INFO / ERROR
 * A peer that goes before READY cancels its launch, as a CLI does; after
 * READY the session runs on and can be ended with END.
 *
 * A slow, silent or hostile peer costs its own child (deadlines in the
 * child, a bounded queue in the service) and a slot of max_connections;
 * beyond that many children new connections are closed at once.
 */
#ifndef MCD_FACE_H
#define MCD_FACE_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct daemon;
struct face_conf;
struct session;

/* The child's fds. */
#define FACE_TCP_FD 3
#define FACE_PARENT_FD 4

/* Face children's uid/gid = base + connection slot (below FACE_CONN_MAX):
 * the range right after the workers' (WORKER_UID_BASE + domid, domid below
 * 32768), so no child shares an id with a worker or another child. */
#define FACE_UID_BASE 0x4d438000u

/* A child whose connection the service closed is killed after this long
 * if it has not left by itself (it relays its last frame first). */
#define FACE_CHILD_GRACE_MS 40000

/* Start the face: key, listening socket, load thread.  c is copied (and
 * the caller's copy may be wiped).  0, or -1 with a reason. */
int face_start(struct daemon *d, const struct face_conf *c, char *err,
	       size_t errlen);
/* The listening socket, or -1 without a face. */
int face_listen_fd(const struct daemon *d);
/* A connection is waiting: accept it and start its child. */
void face_accept(struct daemon *d);
/* The child's socket is readable: its request, or its going.  -1 when the
 * child is gone or broke the protocol (the caller closes the client as a
 * CLI that went away). */
int face_readable(struct daemon *d, struct client *c);
/* A CTL_* reply the service gives c, as the site frame it stands for. */
void face_reply(struct client *c, uint32_t type, const char *const *strs,
		unsigned n);
/* The client is closed: its child may leave, and is reaped. */
void face_client_closed(struct client *c);
/* A session goes away (freed, or kept for its user): ENDED to the face
 * client that launched it, and its END_KEY is wiped. */
void face_session_gone(struct daemon *d, struct session *s);
/* Reap children; kill the ones past their grace.  Once per loop round. */
void face_tick(struct daemon *d, long now);

/* `mcd-toolstack face-conn ...`: the child (started by the service only). */
int faceconn_main(int argc, char **argv);

#endif /* MCD_FACE_H */
