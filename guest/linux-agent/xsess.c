/*
 * xsess.c - the X side of a session (see xsess.h).
 */
#include "xsess.h"

#include <stdio.h>

int xsess_start(struct xsess **out, const struct mcd_launch *req,
		const struct launch_user *u, const struct xsess_io *io,
		struct launch_x *x, uint32_t *code, char *reason,
		size_t reason_len)
{
	(void)req;
	(void)u;
	(void)io;
	(void)x;
	*out = NULL;
	*code = MCD_FAIL_DISPLAY;
	snprintf(reason, reason_len, "X11 is not available in this agent");
	return -1;
}

void xsess_app_started(struct xsess *xs, pid_t pid)
{
	(void)xs;
	(void)pid;
}

int xsess_pollfds(struct xsess *xs, struct pollfd *pfd, int max)
{
	(void)xs;
	(void)pfd;
	(void)max;
	return 0;
}

enum xsess_ev xsess_event(struct xsess *xs, const struct pollfd *pfd, int n,
			  char *reason, size_t reason_len)
{
	(void)xs;
	(void)pfd;
	(void)n;
	(void)reason;
	(void)reason_len;
	return XSESS_NOTHING;
}

int xsess_message(struct xsess *xs, const struct mcd_msg *m)
{
	(void)m;
	return xs ? 0 : -1;
}

int xsess_owns_child(const struct xsess *xs, pid_t pid)
{
	(void)xs;
	(void)pid;
	return 0;
}

void xsess_channel_lost(struct xsess *xs)
{
	(void)xs;
}

void xsess_end(struct xsess *xs)
{
	(void)xs;
}
