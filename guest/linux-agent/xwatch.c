/*
 * xwatch.c - the display watcher (see xwatch.h).
 *
 * The child is a fork of the agent that never execs: everything it needs
 * is on its stack, it drops to the user before touching the display, and
 * it leaves with _exit() only (the agent's exit handlers are not its own).
 */
#include "xwatch.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <X11/Xlib.h>

/* ---- the child ---- */

static void put_line(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		s += w;
		n -= (size_t)w;
	}
}

/* Xlib's own handlers print and exit(); the watcher must not exit() and
 * a window that vanished under XQueryTree is no error. */
static int ignore_x_error(Display *d, XErrorEvent *e)
{
	(void)d;
	(void)e;
	return 0;
}

static int display_gone(Display *d)
{
	(void)d;
	_exit(0);
}

/* What Xlib/xcb wrote on our stderr, made one printable line. */
static void read_detail(int fd, char *out, size_t cap)
{
	char raw[1024];
	ssize_t n = read(fd, raw, sizeof(raw) - 1);
	size_t o = 0;
	int space = 0;

	out[0] = '\0';
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if (ch < 0x20 || ch > 0x7e) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < cap)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
}

/* The mapped window and, breadth first, its descendants: a window
 * manager's frame holds the app's window one or two levels down. */
static void report_map(int fd, Display *d, Window w)
{
	char line[XWATCH_LINE_MAX + 2];
	Window ids[XWATCH_MAX_IDS];
	unsigned n = 1;
	int o = 0;

	ids[0] = w;
	for (unsigned i = 0; i < n && n < XWATCH_MAX_IDS; i++) {
		Window root, parent, *kids = NULL;
		unsigned nkids = 0;

		if (!XQueryTree(d, ids[i], &root, &parent, &kids, &nkids))
			continue;
		for (unsigned k = 0; k < nkids && n < XWATCH_MAX_IDS; k++)
			ids[n++] = kids[k];
		if (kids)
			XFree(kids);
	}
	o = snprintf(line, sizeof(line), "map");
	for (unsigned i = 0; i < n; i++)
		o += snprintf(line + o, sizeof(line) - (size_t)o, " 0x%lx",
			      (unsigned long)ids[i] & 0xffffffffUL);
	snprintf(line + o, sizeof(line) - (size_t)o, "\n");
	put_line(fd, line);
}

static void __attribute__((noreturn))
watch_main(int out, const struct launch_user *u, const char *display,
	   const char *xauthority)
{
	char detail[XWATCH_DETAIL_MAX + 1];
	char line[XWATCH_DETAIL_MAX + 8];
	int errp[2];
	Display *d;
	Window root;
	XEvent ev;

	launch_child_reset_signals();
	if (pipe2(errp, O_CLOEXEC) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
		_exit(1);
	close(errp[1]);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	/* The fork still holds the agent's memory (the request it serves):
	 * the user's own processes must not read it through ptrace. */
	if (launch_become_user(u) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0) {
		put_line(out, "fail cannot become the user\n");
		_exit(1);
	}
	/* Xlib reads its settings from the environment: only the user's. */
	clearenv();
	if (setenv("HOME", u->home, 1) < 0 ||
	    (xauthority && setenv("XAUTHORITY", xauthority, 1) < 0))
		_exit(1);
	XSetErrorHandler(ignore_x_error);
	XSetIOErrorHandler(display_gone);
	d = XOpenDisplay(display);
	if (!d) {
		read_detail(errp[0], detail, sizeof(detail));
		snprintf(line, sizeof(line), "fail %s\n", detail);
		put_line(out, line);
		_exit(1);
	}
	/* From here on Xlib has nothing to say that the agent needs. */
	close(STDERR_FILENO);
	close(errp[0]);
	root = DefaultRootWindow(d);
	XSelectInput(d, root, SubstructureNotifyMask);
	XSync(d, False);
	put_line(out, "ok\n");
	for (;;) {
		XNextEvent(d, &ev);
		if (ev.type == MapNotify && ev.xmap.event == root)
			report_map(out, d, ev.xmap.window);
	}
}

/* ---- the agent's side ---- */

void xwatch_init(struct xwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

int xwatch_start(struct xwatch *w, const struct launch_user *u,
		 const char *display, const char *xauthority, char *reason,
		 size_t reason_len)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(reason, reason_len, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_len, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Keep only the report pipe, on stdout; the agent's channel
		 * and sockets are none of the watcher's business. */
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(1);
		close_range(3, ~0U, 0);
		watch_main(STDOUT_FILENO, u, display, xauthority);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->fd = p[0];
	w->signalled = 0;
	w->len = 0;
	return 0;
}

static int parse_id(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len < 3 || len > 10 || s[0] != '0' || s[1] != 'x')
		return -1;
	for (size_t i = 2; i < len; i++) {
		char ch = s[i];
		int d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static int parse_map(const char *s, size_t len, struct xwatch_line *out)
{
	size_t i = 0;

	out->nids = 0;
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		if (out->nids == XWATCH_MAX_IDS ||
		    parse_id(s + i, j - i, &out->ids[out->nids]) < 0)
			return -1;
		out->nids++;
		if (j == len)
			break;
		i = j + 1;
		if (i == len)
			return -1; /* trailing space */
	}
	return out->nids > 0 ? 0 : -1;
}

int xwatch_parse_line(const char *line, size_t len, struct xwatch_line *out)
{
	memset(out, 0, sizeof(*out));
	if (len > XWATCH_LINE_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return -1;
	if (len == 2 && memcmp(line, "ok", 2) == 0) {
		out->kind = XWATCH_OK;
		return 0;
	}
	if (len >= 5 && memcmp(line, "fail ", 5) == 0) {
		if (len - 5 > XWATCH_DETAIL_MAX)
			return -1;
		out->kind = XWATCH_FAIL;
		memcpy(out->detail, line + 5, len - 5);
		out->detail[len - 5] = '\0';
		return 0;
	}
	if (len > 4 && memcmp(line, "map ", 4) == 0) {
		out->kind = XWATCH_MAP;
		return parse_map(line + 4, len - 4, out);
	}
	return -1;
}

/* A whole line in the buffer: parse it and drop it from the buffer. */
static int take_line(struct xwatch *w, struct xwatch_line *out)
{
	char *nl = memchr(w->buf, '\n', w->len);
	size_t n;
	int rc;

	if (!nl)
		return w->len > XWATCH_LINE_MAX ? -1 : 0;
	n = (size_t)(nl - w->buf);
	rc = xwatch_parse_line(w->buf, n, out);
	memmove(w->buf, nl + 1, w->len - n - 1);
	w->len -= n + 1;
	if (rc < 0) {
		log_warnx("X watcher wrote a bad line; stopping it");
		return -1;
	}
	return 1;
}

int xwatch_read(struct xwatch *w, struct xwatch_line *out)
{
	int rc;

	if (w->fd < 0)
		return -1;
	rc = take_line(w, out);
	while (rc == 0) {
		ssize_t n = read(w->fd, w->buf + w->len,
				 sizeof(w->buf) - w->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			/* Its end closed: it exited, nothing left to kill. */
			w->signalled = 1;
			return -1;
		}
		w->len += (size_t)n;
		rc = take_line(w, out);
	}
	return rc;
}

void xwatch_stop(struct xwatch *w)
{
	if (w->pid > 0 && !w->signalled)
		kill(w->pid, SIGKILL);
	w->signalled = 1;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->len = 0;
}
