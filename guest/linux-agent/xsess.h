/*
 * xsess.h - the X side of a session in the guest.
 *
 * For a LAUNCH2 with an X mode, before the app starts:
 *  - the thin client's cookie is installed for the user (a private
 *    XAUTHORITY file, readable by the user only);
 *  - relay mode: a local display is served on a socket only the user may
 *    connect to; each X connection on it is carried over the channel
 *    (X_OPEN / X_DATA / X_ACK / X_CLOSE, see mcd_proto.h);
 *  - a watcher child, running as the user, checks the display with libX11
 *    (unreachable or refused fails the launch with the reason) and then
 *    reports the windows mapped on it, so the agent can send READY when
 *    the app's first window is mapped.
 * The event loop polls xsess_pollfds() and calls xsess_event().
 */
#ifndef MCD_AGENT_XSESS_H
#define MCD_AGENT_XSESS_H

#include "launch.h"
#include "mcd_proto.h"

#include <poll.h>
#include <sys/types.h>

struct xsess;

/* How the X side talks to dom0 (the loop's send), and the display number
 * the relay serves (/tmp/.X11-unix/X<display>, DISPLAY=:<display>). */
struct xsess_io {
	int (*send)(void *ctx, const struct mcd_msg *m);
	void *ctx;
	int display;
	int (*room)(void *ctx); /* the channel takes more now; NULL: always */
};

/* How long the display check may take before the launch fails. */
#define XSESS_CHECK_TIMEOUT_MS 20000
#define XSESS_CHECK_TIMEOUT_TEXT "20"
/* The highest local display number the relay may serve. */
#define XSESS_MAX_DISPLAY 999

/* What xsess_event() saw. */
enum xsess_ev {
	XSESS_NOTHING = 0,
	XSESS_DISPLAY_OK,     /* the display check passed: start the app */
	XSESS_DISPLAY_FAILED, /* reason set: fail the launch (MCD_FAIL_DISPLAY) */
	XSESS_WINDOW_MAPPED,  /* the app's first window is mapped: READY */
	XSESS_CHANNEL_ERROR,  /* sending to dom0 failed: drop the channel */
};

/*
 * Set up the X side of req for user u.  *out is the session (NULL-safe to
 * pass to the other functions); x gets the display and XAUTHORITY the app
 * must use (valid while the session lives).  0, or -1 with *code and
 * reason.
 */
int xsess_start(struct xsess **out, const struct mcd_launch *req,
		const struct launch_user *u, const struct xsess_io *io,
		struct launch_x *x, uint32_t *code, char *reason,
		size_t reason_len);
/* The app started as pid: windows mapped from now on may be its. */
void xsess_app_started(struct xsess *xs, pid_t pid);
/* Fill up to max pollfds; returns how many. */
int xsess_pollfds(struct xsess *xs, struct pollfd *pfd, int max);
/* Handle the revents of the pollfds xsess_pollfds() filled. */
enum xsess_ev xsess_event(struct xsess *xs, const struct pollfd *pfd, int n,
			  char *reason, size_t reason_len);
/* X_DATA, X_ACK or X_CLOSE from dom0; -1 is a protocol error. */
int xsess_message(struct xsess *xs, const struct mcd_msg *m);
/* pid is the watcher (reaped by the loop): 1, else 0. */
int xsess_owns_child(const struct xsess *xs, pid_t pid);
/* dom0 went away: every relayed connection is lost. */
void xsess_channel_lost(struct xsess *xs);
/* End it all: connections, socket, watcher, cookie file.  Frees xs. */
void xsess_end(struct xsess *xs);

#endif /* MCD_AGENT_XSESS_H */
