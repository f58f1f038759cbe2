/*
 * daemon.c - the dom0 service's loop, its control clients, placement,
 * start-up and recovery.  The slow libxl calls run in jobs.c's threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "daemon.h"
#include "clone.h"
#include "domain.h"
#include "load.h"
#include "log.h"
#include "mcd_chan.h"
#include "mcd_xs.h"
#include "store.h"
#include "volume.h"
#include "worker.h"

/* Control clients and sessions, plus each session's relayed X
 * connections (up to MCD_MAX_X_CONNS). */
#define MAX_POLL 4096
#define WATCH_RELEASE "release"
#define WATCH_SESSIONS "sessions"

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- control clients ---- */

/* The client no longer waits on its session. */
static void client_detach(struct client *c)
{
	if (c->s) {
		if (c->s->waiter == c)
			c->s->waiter = NULL;
		if (c->s->end_waiter == c)
			c->s->end_waiter = NULL;
		c->s = NULL;
	}
}

static void client_close(struct client *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	close(c->fd);
	c->fd = -1;
	ctl_txq_free(&c->txq);
	client_detach(c);
}

/* Write what the socket takes; close once the last reply is out or the
 * client is gone. */
static void client_flush(struct client *c)
{
	int r;

	if (c->dead)
		return;
	r = ctl_txq_flush(c->fd, &c->txq);
	if (r < 0 || (r > 0 && c->closing))
		client_close(c);
}

/* Queue a frame for c.  A client that lets CTL_TXQ_MAX bytes of replies
 * pile up is dropped: the service never waits for a reader. */
static void client_queue(struct client *c, uint32_t type,
			 const char *const *strs, unsigned n)
{
	if (c->dead)
		return;
	if (ctl_txq_put(&c->txq, type, strs, n) < 0) {
		log_warnx("control client%s%s does not read its replies (%zu bytes waiting): dropping it",
			  c->s ? " of session " : "", c->s ? c->s->sid : "",
			  ctl_txq_pending(&c->txq));
		client_close(c);
		return;
	}
	client_flush(c);
}

/* What loop() polls a client for: its requests, and room for replies. */
static short client_events(const struct client *c)
{
	short ev = c->closing ? 0 : POLLIN;

	return ctl_txq_pending(&c->txq) ? ev | POLLOUT : ev;
}

/* The last frame to c: it is written before the connection closes. */
static void client_last(struct client *c, uint32_t type,
			const char *const *strs, unsigned n)
{
	if (c->dead || c->closing)
		return;
	client_detach(c);
	c->closing = 1;
	client_queue(c, type, strs, n);
}

void client_reply(struct daemon *d, struct client *c, uint32_t type,
		  const char *const *strs, unsigned n)
{
	(void)d;
	client_last(c, type, strs, n);
}

void client_progress(struct client *c, const char *fmt, ...)
{
	char line[512];
	const char *s = line;
	va_list ap;

	if (c->dead || c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	client_queue(c, CTL_PROGRESS, &s, 1);
}

static void reply_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_error(struct client *c, const char *fmt, ...)
{
	char line[512];
	const char *s = line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	client_last(c, CTL_ERROR, &s, 1);
}

int daemon_new_sid(struct daemon *d, char sid[MCD_SESSION_ID_LEN + 1])
{
	for (int tries = 0; tries < 8; tries++) {
		unsigned char r[MCD_SESSION_ID_LEN / 2];
		struct store_rec rec;

		if (RAND_bytes(r, sizeof(r)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(sid + 2 * i, 3, "%02x", r[i]);
		if (store_read(d->xs, MCD_XS_SESSIONS, sid, &rec) < 0 &&
		    store_read(d->xs, MCD_XS_POOL, sid, &rec) < 0)
			return 0;
	}
	return -1;
}

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

/* Validate a launch request completely before anything is created, so a
 * bad request never leaves a half-made domain. */
/* Is there room for one more domain of s's template?  1, or 0 with why. */
static int room_for(struct daemon *d, struct session *s, char *why,
		    size_t whylen)
{
	struct load_info li;

	if (load_read_ms(d->xen, 0, &li) < 0) {
		/* Not knowing is no reason to refuse: libxl will say if the
		 * memory is really not there. */
		snprintf(why, whylen, "load unknown");
		return 1;
	}
	return load_fits(&li, &s->tmpl, why, whylen);
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
	log_info("session %s: launching %s for %s on %s from template %s",
		 s->sid, s->argv[0], s->user, s->display, s->tmpl.name);
	if (s->waiter)
		client_progress(s->waiter, "session %s: creating domain from template %s",
				s->sid, s->tmpl.name);
	daemon_job_create(d, s);
}

/* A warm member, room for a cold start, or (with --wait) a place in line. */
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
		return reply_error(c, "launch: template, user, display and program are required");
	for (; first < m->nstr && launchopt_is_option(m->str[first]); first++)
		if (launchopt_apply(o, m->str[first], err, sizeof(err)) < 0)
			return reply_error(c, "%s", err);
	if (first >= m->nstr)
		return reply_error(c, "launch: no program given");
	argv = m->str + first;
	argc = m->nstr - first;
	if (!template_name_valid(m->str[0], err, sizeof(err)))
		return reply_error(c, "%s", err);
	if (!mcd_valid_user(m->str[1]))
		return reply_error(c, "invalid user name '%.40s': use [a-z_][a-z0-9_-]{0,31}, not root",
				   m->str[1]);
	if (!mcd_valid_display(m->str[2]))
		return reply_error(c, "invalid display '%.70s': use host:N or host:N.M",
				   m->str[2]);
	errno = 0;
	wait = strtoul(m->str[3], &end, 10);
	if (errno || *end || end == m->str[3] || wait > LAUNCH_WAIT_MAX)
		return reply_error(c, "invalid wait '%.20s': 0..%d seconds", m->str[3],
				   LAUNCH_WAIT_MAX);
	if (!mcd_valid_program(argv[0]))
		return reply_error(c, "invalid program '%.100s': give an absolute path without . or ..",
				   argv[0]);
	if (argc > MCD_MAX_ARGS)
		return reply_error(c, "too many arguments (%u, at most %d)", argc,
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
		return reply_error(c, "command line too long (each argument at most %d bytes, %d in all)",
				   MCD_MAX_ARG_LEN, MCD_MAX_PAYLOAD);
	if (o->volume && volume_free(d, m->str[1], err, sizeof(err)) < 0)
		return reply_error(c, "%s", err);
	/* The relay's one name lookup: here, for the CLI's display, never
	 * for anything a guest sends. */
	if ((o->xflags & MCD_LAUNCH_X_RELAY) &&
	    xfwd_resolve(m->str[2], o->xtls_port, &xaddr, err, sizeof(err)) < 0)
		return reply_error(c, "%s", err);
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
		return reply_error(c, "cannot make a session id");

	s = session_new(d, sid);
	if (!s)
		return reply_error(c, "out of memory");
	if (template_load(d->template_dir, m->str[0], &s->tmpl, &s->dc, err,
			  sizeof(err)) < 0) {
		session_free(d, s);
		return reply_error(c, "%s", err);
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
	s->deadline = wait ? now_ms() + (long)wait * 1000 : 0;
	s->next_try = now_ms() + WAIT_RETRY_MS;
	place(d, s);
}

/* The request's secrets (X cookie, share passwords) live on only in the
 * session that carries them to the agent. */
static void handle_launch(struct daemon *d, struct client *c,
			  const struct ctl_msg *m)
{
	struct launch_opt opt;

	launchopt_init(&opt);
	launch_checked(d, c, m, &opt);
	launchopt_forget(&opt);
}

static struct session *find_session(struct daemon *d, const char *sid)
{
	for (struct session *s = d->sessions; s; s = s->next)
		if (strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

static void handle_end(struct daemon *d, struct client *c,
		       const struct ctl_msg *m)
{
	struct session *s;

	if (m->nstr != 1 || !mcd_valid_session_id(m->str[0]))
		return reply_error(c, "end: invalid session id");
	s = find_session(d, m->str[0]);
	/* A domain kept for its user can be ended (discarded) too. */
	if (!s || (s->pool && !s->kept))
		return reply_error(c, "no session %s", m->str[0]);
	if (s->end_waiter)
		return reply_error(c, "session %s is already being ended", s->sid);
	s->end_waiter = c;
	c->s = s;
	log_info("session %s: end requested", s->sid);
	session_end(d, s);
}

static void client_readable(struct daemon *d, struct client *c)
{
	struct ctl_msg *m;
	int r;

	/* Room for queued replies, or the client went away. */
	if (ctl_txq_pending(&c->txq))
		client_flush(c);
	if (c->dead || c->closing)
		return;
	m = malloc(sizeof(*m));
	if (!m)
		fatal("out of memory");
	r = ctl_rx_read(c->fd, &c->rx, m);
	if (r < 0) {
		struct session *s = c->s;

		/* A CLI that gives up on a launch takes the launch with it. */
		if (s && s->waiter == c && s->st != S_RUNNING) {
			client_close(c);
			session_fail(d, s, "launch cancelled by the client");
		}
		client_close(c);
	} else if (r > 0 && c->s) {
		reply_error(c, "one request per connection");
	} else if (r > 0 && m->type == CTL_LAUNCH) {
		handle_launch(d, c, m);
	} else if (r > 0 && m->type == CTL_END) {
		handle_end(d, c, m);
	} else if (r > 0) {
		reply_error(c, "unknown request %u", m->type);
	}
	/* A LAUNCH's cookie and passwords are in the session now, or gone. */
	explicit_bzero(m, sizeof(*m));
	free(m);
}

static void accept_client(struct daemon *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *c;

	if (fd < 0)
		return;
	if (!ctl_peer_is_root(fd)) {
		ctl_sendf(fd, CTL_ERROR, "permission denied: only root may use mcd-toolstack");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = d->clients;
	d->clients = c;
}

static void sweep_clients(struct daemon *d)
{
	struct client **pp = &d->clients;

	while (*pp) {
		struct client *c = *pp;

		if (c->dead) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* ---- recovery after a restart ---- */

struct orphan_ctx {
	struct daemon *d;
};

static void reap_orphan(uint32_t domid, const char *name, void *arg)
{
	struct orphan_ctx *o = arg;
	const char *sid = name + strlen(MCD_DOMAIN_PREFIX);

	for (struct session *s = o->d->sessions; s; s = s->next)
		if (s->domid == (int)domid && strcmp(s->sid, sid) == 0)
			return;
	log_warnx("domain %u (%s) has no session: destroying it", domid, name);
	domain_destroy(o->d->xen, domid);
}

/* Disk clones whose session or pool member is gone: a service killed
 * between making them and recording the domain leaves these behind. */
static int reap_clones(const char *sid, void *arg)
{
	struct daemon *d = arg;

	for (struct session *s = d->sessions; s; s = s->next)
		if (strcmp(s->sid, sid) == 0)
			return 0;
	log_warnx("disk clones of %s have no session: removing them", sid);
	clone_remove(sid, NULL);
	return 0;
}

/* Rebuild one area's records: reconnect to live domains, drop the rest. */
static void recover_area(struct daemon *d, const char *area)
{
	int pool = strcmp(area, MCD_XS_POOL) == 0;
	unsigned n;
	char **ids = store_list(d->xs, area, &n);

	for (unsigned i = 0; i < n; i++) {
		struct store_rec r;
		struct session *s;
		char name[64], want[64];

		if (store_read(d->xs, area, ids[i], &r) < 0)
			goto next;
		snprintf(want, sizeof(want), MCD_DOMAIN_PREFIX "%s", r.sid);
		if (r.domid < 0 || strcmp(r.state, MCD_SESSION_STATE_CREATING) == 0 ||
		    domain_exists(d->xen, (uint32_t)r.domid, name, sizeof(name)) != 1 ||
		    strcmp(name, want) != 0) {
			log_warnx("%s %s: interrupted or its domain is gone, cleaning up",
				  pool ? "pool member" : "session", r.sid);
			store_remove(d->xs, area, r.sid);
			goto next;
		}
		s = session_new(d, r.sid);
		if (!s)
			fatal("out of memory");
		s->recovered = 1;
		s->recorded = 1;
		s->pool = pool;
		if (pool)
			s->pt = pool_get(d, r.template);
		s->kept = pool && r.user[0];
		s->domid = r.domid;
		snprintf(s->user, sizeof(s->user), "%s", r.user);
		snprintf(s->display, sizeof(s->display), "%s", r.display);
		/* Still held: no other session may attach it meanwhile. */
		snprintf(s->volume, sizeof(s->volume), "%s", r.volume);
		snprintf(s->tmpl.name, sizeof(s->tmpl.name), "%s", r.template);
		s->opt.xflags = !strcmp(r.xmode, "relay") ? MCD_LAUNCH_X_RELAY :
				!strcmp(r.xmode, "direct") ? MCD_LAUNCH_X_DIRECT : 0;
		s->opt.xtls_port = r.xtls;
		/* A display that no longer resolves: its relay refuses each X
		 * connection with the reason. */
		if ((s->opt.xflags & MCD_LAUNCH_X_RELAY) &&
		    xfwd_resolve(s->display, s->opt.xtls_port, &s->xaddr, NULL, 0) < 0)
			log_warnx("session %s: %s", s->sid, s->xaddr.bad);
		s->tmpl.agent_timeout_s = 60;
		s->st = S_CONNECTING;
		s->deadline = now_ms() + 60000;
		s->next_try = now_ms();
		log_info("%s %s: recovered (domain %d, %s)",
			 pool ? "pool member" : "session", s->sid, s->domid, r.state);
next:
		free(ids[i]);
	}
	free(ids);
}

#define BACKEND_RESWEEP_MS 10000
#define BACKEND_RESWEEPS 6

/* Backend nodes in dom0 of domains that no longer exist.  A service killed
 * while libxl was adding a domain's devices leaves some that the domain's
 * destruction does not know about.  Hotplug scripts still running for such
 * a domain may write their status after the nodes went, recreating them, so
 * whenever a sweep removes something, a few more follow at intervals. */
static void reap_stale_backends(struct daemon *d)
{
	int removed = 0;

	static const char base[] = "/local/domain/0/backend";
	unsigned ntypes, ndoms;
	char **types = xs_directory(d->xs, XBT_NULL, base, &ntypes);

	for (unsigned i = 0; types && i < ntypes; i++) {
		char dir[128], path[160];
		char **doms;

		snprintf(dir, sizeof(dir), "%s/%s", base, types[i]);
		doms = xs_directory(d->xs, XBT_NULL, dir, &ndoms);
		for (unsigned j = 0; doms && j < ndoms; j++) {
			char *end;
			unsigned long domid = strtoul(doms[j], &end, 10);

			if (*end || end == doms[j] || domid == 0 || domid >= 0x7ff0 ||
			    domain_exists(d->xen, (uint32_t)domid, NULL, 0) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, doms[j]);
			log_warnx("%s: backend of a domain that no longer exists, removing",
				  path);
			xs_rm(d->xs, XBT_NULL, path);
			removed = 1;
		}
		free(doms);
	}
	free(types);
	if (removed) {
		d->backend_sweeps = BACKEND_RESWEEPS;
		d->backend_sweep_at = now_ms() + BACKEND_RESWEEP_MS;
	}
}

static void backend_tick(struct daemon *d, long now)
{
	if (!d->backend_sweep_at || now < d->backend_sweep_at)
		return;
	d->backend_sweep_at = 0;
	if (d->backend_sweeps-- <= 0)
		return;
	reap_stale_backends(d);
	if (!d->backend_sweep_at && d->backend_sweeps > 0)
		d->backend_sweep_at = now + BACKEND_RESWEEP_MS;
}

/* Rebuild sessions and pool members from XenStore, then destroy MCD
 * domains that no record owns. */
static void recover(struct daemon *d)
{
	struct orphan_ctx o = { d };

	recover_area(d, MCD_XS_SESSIONS);
	recover_area(d, MCD_XS_POOL);
	domain_list_prefixed(d->xen, MCD_DOMAIN_PREFIX, reap_orphan, &o);
	reap_stale_backends(d);
	clone_list(NULL, reap_clones, d);
}

/* ---- the loop ---- */

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* Is path /mcd/sessions itself or one session's node (not a key in it)? */
static int sessions_node(const char *path)
{
	size_t l = strlen(MCD_XS_SESSIONS);

	if (strncmp(path, MCD_XS_SESSIONS, l) != 0)
		return 0;
	return path[l] == '\0' || (path[l] == '/' && !strchr(path + l + 1, '/'));
}

/* An admin removed session records (xenstore-rm): those sessions end, or
 * their domains would run on unlisted until someone ended them by id.
 * Nothing is written back: the record stays gone. */
static void check_records(struct daemon *d)
{
	for (struct session *s = d->sessions, *next; s; s = next) {
		char path[128];
		unsigned len;
		char *v;

		next = s->next;
		if (!s->recorded || s->pool || s->st == S_DESTROYING)
			continue;
		snprintf(path, sizeof(path), "%s/%s", MCD_XS_SESSIONS, s->sid);
		v = xs_read(d->xs, XBT_NULL, path, &len);
		if (v || errno != ENOENT) {
			free(v);
			continue;
		}
		log_warnx("session %s: its record %s was removed from XenStore: ending the session",
			  s->sid, path);
		s->recorded = 0;
		session_end(d, s);
	}
}

static void check_domains(struct daemon *d)
{
	char **w;
	int release = 0, records = 0;

	while ((w = xs_check_watch(d->xs)) != NULL) {
		if (strcmp(w[XS_WATCH_TOKEN], WATCH_RELEASE) == 0)
			release = 1;
		else if (strcmp(w[XS_WATCH_TOKEN], WATCH_SESSIONS) == 0 &&
			 sessions_node(w[XS_WATCH_PATH]))
			records = 1;
		free(w);
	}
	if (records)
		check_records(d);
	if (!release)
		return;
	for (struct session *s = d->sessions, *next; s; s = next) {
		next = s->next;
		session_check_domain(d, s);
	}
	/* A domain went away: what its teardown left in dom0 goes too. */
	reap_stale_backends(d);
}

static int poll_timeout(struct daemon *d, long now)
{
	long t = d->next_pool_scan - now < 1000 ? d->next_pool_scan - now : 1000;

	for (struct session *s = d->sessions; s; s = s->next) {
		if (s->st == S_CONNECTING && !s->chan && s->next_try - now < t)
			t = s->next_try - now;
		if (s->deadline && s->st != S_RUNNING && s->deadline - now < t)
			t = s->deadline - now;
	}
	return t < 0 ? 0 : (int)t;
}

static void loop(struct daemon *d)
{
	struct pollfd pfd[MAX_POLL];
	void *who[MAX_POLL];
	int kind[MAX_POLL];

	while (!got_term) {
		int n = 0;
		long now = now_ms();

		pfd[n] = (struct pollfd){ d->listen_fd, POLLIN, 0 }; kind[n++] = 0;
		pfd[n] = (struct pollfd){ d->job_pipe[0], POLLIN, 0 }; kind[n++] = 1;
		pfd[n] = (struct pollfd){ xs_fileno(d->xs), POLLIN, 0 }; kind[n++] = 2;
		for (struct client *c = d->clients; c && n < MAX_POLL; c = c->next) {
			if (c->dead)
				continue;
			pfd[n] = (struct pollfd){ c->fd, client_events(c), 0 };
			who[n] = c;
			kind[n++] = 3;
		}
		for (struct session *s = d->sessions; s && n < MAX_POLL; s = s->next) {
			if (!s->chan)
				continue;
			pfd[n] = (struct pollfd){ mcd_chan_fd(s->chan),
						  mcd_chan_events(s->chan), 0 };
			who[n] = s;
			kind[n++] = 4;
		}
		if (poll(pfd, (nfds_t)n, poll_timeout(d, now)) < 0 && errno != EINTR)
			fatal("poll");
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (kind[i]) {
			case 0: accept_client(d); break;
			case 1: daemon_jobs_done(d); break;
			case 2: check_domains(d); break;
			case 3: client_readable(d, who[i]); break;
			case 4:
				/* The session may have been freed by an
				 * earlier event of this round. */
				for (struct session *s = d->sessions; s; s = s->next)
					if (s == who[i]) {
						session_readable(d, s);
						break;
					}
				break;
			}
		}
		now = now_ms();
		for (struct session *s = d->sessions, *next; s; s = next) {
			next = s->next;
			session_tick(d, s, now);
		}
		pool_tick(d, now);
		backend_tick(d, now);
		sweep_clients(d);
		worker_reap();
	}
}

/* Only one service per dom0: the lock lives as long as the process. */
static int take_lock(const char *socket_path)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", socket_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	return fd;
}

static void write_pidfile(const char *socket_path)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s.pid", socket_path);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

int daemon_main(const char *socket_path, const char *template_dir,
		int foreground, const char *log_file)
{
	struct daemon d = { .template_dir = template_dir, .listen_fd = -1 };
	char dir[256], *slash;
	int lock_fd;

	snprintf(dir, sizeof(dir), "%s", socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	lock_fd = take_lock(socket_path);
	if (lock_fd < 0) {
		log_warnx("another mcd-toolstack daemon is running (%s.lock)",
			  socket_path);
		return 1;
	}
	if (!foreground) {
		int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

		if (fd < 0) {
			log_warn("cannot open log %s", log_file);
			return 1;
		}
		if (daemon(0, 1) < 0)
			fatal("daemon");
		dup2(fd, STDERR_FILENO);
		close(fd);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	write_pidfile(socket_path);
	/* The service holds X cookies and share passwords: no core files,
	 * no dumps, no ptrace by anyone without CAP_SYS_PTRACE. */
	if (launchopt_no_core_dumps() < 0)
		fatal("cannot turn off core dumps");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

	if (pipe2(d.job_pipe, O_CLOEXEC) < 0)
		fatal("pipe");
	fcntl(d.job_pipe[0], F_SETFL, O_NONBLOCK);
	if (xen_open(&d.xen) < 0)
		fatalx("cannot open libxl (is this dom0 of a Xen host?)");
	d.xs = xs_open(0);
	if (!d.xs)
		fatal("cannot open XenStore");
	if (store_init(d.xs) < 0)
		fatalx("cannot prepare %s in XenStore", MCD_XS_ROOT);
	if (!xs_watch(d.xs, "@releaseDomain", WATCH_RELEASE))
		fatal("cannot watch @releaseDomain");
	if (!xs_watch(d.xs, MCD_XS_SESSIONS, WATCH_SESSIONS))
		fatal("cannot watch %s", MCD_XS_SESSIONS);
	recover(&d);
	d.listen_fd = ctl_listen(socket_path);
	if (d.listen_fd < 0)
		fatal("cannot listen on %s", socket_path);
	log_info("service ready on %s (templates in %s)", socket_path,
		 template_dir);
	loop(&d);

	/* Sessions live on without us: the next service reconnects to them. */
	log_info("service stopping; %s", d.sessions ? "sessions keep running"
						   : "no sessions");
	unlink(socket_path);
	close(lock_fd);
	return 0;
}
