/*
 * fuzz_xagent.c - libFuzzer harness for what the agent's X side takes from
 * others: dom0's X relay messages and the watcher's report lines.
 *
 * Input: a list of operations, each an opcode byte and its arguments:
 *   0        a local client connects (a socketpair; relay ids are 1, 2, ..)
 *   1 c l l  X_DATA from dom0 for conn c, length l (LE u16, 1..MAX), the
 *            bytes taken from the input
 *   2 c a*4  X_ACK from dom0 for conn c, a bytes (LE u32)
 *   3 c      X_CLOSE from dom0 for conn c
 *   4 c n    the local client of c writes n bytes; the relay reads
 *   5 c      the local client of c reads all it can; the relay writes
 *   6 n      a watcher line of n bytes from the input, parsed
 * A protocol error (-1) ends the run, as it ends dom0's channel.  After
 * every step the relay's bounds must hold: nothing buffered or unacknowledged
 * beyond MCD_X_WINDOW, no more than MCD_MAX_X_CONNS connections.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest/linux-agent/log.h"
#include "../../guest/linux-agent/xrelay.h"
#include "../../guest/linux-agent/xwatch.h"

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                         \
			abort();                                          \
		}                                                         \
	} while (0)

#define MAX_PEERS 40

/* The agent's log, silenced: dom0's errors are the expected case here. */
void log_init(const char *prog, int verbosity)
{
	(void)prog;
	(void)verbosity;
}
int log_verbosity(void)
{
	return 0;
}
void log_debug(const char *fmt, ...)
{
	(void)fmt;
}
void log_info(const char *fmt, ...)
{
	(void)fmt;
}
void log_warn(const char *fmt, ...)
{
	(void)fmt;
}
void log_warnx(const char *fmt, ...)
{
	(void)fmt;
}
void fatalx(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

struct fz {
	const uint8_t *p;
	size_t n;
	int peer[MAX_PEERS + 1]; /* by relay id */
	uint32_t acked;          /* what the relay acknowledged */
};

static int take(struct fz *f, void *out, size_t len)
{
	if (f->n < len)
		return -1;
	memcpy(out, f->p, len);
	f->p += len;
	f->n -= len;
	return 0;
}

static int dom0_send(void *ctx, const struct mcd_msg *m)
{
	struct fz *f = ctx;

	if (m->type == MCD_MSG_X_ACK)
		f->acked += m->u.x.ack;
	return 0;
}

static void check_bounds(const struct xrelay *r)
{
	int open = 0;

	for (int i = 0; i < MCD_MAX_X_CONNS; i++) {
		const struct xrelay_conn *c = &r->conn[i];

		if (c->fd < 0)
			continue;
		open++;
		CHECK(c->out_off + c->out_len <= MCD_X_WINDOW);
		CHECK(c->unacked <= MCD_X_WINDOW);
		CHECK(c->reply_len <= XRELAY_REPLY_HDR);
		CHECK(c->id > 0 && c->id < r->next_id);
	}
	CHECK(open <= MCD_MAX_X_CONNS);
}

static int kick(struct xrelay *r, uint32_t id, short revents)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++) {
		struct xrelay_conn *c = &r->conn[i];

		if (c->fd >= 0 && c->id == id) {
			struct pollfd p = { c->fd, POLLIN | POLLOUT, revents };

			return xrelay_event(r, &p, id);
		}
	}
	return 0;
}

static int from_dom0(struct xrelay *r, uint32_t type, uint32_t id,
		     const uint8_t *data, uint32_t len, uint32_t ack)
{
	struct mcd_msg m = { .type = type };

	m.u.x.conn = id;
	m.u.x.data = data;
	m.u.x.len = len;
	m.u.x.ack = ack;
	m.u.x.reason = "";
	return xrelay_message(r, &m);
}

/* One operation; -1 ends the run. */
static int step(struct fz *f, struct xrelay *r)
{
	static uint8_t buf[MCD_MAX_X_DATA];
	uint8_t op, c, n8;
	uint16_t len;
	uint32_t ack;
	int sv[2], rc;
	struct xwatch_line l;

	if (take(f, &op, 1) < 0)
		return -1;
	switch (op % 7) {
	case 0:
		if (r->next_id > MAX_PEERS ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return 0;
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		rc = xrelay_adopt(r, sv[0]);
		if (rc == 1)
			f->peer[r->next_id - 1] = sv[1];
		else
			close(sv[1]);
		return rc < 0 ? -1 : 0;
	case 1:
		if (take(f, &c, 1) < 0 || take(f, &len, 2) < 0)
			return -1;
		len = len % MCD_MAX_X_DATA + 1;
		if (len > f->n)
			len = (uint16_t)f->n;
		if (len == 0)
			return -1;
		memcpy(buf, f->p, len);
		f->p += len;
		f->n -= len;
		return from_dom0(r, MCD_MSG_X_DATA, c, buf, len, 0);
	case 2:
		if (take(f, &c, 1) < 0 || take(f, &ack, 4) < 0)
			return -1;
		if (ack == 0 || ack > MCD_X_WINDOW)
			return 0; /* the decoder refuses these */
		return from_dom0(r, MCD_MSG_X_ACK, c, NULL, 0, ack);
	case 3:
		if (take(f, &c, 1) < 0)
			return -1;
		return from_dom0(r, MCD_MSG_X_CLOSE, c, NULL, 0, 0);
	case 4:
		if (take(f, &c, 1) < 0 || take(f, &n8, 1) < 0)
			return -1;
		if (c <= MAX_PEERS && f->peer[c] > 0) {
			memset(buf, 'l', (size_t)n8 * 64 + 1);
			(void)!write(f->peer[c], buf, (size_t)n8 * 64 + 1);
		}
		return kick(r, c, POLLIN);
	case 5:
		if (take(f, &c, 1) < 0)
			return -1;
		if (c <= MAX_PEERS && f->peer[c] > 0)
			while (read(f->peer[c], buf, sizeof(buf)) > 0)
				;
		return kick(r, c, POLLOUT);
	default:
		if (take(f, &n8, 1) < 0 || n8 > f->n)
			return -1;
		if (xwatch_parse_line((const char *)f->p, n8, &l) == 0) {
			CHECK(l.kind >= XWATCH_OK && l.kind <= XWATCH_MAP);
			CHECK(l.nids <= XWATCH_MAX_IDS);
			CHECK(strlen(l.detail) <= XWATCH_DETAIL_MAX);
			CHECK(l.kind != XWATCH_MAP || l.nids > 0);
		}
		f->p += n8;
		f->n -= n8;
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xrelay r;
	struct fz f = { .p = data, .n = size };
	struct xrelay_out out = { dom0_send, &f, NULL };
	/* As in the agent: a closed peer is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	xrelay_init(&r, &out);
	while (step(&f, &r) == 0)
		check_bounds(&r);
	xrelay_close(&r);
	for (int i = 0; i <= MAX_PEERS; i++)
		if (f.peer[i] > 0)
			close(f.peer[i]);
	return 0;
}
