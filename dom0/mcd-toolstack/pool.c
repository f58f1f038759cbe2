/*
 * pool.c - warm pools: per template, pre-booted idle domains whose agents
 * are already connected, so a launch only has to send LAUNCH.
 *
 * A member is an ordinary session with `pool` set: it is built, connected
 * and handshaken like any other, but its STATUS idle puts it on its pool's
 * ready queue instead of sending a LAUNCH.  Its record lives under
 * /mcd/pool/<sid>; a claim moves it to /mcd/sessions/<sid> in one
 * transaction, so a claim costs the same few XenStore writes however many
 * sessions run.  After a restart the service finds members in /mcd/pool and
 * reconnects to them like to sessions.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon.h"
#include "face.h"
#include "load.h"
#include "log.h"
#include "mcd_xs.h"
#include "store.h"

/* How often the templates' pool sizes are re-read. */
#define POOL_SCAN_MS 5000
/* Members of one template booting at once: more only slows each down. */
#define POOL_MAX_BOOTING 2

struct pool_tmpl *pool_get(struct daemon *d, const char *name)
{
	struct pool_tmpl *pt;

	for (pt = d->pools; pt; pt = pt->next)
		if (strcmp(pt->name, name) == 0)
			return pt;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		fatal("out of memory");
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	pt->next = d->pools;
	d->pools = pt;
	return pt;
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int template_mtime(const struct mcd_template *t, struct timespec *ts)
{
	struct stat st;

	if (stat(t->path, &st) < 0)
		return -1;
	*ts = st.st_mtim;
	return 0;
}

void pool_note_template(struct session *s)
{
	template_mtime(&s->tmpl, &s->tmpl_mtime);
}

void pool_member_ready(struct daemon *d, struct session *s)
{
	struct pool_tmpl *pt = s->pt;

	(void)d;
	if (!pt || s->queued || s->kept)
		return;
	s->next_ready = NULL;
	if (pt->ready_tail)
		pt->ready_tail->next_ready = s;
	else
		pt->ready_head = s;
	pt->ready_tail = s;
	s->queued = 1;
	log_info("pool %s: domain %d ready", pt->name, s->domid);
}

void pool_forget(struct daemon *d, struct session *s)
{
	struct pool_tmpl *pt = s->pt;
	struct session **pp, *prev = NULL;

	(void)d;
	if (!pt || !s->queued)
		return;
	for (pp = &pt->ready_head; *pp; prev = *pp, pp = &(*pp)->next_ready) {
		if (*pp != s)
			continue;
		*pp = s->next_ready;
		if (pt->ready_tail == s)
			pt->ready_tail = prev;
		break;
	}
	s->next_ready = NULL;
	s->queued = 0;
}

static struct session *pop_ready(struct pool_tmpl *pt)
{
	struct session *s = pt->ready_head;

	if (!s)
		return NULL;
	pt->ready_head = s->next_ready;
	if (!pt->ready_head)
		pt->ready_tail = NULL;
	s->next_ready = NULL;
	s->queued = 0;
	return s;
}

/* Retire a member: its domain is destroyed like a session's. */
static void retire(struct daemon *d, struct session *s, const char *why)
{
	log_info("pool %s: retiring domain %d (%s)", s->tmpl.name, s->domid, why);
	pool_forget(d, s);
	session_end(d, s);
}

/* The domain kept for user from template `name`, if there is one. */
static struct session *kept_for(struct daemon *d, const char *name,
				const char *user)
{
	for (struct session *s = d->sessions; s; s = s->next)
		if (s->pool && s->kept && s->st == S_IDLE &&
		    strcmp(s->tmpl.name, name) == 0 && strcmp(s->user, user) == 0)
			return s;
	return NULL;
}

int pool_keep(struct daemon *d, struct session *s)
{
	struct store_rec rec = { .domid = s->domid };

	snprintf(rec.sid, sizeof(rec.sid), "%s", s->sid);
	snprintf(rec.domain_name, sizeof(rec.domain_name), MCD_DOMAIN_PREFIX "%s",
		 s->sid);
	snprintf(rec.template, sizeof(rec.template), "%s", s->tmpl.name);
	snprintf(rec.user, sizeof(rec.user), "%s", s->user);
	snprintf(rec.state, sizeof(rec.state), MCD_POOL_STATE_READY);
	rec.created = (long long)time(NULL);
	if (store_keep(d->xs, &rec) < 0)
		return -1;
	s->pool = 1;
	s->kept = 1;
	s->pt = pool_get(d, s->tmpl.name);
	s->st = S_IDLE;
	s->deadline = 0;
	if (s->end_waiter) {
		const char *sid = s->sid;

		client_reply(d, s->end_waiter, CTL_DONE, &sid, 1);
	}
	face_session_gone(d, s); /* the session is over, its domain kept */
	log_info("session %s: ended; domain %d kept for %s", s->sid, s->domid,
		 s->user);
	return 0;
}

struct session *pool_claim(struct daemon *d, const char *name,
			   const char *user)
{
	struct timespec now_mtime;
	struct pool_tmpl *pt;
	struct session *s;
	char path[PATH_MAX];
	struct stat st;

	/* One stat instead of parsing the template: a member made from the
	 * file as it is now carries everything the launch needs. */
	snprintf(path, sizeof(path), "%s/%s" TEMPLATE_SUFFIX, d->template_dir,
		 name);
	if (stat(path, &st) < 0)
		return NULL;
	now_mtime = st.st_mtim;
	s = kept_for(d, name, user);
	if (s) {
		if (same_time(&now_mtime, &s->tmpl_mtime))
			return s;
		retire(d, s, "template changed");
	}
	for (pt = d->pools; pt; pt = pt->next)
		if (strcmp(pt->name, name) == 0)
			break;
	if (!pt)
		return NULL;
	while ((s = pop_ready(pt)) != NULL) {
		/* A member booted from an older version of the template would
		 * run the wrong thing: drop it and look further. */
		if (same_time(&now_mtime, &s->tmpl_mtime))
			return s;
		retire(d, s, "template changed");
	}
	return NULL;
}

/* Build one more member of pt; 0 if it was started, -1 if not (no room,
 * or the template cannot be used). */
static int start_member(struct daemon *d, struct pool_tmpl *pt)
{
	char why[256];
	struct store_rec rec = { .domid = -1 };
	struct session *s;
	char err[512];

	/* A refill boots only in a free slot, and never ahead of a user. */
	if (!place_pool_may_boot(d))
		return -1;
	if (daemon_new_sid(d, rec.sid) < 0)
		return -1;
	s = session_new(d, rec.sid);
	if (!s)
		fatal("out of memory");
	if (template_load(d->template_dir, pt->name, &s->tmpl, &s->dc, err,
			  sizeof(err)) < 0) {
		log_warnx("pool %s: %s", pt->name, err);
		session_free(d, s);
		return -1;
	}
	s->have_dc = 1;
	pool_note_template(s);
	/* Idle members must not take the room a user's launch needs. */
	if (!place_room_for(d, &s->tmpl, why, sizeof(why))) {
		if (!pt->full)
			log_warnx("pool %s: not refilled: %s", pt->name, why);
		pt->full = 1;
		session_free(d, s);
		return -1;
	}
	pt->full = 0;
	s->pool = 1;
	s->pt = pt;
	snprintf(rec.domain_name, sizeof(rec.domain_name), MCD_DOMAIN_PREFIX "%s",
		 rec.sid);
	snprintf(rec.template, sizeof(rec.template), "%s", pt->name);
	snprintf(rec.state, sizeof(rec.state), MCD_POOL_STATE_BOOTING);
	rec.created = (long long)time(NULL);
	if (store_create(d->xs, MCD_XS_POOL, &rec) < 0) {
		session_free(d, s);
		return -1;
	}
	s->recorded = 1;
	s->st = S_CREATING;
	s->boot_slot = 1;
	log_info("pool %s: starting member %s", pt->name, s->sid);
	daemon_job_create(d, s);
	return 0;
}

static int scan_one(const char *name, void *arg)
{
	struct daemon *d = arg;
	struct mcd_template t;
	libxl_domain_config dc;
	struct pool_tmpl *pt;
	char err[512];

	if (template_load(d->template_dir, name, &t, &dc, err, sizeof(err)) < 0) {
		/* A broken template keeps no pool; check says why. */
		for (pt = d->pools; pt; pt = pt->next)
			if (strcmp(pt->name, name) == 0)
				pt->size = 0;
		return 0;
	}
	libxl_domain_config_dispose(&dc);
	if (t.pool_size == 0) {
		for (pt = d->pools; pt; pt = pt->next)
			if (strcmp(pt->name, name) == 0)
				pt->size = 0;
		return 0;
	}
	pt = pool_get(d, name);
	pt->size = t.pool_size;
	template_mtime(&t, &pt->mtime);
	return 0;
}

static void scan(struct daemon *d)
{
	for (struct pool_tmpl *pt = d->pools; pt; pt = pt->next)
		pt->size = 0; /* templates that vanished keep no pool */
	template_list(d->template_dir, scan_one, d);
}

void pool_tick(struct daemon *d, long now)
{
	if (now < d->next_pool_scan)
		return;
	d->next_pool_scan = now + POOL_SCAN_MS;
	scan(d);
	for (struct pool_tmpl *pt = d->pools; pt; pt = pt->next) {
		unsigned members = 0, booting = 0;

		for (struct session *s = d->sessions; s; s = s->next) {
			if (!s->pool || s->kept || s->pt != pt ||
			    s->st == S_DESTROYING)
				continue;
			members++;
			if (s->st != S_IDLE)
				booting++;
		}
		while (members < pt->size && booting < POOL_MAX_BOOTING) {
			if (start_member(d, pt) < 0)
				break;
			members++;
			booting++;
		}
		while (members > pt->size && pt->ready_head) {
			retire(d, pt->ready_head, "pool is smaller now");
			members--;
		}
	}
}
