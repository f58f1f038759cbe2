/*
 * test_runprog.c - running helper programs (runprog.c).  Built twice, once
 * against dom0's module and once against the agent's.  The programs run
 * are /bin/sh scripts made here; the module itself never runs a shell.
 * Every test checks that no descriptor and no child is left afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runprog.h"

static char tmpdir[64];
static int fds_before;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mcd-test-runprog-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	fds_before = count_fds();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	/* No descriptor left behind, and no child of ours: not even a
	 * zombie. */
	assert_int_equal(count_fds(), fds_before);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Run a shell script through the module, deadline timeout_s. */
static int sh(const char *script, int timeout_s, struct runprog *r)
{
	struct runprog_opts o = { .timeout_s = timeout_s };

	return runprog_run((char *const[]){ "/bin/sh", "-c", (char *)script,
					    NULL }, &o, r);
}

/* The pid a script wrote to tmpdir/pid. */
static pid_t read_pid(void)
{
	char path[128];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pid", tmpdir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 1);
	return (pid_t)pid;
}

static void test_success(void **state)
{
	static struct runprog r;

	(void)state;
	assert_int_equal(sh("echo hello; echo world >&2", 5, &r), 0);
	assert_int_equal(r.end, RUNPROG_EXITED);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.tail, "hello\nworld\n");
	assert_int_equal(r.tail_len, 12);
	assert_string_equal(r.reason, "");
}

/* The program apart from argv[0] (lvm reads its name). */
static void test_path_apart(void **state)
{
	static struct runprog r;
	struct runprog_opts o = { .path = "/bin/sh", .timeout_s = 5 };

	(void)state;
	assert_int_equal(runprog_run((char *const[]){ "lvm", "-c", "echo $0",
						      NULL }, &o, &r), 0);
	assert_string_equal(r.tail, "lvm\n");
}

static void test_exit_status(void **state)
{
	static struct runprog r;

	(void)state;
	assert_int_equal(sh("echo working; echo 'mkfs: the reason' >&2; exit 3",
			    5, &r), -1);
	assert_int_equal(r.end, RUNPROG_EXITED);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.tail, "working\nmkfs: the reason\n");
	assert_string_equal(r.reason, "");
}

static void test_signal(void **state)
{
	static struct runprog r;

	(void)state;
	assert_int_equal(sh("kill -TERM $$", 5, &r), -1);
	assert_int_equal(r.end, RUNPROG_SIGNALED);
	assert_int_equal(r.code, SIGTERM);
}

/* Past the deadline the whole group dies: the script and its child. */
static void test_deadline_kills_group(void **state)
{
	static struct runprog r;
	char script[200];
	int status = 0;
	long t0;
	pid_t child;

	(void)state;
	/* The script's child becomes ours when the script dies, so we can
	 * see how it ended. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	snprintf(script, sizeof(script), "sleep 60 & echo $! > %s/pid; "
		 "echo started; sleep 60", tmpdir);
	t0 = now_ms();
	assert_int_equal(sh(script, 1, &r), -1);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(r.end, RUNPROG_TIMEDOUT);
	assert_string_equal(r.reason, "/bin/sh did not finish within 1 s");
	assert_string_equal(r.tail, "started\n");
	/* What was left of the group is ours now (unless the script reaped
	 * it as it died), and was killed. */
	child = read_pid();
	for (pid_t p; (p = waitpid(-1, &status, 0)) > 0;) {
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
	}
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	assert_int_equal(kill(child, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* Closing stdout and stderr does not end the wait: the deadline does. */
static void test_closes_output(void **state)
{
	static struct runprog r;
	long t0 = now_ms();

	(void)state;
	assert_int_equal(sh("echo bye; exec >&- 2>&-; sleep 60", 1, &r), -1);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(r.end, RUNPROG_TIMEDOUT);
	assert_string_equal(r.tail, "bye\n");

	/* ... and its exit status still counts when it comes in time. */
	assert_int_equal(sh("exec >&- 2>&-; sleep 0.3; exit 4", 5, &r), -1);
	assert_int_equal(r.end, RUNPROG_EXITED);
	assert_int_equal(r.code, 4);
}

/* A program that exits while a child of its holds the output open is
 * done: its child is not waited for. */
static void test_child_keeps_output(void **state)
{
	static struct runprog r;
	char script[200];
	long t0 = now_ms();

	(void)state;
	snprintf(script, sizeof(script), "sleep 60 & echo $! > %s/pid; "
		 "echo done", tmpdir);
	assert_int_equal(sh(script, 30, &r), 0);
	assert_true(now_ms() - t0 < 5000);
	assert_string_equal(r.tail, "done\n");
	assert_int_equal(kill(read_pid(), SIGKILL), 0);
}

static void test_large_output_keeps_tail(void **state)
{
	static struct runprog r;

	(void)state;
	assert_int_equal(sh("i=0; while [ $i -lt 4000 ]; do "
			    "echo 0123456789012345678901234567890123456789; "
			    "i=$((i+1)); done; echo 'the last line' >&2; exit 1",
			    20, &r), -1);
	assert_int_equal(r.code, 1);
	assert_int_equal(r.tail_len, RUNPROG_TAIL);
	assert_int_equal(strlen(r.tail), RUNPROG_TAIL);
	assert_string_equal(r.tail + RUNPROG_TAIL - 14, "the last line\n");
	assert_memory_equal(r.tail + RUNPROG_TAIL - 14 - 41,
			    "0123456789012345678901234567890123456789\n", 41);
}

/* stdout apart (lvm's reports): its head in the caller's buffer, stderr
 * in the tail. */
static void test_stdout_apart(void **state)
{
	static struct runprog r;
	char out[8];
	struct runprog_opts o = { .timeout_s = 5, .out = out,
				  .outlen = sizeof(out) };

	(void)state;
	assert_int_equal(runprog_run((char *const[]){ "/bin/sh", "-c",
		"echo 0123456789; echo warning >&2", NULL }, &o, &r), 0);
	assert_string_equal(out, "0123456");
	assert_string_equal(r.tail, "warning\n");
}

/* Fixed environment, stdin /dev/null, none of our descriptors. */
static void test_child_context(void **state)
{
	static struct runprog r;
	char *const env[] = { "PATH=/bin:/usr/bin", "ONLY=this", NULL };
	struct runprog_opts o = { .timeout_s = 5, .envp = env };
	int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 50), 50);
	close(fd);
	setenv("MCD_TEST_SECRET", "x", 1);
	/* An ignored signal is not ignored in the child. */
	signal(SIGINT, SIG_IGN);
	assert_int_equal(sh("env | sort; read x && echo READ; "
			    "[ -e /proc/self/fd/50 ] && echo LEAK; "
			    "kill -INT $$; echo SURVIVED", 5, &r), -1);
	signal(SIGINT, SIG_DFL);
	assert_int_equal(r.end, RUNPROG_SIGNALED);
	assert_null(strstr(r.tail, "MCD_TEST_SECRET"));
	assert_null(strstr(r.tail, "READ"));
	assert_null(strstr(r.tail, "LEAK"));
	assert_null(strstr(r.tail, "SURVIVED"));
	assert_non_null(strstr(r.tail, "LC_ALL=C\n"));
	assert_non_null(strstr(r.tail, RUNPROG_PATH "\n"));
	assert_int_equal(runprog_run((char *const[]){ "/bin/sh", "-c", "env",
						      NULL }, &o, &r), 0);
	assert_non_null(strstr(r.tail, "ONLY=this\n"));
	assert_null(strstr(r.tail, "LC_ALL"));
	unsetenv("MCD_TEST_SECRET");
	close(50);
}

static void test_cannot_run(void **state)
{
	static struct runprog r;
	struct runprog_opts o = { .timeout_s = 5 };

	(void)state;
	assert_int_equal(runprog_run((char *const[]){ "/nonexistent/prog", NULL },
				     &o, &r), -1);
	assert_int_equal(r.end, RUNPROG_FAILED);
	assert_string_equal(r.reason,
			    "cannot run /nonexistent/prog: No such file or directory");
	/* Never looked up in PATH. */
	assert_int_equal(runprog_run((char *const[]){ "sh", "-c", "true", NULL },
				     &o, &r), -1);
	assert_int_equal(r.end, RUNPROG_FAILED);
	assert_non_null(strstr(r.reason, "not an absolute path"));
	/* A deadline is not optional. */
	o.timeout_s = 0;
	assert_int_equal(runprog_run((char *const[]){ "/bin/true", NULL },
				     &o, &r), -1);
	assert_int_equal(r.end, RUNPROG_FAILED);
}

/* A signal arriving while it waits changes nothing. */
static void on_alarm(int sig)
{
	(void)sig;
}

static void test_eintr(void **state)
{
	static struct runprog r;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	(void)state;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(sh("sleep 0.3; echo ok; exit 2", 5, &r), -1);
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(r.end, RUNPROG_EXITED);
	assert_int_equal(r.code, 2);
	assert_string_equal(r.tail, "ok\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_success),
		T(test_path_apart),
		T(test_exit_status),
		T(test_signal),
		T(test_deadline_kills_group),
		T(test_closes_output),
		T(test_child_keeps_output),
		T(test_large_output_keeps_tail),
		T(test_stdout_apart),
		T(test_child_context),
		T(test_cannot_run),
		T(test_eintr),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
