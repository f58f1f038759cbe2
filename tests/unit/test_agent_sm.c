/*
 * test_agent_sm.c - the agent's protocol and session state machine, driven
 * with fake operations: no channel, no processes.  Every message the agent
 * sends goes through mcd_encode() and is decoded again as dom0 would, so a
 * message dom0 would refuse fails the test.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../guest/linux-agent/agent.h"

#define SID "0123456789abcdef"
#define SID2 "fedcba9876543210"
#define MAX_SENT 16
#define MAX_SIGS 16

/* ---- fakes ---- */

struct fake {
	/* send */
	uint8_t frames[MAX_SENT][MCD_MAX_FRAME];
	size_t lens[MAX_SENT];
	int nsent;
	int fail_send;
	/* launch */
	int launches;
	int launch_rc;
	pid_t launch_pid;
	uint32_t launch_code;
	const char *launch_reason;
	char last_user[64];
	/* signal */
	pid_t sig_pgid[MAX_SIGS];
	int sig_num[MAX_SIGS];
	int nsigs;
};

static int fake_send(void *ctx, const struct mcd_msg *m)
{
	struct fake *f = ctx;
	int n;

	if (f->fail_send)
		return -1;
	assert_true(f->nsent < MAX_SENT);
	n = mcd_encode(m, f->frames[f->nsent], MCD_MAX_FRAME);
	if (n < 0)
		fail_msg("agent sent a %s that does not encode",
			 mcd_msg_name(m->type));
	f->lens[f->nsent++] = (size_t)n;
	return 0;
}

static int fake_launch(void *ctx, const struct mcd_launch *req, pid_t *pid,
		       uint32_t *code, char *reason, size_t reason_len)
{
	struct fake *f = ctx;

	f->launches++;
	snprintf(f->last_user, sizeof(f->last_user), "%s", req->user);
	if (f->launch_rc == 0) {
		*pid = f->launch_pid;
		return 0;
	}
	*code = f->launch_code;
	snprintf(reason, reason_len, "%s", f->launch_reason);
	return -1;
}

static void fake_signal(void *ctx, pid_t pgid, int sig)
{
	struct fake *f = ctx;

	assert_true(f->nsigs < MAX_SIGS);
	f->sig_pgid[f->nsigs] = pgid;
	f->sig_num[f->nsigs++] = sig;
}

static const struct agent_ops fake_ops = {
	.send = fake_send, .launch = fake_launch, .signal = fake_signal,
};

struct t {
	struct fake f;
	struct agent a;
	int next; /* next sent frame to check */
};

static int setup(void **state)
{
	static struct t t;

	memset(&t, 0, sizeof(t));
	t.f.launch_pid = 4242;
	agent_init(&t.a, &fake_ops, &t.f);
	*state = &t;
	return 0;
}

/* The next message the agent sent, decoded as dom0 decodes it. */
static struct mcd_msg sent(struct t *t, uint32_t type)
{
	struct mcd_msg m;
	struct mcd_hdr h;
	char err[128];

	if (t->next >= t->f.nsent)
		fail_msg("expected the agent to send %s, it sent nothing more",
			 mcd_msg_name(type));
	mcd_hdr_parse(t->f.frames[t->next], &h);
	assert_int_equal(h.len + MCD_HDR_LEN, t->f.lens[t->next]);
	if (mcd_decode(h.type, MCD_DIR_TO_DOM0,
		       t->f.frames[t->next] + MCD_HDR_LEN, h.len, &m, err,
		       sizeof(err)) < 0)
		fail_msg("dom0 would refuse the agent's %s: %s",
			 mcd_msg_name(h.type), err);
	if (h.type != type)
		fail_msg("agent sent %s, expected %s", mcd_msg_name(h.type),
			 mcd_msg_name(type));
	t->next++;
	return m;
}

static void nothing_sent(struct t *t)
{
	if (t->next != t->f.nsent)
		fail_msg("agent sent %d unexpected message(s)",
			 t->f.nsent - t->next);
}

static struct mcd_msg dom0_hello(uint16_t lo, uint16_t hi, uint8_t role)
{
	struct mcd_msg m = { .type = MCD_MSG_HELLO };

	m.u.hello.version_min = lo;
	m.u.hello.version_max = hi;
	m.u.hello.role = role;
	return m;
}

static struct mcd_msg launch_msg(const char *sid)
{
	static const char *argv[] = { "/usr/bin/app", NULL };
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH };

	m.u.launch.session_id = sid;
	m.u.launch.user = "alice";
	m.u.launch.display = "thin1:0";
	m.u.launch.argc = 1;
	m.u.launch.argv[0] = argv[0];
	return m;
}

static struct mcd_msg stop_msg(const char *sid, uint32_t grace)
{
	struct mcd_msg m = { .type = MCD_MSG_STOP };

	m.u.stop.session_id = sid;
	m.u.stop.grace_ms = grace;
	return m;
}

/* Connect, check HELLO, send dom0's HELLO, return the STATUS. */
static struct mcd_status handshake(struct t *t)
{
	struct mcd_msg h = dom0_hello(1, 1, MCD_ROLE_DOM0);
	struct mcd_msg m;

	assert_int_equal(agent_connected(&t->a), 0);
	m = sent(t, MCD_MSG_HELLO);
	assert_int_equal(m.u.hello.role, MCD_ROLE_AGENT_LINUX);
	assert_int_equal(m.u.hello.version_min, MCD_PROTO_VERSION_MIN);
	assert_int_equal(m.u.hello.version_max, MCD_PROTO_VERSION_MAX);
	assert_int_equal(agent_handle(&t->a, &h, 0), 0);
	m = sent(t, MCD_MSG_STATUS);
	return m.u.status;
}

/* Handshake and start SID as pid 4242. */
static void start_app(struct t *t)
{
	struct mcd_msg l = launch_msg(SID);
	struct mcd_msg m;

	assert_int_equal(handshake(t).state, MCD_AGENT_IDLE);
	assert_int_equal(agent_handle(&t->a, &l, 0), 0);
	m = sent(t, MCD_MSG_STARTED);
	assert_int_equal(m.u.started.pid, 4242);
	assert_string_equal(m.u.started.session_id, SID);
}

/* ---- tests ---- */

static void test_hello_then_status_idle(void **state)
{
	struct t *t = *state;
	struct mcd_status s = handshake(t);

	assert_int_equal(s.state, MCD_AGENT_IDLE);
	assert_string_equal(s.session_id, "");
	assert_int_equal(s.pid, 0);
	assert_int_equal(t->a.version, 1);
	nothing_sent(t);
}

static void test_newer_dom0_negotiates_down(void **state)
{
	struct t *t = *state;
	struct mcd_msg h = dom0_hello(1, 9, MCD_ROLE_DOM0);

	assert_int_equal(agent_connected(&t->a), 0);
	sent(t, MCD_MSG_HELLO);
	assert_int_equal(agent_handle(&t->a, &h, 0), 0);
	sent(t, MCD_MSG_STATUS);
	assert_int_equal(t->a.version, MCD_PROTO_VERSION_MAX);
}

static void test_refuses_before_hello(void **state)
{
	struct t *t = *state;
	struct mcd_msg l = launch_msg(SID);
	struct mcd_msg s = stop_msg(SID, 0);

	assert_int_equal(agent_connected(&t->a), 0);
	sent(t, MCD_MSG_HELLO);
	assert_int_equal(agent_handle(&t->a, &l, 0), -1);
	assert_int_equal(agent_handle(&t->a, &s, 0), -1);
	assert_int_equal(t->f.launches, 0);
	nothing_sent(t);
}

static void test_refuses_bad_hello(void **state)
{
	struct t *t = *state;
	struct mcd_msg too_new = dom0_hello(MCD_PROTO_VERSION_MAX + 1, MCD_PROTO_VERSION_MAX + 4, MCD_ROLE_DOM0);
	struct mcd_msg agent = dom0_hello(1, 1, MCD_ROLE_AGENT_LINUX);
	struct mcd_msg ok = dom0_hello(1, 1, MCD_ROLE_DOM0);

	assert_int_equal(agent_connected(&t->a), 0);
	sent(t, MCD_MSG_HELLO);
	assert_int_equal(agent_handle(&t->a, &too_new, 0), -1);
	assert_int_equal(agent_handle(&t->a, &agent, 0), -1);
	nothing_sent(t);
	/* A second HELLO after a good one is an error too. */
	assert_int_equal(agent_handle(&t->a, &ok, 0), 0);
	sent(t, MCD_MSG_STATUS);
	assert_int_equal(agent_handle(&t->a, &ok, 0), -1);
	nothing_sent(t);
}

static void test_unexpected_type(void **state)
{
	struct t *t = *state;
	struct mcd_msg m = { .type = MCD_MSG_STATUS };

	handshake(t);
	assert_int_equal(agent_handle(&t->a, &m, 0), -1);
}

static void test_launch_and_exit_code(void **state)
{
	struct t *t = *state;
	struct mcd_msg m;

	start_app(t);
	assert_string_equal(t->f.last_user, "alice");
	assert_int_equal(t->a.state, MCD_AGENT_RUNNING);
	/* Some other child (a helper) is not the app. */
	assert_int_equal(agent_child_exited(&t->a, 999, 0), 0);
	nothing_sent(t);
	assert_int_equal(agent_child_exited(&t->a, 4242, 7 << 8), 0);
	m = sent(t, MCD_MSG_EXITED);
	assert_int_equal(m.u.exited.exit_code, 7);
	assert_int_equal(m.u.exited.exit_signal, 0);
	assert_string_equal(m.u.exited.session_id, SID);
	assert_int_equal(t->a.state, MCD_AGENT_IDLE);
	/* What was left of the process group is killed. */
	assert_int_equal(t->f.nsigs, 1);
	assert_int_equal(t->f.sig_pgid[0], 4242);
	assert_int_equal(t->f.sig_num[0], SIGKILL);
}

static void test_exit_by_signal(void **state)
{
	struct t *t = *state;
	struct mcd_msg m;

	start_app(t);
	assert_int_equal(agent_child_exited(&t->a, 4242, SIGSEGV), 0);
	m = sent(t, MCD_MSG_EXITED);
	assert_int_equal(m.u.exited.exit_code, -1);
	assert_int_equal(m.u.exited.exit_signal, SIGSEGV);
}

static void test_launch_failure_passes_code(void **state)
{
	struct t *t = *state;
	struct mcd_msg l = launch_msg(SID);
	struct mcd_msg m;

	t->f.launch_rc = -1;
	t->f.launch_code = MCD_FAIL_NO_PROGRAM;
	t->f.launch_reason = "no such program: /usr/bin/app";
	handshake(t);
	assert_int_equal(agent_handle(&t->a, &l, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_NO_PROGRAM);
	assert_string_equal(m.u.failed.session_id, SID);
	assert_string_equal(m.u.failed.reason, "no such program: /usr/bin/app");
	assert_int_equal(t->a.state, MCD_AGENT_IDLE);

	/* A launcher that gives no usable code or reason still yields a
	 * FAILED dom0 accepts. */
	t->f.launch_code = 0;
	t->f.launch_reason = "bad\x01reason";
	assert_int_equal(agent_handle(&t->a, &l, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_INTERNAL);
	assert_string_equal(m.u.failed.reason, "launch failed");
}

static void test_busy(void **state)
{
	struct t *t = *state;
	struct mcd_msg l2 = launch_msg(SID2);
	struct mcd_msg m;

	start_app(t);
	assert_int_equal(agent_handle(&t->a, &l2, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_BUSY);
	assert_string_equal(m.u.failed.session_id, SID2);
	assert_int_equal(t->f.launches, 1);
	assert_int_equal(t->a.state, MCD_AGENT_RUNNING);
	assert_string_equal(t->a.sid, SID);
}

static void test_stop_term_then_kill(void **state)
{
	struct t *t = *state;
	struct mcd_msg s = stop_msg(SID, 500);
	struct mcd_msg s2 = stop_msg(SID, 5000);
	struct mcd_msg m;

	start_app(t);
	assert_int_equal(agent_next_timer(&t->a), 0);
	assert_int_equal(agent_handle(&t->a, &s, 1000), 0);
	nothing_sent(t); /* EXITED comes from the reaper */
	assert_int_equal(t->f.nsigs, 1);
	assert_int_equal(t->f.sig_pgid[0], 4242);
	assert_int_equal(t->f.sig_num[0], SIGTERM);
	assert_int_equal(agent_next_timer(&t->a), 1500);
	/* A later STOP with a longer grace does not postpone the kill. */
	assert_int_equal(agent_handle(&t->a, &s2, 1100), 0);
	assert_int_equal(agent_next_timer(&t->a), 1500);
	assert_int_equal(t->f.nsigs, 2);

	agent_timer(&t->a, 1499);
	assert_int_equal(t->f.nsigs, 2);
	agent_timer(&t->a, 1500);
	assert_int_equal(t->f.nsigs, 3);
	assert_int_equal(t->f.sig_num[2], SIGKILL);
	assert_int_equal(agent_next_timer(&t->a), 0);
	agent_timer(&t->a, 9999);
	assert_int_equal(t->f.nsigs, 3);

	assert_int_equal(agent_child_exited(&t->a, 4242, SIGKILL), 0);
	m = sent(t, MCD_MSG_EXITED);
	assert_int_equal(m.u.exited.exit_signal, SIGKILL);
	assert_int_equal(t->a.state, MCD_AGENT_IDLE);
	assert_int_equal(agent_next_timer(&t->a), 0);
}

static void test_stop_wrong_session(void **state)
{
	struct t *t = *state;
	struct mcd_msg s = stop_msg(SID2, 0);
	struct mcd_msg m;

	handshake(t);
	/* Nothing running. */
	assert_int_equal(agent_handle(&t->a, &s, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_BAD_REQUEST);
	assert_string_equal(m.u.failed.session_id, SID2);
	/* Another session running: it is left alone. */
	agent_disconnected(&t->a);
	start_app(t);
	assert_int_equal(agent_handle(&t->a, &s, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_BAD_REQUEST);
	assert_int_equal(t->f.nsigs, 0);
	assert_int_equal(t->a.state, MCD_AGENT_RUNNING);
}

static void test_exit_while_away_reported_in_status(void **state)
{
	struct t *t = *state;
	struct mcd_msg l2 = launch_msg(SID2);
	struct mcd_status s;
	struct mcd_msg m;

	start_app(t);
	agent_disconnected(&t->a);
	assert_int_equal(agent_child_exited(&t->a, 4242, 5 << 8), 0);
	nothing_sent(t);
	assert_int_equal(t->a.state, MCD_AGENT_EXITED);

	s = handshake(t);
	assert_int_equal(s.state, MCD_AGENT_EXITED);
	assert_string_equal(s.session_id, SID);
	assert_int_equal(s.exit_code, 5);
	assert_int_equal(s.exit_signal, 0);

	/* dom0 went away again without answering: still reported. */
	agent_disconnected(&t->a);
	s = handshake(t);
	assert_int_equal(s.state, MCD_AGENT_EXITED);
	assert_int_equal(s.exit_code, 5);

	/* A new LAUNCH acknowledges it; no BUSY. */
	assert_int_equal(agent_handle(&t->a, &l2, 0), 0);
	m = sent(t, MCD_MSG_STARTED);
	assert_string_equal(m.u.started.session_id, SID2);
	assert_int_equal(t->a.state, MCD_AGENT_RUNNING);
}

static void test_stop_after_reported_exit(void **state)
{
	struct t *t = *state;
	struct mcd_msg s = stop_msg(SID, 1000);
	struct mcd_status st;
	struct mcd_msg m;

	start_app(t);
	agent_disconnected(&t->a);
	assert_int_equal(agent_child_exited(&t->a, 4242, SIGTERM), 0);
	st = handshake(t);
	assert_int_equal(st.state, MCD_AGENT_EXITED);
	assert_int_equal(st.exit_code, -1);
	assert_int_equal(st.exit_signal, SIGTERM);
	/* STOP of that session: told again how it ended, then idle. */
	assert_int_equal(agent_handle(&t->a, &s, 0), 0);
	m = sent(t, MCD_MSG_EXITED);
	assert_string_equal(m.u.exited.session_id, SID);
	assert_int_equal(m.u.exited.exit_signal, SIGTERM);
	assert_int_equal(t->a.state, MCD_AGENT_IDLE);
	agent_disconnected(&t->a);
	assert_int_equal(handshake(t).state, MCD_AGENT_IDLE);
}

static void test_stop_other_after_reported_exit(void **state)
{
	struct t *t = *state;
	struct mcd_msg s = stop_msg(SID2, 0);
	struct mcd_msg m;

	start_app(t);
	agent_disconnected(&t->a);
	assert_int_equal(agent_child_exited(&t->a, 4242, 0), 0);
	assert_int_equal(handshake(t).state, MCD_AGENT_EXITED);
	assert_int_equal(agent_handle(&t->a, &s, 0), 0);
	m = sent(t, MCD_MSG_FAILED);
	assert_int_equal(m.u.failed.code, MCD_FAIL_BAD_REQUEST);
	assert_int_equal(t->a.state, MCD_AGENT_IDLE);
}

static void test_exit_send_failure_keeps_exit(void **state)
{
	struct t *t = *state;
	struct mcd_status s;

	start_app(t);
	t->f.fail_send = 1;
	assert_int_equal(agent_child_exited(&t->a, 4242, 3 << 8), -1);
	assert_int_equal(t->a.state, MCD_AGENT_EXITED);
	t->f.fail_send = 0;
	agent_disconnected(&t->a);
	s = handshake(t);
	assert_int_equal(s.state, MCD_AGENT_EXITED);
	assert_int_equal(s.exit_code, 3);
}

static void test_exit_before_dom0_hello(void **state)
{
	struct t *t = *state;
	struct mcd_msg h = dom0_hello(1, 1, MCD_ROLE_DOM0);
	struct mcd_msg m;

	start_app(t);
	agent_disconnected(&t->a);
	/* dom0 is connecting again but has not said HELLO yet. */
	assert_int_equal(agent_connected(&t->a), 0);
	sent(t, MCD_MSG_HELLO);
	assert_int_equal(agent_child_exited(&t->a, 4242, 0), 0);
	nothing_sent(t);
	assert_int_equal(agent_handle(&t->a, &h, 0), 0);
	m = sent(t, MCD_MSG_STATUS);
	assert_int_equal(m.u.status.state, MCD_AGENT_EXITED);
	assert_int_equal(m.u.status.exit_code, 0);
}

static void test_running_reported_on_reconnect(void **state)
{
	struct t *t = *state;
	struct mcd_status s;

	start_app(t);
	agent_disconnected(&t->a);
	s = handshake(t);
	assert_int_equal(s.state, MCD_AGENT_RUNNING);
	assert_int_equal(s.pid, 4242);
	assert_string_equal(s.session_id, SID);
}

static void test_send_failure_drops(void **state)
{
	struct t *t = *state;
	struct mcd_msg h = dom0_hello(1, 1, MCD_ROLE_DOM0);

	t->f.fail_send = 1;
	assert_int_equal(agent_connected(&t->a), -1);
	t->f.fail_send = 0;
	assert_int_equal(agent_connected(&t->a), 0);
	sent(t, MCD_MSG_HELLO);
	t->f.fail_send = 1;
	assert_int_equal(agent_handle(&t->a, &h, 0), -1);
}

static void test_shutdown(void **state)
{
	struct t *t = *state;

	agent_shutdown(&t->a);
	assert_int_equal(t->f.nsigs, 0);
	start_app(t);
	agent_shutdown(&t->a);
	assert_int_equal(t->f.nsigs, 1);
	assert_int_equal(t->f.sig_num[0], SIGTERM);
	assert_int_equal(t->f.sig_pgid[0], 4242);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_hello_then_status_idle, setup),
		cmocka_unit_test_setup(test_newer_dom0_negotiates_down, setup),
		cmocka_unit_test_setup(test_refuses_before_hello, setup),
		cmocka_unit_test_setup(test_refuses_bad_hello, setup),
		cmocka_unit_test_setup(test_unexpected_type, setup),
		cmocka_unit_test_setup(test_launch_and_exit_code, setup),
		cmocka_unit_test_setup(test_exit_by_signal, setup),
		cmocka_unit_test_setup(test_launch_failure_passes_code, setup),
		cmocka_unit_test_setup(test_busy, setup),
		cmocka_unit_test_setup(test_stop_term_then_kill, setup),
		cmocka_unit_test_setup(test_stop_wrong_session, setup),
		cmocka_unit_test_setup(test_exit_while_away_reported_in_status, setup),
		cmocka_unit_test_setup(test_stop_after_reported_exit, setup),
		cmocka_unit_test_setup(test_stop_other_after_reported_exit, setup),
		cmocka_unit_test_setup(test_exit_send_failure_keeps_exit, setup),
		cmocka_unit_test_setup(test_exit_before_dom0_hello, setup),
		cmocka_unit_test_setup(test_running_reported_on_reconnect, setup),
		cmocka_unit_test_setup(test_send_failure_drops, setup),
		cmocka_unit_test_setup(test_shutdown, setup),
	};

	return cmocka_run_group_tests_name("agent state machine", tests, NULL,
					   NULL);
}
