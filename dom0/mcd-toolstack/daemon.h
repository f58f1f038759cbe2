/*
 * daemon.h - the dom0 service: owns the sessions and the domains.
 *
 * One thread runs a poll loop over the control socket, the CLI clients, each
 * session's channel to its worker (worker.h: the worker, not the service,
 * holds the vchan and reads the guest's bytes) and XenStore's watch fd.  libxl's slow calls (creating
 * and destroying domains) run in short-lived job threads that report back
 * through a pipe, so one slow domain never stalls the others.  XenStore is
 * the durable state; a restarted service rebuilds its sessions from it.
 *
 * With --face the loop also accepts thin clients' TLS connections (face.h):
 * each runs in a child of its own, which the loop serves as one more
 * control client speaking site frames; the root-only control socket is
 * unchanged.
 */
#ifndef MCD_DAEMON_H
#define MCD_DAEMON_H

#include <libxl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "bootq.h"
#include "ctl.h"
#include "launchopt.h"
#include "log.h"
#include "mcd_proto.h"
#include "template.h"
#include "xfwd.h"

struct mcd_chan;
struct mcd_xen;
struct xs_handle;

enum session_state {
	S_CREATING,   /* create job running */
	S_CONNECTING, /* domain up, waiting for the agent's vchan */
	S_HELLO,      /* connected, waiting for HELLO and STATUS */
	S_LAUNCHING,  /* LAUNCH sent, waiting for STARTED or FAILED */
	S_RUNNING,    /* app running */
	S_STOPPING,   /* STOP sent, waiting for EXITED */
	S_DESTROYING, /* destroy job running, or about to be */
	S_IDLE,       /* pool member: agent connected and idle, claimable */
	S_WAITING,    /* launch --wait: no room yet, nothing created */
	S_QUEUED,     /* in line for a boot slot (bootq.h), nothing created */
};

struct client;
struct face;
struct face_conf;
struct face_peer;
struct pool_tmpl;

struct session {
	struct session *next;
	int pool;               /* a warm-pool member, not yet claimed */
	struct pool_tmpl *pt;   /* its pool while pool is set */
	struct session *next_ready; /* the pool's ready queue */
	int queued;             /* on that queue */
	int recorded;           /* has a XenStore record */
	int kept;               /* pool member kept for user `user` only */
	struct timespec tmpl_mtime; /* of the template file it was built from */
	char sid[MCD_SESSION_ID_LEN + 1];
	enum session_state st;
	int recovered;          /* rebuilt after a restart: never LAUNCH */
	int domid;              /* -1 until created */
	struct mcd_template tmpl;
	libxl_domain_config dc; /* valid while S_CREATING */
	int have_dc;
	char user[MCD_MAX_USER_LEN + 1];
	char display[MCD_MAX_DISPLAY_LEN + 1];
	char **argv;            /* NULL-terminated copy, for the LAUNCH */
	struct launch_opt opt;  /* X mode, cookie, storage (memory only) */
	char volume[256];       /* the user's volume it holds (volume.h), or "" */
	struct xfwd_addr xaddr; /* relay mode: the display, resolved once */
	struct log_limit loglim; /* lines the guest can cause (log.h) */
	pid_t wpid;             /* its worker (worker.h), 0 when none */
	char xlast_error[MCD_MAX_REASON_LEN + 1]; /* the worker's relay's last */
	int awaiting_ready;     /* X modes: started, first window not yet up */
	long ready_deadline;    /* ms: give up waiting for READY */
	int32_t pid;            /* the app's, for the launch's reply */
	struct mcd_chan *chan;
	struct mcd_rx *rx;
	int hello_done;
	int version;            /* protocol version agreed with the agent */
	long deadline;          /* ms, monotonic: give up on this state */
	long next_try;          /* ms: next worker start (vchan connect) */
	int job_running;
	int end_after_create;   /* ended while the create job ran */
	int end_when_connected; /* recovered, ended before its agent answered */
	char error[256];        /* why the session failed, for the waiter */
	struct client *waiter;  /* CLI waiting for the launch result */
	struct client *end_waiter; /* CLI waiting for `end` */
	struct bootq_ent bq;    /* its place in line for a boot slot */
	unsigned q_told;        /* 1 + how many were ahead when the waiter was
				 * last told; 0: not told */
	int boot_slot;          /* building or booting: holds a boot slot */
	/* Launched through the face (face.h): the key that ends it, and the
	 * connection told ENDED when it goes (NULL once gone). */
	char end_key[33];       /* MCD_SITE_END_KEY_LEN hex digits, or "" */
	struct client *face_client;
};

struct client {
	struct client *next;
	int fd;
	int dead;
	struct ctl_rx rx;
	struct ctl_txq txq;     /* replies not yet written (never waited on) */
	int closing;            /* final reply queued: close once it is out */
	struct session *s;      /* the session this client waits on */
	struct face_peer *face; /* a face child (face.h), NULL for the CLI */
};

/* One warm pool per template whose mcd_pool_size is above zero. */
struct pool_tmpl {
	struct pool_tmpl *next;
	char name[TEMPLATE_NAME_MAX + 1];
	unsigned size;          /* wanted idle members */
	struct timespec mtime;  /* of the template file the members came from */
	struct session *ready_head, *ready_tail; /* claimable, oldest first */
	int full;               /* last refill found no room (logged once) */
};

struct daemon {
	struct pool_tmpl *pools;
	long next_pool_scan;    /* ms */
	long backend_sweep_at;  /* ms; 0 = no re-sweep due */
	int backend_sweeps;     /* re-sweeps left */
	struct mcd_xen *xen;
	struct xs_handle *xs;
	const char *template_dir;
	int listen_fd;
	int job_pipe[2];
	struct session *sessions;
	struct client *clients;
	int stop;
	struct bootq bootq;     /* launches waiting for a boot slot */
	unsigned max_boots;     /* domains built and booted at once */
	struct face *face;      /* the network face (face.h), or NULL */
};

/* Monotonic clock in milliseconds. */
long now_ms(void);

/* session.c: the per-session state machine. */
struct session *session_new(struct daemon *d, const char *sid);
void session_free(struct daemon *d, struct session *s);
/* Give up on the session: tell any waiter why, destroy its domain. */
void session_fail(struct daemon *d, struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* End it cleanly: STOP the app if it runs, then destroy the domain. */
void session_end(struct daemon *d, struct session *s);
/* The create job finished. */
void session_created(struct daemon *d, struct session *s, int rc,
		     uint32_t domid, const char *err);
/* The destroy job finished: remove the record and free the session. */
void session_destroyed(struct daemon *d, struct session *s);
/* Timers: connect retries and deadlines. */
void session_tick(struct daemon *d, struct session *s, long now);
/* Its channel's fd is readable. */
void session_readable(struct daemon *d, struct session *s);
/* The domain may have gone (XenStore @releaseDomain fired). */
void session_check_domain(struct daemon *d, struct session *s);

/* place.c: where a launch goes. */
/* A CTL_LAUNCH request: check it, then claim a warm member, build a domain
 * or wait for room. */
void place_launch(struct daemon *d, struct client *c, const struct ctl_msg *m);
/* Launches waiting for room: start them when they fit, or give up. */
void daemon_tick_waiting(struct daemon *d, struct session *s, long now);
/* Start queued launches while boot slots are free (before pool_tick, so a
 * user's launch goes ahead of pool refills); tell the waiters their place. */
void place_tick(struct daemon *d, long now);
/* Take s out of the line for a boot slot (it is being freed). */
void place_forget(struct daemon *d, struct session *s);
/* May a pool refill start a boot now?  Only with a slot free and no user's
 * launch in line. */
int place_pool_may_boot(struct daemon *d);
/* Is there room for one more domain of t, counting the memory of domains
 * whose build has begun but not yet taken it?  1, or 0 with why. */
int place_room_for(struct daemon *d, const struct mcd_template *t, char *why,
		   size_t whylen);

/* Send the LAUNCH of a session whose agent is idle. */
int session_launch(struct daemon *d, struct session *s);
/* A volume job ended (attach: before the LAUNCH; detach: before keeping
 * the domain for its user). */
void session_volume_done(struct daemon *d, struct session *s, int attach,
			 int rc, const char *vdev, const char *err);

/* pool.c: the warm pool. */
/* Re-read the templates' pool sizes now and then; start members that are
 * missing, retire extra idle ones. */
void pool_tick(struct daemon *d, long now);
/* A member's agent said idle: it can be claimed. */
void pool_member_ready(struct daemon *d, struct session *s);
/* Take it off its pool's ready queue (it is ending or reconnecting). */
void pool_forget(struct daemon *d, struct session *s);
/* Claim an idle member made from the current version of the template for
 * user: first the domain kept for that user, if any, else one from the
 * ready queue in constant time; NULL if none.  The caller turns it into a
 * session. */
struct session *pool_claim(struct daemon *d, const char *name,
			   const char *user);
/* Park an ended session's domain for its user's next launch (template
 * setting mcd_keep_for_user); its disk clone stays with it.  0, or -1 if
 * it could not be recorded (then destroy it as usual). */
int pool_keep(struct daemon *d, struct session *s);
/* Note the template file's time in s, to spot stale domains later. */
void pool_note_template(struct session *s);
/* The pool of template `name`, created on first use. */
struct pool_tmpl *pool_get(struct daemon *d, const char *name);
/* A new session id that no record uses. */
int daemon_new_sid(struct daemon *d, char sid[MCD_SESSION_ID_LEN + 1]);

/* jobs.c: slow libxl calls in threads that report through job_pipe. */
void daemon_job_create(struct daemon *d, struct session *s);
void daemon_job_destroy(struct daemon *d, struct session *s);
/* Attach (make first if needed) or detach s->volume, off the loop. */
void daemon_job_volume(struct daemon *d, struct session *s, int attach);
/* The job pipe is readable: pass on progress, hand ended jobs over. */
void daemon_jobs_done(struct daemon *d);

/* daemon.c: replies to the control clients. */
void client_reply(struct daemon *d, struct client *c, uint32_t type,
		  const char *const *strs, unsigned n);
void client_progress(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The last reply to c: one error line. */
void client_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queue an encoded frame for c as it is (the face's site frames); last:
 * it is the final one, the connection closes once it is out. */
void client_frame(struct client *c, const void *frame, size_t len, int last);

/* Entry point of `mcd-toolstack daemon`. */
/* max_boots: domains built and booted at once; 0 for one per host CPU.
 * face: the network face's configuration, or NULL for none. */
int daemon_main(const char *socket_path, const char *template_dir,
		int foreground, const char *log_file, unsigned max_boots,
		const struct face_conf *face);

#endif /* MCD_DAEMON_H */
