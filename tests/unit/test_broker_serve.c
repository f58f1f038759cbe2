/*
 * test_broker_serve.c - the real mcd-broker over real TLS on loopback:
 * a database filled with the binary's own admin commands, `serve` on port
 * 0, then clients speaking the site protocol: login right and wrong,
 * slowed after failures, the catalog by level, tickets refused and
 * granted (and checked with the public key as a pool master would), and
 * a silent or garbage client that does not hold up the next one.
 *
 * The broker is found at ../../broker/mcd-broker beside this binary (or
 * $MCD_BROKER); scrypt runs with a small N (MCD_BROKER_SCRYPT_N).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "mcd_site.h"
#include "mcd_ticket.h"
#include "mcd_tls.h"

static char dir[64] = "/tmp/test_broker_serve.XXXXXX";
static char broker[PATH_MAX];
static char address[64];
static pid_t server = -1;
static SSL_CTX *client_ctx;

static void path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Run the broker's CLI on the test database; its exit status. */
static int run_broker(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int run_broker(const char *fmt, ...)
{
	char args[1024], cmd[PATH_MAX + 1200];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' --db %s/broker.db %s >/dev/null",
		 broker, dir, args);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_file(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	path(p, sizeof(p), name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The site CA and the server's certificate: the site's own script when
 * it is there, else the same with the openssl CLI. */
static void make_certs(void)
{
	char cmd[2048];

	if (access("scripts/mcd-site-certs", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "scripts/mcd-site-certs %s ca && "
			 "scripts/mcd-site-certs %s cert localhost --ip 127.0.0.1",
			 dir, dir);
	} else {
		snprintf(cmd, sizeof(cmd), "cd %s && "
			 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
			 " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca"
			 " -addext basicConstraints=critical,CA:TRUE 2>/dev/null && "
			 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256"
			 " -nodes -keyout localhost.key -out l.csr -subj /CN=localhost"
			 " 2>/dev/null && printf 'subjectAltName=DNS:localhost,"
			 "IP:127.0.0.1\\n' > ext && openssl x509 -req -in l.csr"
			 " -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
			 " -extfile ext -out localhost.pem 2>/dev/null", dir);
	}
	assert_int_equal(system(cmd), 0);
}

/* Users, pools, apps: alice at level 1, bob at 2, dave for the limits. */
static void fill_db(void)
{
	write_file("pw-alice", "alice-pw\n");
	write_file("pw-bob", "bob-pw\n");
	assert_int_equal(run_broker("init"), 0);
	assert_int_equal(run_broker("user add alice --level 1 --password-file"
				    " %s/pw-alice", dir), 0);
	assert_int_equal(run_broker("user add bob --level 2 --password-file"
				    " %s/pw-bob", dir), 0);
	assert_int_equal(run_broker("user add dave --level 1 --password-file"
				    " %s/pw-alice", dir), 0);
	assert_int_equal(run_broker("user add alice --level 1 --password-file"
				    " %s/pw-alice", dir), 1);
	assert_int_equal(run_broker("user add eve --level 17 --password-file"
				    " %s/pw-alice", dir), 2);
	assert_int_equal(run_broker("pool add low --address 127.0.0.1:7001"
				    " --level 1"), 0);
	assert_int_equal(run_broker("pool add high --address 127.0.0.1:7002"
				    " --level 2"), 0);
	assert_int_equal(run_broker("app add writer-daily --name Writer --os linux"
				    " --level 1 --template linux-demo"
				    " --program /usr/bin/writer --arg --new"), 0);
	assert_int_equal(run_broker("app add writer-secret --name Writer"
				    " --os linux --level 2 --template linux-demo"
				    " --program /usr/bin/writer --pool high"), 0);
	/* A pool of another level is refused for an app. */
	assert_int_equal(run_broker("app add bad --name Bad --os linux --level 1"
				    " --template t --program /bin/x --pool high"), 1);
	assert_int_equal(run_broker("keygen --private %s/ticket.key --public"
				    " %s/ticket.pub", dir, dir), 0);
}

/* Start `serve` and read its "listening on ADDR:PORT". */
static void start_server(void)
{
	char line[256] = "", db[128], cert[128], key[128], tkey[128], log[128];
	int fds[2];
	FILE *f;

	path(db, sizeof(db), "broker.db");
	path(cert, sizeof(cert), "localhost.pem");
	path(key, sizeof(key), "localhost.key");
	path(tkey, sizeof(tkey), "ticket.key");
	path(log, sizeof(log), "broker.log");
	assert_int_equal(pipe(fds), 0);
	server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(broker, "mcd-broker", "serve", "--db", db, "--listen",
		      "127.0.0.1:0", "--cert", cert, "--key", key, "--ticket-key",
		      tkey, "--foreground", "--log", log, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sscanf(line, "listening on %63s", address), 1);
}

static int setup(void **state)
{
	char exe[PATH_MAX], err[256], ca[128];
	ssize_t n;

	(void)state;
	setenv("MCD_BROKER_SCRYPT_N", "1024", 1);
	if (getenv("MCD_BROKER")) {
		snprintf(broker, sizeof(broker), "%s", getenv("MCD_BROKER"));
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		assert_true(n > 0);
		exe[n] = '\0';
		snprintf(broker, sizeof(broker), "%s/../../broker/mcd-broker",
			 dirname(exe));
	}
	assert_int_equal(access(broker, X_OK), 0);
	assert_non_null(mkdtemp(dir));
	make_certs();
	fill_db();
	start_server();
	path(ca, sizeof(ca), "ca.pem");
	client_ctx = mcd_tls_client_ctx(ca, err, sizeof(err));
	assert_non_null(client_ctx);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	int status = -1;

	(void)state;
	/* SIGTERM ends the server cleanly. */
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, &status, 0);
	}
	SSL_CTX_free(client_ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* --- a client --- */

static SSL *dial(void)
{
	char err[256];
	SSL *ssl = mcd_tls_connect(client_ctx, address, NULL, 5000, err,
				   sizeof(err));

	if (!ssl)
		fail_msg("connect %s: %s", address, err);
	assert_true(mcd_tls_hello_client(ssl, 5000, err, sizeof(err)) == 1);
	return ssl;
}

static void send_out(SSL *ssl, struct mcd_site_out *o)
{
	char err[256];

	if (mcd_site_finish(o, MCD_SITE_C2B, err, sizeof(err)) < 0)
		fail_msg("encode: %s", err);
	assert_int_equal(mcd_tls_send(ssl, o, 5000, err, sizeof(err)), 0);
}

static void recv_msg(SSL *ssl, struct mcd_site_msg *m)
{
	char err[256];

	if (mcd_tls_recv(ssl, MCD_SITE_B2C, m, 5000, err, sizeof(err)) < 0)
		fail_msg("recv: %s", err);
}

/* LOGIN; the reply in *m (LOGIN_OK or ERROR). */
static void login(const char *user, const char *pw, struct mcd_site_msg *m)
{
	struct mcd_site_out o;
	SSL *ssl = dial();

	mcd_site_begin(&o, MCD_SITE_LOGIN);
	mcd_site_put_str(&o, MCD_ST_USER, user);
	mcd_site_put_bytes(&o, MCD_ST_PASSWORD, pw, strlen(pw));
	send_out(ssl, &o);
	recv_msg(ssl, m);
	mcd_tls_close(ssl);
}

static void token_of(const char *user, const char *pw, char *token)
{
	struct mcd_site_msg m;

	login(user, pw, &m);
	assert_int_equal(m.type, MCD_SITE_LOGIN_OK);
	snprintf(token, MCD_SITE_TOKEN_LEN + 1, "%s", mcd_site_str(&m, MCD_ST_TOKEN));
}

static uint32_t error_code(const struct mcd_site_msg *m)
{
	assert_int_equal(m->type, MCD_SITE_ERROR);
	return mcd_site_u32(m, MCD_ST_CODE, 0);
}

static void test_login(void **state)
{
	struct mcd_site_msg m;

	(void)state;
	login("alice", "alice-pw", &m);
	assert_int_equal(m.type, MCD_SITE_LOGIN_OK);
	assert_string_equal(mcd_site_str(&m, MCD_ST_USER), "alice");
	assert_int_equal(mcd_site_u32(&m, MCD_ST_LEVEL, 0), 1);
	assert_int_equal(strlen(mcd_site_str(&m, MCD_ST_TOKEN)),
			 MCD_SITE_TOKEN_LEN);
	assert_true(mcd_site_u32(&m, MCD_ST_EXPIRES, 0) > time(NULL) + 7 * 3600);
	login("alice", "wrong", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_AUTH);
	login("nobody", "wrong", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_AUTH);
}

static void test_slowed(void **state)
{
	struct mcd_site_msg m;

	(void)state;
	for (int i = 0; i < 5; i++) {
		login("dave", "wrong", &m);
		assert_int_equal(error_code(&m), MCD_SITE_E_AUTH);
	}
	/* The right password no longer helps: it is not even checked. */
	login("dave", "alice-pw", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_SLOWED);
	assert_non_null(strstr(mcd_site_str(&m, MCD_ST_TEXT),
			       "too many failed logins for dave; try again in"));
	/* Others are not slowed by dave. */
	login("alice", "alice-pw", &m);
	assert_int_equal(m.type, MCD_SITE_LOGIN_OK);
}

/* APPS for token: "app@pool+pool ..." and "pool ..." as seen. */
static void catalog(const char *token, char *apps, char *pools, size_t len)
{
	struct mcd_site_out o;
	struct mcd_site_msg m;
	SSL *ssl = dial();

	apps[0] = pools[0] = '\0';
	mcd_site_begin(&o, MCD_SITE_APPS);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	send_out(ssl, &o);
	for (;;) {
		recv_msg(ssl, &m);
		if (m.type == MCD_SITE_APP) {
			size_t n = strlen(apps);

			snprintf(apps + n, len - n, "%s@%s ",
				 mcd_site_str(&m, MCD_ST_APP),
				 mcd_site_str(&m, MCD_ST_POOL));
		} else if (m.type == MCD_SITE_POOL) {
			size_t n = strlen(pools);

			snprintf(pools + n, len - n, "%s=%s ",
				 mcd_site_str(&m, MCD_ST_POOL),
				 mcd_site_str(&m, MCD_ST_ADDRESS));
		} else {
			break;
		}
	}
	assert_int_equal(m.type, MCD_SITE_LIST_END);
	mcd_tls_close(ssl);
}

static void test_catalog(void **state)
{
	char token[MCD_SITE_TOKEN_LEN + 1], apps[512], pools[512];
	struct mcd_site_out o;
	struct mcd_site_msg m;
	SSL *ssl;

	(void)state;
	token_of("alice", "alice-pw", token);
	catalog(token, apps, pools, sizeof(apps));
	assert_string_equal(apps, "writer-daily@low ");
	assert_string_equal(pools, "low=127.0.0.1:7001 ");
	token_of("bob", "bob-pw", token);
	catalog(token, apps, pools, sizeof(apps));
	assert_string_equal(apps, "writer-daily@low writer-secret@high ");
	assert_string_equal(pools, "low=127.0.0.1:7001 high=127.0.0.1:7002 ");
	/* A made-up token is refused. */
	ssl = dial();
	mcd_site_begin(&o, MCD_SITE_APPS);
	memset(token, 'a', MCD_SITE_TOKEN_LEN);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	send_out(ssl, &o);
	recv_msg(ssl, &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_AUTH);
	mcd_tls_close(ssl);
}

static void ticket_req(const char *token, const char *app, const char *pool,
		       const char *display, struct mcd_site_msg *m)
{
	struct mcd_site_out o;
	SSL *ssl = dial();

	mcd_site_begin(&o, MCD_SITE_TICKET_REQ);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	mcd_site_put_str(&o, MCD_ST_APP, app);
	mcd_site_put_str(&o, MCD_ST_POOL, pool);
	mcd_site_put_str(&o, MCD_ST_DISPLAY, display);
	send_out(ssl, &o);
	recv_msg(ssl, m);
	mcd_tls_close(ssl);
}

static void test_ticket_refused(void **state)
{
	char token[MCD_SITE_TOKEN_LEN + 1];
	struct mcd_site_msg m;

	(void)state;
	token_of("alice", "alice-pw", token);
	ticket_req(token, "writer-secret", "high", "127.0.0.1:0", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_DENIED);
	ticket_req(token, "no-such-app", "low", "127.0.0.1:0", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_NOT_FOUND);
	ticket_req(token, "writer-daily", "no-such-pool", "127.0.0.1:0", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_NOT_FOUND);
	ticket_req(token, "writer-daily", "high", "127.0.0.1:0", &m);
	assert_int_equal(error_code(&m), MCD_SITE_E_DENIED);
}

static void test_ticket_granted(void **state)
{
	char token[MCD_SITE_TOKEN_LEN + 1], pub_path[128], err[256];
	struct mcd_ticket_expect e = { .pool = "low", .level = 1,
				       .peer_addr = "127.0.0.1" };
	struct mcd_site_msg m, body;
	struct mcd_ticket t;
	const uint8_t *tb, *sig;
	size_t tlen, slen;
	EVP_PKEY *pub;

	(void)state;
	token_of("bob", "bob-pw", token);
	ticket_req(token, "writer-daily", "low", "127.0.0.1:0", &m);
	assert_int_equal(m.type, MCD_SITE_TICKET_OK);
	assert_string_equal(mcd_site_str(&m, MCD_ST_ADDRESS), "127.0.0.1:7001");
	tb = mcd_site_bytes(&m, MCD_ST_TICKET, &tlen);
	sig = mcd_site_bytes(&m, MCD_ST_SIG, &slen);
	assert_non_null(tb);
	assert_non_null(sig);
	path(pub_path, sizeof(pub_path), "ticket.pub");
	pub = mcd_ticket_load_public(pub_path, err, sizeof(err));
	assert_non_null(pub);
	e.now = time(NULL);
	if (mcd_ticket_check(pub, tb, tlen, sig, slen, &e, &body, &t, err,
			     sizeof(err)) < 0)
		fail_msg("ticket refused: %s", err);
	assert_string_equal(t.user, "bob");
	assert_string_equal(t.app, "writer-daily");
	assert_int_equal(t.level, 1);
	assert_string_equal(t.template_name, "linux-demo");
	assert_string_equal(t.program, "/usr/bin/writer");
	assert_int_equal(t.nargs, 1);
	assert_string_equal(t.args[0], "--new");
	assert_string_equal(t.display, "127.0.0.1:0");
	assert_true(t.expires - t.issued == MCD_TICKET_LIFE_DEFAULT);
	/* The same ticket for another pool is refused by that pool. */
	e.pool = "high";
	e.level = 2;
	assert_int_equal(mcd_ticket_check(pub, tb, tlen, sig, slen, &e, &body,
					  &t, err, sizeof(err)), -1);
	EVP_PKEY_free(pub);
}

static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)atoi(strrchr(address, ':') + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A client that says nothing and one that sends garbage instead of a
 * handshake each hold only their own process: a real client gets through
 * at once while they are still connected. */
static void test_slow_clients(void **state)
{
	struct timespec t0, t1;
	struct mcd_site_msg m;
	int silent, garbage;

	(void)state;
	silent = tcp_connect();
	garbage = tcp_connect();
	assert_int_equal(write(garbage, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	login("alice", "alice-pw", &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(m.type, MCD_SITE_LOGIN_OK);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	close(silent);
	close(garbage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_slowed),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_ticket_refused),
		cmocka_unit_test(test_ticket_granted),
		cmocka_unit_test(test_slow_clients),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
