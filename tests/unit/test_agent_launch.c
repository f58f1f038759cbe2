/*
 * test_agent_launch.c - the agent's launcher with real processes: user
 * lookup, the per-user program check, the environment, and the app's
 * process (uid, session, stdin, fds, signals, exec failures).  Needs root,
 * as the agent does; skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../guest/linux-agent/launch.h"

#define SID "0123456789abcdef"
#define USER "nobody"

static char dir[64];
static uid_t nobody_uid;

static int group_setup(void **state)
{
	struct passwd *pw;

	(void)state;
	if (geteuid() != 0)
		return 0;
	pw = getpwnam(USER);
	if (!pw)
		return -1;
	nobody_uid = pw->pw_uid;
	snprintf(dir, sizeof(dir), "/tmp/mcd-launch-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0777) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void read_file(const char *name, char *buf, size_t cap)
{
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("the app did not write %s", path);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static struct mcd_launch req_for(const char *user, const char **argv)
{
	struct mcd_launch r;

	memset(&r, 0, sizeof(r));
	r.session_id = SID;
	r.user = user;
	r.display = "thin:7";
	while (argv[r.argc])
		r.argv[r.argc] = argv[r.argc], r.argc++;
	return r;
}

/* Start a shell script as USER and wait for it; returns its wait status. */
static int run_sh(const char *script, const char **env)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct launch_opts o = { 0 };
	struct mcd_launch r = req_for(USER, argv);
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	uint32_t code = 0;
	pid_t pid = 0;
	int status;

	while (env && env[r.envc])
		r.env[r.envc] = env[r.envc], r.envc++;
	if (launch_start(&o, &r, &pid, &code, reason, sizeof(reason)) < 0)
		fail_msg("launch failed: %s: %s", mcd_fail_name(code), reason);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_lookup_user(void **state)
{
	struct launch_user u;
	char reason[256] = "";
	uint32_t code = 0;

	(void)state;
	need_root();
	assert_int_equal(launch_lookup_user(USER, &u, &code, reason,
					    sizeof(reason)), 0);
	assert_string_equal(u.name, USER);
	assert_int_equal(u.uid, nobody_uid);
	assert_true(u.ngroups >= 1);
	assert_int_equal(u.groups[0], u.gid);
	assert_true(u.home[0] == '/');
	assert_int_equal(launch_lookup_user("mcd-no-such-user-x", &u, &code,
					    reason, sizeof(reason)), 1);
}

static void test_check_program(void **state)
{
	static const struct {
		const char *path;
		int rc;
		const char *reason;
	} cases[] = {
		{ "/bin/sh", 0, "" },
		{ "/nonexistent/prog", -1, "no such program: /nonexistent/prog" },
		{ "/etc/passwd", -1, "not executable by nobody: /etc/passwd" },
		{ "/tmp", -1, "not a regular file: /tmp" },
	};
	struct launch_user u;
	char reason[256];
	char path[128];
	char want[256];
	uint32_t code;

	(void)state;
	need_root();
	assert_int_equal(launch_lookup_user(USER, &u, &code, reason,
					    sizeof(reason)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reason[0] = '\0';
		assert_int_equal(launch_check_program(&u, cases[i].path, reason,
						      sizeof(reason)),
				 cases[i].rc);
		assert_string_equal(reason, cases[i].reason);
	}
	/* Executable by root only: refused for the user, whatever root may
	 * do. */
	write_file("rootonly", "#!/bin/sh\nexit 0\n", 0700);
	snprintf(path, sizeof(path), "%s/rootonly", dir);
	assert_int_equal(launch_check_program(&u, path, reason, sizeof(reason)), -1);
	snprintf(want, sizeof(want), "not executable by nobody: %s", path);
	assert_string_equal(reason, want);
	/* Behind a directory the user cannot enter. */
	snprintf(path, sizeof(path), "%s/closed", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file("closed/app", "#!/bin/sh\nexit 0\n", 0755);
	snprintf(path, sizeof(path), "%s/closed/app", dir);
	assert_int_equal(launch_check_program(&u, path, reason, sizeof(reason)), -1);
	/* The same file, world-executable and reachable: fine. */
	write_file("open", "#!/bin/sh\nexit 0\n", 0755);
	snprintf(path, sizeof(path), "%s/open", dir);
	assert_int_equal(launch_check_program(&u, path, reason, sizeof(reason)), 0);
}

static void test_build_env(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	struct mcd_launch r = req_for("alice", argv);
	struct launch_user u;
	struct launch_env *e = calloc(1, sizeof(*e));
	int n;

	(void)state;
	assert_non_null(e);
	memset(&u, 0, sizeof(u));
	strcpy(u.name, "alice");
	strcpy(u.home, "/home/alice");
	strcpy(u.shell, "/bin/sh");
	r.env[0] = "LANG=C.UTF-8";
	r.env[1] = "TERM=xterm";
	r.envc = 2;
	n = launch_build_env(&u, &r, NULL, e);
	/* Without X overrides there is no XAUTHORITY entry. */
	assert_int_equal(n, LAUNCH_ENV_FIXED - 1 + 2);
	assert_string_equal(e->env[0], "HOME=/home/alice");
	assert_string_equal(e->env[1], "USER=alice");
	assert_string_equal(e->env[2], "LOGNAME=alice");
	assert_string_equal(e->env[3], "SHELL=/bin/sh");
	assert_string_equal(e->env[4], "PATH=/usr/local/bin:/usr/bin:/bin");
	assert_string_equal(e->env[5], "DISPLAY=thin:7");
	assert_string_equal(e->env[6], "LANG=C.UTF-8");
	assert_string_equal(e->env[7], "TERM=xterm");
	assert_null(e->env[8]);

	/* The relay's display and the installed cookie replace the request's. */
	struct launch_x x = { ":0", "/run/mcd/x/alice.auth" };
	n = launch_build_env(&u, &r, &x, e);
	assert_int_equal(n, LAUNCH_ENV_FIXED + 2);
	assert_string_equal(e->env[5], "DISPLAY=:0");
	assert_string_equal(e->env[6], "XAUTHORITY=/run/mcd/x/alice.auth");
	assert_string_equal(e->env[7], "LANG=C.UTF-8");
	free(e);
}

/* The app runs as the user, in its own session, with exactly the clean
 * environment, and stdin on /dev/null. */
static void test_app_identity_and_env(void **state)
{
	const char *env[] = { "MCD_EXTRA=yes", NULL };
	char script[512], out[4096], want[512];
	int status;

	(void)state;
	need_root();
	setenv("MCD_AGENT_SECRET", "leak", 1);
	snprintf(script, sizeof(script),
		 "{ id -u; env | sort; readlink /proc/$$/fd/0; "
		 "echo \"session $(cut -d' ' -f6 /proc/$$/stat) pid $$\"; "
		 "} > %s/id", dir);
	status = run_sh(script, env);
	unsetenv("MCD_AGENT_SECRET");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	read_file("id", out, sizeof(out));
	snprintf(want, sizeof(want), "%u\n", (unsigned)nobody_uid);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("app uid: got '%s'", out);
	if (strstr(out, "MCD_AGENT_SECRET"))
		fail_msg("the agent's environment leaked: %s", out);
	assert_non_null(strstr(out, "\nDISPLAY=thin:7\n"));
	assert_non_null(strstr(out, "\nMCD_EXTRA=yes\n"));
	assert_non_null(strstr(out, "\nPATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(out, "\nUSER=nobody\n"));
	assert_non_null(strstr(out, "\nLOGNAME=nobody\n"));
	assert_non_null(strstr(out, "\n/dev/null\n"));
	/* Its session id (field 6 of /proc/PID/stat) is its own pid. */
	{
		const char *p = strstr(out, "\nsession ");
		int sid = -1, pid = -2;

		assert_non_null(p);
		assert_int_equal(sscanf(p, "\nsession %d pid %d", &sid, &pid), 2);
		assert_int_equal(sid, pid);
	}
}

/* No fd of the agent and no blocked or ignored signal reaches the app. */
static void test_app_fds_and_signals(void **state)
{
	char script[512], out[512];
	sigset_t set, old;
	int fd, status;

	(void)state;
	need_root();
	fd = open("/dev/null", O_RDONLY); /* deliberately not CLOEXEC */
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 57), 57);
	close(fd);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	snprintf(script, sizeof(script),
		 "ls /proc/self/fd > %s/fds; "
		 "exec grep -E '^Sig(Blk|Ign)' /proc/self/status >> %s/fds",
		 dir, dir);
	status = run_sh(script, NULL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(57);
	assert_true(WIFEXITED(status));
	read_file("fds", out, sizeof(out));
	if (strstr(out, "57\n"))
		fail_msg("fd 57 leaked into the app: %s", out);
	if (!strstr(out, "SigBlk:\t0000000000000000\n") ||
	    !strstr(out, "SigIgn:\t0000000000000000\n"))
		fail_msg("the app inherited blocked or ignored signals:\n%s",
			 out);
}

static void test_app_exit_code(void **state)
{
	int status;

	(void)state;
	need_root();
	status = run_sh("exit 7", NULL);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
}

static void test_app_process_group(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	struct launch_opts o = { 0 };
	struct mcd_launch r = req_for(USER, argv);
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	uint32_t code = 0;
	pid_t pid = 0;
	int status;

	(void)state;
	need_root();
	assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
				      sizeof(reason)), 0);
	assert_int_equal(getpgid(pid), pid);
	assert_int_equal(getsid(pid), pid);
	assert_int_equal(killpg(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

static void test_failures(void **state)
{
	const char *missing[] = { "/nonexistent/app", NULL };
	const char *noninterp[] = { NULL, NULL };
	struct launch_opts o = { 0 };
	struct mcd_launch r;
	char reason[MCD_MAX_REASON_LEN + 1];
	char path[128], want[256];
	uint32_t code;
	pid_t pid = 0;

	(void)state;
	need_root();
	r = req_for("mcd-no-such-user-x", missing);
	assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
				      sizeof(reason)), -1);
	assert_int_equal(code, MCD_FAIL_NO_USER);
	assert_string_equal(reason, "no such user: mcd-no-such-user-x");

	r = req_for(USER, missing);
	assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
				      sizeof(reason)), -1);
	assert_int_equal(code, MCD_FAIL_NO_PROGRAM);
	assert_string_equal(reason, "no such program: /nonexistent/app");

	/* Passes the check, but the kernel cannot run it: EXEC. */
	write_file("badinterp", "#!/nonexistent/interpreter\n", 0755);
	snprintf(path, sizeof(path), "%s/badinterp", dir);
	noninterp[0] = path;
	r = req_for(USER, noninterp);
	assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
				      sizeof(reason)), -1);
	assert_int_equal(code, MCD_FAIL_EXEC);
	snprintf(want, sizeof(want), "exec %s: No such file or directory", path);
	assert_string_equal(reason, want);
	assert_int_equal(pid, 0);
	/* The failed child was reaped. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* The cookie and the passwords are wiped where they arrived once used. */
static void test_wipes_secrets(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	char cookie[] = "0123456789abcdef0123456789abcdef";
	char pw[] = "s3cret";
	struct launch_opts o = { 0 };
	struct mcd_launch r = req_for(USER, argv);
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	uint32_t code = 0;
	pid_t pid = 0;

	(void)state;
	need_root();
	r.xcookie = cookie;
	r.sharec = 1;
	r.share[0] = (struct mcd_share){ "cifs", "//a/b", "b", "bob", pw };
	if (launch_start(&o, &r, &pid, &code, reason, sizeof(reason)) < 0)
		fail_msg("launch failed: %s", reason);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	for (size_t i = 0; i < sizeof(cookie); i++)
		assert_int_equal(cookie[i], 0);
	for (size_t i = 0; i < sizeof(pw); i++)
		assert_int_equal(pw[i], 0);
}

/* Only regular accounts: a system account is refused before anything of
 * the app runs, with one clear line. */
static void test_system_accounts(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	struct launch_opts o = { 0 };
	struct mcd_launch r;
	char reason[MCD_MAX_REASON_LEN + 1];
	uint32_t code = 0;
	pid_t pid = 0;
	uid_t min = launch_get_uid_min();

	(void)state;
	need_root();
	if (getpwnam("daemon")) {
		r = req_for("daemon", argv);
		assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
					      sizeof(reason)), -1);
		assert_int_equal(code, MCD_FAIL_USER_DENIED);
		assert_string_equal(reason, "user daemon is a system account "
				    "(uid 1, below 1000)");
		assert_int_equal(pid, 0);
	}
	/* The same for nobody once the minimum is above its uid. */
	launch_set_uid_min(nobody_uid + 1);
	r = req_for(USER, argv);
	assert_int_equal(launch_start(&o, &r, &pid, &code, reason,
				      sizeof(reason)), -1);
	assert_int_equal(code, MCD_FAIL_USER_DENIED);
	assert_non_null(strstr(reason, "user nobody is a system account"));
	assert_int_equal(pid, 0);
	launch_set_uid_min(min);
}

/* UID_MIN and UID_MAX as login.defs spells them; junk leaves defaults. */
static void test_login_defs(void **state)
{
	char path[128];
	uid_t min = 1000;

	(void)state;
	need_root();
	write_file("login.defs", "# comment UID_MIN 5\nUID_MIN\t\t\t 500\n"
		   "SYS_UID_MAX 999\n", 0644);
	snprintf(path, sizeof(path), "%s/login.defs", dir);
	assert_int_equal(launch_read_login_defs(path, &min), 0);
	assert_int_equal(min, 500);
	write_file("login.defs", "UID_MIN 9x\n", 0644);
	assert_int_equal(launch_read_login_defs(path, &min), 0);
	assert_int_equal(min, 500);
	assert_int_equal(launch_read_login_defs("/nonexistent/login.defs",
						&min), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_user),
		cmocka_unit_test(test_check_program),
		cmocka_unit_test(test_build_env),
		cmocka_unit_test(test_app_identity_and_env),
		cmocka_unit_test(test_app_fds_and_signals),
		cmocka_unit_test(test_app_exit_code),
		cmocka_unit_test(test_app_process_group),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_system_accounts),
		cmocka_unit_test(test_wipes_secrets),
		cmocka_unit_test(test_login_defs),
	};

	return cmocka_run_group_tests_name("agent launch", tests, group_setup,
					   group_teardown);
}
