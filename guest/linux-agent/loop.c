/*
 * loop.c - the agent's event loop (see loop.h).
 */
#include "loop.h"

#include "agent.h"
#include "appout.h"
#include "launch.h"
#include "log.h"
#include "mcd_chan.h"
#include "mcd_proto.h"
#include "storage.h"
#include "xs.h"
#include "xsess.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xentoollog.h>

struct loop {
	const struct loop_opts *o;
	struct launch_opts launch;
	struct agent agent;

	struct mcd_chan *chan;
	int open;               /* agent_connected() was called */
	long hello_deadline;
	struct mcd_rx *rx;
	uint8_t *tx;            /* MCD_MAX_FRAME bytes */

	int sfd;                /* signalfd */
	int quit;

	/* The session's storage and X side (see op_launch). */
	struct storage storage;
	struct xsess *x;
	struct launch_x xenv;
	struct launch_user user;
	struct appout appout;   /* the app's stdout and stderr */
	int pending;            /* waiting for the X display check */
	uint8_t *pending_req;   /* the LAUNCH2 frame, re-decoded to spawn */
	int pending_len;

	/* vchan only */
	xentoollog_logger *xtl;
	struct axs xs;

	/* server (re-)creation */
	long retry_at;
	long backoff;
	char last_err[256];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void chan_drop(struct loop *l);

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
	if (mcd_chan_send(l->chan, l->tx, (size_t)n) < 0) {
		log_warnx("dom0 does not read the channel (%zu bytes queued)",
			  mcd_chan_pending(l->chan));
		return -1;
	}
	return 0;
}

static int x_room(void *ctx)
{
	struct loop *l = ctx;

	return l->chan && mcd_chan_has_room(l->chan);
}

static int x_send(void *ctx, const struct mcd_msg *m)
{
	return op_send(ctx, m);
}

/* Start the app with its output on a pipe of its own (appout.h). */
static int spawn_app(struct loop *l, const struct mcd_launch *req,
		     const struct launch_x *x, pid_t *pid, uint32_t *code,
		     char *reason, size_t reason_len)
{
	int fd = -1;

	appout_close(&l->appout);
	if (launch_spawn(&l->user, req, x, pid, &fd, code, reason,
			 reason_len) < 0)
		return -1;
	appout_init(&l->appout, fd, stderr);
	return 0;
}

/*
 * The user, then the storage, then (X modes) the X side, whose display
 * check runs in the loop: the request is kept as an encoded frame (its
 * strings point into the receive buffer) and spawned once the check passed.
 */
static int op_launch(void *ctx, const struct mcd_launch *req, pid_t *pid,
		     uint32_t *code, char *reason, size_t reason_len)
{
	struct loop *l = ctx;
	struct xsess_io io = { x_send, l, l->o->conf.x_display, x_room };
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH2 };

	if (launch_prepare(&l->launch, req, &l->user, code, reason,
			   reason_len) < 0)
		return -1;
	if (storage_mount(&l->storage, req, &l->user, code, reason,
			  reason_len) < 0)
		return -1;
	if (!(req->flags & (MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT)))
		return spawn_app(l, req, NULL, pid, code, reason, reason_len);
	m.u.launch = *req;
	l->pending_len = mcd_encode(&m, l->pending_req, MCD_MAX_FRAME);
	if (l->pending_len < 0) {
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "cannot keep the request");
		return -1;
	}
	if (xsess_start(&l->x, req, &l->user, &io, &l->xenv, code, reason,
			reason_len) < 0)
		return -1;
	l->pending = 1;
	return 1;
}

/* The display check passed: start the app of the kept request. */
static void pending_spawn(struct loop *l)
{
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	char err[128];
	uint32_t code = MCD_FAIL_INTERNAL;
	struct mcd_msg m;
	pid_t pid = 0;

	l->pending = 0;
	if (mcd_decode(MCD_MSG_LAUNCH2, MCD_DIR_TO_GUEST,
		       l->pending_req + MCD_HDR_LEN,
		       (size_t)l->pending_len - MCD_HDR_LEN, &m, err,
		       sizeof(err)) < 0) {
		snprintf(reason, sizeof(reason), "kept request: %s", err);
	} else if (spawn_app(l, &m.u.launch, &l->xenv, &pid, &code, reason,
			     sizeof(reason)) == 0) {
		xsess_app_started(l->x, pid);
	} else {
		pid = 0;
	}
	if (agent_launch_done(&l->agent, pid, code, reason) < 0 && l->chan)
		chan_drop(l);
}

static void op_cleanup(void *ctx)
{
	struct loop *l = ctx;

	l->pending = 0;
	xsess_end(l->x);
	l->x = NULL;
	memset(&l->xenv, 0, sizeof(l->xenv));
	storage_unmount(&l->storage);
}

static int op_x_message(void *ctx, const struct mcd_msg *m)
{
	struct loop *l = ctx;

	if (!l->x) {
		log_warnx("protocol error: %s without an X relay",
			  mcd_msg_name(m->type));
		return -1;
	}
	return xsess_message(l->x, m);
}

static void op_signal(void *ctx, pid_t pgid, int sig)
{
	(void)ctx;
	/* Never 0, 1 or negative: those would reach the agent or init. */
	if (pgid <= 1)
		return;
	if (killpg(pgid, sig) < 0 && errno != ESRCH)
		log_warn("signal %d to process group %d", sig, (int)pgid);
}

static const struct agent_ops loop_ops = {
	.send = op_send, .launch = op_launch, .signal = op_signal,
	.cleanup = op_cleanup, .x_message = op_x_message,
};

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
	l->backoff = l->backoff * 2 > LOOP_RETRY_MAX_MS ? LOOP_RETRY_MAX_MS
						       : l->backoff * 2;
}

static void chan_create(struct loop *l)
{
	char err[256] = "";
	const char *where;

	if (l->o->transport == LOOP_VCHAN) {
		if (axs_open(&l->xs, err, sizeof(err)) < 0) {
			chan_retry_later(l, err);
			return;
		}
		/* The announcement is a hint for admins; serve without it. */
		axs_prepare(&l->xs);
		where = l->xs.vchan;
		l->chan = mcd_chan_vchan_server(l->xtl, where, err, sizeof(err));
	} else {
		where = l->o->socket_path;
		l->chan = mcd_chan_socket_server(where, err, sizeof(err));
	}
	if (!l->chan) {
		chan_retry_later(l, err);
		return;
	}
	l->backoff = LOOP_RETRY_MIN_MS;
	l->last_err[0] = '\0';
	l->open = 0;
	mcd_rx_init(l->rx);
	log_info("waiting for dom0 on %s", where);
}

static void chan_drop(struct loop *l)
{
	mcd_chan_close(l->chan);
	l->chan = NULL;
	xsess_channel_lost(l->x);
	if (l->open)
		agent_disconnected(&l->agent);
	l->open = 0;
	/* Offer a new server at once: dom0 may be back already. */
	l->retry_at = 0;
}

static ssize_t chan_recv(void *ctx, void *buf, size_t n)
{
	return mcd_chan_recv(ctx, buf, n);
}

/* Read and handle everything dom0 has sent so far. */
static void chan_pump(struct loop *l)
{
	if (l->chan && l->open &&
	    agent_pump(&l->agent, l->rx, chan_recv, l->chan, now_ms()) < 0) {
		chan_drop(l);
		return;
	}
	if (l->chan && mcd_chan_state(l->chan) == MCD_CHAN_CLOSED) {
		log_info("dom0 disconnected");
		chan_drop(l);
	}
}

static void chan_event(struct loop *l)
{
	enum mcd_chan_state st = mcd_chan_ready(l->chan);

	if (st == MCD_CHAN_CLOSED) {
		if (l->open)
			log_info("dom0 disconnected");
		chan_drop(l);
		return;
	}
	if (st != MCD_CHAN_OPEN)
		return;
	if (!l->open) {
		l->open = 1;
		l->hello_deadline = now_ms() + LOOP_HELLO_TIMEOUT_MS;
		mcd_rx_init(l->rx);
		if (agent_connected(&l->agent) < 0) {
			chan_drop(l);
			return;
		}
	}
	chan_pump(l);
}

/* ---- children and signals ---- */

static void reap(struct loop *l)
{
	/* What the app wrote before it went, ahead of the news. */
	appout_read(&l->appout, now_ms());
	for (;;) {
		siginfo_t si;
		int status;
		int rc;

		/* Look first, reap after: while the app is a zombie its pid,
		 * and so its process group id, cannot be reused, so the agent
		 * can safely kill what is left of the group. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		if (si.si_code == CLD_EXITED)
			status = W_EXITCODE(si.si_status, 0);
		else
			status = W_EXITCODE(0, si.si_status);
		if (xsess_owns_child(l->x, si.si_pid))
			rc = 0; /* the watcher: xsess_event() tells why */
		else
			rc = agent_child_exited(&l->agent, si.si_pid, status);
		while (waitpid(si.si_pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (rc < 0 && l->chan)
			chan_drop(l);
	}
}

static void signal_event(struct loop *l)
{
	struct signalfd_siginfo si;
	int chld = 0;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			chld = 1;
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %u, stopping", si.ssi_signo);
			l->quit = 1;
			break;
		default:
			log_debug("ignoring signal %u", si.ssi_signo);
		}
	}
	if (chld)
		reap(l);
	if (l->chan && l->open)
		chan_pump(l); /* a send may have consumed a channel event */
}

static int signals_setup(struct loop *l)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	l->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return l->sfd < 0 ? -1 : 0;
}

/* ---- the X side ---- */

static void x_event(struct loop *l, const struct pollfd *pfd, int n)
{
	char reason[MCD_MAX_REASON_LEN + 1] = "";

	switch (xsess_event(l->x, pfd, n, reason, sizeof(reason))) {
	case XSESS_NOTHING:
		break;
	case XSESS_DISPLAY_OK:
		if (l->pending)
			pending_spawn(l);
		break;
	case XSESS_DISPLAY_FAILED:
		if (l->pending) {
			l->pending = 0;
			if (agent_launch_done(&l->agent, 0, MCD_FAIL_DISPLAY,
					      reason) < 0 && l->chan)
				chan_drop(l);
		}
		break;
	case XSESS_WINDOW_MAPPED:
		if (agent_ready(&l->agent) < 0 && l->chan)
			chan_drop(l);
		break;
	case XSESS_CHANNEL_ERROR:
		if (l->chan)
			chan_drop(l);
		break;
	}
}

/* ---- the loop ---- */

static int poll_timeout(const struct loop *l, long now)
{
	long next = agent_next_timer(&l->agent);
	long t;

	if (!l->chan && (next == 0 || l->retry_at < next))
		next = l->retry_at ? l->retry_at : now;
	if (l->chan && l->open && !l->agent.hello_done &&
	    (next == 0 || l->hello_deadline < next))
		next = l->hello_deadline;
	if (next == 0)
		return -1;
	t = next - now;
	if (t < 0)
		t = 0;
	return t > 60000 ? 60000 : (int)t;
}

static void loop_free(struct loop *l)
{
	if (l->chan)
		mcd_chan_close(l->chan);
	l->chan = NULL;
	axs_close(&l->xs, 1);
	if (l->xtl)
		xtl_logger_destroy(l->xtl);
	if (l->sfd >= 0)
		close(l->sfd);
	xsess_end(l->x);
	l->x = NULL;
	storage_unmount(&l->storage);
	appout_close(&l->appout);
	free(l->rx);
	free(l->tx);
	free(l->pending_req);
}

int loop_run(const struct loop_opts *o)
{
	struct loop l;

	memset(&l, 0, sizeof(l));
	l.o = o;
	l.sfd = -1;
	l.launch.create_users = o->conf.create_users;
	l.backoff = LOOP_RETRY_MIN_MS;
	agent_init(&l.agent, &loop_ops, &l);
	appout_init(&l.appout, -1, stderr);
	l.rx = malloc(sizeof(*l.rx));
	l.tx = malloc(MCD_MAX_FRAME);
	l.pending_req = malloc(MCD_MAX_FRAME);
	if (!l.rx || !l.tx || !l.pending_req || signals_setup(&l) < 0) {
		log_warn("start-up");
		loop_free(&l);
		return 1;
	}
	if (o->transport == LOOP_VCHAN) {
		l.xtl = (xentoollog_logger *)xtl_createlogger_stdiostream(
			stderr, log_verbosity() > 1 ? XTL_DEBUG : XTL_ERROR, 0);
	}

	while (!l.quit) {
		struct pollfd pfd[3 + LOOP_MAX_XFDS];
		long now = now_ms();
		nfds_t n = 1;
		int nx;

		if (!l.chan && now >= l.retry_at)
			chan_create(&l);
		agent_timer(&l.agent, now);
		if (l.chan && l.open && !l.agent.hello_done &&
		    now >= l.hello_deadline) {
			log_warnx("dom0 sent no HELLO within %d ms; dropping "
				  "the channel", LOOP_HELLO_TIMEOUT_MS);
			chan_drop(&l);
			continue;
		}
		pfd[0].fd = l.sfd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (l.chan) {
			pfd[1].fd = mcd_chan_fd(l.chan);
			pfd[1].events = mcd_chan_events(l.chan);
			pfd[1].revents = 0;
		} else {
			pfd[1].fd = -1; /* poll ignores it */
			pfd[1].events = 0;
			pfd[1].revents = 0;
		}
		/* poll ignores a negative fd: no app output to read. */
		pfd[2] = (struct pollfd){ l.appout.fd, POLLIN, 0 };
		n = 3;
		nx = xsess_pollfds(l.x, pfd + 3, LOOP_MAX_XFDS);
		n += (nfds_t)nx;
		if (poll(pfd, n, poll_timeout(&l, now)) < 0) {
			if (errno != EINTR)
				log_warn("poll");
			continue;
		}
		/* The app's last lines before the news of its exit. */
		if (pfd[2].revents)
			appout_read(&l.appout, now_ms());
		if (pfd[0].revents)
			signal_event(&l);
		if (l.quit)
			break;
		if (l.chan && pfd[1].revents)
			chan_event(&l);
		if (nx > 0 && l.x)
			x_event(&l, pfd + 3, nx);
	}
	agent_shutdown(&l.agent);
	loop_free(&l);
	log_info("stopped");
	return 0;
}
