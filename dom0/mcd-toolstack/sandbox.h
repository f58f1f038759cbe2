/*
 * sandbox.h - how the service's unprivileged children lock themselves in:
 * each session's worker (worker.c) and each network connection's face-conn
 * child (faceconn.c).  One place, so both give up the same things.
 */
#ifndef MCD_SANDBOX_H
#define MCD_SANDBOX_H

#include <seccomp.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * Become uid and gid `id` for good (no supplementary groups), with
 * no-new-privileges, not dumpable, no core file, at most `nofile` open
 * files, and killed when the service dies.  0; 1 when the service went
 * away meanwhile (nobody would stop us: the caller exits); -1 with errno
 * set and *step naming what failed ("drop privileges" or "restrict
 * itself").
 */
int sandbox_drop(uid_t id, rlim_t nofile, const char **step);

/*
 * Install the seccomp filter: what every child needs (I/O on the
 * descriptors it holds, memory, time, signals' return, exit), the extra
 * system calls `extra`, and what `more` adds (rules with argument checks;
 * NULL for none).  Probes a library may make (OpenSSL looking for its
 * configuration: open, stat, ...) fail with EACCES; anything else kills
 * the process.  0, or -1.
 */
int sandbox_seccomp(const int *extra, size_t nextra,
		    int (*more)(scmp_filter_ctx f));

#endif /* MCD_SANDBOX_H */
