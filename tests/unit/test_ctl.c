/*
 * test_ctl.c - the CLI/service control framing and the `command` node's
 * quoting: pure code, no Xen needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "store.h"

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void test_roundtrip(void **state)
{
	const char *strs[] = { "linux-demo", "alice", "10.0.2.2:0", "/usr/bin/app", "" };
	static struct ctl_rx rx;
	static struct ctl_msg m;
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(ctl_send(sv[0], CTL_LAUNCH, strs, 5), 0);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 1);
	assert_int_equal(m.type, CTL_LAUNCH);
	assert_int_equal(m.nstr, 5);
	assert_string_equal(m.str[0], "linux-demo");
	assert_string_equal(m.str[3], "/usr/bin/app");
	assert_string_equal(m.str[4], "");
	assert_null(m.str[5]);
	/* Nothing more: the reader waits. */
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	close(sv[0]);
	/* Peer gone: the reader says so. */
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[1]);
}

static void test_fragmented(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_END, 17 };
	const char *payload = "0123456789abcdef";
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 5), 5);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	assert_int_equal(write(sv[0], (char *)hdr + 5, 3), 3);
	assert_int_equal(write(sv[0], payload, 10), 10);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	assert_int_equal(write(sv[0], payload + 10, 7), 7);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 1);
	assert_int_equal(m.nstr, 1);
	assert_string_equal(m.str[0], payload);
	close(sv[0]);
	close(sv[1]);
}

static void test_oversized_refused(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_LAUNCH, CTL_MAX_PAYLOAD + 1 };
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_unterminated_refused(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_END, 4 };
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(write(sv[0], "abcd", 4), 4);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_too_many_strings_refused(void **state)
{
	static char payload[2 * (CTL_MAX_STRS + 1)];
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_LAUNCH, sizeof(payload) };
	int sv[2];

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i += 2) {
		payload[i] = 'a';
		payload[i + 1] = '\0';
	}
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(write(sv[0], payload, sizeof(payload)), (ssize_t)sizeof(payload));
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

/* Connect to path from a child running as uid (and gid), return the
 * accepted connection in the parent. */
static int accept_from(int lfd, const char *path, uid_t uid)
{
	pid_t pid = fork();
	int cfd, status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (uid && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(2);
		_exit(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : 1);
	}
	cfd = accept(lfd, NULL, NULL);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return cfd;
}

/* The service serves root only: the kernel's record of who connected
 * decides, whatever the client sends. */
static void test_peer_credentials(void **state)
{
	char dir[] = "/tmp/mcd-ctl-XXXXXX", path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int lfd, cfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/open.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	chmod(path, 0777);
	assert_int_equal(listen(lfd, 2), 0);

	cfd = accept_from(lfd, path, 0);
	assert_int_equal(ctl_peer_is_root(cfd), 1);
	close(cfd);
	cfd = accept_from(lfd, path, 65534);
	assert_int_equal(ctl_peer_is_root(cfd), 0);
	close(cfd);
	close(lfd);
	unlink(path);

	/* The first lock: ctl_listen makes the socket's directory root-only. */
	snprintf(path, sizeof(path), "%s/run/control.sock", dir);
	lfd = ctl_listen(path);
	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run", dir);
	assert_int_equal(stat(sa.sun_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	close(lfd);
	unlink(path);
	rmdir(sa.sun_path);
	rmdir(dir);
}

static void test_quote_argv(void **state)
{
	const char *plain[] = { "/usr/bin/app", "--arg", "a=b", NULL };
	const char *odd[] = { "/bin/sh", "-c", "echo 'hi' there", "", NULL };
	char out[256];

	(void)state;
	store_quote_argv(out, sizeof(out), plain);
	assert_string_equal(out, "/usr/bin/app --arg a=b");
	store_quote_argv(out, sizeof(out), odd);
	assert_string_equal(out, "/bin/sh -c 'echo '\\''hi'\\'' there' ''");
}

static void test_quote_argv_truncates(void **state)
{
	static char big[2000];
	const char *argv[] = { "/usr/bin/app", big, NULL };
	char out[64];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	store_quote_argv(out, sizeof(out), argv);
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out + strlen(out) - 3, "...");
	assert_memory_equal(out, "/usr/bin/app", 12);
}

/* A service-side socket whose reader stopped reading: small send buffer,
 * nothing read on the other end. */
static void stuck_pair(int sv[2])
{
	int small = 4096;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "ctl_send waited for a reader that never reads\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

/* The service never waits for a client: a full socket fails the send. */
static void test_send_never_waits(void **state)
{
	char line[900];
	const char *s = line;
	int sv[2], failed = 0;

	(void)state;
	stuck_pair(sv);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	signal(SIGALRM, on_alarm);
	alarm(5);
	for (int i = 0; i < 1000 && !failed; i++)
		failed = ctl_send(sv[0], CTL_PROGRESS, &s, 1) < 0;
	alarm(0);
	assert_true(failed);
	close(sv[0]);
	close(sv[1]);
}

/* Replies to a client that does not read queue up to CTL_TXQ_MAX, without
 * waiting; past that the queue refuses; once the client reads, every
 * queued frame arrives whole and in order. */
static void test_reply_queue(void **state)
{
	struct ctl_txq q = { 0 };
	struct ctl_msg *m = malloc(sizeof(*m));
	char line[1000];
	const char *s = line;
	int sv[2], queued = 0, rc;

	(void)state;
	assert_non_null(m);
	stuck_pair(sv);
	for (;;) {
		snprintf(line, sizeof(line), "line %d %0900d", queued, 0);
		if (ctl_txq_put(&q, CTL_PROGRESS, &s, 1) < 0)
			break;
		queued++;
		rc = ctl_txq_flush(sv[0], &q);
		assert_true(rc >= 0);
		assert_true(ctl_txq_pending(&q) <= CTL_TXQ_MAX);
		assert_true(queued < 10000);
	}
	/* More than the socket took, and no more than the bound. */
	assert_true(ctl_txq_pending(&q) > 0);
	assert_true(queued * 918 > CTL_TXQ_MAX);
	assert_int_equal(ctl_txq_flush(sv[0], &q), 0);
	fcntl(sv[1], F_SETFL, 0);
	for (int i = 0; i < queued; i++) {
		char want[32];

		/* Each read makes room: the queue writes on. */
		assert_true(ctl_txq_flush(sv[0], &q) >= 0);
		assert_int_equal(ctl_recv(sv[1], m), 0);
		snprintf(want, sizeof(want), "line %d ", i);
		assert_int_equal(m->type, CTL_PROGRESS);
		assert_int_equal(strncmp(m->str[0], want, strlen(want)), 0);
	}
	assert_int_equal(ctl_txq_pending(&q), 0);
	/* The peer gone: -1, not a wait. */
	assert_int_equal(ctl_txq_put(&q, CTL_DONE, &s, 1), 0);
	close(sv[1]);
	assert_int_equal(ctl_txq_flush(sv[0], &q), -1);
	ctl_txq_free(&q);
	close(sv[0]);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fragmented),
		cmocka_unit_test(test_oversized_refused),
		cmocka_unit_test(test_unterminated_refused),
		cmocka_unit_test(test_too_many_strings_refused),
		cmocka_unit_test(test_peer_credentials),
		cmocka_unit_test(test_send_never_waits),
		cmocka_unit_test(test_reply_queue),
		cmocka_unit_test(test_quote_argv),
		cmocka_unit_test(test_quote_argv_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
