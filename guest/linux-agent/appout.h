/*
 * appout.h - the app's stdout and stderr, kept apart from the agent's own.
 *
 * The app runs as the user and must not be able to write lines that look
 * like the agent's (which go to the console, and from there to dom0's
 * guest log).  So its stdout and stderr are a pipe the agent reads: each
 * line comes out on the agent's stderr as "app: LINE", with control
 * characters shown as '?', cut at APPOUT_LINE_MAX bytes, and limited to a
 * burst of APPOUT_BURST lines and then APPOUT_PER_SEC a second (lines
 * dropped meanwhile are counted in one line).  Reading never blocks: the
 * pipe is non-blocking and read only when poll says so, so an app that
 * writes without end cannot stall the agent, only lose its own lines.
 */
#ifndef MCD_AGENT_APPOUT_H
#define MCD_AGENT_APPOUT_H

#include <stddef.h>
#include <stdio.h>

#define APPOUT_LINE_MAX 512
#define APPOUT_BURST 200
#define APPOUT_PER_SEC 50
#define APPOUT_PREFIX "app: "

struct appout {
	int fd;                      /* read end, -1 when none */
	char line[APPOUT_LINE_MAX + 1];
	size_t len;                  /* bytes of the current line */
	int cut;                     /* the current line was cut */
	unsigned tokens;
	long refill_ms;
	unsigned long dropped;
	FILE *out;                   /* where lines go (the agent's stderr) */
};

/* Take over fd (the pipe's read end; made non-blocking). */
void appout_init(struct appout *a, int fd, FILE *out);
/* Read what is there and print whole lines.  0, or -1 at end of file
 * (then the fd is closed and the last partial line printed). */
int appout_read(struct appout *a, long now_ms);
/* Print what is left and close. */
void appout_close(struct appout *a);

#endif /* MCD_AGENT_APPOUT_H */
