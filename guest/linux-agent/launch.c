/*
 * launch.c - user lookup and creation, program check, and the fork/exec
 * of the app (see launch.h).
 *
 * Everything the child needs (credentials, groups, environment, argv) is
 * prepared before fork(), so the child only makes system calls.
 */
#include "launch.h"

#include "log.h"
#include "runprog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers shared by every child the agent forks ---- */

/* The agent blocks signals for its signalfd and ignores SIGPIPE; a child
 * must not keep either across exec. */
void launch_child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, &sa, NULL) == 0)
			continue;
		/* glibc keeps its two internal real-time signals to itself, but
		 * an ignored one would still be inherited across exec.  An
		 * all-zero kernel sigaction is SIG_DFL on every architecture. */
		uint64_t ksa[8] = { 0 };

		(void)syscall(SYS_rt_sigaction, s, ksa, NULL, (size_t)8);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Nothing of the agent's (channel, signalfd, XenStore) survives exec. */
static void child_close_fds(void)
{
	long max;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int child_stdin_null(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) < 0)
			return -1;
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) < 0) {
		return -1;
	}
	return 0;
}

/* Become u for good; verify there is no way back to root. */
int launch_become_user(const struct launch_user *u)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups((size_t)u->ngroups, u->groups) < 0 ||
	    setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -1;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -1;
	if (ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid ||
	    eg != u->gid || sg != u->gid) {
		errno = EPERM;
		return -1;
	}
	if (setuid(0) == 0 || setgid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static pid_t wait_child(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}

/* Wait for a child that runs as the user: another process of the user may
 * stop it (SIGSTOP), so the agent never waits without end.  After ms it is
 * killed; pid, or -1 (timed out, or waitpid failed). */
static pid_t wait_user_child(pid_t pid, int *status, long ms)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	long deadline = mono_ms() + ms;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return r;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mono_ms() > deadline) {
			kill(pid, SIGKILL);
			wait_child(pid, status);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
}

/* ---- ending a user's processes ---- */

/* From /proc/PID/status: is it alive (not a zombie) and is uid one of its
 * real, effective and saved uids? */
static int proc_of_user(int procfd, const char *pid, uid_t uid)
{
	char path[300], buf[2048];
	unsigned long r, e, s;
	const char *st, *ul;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/status", pid);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	st = strstr(buf, "\nState:");
	ul = strstr(buf, "\nUid:");
	if (!st || !ul || sscanf(ul, "\nUid: %lu %lu %lu", &r, &e, &s) != 3)
		return 0;
	st += strlen("\nState:");
	st += strspn(st, " \t");
	if (*st == 'Z' || *st == 'X')
		return 0;
	return r == uid || e == uid || s == uid;
}

/* One scan: SIGSTOP each live process of uid (a stopped process cannot
 * fork), then SIGKILL them all.  How many were found. */
static int stop_and_kill(uid_t uid)
{
	pid_t found[256];
	int n = 0, total = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 1 || pid == getpid() ||
		    !proc_of_user(dirfd(d), e->d_name, uid))
			continue;
		if (kill((pid_t)pid, SIGSTOP) < 0)
			continue;
		total++;
		if (n == (int)(sizeof(found) / sizeof(found[0]))) {
			/* Full: kill those so far, keep scanning. */
			for (int i = 0; i < n; i++)
				kill(found[i], SIGKILL);
			n = 0;
		}
		found[n++] = (pid_t)pid;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		kill(found[i], SIGKILL);
	return total;
}

int launch_kill_user(uid_t uid, int timeout_ms)
{
	long deadline = mono_ms() + timeout_ms;
	int n, rounds = 0;

	if (uid == 0)
		return -1;
	while ((n = stop_and_kill(uid)) != 0) {
		rounds++;
		if (n < 0 || mono_ms() > deadline) {
			log_warnx("processes of uid %u still alive after %d ms",
				  (unsigned)uid, timeout_ms);
			return -1;
		}
		/* Let the killed ones die before the next scan. */
		usleep(1000);
	}
	if (rounds)
		log_info("ended the processes of uid %u (%d scans)",
			 (unsigned)uid, rounds + 1);
	return 0;
}

/* ---- users ---- */

static uid_t regular_min = LAUNCH_UID_MIN_DEFAULT;

void launch_set_uid_min(uid_t min)
{
	regular_min = min;
}

uid_t launch_get_uid_min(void)
{
	return regular_min;
}

/* A login.defs value: decimal digits only, at most 9 of them. */
static int defs_number(const char *v, uid_t *out)
{
	size_t len = strspn(v, "0123456789");

	if (len == 0 || len > 9 || (v[len] && !strchr(" \t\n", v[len])))
		return -1;
	*out = (uid_t)strtoul(v, NULL, 10);
	return 0;
}

int launch_read_login_defs(const char *path, uid_t *min)
{
	char line[256];
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *k = line + strspn(line, " \t"), *v;
		size_t klen = strcspn(k, " \t\n");

		v = k + klen;
		v += strspn(v, " \t");
		if (klen == 7 && strncmp(k, "UID_MIN", 7) == 0)
			defs_number(v, min);
	}
	fclose(f);
	return 0;
}

int launch_check_regular(const struct launch_user *u, uint32_t *code,
			 char *reason, size_t reason_len)
{
	/* System accounts (daemon, bin, nobody ...) own files and services
	 * of the guest; an app of dom0's must never run as one. */
	if (u->uid >= regular_min)
		return 0;
	*code = MCD_FAIL_USER_DENIED;
	snprintf(reason, reason_len, "user %s is a system account (uid %u, "
		 "below %u)", u->name, (unsigned)u->uid, (unsigned)regular_min);
	return -1;
}

static int copy_path(char *dst, size_t cap, const char *src, const char *dflt)
{
	if (src && src[0] == '/' && strlen(src) < cap) {
		memcpy(dst, src, strlen(src) + 1);
		return 0;
	}
	snprintf(dst, cap, "%s", dflt);
	return 1;
}

int launch_lookup_user(const char *name, struct launch_user *u,
		       uint32_t *code, char *reason, size_t reason_len)
{
	struct passwd *pw;
	int n = LAUNCH_MAX_GROUPS;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return 1;
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "looking up user %s: %s", name,
			 strerror(errno));
		return -1;
	}
	if (strlen(pw->pw_name) >= sizeof(u->name)) {
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "user name %s too long", name);
		return -1;
	}
	memset(u, 0, sizeof(*u));
	memcpy(u->name, pw->pw_name, strlen(pw->pw_name) + 1);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	copy_path(u->home, sizeof(u->home), pw->pw_dir, "/");
	copy_path(u->shell, sizeof(u->shell), pw->pw_shell, "/bin/sh");
	/* Whatever the name: an account with uid 0 is the superuser. */
	if (u->uid == 0) {
		*code = MCD_FAIL_USER_DENIED;
		snprintf(reason, reason_len, "user %s has uid 0", name);
		return -1;
	}
	if (u->gid == 0) {
		*code = MCD_FAIL_USER_DENIED;
		snprintf(reason, reason_len, "user %s has primary group 0",
			 name);
		return -1;
	}
	if (getgrouplist(u->name, u->gid, u->groups, &n) < 0 || n < 0 ||
	    n > LAUNCH_MAX_GROUPS) {
		*code = MCD_FAIL_USER_DENIED;
		snprintf(reason, reason_len, "user %s is in more than %d groups",
			 name, LAUNCH_MAX_GROUPS);
		return -1;
	}
	u->ngroups = n;
	for (int i = 0; i < n; i++) {
		if (u->groups[i] == 0) {
			*code = MCD_FAIL_USER_DENIED;
			snprintf(reason, reason_len, "user %s is in group 0",
				 name);
			return -1;
		}
	}
	return 0;
}

/* useradd's output, for the console, one line at a time. */
static void log_output(const char *what, char *out)
{
	char *save = NULL;

	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		for (char *p = l; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		log_info("%s: %.200s", what, l);
	}
}

int launch_create_user(const char *name, char *reason, size_t reason_len)
{
	static const char *const useradd[] = {
		"/usr/sbin/useradd", "/sbin/useradd", NULL,
	};
	static const char *const busybox[] = {
		"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox",
		"/usr/sbin/busybox", NULL,
	};
	struct runprog_opts o = {
		.timeout_s = LAUNCH_HELPER_TIMEOUT_MS / 1000,
	};
	const char *argv[8];
	const char *tool = NULL;
	const char *what = "useradd";
	struct runprog r;
	int rc;

	/* The name passed mcd_valid_user(): it cannot look like an option. */
	if (!mcd_valid_user(name)) {
		snprintf(reason, reason_len, "invalid user name");
		return -1;
	}
	for (int i = 0; useradd[i] && !tool; i++)
		if (access(useradd[i], X_OK) == 0)
			tool = useradd[i];
	if (tool) {
		const char *a[] = { tool, "-m", "-U", "-s", "/bin/sh", name,
				    NULL };

		memcpy(argv, a, sizeof(a));
	} else {
		for (int i = 0; busybox[i] && !tool; i++)
			if (access(busybox[i], X_OK) == 0)
				tool = busybox[i];
		if (!tool) {
			snprintf(reason, reason_len, "cannot create user %s: "
				 "neither useradd nor busybox found", name);
			return -1;
		}
		/* Some busybox builds (Debian's) have no adduser applet: the
		 * exit status 127 below then says so. */
		what = "busybox adduser";
		const char *a[] = { tool, "adduser", "-D", "-s", "/bin/sh",
				    name, NULL };

		memcpy(argv, a, sizeof(a));
	}
	log_info("creating user %s with %s", name, tool);
	rc = runprog_run((char *const *)argv, &o, &r);
	log_output(what, r.tail);
	switch (r.end) {
	case RUNPROG_EXITED:
	case RUNPROG_SIGNALED:
		if (rc == 0)
			return 0;
		snprintf(reason, reason_len, "cannot create user %s: %s (%s) %s "
			 "%d", name, what, tool, r.end == RUNPROG_EXITED ?
			 "exited with" : "killed by signal", r.code);
		return -1;
	case RUNPROG_TIMEDOUT:
	case RUNPROG_FAILED:
		break;
	}
	snprintf(reason, reason_len, "cannot create user %s: %s", name,
		 r.reason);
	return -1;
}

/* ---- the program ---- */

enum probe_result {
	PROBE_OK = 0,
	PROBE_MISSING = 1,
	PROBE_NOT_REGULAR = 2,
	PROBE_DENIED = 3,
	PROBE_CREDS = 4,
};

int launch_check_program(const struct launch_user *u, const char *path,
			 char *reason, size_t reason_len)
{
	int status = 0;
	pid_t pid;

	/* Ask as the user: directory permissions on the way count too. */
	pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct stat st;

		if (launch_become_user(u) < 0)
			_exit(PROBE_CREDS);
		if (stat(path, &st) < 0)
			_exit(errno == ENOENT || errno == ENOTDIR ?
			      PROBE_MISSING : PROBE_DENIED);
		if (!S_ISREG(st.st_mode))
			_exit(PROBE_NOT_REGULAR);
		_exit(access(path, X_OK) == 0 ? PROBE_OK : PROBE_DENIED);
	}
	if (wait_user_child(pid, &status, LAUNCH_CHILD_TIMEOUT_MS) < 0 ||
	    !WIFEXITED(status)) {
		snprintf(reason, reason_len, "checking %s failed", path);
		return -1;
	}
	switch (WEXITSTATUS(status)) {
	case PROBE_OK:
		return 0;
	case PROBE_MISSING:
		snprintf(reason, reason_len, "no such program: %s", path);
		return -1;
	case PROBE_NOT_REGULAR:
		snprintf(reason, reason_len, "not a regular file: %s", path);
		return -1;
	case PROBE_DENIED:
		snprintf(reason, reason_len, "not executable by %s: %s",
			 u->name, path);
		return -1;
	}
	snprintf(reason, reason_len, "cannot become %s to check %s", u->name,
		 path);
	return -1;
}

/* ---- environment ---- */

int launch_build_env(const struct launch_user *u,
		     const struct mcd_launch *req, const struct launch_x *x,
		     struct launch_env *e)
{
	const char *display = x && x->display && x->display[0] ? x->display
							       : req->display;
	int n = 0;

	snprintf(e->home, sizeof(e->home), "HOME=%s", u->home);
	snprintf(e->user, sizeof(e->user), "USER=%s", u->name);
	snprintf(e->logname, sizeof(e->logname), "LOGNAME=%s", u->name);
	snprintf(e->shell, sizeof(e->shell), "SHELL=%s", u->shell);
	snprintf(e->display, sizeof(e->display), "DISPLAY=%s", display);
	e->env[n++] = e->home;
	e->env[n++] = e->user;
	e->env[n++] = e->logname;
	e->env[n++] = e->shell;
	e->env[n++] = "PATH=" LAUNCH_PATH;
	e->env[n++] = e->display;
	if (x && x->xauthority) {
		snprintf(e->xauthority, sizeof(e->xauthority), "XAUTHORITY=%s",
			 x->xauthority);
		e->env[n++] = e->xauthority;
	}
	for (unsigned i = 0; i < req->envc && i < MCD_MAX_ENV && req->env[i];
	     i++)
		e->env[n++] = req->env[i];
	e->env[n] = NULL;
	return n;
}

/* ---- the app ---- */

enum spawn_stage {
	STAGE_SETSID = 1,
	STAGE_STDIN,
	STAGE_CREDS,
	STAGE_CHDIR,
	STAGE_EXEC,
};

struct spawn_report {
	int stage;
	int err;
};

static void child_fail(int fd, int stage)
{
	struct spawn_report r = { stage, errno };

	while (write(fd, &r, sizeof(r)) < 0 && errno == EINTR)
		;
	_exit(127);
}

static const char *stage_name(int stage)
{
	switch (stage) {
	case STAGE_SETSID: return "setsid";
	case STAGE_STDIN: return "stdin";
	case STAGE_CREDS: return "setuid";
	case STAGE_CHDIR: return "chdir";
	case STAGE_EXEC: return "exec";
	}
	return "start";
}

/* 1 once the pipe is readable (a report or EOF), 0 after the deadline. */
static int child_reports(int fd)
{
	long deadline = mono_ms() + LAUNCH_CHILD_TIMEOUT_MS;
	struct pollfd p = { fd, POLLIN, 0 };
	long left;

	while ((left = deadline - mono_ms()) > 0) {
		int r = poll(&p, 1, (int)left);

		if (r > 0 || (r < 0 && errno != EINTR))
			return 1;
	}
	return 0;
}

static int spawn(const struct launch_user *u, const struct mcd_launch *req,
		 const struct launch_env *e, pid_t *pidp, int *outfd,
		 uint32_t *code, char *reason, size_t reason_len)
{
	struct spawn_report rep;
	int pfd[2], opfd[2] = { -1, -1 };
	ssize_t n;
	pid_t pid;

	*code = MCD_FAIL_EXEC;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(reason, reason_len, "pipe: %s", strerror(errno));
		return -1;
	}
	if (outfd && pipe2(opfd, O_CLOEXEC) < 0) {
		snprintf(reason, reason_len, "pipe: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_len, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		if (outfd) {
			close(opfd[0]);
			close(opfd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		launch_child_reset_signals();
		/* Own session and process group: STOP ends all of it. */
		if (setsid() < 0)
			child_fail(pfd[1], STAGE_SETSID);
		if (child_stdin_null() < 0)
			child_fail(pfd[1], STAGE_STDIN);
		/* Its output is its own, never the agent's (appout.h). */
		if (outfd && (dup2(opfd[1], STDOUT_FILENO) < 0 ||
			      dup2(opfd[1], STDERR_FILENO) < 0))
			child_fail(pfd[1], STAGE_STDIN);
		child_close_fds();
		if (launch_become_user(u) < 0)
			child_fail(pfd[1], STAGE_CREDS);
		if (chdir(u->home) < 0 && chdir("/") < 0)
			child_fail(pfd[1], STAGE_CHDIR);
		execve(req->argv[0], (char *const *)req->argv,
		       (char *const *)e->env);
		child_fail(pfd[1], STAGE_EXEC);
	}
	close(pfd[1]);
	if (outfd)
		close(opfd[1]);
	/* EOF: exec succeeded and closed the pipe.  A report: it failed.
	 * Nothing, for long: the child (the user's once it dropped root) was
	 * stopped on its way. */
	if (!child_reports(pfd[0])) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		wait_child(pid, NULL);
		if (outfd)
			close(opfd[0]);
		snprintf(reason, reason_len, "the app did not start within %d s",
			 LAUNCH_CHILD_TIMEOUT_MS / 1000);
		return -1;
	}
	while ((n = read(pfd[0], &rep, sizeof(rep))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	if (n == 0) {
		*pidp = pid;
		if (outfd)
			*outfd = opfd[0];
		return 0;
	}
	if (outfd)
		close(opfd[0]);
	wait_child(pid, NULL);
	if (n != (ssize_t)sizeof(rep)) {
		snprintf(reason, reason_len, "app process failed before exec");
		return -1;
	}
	if (rep.stage == STAGE_EXEC)
		snprintf(reason, reason_len, "exec %s: %s", req->argv[0],
			 strerror(rep.err));
	else
		snprintf(reason, reason_len, "%s for %s: %s",
			 stage_name(rep.stage), u->name, strerror(rep.err));
	return -1;
}

int launch_prepare(const struct launch_opts *o, const struct mcd_launch *req,
		   struct launch_user *u, uint32_t *code, char *reason,
		   size_t reason_len)
{
	int r = launch_lookup_user(req->user, u, code, reason, reason_len);

	if (r < 0)
		return -1;
	if (r == 1) {
		*code = MCD_FAIL_NO_USER;
		if (!o->create_users) {
			snprintf(reason, reason_len, "no such user: %s",
				 req->user);
			return -1;
		}
		if (launch_create_user(req->user, reason, reason_len) < 0)
			return -1;
		r = launch_lookup_user(req->user, u, code, reason, reason_len);
		if (r < 0)
			return -1;
		if (r == 1) {
			*code = MCD_FAIL_NO_USER;
			snprintf(reason, reason_len, "user %s missing after "
				 "creating it", req->user);
			return -1;
		}
	}
	if (launch_check_regular(u, code, reason, reason_len) < 0)
		return -1;
	if (launch_check_program(u, req->argv[0], reason, reason_len) < 0) {
		*code = MCD_FAIL_NO_PROGRAM;
		return -1;
	}
	return 0;
}

void launch_wipe_secrets(const struct mcd_launch *req)
{
	/* Writable: the decoder's strings are in the agent's own buffers. */
	char *cookie = (char *)req->xcookie;

	if (cookie)
		explicit_bzero(cookie, strlen(cookie));
	for (unsigned i = 0; i < req->sharec && i < MCD_MAX_SHARES; i++) {
		char *pw = (char *)req->share[i].password;

		if (pw)
			explicit_bzero(pw, strlen(pw));
	}
}

int launch_spawn(const struct launch_user *u, const struct mcd_launch *req,
		 const struct launch_x *x, pid_t *pid, int *outfd,
		 uint32_t *code, char *reason, size_t reason_len)
{
	struct launch_env *e = calloc(1, sizeof(*e));
	int rc;

	launch_wipe_secrets(req);
	if (!e) {
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "out of memory");
		return -1;
	}
	launch_build_env(u, req, x, e);
	rc = spawn(u, req, e, pid, outfd, code, reason, reason_len);
	free(e);
	return rc;
}

int launch_start(const struct launch_opts *o, const struct mcd_launch *req,
		 pid_t *pid, uint32_t *code, char *reason, size_t reason_len)
{
	struct launch_user *u = calloc(1, sizeof(*u));
	int rc = -1;

	if (!u) {
		*code = MCD_FAIL_INTERNAL;
		snprintf(reason, reason_len, "out of memory");
		return -1;
	}
	if (launch_prepare(o, req, u, code, reason, reason_len) == 0)
		rc = launch_spawn(u, req, NULL, pid, NULL, code, reason,
				  reason_len);
	free(u);
	return rc;
}
