/*
 * run.c - one app from the menu of the broker to its end (see run.h).
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jout.h"
#include "mcd_site.h"
#include "pick.h"
#include "pools.h"
#include "talk.h"
#include "xcookie.h"

#define ERR_MAX 512
/* With --wait and every pool full: ask them all again this often, and
 * launch on the first with room (a pool chosen up front might stay full
 * while another frees up). */
#define RETRY_MS 3000

/* What the run keeps between its steps. */
struct run {
	const struct conf *c;
	SSL_CTX *ctx;
	const struct state_token *tok;
	const struct run_opts *o;
	struct talk_broker broker;
	struct talk_apps apps;
	const struct talk_app *app;
	struct pools_result res;  /* the pools' answers to the load query */
	size_t chosen;
	struct talk_ticket ticket;
	struct state_session sess;
	int ready;
	long deadline_ms;         /* --wait: give up on room then (monotonic) */
	int told_skipped;         /* skipped pools named once, not per retry */
};

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Sleep ms, or less when the user interrupts. */
static void nap(const struct run *r, long ms)
{
	struct timespec step = { 0, 100 * 1000000L };

	for (; ms > 0 && !*r->o->stop; ms -= 100)
		nanosleep(&step, NULL);
}

static int fail(int code, const char *msg)
{
	fprintf(stderr, "mcd-client: %s\n", msg);
	return code;
}

/* The app's entry and pools from the broker. */
static int step_apps(struct run *r)
{
	char err[ERR_MAX];
	int rc = talk_apps(&r->broker, r->tok->token, &r->apps, err,
			   sizeof(err));

	if (rc)
		return fail(rc, err);
	r->app = pools_find_app(&r->apps, r->o->app);
	if (!r->app) {
		snprintf(err, sizeof(err), "no app '%s' among yours (see "
			 "mcd-client apps)", r->o->app);
		return fail(TALK_FAILED, err);
	}
	return 0;
}

static void report_skipped(const struct run *r)
{
	for (size_t i = 0; i < r->res.n; i++) {
		const struct pick_load *l = &r->res.loads[i];

		if (l->answered)
			continue;
		if (r->res.no_address[i])
			fprintf(stderr, "mcd-client: pool %s has no address "
				"from the server; skipped\n", l->pool);
		else if (r->res.timed_out[i])
			fprintf(stderr, "mcd-client: pool %s did not answer the "
				"load query in %d ms; skipped\n", l->pool,
				r->c->load_timeout_ms);
		else
			fprintf(stderr, "mcd-client: pool %s: %s; skipped\n",
				l->pool, l->text);
	}
}

/* Ask every listed pool for its load at once. */
static int step_loads(struct run *r)
{
	char err[ERR_MAX];

	if (pools_query(r->ctx, &r->apps, r->app, r->c->load_timeout_ms,
			&r->res, err, sizeof(err)) < 0)
		return fail(TALK_FAILED, err);
	if (!r->told_skipped++)
		report_skipped(r);
	return 0;
}

/* Every pool full, --wait given and time left: 1 after a pause (ask
 * again), 0 to go on with what there is. */
static int wait_for_room(struct run *r, int *told)
{
	long left = r->deadline_ms - mono_ms();

	if (r->o->wait_sec <= 0 || left <= RETRY_MS || *r->o->stop)
		return 0;
	if (!*told) {
		printf("waiting: no room on any pool of %s; asking them again "
		       "every %d s (for up to %ld s)\n", r->app->app,
		       RETRY_MS / 1000, left / 1000);
		fflush(stdout);
		*told = 1;
	}
	nap(r, RETRY_MS);
	return !*r->o->stop;
}

static int step_pick(struct run *r)
{
	char line[1024];
	int told = 0;

	r->deadline_ms = mono_ms() + (long)(r->o->wait_sec > 0 ? r->o->wait_sec : 0) * 1000;
	for (;;) {
		int rc = step_loads(r);

		if (rc)
			return rc;
		if (pick_pool(r->res.loads, r->res.n, 0, &r->chosen) == PICK_OK ||
		    !wait_for_room(r, &told))
			break;
	}
	switch (pick_pool(r->res.loads, r->res.n, r->o->wait_sec >= 0,
			  &r->chosen)) {
	case PICK_OK:
	case PICK_WAIT:
		return 0;
	case PICK_NO_ROOM:
		pick_no_room_line(r->res.loads, r->res.n, line, sizeof(line));
		return fail(TALK_NO_ROOM, line);
	default:
		return fail(TALK_FAILED, "no pool of this app answered");
	}
}

static int step_ticket(struct run *r)
{
	char err[ERR_MAX];
	int rc = talk_ticket_req(&r->broker, r->tok->token, r->app->app,
				 r->res.loads[r->chosen].pool, r->o->display,
				 &r->ticket, err, sizeof(err));

	return rc ? fail(rc, err) : 0;
}

static void note(struct run *r, const char *state)
{
	char err[ERR_MAX];

	/* Best effort: the broker's list of sessions is a convenience; the
	 * session itself is the pool's. */
	if (talk_note(&r->broker, r->tok->token, r->sess.session, r->sess.pool,
		      r->app->app, state, err, sizeof(err)))
		fprintf(stderr, "mcd-client: could not tell the server the "
			"session is %s: %s\n", state, err);
}

static void on_wait(const struct run *r, const struct mcd_site_msg *m)
{
	const char *text = mcd_site_str(m, MCD_ST_TEXT);
	const char *state = mcd_site_str(m, MCD_ST_STATE);

	if (r->o->json)
		jout_event("waiting", "state", state, "text", text, NULL);
	else
		printf("waiting: %s\n", text ? text : state);
	fflush(stdout);
}

static int on_ready(struct run *r, const struct mcd_site_msg *m)
{
	char err[ERR_MAX];

	memset(&r->sess, 0, sizeof(r->sess));
	snprintf(r->sess.session, sizeof(r->sess.session), "%s",
		 mcd_site_str(m, MCD_ST_SESSION));
	snprintf(r->sess.end_key, sizeof(r->sess.end_key), "%s",
		 mcd_site_str(m, MCD_ST_END_KEY));
	snprintf(r->sess.pool, sizeof(r->sess.pool), "%s", r->ticket.pool);
	snprintf(r->sess.address, sizeof(r->sess.address), "%s",
		 r->ticket.address);
	snprintf(r->sess.app, sizeof(r->sess.app), "%s", r->app->app);
	r->ready = 1;
	if (r->o->json)
		jout_event("ready", "session", r->sess.session, "pool",
			   r->sess.pool, "app", r->sess.app, NULL);
	else
		printf("ready: session %s on pool %s\n", r->sess.session,
		       r->sess.pool);
	fflush(stdout);
	if (state_session_save(r->c->state_dir, &r->sess, err, sizeof(err)))
		fprintf(stderr, "mcd-client: %s\n", err);
	note(r, "ready");
	return 0;
}

static int on_ended(struct run *r, const char *text)
{
	if (r->o->json)
		jout_event("ended", "session", r->sess.session, "text", text,
			   NULL);
	else if (text)
		printf("ended: session %s (%s)\n", r->sess.session, text);
	else
		printf("ended: session %s\n", r->sess.session);
	fflush(stdout);
	note(r, "ended");
	state_session_remove(r->c->state_dir, r->sess.session);
	return TALK_OK;
}

/* Interrupted: end the session if it runs, else just leave (closing the
 * launch connection gives the launch up). */
static int on_stop(struct run *r)
{
	char err[ERR_MAX];
	int rc;

	if (!r->ready)
		return fail(TALK_FAILED, "interrupted: launch given up");
	rc = talk_end(r->ctx, &r->sess, err, sizeof(err));
	if (rc)
		return fail(rc, err);
	return on_ended(r, "ended by the user");
}

/* A final FAILED or ERROR from the pool. */
static int on_failed(const struct mcd_site_msg *m)
{
	uint32_t code = mcd_site_u32(m, MCD_ST_CODE, MCD_SITE_E_INTERNAL);
	const char *text = mcd_site_str(m, MCD_ST_TEXT);
	char line[ERR_MAX];

	snprintf(line, sizeof(line), "launch failed: %s (%s)",
		 text ? text : "no reason given", mcd_site_err_name(code));
	return fail(talk_exit_for(code), line);
}

/* One frame of the launch connection: <0 to go on, else the exit code. */
static int on_frame(struct run *r, const struct mcd_site_msg *m)
{
	switch (m->type) {
	case MCD_SITE_WAIT:
		if (!r->ready)
			on_wait(r, m);
		return -1;
	case MCD_SITE_READY:
		if (r->ready)
			return fail(TALK_FAILED, "the pool said READY twice");
		on_ready(r, m);
		return r->o->detach ? TALK_OK : -1;
	case MCD_SITE_ENDED:
		if (!r->ready)
			return fail(TALK_FAILED, "the pool ended a session "
				    "that never was ready");
		return on_ended(r, mcd_site_str(m, MCD_ST_TEXT));
	case MCD_SITE_FAILED:
	case MCD_SITE_ERROR:
		return on_failed(m);
	default:
		return fail(TALK_FAILED, "the pool answered the launch with "
			    "an unexpected frame");
	}
}

static int step_launch(struct run *r)
{
	static struct mcd_site_msg m;
	char err[ERR_MAX], cookie[XCOOKIE_HEX_LEN + 1] = "";
	long left = r->deadline_ms - mono_ms();
	/* What is left of --wait: the pool may still have to wait a moment
	 * (another launch took the room first). */
	uint32_t wait = r->o->wait_sec > 0 && left > 1000 ? (uint32_t)(left / 1000) : 0;
	int rc, num = conf_display_number(r->o->display);
	SSL *ssl;

	if (xcookie_find(r->c->xauthority, num, cookie, err, sizeof(err)) < 0)
		fprintf(stderr, "mcd-client: %s (launching without a cookie)\n",
			err);
	ssl = talk_launch(r->ctx, r->ticket.pool, r->ticket.address,
			  &r->ticket, cookie, wait, err, sizeof(err));
	state_wipe(cookie, sizeof(cookie));
	if (!ssl)
		return fail(TALK_FAILED, err);
	for (rc = -1; rc < 0;) {
		int got = talk_next(ssl, r->o->stop, &m, err, sizeof(err));

		if (got == 1)
			rc = on_stop(r);
		else if (got < 0 && r->ready)
			rc = fail(TALK_FAILED, "lost the pool's connection; the "
				  "session may still run (see mcd-client sessions)");
		else if (got < 0)
			rc = fail(TALK_FAILED, err);
		else
			rc = on_frame(r, &m);
		mcd_site_wipe(&m);
	}
	talk_close(ssl);
	return rc;
}

int run_app(const struct conf *c, SSL_CTX *ctx, const struct state_token *tok,
	    const struct run_opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return fail(TALK_FAILED, "out of memory");
	r->c = c;
	r->ctx = ctx;
	r->tok = tok;
	r->o = o;
	r->broker.ctx = ctx;
	r->broker.address = c->server;
	r->broker.name = c->server_name;
	if (!(rc = step_apps(r)) && !(rc = step_pick(r)) &&
	    !(rc = step_ticket(r)))
		rc = step_launch(r);
	state_wipe(r, sizeof(*r));
	free(r);
	return rc;
}
