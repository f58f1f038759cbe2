/*
 * loadq.c - the parallel load query (see loadq.h).
 *
 * Each job lives on the heap with its own copies, so a thread that is
 * still stuck (a name lookup has no deadline of its own) when the caller
 * gives up can finish later without touching the caller's memory: the
 * last of the two to let go frees the job.
 */
#include "loadq.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "talk.h"

struct job {
	SSL_CTX *ctx;            /* a reference of its own */
	char pool[PICK_NAME_MAX + 1];
	char address[129];
	int64_t deadline_ms;
	struct pick_load res;
	int timed_out;
	int done, abandoned;
	struct shared *sh;
};

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t running;
	int refs;                /* the caller and each live thread */
};

static void shared_put(struct shared *sh)
{
	int last;

	pthread_mutex_lock(&sh->lock);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&sh->lock);
	pthread_cond_destroy(&sh->cond);
	free(sh);
}

static void job_free(struct job *j)
{
	SSL_CTX_free(j->ctx);
	free(j);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct shared *sh = j->sh;
	int abandoned;

	j->timed_out = talk_load(j->ctx, j->pool, j->address, j->deadline_ms,
				 &j->res);
	pthread_mutex_lock(&sh->lock);
	j->done = 1;
	abandoned = j->abandoned;
	sh->running--;
	pthread_cond_broadcast(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	if (abandoned)
		job_free(j);
	shared_put(sh);
	return NULL;
}

static struct job *job_new(SSL_CTX *ctx, const struct loadq_pool *p,
			   int64_t deadline_ms, struct shared *sh)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	SSL_CTX_up_ref(ctx);
	j->ctx = ctx;
	snprintf(j->pool, sizeof(j->pool), "%s", p->pool);
	snprintf(j->address, sizeof(j->address), "%s", p->address);
	j->deadline_ms = deadline_ms;
	j->sh = sh;
	return j;
}

/* Start one thread for p; on failure its slot says why. */
static struct job *start(SSL_CTX *ctx, const struct loadq_pool *p,
			 int64_t deadline_ms, struct shared *sh,
			 struct pick_load *slot)
{
	struct job *j = job_new(ctx, p, deadline_ms, sh);
	pthread_t t;

	if (!j)
		goto fail;
	pthread_mutex_lock(&sh->lock);
	sh->running++;
	sh->refs++;
	pthread_mutex_unlock(&sh->lock);
	if (pthread_create(&t, NULL, job_main, j) != 0) {
		pthread_mutex_lock(&sh->lock);
		sh->running--;
		sh->refs--;
		pthread_mutex_unlock(&sh->lock);
		job_free(j);
		goto fail;
	}
	pthread_detach(t);
	return j;
fail:
	snprintf(slot->pool, sizeof(slot->pool), "%s", p->pool);
	snprintf(slot->text, sizeof(slot->text), "cannot start its query");
	return NULL;
}

/* Wait until no thread runs or the deadline (plus a grace for threads
 * finishing at it) passes. */
static void wait_all(struct shared *sh, int64_t deadline_ms)
{
	struct timespec ts;
	int64_t until;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		(deadline_ms - talk_now_ms()) + 200;
	ts.tv_sec = until / 1000;
	ts.tv_nsec = (until % 1000) * 1000000;
	pthread_mutex_lock(&sh->lock);
	while (sh->running > 0)
		if (pthread_cond_timedwait(&sh->cond, &sh->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sh->lock);
}

/* Take a job's answer, or leave the job to its thread. */
static void collect(struct shared *sh, struct job *j, struct pick_load *out,
		    int *timed_out)
{
	int done;

	pthread_mutex_lock(&sh->lock);
	done = j->done;
	if (!done)
		j->abandoned = 1;
	pthread_mutex_unlock(&sh->lock);
	if (!done) {
		memset(out, 0, sizeof(*out));
		snprintf(out->pool, sizeof(out->pool), "%s", j->pool);
		snprintf(out->text, sizeof(out->text), "timed out");
		*timed_out = 1;
		return;
	}
	*out = j->res;
	*timed_out = j->timed_out;
	job_free(j);
}

int loadq_run(SSL_CTX *ctx, const struct loadq_pool *pools, size_t n,
	      int timeout_ms, struct pick_load *out, int *timed_out)
{
	int64_t deadline_ms = talk_now_ms() + timeout_ms;
	struct shared *sh = calloc(1, sizeof(*sh));
	struct job **jobs = calloc(n ? n : 1, sizeof(*jobs));
	pthread_condattr_t ca;

	if (!sh || !jobs) {
		free(sh);
		free(jobs);
		return -1;
	}
	pthread_mutex_init(&sh->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->cond, &ca);
	pthread_condattr_destroy(&ca);
	sh->refs = 1;
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		timed_out[i] = 0;
		jobs[i] = start(ctx, &pools[i], deadline_ms, sh, &out[i]);
	}
	wait_all(sh, deadline_ms);
	for (size_t i = 0; i < n; i++)
		if (jobs[i])
			collect(sh, jobs[i], &out[i], &timed_out[i]);
	free(jobs);
	shared_put(sh);
	return 0;
}
