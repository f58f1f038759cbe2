/*
 * session.c - one launch, from domain creation to destruction.
 *
 * Every byte from the guest arrives through mcd_rx_commit(), which validates
 * it against the wire format (mcd_proto.c); this file only checks that each
 * valid message makes sense in the session's current state and names this
 * session.  Anything else is a protocol error that fails this session alone.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "daemon.h"
#include "domain.h"
#include "face.h"
#include "log.h"
#include "mcd_chan.h"
#include "mcd_xs.h"
#include "store.h"
#include "worker.h"
#include "xfwd.h"

#define CONNECT_RETRY_MS 250
#define STOP_GRACE_MS 3000
/* After a restart the agent needs a moment to offer its vchan again. */
#define RECONNECT_TIMEOUT_MS 60000

static void drain(struct daemon *d, struct session *s);

/* Where the session's record lives: the pool until it is claimed. */
#define AREA(s) ((s)->pool ? MCD_XS_POOL : MCD_XS_SESSIONS)

/* Update the session's XenStore record, if it has one yet (a launch that
 * waits for room has none). */
static void rec_set(struct daemon *d, struct session *s, const char *key,
		    const char *value)
{
	if (s->recorded)
		store_set(d->xs, AREA(s), s->sid, key, value);
}

static void rec_set_int(struct daemon *d, struct session *s, const char *key,
			long long value)
{
	if (s->recorded)
		store_set_int(d->xs, AREA(s), s->sid, key, value);
}

struct session *session_new(struct daemon *d, const char *sid)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->rx = malloc(sizeof(*s->rx));
	if (!s->rx) {
		free(s);
		return NULL;
	}
	mcd_rx_init(s->rx);
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	{
		char label[LOG_LIMIT_LABEL_MAX];

		snprintf(label, sizeof(label), "session %s", s->sid);
		log_limit_init(&s->loglim, label);
	}
	s->domid = -1;
	s->next = d->sessions;
	d->sessions = s;
	return s;
}

static void drop_chan(struct session *s)
{
	/* The worker (and the X connections it relays) lives only as long
	 * as the channel. */
	mcd_chan_close(s->chan);
	s->chan = NULL;
	worker_stop(s->wpid, s->sid);
	s->wpid = 0;
	s->hello_done = 0;
	mcd_rx_init(s->rx);
}

void session_free(struct daemon *d, struct session *s)
{
	struct session **pp;

	for (pp = &d->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	face_session_gone(d, s); /* ENDED to its face client; key wiped */
	pool_forget(d, s);
	place_forget(d, s);
	drop_chan(s);
	log_limit_flush(&s->loglim);
	if (s->have_dc)
		libxl_domain_config_dispose(&s->dc);
	if (s->argv) {
		for (char **a = s->argv; *a; a++)
			free(*a);
		free(s->argv);
	}
	/* A session that failed before its LAUNCH still holds the secrets. */
	launchopt_forget(&s->opt);
	if (s->waiter)
		s->waiter->s = NULL;
	if (s->end_waiter)
		s->end_waiter->s = NULL;
	free(s->rx);
	free(s);
}

static void set_state(struct daemon *d, struct session *s,
		      enum session_state st)
{
	static const char *const names[] = {
		[S_CREATING] = MCD_SESSION_STATE_CREATING,
		[S_CONNECTING] = MCD_SESSION_STATE_CONNECTING,
		[S_HELLO] = MCD_SESSION_STATE_CONNECTING,
		[S_LAUNCHING] = MCD_SESSION_STATE_CONNECTING,
		[S_RUNNING] = MCD_SESSION_STATE_RUNNING,
		[S_STOPPING] = MCD_SESSION_STATE_ENDING,
		[S_DESTROYING] = MCD_SESSION_STATE_ENDING,
		[S_IDLE] = MCD_POOL_STATE_READY,
		[S_WAITING] = MCD_SESSION_STATE_CREATING,
		[S_QUEUED] = MCD_SESSION_STATE_QUEUED,
	};
	/* A pool member is "booting" until its agent is idle and connected. */
	const char *from = s->pool && s->st != S_IDLE ? MCD_POOL_STATE_BOOTING
						       : names[s->st];
	const char *to = s->pool && st != S_IDLE ? MCD_POOL_STATE_BOOTING
						 : names[st];

	/* Several internal states share a name: write only real changes. */
	if (strcmp(from, to) != 0 || st == S_CREATING)
		rec_set(d, s, MCD_XS_K_STATE, to);
	s->st = st;
}

/* Tear the domain down; the session is freed when the job reports. */
static void start_destroy(struct daemon *d, struct session *s)
{
	drop_chan(s);
	set_state(d, s, S_DESTROYING);
	if (s->job_running) {
		s->end_after_create = 1;
		return;
	}
	if (s->domid < 0) {
		session_destroyed(d, s);
		return;
	}
	daemon_job_destroy(d, s);
}

void session_fail(struct daemon *d, struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->st == S_DESTROYING)
		return;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	/* Once per session (it ends the session): never dropped, and after
	 * the count of what the limiter held back. */
	log_limit_flush(&s->loglim);
	log_warnx("session %s (domain %d): %s", s->sid, s->domid, s->error);
	rec_set(d, s, MCD_XS_K_ERROR, s->error);
	if (s->waiter) {
		const char *e = s->error;

		client_reply(d, s->waiter, CTL_ERROR, &e, 1);
	}
	start_destroy(d, s);
}

static int send_msg(struct daemon *d, struct session *s, struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf)), rc;

	if (n < 0) {
		session_fail(d, s, "cannot encode %s", mcd_msg_name(m->type));
		return -1;
	}
	rc = mcd_chan_send(s->chan, buf, (size_t)n);
	explicit_bzero(buf, (size_t)n); /* a LAUNCH2 holds the secrets */
	if (rc < 0) {
		session_fail(d, s, "agent did not take %s", mcd_msg_name(m->type));
		return -1;
	}
	return 0;
}

void session_end(struct daemon *d, struct session *s)
{
	struct mcd_msg m = { .type = MCD_MSG_STOP };

	if (s->st == S_DESTROYING || s->st == S_STOPPING)
		return;
	/* A session rebuilt after a restart whose agent is being reached
	 * again: let the agent end the app, so it syncs and unmounts the
	 * user's storage first.  If the agent never answers, the connect
	 * deadline destroys the domain anyway. */
	if (s->recovered && !s->pool && (s->st == S_CONNECTING || s->st == S_HELLO)) {
		s->end_when_connected = 1;
		return;
	}
	if (s->st != S_RUNNING || !s->chan) {
		start_destroy(d, s);
		return;
	}
	m.u.stop.grace_ms = STOP_GRACE_MS;
	m.u.stop.session_id = s->sid;
	if (send_msg(d, s, &m) < 0)
		return;
	set_state(d, s, S_STOPPING);
	/* The agent kills the app after the grace time; allow for the report. */
	s->deadline = now_ms() + STOP_GRACE_MS + 5000;
}

void session_created(struct daemon *d, struct session *s, int rc,
		     uint32_t domid, const char *err)
{
	s->job_running = 0;
	if (s->have_dc) {
		libxl_domain_config_dispose(&s->dc);
		s->have_dc = 0;
	}
	if (rc < 0) {
		/* A failed create leaves no domain behind (domain_create). */
		if (s->st != S_DESTROYING)
			session_fail(d, s, "cannot create domain: %s", err);
		else
			session_destroyed(d, s);
		return;
	}
	s->domid = (int)domid;
	rec_set_int(d, s, MCD_XS_K_DOMID, domid);
	if (s->end_after_create || s->st == S_DESTROYING) {
		daemon_job_destroy(d, s);
		return;
	}
	log_info("session %s: domain %u created from %s", s->sid, domid,
		 s->tmpl.name);
	if (s->waiter)
		client_progress(s->waiter, "domain %u (%s%s) created, waiting for its agent",
				domid, MCD_DOMAIN_PREFIX, s->sid);
	set_state(d, s, S_CONNECTING);
	/* The agent's time counts from the domain's boot, never from the
	 * request: a launch that waited in line (or for room) lost nothing. */
	s->deadline = now_ms() + (long)s->tmpl.agent_timeout_s * 1000;
	s->next_try = now_ms();
}

void session_destroyed(struct daemon *d, struct session *s)
{
	s->job_running = 0;
	store_remove(d->xs, AREA(s), s->sid);
	if (s->waiter) {
		const char *e = s->error[0] ? s->error
					    : "session ended before the app started";

		client_reply(d, s->waiter, CTL_ERROR, &e, 1);
	}
	log_info("session %s ended%s%s", s->sid, s->error[0] ? ": " : "",
		 s->error);
	if (s->end_waiter) {
		const char *sid = s->sid;

		client_reply(d, s->end_waiter, CTL_DONE, &sid, 1);
	}
	session_free(d, s);
}

static void try_connect(struct daemon *d, struct session *s, long now)
{
	char path[96], node[128], err[160];
	struct mcd_msg hello = { .type = MCD_MSG_HELLO };
	unsigned len;
	char *v;

	s->next_try = now + CONNECT_RETRY_MS;
	/* Cheap check first so a booting guest costs one read per try. */
	snprintf(path, sizeof(path), "/local/domain/%d/" MCD_XS_GUEST_VCHAN,
		 s->domid);
	snprintf(node, sizeof(node), "%s/event-channel", path);
	v = xs_read(d->xs, XBT_NULL, node, &len);
	if (!v)
		return;
	free(v);
	/* The worker connects the vchan and serves it from now on; what we
	 * send meanwhile waits in the socketpair. */
	s->chan = worker_start(s->sid, s->domid, &s->wpid, err, sizeof(err));
	if (!s->chan) {
		log_warnx("session %s: %s", s->sid, err);
		return;
	}
	log_debug("session %s: worker %d serves domain %d", s->sid,
		  (int)s->wpid, s->domid);
	hello.u.hello.version_min = MCD_PROTO_VERSION_MIN;
	hello.u.hello.version_max = MCD_PROTO_VERSION_MAX;
	hello.u.hello.role = MCD_ROLE_DOM0;
	s->st = S_HELLO;
	/* An agent that already closed its end may still have left frames in
	 * the ring: read them, so what it said (or garbled) is what we log. */
	if (mcd_chan_state(s->chan) == MCD_CHAN_OPEN && send_msg(d, s, &hello) < 0)
		return;
	drain(d, s);
}

void session_tick(struct daemon *d, struct session *s, long now)
{
	if (s->st == S_CONNECTING && !s->chan && now >= s->next_try)
		try_connect(d, s, now);
	if (s->st == S_RUNNING && s->awaiting_ready && now >= s->ready_deadline) {
		session_fail(d, s, "the app started but showed no window on display %s within %u s",
			     s->display, s->tmpl.ready_timeout_s);
		return;
	}
	if (s->st == S_DESTROYING || s->st == S_CREATING || s->st == S_RUNNING ||
	    s->st == S_IDLE || s->st == S_QUEUED)
		return;
	if (s->st == S_WAITING) {
		daemon_tick_waiting(d, s, now);
		return;
	}
	if (s->job_running) /* a volume job: its end sets the next deadline */
		return;
	if (s->deadline && now >= s->deadline) {
		if (s->st == S_STOPPING) {
			log_warnx("session %s: app did not exit, destroying domain %d",
				  s->sid, s->domid);
			start_destroy(d, s);
		} else if (s->st == S_LAUNCHING) {
			session_fail(d, s, "agent did not report the app started within %u s",
				     s->tmpl.agent_timeout_s);
		} else {
			session_fail(d, s, "agent did not answer within %u s",
				     s->recovered ? RECONNECT_TIMEOUT_MS / 1000
						  : s->tmpl.agent_timeout_s);
		}
	}
}

/* W_XCONF: the relay's target, from the session's own record of the
 * display (resolved when the launch was accepted), never the guest's. */
static int send_xconf(struct daemon *d, struct session *s)
{
	struct mcd_msg m = { .type = MCD_MSG_W_XCONF };
	char addr[INET6_ADDRSTRLEN] = "";

	if (s->xaddr.port == 0 ||
	    getnameinfo((struct sockaddr *)&s->xaddr.sa, s->xaddr.salen, addr,
			sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0) {
		session_fail(d, s, "display %s: %s", s->display,
			     s->xaddr.bad[0] ? s->xaddr.bad
					     : "no address to relay to");
		return -1;
	}
	m.u.wxconf.port = s->xaddr.port;
	m.u.wxconf.tls = s->xaddr.tls ? 1 : 0;
	m.u.wxconf.display = s->xaddr.display;
	m.u.wxconf.host = s->xaddr.host;
	m.u.wxconf.addr = addr;
	return send_msg(d, s, &m);
}

int session_launch(struct daemon *d, struct session *s)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH2 };
	struct mcd_launch *l = &m.u.launch;
	int rc;

	if (s->opt.volume && !s->opt.vdev[0] && s->version >= 2) {
		/* The user's volume first, off the loop; the LAUNCH follows
		 * when the job reports (session_volume_done). */
		set_state(d, s, S_LAUNCHING);
		if (s->waiter)
			client_progress(s->waiter, "attaching the volume of %s",
					s->user);
		daemon_job_volume(d, s, 1);
		return 0;
	}
	if (s->version < 2) {
		if (s->opt.xflags || s->opt.volume || s->opt.nshares) {
			session_fail(d, s, "the agent speaks protocol %d: X11 and user storage need version 2 (re-bake the template with this agent)",
				     s->version);
			return -1;
		}
		m.type = MCD_MSG_LAUNCH;
	} else {
		launchopt_to_launch(&s->opt, l);
	}
	l->session_id = s->sid;
	l->user = s->user;
	l->display = s->display;
	/* Where the worker's relay goes: this launch's display (a kept
	 * domain's last relay belonged to the last launch). */
	s->xlast_error[0] = '\0';
	if ((l->flags & MCD_LAUNCH_X_RELAY) && send_xconf(d, s) < 0)
		return -1;
	s->awaiting_ready = 0;
	for (l->argc = 0; s->argv[l->argc]; l->argc++)
		l->argv[l->argc] = s->argv[l->argc];
	rc = send_msg(d, s, &m);
	/* The secrets were for the agent only; dom0 needs them no longer. */
	launchopt_wipe_secrets(&s->opt);
	if (rc < 0)
		return -1;
	set_state(d, s, S_LAUNCHING);
	s->deadline = now_ms() + (long)s->tmpl.agent_timeout_s * 1000;
	if (s->waiter)
		client_progress(s->waiter, "agent ready, starting %s as %s",
				s->argv[0], s->user);
	return 0;
}

static void record_exit(struct daemon *d, struct session *s, int32_t code,
			uint32_t sig)
{
	char v[32];

	if (sig)
		snprintf(v, sizeof(v), "signal %u", sig);
	else
		snprintf(v, sizeof(v), "code %d", code);
	rec_set(d, s, MCD_XS_K_EXIT, v);
	log_info("session %s: app exited (%s)", s->sid, v);
}

/* The agent's STATUS after HELLO: what to do depends on whether this
 * session is new or was rebuilt after a restart. */
static void on_status(struct daemon *d, struct session *s,
		      const struct mcd_status *st)
{
	if (s->pool) {
		if (st->state != MCD_AGENT_IDLE) {
			session_fail(d, s, "pool member's agent is not idle (%s)",
				     mcd_agent_state_name(st->state));
			return;
		}
		set_state(d, s, S_IDLE);
		pool_member_ready(d, s);
		return;
	}
	if (!s->recovered) {
		if (st->state != MCD_AGENT_IDLE) {
			session_fail(d, s, "agent is not idle (%s)",
				     mcd_agent_state_name(st->state));
			return;
		}
		session_launch(d, s);
		return;
	}
	if (st->state == MCD_AGENT_IDLE || strcmp(st->session_id, s->sid)) {
		session_fail(d, s, "agent no longer runs this session");
		return;
	}
	if (st->state == MCD_AGENT_EXITED) {
		record_exit(d, s, st->exit_code, st->exit_signal);
		start_destroy(d, s);
		return;
	}
	rec_set_int(d, s, MCD_XS_K_PID, st->pid);
	set_state(d, s, S_RUNNING);
	log_limit_info(&s->loglim, "session %s: reconnected to domain %d, app pid %d",
		       s->sid, s->domid, st->pid);
	if (s->end_when_connected)
		session_end(d, s);
}

/* READY: the app's first window is on the thin client; only now does the
 * launch of an X app count as done. */
static void on_ready(struct daemon *d, struct session *s,
		     const struct mcd_ready *r)
{
	char dom[16], pid[16];
	const char *reply[] = { s->sid, dom, pid };

	(void)r; /* its session id was checked by the caller */
	if (!s->opt.xflags && !s->recovered) {
		session_fail(d, s, "guest protocol error: READY without an X mode");
		return;
	}
	/* A late READY (after a restart, or while stopping) changes nothing. */
	if (s->st != S_RUNNING || !s->awaiting_ready)
		return;
	s->awaiting_ready = 0;
	rec_set(d, s, MCD_XS_K_XREADY, "1");
	log_info("session %s: first window shown on %s", s->sid, s->display);
	snprintf(dom, sizeof(dom), "%d", s->domid);
	snprintf(pid, sizeof(pid), "%d", s->pid);
	if (s->waiter)
		client_reply(d, s->waiter, CTL_DONE, reply, 3);
}

/* FAILED during the launch.  A display the agent could not use is named
 * first; when dom0's relay already failed to reach it (TLS refused, say),
 * that is the real reason: the agent only saw its connection close. */
static void on_failed(struct daemon *d, struct session *s,
		      const struct mcd_failed *f)
{
	const char *xerr = s->xlast_error;
	const char *why = f->reason;
	size_t dlen = strlen(s->display);

	if (f->code != MCD_FAIL_DISPLAY) {
		session_fail(d, s, "agent refused the launch: %s (%s)", f->reason,
			     mcd_fail_name(f->code));
		return;
	}
	if (xerr[0] && !strstr(why, xerr)) {
		session_fail(d, s, "display %s: %s (the agent: %s)", s->display,
			     xerr, why);
		return;
	}
	if (xerr[0]) {
		/* The agent passed dom0's reason on: say it once. */
		session_fail(d, s, "display %s: %s", s->display, xerr);
		return;
	}
	/* "display D refused ..." reads "display D: refused ...". */
	if (!strncmp(why, "display ", 8) && !strncmp(why + 8, s->display, dlen) &&
	    (why[8 + dlen] == ' ' || why[8 + dlen] == ':')) {
		why += 8 + dlen;
		why += strspn(why, ": ");
	} else if (strstr(why, s->display)) {
		/* "cannot connect to display D" names it already. */
		session_fail(d, s, "%s", why);
		return;
	}
	session_fail(d, s, "display %s: %s", s->display, why);
}

/* W_XNOTE: what the session's worker says about its relay and itself.
 * The text was checked by the decoder (printable, bounded). */
static void on_note(struct daemon *d, struct session *s,
		    const struct mcd_wxnote *n)
{
	switch (n->kind) {
	case MCD_WX_LAST_ERROR:
		snprintf(s->xlast_error, sizeof(s->xlast_error), "%s", n->text);
		break;
	case MCD_WX_FAILED:
		session_fail(d, s, "%s", n->text);
		break;
	case MCD_WX_LOG:
		log_limit_info(&s->loglim, "session %s: %s", s->sid, n->text);
		break;
	}
}

static void on_msg(struct daemon *d, struct session *s, const struct mcd_msg *m)
{
	const char *sid = NULL;

	if (m->type == MCD_MSG_W_XNOTE) {
		on_note(d, s, &m->u.wxnote);
		return;
	}
	switch (m->type) {
	case MCD_MSG_STARTED: sid = m->u.started.session_id; break;
	case MCD_MSG_EXITED: sid = m->u.exited.session_id; break;
	case MCD_MSG_FAILED: sid = m->u.failed.session_id; break;
	case MCD_MSG_READY: sid = m->u.ready.session_id; break;
	}
	if (sid && strcmp(sid, s->sid) != 0) {
		session_fail(d, s, "guest protocol error: %s names another session",
			     mcd_msg_name(m->type));
		return;
	}
	if (m->type == MCD_MSG_HELLO && !s->hello_done && s->st == S_HELLO) {
		int v = mcd_hello_negotiate(&(struct mcd_hello){
			.version_min = MCD_PROTO_VERSION_MIN,
			.version_max = MCD_PROTO_VERSION_MAX }, &m->u.hello);

		if (v < 0) {
			session_fail(d, s, "agent speaks protocol %u..%u, we speak %d..%d",
				     m->u.hello.version_min, m->u.hello.version_max,
				     MCD_PROTO_VERSION_MIN, MCD_PROTO_VERSION_MAX);
			return;
		}
		s->hello_done = 1;
		s->version = v;
		return;
	}
	if (mcd_msg_version(m->type) > (unsigned)(s->version ? s->version : 1)) {
		session_fail(d, s, "guest protocol error: %s in protocol version %d",
			     mcd_msg_name(m->type), s->version);
		return;
	}
	if (m->type == MCD_MSG_STATUS && s->hello_done && s->st == S_HELLO) {
		on_status(d, s, &m->u.status);
		return;
	}
	if (m->type == MCD_MSG_STARTED && s->st == S_LAUNCHING) {
		char dom[16], pid[16];
		const char *reply[] = { s->sid, dom, pid };

		rec_set_int(d, s, MCD_XS_K_PID, m->u.started.pid);
		set_state(d, s, S_RUNNING);
		s->pid = m->u.started.pid;
		log_info("session %s: %s running as %s (pid %d in domain %d)",
			 s->sid, s->argv[0], s->user, m->u.started.pid, s->domid);
		if (s->opt.xflags) {
			/* The launch is done when the user sees the window. */
			s->awaiting_ready = 1;
			s->ready_deadline = now_ms() +
					    (long)s->tmpl.ready_timeout_s * 1000;
			if (s->waiter)
				client_progress(s->waiter, "app started (pid %d), waiting for its first window",
						m->u.started.pid);
			return;
		}
		snprintf(dom, sizeof(dom), "%d", s->domid);
		snprintf(pid, sizeof(pid), "%d", m->u.started.pid);
		if (s->waiter)
			client_reply(d, s->waiter, CTL_DONE, reply, 3);
		return;
	}
	if (m->type == MCD_MSG_READY) {
		on_ready(d, s, &m->u.ready);
		return;
	}
	if (m->type == MCD_MSG_FAILED && s->st == S_LAUNCHING) {
		on_failed(d, s, &m->u.failed);
		return;
	}
	if (m->type == MCD_MSG_EXITED &&
	    (s->st == S_RUNNING || s->st == S_STOPPING)) {
		record_exit(d, s, m->u.exited.exit_code, m->u.exited.exit_signal);
		if (s->awaiting_ready && s->st == S_RUNNING) {
			session_fail(d, s, "the app exited (%s %d) before its first window was shown on display %s",
				     m->u.exited.exit_signal ? "signal" : "code",
				     m->u.exited.exit_signal ? (int)m->u.exited.exit_signal
							     : m->u.exited.exit_code,
				     s->display);
			return;
		}
		/* The agent is idle again: a template that keeps domains for
		 * their user parks it for that user's next launch. */
		if (s->tmpl.keep_for_user && s->volume[0]) {
			/* Its user's volume is freed before the domain waits
			 * for that user: detach, then keep (volume_done). */
			set_state(d, s, S_STOPPING);
			daemon_job_volume(d, s, 0);
			return;
		}
		if (s->tmpl.keep_for_user && pool_keep(d, s) == 0)
			return;
		start_destroy(d, s);
		return;
	}
	session_fail(d, s, "guest protocol error: unexpected %s",
		     mcd_msg_name(m->type));
}

/* Read and act on every whole frame the agent has sent so far. */
static void drain(struct daemon *d, struct session *s)
{
	char err[160];
	int said_hello;

	if (!s->chan)
		return;
	/* Drain: the reader never takes more than the current frame, and
	 * every frame is validated before it is acted on. */
	while (s->chan && s->st != S_DESTROYING) {
		struct mcd_msg m;
		size_t want;
		uint8_t *p = mcd_rx_space(s->rx, &want);
		ssize_t n = mcd_chan_recv(s->chan, p, want);
		int r;

		if (n < 0)
			goto closed;
		if (n == 0)
			return;
		/* The worker's frames: the agent's, checked again here,
		 * and its own W_XNOTE. */
		r = mcd_rx_commit(s->rx, (size_t)n, MCD_DIR_FROM_WORKER, &m,
				  err, sizeof(err));
		if (r < 0) {
			session_fail(d, s, "guest protocol error: %s", err);
			return;
		}
		if (r > 0)
			on_msg(d, s, &m);
	}
	return;
closed:
	said_hello = s->hello_done; /* drop_chan() forgets it */
	drop_chan(s);
	if (s->st == S_STOPPING || s->st == S_DESTROYING)
		return;
	if (s->st == S_HELLO && !said_hello) {
		/* The worker could not connect the vchan yet (or the agent
		 * went before it said HELLO): try again, within the state's
		 * deadline. */
		s->st = S_CONNECTING;
		s->next_try = now_ms() + CONNECT_RETRY_MS;
		return;
	}
	if (s->st == S_IDLE)
		pool_forget(d, s); /* not claimable until it says idle again */
	if (s->st == S_RUNNING || s->st == S_IDLE) {
		/* The agent restarted or the guest is going away: reconnect
		 * and let STATUS tell; domain death is noticed separately. */
		log_limit_warnx(&s->loglim,
				"session %s: agent channel closed, reconnecting",
				s->sid);
		s->recovered = 1;
		s->deadline = now_ms() + RECONNECT_TIMEOUT_MS;
	}
	if (s->recovered) {
		s->st = S_CONNECTING;
		s->next_try = now_ms() + CONNECT_RETRY_MS;
		return;
	}
	session_fail(d, s, "agent closed the channel during the launch");
}

void session_readable(struct daemon *d, struct session *s)
{
	if (!s->chan)
		return;
	/* Acknowledges the event and hands the agent what was queued for
	 * it; never waits. */
	mcd_chan_ready(s->chan);
	drain(d, s); /* also notices a close */
}

void session_volume_done(struct daemon *d, struct session *s, int attach,
			 int rc, const char *vdev, const char *err)
{
	s->job_running = 0;
	if (s->end_after_create || s->st == S_DESTROYING) {
		/* Ended while the job ran: the domain goes, the volume with it. */
		start_destroy(d, s);
		return;
	}
	if (!attach) {
		if (rc == 0) {
			s->volume[0] = '\0';
			s->opt.vdev[0] = '\0';
			if (pool_keep(d, s) == 0)
				return;
		}
		start_destroy(d, s);
		return;
	}
	if (rc < 0) {
		session_fail(d, s, "cannot attach the volume of %s: %s", s->user,
			     err);
		return;
	}
	snprintf(s->opt.vdev, sizeof(s->opt.vdev), "%s", vdev);
	log_info("session %s: volume %s attached as %s", s->sid, s->volume,
		 vdev);
	session_launch(d, s);
}

void session_check_domain(struct daemon *d, struct session *s)
{
	int st;

	if (s->domid < 0 || s->st == S_DESTROYING || s->job_running)
		return;
	/* A crashed or shut-down domain lingers until someone destroys it:
	 * that is us, since nobody else watches MCD's domains. */
	st = domain_state(d->xen, (uint32_t)s->domid);
	if (st == DOMAIN_GONE)
		s->domid = -1; /* nothing left to destroy */
	if (st == DOMAIN_GONE || st == DOMAIN_DEAD)
		session_fail(d, s, "domain died");
}
