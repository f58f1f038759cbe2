/*
 * worker.c - a session's guest-facing side, in a process of its own (see
 * worker.h): the service's half (start, stop, reap) and the worker itself.
 */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>

#include "log.h"
#include "mcd_chan.h"
#include "mcd_proto.h"
#include "mcd_xs.h"
#include "sandbox.h"
#include "xfwd.h"

/* The worker tries the agent's vchan this often, this many times. */
#define WORKER_CONNECT_TRIES 40
#define WORKER_CONNECT_GAP_MS 250
/* How long a worker on its way out gives the service to read its last
 * words (the service reads at once; this only bounds a stuck one). */
#define WORKER_LAST_WORDS_MS 2000
/* Stopped workers not yet reaped; more at once are reaped by waiting. */
#define WORKER_DYING_MAX 64

/* ---- the service's side ---- */

static struct {
	pid_t pid;
	char sid[MCD_SESSION_ID_LEN + 1];
} dying[WORKER_DYING_MAX];
static unsigned ndying;

struct mcd_chan *worker_start(const char *sid, int domid, pid_t *pid,
			      char *err, size_t errlen)
{
	char dom[16], vb[8];
	char *argv[12];
	int sv[2], n = 0;
	pid_t p;

	snprintf(dom, sizeof(dom), "%d", domid);
	snprintf(vb, sizeof(vb), "-v%d", log_verbosity());
	argv[n++] = "mcd-toolstack";
	argv[n++] = "worker";
	argv[n++] = "--domid";
	argv[n++] = dom;
	argv[n++] = "--session";
	argv[n++] = (char *)sid;
	argv[n++] = "--x11-ca";
	argv[n++] = (char *)xfwd_ca();
	argv[n++] = vb;
	argv[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		seterr(err, errlen, "worker: socketpair: %s", strerror(errno));
		return NULL;
	}
	p = fork();
	if (p < 0) {
		seterr(err, errlen, "worker: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (p == 0) {
		/* Only async-signal-safe calls until exec: the service has
		 * threads.  The worker keeps fd 3 and nothing else of ours;
		 * its stdio is /dev/null (its log lines go through fd 3). */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec. */
		if (sv[1] == WORKER_FD ? fcntl(WORKER_FD, F_SETFD, 0) < 0
				       : dup2(sv[1], WORKER_FD) < 0)
			_exit(127);
		closefrom(WORKER_FD + 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	*pid = p;
	return mcd_chan_socket_fd(sv[0], err, errlen);
}

static void reaped(pid_t pid, const char *sid, int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		log_warnx("session %s: its worker (pid %d) died of signal %d (%s)",
			  sid, (int)pid, WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) > 1)
		log_warnx("session %s: its worker (pid %d) exited with status %d",
			  sid, (int)pid, WEXITSTATUS(status));
}

void worker_stop(pid_t pid, const char *sid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	if (ndying == WORKER_DYING_MAX) {
		/* Never more than a few: a killed process goes at once. */
		if (waitpid(pid, &status, 0) == pid)
			reaped(pid, sid, status);
		return;
	}
	dying[ndying].pid = pid;
	snprintf(dying[ndying].sid, sizeof(dying[ndying].sid), "%s", sid);
	ndying++;
}

void worker_reap(void)
{
	for (unsigned i = 0; i < ndying;) {
		int status;
		pid_t r = waitpid(dying[i].pid, &status, WNOHANG);

		if (r == 0) {
			i++;
			continue;
		}
		if (r == dying[i].pid)
			reaped(r, dying[i].sid, status);
		dying[i] = dying[--ndying];
	}
}

/* ---- the worker ---- */

struct wk {
	int domid;
	char sid[MCD_SESSION_ID_LEN + 1];
	struct mcd_chan *svc;     /* to the service (fd 3) */
	struct mcd_chan *agent;   /* the session's vchan */
	struct mcd_rx rx_svc;
	struct mcd_rx rx_agent;
	uint8_t tx[MCD_MAX_FRAME];
	/* The relay: where it goes (W_XCONF) and whether the last launch
	 * asked for it. */
	struct xfwd_addr addr;
	int have_addr;
	int relay;
	struct xfwd *xf;
	int xsend_failed;
	char last_error[MCD_MAX_REASON_LEN + 1]; /* last one told */
	struct log_limit lim;
};

static struct wk *the_wk; /* for the log sink */

static void note(struct wk *w, uint32_t kind, const char *text)
{
	struct mcd_msg m = { .type = MCD_MSG_W_XNOTE };
	char clean[MCD_MAX_REASON_LEN + 1];
	size_t i;
	int n;

	/* Printable ASCII only, like every reason on the wire. */
	for (i = 0; text[i] && i < MCD_MAX_REASON_LEN; i++)
		clean[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	clean[i] = '\0';
	m.u.wxnote.kind = kind;
	m.u.wxnote.text = clean;
	n = mcd_encode(&m, w->tx, sizeof(w->tx));
	if (n > 0)
		mcd_chan_send(w->svc, w->tx, (size_t)n);
}

static void log_to_service(int pri, const char *msg)
{
	static int busy;

	if (busy || !the_wk || (pri == LOG_DEBUG && log_verbosity() < 1))
		return;
	busy = 1;
	note(the_wk, MCD_WX_LOG, msg);
	busy = 0;
}

/* Leave: the service reads what was queued for it, the vchan is closed
 * properly (the agent sees dom0 go), and the process ends. */
static __attribute__((noreturn)) void leave(struct wk *w, int code)
{
	mcd_chan_sync(w->svc, WORKER_LAST_WORDS_MS);
	mcd_chan_close(w->agent);
	mcd_chan_close(w->svc);
	_exit(code);
}

/* The session cannot go on: tell the service why (it fails the session
 * with exactly this line) and leave. */
static __attribute__((noreturn, format(printf, 2, 3))) void
fail(struct wk *w, const char *fmt, ...)
{
	char why[MCD_MAX_REASON_LEN + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	note(w, MCD_WX_FAILED, why);
	leave(w, 1);
}

/* ---- start-up: connect as root, then the sandbox ---- */

static void connect_agent(struct wk *w)
{
	char path[96], err[256] = "";
	/* Only a hang-up: the service's frames wait until we serve. */
	struct pollfd p = { WORKER_FD, 0, 0 };

	snprintf(path, sizeof(path), "/local/domain/%d/" MCD_XS_GUEST_VCHAN,
		 w->domid);
	for (int i = 0; i < WORKER_CONNECT_TRIES; i++) {
		w->agent = mcd_chan_vchan_client(NULL, w->domid, path, err,
						 sizeof(err));
		if (w->agent)
			return;
		/* The service may give up on us meanwhile. */
		if (poll(&p, 1, WORKER_CONNECT_GAP_MS) > 0 &&
		    (p.revents & (POLLHUP | POLLERR)))
			leave(w, 0);
	}
	fail(w, "agent channel: %s", err);
}

/* Beyond what every child may do: connect TCP/IP sockets to the thin
 * client, and the Xen device ioctls of a connected vchan.  No files, no
 * processes. */
static int relay_rules(scmp_filter_ctx f)
{
	static const unsigned long ioctls[] = {
		IOCTL_EVTCHN_NOTIFY, IOCTL_EVTCHN_UNBIND,
		IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, IOCTL_GNTDEV_UNMAP_GRANT_REF,
		IOCTL_GNTDEV_SET_UNMAP_NOTIFY,
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	return rc;
}

/* Become the session's own unprivileged user, for good. */
static void sandbox(struct wk *w)
{
	static const int extra[] = { SCMP_SYS(connect) };
	const char *step;
	int rc;

	/* Read the CA file while files can be read. */
	xfwd_tls_preload();
	rc = sandbox_drop(WORKER_UID_BASE + (uid_t)w->domid, 128, &step);
	if (rc < 0)
		fail(w, "worker: cannot %s: %s", step, strerror(errno));
	/* The service went while we changed: nobody would stop us. */
	if (rc > 0)
		leave(w, 0);
	if (sandbox_seccomp(extra, 1, relay_rules) < 0)
		fail(w, "worker: cannot install its seccomp filter");
}

/* ---- the relay ---- */

static int relay_send(void *ctx, const struct mcd_msg *m)
{
	struct wk *w = ctx;
	int n = mcd_encode(m, w->tx, sizeof(w->tx));

	if (n < 0 || mcd_chan_send(w->agent, w->tx, (size_t)n) < 0) {
		w->xsend_failed = 1;
		return -1;
	}
	return 0;
}

static int relay_room(void *ctx)
{
	struct wk *w = ctx;

	return mcd_chan_has_room(w->agent);
}

static void relay_failed(struct wk *w, const char *err)
{
	if (w->xsend_failed)
		fail(w, "agent did not take X relay data");
	fail(w, "guest protocol error: %s", err);
}

/* Tell the service the relay's newest reason for closing a connection it
 * could not make: it names a display failure the agent reports. */
static void relay_note_error(struct wk *w)
{
	const char *e = w->xf ? xfwd_last_error(w->xf) : "";

	if (!e[0] || !strcmp(e, w->last_error))
		return;
	snprintf(w->last_error, sizeof(w->last_error), "%s", e);
	note(w, MCD_WX_LAST_ERROR, e);
}

static void on_x(struct wk *w, const struct mcd_msg *m)
{
	char err[160] = "";

	if (!w->relay)
		fail(w, "guest protocol error: %s but the launch is not in X relay mode",
		     mcd_msg_name(m->type));
	if (!w->xf) {
		struct xfwd_out out = { relay_send, w, relay_room };

		w->xf = xfwd_new_addr(&w->addr, &out, &w->lim);
		if (!w->xf)
			fail(w, "out of memory for the X relay");
	}
	if (xfwd_message(w->xf, m, err, sizeof(err)) < 0)
		relay_failed(w, err);
	relay_note_error(w);
}

/* W_XCONF: the service's own record of the display, already resolved. */
static void on_xconf(struct wk *w, const struct mcd_wxconf *c)
{
	struct xfwd_addr *a = &w->addr;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

	memset(a, 0, sizeof(*a));
	snprintf(a->display, sizeof(a->display), "%s", c->display);
	snprintf(a->host, sizeof(a->host), "%s", c->host);
	a->port = c->port;
	a->tls = (int)c->tls;
	if (inet_pton(AF_INET, c->addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)c->port);
		a->salen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, c->addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)c->port);
		a->salen = sizeof(*in6);
	} else {
		fail(w, "worker: bad relay address %s", c->addr);
	}
	w->have_addr = 1;
}

/* ---- the two channels ---- */

static void from_agent(struct wk *w);

/* Everything the service sent: W_XCONF is ours, the rest goes to the
 * agent as it came. */
static void from_service(struct wk *w)
{
	char err[160];

	mcd_chan_ready(w->svc);
	for (;;) {
		struct mcd_msg m;
		size_t want, len;
		uint8_t *p = mcd_rx_space(&w->rx_svc, &want);
		ssize_t n = mcd_chan_recv(w->svc, p, want);
		int r;

		if (n < 0)
			leave(w, 0); /* the service closed us: the session's over */
		if (n == 0)
			return;
		r = mcd_rx_commit(&w->rx_svc, (size_t)n, MCD_DIR_TO_WORKER, &m,
				  err, sizeof(err));
		if (r < 0)
			fail(w, "worker: from the service: %s", err);
		if (r == 0)
			continue;
		len = MCD_HDR_LEN + w->rx_svc.hdr.len;
		if (m.type == MCD_MSG_W_XCONF) {
			on_xconf(w, &m.u.wxconf);
			continue;
		}
		if (m.type == MCD_MSG_LAUNCH || m.type == MCD_MSG_LAUNCH2) {
			/* A kept domain's relay was its last launch's. */
			xfwd_free(w->xf);
			w->xf = NULL;
			w->last_error[0] = '\0';
			w->relay = m.type == MCD_MSG_LAUNCH2 && w->have_addr &&
				   (m.u.launch.flags & MCD_LAUNCH_X_RELAY);
		}
		if (mcd_chan_send(w->agent, w->rx_svc.buf, len) < 0) {
			/* The agent went: pass on what it said before (the
			 * service decides what its going means), then leave. */
			if (mcd_chan_state(w->agent) == MCD_CHAN_CLOSED)
				from_agent(w);
			fail(w, "agent did not take %s", mcd_msg_name(m.type));
		}
		/* A LAUNCH2 holds the cookie and share passwords. */
		explicit_bzero(w->rx_svc.buf, len);
	}
}

/* Everything the agent sent: decoded and checked here (the one place a
 * guest's bytes become values), X_* for the relay, the rest passed on. */
static void from_agent(struct wk *w)
{
	char err[160];

	mcd_chan_ready(w->agent);
	for (;;) {
		struct mcd_msg m;
		size_t want;
		uint8_t *p = mcd_rx_space(&w->rx_agent, &want);
		ssize_t n = mcd_chan_recv(w->agent, p, want);
		int r;

		if (n < 0)
			leave(w, 0); /* agent gone: the service reconnects */
		if (n == 0)
			return;
		r = mcd_rx_commit(&w->rx_agent, (size_t)n, MCD_DIR_TO_DOM0, &m,
				  err, sizeof(err));
		if (r < 0)
			fail(w, "guest protocol error: %s", err);
		if (r == 0)
			continue;
		if (m.type >= MCD_MSG_X_OPEN && m.type <= MCD_MSG_X_CLOSE) {
			on_x(w, &m);
			continue;
		}
		if (mcd_chan_send(w->svc, w->rx_agent.buf,
				  MCD_HDR_LEN + w->rx_agent.hdr.len) < 0)
			leave(w, 1);
	}
}

static void run(struct wk *w)
{
	struct pollfd pfd[2 + MCD_MAX_X_CONNS];

	for (;;) {
		unsigned n = 2;

		pfd[0] = (struct pollfd){ mcd_chan_fd(w->svc),
					  mcd_chan_events(w->svc), 0 };
		pfd[1] = (struct pollfd){ mcd_chan_fd(w->agent),
					  mcd_chan_events(w->agent), 0 };
		if (w->xf)
			n += xfwd_pollfds(w->xf, pfd + 2, MCD_MAX_X_CONNS);
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(w, "worker: poll: %s", strerror(errno));
		}
		if (pfd[0].revents)
			from_service(w);
		if (pfd[1].revents)
			from_agent(w);
		for (unsigned i = 2; i < n && w->xf; i++) {
			if (pfd[i].revents && xfwd_event(w->xf, &pfd[i]) < 0)
				relay_failed(w, "");
		}
		relay_note_error(w);
		if (w->xf && mcd_chan_has_room(w->agent) &&
		    xfwd_resume(w->xf) < 0)
			relay_failed(w, "");
	}
}

static int usage_error(const char *what)
{
	fprintf(stderr, "mcd-toolstack worker: %s\n"
		"usage: mcd-toolstack worker --domid N --session SID "
		"[--x11-ca FILE] [-vN]\n(started by the service only)\n", what);
	return 2;
}

int worker_main(int argc, char **argv)
{
	static struct wk w;
	const char *sid = NULL, *ca = NULL;
	char err[160], label[LOG_LIMIT_LABEL_MAX];
	int verbose = 0;
	long domid = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--domid") && i + 1 < argc) {
			char *end;

			domid = strtol(argv[++i], &end, 10);
			if (*end || domid <= 0 || domid >= 32768)
				return usage_error("bad --domid");
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			sid = argv[++i];
		} else if (!strcmp(argv[i], "--x11-ca") && i + 1 < argc) {
			ca = argv[++i];
		} else if (!strncmp(argv[i], "-v", 2)) {
			verbose = atoi(argv[i] + 2);
		} else {
			return usage_error("unexpected argument");
		}
	}
	if (!sid || !mcd_valid_session_id(sid) || domid < 0)
		return usage_error("--domid and --session are needed");
	if (fcntl(WORKER_FD, F_GETFD) < 0)
		return usage_error("no channel to the service on fd 3");
	/* Nothing of a session may reach a core file, from the start. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	log_init("mcd-toolstack worker", 0, verbose);
	w.domid = (int)domid;
	snprintf(w.sid, sizeof(w.sid), "%s", sid);
	snprintf(label, sizeof(label), "session %s", sid);
	log_limit_init(&w.lim, label);
	mcd_rx_init(&w.rx_svc);
	mcd_rx_init(&w.rx_agent);
	w.svc = mcd_chan_socket_fd(WORKER_FD, err, sizeof(err));
	if (!w.svc)
		return usage_error(err);
	the_wk = &w;
	log_set_sink(log_to_service);
	if (ca)
		xfwd_set_ca(ca);
	connect_agent(&w);
	sandbox(&w);
	/* What the agent wrote before we looked raised no event for us:
	 * read it now (a read that finds too little asks for the next). */
	from_agent(&w);
	run(&w);
	return 0;
}
