/*
 * agent.h - the agent's protocol and session state machine.
 *
 * It knows nothing about file descriptors: the event loop (loop.c) feeds it
 * connection events, decoded messages, child exits and the clock, and it
 * acts through a small table of operations (send a message, start an app,
 * signal a process group).  That keeps every rule of the protocol here, and
 * lets the unit tests drive it with fakes.
 *
 * Rules:
 *  - On connect the agent sends HELLO.  dom0 must send HELLO before anything
 *    else; its role must be dom0 and the version ranges must overlap.  Then
 *    the agent sends STATUS.  A second HELLO is a protocol error.
 *  - LAUNCH only when idle, else FAILED BUSY.  STOP with a session id that
 *    is not the running one gets FAILED BAD_REQUEST.
 *  - An app that exits while dom0 is connected is reported with EXITED; if
 *    nobody is connected (or sending fails) the exit is kept and reported by
 *    STATUS (state EXITED) at the next HELLO.  After that report the next
 *    LAUNCH or STOP acknowledges it and the agent is idle again (a STOP for
 *    that session gets its EXITED once more).
 * Every function returning int returns -1 when the channel must be dropped
 * (protocol error, or a send failed); the caller then closes it and calls
 * agent_disconnected().
 */
#ifndef MCD_AGENT_AGENT_H
#define MCD_AGENT_AGENT_H

#include "mcd_proto.h"

#include <stddef.h>
#include <sys/types.h>

struct agent_ops {
	/* Send one message; 0, or -1 if the channel failed. */
	int (*send)(void *ctx, const struct mcd_msg *m);
	/* Check and start the app of req: 0 with *pid (also its process group
	 * id), or -1 with *code (enum mcd_fail) and a printable reason.  May
	 * return 1 when the launch goes on in the event loop (the X display
	 * check needs the relay running): the loop then calls
	 * agent_launch_done() exactly once.  req's strings are only valid
	 * during the call. */
	int (*launch)(void *ctx, const struct mcd_launch *req, pid_t *pid,
		      uint32_t *code, char *reason, size_t reason_len);
	/* Send sig to the app's process group. */
	void (*signal)(void *ctx, pid_t pgid, int sig);
	/* Optional.  The session is over (app exited, or a launch failed
	 * after ops->launch() began): undo what the launch set up (sync and
	 * unmount the user's storage, stop the X relay) BEFORE the agent
	 * reports it, since dom0 destroys the domain on that report. */
	void (*cleanup)(void *ctx);
	/* Optional.  X_DATA, X_ACK or X_CLOSE from dom0; -1 is a protocol
	 * error (the channel is dropped).  NULL: such messages are errors. */
	int (*x_message)(void *ctx, const struct mcd_msg *m);
};

struct agent {
	const struct agent_ops *ops;
	void *ctx;
	/* The role sent in HELLO: MCD_ROLE_AGENT_LINUX after agent_init();
	 * the Windows service sets MCD_ROLE_AGENT_WINDOWS. */
	uint8_t role;

	/* The current connection. */
	int connected;     /* a dom0 client is on the channel */
	int hello_done;    /* dom0's HELLO arrived and STATUS was sent */
	int version;       /* negotiated protocol version */

	/* The session (at most one). */
	uint32_t state;    /* enum mcd_agent_state */
	char sid[MCD_SESSION_ID_LEN + 1];
	pid_t pid;         /* app process and process group; 0 when none */
	int32_t exit_code; /* -1 when killed by a signal */
	uint32_t exit_signal;
	int exit_reported; /* STATUS on this connection carried the exit */
	int preparing;     /* ops->launch() returned 1; sid set, state idle */
	int ready_sent;    /* READY went out for this session */
	int stopping;      /* STOP received, SIGTERM sent */
	long kill_at_ms;   /* when to send SIGKILL; 0 for never */
};

void agent_init(struct agent *a, const struct agent_ops *ops, void *ctx);

/* A client connected: send HELLO. */
int agent_connected(struct agent *a);
/* The channel is gone (closed by either side). */
void agent_disconnected(struct agent *a);
/* One validated message from dom0; now_ms is CLOCK_MONOTONIC in ms. */
int agent_handle(struct agent *a, const struct mcd_msg *m, long now_ms);
/* Child pid ended with wstatus (waitpid() format); other pids than the
 * app's are ignored.  Called before the child is reaped, so the app's
 * process group id cannot be reused while the rest of the group is
 * killed. */
int agent_child_exited(struct agent *a, pid_t pid, int wstatus);
/*
 * Read everything dom0 has sent so far with recv (bytes read, 0 when nothing
 * more is there, -1 when the channel is closed) into rx, and handle each
 * whole validated frame.  Shared by the Linux and Windows event loops, so the
 * rule "a bad frame drops the channel, never resync" lives in one place.
 * Returns 0 when all is read, -1 when the caller must drop the channel (the
 * reason is logged).
 */
int agent_pump(struct agent *a, struct mcd_rx *rx,
	       ssize_t (*recv)(void *ctx, void *buf, size_t n), void *ctx,
	       long now_ms);
/* A launch that ops->launch() left pending has finished: pid > 0 started,
 * else failed with code and reason.  -1: drop the channel. */
int agent_launch_done(struct agent *a, pid_t pid, uint32_t code,
		      const char *reason);
/* The app's first window is mapped: send READY (once per session). */
int agent_ready(struct agent *a);
/* Run due timers (SIGKILL after the STOP grace period). */
void agent_timer(struct agent *a, long now_ms);
/* When agent_timer() next has work, or 0 for never. */
long agent_next_timer(const struct agent *a);
/* The agent is shutting down: ask the app to end. */
void agent_shutdown(struct agent *a);

#endif /* MCD_AGENT_AGENT_H */
