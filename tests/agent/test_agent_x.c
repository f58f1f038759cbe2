/*
 * test_agent_x.c - X sessions end to end on the host: a real Xvfb with a
 * cookie, the real mcd-agent over its socket stand-in, and this test as
 * dom0 (relaying X_OPEN / X_DATA / X_ACK / X_CLOSE to Xvfb's socket the
 * way the dom0 service forwards them to a thin client).  A real X program
 * (xlogo) is launched; STARTED and then READY must arrive.  A wrong
 * cookie and an absent display must fail the launch with MCD_FAIL_DISPLAY
 * and a clear reason.  Direct mode points the app at Xvfb itself.
 *
 * Needs root, Xvfb, xauth and xlogo; skipped (exit 0) without them.  Each
 * test has a deadline and Xvfb is always killed.  The agent serves display
 * :XTEST_AGENT_DPY, Xvfb runs on :XTEST_XVFB_DPY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <X11/Xlib.h>

#include "mcd_proto.h"

#define SID "00112233445566ff"
#define APP_USER "nobody"
#define APP "/usr/bin/xlogo"
#define XTEST_AGENT_DPY 61
#define XTEST_XVFB_DPY 62
#define XTEST_NO_DPY 63
#define TIMEOUT_MS 25000

static char agent_path[PATH_MAX];

struct xconn {
	uint32_t id;        /* 0: free */
	int fd;
	uint32_t unacked;   /* our X_DATA the agent did not acknowledge */
};

/* The whole fixture: Xvfb, the agent, and the dom0 side. */
struct xt {
	char dir[40];
	char sock[80], conf[80], log[80], auth[80], xlog[80];
	char cookie[MCD_XCOOKIE_LEN + 1];
	pid_t xvfb, agent;
	int fd;              /* the channel */
	struct mcd_rx rx;
	struct xconn x[MCD_MAX_X_CONNS];
	int started, ready, opens;
	const char *refuse;  /* answer X_OPEN with X_CLOSE and this reason */
	int mute;            /* take X_OPEN, then never answer */
	Display *wm;         /* a minimal reparenting window manager */
	int frames;          /* windows it framed */
	struct mcd_msg last; /* FAILED, EXITED */
	char reason[MCD_MAX_REASON_LEN + 1];
};

static struct xt *T;

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

static void dump(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > 4000 ? size - 4000 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "---- %s ----\n%s---- end ----\n", path, buf);
	}
}

#define FAIL(...)                        \
	do {                             \
		if (T) {                 \
			dump(T->log);    \
			dump(T->xlog);   \
		}                        \
		fail_msg(__VA_ARGS__);   \
	} while (0)

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void random_cookie(char out[MCD_XCOOKIE_LEN + 1])
{
	unsigned char b[MCD_XCOOKIE_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	close(fd);
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static pid_t spawn(const char *log, char *const argv[])
{
	pid_t pid = fork();
	int fd;

	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		signal(SIGPIPE, SIG_DFL);
		/* Whatever happens to the test, Xvfb and the agent go too. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	close(fd);
	return -1;
}

/* ---- Xvfb and the agent ---- */

static void stop_pid(pid_t pid, int *status)
{
	long end = now_ms() + 10000;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return;
		}
		sleep_ms(10);
	}
}

static void xvfb_start(struct xt *t)
{
	char cmd[256], dpy[16], sock[64];
	char *argv[] = { "/usr/bin/Xvfb", dpy, "-auth", t->auth, "-nolisten",
			 "tcp", "-screen", "0", "640x480x24", NULL };
	long end = now_ms() + 10000;
	int fd;

	snprintf(dpy, sizeof(dpy), ":%d", XTEST_XVFB_DPY);
	put_file(t->auth, ""); /* xauth complains about a missing file */
	snprintf(cmd, sizeof(cmd), "xauth -q -f %s add :%d . %s", t->auth,
		 XTEST_XVFB_DPY, t->cookie);
	assert_int_equal(system(cmd), 0);
	t->xvfb = spawn(t->xlog, argv);
	snprintf(sock, sizeof(sock), "/tmp/.X11-unix/X%d", XTEST_XVFB_DPY);
	while ((fd = unix_connect(sock)) < 0) {
		if (now_ms() > end || waitpid(t->xvfb, NULL, WNOHANG) != 0)
			FAIL("Xvfb did not start");
		sleep_ms(50);
	}
	close(fd);
}

static void agent_start(struct xt *t)
{
	char transport[100], conf[64];
	char *argv[] = { agent_path, "--transport", transport, "--config",
			 t->conf, "--foreground", "-v", NULL };
	long end = now_ms() + 10000;

	snprintf(conf, sizeof(conf), "x_display=%d\n", XTEST_AGENT_DPY);
	put_file(t->conf, conf);
	snprintf(transport, sizeof(transport), "socket:%s", t->sock);
	t->agent = spawn(t->log, argv);
	while ((t->fd = unix_connect(t->sock)) < 0) {
		if (now_ms() > end || waitpid(t->agent, NULL, WNOHANG) != 0) {
			stop_pid(t->xvfb, NULL); /* no teardown after setup */
			FAIL("the agent did not start");
		}
		sleep_ms(20);
	}
	mcd_rx_init(&t->rx);
}

static int setup(void **state)
{
	struct xt *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	T = t;
	t->fd = -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/mcd-x-test-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->sock, sizeof(t->sock), "%s/agent.sock", t->dir);
	snprintf(t->conf, sizeof(t->conf), "%s/agent.conf", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/agent.log", t->dir);
	snprintf(t->auth, sizeof(t->auth), "%s/xvfb.auth", t->dir);
	snprintf(t->xlog, sizeof(t->xlog), "%s/xvfb.log", t->dir);
	random_cookie(t->cookie);
	xvfb_start(t);
	agent_start(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct xt *t = *state;
	char cmd[96];
	int status = -1, rc = 0;

	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		if (t->x[i].id)
			close(t->x[i].fd);
	if (t->wm)
		XCloseDisplay(t->wm);
	if (t->fd >= 0)
		close(t->fd);
	stop_pid(t->agent, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "agent ended with status 0x%x\n", status);
		dump(t->log);
		rc = -1;
	}
	stop_pid(t->xvfb, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		rc = -1;
	T = NULL;
	free(t);
	return rc;
}

/* ---- the dom0 side ---- */

static void send_msg(struct xt *t, const struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf));
	size_t off = 0;

	if (n < 0)
		FAIL("test bug: cannot encode %s", mcd_msg_name(m->type));
	while (off < (size_t)n) {
		ssize_t w = send(t->fd, buf + off, (size_t)n - off,
				 MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			FAIL("send to agent: %s", strerror(errno));
		off += (size_t)w;
	}
}

static void send_x(struct xt *t, uint32_t type, uint32_t id,
		   const uint8_t *data, uint32_t len, uint32_t ack)
{
	struct mcd_msg m = { .type = type };

	m.u.x.conn = id;
	m.u.x.data = data;
	m.u.x.len = len;
	m.u.x.ack = ack;
	m.u.x.reason = "";
	send_msg(t, &m);
}

static struct xconn *xconn_find(struct xt *t, uint32_t id)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		if (t->x[i].id == id)
			return &t->x[i];
	return NULL;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the server closed: its EOF ends the conn */
		p += w;
		n -= (size_t)w;
	}
}

/* What the agent sent: X traffic is relayed, the rest recorded. */
static void on_agent_msg(struct xt *t, const struct mcd_msg *m)
{
	char path[64];
	struct xconn *c;

	switch (m->type) {
	case MCD_MSG_X_OPEN:
		t->opens++;
		if (t->mute)
			break;
		if (t->refuse) {
			struct mcd_msg cl = { .type = MCD_MSG_X_CLOSE };

			cl.u.x.conn = m->u.x.conn;
			cl.u.x.reason = t->refuse;
			send_msg(t, &cl);
			break;
		}
		c = xconn_find(t, 0);
		if (!c || xconn_find(t, m->u.x.conn))
			FAIL("X_OPEN %u: no slot or id reused", m->u.x.conn);
		snprintf(path, sizeof(path), "/tmp/.X11-unix/X%d",
			 XTEST_XVFB_DPY);
		c->fd = unix_connect(path);
		if (c->fd < 0)
			FAIL("cannot reach Xvfb");
		c->id = m->u.x.conn;
		c->unacked = 0;
		break;
	case MCD_MSG_X_DATA:
		c = xconn_find(t, m->u.x.conn);
		if (!c)
			break; /* we closed it already, or are mute */
		write_all(c->fd, m->u.x.data, m->u.x.len);
		send_x(t, MCD_MSG_X_ACK, c->id, NULL, 0, m->u.x.len);
		break;
	case MCD_MSG_X_ACK:
		c = xconn_find(t, m->u.x.conn);
		if (c) {
			if (m->u.x.ack > c->unacked)
				FAIL("agent acknowledged too much");
			c->unacked -= m->u.x.ack;
		}
		break;
	case MCD_MSG_X_CLOSE:
		c = xconn_find(t, m->u.x.conn);
		if (c) {
			close(c->fd);
			c->id = 0;
		}
		break;
	case MCD_MSG_STARTED:
		t->started = 1;
		break;
	case MCD_MSG_READY:
		if (!t->started)
			FAIL("READY before STARTED");
		assert_string_equal(m->u.ready.session_id, SID);
		t->ready = 1;
		break;
	case MCD_MSG_FAILED:
		snprintf(t->reason, sizeof(t->reason), "%s", m->u.failed.reason);
		/* fall through */
	default:
		t->last = *m;
		break;
	}
}

static int agent_readable(struct xt *t)
{
	char err[256];
	struct mcd_msg m;
	size_t want;
	uint8_t *p = mcd_rx_space(&t->rx, &want);
	ssize_t n = recv(t->fd, p, want, 0);
	int r;

	if (n <= 0)
		FAIL("the agent closed the channel");
	r = mcd_rx_commit(&t->rx, (size_t)n, MCD_DIR_TO_DOM0, &m, err,
			  sizeof(err));
	if (r < 0)
		FAIL("the agent sent a bad frame: %s", err);
	if (r == 1)
		on_agent_msg(t, &m);
	return r;
}

/* Xvfb wrote to a relayed connection: X_DATA within the window. */
static void x_readable(struct xt *t, struct xconn *c)
{
	uint8_t buf[MCD_MAX_X_DATA];
	size_t want = MCD_X_WINDOW - c->unacked;
	ssize_t n;

	if (want > sizeof(buf))
		want = sizeof(buf);
	n = read(c->fd, buf, want);
	if (n <= 0) {
		struct mcd_msg m = { .type = MCD_MSG_X_CLOSE };

		m.u.x.conn = c->id;
		m.u.x.reason = "";
		send_msg(t, &m);
		close(c->fd);
		c->id = 0;
		return;
	}
	c->unacked += (uint32_t)n;
	send_x(t, MCD_MSG_X_DATA, c->id, buf, (uint32_t)n, 0);
}

/* ---- a minimal reparenting window manager, as on a thin client ---- */

static void wm_start(struct xt *t)
{
	char dpy[16];

	snprintf(dpy, sizeof(dpy), ":%d", XTEST_XVFB_DPY);
	setenv("XAUTHORITY", t->auth, 1);
	t->wm = XOpenDisplay(dpy);
	unsetenv("XAUTHORITY");
	if (!t->wm)
		FAIL("the test's window manager cannot open %s", dpy);
	XSelectInput(t->wm, DefaultRootWindow(t->wm),
		     SubstructureRedirectMask | SubstructureNotifyMask);
	XSync(t->wm, False);
}

/* Each top-level window goes into a frame (with a title bar child, as
 * real ones have), mapped after the window itself. */
static void wm_events(struct xt *t)
{
	while (t->wm && XPending(t->wm)) {
		Window root = DefaultRootWindow(t->wm), frame, bar;
		XEvent ev;

		XNextEvent(t->wm, &ev);
		if (ev.type != MapRequest)
			continue;
		frame = XCreateSimpleWindow(t->wm, root, 0, 0, 400, 400, 1, 0, 0);
		bar = XCreateSimpleWindow(t->wm, frame, 0, 0, 400, 20, 0, 0, 0);
		XMapWindow(t->wm, bar);
		XReparentWindow(t->wm, ev.xmaprequest.window, frame, 0, 20);
		XMapWindow(t->wm, ev.xmaprequest.window);
		XMapWindow(t->wm, frame);
		XFlush(t->wm);
		t->frames++;
	}
}

/* Serve the agent until done(t) or the deadline. */
static void pump_until(struct xt *t, int (*done)(struct xt *t))
{
	long end = now_ms() + TIMEOUT_MS;

	while (!done(t)) {
		struct pollfd pfd[2 + MCD_MAX_X_CONNS];
		struct xconn *who[2 + MCD_MAX_X_CONNS];
		int n = 1;
		long left = end - now_ms();

		if (left <= 0)
			FAIL("timed out (started %d, ready %d, %s)", t->started,
			     t->ready, mcd_msg_name(t->last.type));
		pfd[0] = (struct pollfd){ t->fd, POLLIN, 0 };
		for (int i = 0; i < MCD_MAX_X_CONNS; i++) {
			if (!t->x[i].id || t->x[i].unacked >= MCD_X_WINDOW)
				continue;
			pfd[n] = (struct pollfd){ t->x[i].fd, POLLIN, 0 };
			who[n++] = &t->x[i];
		}
		if (t->wm) {
			pfd[n] = (struct pollfd){ ConnectionNumber(t->wm), POLLIN,
						  0 };
			who[n++] = NULL;
		}
		wm_events(t);
		if (poll(pfd, (nfds_t)n, (int)left) <= 0)
			continue;
		if (pfd[0].revents) {
			agent_readable(t);
			continue; /* the X set may have changed */
		}
		for (int i = 1; i < n; i++)
			if (pfd[i].revents && who[i] && who[i]->id)
				x_readable(t, who[i]);
	}
}

static int hello_done(struct xt *t)
{
	return t->last.type == MCD_MSG_STATUS;
}

static int ready_or_failed(struct xt *t)
{
	return t->ready || t->last.type == MCD_MSG_FAILED;
}

static int exited(struct xt *t)
{
	return t->last.type == MCD_MSG_EXITED;
}

static void hello(struct xt *t)
{
	struct mcd_msg h = { .type = MCD_MSG_HELLO };

	h.u.hello.version_min = MCD_PROTO_VERSION_MIN;
	h.u.hello.version_max = MCD_PROTO_VERSION_MAX;
	h.u.hello.role = MCD_ROLE_DOM0;
	send_msg(t, &h);
	pump_until(t, hello_done);
	assert_int_equal(t->last.u.status.state, MCD_AGENT_IDLE);
}

static void launch(struct xt *t, uint32_t flags, const char *display,
		   const char *cookie)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH2 };

	m.u.launch.flags = flags;
	m.u.launch.session_id = SID;
	m.u.launch.user = APP_USER;
	m.u.launch.display = display;
	m.u.launch.xcookie = cookie;
	m.u.launch.volume = "";
	m.u.launch.argc = 1;
	m.u.launch.argv[0] = APP;
	send_msg(t, &m);
}

/* READY came: stop the app, the session must end cleanly. */
static void stop_app(struct xt *t)
{
	struct mcd_msg m = { .type = MCD_MSG_STOP };

	m.u.stop.session_id = SID;
	m.u.stop.grace_ms = 2000;
	send_msg(t, &m);
	pump_until(t, exited);
	assert_string_equal(t->last.u.exited.session_id, SID);
}

/* The cookie file is gone with the session. */
static void assert_no_cookie_left(void)
{
	struct stat st;

	assert_int_not_equal(stat("/run/mcd-agent/x/" SID, &st), 0);
}

/* Another uid connecting to the relay's abstract socket (which has no
 * permissions of its own) is turned away: 1 if it was. */
static int other_uid_refused(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		const char *name = "/tmp/.X11-unix/X61";
		struct pollfd p;
		char b;
		int fd;

		memcpy(sa.sun_path + 1, name, strlen(name));
		if (setgid(1) < 0 || setuid(1) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa,
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					1 + strlen(name))) < 0)
			_exit(3);
		p = (struct pollfd){ fd, POLLIN, 0 };
		if (poll(&p, 1, 5000) != 1 || read(fd, &b, 1) != 0)
			_exit(4);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- tests ---- */

static void test_relay_ready(void **state)
{
	struct xt *t = *state;
	struct stat st;

	hello(t);
	launch(t, MCD_LAUNCH_X_RELAY, "thinclient.example:0", t->cookie);
	pump_until(t, ready_or_failed);
	if (!t->ready)
		FAIL("FAILED %s: %s", mcd_fail_name(t->last.u.failed.code),
		     t->reason);
	/* The watcher's connection and the app's at least. */
	assert_true(t->opens >= 2);
	/* Only the user may connect to the local display. */
	assert_int_equal(stat("/tmp/.X11-unix/X61", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(other_uid_refused());
	stop_app(t);
	assert_no_cookie_left();
	assert_int_not_equal(stat("/tmp/.X11-unix/X61", &st), 0);
}

static void test_relay_wrong_cookie(void **state)
{
	struct xt *t = *state;
	char wrong[MCD_XCOOKIE_LEN + 1];

	hello(t);
	random_cookie(wrong);
	launch(t, MCD_LAUNCH_X_RELAY, "thinclient.example:0", wrong);
	pump_until(t, ready_or_failed);
	if (t->last.type != MCD_MSG_FAILED)
		FAIL("the launch did not fail");
	assert_int_equal(t->last.u.failed.code, MCD_FAIL_DISPLAY);
	assert_false(t->started);
	if (!strstr(t->reason, "display thinclient.example:0 refused the "
		    "connection: ") || !strstr(t->reason, "MIT-MAGIC-COOKIE-1"))
		FAIL("unclear reason: %s", t->reason);
	print_message("FAILED reason: %s\n", t->reason);
	assert_no_cookie_left();
}

/* The agent logged the app's window as found inside another one. */
static int ready_inside_frame(struct xt *t)
{
	static char buf[1 << 16];
	unsigned win = 0, top = 0;
	const char *p;
	ssize_t n;
	int fd = open(t->log, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "first window 0x");
	return p && sscanf(p, "first window 0x%x is mapped (in 0x%x)", &win,
			   &top) == 2 && win != top;
}

/* Under a window manager the app's window is mapped inside a frame (the
 * frame is what the root window sees): READY all the same. */
static void test_relay_ready_framed(void **state)
{
	struct xt *t = *state;

	wm_start(t);
	hello(t);
	launch(t, MCD_LAUNCH_X_RELAY, "thinclient.example:0", t->cookie);
	pump_until(t, ready_or_failed);
	if (!t->ready)
		FAIL("FAILED %s: %s", mcd_fail_name(t->last.u.failed.code),
		     t->reason);
	assert_true(t->frames >= 1);
	assert_true(ready_inside_frame(t));
	stop_app(t);
}

/* dom0 cannot reach the thin client: its reason reaches the FAILED. */
static void test_relay_dom0_refuses(void **state)
{
	struct xt *t = *state;

	hello(t);
	t->refuse = "thin client unreachable";
	launch(t, MCD_LAUNCH_X_RELAY, "thinclient.example:0", t->cookie);
	pump_until(t, ready_or_failed);
	if (t->last.type != MCD_MSG_FAILED)
		FAIL("the launch did not fail");
	assert_int_equal(t->last.u.failed.code, MCD_FAIL_DISPLAY);
	assert_string_equal(t->reason, "cannot connect to display "
			    "thinclient.example:0: thin client unreachable");
	assert_no_cookie_left();
}

/* A thin client that never answers: the check gives up after its
 * timeout (20 s). */
static void test_relay_no_answer(void **state)
{
	struct xt *t = *state;

	hello(t);
	t->mute = 1;
	launch(t, MCD_LAUNCH_X_RELAY, "thinclient.example:0", t->cookie);
	pump_until(t, ready_or_failed);
	if (t->last.type != MCD_MSG_FAILED)
		FAIL("the launch did not fail");
	assert_int_equal(t->last.u.failed.code, MCD_FAIL_DISPLAY);
	assert_string_equal(t->reason, "display thinclient.example:0 did not "
			    "answer within 20 seconds");
	assert_no_cookie_left();
}

static void test_direct_ready(void **state)
{
	struct xt *t = *state;
	char dpy[16];

	hello(t);
	snprintf(dpy, sizeof(dpy), ":%d", XTEST_XVFB_DPY);
	launch(t, MCD_LAUNCH_X_DIRECT, dpy, t->cookie);
	pump_until(t, ready_or_failed);
	if (!t->ready)
		FAIL("FAILED %s: %s", mcd_fail_name(t->last.u.failed.code),
		     t->reason);
	assert_int_equal(t->opens, 0);
	stop_app(t);
	assert_no_cookie_left();
}

static void test_direct_unreachable(void **state)
{
	struct xt *t = *state;
	char dpy[16], want[64];

	hello(t);
	snprintf(dpy, sizeof(dpy), ":%d", XTEST_NO_DPY);
	launch(t, MCD_LAUNCH_X_DIRECT, dpy, t->cookie);
	pump_until(t, ready_or_failed);
	if (t->last.type != MCD_MSG_FAILED)
		FAIL("the launch did not fail");
	assert_int_equal(t->last.u.failed.code, MCD_FAIL_DISPLAY);
	snprintf(want, sizeof(want), "cannot connect to display %s", dpy);
	assert_string_equal(t->reason, want);
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
	return access(agent_path, X_OK);
}

/* The displays the test uses must be free on this host. */
static int displays_free(void)
{
	const int d[] = { XTEST_AGENT_DPY, XTEST_XVFB_DPY, XTEST_NO_DPY };
	char path[64];

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		snprintf(path, sizeof(path), "/tmp/.X%d-lock", d[i]);
		if (access(path, F_OK) == 0)
			return 0;
	}
	return 1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_ready_framed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_wrong_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_dom0_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_unreachable, setup, teardown),
	};

	if (geteuid() != 0 || access("/usr/bin/Xvfb", X_OK) < 0 ||
	    access("/usr/bin/xauth", X_OK) < 0 || access(APP, X_OK) < 0) {
		fprintf(stderr, "test_agent_x: needs root, Xvfb, xauth and "
			"xlogo (scripts/install-deps.sh); skipped\n");
		return 0;
	}
	if (!displays_free()) {
		fprintf(stderr, "test_agent_x: displays :%d-:%d in use; "
			"skipped\n", XTEST_AGENT_DPY, XTEST_NO_DPY);
		return 0;
	}
	if (find_agent() < 0) {
		fprintf(stderr, "agent binary not found: %s\n", agent_path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("X sessions with Xvfb", tests,
					   NULL, NULL);
}
