/*
 * runprog.c - run a helper program with a deadline; see runprog.h.
 */
#include "runprog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLICE_MS	10	/* how often to look at the child without pidfd */
#define READS		16	/* reads of a pipe per wakeup, at most */
#define DRAIN_READS	64	/* reads of a pipe after the exit, at most */

static char *const default_env[] = { RUNPROG_PATH, "LC_ALL=C", NULL };

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Keep the last RUNPROG_TAIL bytes of everything appended. */
static void tail_add(struct runprog *r, const char *b, size_t n)
{
	if (n >= RUNPROG_TAIL) {
		memcpy(r->tail, b + n - RUNPROG_TAIL, RUNPROG_TAIL);
		r->tail_len = RUNPROG_TAIL;
	} else {
		if (r->tail_len + n > RUNPROG_TAIL) {
			size_t drop = r->tail_len + n - RUNPROG_TAIL;

			memmove(r->tail, r->tail + drop, r->tail_len - drop);
			r->tail_len -= drop;
		}
		memcpy(r->tail + r->tail_len, b, n);
		r->tail_len += n;
	}
	r->tail[r->tail_len] = '\0';
}

/* Keep the first outlen - 1 bytes. */
static void head_add(const struct runprog_opts *o, size_t *len, const char *b,
		     size_t n)
{
	if (*len + n > o->outlen - 1)
		n = o->outlen - 1 - *len;
	memcpy(o->out + *len, b, n);
	*len += n;
	o->out[*len] = '\0';
}

/* Read what fd has now, at most max reads.  0 at EOF (or on an error),
 * 1 if more may come. */
static int take(int fd, int is_out, const struct runprog_opts *o,
		size_t *outlen, struct runprog *r, int max)
{
	char buf[4096];

	for (int i = 0; i < max; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return 0;
		if (is_out)
			head_add(o, outlen, buf, (size_t)n);
		else
			tail_add(r, buf, (size_t)n);
	}
	return 1;
}

static int spawn(const char *path, char *const argv[], char *const envp[],
		 int out_w, int err_w, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	if ((rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
			"/dev/null", O_RDONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, out_w,
			STDOUT_FILENO)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, err_w,
			STDERR_FILENO)) == 0 &&
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
			POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0)
		rc = posix_spawn(pid, path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int runprog_run(char *const argv[], const struct runprog_opts *o,
		struct runprog *r)
{
	const char *path = o->path ? o->path : argv ? argv[0] : NULL;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int open_out, open_err, pidfd = -1, status = 0, rc;
	size_t outlen = 0;
	long deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->end = RUNPROG_FAILED;
	r->code = -1;
	if (o->out && o->outlen)
		o->out[0] = '\0';
	if (!path || path[0] != '/' || !argv || !argv[0]) {
		snprintf(r->reason, sizeof(r->reason),
			 "cannot run %.200s: not an absolute path",
			 path ? path : "(nothing)");
		return -1;
	}
	if (o->timeout_s <= 0 || (o->out && o->outlen == 0)) {
		snprintf(r->reason, sizeof(r->reason), "cannot run %.200s: "
			 "bad options", path);
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (o->out && pipe2(outp, O_CLOEXEC | O_NONBLOCK) < 0)) {
		snprintf(r->reason, sizeof(r->reason), "cannot run %.200s: %s",
			 path, strerror(errno));
		goto out;
	}
	/* The child's ends of the pipes block like any stdout. */
	fcntl(errp[1], F_SETFL, 0);
	if (o->out)
		fcntl(outp[1], F_SETFL, 0);
	rc = spawn(path, argv, o->envp ? o->envp : default_env,
		   o->out ? outp[1] : errp[1], errp[1], &pid);
	close(errp[1]);
	errp[1] = -1;
	if (o->out) {
		close(outp[1]);
		outp[1] = -1;
	}
	if (rc != 0) {
		snprintf(r->reason, sizeof(r->reason), "cannot run %.200s: %s",
			 path, strerror(rc));
		goto out;
	}
#ifdef SYS_pidfd_open
	/* Wakes poll when the child ends; without it, look every SLICE_MS. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	open_err = 1;
	open_out = o->out != NULL;
	deadline = mono_ms() + o->timeout_s * 1000L;
	for (;;) {
		struct pollfd p[3];
		long left;
		int n = 0, w;

		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			/* Not ours to wait for any more: cannot happen
			 * unless someone else reaped it. */
			snprintf(r->reason, sizeof(r->reason), "%.200s: waitpid: %s",
				 path, strerror(errno));
			goto out;
		}
		left = deadline - mono_ms();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			reap(pid, &status);
			r->end = RUNPROG_TIMEDOUT;
			snprintf(r->reason, sizeof(r->reason),
				 "%.200s did not finish within %d s", path,
				 o->timeout_s);
			goto out;
		}
		if (open_err)
			p[n++] = (struct pollfd){ errp[0], POLLIN, 0 };
		if (open_out)
			p[n++] = (struct pollfd){ outp[0], POLLIN, 0 };
		if (pidfd >= 0)
			p[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		else if (left > SLICE_MS)
			left = SLICE_MS;
		if (poll(p, (nfds_t)n, (int)left) < 0)
			continue; /* EINTR; anything else shows next round */
		for (int i = 0; i < n; i++) {
			if (!p[i].revents || p[i].fd == pidfd)
				continue;
			if (p[i].fd == errp[0])
				open_err = take(errp[0], 0, o, &outlen, r,
						READS);
			else
				open_out = take(outp[0], 1, o, &outlen, r,
						READS);
		}
	}
	/* What it wrote before it ended is in the pipes; what is left of its
	 * group may hold them open, so never wait for EOF. */
	if (open_err)
		take(errp[0], 0, o, &outlen, r, DRAIN_READS);
	if (open_out)
		take(outp[0], 1, o, &outlen, r, DRAIN_READS);
	if (WIFEXITED(status)) {
		r->end = RUNPROG_EXITED;
		r->code = WEXITSTATUS(status);
	} else {
		r->end = RUNPROG_SIGNALED;
		r->code = WTERMSIG(status);
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r->end == RUNPROG_EXITED && r->code == 0 ? 0 : -1;
}
