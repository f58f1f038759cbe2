/*
 * xwatch.h - the watcher: a child of the agent, running as the session's
 * user, that opens the display with libX11 and reports on a pipe.
 *
 * Line protocol, one report per line, printable ASCII:
 *   ok                     the display accepted us; maps follow
 *   fail <detail>          it did not; detail is what Xlib/xcb printed
 *                          (the server's refusal), or "" when it printed
 *                          nothing (no connection at all)
 *   map <id> [<id>...]     a window was mapped on the root window; the
 *                          first id is that window, the rest (at most
 *                          XWATCH_MAX_IDS in all) its descendants, breadth
 *                          first (a window manager's frame holds the app's
 *                          window).  Ids are 0x and 1..8 hex digits.
 * The agent reads the lines with xwatch_read(), which checks them.
 */
#ifndef MCD_AGENT_XWATCH_H
#define MCD_AGENT_XWATCH_H

#include "launch.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XWATCH_DETAIL_MAX 200  /* fail detail */
#define XWATCH_MAX_IDS 16      /* ids in one map line */
#define XWATCH_LINE_MAX 256    /* longest valid line, without '\n' */

enum xwatch_kind {
	XWATCH_OK = 1,
	XWATCH_FAIL,
	XWATCH_MAP,
};

struct xwatch_line {
	enum xwatch_kind kind;
	char detail[XWATCH_DETAIL_MAX + 1]; /* fail */
	unsigned nids;                      /* map */
	uint32_t ids[XWATCH_MAX_IDS];
};

struct xwatch {
	pid_t pid;           /* 0: none */
	int fd;              /* its reports, -1 when closed */
	int signalled;       /* SIGKILL sent (or it is known to be gone) */
	size_t len;
	char buf[XWATCH_LINE_MAX + 1];
};

void xwatch_init(struct xwatch *w);
/* Start the watcher for display as u, with XAUTHORITY xauthority (NULL:
 * none).  0, or -1 with reason. */
int xwatch_start(struct xwatch *w, const struct launch_user *u,
		 const char *display, const char *xauthority, char *reason,
		 size_t reason_len);
/* The next report: 1 with *out, 0 when none is complete yet, -1 when the
 * watcher is gone or wrote something that is not the protocol. */
int xwatch_read(struct xwatch *w, struct xwatch_line *out);
/* End it (SIGKILL; the event loop reaps it) and close the pipe. */
void xwatch_stop(struct xwatch *w);

/* Check one line (without its '\n'): 0 with *out, or -1. */
int xwatch_parse_line(const char *line, size_t len, struct xwatch_line *out);

#endif /* MCD_AGENT_XWATCH_H */
