/*
 * menu.c - `mcd-client menu` (see menu.h).
 *
 * One plain Xlib window, one row per app in the core font "fixed".  A click
 * runs the app in a child process (the same code as `run`, following the
 * session to its end) whose output comes back on a pipe; the row shows
 * what the child last said.  At start the rows' places are printed on
 * stdout ("row N APP x y w h", root coordinates) so a script can click
 * them.
 */
#include "menu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>

#include "run.h"

#define MENU_WIDTH 480
#define MENU_PAD 6
#define STATUS_MAX 160
#define LINE_MAX_IN 512

struct row {
	const struct talk_app *app;
	char status[STATUS_MAX];
	char last_err[LINE_MAX_IN];
	char buf[LINE_MAX_IN];   /* a partial line from the child */
	size_t buflen;
	pid_t pid;               /* 0: no child */
	int fd;                  /* the child's output, -1 when none */
};

struct menu {
	const struct conf *c;
	SSL_CTX *ctx;
	const struct state_token *tok;
	const char *display;
	struct talk_apps apps;
	struct row rows[TALK_APPS_MAX];
	unsigned nrows;
	Display *dpy;
	Window win;
	GC gc;
	XFontStruct *font;
	Atom wm_delete;
	int row_h;
};

static volatile sig_atomic_t child_stop;

static void child_on_signal(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* ---- drawing ---- */

static void draw(struct menu *m)
{
	XClearWindow(m->dpy, m->win);
	for (unsigned i = 0; i < m->nrows; i++) {
		const struct row *r = &m->rows[i];
		char line[MCD_SITE_NAME_MAX + STATUS_MAX + 32];
		int y = (int)i * m->row_h + MENU_PAD + m->font->ascent;
		int n = snprintf(line, sizeof(line), "%-28.28s level %-2u  %s",
				 r->app->name, (unsigned)r->app->level,
				 r->status);

		if (n >= (int)sizeof(line))
			n = (int)sizeof(line) - 1;
		XDrawString(m->dpy, m->win, m->gc, MENU_PAD, y, line, n);
		XDrawLine(m->dpy, m->win, m->gc, 0, (int)(i + 1) * m->row_h - 1,
			  MENU_WIDTH, (int)(i + 1) * m->row_h - 1);
	}
	XFlush(m->dpy);
}

static int open_window(struct menu *m)
{
	int h;

	m->dpy = XOpenDisplay(NULL);
	if (!m->dpy) {
		fprintf(stderr, "mcd-client: cannot open the X display %s\n",
			XDisplayName(NULL));
		return -1;
	}
	m->font = XLoadQueryFont(m->dpy, "fixed");
	if (!m->font) {
		fprintf(stderr, "mcd-client: no core font \"fixed\"\n");
		return -1;
	}
	m->row_h = m->font->ascent + m->font->descent + 2 * MENU_PAD;
	h = m->row_h * (int)(m->nrows ? m->nrows : 1);
	m->win = XCreateSimpleWindow(m->dpy, DefaultRootWindow(m->dpy), 0, 0,
				     MENU_WIDTH, (unsigned)h, 1,
				     BlackPixel(m->dpy, DefaultScreen(m->dpy)),
				     WhitePixel(m->dpy, DefaultScreen(m->dpy)));
	XStoreName(m->dpy, m->win, "MCD apps");
	m->wm_delete = XInternAtom(m->dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(m->dpy, m->win, &m->wm_delete, 1);
	XSelectInput(m->dpy, m->win, ExposureMask | ButtonPressMask |
		     KeyPressMask | StructureNotifyMask);
	m->gc = XCreateGC(m->dpy, m->win, 0, NULL);
	XSetFont(m->dpy, m->gc, m->font->fid);
	XSetForeground(m->dpy, m->gc, BlackPixel(m->dpy, DefaultScreen(m->dpy)));
	XMapWindow(m->dpy, m->win);
	return 0;
}

/* Wait until the window is mapped, then say where each row is. */
static void print_rows(struct menu *m)
{
	XEvent ev;
	Window child;
	int x, y;

	do
		XWindowEvent(m->dpy, m->win, StructureNotifyMask, &ev);
	while (ev.type != MapNotify);
	XTranslateCoordinates(m->dpy, m->win, DefaultRootWindow(m->dpy), 0, 0,
			      &x, &y, &child);
	printf("window 0x%lx\n", (unsigned long)m->win);
	for (unsigned i = 0; i < m->nrows; i++)
		printf("row %u %s %d %d %d %d\n", i, m->rows[i].app->app, x,
		       y + (int)i * m->row_h, MENU_WIDTH, m->row_h);
	fflush(stdout);
	draw(m);
}

/* ---- children ---- */

/* In the child: run the app as `run` does, its output to fd. */
static void child_main(struct menu *m, struct row *r, int fd)
{
	struct sigaction sa = { .sa_handler = child_on_signal };
	struct run_opts o = { .app = r->app->app, .display = m->display,
			      .wait_sec = -1, .stop = &child_stop };
	int rc;

	close(ConnectionNumber(m->dpy));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = run_app(m->c, m->ctx, m->tok, &o);
	/* _exit skips stdio's flush, and the last line is the row's state. */
	fflush(NULL);
	_exit(rc);
}

static void start_row(struct menu *m, struct row *r)
{
	int p[2];
	pid_t pid;

	if (r->pid)
		return; /* already running: one session per row at a time */
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_main(m, r, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(r->status, sizeof(r->status), "failed: cannot fork");
		return;
	}
	r->pid = pid;
	r->fd = p[0];
	r->buflen = 0;
	r->last_err[0] = '\0';
	snprintf(r->status, sizeof(r->status), "waiting...");
}

/* One line from a child: its state. */
static void child_line(struct row *r, const char *line)
{
	if (!strncmp(line, "waiting: ", 9))
		snprintf(r->status, sizeof(r->status), "waiting...");
	else if (!strncmp(line, "ready: ", 7))
		snprintf(r->status, sizeof(r->status), "ready");
	else if (!strncmp(line, "ended: ", 7))
		snprintf(r->status, sizeof(r->status), "ended");
	else if (!strncmp(line, "mcd-client: ", 12) && !strstr(line, "skipped"))
		snprintf(r->last_err, sizeof(r->last_err), "%s", line + 12);
}

static void child_done(struct row *r)
{
	int status = 0;

	close(r->fd);
	r->fd = -1;
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(r->status, sizeof(r->status), "ended");
		return;
	}
	snprintf(r->status, sizeof(r->status), "failed: %.150s",
		 r->last_err[0] ? r->last_err : "see the terminal");
}

static void child_read(struct row *r)
{
	ssize_t n = read(r->fd, r->buf + r->buflen,
			 sizeof(r->buf) - 1 - r->buflen);
	char *nl;

	if (n <= 0) {
		child_done(r);
		return;
	}
	r->buflen += (size_t)n;
	r->buf[r->buflen] = '\0';
	while ((nl = strchr(r->buf, '\n'))) {
		*nl = '\0';
		child_line(r, r->buf);
		r->buflen -= (size_t)(nl + 1 - r->buf);
		memmove(r->buf, nl + 1, r->buflen + 1);
	}
	/* A line longer than the buffer: taken as it is. */
	if (r->buflen == sizeof(r->buf) - 1) {
		child_line(r, r->buf);
		r->buflen = 0;
	}
}

/* Quitting: running sessions are ended by their children. */
static void stop_children(struct menu *m)
{
	for (unsigned i = 0; i < m->nrows; i++)
		if (m->rows[i].pid)
			kill(m->rows[i].pid, SIGTERM);
	for (unsigned i = 0; i < m->nrows; i++)
		while (m->rows[i].pid)
			child_read(&m->rows[i]);
}

/* ---- events ---- */

/* 1 to quit. */
static int x_event(struct menu *m, XEvent *ev)
{
	switch (ev->type) {
	case Expose:
		if (ev->xexpose.count == 0)
			draw(m);
		return 0;
	case ButtonPress: {
		int i = ev->xbutton.y / m->row_h;

		if (ev->xbutton.button == Button1 && i >= 0 &&
		    (unsigned)i < m->nrows) {
			start_row(m, &m->rows[i]);
			draw(m);
		}
		return 0;
	}
	case KeyPress:
		return XLookupKeysym(&ev->xkey, 0) == XK_Escape;
	case ClientMessage:
		return (Atom)ev->xclient.data.l[0] == m->wm_delete;
	default:
		return 0;
	}
}

static int loop(struct menu *m)
{
	struct pollfd pfd[TALK_APPS_MAX + 1];
	unsigned idx[TALK_APPS_MAX + 1];
	XEvent ev;

	for (;;) {
		unsigned n = 1;

		while (XPending(m->dpy)) {
			XNextEvent(m->dpy, &ev);
			if (x_event(m, &ev))
				return 0;
		}
		pfd[0] = (struct pollfd){ .fd = ConnectionNumber(m->dpy),
					  .events = POLLIN };
		for (unsigned i = 0; i < m->nrows; i++)
			if (m->rows[i].fd >= 0) {
				idx[n] = i;
				pfd[n++] = (struct pollfd){ .fd = m->rows[i].fd,
							    .events = POLLIN };
			}
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			return -1;
		for (unsigned k = 1; k < n; k++)
			if (pfd[k].revents)
				child_read(&m->rows[idx[k]]);
		if (n > 1)
			draw(m);
	}
}

int menu_main(const struct conf *c, SSL_CTX *ctx,
	      const struct state_token *tok, const char *display)
{
	struct talk_broker b = { ctx, c->server, c->server_name };
	struct menu *m = calloc(1, sizeof(*m));
	char err[512];
	int rc = TALK_FAILED;

	if (!m)
		return TALK_FAILED;
	m->c = c;
	m->ctx = ctx;
	m->tok = tok;
	m->display = display;
	rc = talk_apps(&b, tok->token, &m->apps, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mcd-client: %s\n", err);
		goto out;
	}
	m->nrows = m->apps.napps;
	for (unsigned i = 0; i < m->nrows; i++) {
		m->rows[i].app = &m->apps.apps[i];
		m->rows[i].fd = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = TALK_FAILED;
	if (open_window(m) < 0)
		goto out;
	print_rows(m);
	rc = loop(m) < 0 ? TALK_FAILED : TALK_OK;
	stop_children(m);
out:
	if (m->dpy)
		XCloseDisplay(m->dpy);
	free(m);
	return rc;
}
