/*
 * sessops.h - what the session state machine (session.c) and the warm pool
 * (pool.c) do to the world, as a table of operations.
 *
 * Both files decide; this table acts: it starts and stops a session's
 * worker, hands it frames, writes the session's XenStore record, starts
 * the slow libxl jobs and reads the clock.  The service runs with
 * daemon_real_ops (sessops.c); unit tests run the same two files with
 * fakes that record each call, so every rule of the machine is checked
 * without Xen, XenStore or a guest.
 *
 * Each operation is the real function (worker.h, store.h, domain.h,
 * jobs.c) with the daemon first, so a call site only changes its callee.
 */
#ifndef MCD_SESSOPS_H
#define MCD_SESSOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct mcd_chan;
struct session;
struct store_rec;

struct daemon_ops {
	/* Monotonic milliseconds: every deadline and retry time. */
	long (*now_ms)(struct daemon *d);

	/* worker.h: the session's guest-facing process and its channel. */
	struct mcd_chan *(*worker_start)(struct daemon *d, const char *sid,
					 int domid, pid_t *pid, char *err,
					 size_t errlen);
	void (*worker_stop)(struct daemon *d, pid_t pid, const char *sid);
	/* One whole encoded frame for the worker (and through it the agent);
	 * mcd_chan_send()'s contract. */
	int (*chan_send)(struct daemon *d, struct mcd_chan *c, const void *buf,
			 size_t n);

	/* XenStore outside the records: a node of a guest's area (malloc'd,
	 * NULL if missing). */
	char *(*xs_read)(struct daemon *d, const char *path, unsigned *len);
	/* domain.h: enum domain_state, or -1. */
	int (*domain_state)(struct daemon *d, uint32_t domid);

	/* store.h: the session and pool records. */
	int (*store_create)(struct daemon *d, const char *area,
			    const struct store_rec *r);
	int (*store_keep)(struct daemon *d, const struct store_rec *r);
	int (*store_set)(struct daemon *d, const char *area, const char *sid,
			 const char *key, const char *value);
	int (*store_set_int)(struct daemon *d, const char *area,
			     const char *sid, const char *key, long long value);
	int (*store_remove)(struct daemon *d, const char *area,
			    const char *sid);

	/* jobs.c: each sets s->job_running and reports its end later
	 * (session_created, session_destroyed, session_volume_done). */
	void (*job_create)(struct daemon *d, struct session *s);
	void (*job_destroy)(struct daemon *d, struct session *s);
	void (*job_volume)(struct daemon *d, struct session *s, int attach);
	/* face.h: the session is over for its launcher (freed, or its domain
	 * kept for its user): ENDED to the network client that launched it. */
	void (*session_gone)(struct daemon *d, struct session *s);
};

/* The service's table: libxl, XenStore, worker processes. */
extern const struct daemon_ops daemon_real_ops;

#endif /* MCD_SESSOPS_H */
