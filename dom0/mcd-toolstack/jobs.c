/*
 * jobs.c - the service's slow libxl calls, off the poll loop.
 *
 * Creating a domain (with its disk clones), destroying one and attaching or
 * detaching a user's volume can each take seconds.  Each runs in a detached
 * thread of its own that touches no session; it reports progress lines and
 * its end through the daemon's job pipe, and the loop (daemon_jobs_done)
 * hands the result to the session's state machine.  So one slow domain
 * never stalls the others, and only the loop's thread changes sessions.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "clone.h"
#include "domain.h"
#include "log.h"
#include "mcd_xs.h"
#include "volume.h"

enum job_kind { JOB_CREATE, JOB_DESTROY, JOB_ATTACH, JOB_DETACH };

struct job {
	enum job_kind kind;
	struct daemon *d;
	struct session *s;
	libxl_domain_config *dc;
	char name[64];
	char sid[MCD_SESSION_ID_LEN + 1];
	uint32_t domid;
	int rc;
	char err[256];
	long last_progress_ms;
	char volume[256];     /* JOB_ATTACH, JOB_DETACH */
	uint64_t volume_size;
	char vdev[16];
};

/*
 * What a job thread tells the loop, through one pipe so that progress
 * always arrives before the job's end.  Records are smaller than PIPE_BUF,
 * so each write is atomic.
 */
struct job_note {
	struct job *j;
	int done;             /* 0: progress line below; 1: the job ended */
	char line[96];
};

static void job_note(struct job *j, int done, const char *line)
{
	struct job_note n = { .j = j, .done = done };

	if (line)
		snprintf(n.line, sizeof(n.line), "%s", line);
	if (write(j->d->job_pipe[1], &n, sizeof(n)) != sizeof(n))
		fatal("job pipe");
}

/* Disk clones report progress from the job thread: pass on about two
 * updates a second, plus the first and the last. */
static int clone_progress(void *arg, const char *vdev, uint64_t done,
			  uint64_t total)
{
	struct job *j = arg;
	long now = now_ms();
	char line[96];

	if (done != 0 && done != total && now - j->last_progress_ms < 500)
		return 0;
	j->last_progress_ms = now;
	if (clone_progress_format(line, sizeof(line), vdev, done, total) == 0)
		job_note(j, 0, line);
	return 0;
}

static void *job_thread(void *arg)
{
	struct job *j = arg;

	if (j->kind == JOB_CREATE) {
		/* Writable disks get per-launch clones; the template's own
		 * images are never handed to a domain for writing. */
		j->rc = clone_disks(&j->s->tmpl, j->dc, j->sid, NULL,
				    clone_progress, j, j->err, sizeof(j->err));
		if (j->rc == 0) {
			j->rc = domain_create(j->d->xen, j->dc, j->name, &j->domid,
					      j->err, sizeof(j->err));
			if (j->rc < 0)
				clone_remove(j->sid, NULL);
		}
	} else if (j->kind == JOB_ATTACH) {
		j->rc = volume_prepare(j->volume, j->volume_size, j->err,
				       sizeof(j->err));
		if (j->rc == 0)
			j->rc = volume_attach(j->d->xen, j->domid, j->volume, j->vdev,
					      sizeof(j->vdev), j->err,
					      sizeof(j->err));
	} else if (j->kind == JOB_DETACH) {
		j->rc = volume_detach(j->d->xen, j->domid, j->volume);
	} else {
		j->rc = domain_destroy(j->d->xen, j->domid);
		/* Only once the domain is gone: it may still write. */
		if (j->rc == 0 && clone_remove(j->sid, NULL) < 0)
			log_warnx("session %s: some disk clones could not be removed",
				  j->sid);
	}
	job_note(j, 1, NULL);
	return NULL;
}

static void job_start(struct daemon *d, struct job *j)
{
	pthread_t t;
	pthread_attr_t attr;

	j->d = d;
	j->s->job_running = 1;
	snprintf(j->sid, sizeof(j->sid), "%s", j->s->sid);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_thread, j) != 0) {
		/* Run it inline rather than lose it. */
		job_thread(j);
	}
	pthread_attr_destroy(&attr);
}

void daemon_job_create(struct daemon *d, struct session *s)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		fatal("out of memory");
	j->kind = JOB_CREATE;
	j->s = s;
	j->dc = &s->dc;
	snprintf(j->name, sizeof(j->name), MCD_DOMAIN_PREFIX "%s", s->sid);
	job_start(d, j);
}

void daemon_job_destroy(struct daemon *d, struct session *s)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		fatal("out of memory");
	j->kind = JOB_DESTROY;
	j->s = s;
	j->domid = (uint32_t)s->domid;
	log_info("session %s: destroying domain %d", s->sid, s->domid);
	job_start(d, j);
}

void daemon_job_volume(struct daemon *d, struct session *s, int attach)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		fatal("out of memory");
	j->kind = attach ? JOB_ATTACH : JOB_DETACH;
	j->s = s;
	j->domid = (uint32_t)s->domid;
	snprintf(j->volume, sizeof(j->volume), "%s", s->volume);
	/* A member rebuilt after a restart knows its template only by name. */
	j->volume_size = s->tmpl.user_volume_size ? s->tmpl.user_volume_size
						  : TEMPLATE_VOLUME_DEFAULT;
	log_info("session %s: %s volume %s", s->sid,
		 attach ? "attaching" : "detaching", s->volume);
	job_start(d, j);
}

void daemon_jobs_done(struct daemon *d)
{
	struct job_note n;

	while (read(d->job_pipe[0], &n, sizeof(n)) == sizeof(n)) {
		struct job *j = n.j;

		if (!n.done) {
			if (j->s->waiter)
				client_progress(j->s->waiter, "%s", n.line);
			continue;
		}
		if (j->kind == JOB_ATTACH || j->kind == JOB_DETACH) {
			session_volume_done(d, j->s, j->kind == JOB_ATTACH, j->rc,
					    j->vdev, j->err);
		} else if (j->kind == JOB_CREATE) {
			session_created(d, j->s, j->rc, j->domid, j->err);
		} else {
			if (j->rc < 0)
				log_warnx("session %s: destroying domain %u failed",
					  j->s->sid, j->domid);
			session_destroyed(d, j->s);
		}
		free(j);
	}
}
