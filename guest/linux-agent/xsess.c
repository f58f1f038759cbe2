/*
 * xsess.c - the X side of a session (see xsess.h): the cookie (xcookie.c),
 * the relay (xrelay.c) and the watcher (xwatch.c), tied to the event loop.
 *
 * Outcomes (display checked, window mapped) are kept until xsess_event()
 * can return them, one per call; a timerfd doubles as the check deadline
 * and as a doorbell that wakes poll while an outcome waits.
 */
#include "xsess.h"

#include "log.h"
#include "xcookie.h"
#include "xrelay.h"
#include "xwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum xs_check { CHECKING, CHECK_OK, CHECK_FAILED };

/* What one pollfd handed to the loop stands for. */
enum xs_kind { K_TIMER = 1, K_WATCH, K_RELAY };
struct xs_slot {
	enum xs_kind kind;
	uint32_t tag;
};

/* The timer, the watcher, the relay's two listening sockets, its conns. */
#define XS_MAX_FDS (MCD_MAX_X_CONNS + 4)

struct xsess {
	struct xsess_io io;
	uint32_t mode;          /* MCD_LAUNCH_X_RELAY or _DIRECT */
	char display[MCD_MAX_DISPLAY_LEN + 1]; /* what the app uses */
	char remote[MCD_MAX_DISPLAY_LEN + 1];  /* the thin client, for texts */
	struct xcookie cookie;
	struct xrelay *relay;   /* relay mode only */
	struct xwatch watch;
	int tfd;
	struct timespec deadline;

	enum xs_check check;
	int check_told;         /* DISPLAY_OK/FAILED was returned */
	char fail[MCD_MAX_REASON_LEN + 1];
	int app_started;
	int mapped;             /* the app's first window was seen */
	int mapped_told;

	int nslots;             /* from the last xsess_pollfds() */
	struct xs_slot slot[XS_MAX_FDS];
};

static int relay_send(void *ctx, const struct mcd_msg *m)
{
	struct xsess *xs = ctx;

	return xs->io.send(xs->io.ctx, m);
}

static int relay_room(void *ctx)
{
	struct xsess *xs = ctx;

	return !xs->io.room || xs->io.room(xs->io.ctx);
}

/* ---- outcomes and the timer ---- */

static int outcome_waiting(const struct xsess *xs)
{
	return (xs->check != CHECKING && !xs->check_told) ||
	       (xs->mapped && !xs->mapped_told);
}

static void timer_arm(struct xsess *xs)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };
	int flags = 0;

	if (outcome_waiting(xs)) {
		it.it_value.tv_nsec = 1; /* at once */
	} else if (xs->check == CHECKING) {
		it.it_value = xs->deadline;
		flags = TFD_TIMER_ABSTIME;
	}
	if (timerfd_settime(xs->tfd, flags, &it, NULL) < 0)
		log_warn("X session timer");
}

/* The check failed; fmt gets the thin client's display, then arg. */
static void check_failed(struct xsess *xs, const char *fmt, const char *arg)
{
	if (xs->check != CHECKING)
		return;
	xs->check = CHECK_FAILED;
	/* A long detail is cut at the reason's limit. */
	if (snprintf(xs->fail, sizeof(xs->fail), fmt, xs->remote, arg) < 0)
		snprintf(xs->fail, sizeof(xs->fail), "display check failed");
	xwatch_stop(&xs->watch);
}

static void deadline_passed(struct xsess *xs)
{
	struct timespec now;
	uint64_t ticks;

	while (read(xs->tfd, &ticks, sizeof(ticks)) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (xs->check == CHECKING &&
	    (now.tv_sec > xs->deadline.tv_sec ||
	     (now.tv_sec == xs->deadline.tv_sec &&
	      now.tv_nsec >= xs->deadline.tv_nsec)))
		check_failed(xs, "display %s did not answer within %s seconds",
			     XSESS_CHECK_TIMEOUT_TEXT);
}

/* ---- the watcher's reports ---- */

/* The app's window among the reported ones, or 0. */
static uint32_t app_window(const struct xsess *xs, const struct xwatch_line *l)
{
	for (unsigned i = 0; i < l->nids; i++) {
		/* Direct mode cannot tell clients apart: any window mapped
		 * once the app runs counts. */
		if (!xs->relay || xrelay_app_window(xs->relay, l->ids[i]))
			return l->ids[i];
	}
	return 0;
}

static void watch_report(struct xsess *xs, const struct xwatch_line *l)
{
	uint32_t win;

	switch (l->kind) {
	case XWATCH_OK:
		if (xs->check == CHECKING) {
			xs->check = CHECK_OK;
			log_info("display %s is usable", xs->remote);
		}
		break;
	case XWATCH_FAIL:
		if (l->detail[0])
			check_failed(xs, "display %s refused the connection: "
				     "%s", l->detail);
		else if (xs->relay && xs->relay->last_close[0])
			check_failed(xs, "cannot connect to display %s: %s",
				     xs->relay->last_close);
		else
			check_failed(xs, "cannot connect to display %s%s", "");
		break;
	case XWATCH_MAP:
		if (!xs->app_started || xs->mapped || !(win = app_window(xs, l)))
			break;
		xs->mapped = 1;
		log_info("the app's first window 0x%x is mapped (in 0x%x)", win,
			 l->ids[0]);
		/* Nothing more to watch for. */
		xwatch_stop(&xs->watch);
		break;
	}
}

static void watch_event(struct xsess *xs)
{
	struct xwatch_line l;
	int rc;

	/* A report may stop the watcher (first window seen): check fd. */
	while (xs->watch.fd >= 0) {
		rc = xwatch_read(&xs->watch, &l);
		if (rc == 0)
			return;
		if (rc == 1) {
			watch_report(xs, &l);
			continue;
		}
		check_failed(xs, "display %s: the check ended without an "
			     "answer%s", "");
		if (xs->check == CHECK_OK && !xs->mapped)
			log_warnx("the X watcher ended; no READY for this "
				  "session");
		xwatch_stop(&xs->watch);
	}
}

/* ---- the interface ---- */

static int start_fail(struct xsess *xs, uint32_t *code, uint32_t c)
{
	*code = c;
	xsess_end(xs);
	return -1;
}

int xsess_start(struct xsess **out, const struct mcd_launch *req,
		const struct launch_user *u, const struct xsess_io *io,
		struct launch_x *x, uint32_t *code, char *reason,
		size_t reason_len)
{
	struct xrelay_out ro;
	struct xsess *xs;

	*out = NULL;
	xs = calloc(1, sizeof(*xs));
	if (!xs) {
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "out of memory");
		return -1;
	}
	xs->io = *io;
	xs->tfd = -1;
	xs->mode = req->flags & (MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT);
	xwatch_init(&xs->watch);
	snprintf(xs->remote, sizeof(xs->remote), "%s", req->display);
	xs->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (xs->tfd < 0) {
		snprintf(reason, reason_len, "timerfd: %s", strerror(errno));
		return start_fail(xs, code, MCD_FAIL_INTERNAL);
	}
	if (xs->mode == MCD_LAUNCH_X_DIRECT && !req->display[0]) {
		snprintf(reason, reason_len, "direct X mode needs a display");
		return start_fail(xs, code, MCD_FAIL_BAD_REQUEST);
	}
	if (xs->mode == MCD_LAUNCH_X_RELAY &&
	    (io->display < 0 || io->display > XSESS_MAX_DISPLAY)) {
		snprintf(reason, reason_len, "bad local display %d",
			 io->display);
		return start_fail(xs, code, MCD_FAIL_INTERNAL);
	}
	if (req->xcookie[0] &&
	    xcookie_install(&xs->cookie, XCOOKIE_BASE_DIR, req->session_id,
			    req->xcookie, io->display, u->uid, u->gid, reason,
			    reason_len) < 0)
		return start_fail(xs, code, MCD_FAIL_INTERNAL);
	launch_wipe_secrets(req);
	if (xs->mode == MCD_LAUNCH_X_RELAY) {
		ro.send = relay_send;
		ro.ctx = xs;
		ro.room = relay_room;
		xs->relay = malloc(sizeof(*xs->relay));
		if (!xs->relay) {
			snprintf(reason, reason_len, "out of memory");
			return start_fail(xs, code, MCD_FAIL_INTERNAL);
		}
		xrelay_init(xs->relay, &ro);
		if (xrelay_listen(xs->relay, io->display, u->uid, u->gid,
				  reason, reason_len) < 0)
			return start_fail(xs, code, MCD_FAIL_INTERNAL);
		snprintf(xs->display, sizeof(xs->display), ":%d", io->display);
	} else {
		snprintf(xs->display, sizeof(xs->display), "%s", req->display);
	}
	if (xwatch_start(&xs->watch, u, xs->display,
			 xs->cookie.dir[0] ? xs->cookie.path : NULL, reason,
			 reason_len) < 0)
		return start_fail(xs, code, MCD_FAIL_INTERNAL);
	clock_gettime(CLOCK_MONOTONIC, &xs->deadline);
	xs->deadline.tv_sec += XSESS_CHECK_TIMEOUT_MS / 1000;
	timer_arm(xs);
	x->display = xs->display;
	x->xauthority = xs->cookie.dir[0] ? xs->cookie.path : NULL;
	log_info("checking display %s (%s mode, local %s)", xs->remote,
		 xs->relay ? "relay" : "direct", xs->display);
	*out = xs;
	return 0;
}

void xsess_app_started(struct xsess *xs, pid_t pid)
{
	(void)pid;
	if (!xs)
		return;
	xs->app_started = 1;
	if (xs->relay)
		xs->relay->app_started = 1;
}

int xsess_pollfds(struct xsess *xs, struct pollfd *pfd, int max)
{
	uint32_t tag[XS_MAX_FDS];
	int n = 0, nr;

	if (!xs)
		return 0;
	if (max > XS_MAX_FDS)
		max = XS_MAX_FDS;
	if (n < max) {
		pfd[n] = (struct pollfd){ xs->tfd, POLLIN, 0 };
		xs->slot[n++] = (struct xs_slot){ K_TIMER, 0 };
	}
	if (xs->watch.fd >= 0 && n < max) {
		pfd[n] = (struct pollfd){ xs->watch.fd, POLLIN, 0 };
		xs->slot[n++] = (struct xs_slot){ K_WATCH, 0 };
	}
	if (xs->relay) {
		nr = xrelay_pollfds(xs->relay, pfd + n, tag, max - n);
		for (int i = 0; i < nr; i++)
			xs->slot[n + i] = (struct xs_slot){ K_RELAY, tag[i] };
		n += nr;
	}
	xs->nslots = n;
	return n;
}

enum xsess_ev xsess_event(struct xsess *xs, const struct pollfd *pfd, int n,
			  char *reason, size_t reason_len)
{
	enum xsess_ev ev = XSESS_NOTHING;
	int chan_err = 0;

	if (!xs)
		return XSESS_NOTHING;
	/* The pollfds are from this session's last xsess_pollfds() only. */
	if (n > xs->nslots)
		n = xs->nslots;
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		switch (xs->slot[i].kind) {
		case K_TIMER:
			deadline_passed(xs);
			break;
		case K_WATCH:
			if (pfd[i].fd == xs->watch.fd)
				watch_event(xs);
			break;
		case K_RELAY:
			if (xrelay_event(xs->relay, &pfd[i],
					 xs->slot[i].tag) < 0)
				chan_err = 1;
			break;
		}
	}
	xs->nslots = 0;
	if (chan_err) {
		ev = XSESS_CHANNEL_ERROR;
	} else if (xs->check != CHECKING && !xs->check_told) {
		xs->check_told = 1;
		ev = xs->check == CHECK_OK ? XSESS_DISPLAY_OK
					   : XSESS_DISPLAY_FAILED;
		if (ev == XSESS_DISPLAY_FAILED) {
			snprintf(reason, reason_len, "%s", xs->fail);
			log_warnx("%s", xs->fail);
		}
	} else if (xs->mapped && !xs->mapped_told) {
		xs->mapped_told = 1;
		ev = XSESS_WINDOW_MAPPED;
	}
	timer_arm(xs);
	return ev;
}

int xsess_message(struct xsess *xs, const struct mcd_msg *m)
{
	if (!xs || !xs->relay) {
		log_warnx("protocol error: %s without an X relay",
			  mcd_msg_name(m->type));
		return -1;
	}
	return xrelay_message(xs->relay, m);
}

int xsess_owns_child(const struct xsess *xs, pid_t pid)
{
	return xs && pid > 0 && xs->watch.pid == pid;
}

void xsess_channel_lost(struct xsess *xs)
{
	if (xs && xs->relay)
		xrelay_drop_all(xs->relay);
}

void xsess_end(struct xsess *xs)
{
	if (!xs)
		return;
	xwatch_stop(&xs->watch);
	if (xs->relay) {
		xrelay_close(xs->relay);
		free(xs->relay);
	}
	xcookie_remove(&xs->cookie);
	if (xs->tfd >= 0)
		close(xs->tfd);
	free(xs);
}
