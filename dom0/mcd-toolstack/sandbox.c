/*
 * sandbox.c - the unprivileged children's lock-in (see sandbox.h).
 */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int sandbox_drop(uid_t id, rlim_t nofile, const char **step)
{
	struct rlimit none = { 0, 0 }, files = { nofile, nofile };
	pid_t parent = getppid();

	*step = "drop privileges";
	if (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 ||
	    setresuid(id, id, id) < 0)
		return -1;
	if (getuid() != id || geteuid() != id) {
		errno = EPERM;
		return -1;
	}
	/* The parent-death signal does not survive the uid change. */
	*step = "restrict itself";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &files) < 0)
		return -1;
	return getppid() != parent ? 1 : 0;
}

int sandbox_seccomp(const int *extra, size_t nextra,
		    int (*more)(scmp_filter_ctx f))
{
	static const int allow[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv),
		SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(poll),
		SCMP_SYS(ppoll), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
		SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
		SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
		SCMP_SYS(getsockname), SCMP_SYS(getpeername),
		SCMP_SYS(shutdown), SCMP_SYS(fcntl), SCMP_SYS(lseek),
		SCMP_SYS(fstat), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		SCMP_SYS(brk), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
		SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(getrandom), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
		SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group),
	};
	static const int refuse[] = {
		SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat),
		SCMP_SYS(lstat), SCMP_SYS(newfstatat), SCMP_SYS(access),
		SCMP_SYS(faccessat), SCMP_SYS(readlink),
	};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = f ? 0 : -1;

	for (size_t i = 0; !rc && i < sizeof(allow) / sizeof(allow[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allow[i], 0);
	for (size_t i = 0; !rc && i < nextra; i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, extra[i], 0);
	for (size_t i = 0; !rc && i < sizeof(refuse) / sizeof(refuse[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), refuse[i], 0);
	if (!rc && more)
		rc = more(f);
	if (!rc)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc ? -1 : 0;
}
