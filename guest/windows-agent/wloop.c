/*
 * wloop.c - the Windows agent's event loop (see wloop.h).  It drives the
 * same state machine as the Linux agent, guest/linux-agent/agent.c.
 */
#include "wloop.h"

#include "../linux-agent/agent.h"
#include "mcd_proto.h"
#include "mcd_xs.h"
#include "wait_compat.h"
#include "wchan.h"
#include "wlaunch.h"
#include "wlog.h"
#include "xeniface.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loop {
	const struct wloop_opts *o;
	struct agent agent;
	struct wapp app;

	struct wchan *chan;
	int open;
	long hello_deadline;
	struct mcd_rx *rx;
	uint8_t *tx;

	/* vchan only */
	struct xeniface xi;
	int xi_open;
	int domid;
	char xs_dir[64];
	char xs_vchan[64];
	char xs_agent[64];
	int announced;

	long retry_at;
	long backoff;
	char last_err[256];
};

static ULONGLONG t0;

/* Milliseconds since the agent started, never 0 (agent.c uses 0 as
 * "no timer"). */
static long now_ms(void)
{
	return (long)(GetTickCount64() - t0) + 1;
}

/* ---- what the state machine may do ---- */

static int op_send(void *ctx, const struct mcd_msg *m)
{
	struct loop *l = ctx;
	int n;

	if (!l->chan)
		return -1;
	n = mcd_encode(m, l->tx, MCD_MAX_FRAME);
	if (n < 0) {
		log_warnx("internal: cannot encode %s", mcd_msg_name(m->type));
		return -1;
	}
	return wchan_send(l->chan, l->tx, (size_t)n, WLOOP_SEND_TIMEOUT_MS);
}

static int op_launch(void *ctx, const struct mcd_launch *req, pid_t *pid,
		     uint32_t *code, char *reason, size_t reason_len)
{
	struct loop *l = ctx;

	if (l->app.process) {
		*code = MCD_FAIL_BUSY;
		snprintf(reason, reason_len, "an app still runs");
		return -1;
	}
	/* Windows apps draw on the Windows desktop: X11 modes are for Linux
	 * guests.  The user's storage here is the share from agent.conf. */
	if (req->flags & (MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT)) {
		*code = MCD_FAIL_DISPLAY;
		snprintf(reason, reason_len, "X11 %s mode is not available on Windows guests (launch with --x none)",
			 req->flags & MCD_LAUNCH_X_RELAY ? "relay" : "direct");
		return -1;
	}
	if ((req->volume && req->volume[0]) || req->sharec) {
		*code = MCD_FAIL_STORAGE;
		snprintf(reason, reason_len, "per-launch volumes and shares are not available on Windows guests; the user's share comes from agent.conf");
		return -1;
	}
	if (wlaunch_start(&l->o->conf, req, &l->app, code, reason,
			  reason_len) < 0)
		return -1;
	*pid = (pid_t)l->app.pid;
	return 0;
}

static void op_signal(void *ctx, pid_t pgid, int sig)
{
	struct loop *l = ctx;

	/* Only ever the app's own job. */
	if (!l->app.process || pgid != (pid_t)l->app.pid)
		return;
	log_debug("%s to the job of pid %lu",
		  sig == SIGTERM ? "close request" : "termination",
		  l->app.pid);
	wlaunch_signal(&l->app, sig);
}

static const struct agent_ops loop_ops = {
	.send = op_send, .launch = op_launch, .signal = op_signal,
};

/* ---- XenStore (vchan only) ---- */

static int parse_domid(const char *s)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v >= 0x7ff0)
			return -1;
	}
	return (int)v;
}

static int xs_prepare(struct loop *l, char *err, size_t errlen)
{
	char val[32];

	if (!l->xi_open) {
		if (xi_open(&l->xi, err, errlen) < 0)
			return -1;
		l->xi_open = 1;
	}
	if (l->domid <= 0) {
		/* Relative to /local/domain/<own id>: our own domid. */
		if (xi_store_read(&l->xi, "domid", val, sizeof(val)) < 0 ||
		    (l->domid = parse_domid(val)) <= 0) {
			snprintf(err, errlen, "cannot read the own domid from "
				 "XenStore (error %lu)", GetLastError());
			l->domid = 0;
			return -1;
		}
		snprintf(l->xs_dir, sizeof(l->xs_dir), "/local/domain/%d/%s",
			 l->domid, MCD_XS_GUEST_DIR);
		snprintf(l->xs_vchan, sizeof(l->xs_vchan), "/local/domain/%d/%s",
			 l->domid, MCD_XS_GUEST_VCHAN);
		snprintf(l->xs_agent, sizeof(l->xs_agent), "/local/domain/%d/%s",
			 l->domid, MCD_XS_GUEST_AGENT);
	}
	/* dom0 must never read the ring reference of a server that is gone. */
	xi_store_remove(&l->xi, l->xs_vchan);
	if (!l->announced) {
		snprintf(val, sizeof(val), "%d windows", MCD_PROTO_VERSION_MAX);
		if (xi_store_write(&l->xi, l->xs_agent, val) == 0)
			l->announced = 1;
		else
			log_winerr("writing %s", l->xs_agent);
	}
	return 0;
}

/* ---- the channel ---- */

static void chan_retry_later(struct loop *l, const char *err)
{
	if (strcmp(err, l->last_err) != 0) {
		log_warnx("%s; retrying", err);
		snprintf(l->last_err, sizeof(l->last_err), "%s", err);
	} else {
		log_debug("%s; retrying", err);
	}
	l->retry_at = now_ms() + l->backoff;
	l->backoff = l->backoff * 2 > WLOOP_RETRY_MAX_MS ? WLOOP_RETRY_MAX_MS
							 : l->backoff * 2;
}

static void chan_create(struct loop *l)
{
	char err[256] = "", where[80];

	if (l->o->transport == WLOOP_VCHAN) {
		if (xs_prepare(l, err, sizeof(err)) < 0) {
			chan_retry_later(l, err);
			return;
		}
		snprintf(where, sizeof(where), "%s", l->xs_vchan);
		l->chan = wchan_vchan_server(&l->xi, l->domid, l->xs_vchan,
					     err, sizeof(err));
	} else {
		snprintf(where, sizeof(where), "127.0.0.1:%d", l->o->tcp_port);
		l->chan = wchan_tcp_server(l->o->tcp_port, err, sizeof(err));
	}
	if (!l->chan) {
		chan_retry_later(l, err);
		return;
	}
	l->backoff = WLOOP_RETRY_MIN_MS;
	l->last_err[0] = '\0';
	l->open = 0;
	mcd_rx_init(l->rx);
	log_info("waiting for dom0 on %s", where);
}

static void chan_drop(struct loop *l)
{
	wchan_close(l->chan);
	l->chan = NULL;
	if (l->open)
		agent_disconnected(&l->agent);
	l->open = 0;
	l->retry_at = 0;
}

static ssize_t chan_recv(void *ctx, void *buf, size_t n)
{
	return wchan_recv(ctx, buf, n);
}

/* Read and handle everything dom0 has sent so far. */
static void chan_pump(struct loop *l)
{
	if (l->chan && l->open &&
	    agent_pump(&l->agent, l->rx, chan_recv, l->chan, now_ms()) < 0) {
		chan_drop(l);
		return;
	}
	if (l->chan && wchan_state(l->chan) == WCHAN_CLOSED) {
		log_info("dom0 disconnected");
		chan_drop(l);
	}
}

static void chan_event(struct loop *l)
{
	enum wchan_state st = wchan_ready(l->chan);

	if (st == WCHAN_CLOSED) {
		if (l->open)
			log_info("dom0 disconnected");
		chan_drop(l);
		return;
	}
	if (st != WCHAN_OPEN)
		return;
	if (!l->open) {
		l->open = 1;
		l->hello_deadline = now_ms() + WLOOP_HELLO_TIMEOUT_MS;
		mcd_rx_init(l->rx);
		if (agent_connected(&l->agent) < 0) {
			chan_drop(l);
			return;
		}
	}
	chan_pump(l);
}

/* ---- the app ---- */

static void app_ended(struct loop *l)
{
	int st = wlaunch_exit_status(&l->app);
	int rc = agent_child_exited(&l->agent, (pid_t)l->app.pid, st);

	wlaunch_cleanup(&l->app);
	if (rc < 0 && l->chan)
		chan_drop(l);
	if (l->chan && l->open)
		chan_pump(l); /* a send may have consumed a channel event */
}

/* Stop: ask the app to close, end it after the grace period, and tell
 * dom0 how it ended. */
static void app_stop(struct loop *l)
{
	if (!l->app.process)
		return;
	agent_shutdown(&l->agent);
	if (WaitForSingleObject(l->app.process, WLOOP_STOP_GRACE_MS) !=
	    WAIT_OBJECT_0) {
		log_info("app pid %lu did not close; ending it", l->app.pid);
		wlaunch_signal(&l->app, SIGKILL);
		WaitForSingleObject(l->app.process, 5000);
	}
	app_ended(l);
}

/* ---- the loop ---- */

static DWORD wait_timeout(const struct loop *l, long now)
{
	long next = agent_next_timer(&l->agent);
	long t;

	if (!l->chan && (next == 0 || l->retry_at < next))
		next = l->retry_at ? l->retry_at : now;
	if (l->chan && l->open && !l->agent.hello_done &&
	    (next == 0 || l->hello_deadline < next))
		next = l->hello_deadline;
	if (next == 0)
		return 60000;
	t = next - now;
	if (t < 0)
		t = 0;
	return t > 60000 ? 60000 : (DWORD)t;
}

static void loop_free(struct loop *l)
{
	if (l->chan)
		wchan_close(l->chan);
	l->chan = NULL;
	wchan_net_cleanup();
	wlaunch_cleanup(&l->app);
	if (l->xi_open) {
		if (l->announced)
			xi_store_remove(&l->xi, l->xs_agent);
		xi_close(&l->xi);
	}
	free(l->rx);
	free(l->tx);
}

int wloop_run(const struct wloop_opts *o)
{
	struct loop l;
	int quit = 0;

	memset(&l, 0, sizeof(l));
	t0 = GetTickCount64();
	l.o = o;
	l.backoff = WLOOP_RETRY_MIN_MS;
	agent_init(&l.agent, &loop_ops, &l);
	l.agent.role = MCD_ROLE_AGENT_WINDOWS;
	l.rx = malloc(sizeof(*l.rx));
	l.tx = malloc(MCD_MAX_FRAME);
	if (!l.rx || !l.tx) {
		log_warnx("start-up: out of memory");
		loop_free(&l);
		return 1;
	}
	while (!quit) {
		HANDLE h[3];
		DWORD n = 0, w;
		int ch = -1, app = -1;
		long now = now_ms();

		if (!l.chan && now >= l.retry_at)
			chan_create(&l);
		agent_timer(&l.agent, now);
		if (l.chan && l.open && !l.agent.hello_done &&
		    now >= l.hello_deadline) {
			log_warnx("dom0 sent no HELLO within %d ms; dropping "
				  "the channel", WLOOP_HELLO_TIMEOUT_MS);
			chan_drop(&l);
			continue;
		}
		h[n++] = o->stop_event;
		if (l.chan) {
			ch = (int)n;
			h[n++] = wchan_event(l.chan);
		}
		if (l.app.process) {
			app = (int)n;
			h[n++] = l.app.process;
		}
		w = WaitForMultipleObjects(n, h, FALSE, wait_timeout(&l, now));
		if (w == WAIT_FAILED) {
			log_winerr("waiting");
			Sleep(100);
			continue;
		}
		if (w == WAIT_OBJECT_0) {
			log_info("stop requested");
			quit = 1;
			break;
		}
		if (app >= 0 && w == WAIT_OBJECT_0 + (DWORD)app)
			app_ended(&l);
		if (ch >= 0 && l.chan && w == WAIT_OBJECT_0 + (DWORD)ch)
			chan_event(&l);
		/* The app may have ended while we served the channel. */
		if (l.app.process &&
		    WaitForSingleObject(l.app.process, 0) == WAIT_OBJECT_0)
			app_ended(&l);
	}
	app_stop(&l);
	loop_free(&l);
	log_info("stopped");
	return 0;
}
