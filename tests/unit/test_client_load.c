/*
 * test_client_load.c - mcd-client against fake site servers over real TLS
 * on loopback: the parallel load query (client/loadq.c) with fast,
 * silent, lying and foreign-CA pools, the whole `run` command (the built
 * binary, MCD_CLIENT_BIN) against a fake broker and a fake pool, `pools`
 * (every pool's answer shown), and `menu` under Xvfb driven by xdotool (skipped when they are missing).
 *
 * Each fake server is a thread of this process serving its connections
 * one after the other with the site module's server side, so what the
 * client meets is what a real broker or pool master would send.
 * Certificates come from scripts/mcd-site-certs (or $MCD_SITE_CERTS) in a
 * temporary directory: the site CA, and a second CA no client trusts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "loadq.h"
#include "mcd_ticket.h"
#include "mcd_tls.h"
#include "pick.h"
#include "state.h"
#include "talk.h"

#ifndef MCD_CLIENT_BIN
#define MCD_CLIENT_BIN "build/client/mcd-client"
#endif

#define IO_MS 2000
#define SID "0123456789abcdef"
#define END_KEY "00112233445566778899aabbccddeeff"
#define TOKEN "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

extern char **environ;

/* How a fake server treats each connection. */
enum mode {
	M_FAST,     /* pool: LOAD_OK at once; LAUNCH as launch says */
	M_MUTE,     /* pool: takes the TCP connection, never speaks TLS */
	M_SILENT,   /* pool: HELLO, then never answers LOAD */
	M_GARBAGE,  /* pool: HELLO, then bytes that are no frame */
	M_BROKER,   /* broker: APPS, TICKET_REQ (signed ticket), NOTE */
	M_DENY,     /* broker: as M_BROKER, but TICKET_REQ gets DENIED */
};

/* What a fast pool answers a LAUNCH with. */
enum launch { L_FLOW, L_NO_ROOM };

struct fake {
	const char *name;  /* the pool's name (its certificate's) */
	enum mode mode;
	enum launch launch;
	SSL_CTX *ctx;
	int lfd;
	pthread_t thr;
	int stop;          /* __atomic: the test is done with it */
	char addr[64];
	char notes[64];    /* broker: the NOTE states, comma-separated */
	int nnotes;        /* __atomic: how many, for a test that polls */
	int ticket_ok;     /* pool: the LAUNCH's ticket passed its checks */
};

static char dir[] = "/tmp/mcd-client-load-XXXXXX";
static SSL_CTX *pools_ctx, *rogue_ctx, *broker_ctx, *client_ctx;
static EVP_PKEY *priv, *pub;
/* Where the fake broker says the pools are. */
static struct fake *fast_pool, *junk_pool, *silent_pool;

/* ---- setup ---- */

static const char *in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* The site CA with one certificate for every pool name used here and one
 * for the broker (by address, as the client's default server_name is the
 * host part of `server`), and a foreign CA with a "rogue" pool. */
static int make_certs(void)
{
	const char *c = getenv("MCD_SITE_CERTS");

	if (!c)
		c = "scripts/mcd-site-certs";
	return sh("%s %s ca >/dev/null && %s %s cert pools --ip 127.0.0.1 "
		  "--dns fast --dns mute --dns silent --dns junk >/dev/null && "
		  "%s %s cert broker --ip 127.0.0.1 >/dev/null && "
		  "mkdir %s/other && %s %s/other ca >/dev/null && "
		  "%s %s/other cert rogue --ip 127.0.0.1 >/dev/null",
		  c, dir, c, dir, c, dir, dir, c, dir, c, dir);
}

static SSL_CTX *server_ctx(const char *sub, const char *name)
{
	char cert[256], key[256], e[256];

	snprintf(cert, sizeof(cert), "%s/%s%s.pem", dir, sub, name);
	snprintf(key, sizeof(key), "%s/%s%s.key", dir, sub, name);
	return mcd_tls_server_ctx(cert, key, e, sizeof(e));
}

static int make_keys(void)
{
	char a[256], b[256], e[256];

	if (mcd_ticket_keygen(in_dir(a, sizeof(a), "ticket.key"),
			      in_dir(b, sizeof(b), "ticket.pub"), e,
			      sizeof(e)) < 0)
		return -1;
	priv = mcd_ticket_load_private(a, e, sizeof(e));
	pub = mcd_ticket_load_public(b, e, sizeof(e));
	return priv && pub ? 0 : -1;
}

static int setup(void **state)
{
	char ca[256], e[256];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir) || make_certs() < 0 || make_keys() < 0)
		return -1;
	pools_ctx = server_ctx("", "pools");
	broker_ctx = server_ctx("", "broker");
	rogue_ctx = server_ctx("other/", "rogue");
	client_ctx = mcd_tls_client_ctx(in_dir(ca, sizeof(ca), "ca.pem"), e,
					sizeof(e));
	return pools_ctx && broker_ctx && rogue_ctx && client_ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	SSL_CTX_free(pools_ctx);
	SSL_CTX_free(broker_ctx);
	SSL_CTX_free(rogue_ctx);
	SSL_CTX_free(client_ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return sh("rm -rf %s", dir);
}

/* ---- fake servers: frames ---- */

static int send_out(SSL *ssl, struct mcd_site_out *o, unsigned dir_to)
{
	char e[256];

	return mcd_site_finish(o, dir_to, e, sizeof(e)) == 0 &&
	       mcd_tls_send(ssl, o, IO_MS, e, sizeof(e)) == 0 ? 0 : -1;
}

static void send_load_ok(SSL *ssl, const char *pool)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_LOAD_OK);
	mcd_site_put_str(&o, MCD_ST_POOL, pool);
	mcd_site_put_u32(&o, MCD_ST_LEVEL, 2);
	mcd_site_put_u32(&o, MCD_ST_LOAD, 100);
	mcd_site_put_u32(&o, MCD_ST_ROOM, 1);
	mcd_site_put_str(&o, MCD_ST_LIMIT, "memory");
	send_out(ssl, &o, MCD_SITE_P2C);
}

/* Until the client closes (or gives up): a silent pool's whole answer. */
static void say_nothing(SSL *ssl)
{
	struct mcd_site_msg m;
	char e[256];

	mcd_tls_recv(ssl, MCD_SITE_C2P, &m, 5000, e, sizeof(e));
}

/* What a confused web server might send: no frame header the client
 * knows, and a newline that must not reach the reason's one line. */
static void send_garbage(SSL *ssl)
{
	static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

	SSL_write(ssl, junk, sizeof(junk) - 1);
	say_nothing(ssl);
}

/* ---- fake pool: the launch ---- */

static int ticket_passes(const struct mcd_site_msg *launch)
{
	struct mcd_ticket_expect ex = { .pool = "fast", .level = 2,
					.peer_addr = "127.0.0.1",
					.now = time(NULL) };
	static struct mcd_site_msg body;
	struct mcd_ticket t;
	size_t blen, slen;
	const uint8_t *b = mcd_site_bytes(launch, MCD_ST_TICKET, &blen);
	const uint8_t *s = mcd_site_bytes(launch, MCD_ST_SIG, &slen);
	char e[256];

	return mcd_ticket_check(pub, b, blen, s, slen, &ex, &body, &t, e,
				sizeof(e)) == 0 && !strcmp(t.app, "xterm");
}

static void send_failed(SSL *ssl, uint32_t code, const char *text)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_FAILED);
	mcd_site_put_u32(&o, MCD_ST_CODE, code);
	mcd_site_put_str(&o, MCD_ST_TEXT, text);
	send_out(ssl, &o, MCD_SITE_P2C);
}

/* WAIT, READY, ENDED: a launch that queues, runs and ends. */
static void send_flow(SSL *ssl)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_WAIT);
	mcd_site_put_str(&o, MCD_ST_STATE, "queued");
	mcd_site_put_str(&o, MCD_ST_TEXT, "queued for room");
	send_out(ssl, &o, MCD_SITE_P2C);
	mcd_site_begin(&o, MCD_SITE_READY);
	mcd_site_put_str(&o, MCD_ST_SESSION, SID);
	mcd_site_put_str(&o, MCD_ST_END_KEY, END_KEY);
	send_out(ssl, &o, MCD_SITE_P2C);
	mcd_site_begin(&o, MCD_SITE_ENDED);
	mcd_site_put_str(&o, MCD_ST_SESSION, SID);
	mcd_site_put_str(&o, MCD_ST_TEXT, "app exited");
	send_out(ssl, &o, MCD_SITE_P2C);
}

static void pool_launch(struct fake *f, SSL *ssl,
			const struct mcd_site_msg *m)
{
	if (!ticket_passes(m)) {
		send_failed(ssl, MCD_SITE_E_TICKET, "ticket refused");
		return;
	}
	f->ticket_ok = 1;
	if (f->launch == L_NO_ROOM)
		send_failed(ssl, MCD_SITE_E_NO_ROOM, "pool is full (memory)");
	else
		send_flow(ssl);
}

static void pool_conn(struct fake *f, SSL *ssl)
{
	static __thread struct mcd_site_msg m;
	char e[256];

	if (mcd_tls_hello_server(ssl, MCD_SITE_C2P, IO_MS, e, sizeof(e)) < 0 ||
	    mcd_tls_recv(ssl, MCD_SITE_C2P, &m, IO_MS, e, sizeof(e)) < 0)
		return;
	if (m.type == MCD_SITE_LAUNCH)
		pool_launch(f, ssl, &m);
	else if (f->mode == M_SILENT)
		say_nothing(ssl);
	else if (f->mode == M_GARBAGE)
		send_garbage(ssl);
	else if (m.type == MCD_SITE_LOAD)
		send_load_ok(ssl, f->name);
}

/* ---- fake broker ---- */

static void send_pool(SSL *ssl, const struct fake *f)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_POOL);
	mcd_site_put_str(&o, MCD_ST_POOL, f->name);
	mcd_site_put_str(&o, MCD_ST_ADDRESS, f->addr);
	mcd_site_put_u32(&o, MCD_ST_LEVEL, 2);
	send_out(ssl, &o, MCD_SITE_B2C);
}

/* One app, xterm, on the fast pool, a pool that answers junk and one
 * that never answers. */
static void send_apps(SSL *ssl)
{
	struct mcd_site_out o;

	mcd_site_begin(&o, MCD_SITE_APP);
	mcd_site_put_str(&o, MCD_ST_APP, "xterm");
	mcd_site_put_str(&o, MCD_ST_NAME, "XTerm");
	mcd_site_put_str(&o, MCD_ST_OS, "linux");
	mcd_site_put_u32(&o, MCD_ST_LEVEL, 2);
	mcd_site_put_str(&o, MCD_ST_POOL, "fast");
	mcd_site_put_str(&o, MCD_ST_POOL, "junk");
	mcd_site_put_str(&o, MCD_ST_POOL, "silent");
	send_out(ssl, &o, MCD_SITE_B2C);
	send_pool(ssl, fast_pool);
	send_pool(ssl, junk_pool);
	send_pool(ssl, silent_pool);
	mcd_site_begin(&o, MCD_SITE_LIST_END);
	send_out(ssl, &o, MCD_SITE_B2C);
}

/* TICKET_OK for what the client asked, signed as a broker signs. */
static void send_ticket(SSL *ssl, const struct mcd_site_msg *req)
{
	static uint8_t body[MCD_SITE_TICKET_MAX];
	uint32_t now = (uint32_t)time(NULL);
	struct mcd_ticket t = {
		.user = "alice", .app = mcd_site_str(req, MCD_ST_APP),
		.level = 2, .template_name = "linux-base",
		.program = "/usr/bin/xterm", .pool = mcd_site_str(req, MCD_ST_POOL),
		.display = mcd_site_str(req, MCD_ST_DISPLAY),
		.issued = now, .expires = now + MCD_TICKET_LIFE_DEFAULT,
	};
	static struct mcd_site_out o;
	uint8_t sig[MCD_SITE_SIG_LEN];
	size_t blen;
	char e[256];

	if (mcd_ticket_sign(priv, &t, body, sizeof(body), &blen, sig, e,
			    sizeof(e)) < 0) {
		mcd_tls_send_error(ssl, MCD_SITE_E_INTERNAL, IO_MS, "%s", e);
		return;
	}
	mcd_site_begin(&o, MCD_SITE_TICKET_OK);
	mcd_site_put_bytes(&o, MCD_ST_TICKET, body, blen);
	mcd_site_put_bytes(&o, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_str(&o, MCD_ST_POOL, t.pool);
	mcd_site_put_str(&o, MCD_ST_ADDRESS, fast_pool->addr);
	mcd_site_put_u32(&o, MCD_ST_EXPIRES, t.expires);
	send_out(ssl, &o, MCD_SITE_B2C);
}

static void note(struct fake *f, SSL *ssl, const struct mcd_site_msg *m)
{
	struct mcd_site_out o;
	size_t n = strlen(f->notes);

	snprintf(f->notes + n, sizeof(f->notes) - n, "%s%s", n ? "," : "",
		 mcd_site_str(m, MCD_ST_STATE));
	__atomic_add_fetch(&f->nnotes, 1, __ATOMIC_RELEASE);
	mcd_site_begin(&o, MCD_SITE_OK);
	send_out(ssl, &o, MCD_SITE_B2C);
}

static void broker_conn(struct fake *f, SSL *ssl)
{
	static __thread struct mcd_site_msg m;
	char e[256];

	if (mcd_tls_hello_server(ssl, MCD_SITE_C2B, IO_MS, e, sizeof(e)) < 0 ||
	    mcd_tls_recv(ssl, MCD_SITE_C2B, &m, IO_MS, e, sizeof(e)) < 0)
		return;
	if (m.type == MCD_SITE_APPS)
		send_apps(ssl);
	else if (m.type == MCD_SITE_TICKET_REQ && f->mode == M_DENY)
		mcd_tls_send_error(ssl, MCD_SITE_E_DENIED, IO_MS,
				   "level 2 is not yours");
	else if (m.type == MCD_SITE_TICKET_REQ)
		send_ticket(ssl, &m);
	else if (m.type == MCD_SITE_NOTE)
		note(f, ssl, &m);
}

/* ---- fake servers: the thread ---- */

static int stopped(struct fake *f)
{
	return __atomic_load_n(&f->stop, __ATOMIC_ACQUIRE);
}

/* Hold a bare TCP connection until the test is done. */
static void hold(struct fake *f, int fd)
{
	while (!stopped(f))
		poll(NULL, 0, 20);
	close(fd);
}

static void serve_one(struct fake *f, int fd)
{
	char e[256];
	SSL *ssl;

	if (f->mode == M_MUTE) {
		hold(f, fd);
		return;
	}
	ssl = mcd_tls_accept(f->ctx, fd, IO_MS, e, sizeof(e));
	if (!ssl) {
		close(fd);
		return;
	}
	if (f->mode == M_BROKER || f->mode == M_DENY)
		broker_conn(f, ssl);
	else
		pool_conn(f, ssl);
	mcd_tls_close(ssl);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };

	while (!stopped(f)) {
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve_one(f, fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, const char *name, enum mode mode,
		       SSL_CTX *ctx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->mode = mode;
	f->ctx = ctx;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&f->thr, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	pthread_join(f->thr, NULL);
	close(f->lfd);
}

/* ---- the load query ---- */

/* loadq_run over pools; the milliseconds it took. */
static int64_t query(const struct fake *const *f, size_t n, int timeout_ms,
		     struct pick_load *out, int *timed_out)
{
	struct loadq_pool q[8];
	int64_t t0 = talk_now_ms();

	for (size_t i = 0; i < n; i++) {
		q[i].pool = f[i]->name;
		q[i].address = f[i]->addr;
	}
	assert_int_equal(loadq_run(client_ctx, q, n, timeout_ms, out,
				   timed_out), 0);
	return talk_now_ms() - t0;
}

/* A pool that never speaks TLS and one that never answers LOAD are both
 * skipped as timed out, by the deadline, and the fast one is chosen. */
static void test_silent_skipped_fast_chosen(void **state)
{
	struct fake mute, silent, fast;
	const struct fake *f[] = { &mute, &fast, &silent };
	struct pick_load out[3];
	int timed_out[3];
	size_t chosen = 99;
	int64_t took;

	(void)state;
	fake_start(&mute, "mute", M_MUTE, pools_ctx);
	fake_start(&silent, "silent", M_SILENT, pools_ctx);
	fake_start(&fast, "fast", M_FAST, pools_ctx);
	took = query(f, 3, 800, out, timed_out);
	assert_true(took >= 700);
	assert_true(took < 800 + 200 + 700);
	assert_true(out[1].answered);
	assert_int_equal(out[1].load, 100);
	assert_string_equal(out[1].pool, "fast");
	for (int i = 0; i < 3; i += 2) {
		assert_false(out[i].answered);
		assert_true(timed_out[i]);
	}
	assert_int_equal(pick_pool(out, 3, 0, &chosen), PICK_OK);
	assert_int_equal(chosen, 1);
	fake_stop(&mute);
	fake_stop(&silent);
	fake_stop(&fast);
}

/* Every pool fast: the query ends when the last answers, not at the
 * deadline. */
static void test_fast_pools_do_not_wait(void **state)
{
	struct fake a, b;
	const struct fake *f[] = { &a, &b };
	struct pick_load out[2];
	int timed_out[2];

	(void)state;
	fake_start(&a, "fast", M_FAST, pools_ctx);
	fake_start(&b, "junk", M_FAST, pools_ctx);
	assert_true(query(f, 2, 5000, out, timed_out) < 2500);
	assert_true(out[0].answered && out[1].answered);
	assert_false(timed_out[0] || timed_out[1]);
	fake_stop(&a);
	fake_stop(&b);
}

/* A certificate from another CA: refused at the handshake, at once. */
static void test_foreign_ca_refused(void **state)
{
	struct fake rogue;
	const struct fake *f[] = { &rogue };
	struct pick_load out[1];
	int timed_out[1];

	(void)state;
	fake_start(&rogue, "rogue", M_FAST, rogue_ctx);
	assert_true(query(f, 1, 3000, out, timed_out) < 2500);
	assert_false(out[0].answered);
	assert_false(timed_out[0]);
	assert_non_null(strstr(out[0].text, "certificate verify failed"));
	fake_stop(&rogue);
}

/* Bytes that are no frame: skipped with one line saying why. */
static void test_garbage_skipped(void **state)
{
	struct fake junk;
	const struct fake *f[] = { &junk };
	struct pick_load out[1];
	int timed_out[1];

	(void)state;
	fake_start(&junk, "junk", M_GARBAGE, pools_ctx);
	assert_true(query(f, 1, 3000, out, timed_out) < 2500);
	assert_false(out[0].answered);
	assert_false(timed_out[0]);
	assert_true(strlen(out[0].text) > 0);
	assert_null(strpbrk(out[0].text, "\r\n"));
	fake_stop(&junk);
}

/* ---- the whole run, with the built binary ---- */

struct site {
	struct fake broker, fast, junk, silent;
	char conf[256], state[256], out[256], err[256];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Config, state directory and a saved login for the client. */
static void client_files(struct site *s)
{
	struct state_token t = { .token = TOKEN, .user = "alice", .level = 2,
				 .expires = time(NULL) + 3600 };
	char text[1024], e[256];

	in_dir(s->state, sizeof(s->state), "state");
	in_dir(s->conf, sizeof(s->conf), "client.conf");
	in_dir(s->out, sizeof(s->out), "run.out");
	in_dir(s->err, sizeof(s->err), "run.err");
	snprintf(text, sizeof(text), "server = %s\nca = %s/ca.pem\n"
		 "state_dir = %s\nxauthority = %s/no-xauthority\n"
		 "load_timeout_ms = 1000\n", s->broker.addr, dir, s->state, dir);
	write_file(s->conf, text);
	sh("rm -rf %s", s->state);
	assert_int_equal(state_prepare(s->state, e, sizeof(e)), 0);
	assert_int_equal(state_token_save(s->state, &t, e, sizeof(e)), 0);
}

/* The broker's three pools, each in its own mode (a site where nobody
 * answers is one of them all silent). */
static void site_start_modes(struct site *s, enum mode broker,
			     enum launch launch, enum mode fast, enum mode junk)
{
	fake_start(&s->fast, "fast", fast, pools_ctx);
	s->fast.launch = launch;
	fast_pool = &s->fast;
	fake_start(&s->junk, "junk", junk, pools_ctx);
	junk_pool = &s->junk;
	fake_start(&s->silent, "silent", M_SILENT, pools_ctx);
	silent_pool = &s->silent;
	fake_start(&s->broker, "broker", broker, broker_ctx);
	client_files(s);
}

static void site_start(struct site *s, enum mode broker, enum launch launch)
{
	site_start_modes(s, broker, launch, M_FAST, M_GARBAGE);
}

static void site_stop(struct site *s)
{
	fake_stop(&s->broker);
	fake_stop(&s->fast);
	fake_stop(&s->junk);
	fake_stop(&s->silent);
}

/* Wait up to 30 s for pid; its exit code, or -1. */
static int reap(pid_t pid)
{
	int status;

	for (int i = 0; i < 3000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* The built binary with argv, its output in s->out and s->err. */
static int client_argv(struct site *s, char **argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, s->out,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, s->err,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	return reap(pid);
}

/* `mcd-client run xterm`. */
static int run_client(struct site *s)
{
	char *argv[] = { MCD_CLIENT_BIN, "--config", s->conf, "run",
			 "--display", "127.0.0.1:0", "xterm", NULL };

	return client_argv(s, argv);
}

/* `mcd-client pools xterm`, with --json when json. */
static int pools_client(struct site *s, int json)
{
	char *argv[] = { MCD_CLIENT_BIN, "--config", s->conf, "pools",
			 "xterm", json ? "--json" : NULL, NULL };

	return client_argv(s, argv);
}

static char *slurp(const char *path)
{
	static char buf[2][8192];
	static int which;
	char *b = buf[which++ % 2];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(b, 1, sizeof(buf[0]) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* A line of text that starts with prefix (NULL if none). */
static const char *line_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, prefix, n))
			return p;
	return NULL;
}

static void test_run_waits_runs_ends(void **state)
{
	char ids[4][STATE_SESSION_LEN + 1], e[256];
	struct site s;
	const char *out, *err;

	(void)state;
	site_start(&s, M_BROKER, L_FLOW);
	assert_int_equal(run_client(&s), 0);
	out = slurp(s.out);
	err = slurp(s.err);
	assert_string_equal(out, "waiting: queued for room\n"
			    "ready: session " SID " on pool fast\n"
			    "ended: session " SID " (app exited)\n");
	/* The junk and silent pools are skipped, each with one line; nothing
	 * else failed. */
	assert_non_null(line_with(err, "mcd-client: pool junk: "));
	assert_non_null(line_with(err, "mcd-client: pool silent did not answer "
				  "the load query in 1000 ms; skipped\n"));
	assert_null(strstr(err, "could not tell"));
	site_stop(&s);
	assert_true(s.fast.ticket_ok);
	assert_string_equal(s.broker.notes, "ready,ended");
	/* The ended session's record is gone. */
	assert_int_equal(state_session_list(s.state, ids, 4, e, sizeof(e)), 0);
}

static void test_run_no_room_exits_3(void **state)
{
	struct site s;

	(void)state;
	site_start(&s, M_BROKER, L_NO_ROOM);
	assert_int_equal(run_client(&s), TALK_NO_ROOM);
	assert_non_null(line_with(slurp(s.err), "mcd-client: launch failed: "
				  "pool is full (memory) (no-room)"));
	assert_string_equal(slurp(s.out), "");
	site_stop(&s);
}

static void test_run_denied_exits_4(void **state)
{
	struct site s;

	(void)state;
	site_start(&s, M_DENY, L_FLOW);
	assert_int_equal(run_client(&s), TALK_DENIED);
	assert_non_null(strstr(slurp(s.err), "level 2 is not yours"));
	site_stop(&s);
	assert_false(s.fast.ticket_ok);
}

/* ---- pools: what run asks before it picks, shown ---- */

/* Whether the line at line (up to its newline) holds needle. */
static int line_has(const char *line, const char *needle)
{
	const char *hit = line ? strstr(line, needle) : NULL;
	const char *nl = line ? strchr(line, '\n') : NULL;

	return hit && (!nl || hit < nl);
}

/* The fast pool's figures, the silent one timed out, the junk one
 * skipped with its reason; one pool answered, so exit 0. */
static void test_pools_shows_each(void **state)
{
	struct site s;
	const char *out, *fast, *silent, *junk;

	(void)state;
	site_start(&s, M_BROKER, L_FLOW);
	assert_int_equal(pools_client(&s, 0), 0);
	out = slurp(s.out);
	assert_non_null(line_with(out, "POOL "));
	fast = line_with(out, "fast ");
	silent = line_with(out, "silent ");
	junk = line_with(out, "junk ");
	assert_true(line_has(fast, s.fast.addr));
	assert_true(line_has(fast, " 0.100 yes  memory\n"));
	assert_true(line_has(silent, s.silent.addr));
	assert_true(line_has(silent, "skipped: timed out after 1000 ms\n"));
	assert_true(line_has(junk, "skipped: "));
	assert_false(line_has(junk, "timed out"));
	assert_string_equal(slurp(s.err), "");
	site_stop(&s);
	/* Nothing was launched, nothing noted. */
	assert_string_equal(s.broker.notes, "");
	assert_false(s.fast.ticket_ok);
}

static void test_pools_json(void **state)
{
	struct site s;
	const char *out;

	(void)state;
	site_start(&s, M_BROKER, L_FLOW);
	assert_int_equal(pools_client(&s, 1), 0);
	out = slurp(s.out);
	assert_int_equal(out[0], '[');
	assert_non_null(strstr(out, "{\"pool\":\"fast\",\"address\":\""));
	assert_non_null(strstr(out, "\"answered\":true,\"load\":0.100,"
			       "\"room\":true,\"limit\":\"memory\""));
	assert_non_null(strstr(out, "\"pool\":\"silent\""));
	assert_non_null(strstr(out, "\"timed_out\":true,\"skipped\":"
			       "\"timed out after 1000 ms\""));
	site_stop(&s);
}

/* No pool answers: every one is still listed, and the exit status says
 * none answered. */
static void test_pools_none_answered_exits_1(void **state)
{
	struct site s;
	const char *out;

	(void)state;
	site_start_modes(&s, M_BROKER, L_FLOW, M_SILENT, M_SILENT);
	assert_int_equal(pools_client(&s, 0), TALK_FAILED);
	out = slurp(s.out);
	assert_true(line_has(line_with(out, "fast "), "skipped: timed out"));
	assert_true(line_has(line_with(out, "junk "), "skipped: timed out"));
	assert_true(line_has(line_with(out, "silent "), "skipped: timed out"));
	assert_non_null(line_with(slurp(s.err), "mcd-client: no pool of this "
				  "app answered\n"));
	site_stop(&s);
}

/* A usage mistake: one line, exit 2, before any network. */
static void test_pools_usage(void **state)
{
	struct site s;
	char *argv[] = { MCD_CLIENT_BIN, "--config", NULL, "pools", NULL };
	const char *err;

	(void)state;
	site_start(&s, M_BROKER, L_FLOW);
	argv[2] = s.conf;
	assert_int_equal(client_argv(&s, argv), TALK_USAGE);
	err = slurp(s.err);
	assert_non_null(line_with(err, "mcd-client pools: give one APP (usage: "
				  "mcd-client pools APP [--json])\n"));
	assert_int_equal(strchr(err, '\n')[1], '\0');
	site_stop(&s);
}

/* ---- the menu, under Xvfb when it is installed ---- */

/* What a menu test started, for its teardown to stop even when an
 * assertion cut the test short. */
static pid_t xvfb_pid, menu_pid;

static int menu_teardown(void **state)
{
	(void)state;
	for (pid_t *p = &menu_pid; p; p = p == &menu_pid ? &xvfb_pid : NULL)
		if (*p > 0) {
			kill(*p, SIGKILL);
			waitpid(*p, NULL, 0);
			*p = 0;
		}
	unsetenv("DISPLAY");
	return 0;
}

/* A line from fd within timeout_ms (without its newline).  0, or -1. */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	int64_t until = talk_now_ms() + timeout_ms;

	while (n + 1 < len) {
		int left = (int)(until - talk_now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0 ||
		    read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* argv with fd 1 on out_fd (on /dev/null when out_fd < 0: a server left
 * behind must not hold the runner's output open) and fd 2 on err_path;
 * extra_fd, when >= 0, becomes fd 3. */
static pid_t spawn(char **argv, int out_fd, const char *err_path,
		   int extra_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
						 0);
	posix_spawn_file_actions_addopen(&fa, 2, err_path,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (extra_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, extra_fd, 3);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Xvfb on a display it picks itself (-displayfd); DISPLAY is set. */
static pid_t xvfb_start(void)
{
	char *argv[] = { "Xvfb", "-displayfd", "3", "-nolisten", "tcp",
			 "-screen", "0", "800x600x24", NULL };
	char num[32], disp[40];
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = spawn(argv, -1, "/dev/null", p[1]);
	close(p[1]);
	assert_true(pid > 0);
	assert_int_equal(read_line(p[0], num, sizeof(num), 10000), 0);
	close(p[0]);
	snprintf(disp, sizeof(disp), ":%s", num);
	setenv("DISPLAY", disp, 1);
	xvfb_pid = pid;
	return pid;
}

/* mcd-client menu; *out_fd reads its stdout. */
static pid_t menu_start(struct site *s, int *out_fd)
{
	char *argv[] = { MCD_CLIENT_BIN, "--config", s->conf, "menu",
			 "--display", "127.0.0.1:0", NULL };
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = spawn(argv, p[1], s->err, -1);
	close(p[1]);
	assert_true(pid > 0);
	*out_fd = p[0];
	menu_pid = pid;
	return pid;
}

/* The menu's exit code; its stderr is shown when that is not 0, as the
 * reason is there. */
static int reap_menu(struct site *s, pid_t pid)
{
	int rc = reap(pid);

	menu_pid = 0;
	if (rc != 0)
		fprintf(stderr, "menu exited %d:\n%s", rc, slurp(s->err));
	return rc;
}

static int wait_notes(struct fake *broker, int n, int timeout_ms)
{
	int64_t until = talk_now_ms() + timeout_ms;

	while (__atomic_load_n(&broker->nnotes, __ATOMIC_ACQUIRE) < n)
		if (talk_now_ms() > until)
			return -1;
		else
			poll(NULL, 0, 50);
	return 0;
}

/* The window comes up with one row per app where the menu says; a click
 * on the row runs the app to its end; Escape quits. */
static void test_menu_click_runs_app(void **state)
{
	char line[256], win[32], app[64];
	int x, y, w, h, fd;
	pid_t xvfb, menu;
	struct site s;

	(void)state;
	if (sh("which Xvfb xdotool xwininfo >/dev/null 2>&1") < 0)
		skip();
	site_start(&s, M_BROKER, L_FLOW);
	xvfb = xvfb_start();
	menu = menu_start(&s, &fd);
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0);
	assert_int_equal(sscanf(line, "window %31s", win), 1);
	assert_int_equal(read_line(fd, line, sizeof(line), 2000), 0);
	assert_int_equal(sscanf(line, "row 0 %63s %d %d %d %d", app, &x, &y,
				&w, &h), 5);
	assert_string_equal(app, "xterm");
	assert_true(w > 0 && h > 0);
	assert_int_equal(sh("xwininfo -name 'MCD apps' >/dev/null"), 0);
	assert_int_equal(sh("xdotool mousemove %d %d click 1 2>/dev/null",
			    x + 10, y + h / 2), 0);
	assert_int_equal(wait_notes(&s.broker, 2, 15000), 0);
	/* xdotool's status is not asked: the menu quits on the key press,
	 * so the key release it sends next finds no window. */
	sh("xdotool key --window %s Escape >/dev/null 2>&1", win);
	assert_int_equal(reap_menu(&s, menu), 0);
	assert_true(sh("xwininfo -name 'MCD apps' >/dev/null 2>&1") < 0);
	close(fd);
	kill(xvfb, SIGTERM);
	waitpid(xvfb, NULL, 0);
	xvfb_pid = 0;
	unsetenv("DISPLAY");
	site_stop(&s);
	assert_string_equal(s.broker.notes, "ready,ended");
}

/* SIGTERM quits the menu as Escape does, with status 0. */
static void test_menu_quits_on_sigterm(void **state)
{
	char line[256];
	pid_t xvfb, menu;
	struct site s;
	int fd;

	(void)state;
	if (sh("which Xvfb xwininfo >/dev/null 2>&1") < 0)
		skip();
	site_start(&s, M_BROKER, L_FLOW);
	xvfb = xvfb_start();
	menu = menu_start(&s, &fd);
	assert_int_equal(read_line(fd, line, sizeof(line), 10000), 0);
	assert_int_equal(sh("xwininfo -name 'MCD apps' >/dev/null"), 0);
	kill(menu, SIGTERM);
	assert_int_equal(reap_menu(&s, menu), 0);
	close(fd);
	kill(xvfb, SIGTERM);
	waitpid(xvfb, NULL, 0);
	xvfb_pid = 0;
	unsetenv("DISPLAY");
	site_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_skipped_fast_chosen),
		cmocka_unit_test(test_fast_pools_do_not_wait),
		cmocka_unit_test(test_foreign_ca_refused),
		cmocka_unit_test(test_garbage_skipped),
		cmocka_unit_test(test_run_waits_runs_ends),
		cmocka_unit_test(test_run_no_room_exits_3),
		cmocka_unit_test(test_run_denied_exits_4),
		cmocka_unit_test(test_pools_shows_each),
		cmocka_unit_test(test_pools_json),
		cmocka_unit_test(test_pools_none_answered_exits_1),
		cmocka_unit_test(test_pools_usage),
		cmocka_unit_test_teardown(test_menu_click_runs_app,
					  menu_teardown),
		cmocka_unit_test_teardown(test_menu_quits_on_sigterm,
					  menu_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
