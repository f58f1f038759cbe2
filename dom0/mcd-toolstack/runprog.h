/*
 * runprog.h - run a helper program (mkfs.ext4, lvm) and wait for it, with a
 * deadline.
 *
 * The program is an absolute path, run with the argv given, never through a
 * shell, with a fixed environment (RUNPROG_ENV unless the caller gives
 * one), stdin on /dev/null, no other descriptor of ours, default signal
 * dispositions and mask, in a process group of its own.  Its stdout and
 * stderr are captured together and the last RUNPROG_TAIL bytes are kept:
 * helpers say why they failed last.  A caller that parses the output may
 * have stdout apart, in a buffer of its own (its head is kept).
 *
 * At the deadline the whole process group is killed (SIGKILL) and the
 * program reaped.  Once the program has exited, what is left of its group
 * is not waited for: output still in the pipe is read, the rest dropped.
 * Nothing is left behind: no zombie, no descriptor.
 *
 * posix_spawn (vfork-like, execs at once) because the service is threaded
 * and shares its process with libxl; the child is reaped with
 * waitpid(<its pid>) only, as domain.h asks.  Any thread may call this.
 */
#ifndef MCD_RUNPROG_H
#define MCD_RUNPROG_H

#include <stddef.h>

#define RUNPROG_TAIL		4096	/* bytes of output kept */
#define RUNPROG_REASON_MAX	256

/* The environment a helper gets unless the caller gives its own. */
#define RUNPROG_PATH		"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

enum runprog_end {
	RUNPROG_EXITED = 0,	/* code: its exit status */
	RUNPROG_SIGNALED,	/* code: the signal that ended it */
	RUNPROG_TIMEDOUT,	/* killed with its group at the deadline */
	RUNPROG_FAILED,		/* could not be run at all */
};

struct runprog_opts {
	const char	*path;		/* the program; NULL: argv[0] */
	int		timeout_s;	/* the deadline, > 0 */
	char *const	*envp;		/* NULL: PATH and LC_ALL=C only */
	char		*out;		/* non-NULL: stdout alone, NUL-ended, */
	size_t		outlen;		/*   cut at outlen - 1 bytes */
};

struct runprog {
	enum runprog_end end;
	int		code;		/* exit status or signal; else -1 */
	size_t		tail_len;
	char		tail[RUNPROG_TAIL + 1];	/* output's tail, NUL-ended
						 * (stderr alone with out) */
	/* TIMEDOUT: "PROG did not finish within N s"; FAILED: "cannot run
	 * PROG: why".  Empty otherwise. */
	char		reason[RUNPROG_REASON_MAX];
};

/*
 * Run o->path (or argv[0]) with argv; fill r.  0 if it exited with status 0, -1
 * otherwise (r->end says how it ended).
 */
int runprog_run(char *const argv[], const struct runprog_opts *o,
		struct runprog *r);

#endif
