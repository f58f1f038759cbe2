/*
 * worker.h - a session's guest-facing side, in a process of its own.
 *
 * The dom0 service keeps what needs privilege (libxl, XenStore records,
 * disk clones, volumes, the control socket) and never reads a byte a guest
 * sent.  Each session's channel to its agent and its X relay live in a
 * worker: `mcd-toolstack worker`, started by the service with one end of
 * a socketpair as fd 3.  The worker connects the session's vchan as root,
 * then, before it reads a single guest byte, becomes a user of its own
 * (uid and gid WORKER_UID_BASE + domid: no account, no groups, no
 * capabilities), turns on no-new-privileges and a seccomp filter that
 * allows only what the relay needs, and is neither dumpable nor able to
 * leave a core file.
 *
 * Between the two runs the wire format of mcd_proto.h: the worker decodes
 * every frame of the agent (the one validating decoder) and passes the
 * valid ones to the service unchanged, keeps X_* to itself, and adds
 * W_XNOTE (its relay's last error, its failure, its log lines); the
 * service sends what it has for the agent, plus W_XCONF (where the relay
 * goes, resolved by the service) ahead of a relay LAUNCH2.  The service
 * decodes the worker's frames again: a worker is no more trusted than its
 * guest.
 *
 * A worker that blocks, spins or dies affects its own session only: the
 * service holds the deadlines, sees a dead worker as a closed channel
 * (and reconnects or fails the session, as for an agent that went away),
 * and stops the worker when the session's channel goes.
 */
#ifndef MCD_WORKER_H
#define MCD_WORKER_H

#include <sys/types.h>

struct mcd_chan;

/* Worker uid/gid = base + domid (domids are below 32768): a range no
 * account uses, one id per session, so workers cannot signal, trace or
 * read each other. */
#define WORKER_UID_BASE 0x4d430000u

/* The fd the worker finds its socketpair end on. */
#define WORKER_FD 3

/*
 * Start the worker of session sid for domain domid.  Returns the
 * service's end of its channel (a socket channel; the worker has not
 * connected the vchan yet, frames sent meanwhile wait), and its pid.
 * NULL with a reason in err.
 */
struct mcd_chan *worker_start(const char *sid, int domid, pid_t *pid,
			      char *err, size_t errlen);
/* Kill it; it is reaped later by worker_reap(), never waited for. */
void worker_stop(pid_t pid, const char *sid);
/* Reap stopped workers; one that died of its own (a signal other than
 * ours, seccomp's SIGSYS say) is logged.  Call once per loop round. */
void worker_reap(void);

/* `mcd-toolstack worker --domid N --session SID [--x11-ca FILE] [-v]`:
 * the worker process (started by the service only). */
int worker_main(int argc, char **argv);

#endif /* MCD_WORKER_H */
