/*
 * appout.c - the app's output lines on the agent's stderr (see appout.h).
 */
#include "appout.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void appout_init(struct appout *a, int fd, FILE *out)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->out = out;
	a->tokens = APPOUT_BURST;
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* One token per line; a second's worth comes back each second. */
static int take_token(struct appout *a, long now)
{
	if (a->refill_ms == 0)
		a->refill_ms = now;
	while (now - a->refill_ms >= 1000 && a->tokens < APPOUT_BURST) {
		a->tokens += APPOUT_PER_SEC;
		if (a->tokens > APPOUT_BURST)
			a->tokens = APPOUT_BURST;
		a->refill_ms += 1000;
	}
	if (a->tokens >= APPOUT_BURST)
		a->refill_ms = now;
	if (a->tokens == 0)
		return 0;
	a->tokens--;
	return 1;
}

static void emit(struct appout *a, long now)
{
	if (!take_token(a, now)) {
		a->dropped++;
	} else {
		if (a->dropped)
			fprintf(a->out, APPOUT_PREFIX "(%lu lines dropped)\n",
				a->dropped);
		a->dropped = 0;
		a->line[a->len] = '\0';
		fprintf(a->out, APPOUT_PREFIX "%s%s\n", a->line,
			a->cut ? " [cut]" : "");
		fflush(a->out);
	}
	a->len = 0;
	a->cut = 0;
}

static void take(struct appout *a, const char *p, size_t n, long now)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			emit(a, now);
			continue;
		}
		if (a->len == APPOUT_LINE_MAX) {
			a->cut = 1;
			continue;
		}
		/* Nothing the app writes can move the console's cursor,
		 * start a new line or look like something else. */
		a->line[a->len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
}

int appout_read(struct appout *a, long now_ms)
{
	char buf[4096];

	if (a->fd < 0)
		return -1;
	/* A bounded amount per call: the loop has other work. */
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(a->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			appout_close(a);
			return -1;
		}
		take(a, buf, (size_t)n, now_ms);
	}
	return 0;
}

void appout_close(struct appout *a)
{
	if (a->len || a->cut)
		emit(a, a->refill_ms);
	if (a->dropped)
		fprintf(a->out, APPOUT_PREFIX "(%lu lines dropped)\n", a->dropped);
	a->dropped = 0;
	if (a->out)
		fflush(a->out);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
