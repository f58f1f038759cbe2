/*
 * place.c - where a launch goes: a warm pool member, a new domain built from
 * the template if the host has room, or (launch --wait) a place in line
 * until it has.
 *
 * A launch that needs a new domain also needs one of the service's boot
 * slots (daemon --max-boots): domains that boot at once share the host's
 * CPUs, and past a few none of them reaches its agent in time.  Without a
 * free slot it waits in line (bootq.h, state "queued"), in arrival order,
 * and its waiter is told how many are ahead.  A slot is held from the start
 * of the build until the agent answers, or the launch fails or is ended.
 * Warm-pool refills take free slots only when no user's launch waits.
 *
 * A launch request is checked completely here before anything is made, so
 * a bad request never leaves a half-made domain.  What follows the choice
 * (the domain's build, the agent's handshake) is the session's state
 * machine (session.c) and the job threads (jobs.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "load.h"
#include "log.h"
#include "mcd_xs.h"
#include "store.h"
#include "volume.h"

/* The session's XenStore record, as it is written when a launch begins
 * (rec->domid is left as the caller set it). */
static void session_rec(const struct session *s, const char *state,
			struct store_rec *rec)
{
	snprintf(rec->sid, sizeof(rec->sid), "%s", s->sid);
	snprintf(rec->domain_name, sizeof(rec->domain_name),
		 MCD_DOMAIN_PREFIX "%s", s->sid);
	snprintf(rec->template, sizeof(rec->template), "%s", s->tmpl.name);
	snprintf(rec->user, sizeof(rec->user), "%s", s->user);
	snprintf(rec->display, sizeof(rec->display), "%s", s->display);
	store_quote_argv(rec->command, sizeof(rec->command),
			 (const char *const *)s->argv);
	snprintf(rec->volume, sizeof(rec->volume), "%s", s->volume);
	snprintf(rec->state, sizeof(rec->state), "%s", state);
	rec->created = (long long)time(NULL);
	/* The X mode (never the cookie): a restarted service relays on. */
	snprintf(rec->xmode, sizeof(rec->xmode), "%s", launchopt_xmode(&s->opt));
	rec->xtls = s->opt.xtls_port;
}

/* The session holds its user's volume if the launch asked for one (the
 * caller checked that nobody else holds it). */
static void volume_take(struct session *s, const char *user)
{
	char err[128];

	s->volume[0] = '\0';
	if (s->opt.volume &&
	    volume_path(NULL, user, s->volume, sizeof(s->volume), err,
			sizeof(err)) < 0)
		s->volume[0] = '\0';
}

/* A launch with --volume: refused while another session holds it. */
static int volume_free(struct daemon *d, const char *user, char *err,
		       size_t errlen)
{
	char path[256];
	struct session *h;

	if (volume_path(NULL, user, path, sizeof(path), err, errlen) < 0)
		return -1;
	h = volume_holder(d, path, NULL);
	if (h) {
		/* An ending session keeps it until its domain is gone. */
		snprintf(err, errlen, "volume of %s is in use by session %s%s",
			 user, h->sid, h->st == S_DESTROYING || h->st == S_STOPPING
			 ? " (ending; try again once it is gone)" : "");
		return -1;
	}
	return 0;
}

/* Give a claimed pool member the launch: its domain and agent are ready,
 * so this is one XenStore transaction and one LAUNCH message. */
static void launch_warm(struct daemon *d, struct client *c, struct session *s,
			const char *user, const char *display, char **argv,
			const struct launch_opt *opt, const struct xfwd_addr *xaddr)
{
	struct store_rec rec = { .domid = s->domid };

	/* The member's own template settings stay: it was made from the
	 * template file as it is now (pool_claim checked). */
	s->pool = 0;
	s->kept = 0;
	s->pt = NULL;
	s->boot_slot = 0;
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->display, sizeof(s->display), "%s", display);
	if (s->argv) { /* a kept domain still holds its last launch's */
		for (char **a = s->argv; *a; a++)
			free(*a);
		free(s->argv);
	}
	s->argv = argv;
	s->opt = *opt;
	s->xaddr = *xaddr;
	volume_take(s, user);
	s->waiter = c;
	if (c)
		c->s = s;
	session_rec(s, MCD_SESSION_STATE_CONNECTING, &rec);
	if (store_claim(d->xs, &rec) < 0) {
		session_fail(d, s, "cannot record the session in XenStore");
		return;
	}
	log_info("session %s: launching %s for %s on %s in warm domain %d of %s",
		 s->sid, s->argv[0], s->user, s->display, s->domid, s->tmpl.name);
	/* A claimed domain keeps its clones; so does the new session. */
	if (c)
		client_progress(c, "session %s: warm domain %d claimed from the %s pool",
				s->sid, s->domid, s->tmpl.name);
	/* The record already says "connecting": no second write for it. */
	s->st = S_HELLO;
	session_launch(d, s);
}

/* Is there room for one more domain of t?  1, or 0 with why.  A domain
 * whose build began has not taken all its memory yet: it is counted as if
 * it had, so launches started together do not all count the same memory. */
int place_room_for(struct daemon *d, const struct mcd_template *t, char *why,
		   size_t whylen)
{
	struct load_info li;

	if (load_read_ms(d->xen, 0, &li) < 0) {
		/* Not knowing is no reason to refuse: libxl will say if the
		 * memory is really not there. */
		snprintf(why, whylen, "load unknown");
		return 1;
	}
	for (struct session *b = d->sessions; b; b = b->next) {
		uint64_t need;

		if (b->st != S_CREATING || b->domid >= 0 || !b->job_running)
			continue;
		need = load_need_kb(&b->tmpl);
		li.avail_kb = li.avail_kb > need ? li.avail_kb - need : 0;
		li.in.guests++;
	}
	return load_fits(&li, t, why, whylen);
}

static int room_for(struct daemon *d, struct session *s, char *why,
		    size_t whylen)
{
	return place_room_for(d, &s->tmpl, why, whylen);
}

/* Boot slots in use: domains being built, or booted and not yet answered
 * by their agent.  Counted from the sessions' states, so a slot is free
 * again as soon as its session moves on, whichever way. */
static unsigned boots_running(struct daemon *d)
{
	unsigned n = 0;

	for (struct session *s = d->sessions; s; s = s->next) {
		if (!s->boot_slot)
			continue;
		if (!s->recovered && (s->st == S_CREATING ||
				      s->st == S_CONNECTING || s->st == S_HELLO))
			n++;
		else
			s->boot_slot = 0; /* answered, failed or ended */
	}
	return n;
}

int place_pool_may_boot(struct daemon *d)
{
	return bootq_may_start(&d->bootq, NULL, boots_running(d), d->max_boots);
}

#define SESSION_OF(e) \
	((struct session *)((char *)(e) - offsetof(struct session, bq)))

/* Tell each queued launch's waiter its place when it changed. */
static void tell_queue(struct daemon *d)
{
	unsigned ahead = 0;

	for (struct bootq_ent *e = d->bootq.head; e; e = e->next, ahead++) {
		struct session *s = SESSION_OF(e);

		if (s->q_told == ahead + 1)
			continue;
		s->q_told = ahead + 1;
		if (s->waiter)
			client_progress(s->waiter, "queued: %u ahead of you", ahead);
	}
}

/* No boot slot for s yet: in line, recorded as "queued". */
static void queue(struct daemon *d, struct session *s)
{
	bootq_add(&d->bootq, &s->bq);
	if (s->st == S_QUEUED)
		return;
	s->st = S_QUEUED;
	if (!s->recorded) {
		struct store_rec rec = { .domid = -1 };

		session_rec(s, MCD_SESSION_STATE_QUEUED, &rec);
		if (store_create(d->xs, MCD_XS_SESSIONS, &rec) < 0) {
			session_fail(d, s, "cannot record the session in XenStore");
			return;
		}
		s->recorded = 1;
	} else {
		store_set(d->xs, MCD_XS_SESSIONS, s->sid, MCD_XS_K_STATE,
			  MCD_SESSION_STATE_QUEUED);
	}
	log_info("session %s: queued for a boot slot (%u booting, at most %u; %u ahead)",
		 s->sid, boots_running(d), d->max_boots,
		 bootq_ahead(&d->bootq, &s->bq));
	tell_queue(d);
}

void place_forget(struct daemon *d, struct session *s)
{
	bootq_remove(&d->bootq, &s->bq);
}

/* Record the session and start building its domain from the template. */
static void start_cold(struct daemon *d, struct session *s)
{
	struct store_rec rec = { .domid = -1 };

	session_rec(s, MCD_SESSION_STATE_CREATING, &rec);
	if (store_create(d->xs, MCD_XS_SESSIONS, &rec) < 0) {
		session_fail(d, s, "cannot record the session in XenStore");
		return;
	}
	s->recorded = 1;
	s->st = S_CREATING;
	s->boot_slot = 1;
	s->deadline = 0; /* --wait is over; the agent's comes once it is built */
	log_info("session %s: launching %s for %s on %s from template %s",
		 s->sid, s->argv[0], s->user, s->display, s->tmpl.name);
	if (s->waiter)
		client_progress(s->waiter, "session %s: creating domain from template %s",
				s->sid, s->tmpl.name);
	daemon_job_create(d, s);
}

/* A warm member; else a boot slot (or a place in line for one) and room
 * for a cold start, or (with --wait) a wait for room. */
static void place(struct daemon *d, struct session *s)
{
	struct session *warm = pool_claim(d, s->tmpl.name, s->user);
	char why[256];

	if (warm) {
		struct client *c = s->waiter;
		char **argv = s->argv;

		s->waiter = NULL;
		s->argv = NULL;
		if (c)
			c->s = NULL;
		launch_warm(d, c, warm, s->user, s->display, argv, &s->opt,
			    &s->xaddr);
		launchopt_wipe_secrets(&s->opt);
		session_free(d, s);
		return;
	}
	if (!bootq_may_start(&d->bootq, &s->bq, boots_running(d), d->max_boots)) {
		queue(d, s);
		return;
	}
	bootq_remove(&d->bootq, &s->bq);
	s->q_told = 0;
	if (room_for(d, s, why, sizeof(why))) {
		start_cold(d, s);
		return;
	}
	if (s->deadline == 0) {
		session_fail(d, s, "no room for one more domain: %s", why);
		return;
	}
	if (s->st != S_WAITING && s->waiter)
		client_progress(s->waiter, "waiting for room: %s", why);
	s->st = S_WAITING;
}

#define WAIT_RETRY_MS 2000

void daemon_tick_waiting(struct daemon *d, struct session *s, long now)
{
	if (now < s->next_try)
		return;
	if (now >= s->deadline) {
		char why[256];

		room_for(d, s, why, sizeof(why));
		session_fail(d, s, "still no room for one more domain after waiting: %s",
			     why);
		return;
	}
	s->next_try = now + WAIT_RETRY_MS;
	place(d, s);
}

void place_tick(struct daemon *d, long now)
{
	/* Each turn takes the head out of line for good (it starts, waits
	 * for room or fails), so this ends. */
	(void)now;
	for (unsigned n = d->bootq.len; n > 0 && d->bootq.head; n--) {
		struct session *s = SESSION_OF(d->bootq.head);

		if (boots_running(d) >= d->max_boots)
			break;
		bootq_remove(&d->bootq, &s->bq);
		log_info("session %s: a boot slot is free", s->sid);
		place(d, s);
	}
	tell_queue(d);
}

/* Validate a launch request completely before anything is created, so a
 * bad request never leaves a half-made domain.  Strings: template, user,
 * display, seconds to wait for room (0: do not wait), launch options
 * (KEY=VALUE, see launchopt.h), argv. */
static void launch_checked(struct daemon *d, struct client *c,
			   const struct ctl_msg *m, struct launch_opt *o)
{
	struct mcd_msg probe = { .type = MCD_MSG_LAUNCH2 };
	struct xfwd_addr xaddr = { .port = 0 };
	uint8_t frame[MCD_MAX_FRAME];
	char sid[MCD_SESSION_ID_LEN + 1], err[512], *end;
	const char *const *argv;
	struct session *s;
	unsigned long wait;
	unsigned argc, first = 4;
	int n;

	if (m->nstr < 5)
		return client_error(c, "launch: template, user, display and program are required");
	for (; first < m->nstr && launchopt_is_option(m->str[first]); first++)
		if (launchopt_apply(o, m->str[first], err, sizeof(err)) < 0)
			return client_error(c, "%s", err);
	if (first >= m->nstr)
		return client_error(c, "launch: no program given");
	argv = m->str + first;
	argc = m->nstr - first;
	if (!template_name_valid(m->str[0], err, sizeof(err)))
		return client_error(c, "%s", err);
	if (!mcd_valid_user(m->str[1]))
		return client_error(c, "invalid user name '%.40s': use [a-z_][a-z0-9_-]{0,31}, not root",
				   m->str[1]);
	if (!mcd_valid_display(m->str[2]))
		return client_error(c, "invalid display '%.70s': use host:N or host:N.M",
				   m->str[2]);
	errno = 0;
	wait = strtoul(m->str[3], &end, 10);
	if (errno || *end || end == m->str[3] || wait > LAUNCH_WAIT_MAX)
		return client_error(c, "invalid wait '%.20s': 0..%d seconds", m->str[3],
				   LAUNCH_WAIT_MAX);
	if (!mcd_valid_program(argv[0]))
		return client_error(c, "invalid program '%.100s': give an absolute path without . or ..",
				   argv[0]);
	if (argc > MCD_MAX_ARGS)
		return client_error(c, "too many arguments (%u, at most %d)", argc,
				   MCD_MAX_ARGS);
	launchopt_to_launch(o, &probe.u.launch);
	/* A volume will be attached as some xvdX: probe with the longest. */
	if (o->volume)
		probe.u.launch.volume = "xvdz";
	probe.u.launch.session_id = "0000000000000000";
	probe.u.launch.user = m->str[1];
	probe.u.launch.display = m->str[2];
	probe.u.launch.argc = argc;
	for (unsigned i = 0; i < argc; i++)
		probe.u.launch.argv[i] = argv[i];
	n = mcd_encode(&probe, frame, sizeof(frame));
	/* The probe holds the cookie and the passwords too. */
	explicit_bzero(frame, sizeof(frame));
	if (n < 0)
		return client_error(c, "command line too long (each argument at most %d bytes, %d in all)",
				   MCD_MAX_ARG_LEN, MCD_MAX_PAYLOAD);
	if (o->volume && volume_free(d, m->str[1], err, sizeof(err)) < 0)
		return client_error(c, "%s", err);
	/* The relay's one name lookup: here, for the CLI's display, never
	 * for anything a guest sends. */
	if ((o->xflags & MCD_LAUNCH_X_RELAY) &&
	    xfwd_resolve(m->str[2], o->xtls_port, &xaddr, err, sizeof(err)) < 0)
		return client_error(c, "%s", err);
	s = pool_claim(d, m->str[0], m->str[1]);
	if (s) {
		char **copy = calloc(argc + 1, sizeof(char *));

		for (unsigned i = 0; copy && i < argc; i++)
			if (!(copy[i] = strdup(argv[i])))
				fatal("out of memory");
		if (!copy)
			fatal("out of memory");
		launch_warm(d, c, s, m->str[1], m->str[2], copy, o, &xaddr);
		return;
	}
	if (daemon_new_sid(d, sid) < 0)
		return client_error(c, "cannot make a session id");

	s = session_new(d, sid);
	if (!s)
		return client_error(c, "out of memory");
	if (template_load(d->template_dir, m->str[0], &s->tmpl, &s->dc, err,
			  sizeof(err)) < 0) {
		session_free(d, s);
		return client_error(c, "%s", err);
	}
	s->have_dc = 1;
	pool_note_template(s);
	snprintf(s->user, sizeof(s->user), "%s", m->str[1]);
	snprintf(s->display, sizeof(s->display), "%s", m->str[2]);
	s->argv = calloc(argc + 1, sizeof(char *));
	for (unsigned i = 0; s->argv && i < argc; i++)
		if (!(s->argv[i] = strdup(argv[i])))
			fatal("out of memory");
	if (!s->argv)
		fatal("out of memory");
	s->opt = *o;
	s->xaddr = xaddr;
	volume_take(s, s->user);
	s->waiter = c;
	c->s = s;
	bootq_ticket(&d->bootq, &s->bq);
	s->deadline = wait ? now_ms() + (long)wait * 1000 : 0;
	s->next_try = now_ms() + WAIT_RETRY_MS;
	place(d, s);
}

/* The request's secrets (X cookie, share passwords) live on only in the
 * session that carries them to the agent. */
void place_launch(struct daemon *d, struct client *c,
		  const struct ctl_msg *m)
{
	struct launch_opt opt;

	launchopt_init(&opt);
	launch_checked(d, c, m, &opt);
	launchopt_forget(&opt);
}
