/*
 * test_session_fsm.c - the dom0 session state machine (session.c) and the
 * warm pool (pool.c), driven without Xen through a fake daemon_ops table.
 *
 * The fake worker is one end of a socketpair: each test writes the frames
 * a worker would pass on (the agent's, encoded by mcd_proto) and lets the
 * machine read them as the service's loop does.  Every side effect (jobs,
 * records, workers, frames sent) is recorded and checked, the clock is the
 * test's, and each test ends with every session freed, so ASan sees any
 * leak.  The control clients' replies (daemon.c) and the launch placement
 * hooks (place.c) are stand-ins defined here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "domain.h"
#include "mcd_chan.h"
#include "mcd_xs.h"
#include "sessops.h"
#include "store.h"

#define SID1 "1111111111111111"
#define SID2 "2222222222222222"
#define SID3 "3333333333333333"
#define MAX_CALLS 128
#define MAX_SENT 64
#define MAX_PEERS 8
#define AGENT_TIMEOUT_S 30
#define READY_TIMEOUT_S 20

/* ---- the fake world ---- */

struct sent {
	char sid[MCD_SESSION_ID_LEN + 1];
	uint32_t type;
};

struct peer {
	char sid[MCD_SESSION_ID_LEN + 1];
	int fd; /* the worker's end of the socketpair, -1 when none */
};

/* A control client waiting on a launch, and what it was told. */
struct waiter {
	struct client c;
	int nreplies;
	uint32_t reply_type;
	char reply[512];
	int nprogress;
};

struct fake {
	struct daemon d;
	long now;
	int vchan_offered;   /* the guests' agents offer their vchan */
	int dom_state;       /* what domain_state says */
	int fail_store_keep;
	char calls[MAX_CALLS][160];
	int ncalls;
	struct sent sent[MAX_SENT];
	int nsent;
	struct peer peers[MAX_PEERS];
	int npids;
	char tdir[64];       /* the template directory */
	char tpath[128];     /* its template "app" */
};

static struct fake *F(struct daemon *d)
{
	return (struct fake *)((char *)d - offsetof(struct fake, d));
}

static void call(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void call(struct daemon *d, const char *fmt, ...)
{
	struct fake *f = F(d);
	va_list ap;

	assert_true(f->ncalls < MAX_CALLS);
	va_start(ap, fmt);
	vsnprintf(f->calls[f->ncalls++], sizeof(f->calls[0]), fmt, ap);
	va_end(ap);
}

static struct session *find(struct daemon *d, const char *sid)
{
	for (struct session *s = d->sessions; s; s = s->next)
		if (strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

static long fake_now_ms(struct daemon *d)
{
	return F(d)->now;
}

static struct mcd_chan *fake_worker_start(struct daemon *d, const char *sid,
					  int domid, pid_t *pid, char *err,
					  size_t errlen)
{
	struct fake *f = F(d);
	struct peer *p = NULL;
	struct mcd_chan *c;
	int sv[2];

	for (int i = 0; i < MAX_PEERS && !p; i++)
		if (!strcmp(f->peers[i].sid, sid) || !f->peers[i].sid[0])
			p = &f->peers[i];
	assert_non_null(p);
	if (p->fd >= 0)
		close(p->fd); /* a reconnect: the old worker is gone */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	c = mcd_chan_socket_fd(sv[0], err, errlen);
	assert_non_null(c);
	snprintf(p->sid, sizeof(p->sid), "%s", sid);
	p->fd = sv[1];
	*pid = 1000 + ++f->npids;
	call(d, "worker_start %s %d", sid, domid);
	return c;
}

static void fake_worker_stop(struct daemon *d, pid_t pid, const char *sid)
{
	if (pid)
		call(d, "worker_stop %s", sid);
}

/* Frames the machine sends: decoded as the worker would, or the test
 * fails. */
static int fake_chan_send(struct daemon *d, struct mcd_chan *c,
			  const void *buf, size_t n)
{
	struct fake *f = F(d);
	struct session *s = d->sessions;
	struct mcd_hdr h;
	struct mcd_msg m;
	char err[160];

	while (s && s->chan != c)
		s = s->next;
	assert_non_null(s);
	assert_true(n >= MCD_HDR_LEN);
	mcd_hdr_parse(buf, &h);
	assert_int_equal(h.len + MCD_HDR_LEN, n);
	if (mcd_decode(h.type, MCD_DIR_TO_WORKER,
		       (const uint8_t *)buf + MCD_HDR_LEN, h.len, &m, err,
		       sizeof(err)) < 0)
		fail_msg("the worker would refuse %s: %s", mcd_msg_name(h.type),
			 err);
	assert_true(f->nsent < MAX_SENT);
	snprintf(f->sent[f->nsent].sid, sizeof(f->sent[0].sid), "%s", s->sid);
	f->sent[f->nsent++].type = h.type;
	return 0;
}

static char *fake_xs_read(struct daemon *d, const char *path, unsigned *len)
{
	(void)path;
	if (!F(d)->vchan_offered)
		return NULL;
	*len = 1;
	return strdup("7");
}

static int fake_domain_state(struct daemon *d, uint32_t domid)
{
	(void)domid;
	return F(d)->dom_state;
}

static int fake_store_create(struct daemon *d, const char *area,
			     const struct store_rec *r)
{
	call(d, "store_create %s %s", area, r->sid);
	return 0;
}

static int fake_store_keep(struct daemon *d, const struct store_rec *r)
{
	call(d, "store_keep %s %s %s", r->sid, r->user, r->state);
	return F(d)->fail_store_keep ? -1 : 0;
}

static int fake_store_set(struct daemon *d, const char *area, const char *sid,
			  const char *key, const char *value)
{
	call(d, "store_set %s %s %s %s", area, sid, key, value);
	return 0;
}

static int fake_store_set_int(struct daemon *d, const char *area,
			      const char *sid, const char *key,
			      long long value)
{
	call(d, "store_set %s %s %s %lld", area, sid, key, value);
	return 0;
}

static int fake_store_remove(struct daemon *d, const char *area,
			     const char *sid)
{
	call(d, "store_remove %s %s", area, sid);
	return 0;
}

static void fake_job_create(struct daemon *d, struct session *s)
{
	s->job_running = 1;
	call(d, "job_create %s", s->sid);
}

static void fake_job_destroy(struct daemon *d, struct session *s)
{
	s->job_running = 1;
	call(d, "job_destroy %s %d", s->sid, s->domid);
}

static void fake_job_volume(struct daemon *d, struct session *s, int attach)
{
	s->job_running = 1;
	call(d, "job_volume %s %d", s->sid, attach);
}

static void fake_session_gone(struct daemon *d, struct session *s)
{
	call(d, "session_gone %s", s->sid);
}

static const struct daemon_ops fake_ops = {
	.now_ms = fake_now_ms,
	.worker_start = fake_worker_start,
	.worker_stop = fake_worker_stop,
	.chan_send = fake_chan_send,
	.xs_read = fake_xs_read,
	.domain_state = fake_domain_state,
	.store_create = fake_store_create,
	.store_keep = fake_store_keep,
	.store_set = fake_store_set,
	.store_set_int = fake_store_set_int,
	.store_remove = fake_store_remove,
	.job_create = fake_job_create,
	.job_destroy = fake_job_destroy,
	.job_volume = fake_job_volume,
	.session_gone = fake_session_gone,
};

/* ---- stand-ins for daemon.c's control clients and place.c ---- */

/* As daemon.c: the last reply detaches the client from its session. */
void client_reply(struct daemon *d, struct client *c, uint32_t type,
		  const char *const *strs, unsigned n)
{
	struct waiter *w = (struct waiter *)((char *)c - offsetof(struct waiter, c));

	(void)d;
	w->nreplies++;
	w->reply_type = type;
	snprintf(w->reply, sizeof(w->reply), "%s", n ? strs[0] : "");
	if (c->s) {
		if (c->s->waiter == c)
			c->s->waiter = NULL;
		if (c->s->end_waiter == c)
			c->s->end_waiter = NULL;
		c->s = NULL;
	}
}

void client_progress(struct client *c, const char *fmt, ...)
{
	struct waiter *w = (struct waiter *)((char *)c - offsetof(struct waiter, c));

	(void)fmt;
	w->nprogress++;
}

int daemon_new_sid(struct daemon *d, char sid[MCD_SESSION_ID_LEN + 1])
{
	(void)d;
	snprintf(sid, MCD_SESSION_ID_LEN + 1, "%s", "ffffffffffffffff");
	return 0;
}

void place_forget(struct daemon *d, struct session *s)
{
	(void)d;
	(void)s;
}

int place_pool_may_boot(struct daemon *d)
{
	(void)d;
	return 0;
}

int place_room_for(struct daemon *d, const struct mcd_template *t, char *why,
		   size_t whylen)
{
	(void)d;
	(void)t;
	snprintf(why, whylen, "test");
	return 0;
}

void daemon_tick_waiting(struct daemon *d, struct session *s, long now)
{
	(void)d;
	(void)s;
	(void)now;
	fail_msg("no launch waits for room in these tests");
}

/* ---- helpers ---- */

static void quiet(int pri, const char *msg)
{
	(void)pri;
	(void)msg;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	f->d.ops = &fake_ops;
	f->d.max_boots = 1;
	f->now = 100000;
	f->vchan_offered = 1;
	f->dom_state = DOMAIN_ALIVE;
	for (int i = 0; i < MAX_PEERS; i++)
		f->peers[i].fd = -1;
	snprintf(f->tdir, sizeof(f->tdir), "/tmp/mcd-fsm-XXXXXX");
	assert_non_null(mkdtemp(f->tdir));
	snprintf(f->tpath, sizeof(f->tpath), "%s/app" TEMPLATE_SUFFIX, f->tdir);
	fd = open(f->tpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	f->d.template_dir = f->tdir;
	log_set_sink(quiet);
	*state = f;
	return 0;
}

/* Every test ends with no session left: a leak or a lost session is a
 * failure here, and ASan checks the memory. */
static int teardown(void **state)
{
	struct fake *f = *state;
	int left = 0;

	while (f->d.sessions) {
		left++;
		session_free(&f->d, f->d.sessions);
	}
	while (f->d.pools) {
		struct pool_tmpl *pt = f->d.pools;

		f->d.pools = pt->next;
		free(pt);
	}
	for (int i = 0; i < MAX_PEERS; i++)
		if (f->peers[i].fd >= 0)
			close(f->peers[i].fd);
	unlink(f->tpath);
	rmdir(f->tdir);
	log_set_sink(NULL);
	free(f);
	assert_int_equal(left, 0);
	return 0;
}

/* How many recorded calls are exactly this line. */
static int called(struct fake *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int called(struct fake *f, const char *fmt, ...)
{
	char want[160];
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	for (int i = 0; i < f->ncalls; i++)
		n += strcmp(f->calls[i], want) == 0;
	return n;
}

/* How many times key of record sid in area was set to value. */
static int wrote(struct fake *f, const char *area, const char *sid,
		 const char *key, const char *value)
{
	return called(f, "store_set %s %s %s %s", area, sid, key, value);
}

/* Calls whose line starts with prefix. */
static int called_prefix(struct fake *f, const char *prefix)
{
	int n = 0;

	for (int i = 0; i < f->ncalls; i++)
		n += strncmp(f->calls[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* How many frames of this type went to session sid. */
static int sent_to(struct fake *f, const char *sid, uint32_t type)
{
	int n = 0;

	for (int i = 0; i < f->nsent; i++)
		n += f->sent[i].type == type && !strcmp(f->sent[i].sid, sid);
	return n;
}

static int peer_fd(struct fake *f, const char *sid)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (!strcmp(f->peers[i].sid, sid))
			return f->peers[i].fd;
	fail_msg("session %s has no worker", sid);
	return -1;
}

/* The worker passes raw bytes on; the loop sees the channel readable. */
static void worker_passes(struct fake *f, const char *sid, const void *buf,
			  size_t n)
{
	struct session *s;

	assert_int_equal(write(peer_fd(f, sid), buf, n), (ssize_t)n);
	s = find(&f->d, sid);
	assert_non_null(s);
	session_readable(&f->d, s);
}

static void agent_says(struct fake *f, const char *sid, const struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf));

	assert_true(n > 0);
	worker_passes(f, sid, buf, (size_t)n);
}

static void agent_hello(struct fake *f, const char *sid)
{
	struct mcd_msg m = { .type = MCD_MSG_HELLO };

	m.u.hello.version_min = 1;
	m.u.hello.version_max = 2;
	m.u.hello.role = MCD_ROLE_AGENT_LINUX;
	agent_says(f, sid, &m);
}

static void agent_status(struct fake *f, const char *sid, uint32_t state,
			 const char *running_sid, int32_t pid, int32_t code)
{
	struct mcd_msg m = { .type = MCD_MSG_STATUS };

	m.u.status.state = state;
	m.u.status.pid = pid;
	m.u.status.exit_code = code;
	m.u.status.session_id = running_sid;
	agent_says(f, sid, &m);
}

static void agent_started(struct fake *f, const char *sid, const char *named,
			  int32_t pid)
{
	struct mcd_msg m = { .type = MCD_MSG_STARTED };

	m.u.started.pid = pid;
	m.u.started.session_id = named;
	agent_says(f, sid, &m);
}

static void agent_exited(struct fake *f, const char *sid, int32_t code)
{
	struct mcd_msg m = { .type = MCD_MSG_EXITED };

	m.u.exited.exit_code = code;
	m.u.exited.session_id = sid;
	agent_says(f, sid, &m);
}

static void agent_failed(struct fake *f, const char *sid, uint32_t code,
			 const char *reason)
{
	struct mcd_msg m = { .type = MCD_MSG_FAILED };

	m.u.failed.code = code;
	m.u.failed.session_id = sid;
	m.u.failed.reason = reason;
	agent_says(f, sid, &m);
}

static void agent_ready(struct fake *f, const char *sid)
{
	struct mcd_msg m = { .type = MCD_MSG_READY };

	m.u.ready.session_id = sid;
	agent_says(f, sid, &m);
}

static void tmpl_defaults(struct session *s)
{
	snprintf(s->tmpl.name, sizeof(s->tmpl.name), "app");
	s->tmpl.agent_timeout_s = AGENT_TIMEOUT_S;
	s->tmpl.ready_timeout_s = READY_TIMEOUT_S;
}

/* A launch as place.c's start_cold leaves it: recorded, create job
 * running.  xflags 0: no X; else the relay to 127.0.0.1:6000. */
static struct session *cold(struct fake *f, const char *sid, struct waiter *w,
			    uint32_t xflags)
{
	struct session *s = session_new(&f->d, sid);
	struct sockaddr_in *sin;

	assert_non_null(s);
	tmpl_defaults(s);
	snprintf(s->tmpl.path, sizeof(s->tmpl.path), "%s", f->tpath);
	pool_note_template(s);
	snprintf(s->user, sizeof(s->user), "alice");
	snprintf(s->display, sizeof(s->display), "thin:0");
	s->argv = calloc(2, sizeof(char *));
	assert_non_null(s->argv);
	s->argv[0] = strdup("/usr/bin/xclock");
	launchopt_init(&s->opt);
	s->opt.xflags = xflags;
	if (xflags & MCD_LAUNCH_X_RELAY) {
		snprintf(s->opt.xcookie, sizeof(s->opt.xcookie),
			 "0123456789abcdef0123456789abcdef");
		sin = (struct sockaddr_in *)&s->xaddr.sa;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(6000);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->xaddr.salen = sizeof(*sin);
		s->xaddr.port = 6000;
		snprintf(s->xaddr.display, sizeof(s->xaddr.display), "thin:0");
		snprintf(s->xaddr.host, sizeof(s->xaddr.host), "thin");
	}
	if (w) {
		s->waiter = &w->c;
		w->c.s = s;
	}
	s->recorded = 1;
	s->st = S_CREATING;
	f->d.ops->job_create(&f->d, s);
	return s;
}

/* A warm-pool member as pool.c's start_member leaves it. */
static struct session *member(struct fake *f, const char *sid)
{
	struct session *s = session_new(&f->d, sid);

	assert_non_null(s);
	tmpl_defaults(s);
	snprintf(s->tmpl.path, sizeof(s->tmpl.path), "%s", f->tpath);
	pool_note_template(s);
	s->pool = 1;
	s->pt = pool_get(&f->d, "app");
	s->recorded = 1;
	s->st = S_CREATING;
	f->d.ops->job_create(&f->d, s);
	return s;
}

/* A session as daemon.c's recover_area rebuilds it after a restart. */
static struct session *recovered(struct fake *f, const char *sid, int domid)
{
	struct session *s = session_new(&f->d, sid);

	assert_non_null(s);
	s->recovered = 1;
	s->recorded = 1;
	s->domid = domid;
	snprintf(s->user, sizeof(s->user), "alice");
	snprintf(s->tmpl.name, sizeof(s->tmpl.name), "app");
	s->tmpl.agent_timeout_s = 60;
	s->st = S_CONNECTING;
	s->deadline = f->now + 60000;
	s->next_try = f->now;
	return s;
}

/* The create job reports a domain; the next tick starts the worker and
 * says HELLO. */
static void boot(struct fake *f, const char *sid, int domid)
{
	struct session *s = find(&f->d, sid);

	assert_non_null(s);
	session_created(&f->d, s, 0, (uint32_t)domid, NULL);
	assert_int_equal(s->st, S_CONNECTING);
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_HELLO);
	assert_int_equal(called(f, "worker_start %s %d", sid, domid), 1);
	assert_int_equal(sent_to(f, sid, MCD_MSG_HELLO), 1);
}

/* Boot, handshake: the agent is idle, so a new session is sent its
 * LAUNCH2 (a pool member goes idle instead). */
static void handshake(struct fake *f, const char *sid, int domid)
{
	boot(f, sid, domid);
	agent_hello(f, sid);
	agent_status(f, sid, MCD_AGENT_IDLE, "", 0, 0);
}

/* The destroy job reports: the record goes and the session is freed. */
static void destroy_done(struct fake *f, const char *sid, const char *area)
{
	struct session *s = find(&f->d, sid);

	assert_non_null(s);
	assert_int_equal(s->st, S_DESTROYING);
	assert_int_equal(called(f, "job_destroy %s %d", sid, s->domid), 1);
	session_destroyed(&f->d, s);
	assert_null(find(&f->d, sid));
	assert_int_equal(called(f, "store_remove %s %s", area, sid), 1);
}

/* ---- cold launches ---- */

static void test_cold_launch_runs_then_exit_destroys(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	assert_int_equal(called(f, "job_create %s", SID1), 1);
	handshake(f, SID1, 5);
	assert_int_equal(s->st, S_LAUNCHING);
	assert_int_equal(s->version, 2);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH2), 1);
	agent_started(f, SID1, SID1, 4242);
	assert_int_equal(s->st, S_RUNNING);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_PID, "4242"), 1);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_STATE, "running"),
			 1);
	assert_int_equal(w.nreplies, 1);
	assert_int_equal(w.reply_type, CTL_DONE);
	assert_string_equal(w.reply, SID1);

	agent_exited(f, SID1, 0);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_EXIT, "code 0"), 1);
	assert_int_equal(called(f, "worker_stop %s", SID1), 1);
	assert_null(s->chan);
	assert_int_equal(called(f, "session_gone %s", SID1), 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
	/* Its launcher hears of the end once the session is freed. */
	assert_int_equal(called(f, "session_gone %s", SID1), 1);
	assert_int_equal(w.nreplies, 1); /* told once, when it started */
}

static void test_hello_deadline_fails_and_destroys(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	boot(f, SID1, 5);
	f->now += AGENT_TIMEOUT_S * 1000 - 1;
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_HELLO);
	assert_int_equal(w.nreplies, 0);
	f->now += 1;
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_DESTROYING);
	assert_int_equal(w.nreplies, 1);
	assert_int_equal(w.reply_type, CTL_ERROR);
	assert_non_null(strstr(w.reply, "agent did not answer within 30 s"));
	assert_int_equal(called_prefix(f, "store_set " MCD_XS_SESSIONS " " SID1 " "
				       MCD_XS_K_ERROR " agent did not answer"), 1);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH2), 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
	assert_int_equal(w.nreplies, 1);
}

/* A second session that reached RUNNING in the same daemon: whatever the
 * other guest does must leave it exactly as it was. */
static struct session *bystander(struct fake *f, struct waiter *w)
{
	struct session *b = cold(f, SID2, w, 0);

	handshake(f, SID2, 6);
	agent_started(f, SID2, SID2, 77);
	assert_int_equal(b->st, S_RUNNING);
	return b;
}

static void bystander_untouched(struct fake *f, struct session *b,
				int ncalls_before, struct waiter *w)
{
	assert_ptr_equal(find(&f->d, SID2), b);
	assert_int_equal(b->st, S_RUNNING);
	assert_non_null(b->chan);
	assert_int_equal(b->error[0], '\0');
	for (int i = ncalls_before; i < f->ncalls; i++)
		assert_null(strstr(f->calls[i], SID2));
	assert_int_equal(w->nreplies, 1);
	/* It still works: its app's exit ends it cleanly. */
	agent_exited(f, SID2, 0);
	destroy_done(f, SID2, MCD_XS_SESSIONS);
}

/* A guest protocol error: the session fails, its domain is destroyed. */
static void failed_by_guest(struct fake *f, struct waiter *w, const char *why)
{
	struct session *s = find(&f->d, SID1);

	assert_non_null(s);
	assert_int_equal(s->st, S_DESTROYING);
	assert_int_equal(w->nreplies, 1);
	assert_int_equal(w->reply_type, CTL_ERROR);
	if (!strstr(w->reply, why))
		fail_msg("waiter told '%s', expected '%s'", w->reply, why);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
}

static void test_garbage_failed_fails_only_its_session(void **state)
{
	struct fake *f = *state;
	struct waiter w1 = { .c.fd = -1 }, w2 = { .c.fd = -1 };
	struct session *b = bystander(f, &w2);
	struct mcd_msg m = { .type = MCD_MSG_FAILED };
	uint8_t frame[64], *x;
	int before, n;

	cold(f, SID1, &w1, 0);
	handshake(f, SID1, 5);
	m.u.failed.code = MCD_FAIL_EXEC;
	m.u.failed.session_id = SID1;
	m.u.failed.reason = "xxxx";
	n = mcd_encode(&m, frame, sizeof(frame));
	assert_true(n > 0);
	/* Its reason made unprintable: no decoder lets that through. */
	x = memchr(frame + MCD_HDR_LEN, 'x', (size_t)n - MCD_HDR_LEN);
	assert_non_null(x);
	*x = 0x01;
	before = f->ncalls;
	worker_passes(f, SID1, frame, (size_t)n);
	failed_by_guest(f, &w1, "guest protocol error");
	bystander_untouched(f, b, before, &w2);
}

static void test_frame_in_wrong_state_fails(void **state)
{
	struct fake *f = *state;
	struct waiter w1 = { .c.fd = -1 }, w2 = { .c.fd = -1 };
	struct session *b = bystander(f, &w2);
	int before = f->ncalls;

	cold(f, SID1, &w1, 0);
	boot(f, SID1, 5);
	/* STARTED before HELLO and STATUS: no LAUNCH was ever sent. */
	agent_hello(f, SID1);
	agent_started(f, SID1, SID1, 12);
	failed_by_guest(f, &w1, "guest protocol error: unexpected STARTED");
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH2), 0);
	bystander_untouched(f, b, before, &w2);
}

static void test_started_for_another_session_fails(void **state)
{
	struct fake *f = *state;
	struct waiter w1 = { .c.fd = -1 }, w2 = { .c.fd = -1 };
	struct session *b = bystander(f, &w2);
	int before = f->ncalls;

	cold(f, SID1, &w1, 0);
	handshake(f, SID1, 5);
	/* The guest names the other session: it must not reach it. */
	agent_started(f, SID1, SID2, 66);
	failed_by_guest(f, &w1, "names another session");
	assert_int_equal(b->pid, 77);
	bystander_untouched(f, b, before, &w2);
}

static void test_launch_failed_tells_waiter_why(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };

	cold(f, SID1, &w, 0);
	handshake(f, SID1, 5);
	agent_failed(f, SID1, MCD_FAIL_NO_PROGRAM, "/usr/bin/xclock: not found");
	failed_by_guest(f, &w, "agent refused the launch: /usr/bin/xclock: not found");
	assert_int_equal(called_prefix(f, "store_set " MCD_XS_SESSIONS " " SID1
				       " " MCD_XS_K_ERROR " agent refused the launch"), 1);
}

/* ---- X relay mode: the launch is done at the first window ---- */

static void test_relay_ready_deadline_fails(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, MCD_LAUNCH_X_RELAY);

	handshake(f, SID1, 5);
	/* The worker learns where to relay before the agent's LAUNCH2. */
	assert_int_equal(sent_to(f, SID1, MCD_MSG_W_XCONF), 1);
	assert_int_equal(f->sent[f->nsent - 2].type, MCD_MSG_W_XCONF);
	assert_int_equal(f->sent[f->nsent - 1].type, MCD_MSG_LAUNCH2);
	assert_int_equal(s->opt.xcookie[0], '\0'); /* wiped once sent */
	agent_started(f, SID1, SID1, 31);
	assert_int_equal(s->st, S_RUNNING);
	assert_int_equal(s->awaiting_ready, 1);
	assert_int_equal(w.nreplies, 0);
	f->now += READY_TIMEOUT_S * 1000 - 1;
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_RUNNING);
	f->now += 1;
	session_tick(&f->d, s, f->now);
	failed_by_guest(f, &w, "showed no window on display thin:0 within 20 s");
}

static void test_relay_ready_in_time_completes(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, MCD_LAUNCH_X_RELAY);

	handshake(f, SID1, 5);
	agent_started(f, SID1, SID1, 31);
	f->now += 1000;
	agent_ready(f, SID1);
	assert_int_equal(w.nreplies, 1);
	assert_int_equal(w.reply_type, CTL_DONE);
	assert_int_equal(s->awaiting_ready, 0);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_XREADY, "1"), 1);
	f->now += READY_TIMEOUT_S * 1000;
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_RUNNING);
	session_end(&f->d, s);
	assert_int_equal(s->st, S_STOPPING);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_STOP), 1);
	agent_exited(f, SID1, 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
}

/* ---- ended while the domain was being built ---- */

static void test_end_while_creating(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	session_end(&f->d, s);
	assert_int_equal(s->st, S_DESTROYING);
	assert_int_equal(s->end_after_create, 1);
	assert_int_equal(called_prefix(f, "job_destroy"), 0); /* create runs */
	session_created(&f->d, s, 0, 9, NULL);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_DOMID, "9"), 1);
	assert_int_equal(called_prefix(f, "worker_start"), 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
	assert_int_equal(w.nreplies, 1);
	assert_string_equal(w.reply, "session ended before the app started");
}

static void test_end_while_creating_create_fails(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	session_end(&f->d, s);
	session_created(&f->d, s, -1, 0, "out of memory");
	/* No domain was left behind: nothing to destroy. */
	assert_null(find(&f->d, SID1));
	assert_int_equal(called_prefix(f, "job_destroy"), 0);
	assert_int_equal(called(f, "store_remove " MCD_XS_SESSIONS " %s", SID1), 1);
	assert_int_equal(w.nreplies, 1);
}

/* ---- after a restart ---- */

static void test_recovered_running_stays_running(void **state)
{
	struct fake *f = *state;
	struct session *s = recovered(f, SID1, 5);

	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_HELLO);
	agent_hello(f, SID1);
	agent_status(f, SID1, MCD_AGENT_RUNNING, SID1, 99, 0);
	assert_int_equal(s->st, S_RUNNING);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_PID, "99"), 1);
	/* Time passes: a running app has no deadline. */
	f->now += 3600 * 1000;
	session_tick(&f->d, s, f->now);
	assert_int_equal(s->st, S_RUNNING);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH), 0);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH2), 0);
	assert_int_equal(called_prefix(f, "job_"), 0);
	agent_exited(f, SID1, 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
}

static void test_recovered_exited_is_ended(void **state)
{
	struct fake *f = *state;
	struct session *s = recovered(f, SID1, 5);

	session_tick(&f->d, s, f->now);
	agent_hello(f, SID1);
	agent_status(f, SID1, MCD_AGENT_EXITED, SID1, 0, 3);
	assert_int_equal(wrote(f, MCD_XS_SESSIONS, SID1, MCD_XS_K_EXIT, "code 3"), 1);
	assert_int_equal(sent_to(f, SID1, MCD_MSG_LAUNCH2), 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
}

/* ---- the warm pool ---- */

/* A member boots and says idle: it is claimable. */
static struct session *ready_member(struct fake *f, const char *sid, int domid)
{
	struct session *s = member(f, sid);

	handshake(f, sid, domid);
	assert_int_equal(s->st, S_IDLE);
	assert_int_equal(s->queued, 1);
	assert_int_equal(wrote(f, MCD_XS_POOL, sid, MCD_XS_K_STATE, "ready"), 1);
	assert_int_equal(sent_to(f, sid, MCD_MSG_LAUNCH2), 0);
	return s;
}

/* A claimed member, as place.c's launch_warm takes it: out of the pool. */
static void take(struct fake *f, struct session *s)
{
	char sid[MCD_SESSION_ID_LEN + 1]; /* s is freed on the way */

	snprintf(sid, sizeof(sid), "%s", s->sid);
	s->pool = 0;
	s->pt = NULL;
	session_end(&f->d, s);
	destroy_done(f, sid, MCD_XS_SESSIONS);
}

static void touch_template(struct fake *f)
{
	struct timespec ts[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };

	assert_int_equal(utimensat(AT_FDCWD, f->tpath, ts, 0), 0);
}

static void test_pool_claims_fifo_and_retires_stale(void **state)
{
	struct fake *f = *state;
	struct session *a = ready_member(f, SID1, 5);
	struct session *b = ready_member(f, SID2, 6);
	struct session *c = ready_member(f, SID3, 7);

	assert_ptr_equal(pool_claim(&f->d, "app", "alice"), a);
	assert_int_equal(a->queued, 0);
	assert_ptr_equal(pool_claim(&f->d, "app", "bob"), b);
	assert_null(pool_claim(&f->d, "other", "alice"));
	take(f, a);
	take(f, b);
	/* The template changed: the last member runs the old one. */
	touch_template(f);
	assert_null(pool_claim(&f->d, "app", "alice"));
	assert_int_equal(c->st, S_DESTROYING);
	assert_int_equal(c->queued, 0);
	destroy_done(f, SID3, MCD_XS_POOL);
}

/* A member whose guest misbehaves while idle is being destroyed: it must
 * never be handed to a user's launch. */
static void test_pool_failed_member_not_claimed(void **state)
{
	struct fake *f = *state;
	struct session *a = ready_member(f, SID1, 5);
	struct session *b = ready_member(f, SID2, 6);

	agent_started(f, SID1, SID1, 12); /* nothing was launched */
	assert_int_equal(a->st, S_DESTROYING);
	assert_ptr_equal(pool_claim(&f->d, "app", "alice"), b);
	take(f, b);
	assert_null(pool_claim(&f->d, "app", "alice"));
	destroy_done(f, SID1, MCD_XS_POOL);
}

static void test_pool_member_domain_died_not_claimed(void **state)
{
	struct fake *f = *state;
	struct session *a = ready_member(f, SID1, 5);

	f->dom_state = DOMAIN_DEAD;
	session_check_domain(&f->d, a);
	assert_int_equal(a->st, S_DESTROYING);
	assert_null(pool_claim(&f->d, "app", "alice"));
	destroy_done(f, SID1, MCD_XS_POOL);
}

/* ---- domains kept for their user ---- */

static void test_keep_for_user(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	s->tmpl.keep_for_user = 1;
	handshake(f, SID1, 5);
	agent_started(f, SID1, SID1, 50);
	agent_exited(f, SID1, 0);
	assert_int_equal(called(f, "store_keep %s alice ready", SID1), 1);
	/* Over for whoever launched it, though its domain lives on. */
	assert_int_equal(called(f, "session_gone %s", SID1), 1);
	assert_int_equal(called_prefix(f, "job_destroy"), 0);
	assert_int_equal(s->st, S_IDLE);
	assert_int_equal(s->pool, 1);
	assert_int_equal(s->kept, 1);
	assert_int_equal(s->queued, 0); /* only for its user */
	assert_null(pool_claim(&f->d, "app", "bob"));
	assert_ptr_equal(pool_claim(&f->d, "app", "alice"), s);
	/* Ending it discards the domain. */
	session_end(&f->d, s);
	destroy_done(f, SID1, MCD_XS_POOL);
}

static void test_keep_for_user_not_recorded_destroys(void **state)
{
	struct fake *f = *state;
	struct waiter w = { .c.fd = -1 };
	struct session *s = cold(f, SID1, &w, 0);

	s->tmpl.keep_for_user = 1;
	f->fail_store_keep = 1;
	handshake(f, SID1, 5);
	agent_started(f, SID1, SID1, 50);
	agent_exited(f, SID1, 0);
	assert_int_equal(s->pool, 0);
	destroy_done(f, SID1, MCD_XS_SESSIONS);
	assert_null(pool_claim(&f->d, "app", "alice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_cold_launch_runs_then_exit_destroys),
		T(test_hello_deadline_fails_and_destroys),
		T(test_garbage_failed_fails_only_its_session),
		T(test_frame_in_wrong_state_fails),
		T(test_started_for_another_session_fails),
		T(test_launch_failed_tells_waiter_why),
		T(test_relay_ready_deadline_fails),
		T(test_relay_ready_in_time_completes),
		T(test_end_while_creating),
		T(test_end_while_creating_create_fails),
		T(test_recovered_running_stays_running),
		T(test_recovered_exited_is_ended),
		T(test_pool_claims_fifo_and_retires_stale),
		T(test_pool_failed_member_not_claimed),
		T(test_pool_member_domain_died_not_claimed),
		T(test_keep_for_user),
		T(test_keep_for_user_not_recorded_destroys),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
