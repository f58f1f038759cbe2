/*
 * daemon.c - the dom0 service's poll loop, its control clients, start-up
 * and recovery after a restart.
 *
 * The loop is the only thread that changes sessions: it reads the control
 * socket and the CLI clients, each session's channel, XenStore's watches
 * and the job pipe, and runs the timers.  Where a launch goes is place.c's
 * business, the slow libxl calls jobs.c's, one session's life session.c's.
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
#include "face.h"
#include "load.h"
#include "log.h"
#include "mcd_chan.h"
#include "mcd_xs.h"
#include "store.h"
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
		if (c->s->face_client == c)
			c->s->face_client = NULL;
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
	if (c->face)
		face_client_closed(c);
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

/* A frame was put in c's queue (rc < 0: it did not fit).  A client that
 * lets CTL_TXQ_MAX bytes of replies pile up is dropped: the service never
 * waits for a reader. */
static void client_queued(struct client *c, int rc)
{
	if (rc < 0) {
		log_warnx("control client%s%s does not read its replies (%zu bytes waiting): dropping it",
			  c->s ? " of session " : "", c->s ? c->s->sid : "",
			  ctl_txq_pending(&c->txq));
		client_close(c);
		return;
	}
	client_flush(c);
}

static void client_queue(struct client *c, uint32_t type,
			 const char *const *strs, unsigned n)
{
	if (!c->dead)
		client_queued(c, ctl_txq_put(&c->txq, type, strs, n));
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

void client_frame(struct client *c, const void *frame, size_t len, int last)
{
	if (c->dead || c->closing)
		return;
	if (last) {
		client_detach(c);
		c->closing = 1;
	}
	client_queued(c, ctl_txq_put_raw(&c->txq, frame, len));
}

void client_reply(struct daemon *d, struct client *c, uint32_t type,
		  const char *const *strs, unsigned n)
{
	(void)d;
	if (c->face)
		return face_reply(c, type, strs, n);
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
	if (c->face)
		return face_reply(c, CTL_PROGRESS, &s, 1);
	client_queue(c, CTL_PROGRESS, &s, 1);
}

void client_error(struct client *c, const char *fmt, ...)
{
	char line[512];
	const char *s = line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->face)
		return face_reply(c, CTL_ERROR, &s, 1);
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
		return client_error(c, "end: invalid session id");
	s = find_session(d, m->str[0]);
	/* A domain kept for its user can be ended (discarded) too. */
	if (!s || (s->pool && !s->kept))
		return client_error(c, "no session %s", m->str[0]);
	if (s->end_waiter)
		return client_error(c, "session %s is already being ended", s->sid);
	s->end_waiter = c;
	c->s = s;
	log_info("session %s: end requested", s->sid);
	session_end(d, s);
}

/* The client went away (or broke the protocol). */
static void client_gone(struct daemon *d, struct client *c)
{
	struct session *s = c->s;

	/* A CLI that gives up on a launch takes the launch with it. */
	if (s && s->waiter == c && s->st != S_RUNNING) {
		client_close(c);
		session_fail(d, s, "launch cancelled by the client");
	}
	client_close(c);
}

static void client_readable(struct daemon *d, struct client *c)
{
	struct ctl_msg *m;
	int r;

	/* Room for queued replies, or the client went away. */
	if (ctl_txq_pending(&c->txq))
		client_flush(c);
	if (c->dead)
		return;
	/* A face child's site frames are face.c's to read. */
	if (c->face) {
		if (face_readable(d, c) < 0)
			client_gone(d, c);
		return;
	}
	if (c->closing)
		return;
	m = malloc(sizeof(*m));
	if (!m)
		fatal("out of memory");
	r = ctl_rx_read(c->fd, &c->rx, m);
	if (r < 0) {
		client_gone(d, c);
	} else if (r > 0 && c->s) {
		client_error(c, "one request per connection");
	} else if (r > 0 && m->type == CTL_LAUNCH) {
		place_launch(d, c, m);
	} else if (r > 0 && m->type == CTL_END) {
		handle_end(d, c, m);
	} else if (r > 0) {
		client_error(c, "unknown request %u", m->type);
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
		/* A launch in line has no timer: a free slot moves it. */
		if (s->deadline && s->st != S_RUNNING && s->st != S_QUEUED &&
		    s->deadline - now < t)
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
		if (face_listen_fd(d) >= 0) {
			pfd[n] = (struct pollfd){ face_listen_fd(d), POLLIN, 0 };
			kind[n++] = 5;
		}
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
			case 5: face_accept(d); break;
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
		place_tick(d, now);
		pool_tick(d, now);
		backend_tick(d, now);
		sweep_clients(d);
		worker_reap();
		face_tick(d, now);
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

/* The default number of boot slots: one per CPU of the host (dom0 may
 * see fewer), at least one. */
static unsigned default_max_boots(struct daemon *d)
{
	struct load_info li;
	long n;

	if (load_read_ms(d->xen, 0, &li) == 0 && li.in.nr_cpus > 0)
		return bootq_default_max(li.in.nr_cpus);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return bootq_default_max(n > 0 ? (unsigned)n : 0);
}

int daemon_main(const char *socket_path, const char *template_dir,
		int foreground, const char *log_file, unsigned max_boots,
		const struct face_conf *face)
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
	d.max_boots = max_boots ? max_boots : default_max_boots(&d);
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
	if (face) {
		char err[512];

		if (face_start(&d, face, err, sizeof(err)) < 0)
			fatalx("face: %s", err);
	}
	log_info("service ready on %s (templates in %s; at most %u domains booting at once)",
		 socket_path, template_dir, d.max_boots);
	loop(&d);

	/* Sessions live on without us: the next service reconnects to them. */
	log_info("service stopping; %s", d.sessions ? "sessions keep running"
						   : "no sessions");
	unlink(socket_path);
	close(lock_fd);
	return 0;
}
