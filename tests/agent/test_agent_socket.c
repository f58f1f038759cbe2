/*
 * test_agent_socket.c - the real mcd-agent binary, driven over its Unix
 * socket stand-in (--transport socket:PATH) the way dom0 drives it over
 * vchan.  Frames are built with mcd_encode() for well-formed requests and
 * packed by hand for the hostile ones; everything the agent sends is read
 * with the same validating reader dom0 uses.
 *
 * Each test starts its own agent and stops it with SIGTERM at the end; the
 * agent must then exit with status 0 (under ASan this also catches leaks).
 * Needs root (the agent switches users; some tests add users).
 *
 * The agent binary is $MCD_AGENT, or ../../guest/mcd-agent relative to this
 * test binary (the build tree layout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcd_proto.h"

#define SID "0123456789abcdef"
#define SID2 "fedcba9876543210"
#define APP_USER "nobody"
#define TIMEOUT_MS 10000

static char agent_path[PATH_MAX];

/* One agent under test. */
struct env {
	char dir[40];
	char sock[80];
	char conf[80];
	char log[80];
	pid_t agent;
};

/* One dom0-side connection. */
struct cli {
	int fd;
	struct mcd_rx rx;
};

static struct env *E; /* the current test's agent, for failure dumps */

/* ---- helpers: time, files, log ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Print the tail of the agent's log: what it said before a failure. */
static void dump_log(void)
{
	char buf[4096];
	ssize_t n;
	off_t size;
	int fd;

	if (!E || (fd = open(E->log, O_RDONLY)) < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0,
	      SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "---- agent log (%s) ----\n%s---- end ----\n",
			E->log, buf);
	}
}

#define FAIL(...)                   \
	do {                        \
		dump_log();         \
		fail_msg(__VA_ARGS__); \
	} while (0)

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* Wait until path exists with content; returns it (static buffer). */
static const char *wait_file(const char *path)
{
	static char buf[4096];
	long end = now_ms() + TIMEOUT_MS;

	for (;;) {
		FILE *f = fopen(path, "r");

		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			if (n > 0 && buf[n - 1] == '\n')
				return buf;
		}
		if (now_ms() > end)
			FAIL("the app did not write %s", path);
		sleep_ms(20);
	}
}

static int log_contains(const char *needle)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(E->log, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

static int user_exists(const char *name)
{
	return getpwnam(name) != NULL;
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Is any live (non-zombie) process left in process group pgid? */
static int group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int alive = 0;

	assert_non_null(d);
	while (!alive && (de = readdir(d))) {
		char path[300], buf[512], *p;
		char state;
		int ppid, pgrp;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
		    pgrp == pgid && state != 'Z')
			alive = 1;
		fclose(f);
	}
	closedir(d);
	return alive;
}

static void wait_group_gone(pid_t pgid)
{
	long end = now_ms() + TIMEOUT_MS;

	while (group_alive(pgid)) {
		if (now_ms() > end)
			FAIL("process group %d still has live processes", pgid);
		sleep_ms(20);
	}
}

/* ---- the agent process ---- */

static void agent_start(struct env *e, int create_users)
{
	char transport[160], conf[64];
	int fd;

	snprintf(e->dir, sizeof(e->dir), "/tmp/mcd-agent-test-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	/* The apps run as an unprivileged user and write their reports
	 * here. */
	assert_int_equal(chmod(e->dir, 01777), 0);
	snprintf(e->sock, sizeof(e->sock), "%s/agent.sock", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/agent.conf", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/agent.log", e->dir);
	snprintf(conf, sizeof(conf), "# test\ncreate_users=%d\n", create_users);
	put_file(e->conf, conf, 0644);
	snprintf(transport, sizeof(transport), "socket:%s", e->sock);
	E = e;

	e->agent = fork();
	assert_true(e->agent >= 0);
	if (e->agent == 0) {
		fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		close(fd);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		signal(SIGPIPE, SIG_DFL);
		/* Must never reach an app. */
		setenv("MCD_AGENT_SECRET", "leaked", 1);
		execl(agent_path, "mcd-agent", "--transport", transport,
		      "--config", e->conf, "--foreground", "-v", (char *)NULL);
		_exit(127);
	}
}

static int agent_alive(struct env *e)
{
	return waitpid(e->agent, NULL, WNOHANG) == 0;
}

/* SIGTERM the agent; it must exit 0 (and leak nothing under ASan). */
static int agent_stop(struct env *e)
{
	long end = now_ms() + TIMEOUT_MS;
	char cmd[160];
	int status = 0;
	pid_t r;

	if (e->agent > 0) {
		kill(e->agent, SIGTERM);
		while ((r = waitpid(e->agent, &status, WNOHANG)) == 0 &&
		       now_ms() < end)
			sleep_ms(10);
		if (r == 0) {
			kill(e->agent, SIGKILL);
			waitpid(e->agent, &status, 0);
			fprintf(stderr, "agent did not stop on SIGTERM\n");
			dump_log();
			return -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "agent ended with status 0x%x\n", status);
			dump_log();
			return -1;
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	E = NULL;
	return run(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	agent_start(e, 0);
	*state = e;
	return 0;
}

static int setup_create(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	agent_start(e, 1);
	*state = e;
	return 0;
}

/* Accounts the tests add; removed in teardown even when a test fails. */
static char created_user[32];

static void remove_test_users(void)
{
	char cmd[96];

	run("userdel -f mcdtoor >/dev/null 2>&1");
	if (created_user[0]) {
		snprintf(cmd, sizeof(cmd), "userdel -r %s >/dev/null 2>&1",
			 created_user);
		run(cmd);
	}
}

static int teardown(void **state)
{
	struct env *e = *state;
	int rc = agent_stop(e);

	remove_test_users();
	free(e);
	return rc;
}

/* ---- helpers: the dom0 side ---- */

static struct cli *cli_connect(struct env *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long end = now_ms() + TIMEOUT_MS;
	struct cli *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	mcd_rx_init(&c->rx);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->sock);
	for (;;) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(c->fd >= 0);
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return c;
		close(c->fd);
		if (!agent_alive(e))
			FAIL("the agent is gone");
		if (now_ms() > end)
			FAIL("cannot connect to the agent at %s", e->sock);
		sleep_ms(10);
	}
}

static void cli_close(struct cli *c)
{
	close(c->fd);
	free(c);
}

static void cli_send_raw(struct cli *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			FAIL("send to agent: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static void cli_send(struct cli *c, const struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf));

	if (n < 0)
		FAIL("test bug: cannot encode %s", mcd_msg_name(m->type));
	cli_send_raw(c, buf, (size_t)n);
}

/*
 * Next message from the agent: 1 with *m, 0 on EOF (the agent closed).
 * A timeout or a frame dom0 would refuse fails the test.
 */
static int cli_recv(struct cli *c, struct mcd_msg *m, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	char err[256];

	for (;;) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		size_t want;
		uint8_t *p = mcd_rx_space(&c->rx, &want);
		long left = end - now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			FAIL("no message from the agent within %d ms",
			     timeout_ms);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(c->fd, p, want, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n < 0)
			FAIL("recv from agent: %s", strerror(errno));
		r = mcd_rx_commit(&c->rx, (size_t)n, MCD_DIR_TO_DOM0, m, err,
				  sizeof(err));
		if (r < 0)
			FAIL("the agent sent a bad frame: %s", err);
		if (r == 1)
			return 1;
	}
}

static struct mcd_msg expect(struct cli *c, uint32_t type)
{
	struct mcd_msg m;

	if (cli_recv(c, &m, TIMEOUT_MS) == 0)
		FAIL("agent closed the channel, expected %s",
		     mcd_msg_name(type));
	if (m.type != type) {
		if (m.type == MCD_MSG_FAILED)
			FAIL("expected %s, got FAILED %s: %s",
			     mcd_msg_name(type), mcd_fail_name(m.u.failed.code),
			     m.u.failed.reason);
		FAIL("expected %s, got %s", mcd_msg_name(type),
		     mcd_msg_name(m.type));
	}
	return m;
}

/* The agent must drop the connection without sending anything more. */
static void expect_eof(struct cli *c)
{
	struct mcd_msg m;

	if (cli_recv(c, &m, TIMEOUT_MS) != 0)
		FAIL("expected the agent to drop the channel, got %s",
		     mcd_msg_name(m.type));
}

static void send_hello(struct cli *c, uint16_t lo, uint16_t hi)
{
	struct mcd_msg h = { .type = MCD_MSG_HELLO };

	h.u.hello.version_min = lo;
	h.u.hello.version_max = hi;
	h.u.hello.role = MCD_ROLE_DOM0;
	cli_send(c, &h);
}

static void expect_agent_hello(struct cli *c)
{
	struct mcd_msg m = expect(c, MCD_MSG_HELLO);

	assert_int_equal(m.u.hello.role, MCD_ROLE_AGENT_LINUX);
	assert_int_equal(m.u.hello.version_min, MCD_PROTO_VERSION_MIN);
	assert_int_equal(m.u.hello.version_max, MCD_PROTO_VERSION_MAX);
}

/* Connect and do the HELLO exchange; the agent's STATUS is copied out. */
struct status {
	uint32_t state;
	int32_t pid, exit_code;
	uint32_t exit_signal;
	char sid[MCD_SESSION_ID_LEN + 1];
};

static struct cli *connect_hello(struct env *e, struct status *st)
{
	struct cli *c = cli_connect(e);
	struct mcd_msg m;

	expect_agent_hello(c);
	send_hello(c, MCD_PROTO_VERSION_MIN, MCD_PROTO_VERSION_MAX);
	m = expect(c, MCD_MSG_STATUS);
	if (st) {
		st->state = m.u.status.state;
		st->pid = m.u.status.pid;
		st->exit_code = m.u.status.exit_code;
		st->exit_signal = m.u.status.exit_signal;
		snprintf(st->sid, sizeof(st->sid), "%s", m.u.status.session_id);
	}
	return c;
}

static struct cli *connect_idle(struct env *e)
{
	struct status st;
	struct cli *c = connect_hello(e, &st);

	if (st.state != MCD_AGENT_IDLE)
		FAIL("agent state %s, expected idle",
		     mcd_agent_state_name(st.state));
	assert_string_equal(st.sid, "");
	return c;
}

static void send_launch(struct cli *c, const char *sid, const char *user,
			const char *display, const char **argv,
			const char **env)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH };

	m.u.launch.session_id = sid;
	m.u.launch.user = user;
	m.u.launch.display = display;
	while (argv[m.u.launch.argc]) {
		m.u.launch.argv[m.u.launch.argc] = argv[m.u.launch.argc];
		m.u.launch.argc++;
	}
	while (env && env[m.u.launch.envc]) {
		m.u.launch.env[m.u.launch.envc] = env[m.u.launch.envc];
		m.u.launch.envc++;
	}
	cli_send(c, &m);
}

/* Launch `/bin/sh -c script` as user; returns the STARTED pid. */
static pid_t launch_sh(struct cli *c, const char *sid, const char *user,
		       const char *script)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct mcd_msg m;

	send_launch(c, sid, user, ":0", argv, NULL);
	m = expect(c, MCD_MSG_STARTED);
	assert_string_equal(m.u.started.session_id, sid);
	assert_true(m.u.started.pid > 0);
	return m.u.started.pid;
}

/* Expect FAILED with code and, if given, the exact reason. */
static void expect_failed(struct cli *c, const char *sid, uint32_t code,
			  const char *reason)
{
	struct mcd_msg m = expect(c, MCD_MSG_FAILED);

	if (m.u.failed.code != code)
		FAIL("FAILED %s (%s), expected %s", mcd_fail_name(m.u.failed.code),
		     m.u.failed.reason, mcd_fail_name(code));
	assert_string_equal(m.u.failed.session_id, sid);
	if (reason)
		assert_string_equal(m.u.failed.reason, reason);
}

static void expect_exited(struct cli *c, const char *sid, int32_t code,
			  uint32_t sig)
{
	struct mcd_msg m = expect(c, MCD_MSG_EXITED);

	assert_string_equal(m.u.exited.session_id, sid);
	if (m.u.exited.exit_code != code || m.u.exited.exit_signal != sig)
		FAIL("EXITED code %d signal %u, expected code %d signal %u",
		     m.u.exited.exit_code, m.u.exited.exit_signal, code, sig);
}

static void send_stop(struct cli *c, const char *sid, uint32_t grace_ms)
{
	struct mcd_msg m = { .type = MCD_MSG_STOP };

	m.u.stop.session_id = sid;
	m.u.stop.grace_ms = grace_ms;
	cli_send(c, &m);
}

/* A hand-packed frame. */
struct raw {
	uint8_t b[1024];
	size_t n;
};

static void raw_u32(struct raw *r, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

static void raw_u16(struct raw *r, uint16_t v)
{
	r->b[r->n++] = (uint8_t)v;
	r->b[r->n++] = (uint8_t)(v >> 8);
}

static void raw_str(struct raw *r, const char *s)
{
	memcpy(r->b + r->n, s, strlen(s) + 1);
	r->n += strlen(s) + 1;
}

static void raw_start(struct raw *r, uint32_t type)
{
	r->n = 0;
	raw_u32(r, type);
	raw_u32(r, 0);
}

static void raw_finish(struct raw *r)
{
	uint32_t len = (uint32_t)(r->n - MCD_HDR_LEN);

	for (int i = 0; i < 4; i++)
		r->b[4 + i] = (uint8_t)(len >> (8 * i));
}

/* After a protocol error: the agent is still there and serves a new
 * dom0 from the start, idle. */
static void expect_recovers(struct env *e)
{
	struct cli *c;

	if (!agent_alive(e))
		FAIL("the agent exited");
	c = connect_idle(e);
	cli_close(c);
	assert_true(agent_alive(e));
}

/* ---- tests: handshake ---- */

static void test_hello_status_idle(void **state)
{
	struct env *e = *state;
	struct status st;
	struct cli *c = connect_hello(e, &st);

	assert_int_equal(st.state, MCD_AGENT_IDLE);
	assert_string_equal(st.sid, "");
	assert_int_equal(st.pid, 0);
	cli_close(c);
	/* And again: the server is offered anew after each client. */
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_IDLE);
	cli_close(c);
}

static void test_fragmented_and_coalesced(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * MCD_MAX_FRAME];
	struct mcd_msg h = { .type = MCD_MSG_HELLO };
	struct mcd_msg l = { .type = MCD_MSG_LAUNCH };
	struct mcd_msg m;
	struct cli *c = cli_connect(e);
	int n1, n2;

	expect_agent_hello(c);
	h.u.hello.version_min = 1;
	h.u.hello.version_max = 1;
	h.u.hello.role = MCD_ROLE_DOM0;
	l.u.launch.session_id = SID;
	l.u.launch.user = APP_USER;
	l.u.launch.display = ":0";
	l.u.launch.argc = 3;
	l.u.launch.argv[0] = "/bin/sh";
	l.u.launch.argv[1] = "-c";
	l.u.launch.argv[2] = "exit 3";
	n1 = mcd_encode(&h, buf, sizeof(buf));
	assert_true(n1 > 0);
	/* HELLO one byte at a time. */
	for (int i = 0; i < n1; i++) {
		cli_send_raw(c, buf + i, 1);
		sleep_ms(2);
	}
	m = expect(c, MCD_MSG_STATUS);
	assert_int_equal(m.u.status.state, MCD_AGENT_IDLE);
	/* LAUNCH in three pieces, split inside the header and the strings. */
	n2 = mcd_encode(&l, buf, sizeof(buf));
	assert_true(n2 > 20);
	cli_send_raw(c, buf, 5);
	sleep_ms(20);
	cli_send_raw(c, buf + 5, 12);
	sleep_ms(20);
	cli_send_raw(c, buf + 17, (size_t)n2 - 17);
	expect(c, MCD_MSG_STARTED);
	expect_exited(c, SID, 3, 0);
	cli_close(c);

	/* HELLO and LAUNCH in one write. */
	c = cli_connect(e);
	expect_agent_hello(c);
	n1 = mcd_encode(&h, buf, sizeof(buf));
	l.u.launch.session_id = SID2;
	n2 = mcd_encode(&l, buf + n1, sizeof(buf) - (size_t)n1);
	assert_true(n1 > 0 && n2 > 0);
	cli_send_raw(c, buf, (size_t)(n1 + n2));
	m = expect(c, MCD_MSG_STATUS);
	assert_int_equal(m.u.status.state, MCD_AGENT_IDLE);
	expect(c, MCD_MSG_STARTED);
	expect_exited(c, SID2, 3, 0);
	cli_close(c);
}

/* ---- tests: launching ---- */

static void test_launch_runs_as_user_with_display(void **state)
{
	struct env *e = *state;
	const char *env[] = { "MCD_TEST_EXTRA=extra-value", NULL };
	char script[1024], out[160], want[128];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct passwd *pw = getpwnam(APP_USER);
	struct mcd_msg m;
	struct cli *c;
	const char *got;

	assert_non_null(pw);
	snprintf(out, sizeof(out), "%s/report", e->dir);
	/* stdout: the console line; the file: identity and environment. */
	snprintf(script, sizeof(script),
		 "echo MCD-CONSOLE-MARK-$(id -u); "
		 "{ id -u; echo \"display=$DISPLAY\"; env; } > %s.tmp && "
		 "mv %s.tmp %s; exit 7", out, out, out);
	c = connect_idle(e);
	send_launch(c, SID, APP_USER, "thinclient-1:12.0", argv, env);
	m = expect(c, MCD_MSG_STARTED);
	assert_string_equal(m.u.started.session_id, SID);
	assert_true(m.u.started.pid > 1);
	expect_exited(c, SID, 7, 0);
	got = wait_file(out);
	snprintf(want, sizeof(want), "%u\ndisplay=thinclient-1:12.0\n",
		 (unsigned)pw->pw_uid);
	if (strncmp(got, want, strlen(want)) != 0)
		FAIL("app report:\n%s\nexpected it to start with:\n%s", got, want);
	if (!strstr(got, "\nMCD_TEST_EXTRA=extra-value\n"))
		FAIL("extra env missing:\n%s", got);
	if (!strstr(got, "\nPATH=/usr/local/bin:/usr/bin:/bin\n"))
		FAIL("PATH not the fixed one:\n%s", got);
	if (!strstr(got, "\nUSER=" APP_USER "\n"))
		FAIL("USER missing:\n%s", got);
	if (strstr(got, "MCD_AGENT_SECRET"))
		FAIL("the agent's own environment reached the app:\n%s", got);
	/* The app's stdout is the agent's (the console). */
	snprintf(want, sizeof(want), "MCD-CONSOLE-MARK-%u\n",
		 (unsigned)pw->pw_uid);
	if (!log_contains(want))
		FAIL("app output did not reach the agent's stdout");
	cli_close(c);

	/* EXITED was delivered, so the next dom0 finds the agent idle. */
	c = connect_idle(e);
	cli_close(c);
}

static void test_launch_root_refused(void **state)
{
	struct env *e = *state;
	const char *argv[] = { "/bin/true", NULL };
	struct raw r;
	struct cli *c;

	/* "root" never passes the decoder: a protocol error, channel
	 * dropped, nothing run. */
	c = connect_idle(e);
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_u32(&r, 0);
	raw_u16(&r, 1);
	raw_u16(&r, 0);
	raw_str(&r, SID);
	raw_str(&r, "root");
	raw_str(&r, ":0");
	raw_str(&r, "/bin/true");
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);

	/* Another name for uid 0 is refused by the agent itself. */
	run("userdel -f mcdtoor >/dev/null 2>&1");
	if (run("useradd -o -u 0 -g 0 -M -N -s /usr/sbin/nologin mcdtoor") != 0)
		FAIL("cannot add the uid-0 test user");
	c = connect_idle(e);
	send_launch(c, SID, "mcdtoor", ":0", argv, NULL);
	expect_failed(c, SID, MCD_FAIL_USER_DENIED, "user mcdtoor has uid 0");
	cli_close(c);
	run("userdel -f mcdtoor >/dev/null 2>&1");
	assert_false(user_exists("mcdtoor"));
}

static void test_unknown_user_not_created(void **state)
{
	struct env *e = *state;
	const char *argv[] = { "/bin/true", NULL };
	struct cli *c;

	run("userdel -r mcdnouser >/dev/null 2>&1");
	c = connect_idle(e);
	send_launch(c, SID, "mcdnouser", ":0", argv, NULL);
	expect_failed(c, SID, MCD_FAIL_NO_USER, "no such user: mcdnouser");
	cli_close(c);
	assert_false(user_exists("mcdnouser"));
}

static void test_unknown_user_created(void **state)
{
	struct env *e = *state;
	char *name = created_user;
	char script[512], out[128], want[64];
	struct cli *c;

	snprintf(created_user, sizeof(created_user), "mcdnew%d",
		 (int)(getpid() % 100000));
	snprintf(script, sizeof(script), "userdel -r %s >/dev/null 2>&1", name);
	run(script);
	assert_false(user_exists(name));
	snprintf(out, sizeof(out), "%s/whoami", e->dir);
	snprintf(script, sizeof(script), "id -un > %s.tmp && mv %s.tmp %s",
		 out, out, out);
	c = connect_idle(e);
	launch_sh(c, SID, name, script);
	expect_exited(c, SID, 0, 0);
	snprintf(want, sizeof(want), "%s\n", name);
	assert_string_equal(wait_file(out), want);
	assert_true(user_exists(name));
	assert_true(getpwnam(name)->pw_uid != 0);
	cli_close(c);
	/* teardown removes the account */
}

static void test_missing_program(void **state)
{
	struct env *e = *state;
	const char *missing[] = { "/nonexistent/app", "--flag", NULL };
	const char *notexec[] = { "/etc/passwd", NULL };
	struct cli *c = connect_idle(e);

	send_launch(c, SID, APP_USER, ":0", missing, NULL);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "no such program: /nonexistent/app");
	send_launch(c, SID, APP_USER, ":0", notexec, NULL);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "not executable by " APP_USER ": /etc/passwd");
	/* Still idle: a good launch works on the same channel. */
	launch_sh(c, SID2, APP_USER, "exit 0");
	expect_exited(c, SID2, 0, 0);
	cli_close(c);
}

static void test_exec_failure(void **state)
{
	struct env *e = *state;
	char path[128], reason[256];
	const char *argv[] = { path, NULL };
	struct cli *c;

	/* Executable, but its interpreter does not exist: only execve()
	 * can tell, after fork. */
	snprintf(path, sizeof(path), "%s/badinterp", e->dir);
	put_file(path, "#!/nonexistent/interpreter\n", 0755);
	snprintf(reason, sizeof(reason), "exec %s: No such file or directory",
		 path);
	c = connect_idle(e);
	send_launch(c, SID, APP_USER, ":0", argv, NULL);
	expect_failed(c, SID, MCD_FAIL_EXEC, reason);
	launch_sh(c, SID2, APP_USER, "exit 1");
	expect_exited(c, SID2, 1, 0);
	cli_close(c);
}

/* ---- tests: running sessions ---- */

static void test_busy(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	pid_t pid = launch_sh(c, SID, APP_USER, "exec /bin/sleep 100");

	{
		const char *argv[] = { "/bin/true", NULL };

		send_launch(c, SID2, APP_USER, ":0", argv, NULL);
	}
	expect_failed(c, SID2, MCD_FAIL_BUSY, "busy with session " SID);
	assert_int_equal(kill(pid, 0), 0);
	send_stop(c, SID, 5000);
	expect_exited(c, SID, -1, SIGTERM);
	cli_close(c);
}

static void test_stop_sigterm_whole_group(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	/* The app and a background child of it, both in its group. */
	pid_t pid = launch_sh(c, SID, APP_USER,
			      "/bin/sleep 100 & /bin/sleep 100; wait");

	sleep_ms(100);
	assert_int_equal(getpgid(pid), pid);
	assert_int_equal(getsid(pid), pid);
	send_stop(c, SID, 5000);
	expect_exited(c, SID, -1, SIGTERM);
	wait_group_gone(pid);
	cli_close(c);
}

static void test_stop_sigkill_after_grace(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	long t0;
	pid_t pid;

	/* Ignores SIGTERM (and its sleep inherits that). */
	pid = launch_sh(c, SID, APP_USER, "trap '' TERM; /bin/sleep 100; :");
	sleep_ms(100);
	t0 = now_ms();
	send_stop(c, SID, 300);
	expect_exited(c, SID, -1, SIGKILL);
	assert_true(now_ms() - t0 >= 250);
	wait_group_gone(pid);
	cli_close(c);
}

static void test_stop_wrong_session(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	pid_t pid;

	send_stop(c, SID2, 0);
	expect_failed(c, SID2, MCD_FAIL_BAD_REQUEST,
		      "no running session " SID2);
	pid = launch_sh(c, SID, APP_USER, "exec /bin/sleep 100");
	send_stop(c, SID2, 0);
	expect_failed(c, SID2, MCD_FAIL_BAD_REQUEST,
		      "no running session " SID2);
	sleep_ms(100);
	assert_int_equal(kill(pid, 0), 0);
	send_stop(c, SID, 0);
	expect_exited(c, SID, -1, SIGTERM);
	cli_close(c);
}

static void test_reconnect_while_running(void **state)
{
	struct env *e = *state;
	struct status st;
	struct cli *c = connect_idle(e);
	pid_t pid = launch_sh(c, SID, APP_USER, "exec /bin/sleep 100");

	cli_close(c); /* dom0's service restarts */
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_RUNNING);
	assert_int_equal(st.pid, pid);
	assert_string_equal(st.sid, SID);
	send_stop(c, SID, 1000);
	expect_exited(c, SID, -1, SIGTERM);
	cli_close(c);
}

static void test_exit_while_disconnected(void **state)
{
	struct env *e = *state;
	char flag[128], script[256];
	struct status st;
	struct cli *c;
	pid_t pid;

	snprintf(flag, sizeof(flag), "%s/go", e->dir);
	snprintf(script, sizeof(script),
		 "while [ ! -e %s ]; do /bin/sleep 0.05; done; exit 5", flag);
	c = connect_idle(e);
	pid = launch_sh(c, SID, APP_USER, script);
	cli_close(c);
	/* Let the app end while nobody listens; wait until it is reaped. */
	put_file(flag, "go\n", 0644);
	{
		long end = now_ms() + TIMEOUT_MS;

		while (kill(pid, 0) == 0) {
			if (now_ms() > end)
				FAIL("the app did not exit");
			sleep_ms(20);
		}
	}
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_EXITED);
	assert_string_equal(st.sid, SID);
	assert_int_equal(st.exit_code, 5);
	assert_int_equal(st.exit_signal, 0);
	cli_close(c);
	/* Not acknowledged yet: reported again. */
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_EXITED);
	assert_int_equal(st.exit_code, 5);
	/* A new LAUNCH acknowledges it; it is not BUSY. */
	launch_sh(c, SID2, APP_USER, "exit 0");
	expect_exited(c, SID2, 0, 0);
	cli_close(c);
	c = connect_idle(e);
	cli_close(c);
}

static void test_stop_after_exit_reported(void **state)
{
	struct env *e = *state;
	struct status st;
	struct cli *c = connect_idle(e);
	pid_t pid = launch_sh(c, SID, APP_USER, "exec /bin/sleep 100");

	cli_close(c);
	kill(pid, SIGKILL); /* the app dies while dom0 is away */
	{
		long end = now_ms() + TIMEOUT_MS;

		while (kill(pid, 0) == 0) {
			if (now_ms() > end)
				FAIL("the app did not exit");
			sleep_ms(20);
		}
	}
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_EXITED);
	assert_int_equal(st.exit_code, -1);
	assert_int_equal(st.exit_signal, SIGKILL);
	/* dom0 asks to stop it anyway: told again how it ended. */
	send_stop(c, SID, 1000);
	expect_exited(c, SID, -1, SIGKILL);
	cli_close(c);
	c = connect_idle(e);
	cli_close(c);
}

/* ---- tests: hostile dom0 ---- */

static void test_garbage(void **state)
{
	struct env *e = *state;
	uint8_t junk[4096];
	uint32_t x = 0x12345678;

	for (int round = 0; round < 5; round++) {
		struct cli *c = cli_connect(e);

		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		junk[3] = 0xee; /* never a known type */
		expect_agent_hello(c);
		cli_send_raw(c, junk, (size_t)(64 << round));
		expect_eof(c);
		cli_close(c);
	}
	expect_recovers(e);
}

static void test_oversized_length(void **state)
{
	struct env *e = *state;
	struct raw r;
	struct cli *c;

	/* Before HELLO, and after it. */
	for (int after_hello = 0; after_hello < 2; after_hello++) {
		if (after_hello) {
			c = connect_idle(e);
		} else {
			c = cli_connect(e);
			expect_agent_hello(c);
		}
		raw_start(&r, MCD_MSG_LAUNCH);
		memset(r.b + r.n, 'A', 512);
		r.n += 512;
		r.b[4] = 0;
		r.b[5] = 0;
		r.b[6] = 0;
		r.b[7] = 0x40; /* 1 GiB */
		cli_send_raw(c, r.b, r.n);
		expect_eof(c);
		cli_close(c);
		expect_recovers(e);
	}
	/* One byte over the limit. */
	c = connect_idle(e);
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_finish(&r);
	r.b[4] = (MCD_MAX_PAYLOAD + 1) & 0xff;
	r.b[5] = ((MCD_MAX_PAYLOAD + 1) >> 8) & 0xff;
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
}

static void test_unknown_type(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	struct raw r;

	raw_start(&r, 0x99);
	raw_u32(&r, 0);
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
}

static void test_wrong_direction(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	struct raw r;

	/* STATUS only travels from the agent to dom0. */
	raw_start(&r, MCD_MSG_STATUS);
	raw_u32(&r, 0);
	raw_u32(&r, 0);
	raw_u32(&r, 0);
	raw_u32(&r, 0);
	raw_str(&r, "");
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
}

static void test_bad_payload(void **state)
{
	struct env *e = *state;
	struct cli *c = connect_idle(e);
	struct raw r;

	/* A LAUNCH whose argv[0] is not an absolute path. */
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_u32(&r, 0);
	raw_u16(&r, 1);
	raw_u16(&r, 0);
	raw_str(&r, SID);
	raw_str(&r, APP_USER);
	raw_str(&r, ":0");
	raw_str(&r, "sh");
	raw_str(&r, "xx"); /* padding to the minimum length */
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
}

static void test_truncated_then_disconnect(void **state)
{
	struct env *e = *state;
	uint8_t buf[MCD_MAX_FRAME];
	const char *argv[] = { "/bin/sh", "-c", "exit 9", NULL };
	struct mcd_msg l = { .type = MCD_MSG_LAUNCH };
	struct cli *c = connect_idle(e);
	int n;

	l.u.launch.session_id = SID;
	l.u.launch.user = APP_USER;
	l.u.launch.display = ":0";
	l.u.launch.argc = 3;
	memcpy(l.u.launch.argv, argv, sizeof(argv));
	n = mcd_encode(&l, buf, sizeof(buf));
	assert_true(n > 0);
	cli_send_raw(c, buf, (size_t)n / 2);
	sleep_ms(50);
	cli_close(c);
	/* The half LAUNCH was never run, and the agent is idle. */
	expect_recovers(e);
	assert_false(log_contains("launch /bin/sh"));
}

static void test_before_hello(void **state)
{
	struct env *e = *state;
	const char *argv[] = { "/bin/true", NULL };
	struct cli *c = cli_connect(e);

	expect_agent_hello(c);
	send_launch(c, SID, APP_USER, ":0", argv, NULL);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
	assert_false(log_contains("launch /bin/true"));
}

static void test_bad_hello(void **state)
{
	struct env *e = *state;
	struct cli *c;
	struct raw r;

	/* No version in common. */
	c = cli_connect(e);
	expect_agent_hello(c);
	send_hello(c, MCD_PROTO_VERSION_MAX + 1, MCD_PROTO_VERSION_MAX + 5);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);

	/* A peer claiming to be an agent. */
	c = cli_connect(e);
	expect_agent_hello(c);
	raw_start(&r, MCD_MSG_HELLO);
	raw_u16(&r, 1);
	raw_u16(&r, 1);
	r.b[r.n++] = MCD_ROLE_AGENT_LINUX;
	r.b[r.n++] = 0;
	r.b[r.n++] = 0;
	r.b[r.n++] = 0;
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);

	/* HELLO twice. */
	c = connect_idle(e);
	send_hello(c, 1, 1);
	expect_eof(c);
	cli_close(c);
	expect_recovers(e);
}

static void test_garbage_while_running(void **state)
{
	struct env *e = *state;
	struct status st;
	struct cli *c = connect_idle(e);
	pid_t pid = launch_sh(c, SID, APP_USER, "exec /bin/sleep 100");

	/* A broken dom0 does not touch the session. */
	cli_send_raw(c, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	expect_eof(c);
	cli_close(c);
	assert_int_equal(kill(pid, 0), 0);
	c = connect_hello(e, &st);
	assert_int_equal(st.state, MCD_AGENT_RUNNING);
	assert_int_equal(st.pid, pid);
	send_stop(c, SID, 1000);
	expect_exited(c, SID, -1, SIGTERM);
	cli_close(c);
}

/* ---- main ---- */

static int find_agent(void)
{
	const char *env = getenv("MCD_AGENT");
	char self[PATH_MAX - 32];
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(agent_path, sizeof(agent_path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return -1;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (!slash)
			return -1;
		*slash = '\0';
		snprintf(agent_path, sizeof(agent_path),
			 "%s/../../guest/mcd-agent", self);
	}
	if (access(agent_path, X_OK) < 0) {
		fprintf(stderr, "agent binary not found: %s\n", agent_path);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_status_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_and_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launch_runs_as_user_with_display, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launch_root_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_not_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_created, setup_create, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_sigterm_whole_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_sigkill_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_wrong_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_while_disconnected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_after_exit_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_then_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_while_running, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_agent_socket: needs root (the agent "
			"switches users); skipped\n");
		return 0;
	}
	if (find_agent() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("mcd-agent over the socket stand-in",
					   tests, NULL, NULL);
}
