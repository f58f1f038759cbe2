/*
 * serve.c - the listening parent and its per-connection children; see
 * serve.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mcd_ticket.h"
#include "mcd_tls.h"
#include "request.h"
#include "serve.h"
#include "store.h"

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

/* Split "host:port" (host may be "[v6]").  0, or -1. */
static int
split_addr(const char *addr, char *host, size_t hostlen, char *port,
	   size_t portlen)
{
	const char *colon = strrchr(addr, ':');
	size_t n;

	if (!colon || !colon[1] || strlen(colon + 1) >= portlen)
		return -1;
	n = (size_t)(colon - addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, addr, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* A listening socket on addr; *shown gets "ADDR:PORT" with the port the
 * kernel chose.  The fd, or -1 with a reason. */
static int
listen_on(const char *addr, char *shown, size_t shownlen, char *err,
	  size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[16], h[NI_MAXHOST], p[NI_MAXSERV];
	int fd = -1, one = 1, rc;

	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0) {
		seterr(err, errlen, "--listen %s is not ADDR:PORT", addr);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		seterr(err, errlen, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		seterr(err, errlen, "listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	snprintf(shown, shownlen, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
	return fd;
}

/* Nothing a child holds (passwords, the ticket key) may reach a core
 * file or another process's ptrace. */
static void
child_harden(void)
{
	struct rlimit no = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		log_warn("PR_SET_DUMPABLE");
	if (setrlimit(RLIMIT_CORE, &no) < 0)
		log_warn("RLIMIT_CORE");
}

static void __attribute__((noreturn))
child_main(int fd, SSL_CTX *ctx, const struct request_ctx *rctx)
{
	char peer[64] = "?", err[256];
	sigset_t none;
	SSL *ssl;
	int rc = 1;

	sigemptyset(&none);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	child_harden();
	/* A backstop behind the per-step deadlines of mcd_tls. */
	alarm(SERVE_CHILD_MAX_S);
	mcd_tls_peer_addr(fd, peer, sizeof(peer));
	ssl = mcd_tls_accept(ctx, fd, MCD_TLS_HANDSHAKE_MS, err, sizeof(err));
	if (!ssl) {
		log_info("%s: handshake failed: %s", peer, err);
		close(fd);
		_exit(1);
	}
	if (request_serve(ssl, peer, rctx) == 0)
		rc = 0;
	mcd_tls_close(ssl);
	_exit(rc);
}

static void
reap(unsigned *children)
{
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0)
		if (*children > 0)
			(*children)--;
}

/* Accept one connection and hand it to a new child (or drop it). */
static void
accept_one(int lfd, SSL_CTX *ctx, const struct request_ctx *rctx,
	   unsigned *children, unsigned max)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (*children >= max) {
		log_warnx("%u connections at once: one refused", max);
		close(fd);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(lfd);
		child_main(fd, ctx, rctx);
	}
	if (pid < 0)
		log_warn("fork");
	else
		(*children)++;
	close(fd);
}

/* Signals are blocked except inside ppoll, so none is lost between the
 * flag checks and the wait. */
static int
serve_loop(int lfd, SSL_CTX *ctx, const struct request_ctx *rctx,
	   unsigned max)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	unsigned children = 0;
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!got_term) {
		if (got_chld) {
			got_chld = 0;
			reap(&children);
		}
		if (ppoll(&pfd, 1, NULL, &old) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		if (pfd.revents & POLLIN)
			accept_one(lfd, ctx, rctx, &children, max);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_info("stopping (%u requests still being served)", children);
	return got_term ? 0 : 1;
}

static void
set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* A client that goes away mid-answer is an error return, not death. */
	signal(SIGPIPE, SIG_IGN);
}

/* The store exists and has the current schema before anyone connects. */
static int
check_store(const char *db)
{
	char err[256];
	struct store *s = store_open(db, err, sizeof(err));

	if (!s) {
		log_warnx("%s", err);
		return -1;
	}
	store_close(s);
	return 0;
}

static int
detach(const char *log_file)
{
	if (daemon(1, 0) < 0) {
		log_warn("daemon");
		return -1;
	}
	if (!log_file)
		log_open(NULL, 1);
	return 0;
}

int
serve_main(const struct serve_opts *o)
{
	struct request_ctx rctx = { .db_path = o->db };
	SSL_CTX *ctx = NULL;
	char err[256], shown[320];
	int lfd = -1, rc = 1;

	if (o->log_file && log_open(o->log_file, 0) < 0) {
		log_warn("%s", o->log_file);
		return 1;
	}
	if (check_store(o->db) < 0)
		return 1;
	rctx.ticket_key = mcd_ticket_load_private(o->ticket_key, err,
						  sizeof(err));
	if (!rctx.ticket_key) {
		log_warnx("%s", err);
		return 1;
	}
	ctx = mcd_tls_server_ctx(o->cert, o->key, err, sizeof(err));
	if (!ctx) {
		log_warnx("%s", err);
		goto out;
	}
	set_signals();
	lfd = listen_on(o->listen, shown, sizeof(shown), err, sizeof(err));
	if (lfd < 0) {
		log_warnx("%s", err);
		goto out;
	}
	printf("listening on %s\n", shown);
	fflush(stdout);
	log_info("listening on %s", shown);
	if (!o->foreground && detach(o->log_file) < 0)
		goto out;
	rc = serve_loop(lfd, ctx, &rctx, o->max_children ? o->max_children :
			SERVE_CHILDREN_MAX);
out:
	if (lfd >= 0)
		close(lfd);
	SSL_CTX_free(ctx);
	EVP_PKEY_free(rctx.ticket_key);
	return rc;
}
