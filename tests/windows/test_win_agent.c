/*
 * test_win_agent.c - the real Windows service, mcd-agent.exe, installed
 * and started by Wine's service manager, driven from Linux the way dom0
 * drives an agent: the dom0-side channel code (mcd_chan's TCP client) and
 * the one wire module (mcd_proto: mcd_encode() for good requests, frames
 * packed by hand for hostile ones, everything the service sends read with
 * the validating reader dom0 uses).  The same scenarios as the Linux
 * agent's test_agent_socket: handshake, launches and exit codes, missing
 * programs, refused environment, busy, STOP, dom0 restarts, garbage,
 * oversized, truncated and wrong-direction frames; and the service's own:
 * a stop control while an app runs, the test-only stand-in refused by
 * default, a bad configuration refused.
 *
 * Run by tests/windows/run.sh, which makes the Wine prefix, installs the
 * service with its own "install" verb and starts it with "net start".
 * Environment: MCD_WIN_PORT (the service's tcp:PORT), MCD_WIN_C (the
 * prefix's drive_c on Linux), WINEPREFIX.  What this can and cannot show
 * about a real Windows guest is in guest/windows-agent/README.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcd_chan.h"
#include "mcd_proto.h"

#define SID "0123456789abcdef"
#define SID2 "fedcba9876543210"
#define USER "alice"
#define APP "/c/mcd/mcd-test-app.exe"
#define APP_WIN "C:\\mcd\\mcd-test-app.exe"
#define TIMEOUT_MS 20000

static int port;
static char drive_c[512];
static char log_path[600];
static char conf_path[600];

struct cli {
	struct mcd_chan *ch;
	struct mcd_rx rx;
};

/* ---- helpers ---- */

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

static char *read_file(const char *path, size_t *len)
{
	static char buf[1 << 17];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (len)
		*len = n > 0 ? (size_t)n : 0;
	return buf;
}

static void dump_log(void)
{
	size_t n;
	char *s = read_file(log_path, &n);

	if (s)
		fprintf(stderr, "---- service log (%s), last part ----\n%s"
			"---- end ----\n", log_path, n > 3000 ? s + n - 3000 : s);
}

#define FAIL(...)                      \
	do {                           \
		dump_log();            \
		fail_msg(__VA_ARGS__); \
	} while (0)

static int log_contains(const char *needle)
{
	char *s = read_file(log_path, NULL);

	return s && strstr(s, needle) != NULL;
}

static size_t log_size(void)
{
	struct stat st;

	return stat(log_path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Does the log, from offset `from` on, contain needle? */
static int log_since_contains(size_t from, const char *needle)
{
	size_t n;
	char *s = read_file(log_path, &n);

	return s && from <= n && strstr(s + from, needle) != NULL;
}

/* Linux path of a file in the prefix's C: drive ("mcd/out/x"). */
static void cpath(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", drive_c, rel);
}

static const char *wait_file(const char *rel)
{
	char path[700];
	long end = now_ms() + TIMEOUT_MS;
	char *s;

	cpath(path, sizeof(path), rel);
	while (!(s = read_file(path, NULL)) || !strstr(s, "\nend\n")) {
		if (now_ms() > end)
			FAIL("the app did not write C:/%s", rel);
		sleep_ms(20);
	}
	return s;
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int service(const char *verb)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "timeout 60 wine net %s mcd-agent "
		 ">/dev/null 2>&1", verb);
	return run(cmd);
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- the dom0 side ---- */

static struct cli *cli_try(long timeout_ms)
{
	long end = now_ms() + timeout_ms;
	struct cli *c = calloc(1, sizeof(*c));
	char err[256];

	assert_non_null(c);
	mcd_rx_init(&c->rx);
	while (!(c->ch = mcd_chan_tcp_client(port, err, sizeof(err)))) {
		if (now_ms() > end) {
			free(c);
			return NULL;
		}
		sleep_ms(20);
	}
	return c;
}

static struct cli *cli_connect(void)
{
	struct cli *c = cli_try(TIMEOUT_MS);

	if (!c)
		FAIL("cannot connect to the service on 127.0.0.1:%d", port);
	return c;
}

static void cli_close(struct cli *c)
{
	mcd_chan_close(c->ch);
	free(c);
}

static void cli_send_raw(struct cli *c, const void *buf, size_t n)
{
	if (mcd_chan_send(c->ch, buf, n) < 0 || mcd_chan_sync(c->ch, TIMEOUT_MS) < 0)
		FAIL("send to the service failed");
}

static void cli_send(struct cli *c, const struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf));

	if (n < 0)
		FAIL("test bug: cannot encode %s", mcd_msg_name(m->type));
	cli_send_raw(c, buf, (size_t)n);
}

/* 1 with *m, 0 on EOF; a timeout or a frame dom0 would refuse fails. */
static int cli_recv(struct cli *c, struct mcd_msg *m, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	char err[256];

	for (;;) {
		struct pollfd pfd = { mcd_chan_fd(c->ch), POLLIN, 0 };
		size_t want;
		uint8_t *p = mcd_rx_space(&c->rx, &want);
		long left = end - now_ms();
		ssize_t n;
		int r;

		n = mcd_chan_recv(c->ch, p, want);
		if (n < 0)
			return 0;
		if (n == 0) {
			if (left <= 0)
				FAIL("no message from the service within %d ms",
				     timeout_ms);
			poll(&pfd, 1, (int)(left < 100 ? left : 100));
			continue;
		}
		r = mcd_rx_commit(&c->rx, (size_t)n, MCD_DIR_TO_DOM0, m, err,
				  sizeof(err));
		if (r < 0)
			FAIL("the service sent a bad frame: %s", err);
		if (r == 1)
			return 1;
	}
}

static struct mcd_msg expect(struct cli *c, uint32_t type)
{
	struct mcd_msg m;

	if (cli_recv(c, &m, TIMEOUT_MS) == 0)
		FAIL("the service closed the channel, expected %s",
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

static void expect_eof(struct cli *c)
{
	struct mcd_msg m;

	if (cli_recv(c, &m, TIMEOUT_MS) != 0)
		FAIL("expected the service to drop the channel, got %s",
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

	assert_int_equal(m.u.hello.role, MCD_ROLE_AGENT_WINDOWS);
	assert_int_equal(m.u.hello.version_min, MCD_PROTO_VERSION_MIN);
	assert_int_equal(m.u.hello.version_max, MCD_PROTO_VERSION_MAX);
}

struct status {
	uint32_t state;
	int32_t pid, exit_code;
	uint32_t exit_signal;
	char sid[MCD_SESSION_ID_LEN + 1];
};

static struct cli *connect_hello(struct status *st)
{
	struct cli *c = cli_connect();
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

static struct cli *connect_idle(void)
{
	struct status st;
	struct cli *c = connect_hello(&st);

	if (st.state != MCD_AGENT_IDLE)
		FAIL("service state %s, expected idle",
		     mcd_agent_state_name(st.state));
	assert_string_equal(st.sid, "");
	return c;
}

static void send_launch_env(struct cli *c, const char *sid,
			    const char *display, const char **argv,
			    const char **env)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH };

	m.u.launch.session_id = sid;
	m.u.launch.user = USER;
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

static void send_launch(struct cli *c, const char *sid, const char **argv)
{
	send_launch_env(c, sid, ":0", argv, NULL);
}

static int32_t launch_ok(struct cli *c, const char *sid, const char **argv)
{
	struct mcd_msg m;

	send_launch(c, sid, argv);
	m = expect(c, MCD_MSG_STARTED);
	assert_string_equal(m.u.started.session_id, sid);
	assert_true(m.u.started.pid > 0);
	return m.u.started.pid;
}

static void expect_failed(struct cli *c, const char *sid, uint32_t code,
			  const char *reason)
{
	struct mcd_msg m = expect(c, MCD_MSG_FAILED);

	if (m.u.failed.code != code)
		FAIL("FAILED %s (%s), expected %s",
		     mcd_fail_name(m.u.failed.code), m.u.failed.reason,
		     mcd_fail_name(code));
	assert_string_equal(m.u.failed.session_id, sid);
	if (reason && strcmp(reason, m.u.failed.reason) != 0)
		FAIL("FAILED reason '%s', expected '%s'", m.u.failed.reason,
		     reason);
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

/* Nobody serves: a connection (the port may linger in the kernel for a
 * moment) never gets a HELLO. */
static void expect_no_service(const char *why)
{
	struct cli *c = cli_try(300);
	struct mcd_msg m;
	long end = now_ms() + 1000;

	if (!c)
		return;
	while (now_ms() < end) {
		uint8_t *p;
		size_t want;
		ssize_t n;

		p = mcd_rx_space(&c->rx, &want);
		n = mcd_chan_recv(c->ch, p, want);
		if (n < 0)
			break;
		if (n > 0 && mcd_rx_commit(&c->rx, (size_t)n, MCD_DIR_TO_DOM0,
					   &m, NULL, 0) != 0)
			FAIL("%s", why);
		sleep_ms(20);
	}
	cli_close(c);
}

/* After a protocol error the service still serves a new dom0, idle. */
static void expect_recovers(void)
{
	struct cli *c = connect_idle();

	cli_close(c);
}

/* ---- fixtures ---- */

/* The service runs and serves; a test that failed half-way may have left
 * an app running: stop it, so every test starts idle. */
static int setup(void **state)
{
	struct status st;
	struct cli *c;

	(void)state;
	c = cli_try(2000);
	if (!c) {
		service("start");
		c = cli_try(TIMEOUT_MS);
		if (!c)
			return -1;
	}
	cli_close(c);
	c = connect_hello(&st);
	if (st.state == MCD_AGENT_RUNNING) {
		send_stop(c, st.sid, 0);
		expect(c, MCD_MSG_EXITED);
	} else if (st.state == MCD_AGENT_EXITED) {
		send_stop(c, st.sid, 0);
		expect(c, MCD_MSG_EXITED);
	}
	cli_close(c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return 0;
}

/* ---- tests: handshake ---- */

static void test_hello_status_idle(void **state)
{
	struct status st;
	struct cli *c;

	(void)state;
	c = connect_hello(&st);
	assert_int_equal(st.state, MCD_AGENT_IDLE);
	assert_int_equal(st.pid, 0);
	cli_close(c);
	/* And again: a new server after each client. */
	c = connect_hello(&st);
	assert_int_equal(st.state, MCD_AGENT_IDLE);
	cli_close(c);
}

static void test_fragmented_and_coalesced(void **state)
{
	const char *argv[] = { APP, "exit", "3", NULL };
	uint8_t buf[2 * MCD_MAX_FRAME];
	struct mcd_msg h = { .type = MCD_MSG_HELLO };
	struct mcd_msg l = { .type = MCD_MSG_LAUNCH };
	struct mcd_msg m;
	struct cli *c = cli_connect();
	int n1, n2;

	(void)state;
	expect_agent_hello(c);
	h.u.hello.version_min = 1;
	h.u.hello.version_max = 1;
	h.u.hello.role = MCD_ROLE_DOM0;
	l.u.launch.session_id = SID;
	l.u.launch.user = USER;
	l.u.launch.display = ":0";
	l.u.launch.argc = 3;
	memcpy(l.u.launch.argv, argv, sizeof(argv));
	n1 = mcd_encode(&h, buf, sizeof(buf));
	assert_true(n1 > 0);
	for (int i = 0; i < n1; i++) {
		cli_send_raw(c, buf + i, 1);
		sleep_ms(2);
	}
	m = expect(c, MCD_MSG_STATUS);
	assert_int_equal(m.u.status.state, MCD_AGENT_IDLE);
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

	c = cli_connect();
	expect_agent_hello(c);
	l.u.launch.session_id = SID2;
	n1 = mcd_encode(&h, buf, sizeof(buf));
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

static void test_launch_argv_env_exit_code(void **state)
{
	const char *env[] = { "MCD_TEST_EXTRA=extra-value", NULL };
	/* Arguments that a careless command line would mangle. */
	const char *argv[] = {
		APP, "report", "C:\\mcd\\out\\r1.txt", "7", "two words",
		"q\"uote", "trail\\", "back\\\\\"q", "", "tab\there",
		"caf\xc3\xa9", NULL,
	};
	char out[700];
	struct cli *c;
	const char *got;

	(void)state;
	cpath(out, sizeof(out), "mcd/out/r1.txt");
	unlink(out);
	c = connect_idle();
	send_launch_env(c, SID, "thinclient-1:12.0", argv, env);
	expect(c, MCD_MSG_STARTED);
	expect_exited(c, SID, 7, 0);
	got = wait_file("mcd/out/r1.txt");
	if (!strstr(got, "argc=11\nargv[0]=" APP_WIN "\nargv[1]=report\n"
			 "argv[2]=C:\\mcd\\out\\r1.txt\nargv[3]=7\n"
			 "argv[4]=two words\nargv[5]=q\"uote\n"
			 "argv[6]=trail\\\nargv[7]=back\\\\\"q\nargv[8]=\n"
			 "argv[9]=tab\there\nargv[10]=caf\xc3\xa9\n"))
		FAIL("the app's argv differs from the request:\n%s", got);
	if (!strstr(got, "\nDISPLAY=thinclient-1:12.0\n"))
		FAIL("DISPLAY missing:\n%s", got);
	if (!strstr(got, "\nMCD_TEST_EXTRA=extra-value\n"))
		FAIL("extra env missing:\n%s", got);
	cli_close(c);
	/* EXITED was delivered: the next dom0 finds the service idle. */
	expect_recovers();
}

static void test_exit_codes(void **state)
{
	const char *zero[] = { APP, "exit", "0", NULL };
	const char *big[] = { APP, "exit", "255", NULL };
	const char *huge[] = { APP, "exit", "4660", NULL };
	const char *crash[] = { APP, "crash", NULL };
	struct cli *c = connect_idle();

	(void)state;
	launch_ok(c, SID, zero);
	expect_exited(c, SID, 0, 0);
	launch_ok(c, SID, big);
	expect_exited(c, SID, 255, 0);
	/* Codes over 255 do not fit the protocol: 255, the real one logged. */
	launch_ok(c, SID, huge);
	expect_exited(c, SID, 255, 0);
	/* An access violation is reported as SIGSEGV. */
	launch_ok(c, SID, crash);
	expect_exited(c, SID, -1, SIGSEGV);
	cli_close(c);
	if (!log_contains("ended with 0x00001234, reported as code 255"))
		FAIL("the real exit code was not logged");
}

static void test_missing_program(void **state)
{
	const char *missing[] = { "/c/mcd/nonexistent.exe", "--flag", NULL };
	const char *linux_path[] = { "/usr/bin/xterm", NULL };
	const char *batch[] = { "/c/mcd/run.bat", NULL };
	const char *stream[] = { "/c/mcd/x.exe:evil.exe", NULL };
	const char *device[] = { "/c/mcd/nul.exe", NULL };
	const char *dir[] = { "/c/mcd/dir.exe", NULL };
	const char *ok[] = { APP, "exit", "0", NULL };
	char path[700];
	struct cli *c = connect_idle();

	(void)state;
	cpath(path, sizeof(path), "mcd/dir.exe");
	mkdir(path, 0755);
	send_launch(c, SID, missing);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "no such program: C:\\mcd\\nonexistent.exe");
	send_launch(c, SID, linux_path);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "no such program: /usr/bin/xterm (name Windows programs "
		      "as /c/path/app.exe)");
	send_launch(c, SID, batch);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "not a Windows program (.exe): /c/mcd/run.bat");
	send_launch(c, SID, stream);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM, NULL);
	send_launch(c, SID, device);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM, NULL);
	send_launch(c, SID, dir);
	expect_failed(c, SID, MCD_FAIL_NO_PROGRAM,
		      "not a file: C:\\mcd\\dir.exe");
	/* Still idle: a good launch works on the same channel. */
	launch_ok(c, SID2, ok);
	expect_exited(c, SID2, 0, 0);
	cli_close(c);
}

static void test_env_refused(void **state)
{
	const char *argv[] = { APP, "exit", "0", NULL };
	const char *path_env[] = { "Path=C:\\evil", NULL };
	const char *cor[] = { "COR_PROFILER_PATH=C:\\evil.dll", NULL };
	struct cli *c = connect_idle();

	(void)state;
	send_launch_env(c, SID, ":0", argv, path_env);
	expect_failed(c, SID, MCD_FAIL_BAD_REQUEST,
		      "environment variable Path may not be set on Windows");
	send_launch_env(c, SID, ":0", argv, cor);
	expect_failed(c, SID, MCD_FAIL_BAD_REQUEST, NULL);
	cli_close(c);
}

/* LAUNCH2 asks for what a Windows guest cannot give: each is refused with
 * its own code and reason, and a plain LAUNCH2 still runs. */
static void test_launch2_x_and_storage_refused(void **state)
{
	const char *argv[] = { APP, "exit", "0", NULL };
	struct mcd_share sh = { "cifs", "//srv/alice", "docs", "alice", "pw" };
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH2 };
	struct cli *c = connect_idle();

	(void)state;
	m.u.launch.session_id = SID;
	m.u.launch.user = USER;
	m.u.launch.display = "thin:0";
	m.u.launch.xcookie = "";
	m.u.launch.volume = "";
	m.u.launch.argc = 3;
	memcpy(m.u.launch.argv, argv, sizeof(argv));
	m.u.launch.flags = MCD_LAUNCH_X_RELAY;
	cli_send(c, &m);
	expect_failed(c, SID, MCD_FAIL_DISPLAY,
		      "X11 relay mode is not available on Windows guests (launch with --x none)");
	m.u.launch.flags = 0;
	m.u.launch.volume = "xvdc";
	cli_send(c, &m);
	expect_failed(c, SID, MCD_FAIL_STORAGE, NULL);
	m.u.launch.volume = "";
	m.u.launch.sharec = 1;
	m.u.launch.share[0] = sh;
	cli_send(c, &m);
	expect_failed(c, SID, MCD_FAIL_STORAGE, NULL);
	m.u.launch.sharec = 0;
	cli_send(c, &m);
	expect(c, MCD_MSG_STARTED);
	expect_exited(c, SID, 0, 0);
	cli_close(c);
}

static void test_root_refused_by_decoder(void **state)
{
	struct raw r;
	struct cli *c = connect_idle();

	(void)state;
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_u32(&r, 0);
	raw_u16(&r, 1);
	raw_u16(&r, 0);
	raw_str(&r, SID);
	raw_str(&r, "root");
	raw_str(&r, ":0");
	raw_str(&r, APP);
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
}

/* ---- tests: running sessions ---- */

static void test_busy_and_stop(void **state)
{
	const char *sleeper[] = { APP, "sleep", "100000", NULL };
	const char *other[] = { APP, "exit", "0", NULL };
	struct cli *c = connect_idle();
	long t0;

	(void)state;
	launch_ok(c, SID, sleeper);
	send_launch(c, SID2, other);
	expect_failed(c, SID2, MCD_FAIL_BUSY, "busy with session " SID);
	send_stop(c, SID2, 0);
	expect_failed(c, SID2, MCD_FAIL_BAD_REQUEST,
		      "no running session " SID2);
	/* A console app has no window to close: ended after the grace. */
	t0 = now_ms();
	send_stop(c, SID, 300);
	expect_exited(c, SID, -1, SIGKILL);
	assert_true(now_ms() - t0 >= 250);
	cli_close(c);
	expect_recovers();
}

static void test_stop_ends_whole_job(void **state)
{
	const char *spawner[] = { APP, "spawn-sleep", "100000",
				  "C:\\mcd\\out\\child.pid", NULL };
	char pid_path[700], pid[32], *s;
	const char *alive[] = { APP, "alive", pid, NULL };
	long end = now_ms() + TIMEOUT_MS;
	struct cli *c;

	(void)state;
	cpath(pid_path, sizeof(pid_path), "mcd/out/child.pid");
	unlink(pid_path);
	c = connect_idle();
	launch_ok(c, SID, spawner);
	while (!(s = read_file(pid_path, NULL)) || !strchr(s, '\n')) {
		if (now_ms() > end)
			FAIL("the app did not start its child");
		sleep_ms(20);
	}
	snprintf(pid, sizeof(pid), "%.*s", (int)strcspn(s, "\r\n"), s);
	send_stop(c, SID, 0);
	expect_exited(c, SID, -1, SIGKILL);
	/* The child was in the app's job: it is gone too. */
	launch_ok(c, SID2, alive);
	expect_exited(c, SID2, 0, 0);
	cli_close(c);
}

static void test_reconnect_while_running(void **state)
{
	const char *sleeper[] = { APP, "sleep", "100000", NULL };
	struct status st;
	struct cli *c = connect_idle();
	int32_t pid;

	(void)state;
	pid = launch_ok(c, SID, sleeper);
	cli_close(c); /* dom0's service restarts */
	c = connect_hello(&st);
	assert_int_equal(st.state, MCD_AGENT_RUNNING);
	assert_int_equal(st.pid, pid);
	assert_string_equal(st.sid, SID);
	send_stop(c, SID, 0);
	expect_exited(c, SID, -1, SIGKILL);
	cli_close(c);
}

static void test_exit_while_disconnected(void **state)
{
	const char *waiter[] = { APP, "wait", "C:\\mcd\\out\\go", "5", NULL };
	char flag[700];
	struct status st;
	struct cli *c;
	long end;

	(void)state;
	cpath(flag, sizeof(flag), "mcd/out/go");
	unlink(flag);
	c = connect_idle();
	launch_ok(c, SID, waiter);
	cli_close(c);
	close(open(flag, O_WRONLY | O_CREAT, 0644));
	/* Reconnect until the service has seen the exit. */
	end = now_ms() + TIMEOUT_MS;
	for (;;) {
		c = connect_hello(&st);
		if (st.state == MCD_AGENT_EXITED)
			break;
		cli_close(c);
		if (now_ms() > end)
			FAIL("the app did not exit while dom0 was away");
		sleep_ms(100);
	}
	assert_string_equal(st.sid, SID);
	assert_int_equal(st.exit_code, 5);
	assert_int_equal(st.exit_signal, 0);
	cli_close(c);
	/* Not acknowledged yet: reported again; a STOP acknowledges it. */
	c = connect_hello(&st);
	assert_int_equal(st.state, MCD_AGENT_EXITED);
	send_stop(c, SID, 0);
	expect_exited(c, SID, 5, 0);
	cli_close(c);
	expect_recovers();
	unlink(flag);
}

/* ---- tests: hostile dom0 ---- */

static void test_garbage(void **state)
{
	uint8_t junk[4096];
	uint32_t x = 0x12345678;

	(void)state;
	for (int round = 0; round < 5; round++) {
		struct cli *c = cli_connect();

		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		junk[3] = 0xee;
		expect_agent_hello(c);
		cli_send_raw(c, junk, (size_t)(64 << round));
		expect_eof(c);
		cli_close(c);
	}
	expect_recovers();
}

static void test_oversized_length(void **state)
{
	struct raw r;
	struct cli *c;

	(void)state;
	for (int after_hello = 0; after_hello < 2; after_hello++) {
		if (after_hello) {
			c = connect_idle();
		} else {
			c = cli_connect();
			expect_agent_hello(c);
		}
		raw_start(&r, MCD_MSG_LAUNCH);
		memset(r.b + r.n, 'A', 512);
		r.n += 512;
		r.b[7] = 0x40; /* 1 GiB */
		cli_send_raw(c, r.b, r.n);
		expect_eof(c);
		cli_close(c);
		expect_recovers();
	}
	c = connect_idle();
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_finish(&r);
	r.b[4] = (MCD_MAX_PAYLOAD + 1) & 0xff;
	r.b[5] = ((MCD_MAX_PAYLOAD + 1) >> 8) & 0xff;
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
}

static void test_unknown_type_and_wrong_direction(void **state)
{
	struct cli *c = connect_idle();
	struct raw r;

	(void)state;
	raw_start(&r, 0x99);
	raw_u32(&r, 0);
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers();

	c = connect_idle();
	raw_start(&r, MCD_MSG_STATUS);
	for (int i = 0; i < 4; i++)
		raw_u32(&r, 0);
	raw_str(&r, "");
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
}

static void test_bad_payload(void **state)
{
	struct cli *c = connect_idle();
	struct raw r;

	(void)state;
	raw_start(&r, MCD_MSG_LAUNCH);
	raw_u32(&r, 0);
	raw_u16(&r, 1);
	raw_u16(&r, 0);
	raw_str(&r, SID);
	raw_str(&r, USER);
	raw_str(&r, ":0");
	raw_str(&r, "sh");
	raw_str(&r, "xx");
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
}

static void test_truncated_then_disconnect(void **state)
{
	const char *argv[] = { APP, "exit", "9", NULL };
	uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg l = { .type = MCD_MSG_LAUNCH };
	size_t mark = log_size();
	struct cli *c = connect_idle();
	int n;

	(void)state;
	l.u.launch.session_id = SID;
	l.u.launch.user = USER;
	l.u.launch.display = ":0";
	l.u.launch.argc = 3;
	memcpy(l.u.launch.argv, argv, sizeof(argv));
	n = mcd_encode(&l, buf, sizeof(buf));
	assert_true(n > 0);
	cli_send_raw(c, buf, (size_t)n / 2);
	sleep_ms(50);
	cli_close(c);
	expect_recovers();
	if (log_since_contains(mark, "launch " APP))
		FAIL("half a LAUNCH was run");
}

static void test_before_hello_and_bad_hello(void **state)
{
	const char *argv[] = { APP, "exit", "0", NULL };
	size_t mark = log_size();
	struct cli *c;
	struct raw r;

	(void)state;
	c = cli_connect();
	expect_agent_hello(c);
	send_launch(c, SID, argv);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
	if (log_since_contains(mark, "launch " APP))
		FAIL("a LAUNCH before HELLO was run");

	c = cli_connect();
	expect_agent_hello(c);
	send_hello(c, MCD_PROTO_VERSION_MAX + 1, MCD_PROTO_VERSION_MAX + 5);
	expect_eof(c);
	cli_close(c);

	c = cli_connect();
	expect_agent_hello(c);
	raw_start(&r, MCD_MSG_HELLO);
	raw_u16(&r, 1);
	raw_u16(&r, 1);
	r.b[r.n++] = MCD_ROLE_AGENT_WINDOWS;
	r.b[r.n++] = 0;
	r.b[r.n++] = 0;
	r.b[r.n++] = 0;
	raw_finish(&r);
	cli_send_raw(c, r.b, r.n);
	expect_eof(c);
	cli_close(c);

	c = connect_idle();
	send_hello(c, 1, 1);
	expect_eof(c);
	cli_close(c);
	expect_recovers();
}

static void test_garbage_while_running(void **state)
{
	const char *sleeper[] = { APP, "sleep", "100000", NULL };
	struct status st;
	struct cli *c = connect_idle();
	int32_t pid;

	(void)state;
	pid = launch_ok(c, SID, sleeper);
	cli_send_raw(c, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	expect_eof(c);
	cli_close(c);
	c = connect_hello(&st);
	assert_int_equal(st.state, MCD_AGENT_RUNNING);
	assert_int_equal(st.pid, pid);
	send_stop(c, SID, 0);
	expect_exited(c, SID, -1, SIGKILL);
	cli_close(c);
}

/* ---- tests: the service ---- */

static void test_service_stop_while_running(void **state)
{
	const char *sleeper[] = { APP, "sleep", "100000", NULL };
	struct cli *c = connect_idle();
	pid_t stopper;
	int status;

	(void)state;
	launch_ok(c, SID, sleeper);
	/* "net stop" waits for the service: run it beside us. */
	stopper = fork();
	assert_true(stopper >= 0);
	if (stopper == 0)
		_exit(service("stop") == 0 ? 0 : 1);
	/* The app is ended and dom0 told, then the channel closes. */
	expect_exited(c, SID, -1, SIGKILL);
	expect_eof(c);
	cli_close(c);
	assert_int_equal(waitpid(stopper, &status, 0), stopper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("net stop mcd-agent failed");
	if (!log_contains("stop control from the service manager"))
		FAIL("the service did not log the stop control");
	/* dom0 can no longer connect; after a start it can again. */
	expect_no_service("the stopped service still answers");
	if (service("start") != 0)
		FAIL("net start mcd-agent failed");
	expect_recovers();
}

static void test_stand_in_refused_by_default(void **state)
{
	const char *argv[] = { APP, "exit", "0", NULL };
	struct mcd_msg m;
	struct cli *c;

	(void)state;
	/* Without allow_current_user the service wants the user's own logon
	 * session, which Wine does not have. */
	service("stop");
	write_conf("# default: no test stand-in\n");
	if (service("start") != 0)
		FAIL("net start with the default configuration failed");
	c = connect_idle();
	send_launch(c, SID, argv);
	m = expect(c, MCD_MSG_FAILED);
	if (m.u.failed.code != MCD_FAIL_NO_USER &&
	    m.u.failed.code != MCD_FAIL_USER_DENIED)
		FAIL("FAILED %s (%s), expected no-such-user or user-denied",
		     mcd_fail_name(m.u.failed.code), m.u.failed.reason);
	cli_close(c);
	service("stop");
	write_conf("allow_current_user=1\n");
	if (service("start") != 0)
		FAIL("net start failed");
	expect_recovers();
}

static void test_bad_config_refused(void **state)
{
	size_t mark = log_size();

	(void)state;
	service("stop");
	write_conf("allow_current_user=yes\n");
	service("start");
	expect_no_service("the service serves with a bad configuration");
	if (!log_since_contains(mark, "agent.conf:1: allow_current_user "
				"must be 0 or 1, not 'yes'"))
		FAIL("the configuration error was not logged as file:line");
	service("stop");
	write_conf("allow_current_user=1\n");
	if (service("start") != 0)
		FAIL("net start failed");
	expect_recovers();
}

static void test_uninstall_and_install(void **state)
{
	char cmd[300];

	(void)state;
	if (run("timeout 60 wine 'C:\\mcd\\mcd-agent.exe' uninstall "
		">/dev/null 2>&1") != 0)
		FAIL("mcd-agent.exe uninstall failed");
	expect_no_service("the service still serves after uninstall");
	if (service("start") == 0)
		FAIL("net start works after uninstall");
	snprintf(cmd, sizeof(cmd), "timeout 60 wine 'C:\\mcd\\mcd-agent.exe' "
		 "--transport tcp:%d --config 'C:\\mcd\\agent.conf' "
		 "--log 'C:\\mcd\\agent.log' -v install >/dev/null 2>&1",
		 port);
	if (run(cmd) != 0)
		FAIL("mcd-agent.exe install failed");
	if (run(cmd) == 0)
		FAIL("a second install did not fail");
	if (service("start") != 0)
		FAIL("net start after install failed");
	expect_recovers();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_status_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_and_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launch_argv_env_exit_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launch2_x_and_storage_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_refused_by_decoder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_ends_whole_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_while_disconnected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_and_wrong_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_then_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_hello_and_bad_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_stop_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stand_in_refused_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uninstall_and_install, setup, teardown),
	};
	const char *p = getenv("MCD_WIN_PORT"), *c = getenv("MCD_WIN_C");

	if (!p || !c || !getenv("WINEPREFIX")) {
		fprintf(stderr, "test_win_agent: run it with tests/windows/"
			"run.sh (MCD_WIN_PORT, MCD_WIN_C, WINEPREFIX)\n");
		return 1;
	}
	port = atoi(p);
	snprintf(drive_c, sizeof(drive_c), "%s", c);
	snprintf(log_path, sizeof(log_path), "%s/mcd/agent.log", drive_c);
	snprintf(conf_path, sizeof(conf_path), "%s/mcd/agent.conf", drive_c);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("mcd-agent.exe under Wine's service "
					   "manager", tests, NULL, NULL);
}
