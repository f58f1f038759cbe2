/*
 * agent.c - protocol and session state machine (see agent.h).
 */
#include "agent.h"

#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#ifdef _WIN32
/* The Windows agent reports exits in waitpid() format too (see
 * guest/windows-agent/wait_compat.h). */
#include "wait_compat.h"
#else
#include <sys/wait.h>
#endif

void agent_init(struct agent *a, const struct agent_ops *ops, void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->ops = ops;
	a->ctx = ctx;
	a->role = MCD_ROLE_AGENT_LINUX;
	a->state = MCD_AGENT_IDLE;
}

static void set_idle(struct agent *a)
{
	a->state = MCD_AGENT_IDLE;
	a->sid[0] = '\0';
	a->pid = 0;
	a->exit_code = 0;
	a->exit_signal = 0;
	a->exit_reported = 0;
	a->preparing = 0;
	a->ready_sent = 0;
	a->stopping = 0;
	a->kill_at_ms = 0;
}

static void cleanup(struct agent *a)
{
	if (a->ops->cleanup)
		a->ops->cleanup(a->ctx);
}

static int send_msg(struct agent *a, const struct mcd_msg *m)
{
	if (a->ops->send(a->ctx, m) < 0) {
		log_warnx("sending %s to dom0 failed", mcd_msg_name(m->type));
		return -1;
	}
	return 0;
}

static int send_failed(struct agent *a, uint32_t code, const char *sid,
		       const char *reason)
{
	struct mcd_msg m = { .type = MCD_MSG_FAILED };

	m.u.failed.code = code;
	m.u.failed.session_id = sid;
	m.u.failed.reason = reason;
	log_info("session %s: %s: %s", sid, mcd_fail_name(code), reason);
	return send_msg(a, &m);
}

static int send_exited(struct agent *a)
{
	struct mcd_msg m = { .type = MCD_MSG_EXITED };

	m.u.exited.exit_code = a->exit_code;
	m.u.exited.exit_signal = a->exit_signal;
	m.u.exited.session_id = a->sid;
	return send_msg(a, &m);
}

static int send_status(struct agent *a)
{
	struct mcd_msg m = { .type = MCD_MSG_STATUS };

	m.u.status.state = a->state;
	m.u.status.session_id = a->state == MCD_AGENT_IDLE ? "" : a->sid;
	if (a->state == MCD_AGENT_RUNNING)
		m.u.status.pid = a->pid;
	if (a->state == MCD_AGENT_EXITED) {
		m.u.status.exit_code = a->exit_code;
		m.u.status.exit_signal = a->exit_signal;
	}
	return send_msg(a, &m);
}

int agent_connected(struct agent *a)
{
	struct mcd_msg m = { .type = MCD_MSG_HELLO };

	a->connected = 1;
	a->hello_done = 0;
	a->exit_reported = 0;
	m.u.hello.version_min = MCD_PROTO_VERSION_MIN;
	m.u.hello.version_max = MCD_PROTO_VERSION_MAX;
	m.u.hello.role = a->role;
	log_debug("dom0 client connected, sending HELLO");
	return send_msg(a, &m);
}

void agent_disconnected(struct agent *a)
{
	a->connected = 0;
	a->hello_done = 0;
	/* An exit seen only in a STATUS on a lost connection is reported
	 * again on the next one. */
	a->exit_reported = 0;
}

static int handle_hello(struct agent *a, const struct mcd_hello *h)
{
	struct mcd_hello mine = {
		.version_min = MCD_PROTO_VERSION_MIN,
		.version_max = MCD_PROTO_VERSION_MAX,
		.role = a->role,
	};
	int v;

	if (a->hello_done) {
		log_warnx("protocol error: second HELLO from dom0");
		return -1;
	}
	if (h->role != MCD_ROLE_DOM0) {
		log_warnx("protocol error: HELLO with role %u, not dom0",
			  h->role);
		return -1;
	}
	v = mcd_hello_negotiate(&mine, h);
	if (v < 0) {
		log_warnx("protocol error: dom0 speaks versions %u..%u, we "
			  "speak %d..%d", h->version_min, h->version_max,
			  MCD_PROTO_VERSION_MIN, MCD_PROTO_VERSION_MAX);
		return -1;
	}
	a->version = v;
	a->hello_done = 1;
	log_info("dom0 connected (protocol version %d), state %s%s%s", v,
		 mcd_agent_state_name(a->state), a->sid[0] ? ", session " : "",
		 a->sid);
	if (send_status(a) < 0)
		return -1;
	if (a->state == MCD_AGENT_EXITED)
		a->exit_reported = 1;
	return 0;
}

/* dom0 saw the exit in STATUS and moved on: forget the session.  Returns 1
 * if the old session id was sid (so a STOP for it can be answered). */
static int ack_reported_exit(struct agent *a, const char *sid)
{
	int same;

	if (a->state != MCD_AGENT_EXITED || !a->exit_reported)
		return 0;
	same = strcmp(a->sid, sid) == 0;
	log_info("session %s: exit acknowledged, idle", a->sid);
	if (!same)
		set_idle(a);
	return same;
}

/* The outcome of a launch, now or after it was pending. */
static int launch_result(struct agent *a, pid_t pid, uint32_t code,
			 char *reason, size_t reason_len)
{
	struct mcd_msg m = { .type = MCD_MSG_STARTED };
	char sid[MCD_SESSION_ID_LEN + 1];

	a->preparing = 0;
	if (pid <= 0) {
		if (code == 0 || code > MCD_FAIL_MAX)
			code = MCD_FAIL_INTERNAL;
		if (!mcd_valid_reason(reason))
			snprintf(reason, reason_len, "launch failed");
		snprintf(sid, sizeof(sid), "%s", a->sid);
		cleanup(a);
		set_idle(a);
		if (!a->hello_done)
			return 0;
		return send_failed(a, code, sid, reason);
	}
	a->state = MCD_AGENT_RUNNING;
	a->pid = pid;
	a->exit_code = 0;
	a->exit_signal = 0;
	a->stopping = 0;
	a->kill_at_ms = 0;
	log_info("session %s: started pid %d", a->sid, (int)pid);
	if (!a->hello_done)
		return 0; /* reported by STATUS at the next HELLO */
	m.u.started.pid = pid;
	m.u.started.session_id = a->sid;
	return send_msg(a, &m);
}

static int handle_launch(struct agent *a, const struct mcd_launch *l)
{
	char reason[MCD_MAX_REASON_LEN + 1];
	uint32_t code = MCD_FAIL_INTERNAL;
	pid_t pid = 0;
	int r;

	if (ack_reported_exit(a, l->session_id))
		set_idle(a);
	if (a->state != MCD_AGENT_IDLE || a->preparing) {
		snprintf(reason, sizeof(reason), "busy with session %s",
			 a->sid);
		return send_failed(a, MCD_FAIL_BUSY, l->session_id, reason);
	}
	log_info("session %s: launch %s as %s on display %s (%u args, %u env%s%s%s)",
		 l->session_id, l->argv[0], l->user, l->display, l->argc,
		 l->envc, l->flags & MCD_LAUNCH_X_RELAY ? ", X relay" : "",
		 l->flags & MCD_LAUNCH_X_DIRECT ? ", X direct" : "",
		 (l->volume && l->volume[0]) || l->sharec ? ", storage" : "");
	snprintf(a->sid, sizeof(a->sid), "%s", l->session_id);
	a->preparing = 1;
	a->ready_sent = 0;
	reason[0] = '\0';
	r = a->ops->launch(a->ctx, l, &pid, &code, reason, sizeof(reason));
	if (r == 1)
		return 0; /* agent_launch_done() follows */
	return launch_result(a, r < 0 ? 0 : pid, code, reason, sizeof(reason));
}

int agent_launch_done(struct agent *a, pid_t pid, uint32_t code,
		      const char *reason)
{
	char why[MCD_MAX_REASON_LEN + 1];

	if (!a->preparing) {
		log_warnx("internal: launch result without a pending launch");
		return 0;
	}
	snprintf(why, sizeof(why), "%s", reason ? reason : "");
	return launch_result(a, pid, code, why, sizeof(why));
}

int agent_ready(struct agent *a)
{
	struct mcd_msg m = { .type = MCD_MSG_READY };

	if (a->state != MCD_AGENT_RUNNING || a->ready_sent)
		return 0;
	a->ready_sent = 1;
	log_info("session %s: first window mapped, ready", a->sid);
	if (!a->hello_done || a->version < 2)
		return 0;
	m.u.ready.session_id = a->sid;
	return send_msg(a, &m);
}

static int handle_stop(struct agent *a, const struct mcd_stop *s, long now)
{
	char reason[MCD_MAX_REASON_LEN + 1];
	long at;

	if (ack_reported_exit(a, s->session_id)) {
		/* Stopping an app that already ended: say so again. */
		int rc = send_exited(a);

		set_idle(a);
		return rc;
	}
	if (a->state != MCD_AGENT_RUNNING || strcmp(a->sid, s->session_id)) {
		snprintf(reason, sizeof(reason), "no running session %s",
			 s->session_id);
		return send_failed(a, MCD_FAIL_BAD_REQUEST, s->session_id,
				   reason);
	}
	/* Never wrap: a grace period longer than the clock is "wait". */
	at = now + (long)s->grace_ms;
	if (at <= 0)
		at = 1;
	log_info("session %s: stop, SIGTERM to process group %d, SIGKILL in "
		 "%u ms", a->sid, (int)a->pid, s->grace_ms);
	a->ops->signal(a->ctx, a->pid, SIGTERM);
	if (!a->stopping || at < a->kill_at_ms)
		a->kill_at_ms = at;
	a->stopping = 1;
	return 0;
}

int agent_handle(struct agent *a, const struct mcd_msg *m, long now_ms)
{
	if (!a->connected) {
		log_warnx("internal: message without a connection");
		return -1;
	}
	if (m->type == MCD_MSG_HELLO)
		return handle_hello(a, &m->u.hello);
	if (!a->hello_done) {
		log_warnx("protocol error: %s before HELLO",
			  mcd_msg_name(m->type));
		return -1;
	}
	if (mcd_msg_version(m->type) > (unsigned)a->version) {
		log_warnx("protocol error: %s in protocol version %d",
			  mcd_msg_name(m->type), a->version);
		return -1;
	}
	switch (m->type) {
	case MCD_MSG_LAUNCH:
	case MCD_MSG_LAUNCH2:
		return handle_launch(a, &m->u.launch);
	case MCD_MSG_STOP:
		return handle_stop(a, &m->u.stop, now_ms);
	case MCD_MSG_X_DATA:
	case MCD_MSG_X_ACK:
	case MCD_MSG_X_CLOSE:
		if (a->ops->x_message)
			return a->ops->x_message(a->ctx, m);
		break;
	}
	log_warnx("protocol error: unexpected %s from dom0",
		  mcd_msg_name(m->type));
	return -1;
}

int agent_child_exited(struct agent *a, pid_t pid, int wstatus)
{
	if (a->state != MCD_AGENT_RUNNING || pid != a->pid) {
		log_debug("reaped pid %d (not the app)", (int)pid);
		return 0;
	}
	if (WIFEXITED(wstatus)) {
		a->exit_code = WEXITSTATUS(wstatus);
		a->exit_signal = 0;
		log_info("session %s: pid %d exited with code %d", a->sid,
			 (int)pid, a->exit_code);
	} else if (WIFSIGNALED(wstatus)) {
		a->exit_code = -1;
		a->exit_signal = (uint32_t)WTERMSIG(wstatus);
		log_info("session %s: pid %d killed by signal %u", a->sid,
			 (int)pid, a->exit_signal);
	} else {
		return 0; /* stopped or continued: still running */
	}
	/* The session ends with its leader: nothing it started may linger
	 * into the next session of this domain. */
	a->ops->signal(a->ctx, pid, SIGKILL);
	/* Storage synced and unmounted before dom0 hears of the exit: it
	 * destroys the domain on EXITED. */
	cleanup(a);
	a->state = MCD_AGENT_EXITED;
	a->stopping = 0;
	a->kill_at_ms = 0;
	a->exit_reported = 0;
	if (!a->hello_done) {
		log_info("session %s: dom0 not connected, exit kept for its "
			 "next STATUS", a->sid);
		return 0;
	}
	if (send_exited(a) < 0)
		return -1;
	set_idle(a);
	return 0;
}

void agent_timer(struct agent *a, long now_ms)
{
	if (a->state == MCD_AGENT_RUNNING && a->stopping && a->kill_at_ms &&
	    now_ms >= a->kill_at_ms) {
		log_info("session %s: grace period over, SIGKILL to process "
			 "group %d", a->sid, (int)a->pid);
		a->ops->signal(a->ctx, a->pid, SIGKILL);
		a->kill_at_ms = 0;
	}
}

long agent_next_timer(const struct agent *a)
{
	if (a->state == MCD_AGENT_RUNNING && a->stopping)
		return a->kill_at_ms;
	return 0;
}

void agent_shutdown(struct agent *a)
{
	if (a->state == MCD_AGENT_RUNNING) {
		log_info("session %s: agent stopping, SIGTERM to process group "
			 "%d", a->sid, (int)a->pid);
		a->ops->signal(a->ctx, a->pid, SIGTERM);
	}
}

int agent_pump(struct agent *a, struct mcd_rx *rx,
	       ssize_t (*recv)(void *ctx, void *buf, size_t n), void *ctx,
	       long now_ms)
{
	for (;;) {
		struct mcd_msg m;
		char err[256];
		size_t want;
		uint8_t *p = mcd_rx_space(rx, &want);
		ssize_t n = recv(ctx, p, want);
		int r;

		if (n < 0) {
			log_info("dom0 disconnected");
			return -1;
		}
		if (n == 0)
			return 0;
		r = mcd_rx_commit(rx, (size_t)n, MCD_DIR_TO_GUEST, &m, err,
				  sizeof(err));
		if (r < 0) {
			log_warnx("protocol error from dom0: %s; dropping the "
				  "channel", err);
			return -1;
		}
		if (r == 1 && agent_handle(a, &m, now_ms) < 0) {
			log_debug("dropping the channel");
			return -1;
		}
	}
}
