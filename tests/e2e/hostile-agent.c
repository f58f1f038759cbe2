/*
 * hostile-agent.c - mcd-hostile-agent: a guest agent that breaks the rules
 * on purpose, for the end-to-end tests.  It offers its vchan where the real
 * agent does (/local/domain/<own domid>/data/mcd/vchan), misbehaves in the
 * way its MODE names, prints what it did on stdout ("MCD-HOSTILE ...") and
 * then stays alive, so dom0 has to cope with a peer that neither behaves
 * nor goes away.
 *
 * Modes:
 *   garbage    random bytes as soon as dom0 connects
 *   oversized  a valid HELLO, then a header claiming a 1 GiB STATUS
 *   truncated  a valid HELLO, then half a STATUS frame, then close
 *   wrongdir   a valid HELLO and STATUS, then a LAUNCH (dom0 -> guest only)
 *   badxs      junk and overlong values in its own data/mcd/agent and
 *              data/mcd/vchan nodes; after --delay seconds a real vchan
 *              server, then garbage
 *   crash      a valid HELLO, then a kernel crash (sysrq c)
 *   slowreader the attack on a shared service loop: takes the LAUNCH2 in
 *              relay mode, opens an X connection to the thin client with
 *              the launch's cookie, asks for large images without end,
 *              and then reads its ring only every 1.9 s, acknowledging
 *              everything (no protocol rule broken); never says READY
 *   xopenflood takes a relay LAUNCH2 (whose display refuses connections)
 *              and opens X connections one after another, each refused
 *              by dom0, 2000 times: one warning each would flood the log
 *   nohello    accepts dom0's connection and then says nothing at all
 *   ringfull   takes a relay LAUNCH2, asks for large X replies and never
 *              reads them, so dom0's ring to it stays full; fills its own
 *              ring to dom0 as far as the X window allows; after 3 s (dom0
 *              has queued data by then) reads a single byte, one event
 *              that frees no real room, then one byte every 20 s; never
 *              says READY
 *   probe      reads /mcd, /mcd/sessions, /local/domain/0 and
 *              /local/domain/<d>/data/mcd for d = 1..32 but its own, printing
 *              "MCD-PROBE <path> readable|denied|absent|error" for each, then
 *              serves garbage
 * --socket PATH serves the channel modes over the Unix-socket stand-in
 * instead of vchan (no Xen needed).
 */
#include "../../guest/linux-agent/log.h"
#include "../../guest/linux-agent/xs.h"
#include "mcd_chan.h"
#include "mcd_proto.h"
#include "mcd_xs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <xenstore.h>
#include <xentoollog.h>

#define PROG "mcd-hostile-agent"
#define PROBE_MAX_DOMID 32

enum mode { M_GARBAGE, M_OVERSIZED, M_TRUNCATED, M_WRONGDIR, M_BADXS,
	    M_PROBE, M_CRASH, M_SLOWREADER, M_XOPENFLOOD, M_NOHELLO,
	    M_RINGFULL };

static const char *const mode_names[] = {
	[M_GARBAGE] = "garbage", [M_OVERSIZED] = "oversized",
	[M_TRUNCATED] = "truncated", [M_WRONGDIR] = "wrongdir",
	[M_BADXS] = "badxs", [M_PROBE] = "probe", [M_CRASH] = "crash",
	[M_SLOWREADER] = "slowreader", [M_XOPENFLOOD] = "xopenflood",
	[M_NOHELLO] = "nohello", [M_RINGFULL] = "ringfull",
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " MODE [--delay SECONDS] [--socket PATH]\n"
"\n"
"A misbehaving MCD guest agent for end-to-end tests.  MODE is one of:\n"
"  garbage    random bytes as soon as dom0 connects\n"
"  oversized  HELLO, then a header claiming a 1 GiB STATUS\n"
"  truncated  HELLO, then half a STATUS frame, then close the channel\n"
"  wrongdir   HELLO and STATUS, then a LAUNCH (only dom0 may send one)\n"
"  badxs      junk in data/mcd/agent and data/mcd/vchan, then (after\n"
"             --delay seconds, default 5) a real vchan serving garbage\n"
"  crash      HELLO, then crash the guest kernel (sysrq c)\n"
"  xopenflood take a relay LAUNCH2, open 2000 X connections dom0 refuses\n"
"  nohello    accept dom0's connection, then never say anything\n"
"  slowreader take a relay LAUNCH2, ask the thin client for large images\n"
"             without end, read the ring only every 1.9 s (acking all)\n"
"  ringfull   take a relay LAUNCH2, ask for large images, never read\n"
"             them; fill the ring to dom0; after 3 s read one byte (one\n"
"             notify, no room), then one byte every 20 s\n"
"  probe      try to read dom0's and other guests' MCD nodes; prints\n"
"             'MCD-PROBE <path> readable|denied|absent' for each, then\n"
"             serves garbage like garbage mode\n"
"After misbehaving it sleeps until killed.  --socket PATH uses the Unix\n"
"socket stand-in instead of vchan (not for badxs or probe).\n");
}

static void say(const char *fmt, ...) LOG_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static __attribute__((noreturn)) void stay_alive(void)
{
	say("MCD-HOSTILE staying alive");
	for (;;)
		sleep(3600);
}

static void fill_random(uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Not random, still garbage. */
			for (size_t i = 0; i < n; i++)
				p[i] = (uint8_t)(i * 131 + 7);
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

/* Block until a client is on the channel. */
static void wait_for_client(struct mcd_chan *c)
{
	while (mcd_chan_state(c) != MCD_CHAN_OPEN) {
		struct pollfd pfd = { mcd_chan_fd(c), POLLIN, 0 };

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			fatalx("poll: %s", strerror(errno));
		if (pfd.revents && mcd_chan_ready(c) == MCD_CHAN_CLOSED)
			fatalx("channel closed before a client connected");
	}
	say("MCD-HOSTILE dom0 connected");
}

/* Send and report; failures are expected (dom0 hangs up on us). */
static void send_bytes(struct mcd_chan *c, const void *p, size_t n,
		       const char *what)
{
	if (mcd_chan_send(c, p, n) < 0 || mcd_chan_sync(c, 2000) < 0)
		say("MCD-HOSTILE sending %s: dom0 did not take it", what);
	else
		say("MCD-HOSTILE sent %s (%zu bytes)", what, n);
}

static void send_msg(struct mcd_chan *c, const struct mcd_msg *m)
{
	uint8_t buf[MCD_MAX_FRAME];
	int n = mcd_encode(m, buf, sizeof(buf));

	if (n < 0)
		fatalx("internal: cannot encode %s", mcd_msg_name(m->type));
	send_bytes(c, buf, (size_t)n, mcd_msg_name(m->type));
}

static void send_hello(struct mcd_chan *c)
{
	struct mcd_msg m = { .type = MCD_MSG_HELLO };

	m.u.hello.version_min = MCD_PROTO_VERSION_MIN;
	m.u.hello.version_max = MCD_PROTO_VERSION_MAX;
	m.u.hello.role = MCD_ROLE_AGENT_LINUX;
	send_msg(c, &m);
}

static void send_garbage(struct mcd_chan *c)
{
	static uint8_t junk[8192];

	fill_random(junk, sizeof(junk));
	send_bytes(c, junk, sizeof(junk), "random bytes");
}

/* The next whole frame from dom0 within timeout_ms: 1 (m valid until the
 * next call), 0 (none yet), -1 (closed or a bad frame). */
static int next_frame(struct mcd_chan *c, struct mcd_rx *rx, struct mcd_msg *m,
		      int timeout_ms)
{
	char err[160];

	for (;;) {
		struct pollfd pfd = { mcd_chan_fd(c), mcd_chan_events(c), 0 };
		size_t want;
		uint8_t *p = mcd_rx_space(rx, &want);
		ssize_t n = mcd_chan_recv(c, p, want);
		int r;

		if (n < 0)
			return -1;
		if (n > 0) {
			r = mcd_rx_commit(rx, (size_t)n, MCD_DIR_TO_GUEST, m, err,
					  sizeof(err));
			if (r != 0)
				return r;
			continue;
		}
		if (timeout_ms < 0)
			return 0;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		if (mcd_chan_ready(c) == MCD_CHAN_CLOSED)
			return -1;
	}
}

static void put16(uint8_t *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }
static unsigned get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

static void send_x(struct mcd_chan *c, uint32_t type, uint32_t ack,
		   const uint8_t *data, uint32_t len)
{
	uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg m = { .type = type };
	int n;

	m.u.x.conn = 1;
	m.u.x.ack = ack;
	m.u.x.data = data;
	m.u.x.len = len;
	n = mcd_encode(&m, buf, sizeof(buf));
	if (n < 0 || mcd_chan_send(c, buf, (size_t)n) < 0 ||
	    mcd_chan_sync(c, 10000) < 0)
		fatalx("dom0 did not take %s", mcd_msg_name(type));
}

/* X11 connection setup, little-endian, with the launch's cookie. */
static size_t x_setup(uint8_t *b, const char *hex)
{
	static const char name[] = "MIT-MAGIC-COOKIE-1";

	memset(b, 0, 12 + 20 + 16);
	b[0] = 'l';
	put16(b + 2, 11);
	put16(b + 6, sizeof(name) - 1);
	put16(b + 8, 16);
	memcpy(b + 12, name, sizeof(name) - 1);
	for (int i = 0; i < 16; i++)
		sscanf(hex + 2 * i, "%2hhx", &b[32 + i]);
	return 12 + 20 + 16;
}

/* The root window of the setup reply's first screen, 0 if none. */
static uint32_t x_root(const uint8_t *r, size_t n, unsigned *w, unsigned *h)
{
	size_t v, off;

	if (n < 40 || r[0] != 1)
		return 0;
	v = get16(r + 24);
	off = 40 + ((v + 3) & ~(size_t)3) + 8 * (size_t)r[29];
	if (off + 24 > n)
		return 0;
	*w = get16(r + off + 20);
	*h = get16(r + off + 22);
	return get32(r + off);
}

/* HELLO, STATUS idle, then wait for the LAUNCH2 and say STARTED; the
 * session id in sid, and its X cookie in cookie ("" for none). */
static void take_launch(struct mcd_chan *c, struct mcd_rx *rx,
			char sid[MCD_SESSION_ID_LEN + 1],
			char cookie[MCD_XCOOKIE_LEN + 1])
{
	struct mcd_msg m = { .type = MCD_MSG_STATUS };

	send_hello(c);
	m.u.status.state = MCD_AGENT_IDLE;
	m.u.status.session_id = "";
	send_msg(c, &m);
	sid[0] = '\0';
	while (!sid[0]) {
		if (next_frame(c, rx, &m, 1000) < 0)
			fatalx("dom0 went away before the launch");
		if (m.type == MCD_MSG_LAUNCH2) {
			snprintf(sid, MCD_SESSION_ID_LEN + 1, "%s",
				 m.u.launch.session_id);
			snprintf(cookie, MCD_XCOOKIE_LEN + 1, "%s",
				 m.u.launch.xcookie);
		}
	}
	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_STARTED;
	m.u.started.pid = 4242;
	m.u.started.session_id = sid;
	send_msg(c, &m);
}

/* X_OPEN after X_OPEN, each refused (dom0 cannot reach the display) and
 * closed by dom0; the next one as soon as the close arrives. */
static void xopen_flood(struct mcd_chan *c)
{
	static struct mcd_rx rx;
	char sid[MCD_SESSION_ID_LEN + 1], cookie[MCD_XCOOKIE_LEN + 1];
	struct mcd_msg m;
	uint8_t buf[MCD_MAX_FRAME];
	unsigned opened = 0, closed = 0;

	mcd_rx_init(&rx);
	take_launch(c, &rx, sid, cookie);
	while (opened < 2000) {
		struct mcd_msg o = { .type = MCD_MSG_X_OPEN };
		int n, r;

		o.u.x.conn = ++opened;
		n = mcd_encode(&o, buf, sizeof(buf));
		if (n < 0 || mcd_chan_send(c, buf, (size_t)n) < 0)
			fatalx("dom0 did not take X_OPEN %u", opened);
		/* Keep a few in flight, never more than dom0 allows. */
		while (opened - closed >= 8 &&
		       (r = next_frame(c, &rx, &m, 5000)) != 0) {
			if (r < 0)
				fatalx("dom0 closed the channel after %u X_OPENs",
				       opened);
			if (m.type == MCD_MSG_X_CLOSE)
				closed++;
		}
		if (opened - closed >= 8)
			fatalx("dom0 stopped answering after %u X_OPENs", opened);
	}
	say("MCD-HOSTILE opened %u X connections, %u closed by dom0", opened,
	    closed);
}

/* An X connection through the relay with the launch's cookie, its setup
 * reply read at a normal pace; the root window, its size in w and h. */
static uint32_t x_connect(struct mcd_chan *c, struct mcd_rx *rx,
			  const char *cookie, unsigned *w, unsigned *h)
{
	static uint8_t reply[65536];
	uint8_t req[64];
	size_t have = 0, need = 8, n;
	struct mcd_msg m = { 0 };
	uint32_t root;

	if (strlen(cookie) != MCD_XCOOKIE_LEN)
		fatalx("the launch carries no X cookie");
	send_x(c, MCD_MSG_X_OPEN, 0, NULL, 0);
	n = x_setup(req, cookie);
	send_x(c, MCD_MSG_X_DATA, 0, req, (uint32_t)n);
	while (have < need) {
		if (next_frame(c, rx, &m, 1000) < 0)
			fatalx("dom0 went away during the X setup");
		if (m.type != MCD_MSG_X_DATA)
			continue;
		if (have + m.u.x.len > sizeof(reply))
			fatalx("setup reply too long");
		memcpy(reply + have, m.u.x.data, m.u.x.len);
		have += m.u.x.len;
		send_x(c, MCD_MSG_X_ACK, m.u.x.len, NULL, 0);
		if (have >= 8)
			need = 8 + 4 * (size_t)get16(reply + 6);
	}
	root = x_root(reply, have, w, h);
	if (!root)
		fatalx("the thin client refused the X connection");
	*w = *w > 500 ? 500 : *w;
	*h = *h > 500 ? 500 : *h;
	return root;
}

/* 200 GetImage requests of w x h each: hundreds of MB of replies that
 * dom0 has to relay towards this guest. */
static void ask_images(struct mcd_chan *c, uint32_t root, unsigned w,
		       unsigned h)
{
	uint8_t req[4000];
	size_t n;

	for (n = 0; n + 20 <= sizeof(req); n += 20) {
		req[n] = 73;       /* GetImage */
		req[n + 1] = 2;    /* ZPixmap */
		put16(req + n + 2, 5);
		put32(req + n + 4, root);
		put32(req + n + 8, 0);
		put16(req + n + 12, w);
		put16(req + n + 14, h);
		put32(req + n + 16, 0xffffffffu);
	}
	send_x(c, MCD_MSG_X_DATA, 0, req, (uint32_t)n);
	say("MCD-HOSTILE asked for %zu images of %ux%u", n / 20, w, h);
}

static void slow_reader(struct mcd_chan *c)
{
	static struct mcd_rx rx;
	char sid[MCD_SESSION_ID_LEN + 1] = "", cookie[MCD_XCOOKIE_LEN + 1] = "";
	struct mcd_msg m = { 0 };
	unsigned w = 0, h = 0;
	uint32_t root;

	mcd_rx_init(&rx);
	take_launch(c, &rx, sid, cookie);
	root = x_connect(c, &rx, cookie, &w, &h);
	ask_images(c, root, w, h);
	say("MCD-HOSTILE reading every 1.9 s");
	for (unsigned long total = 0;;) {
		uint32_t got = 0;
		int r;

		usleep(1900 * 1000);
		while ((r = next_frame(c, &rx, &m, -1)) > 0)
			if (m.type == MCD_MSG_X_DATA)
				got += m.u.x.len;
		if (r < 0)
			fatalx("dom0 closed the channel (after %lu bytes)", total);
		total += got;
		if (got)
			send_x(c, MCD_MSG_X_ACK, got, NULL, 0);
		say("MCD-HOSTILE read %u bytes (%lu in all)", got, total);
	}
}

/* Our own ring to dom0 as full as the protocol lets it be: X_DATA frames
 * of NoOperation requests (no replies) until the ring takes no more or the
 * connection's X window (never acknowledged, as we read nothing) is used
 * up.  Returns the bytes dom0 has not taken yet. */
static size_t fill_ring(struct mcd_chan *c)
{
	/* One frame's worth of 4-byte requests. */
	static uint8_t noops[MCD_MAX_X_DATA & ~3u];
	uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg m = { .type = MCD_MSG_X_DATA };
	size_t sent = 0;

	/* The setup and the GetImage requests took the first few KiB. */
	for (size_t i = 0; i < sizeof(noops); i += 4) {
		noops[i] = 127; /* NoOperation, length 1 */
		put16(noops + i + 2, 1);
	}
	m.u.x.conn = 1;
	m.u.x.data = noops;
	m.u.x.len = sizeof(noops);
	while (mcd_chan_pending(c) == 0 &&
	       sent + sizeof(noops) + 8192 <= MCD_X_WINDOW) {
		int n = mcd_encode(&m, buf, sizeof(buf));

		if (n < 0)
			fatalx("internal: cannot encode X_DATA");
		if (mcd_chan_send(c, buf, (size_t)n) < 0)
			fatalx("dom0 closed the channel while we filled it");
		sent += sizeof(noops);
	}
	say("MCD-HOSTILE wrote %zu bytes of X requests, %zu not taken by dom0",
	    sent, mcd_chan_pending(c));
	return mcd_chan_pending(c);
}

/* The ring from dom0 kept full: nothing read, so everything dom0 relays
 * piles up on its side.  Once it has had time to queue, one byte read:
 * that wakes dom0 with an event but leaves it room for nothing, the
 * moment a sender that waits for room would block or spin.  Then one
 * more byte only every 20 s, and never READY. */
static void ring_full(struct mcd_chan *c)
{
	static struct mcd_rx rx;
	char sid[MCD_SESSION_ID_LEN + 1] = "", cookie[MCD_XCOOKIE_LEN + 1] = "";
	unsigned w = 0, h = 0, reads = 0;
	uint32_t root;
	uint8_t one;

	mcd_rx_init(&rx);
	take_launch(c, &rx, sid, cookie);
	root = x_connect(c, &rx, cookie, &w, &h);
	ask_images(c, root, w, h);
	fill_ring(c);
	for (;;) {
		sleep(reads ? 20 : 3);
		if (mcd_chan_recv(c, &one, 1) < 0)
			fatalx("dom0 closed the channel (after %u reads)", reads);
		reads++;
		/* Only the events: our own queue moves on, nothing read. */
		if (mcd_chan_ready(c) == MCD_CHAN_CLOSED)
			fatalx("dom0 closed the channel (after %u reads)", reads);
		say("MCD-HOSTILE ring full: read one byte, notified dom0 (%u)",
		    reads);
	}
}

static void misbehave(enum mode mode, struct mcd_chan *c)
{
	uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg m;
	int n;

	switch (mode) {
	case M_NOHELLO:
		say("MCD-HOSTILE connected, saying nothing");
		break;
	case M_XOPENFLOOD:
		xopen_flood(c);
		break;
	case M_SLOWREADER:
		slow_reader(c);
		break;
	case M_RINGFULL:
		ring_full(c);
		break;
	case M_GARBAGE:
	case M_BADXS:
	case M_PROBE:
		send_garbage(c);
		break;
	case M_OVERSIZED:
		send_hello(c);
		/* STATUS, 1 GiB, and some of the "payload". */
		memset(buf, 'S', 1024);
		buf[0] = MCD_MSG_STATUS;
		buf[1] = buf[2] = buf[3] = 0;
		buf[4] = buf[5] = buf[6] = 0;
		buf[7] = 0x40;
		send_bytes(c, buf, 1024, "a 1 GiB STATUS header");
		break;
	case M_TRUNCATED:
		send_hello(c);
		memset(&m, 0, sizeof(m));
		m.type = MCD_MSG_STATUS;
		m.u.status.state = MCD_AGENT_IDLE;
		m.u.status.session_id = "";
		n = mcd_encode(&m, buf, sizeof(buf));
		if (n < 0)
			fatalx("internal: cannot encode STATUS");
		send_bytes(c, buf, (size_t)n / 2, "half a STATUS");
		mcd_chan_close(c);
		say("MCD-HOSTILE closed the channel");
		break;
	case M_CRASH: {
		/* A real kernel crash, as a buggy guest would have: the
		 * service must notice the dead domain and clean it up. */
		int fd = open("/proc/sysrq-trigger", O_WRONLY);

		send_hello(c);
		sleep(1);
		say("MCD-HOSTILE crashing the guest kernel");
		if (fd < 0 || write(fd, "c", 1) != 1)
			fatalx("cannot crash the kernel: %s", strerror(errno));
		break;
	}
	case M_WRONGDIR: {
		static const char *argv[] = { "/bin/sh", NULL };

		send_hello(c);
		memset(&m, 0, sizeof(m));
		m.type = MCD_MSG_STATUS;
		m.u.status.state = MCD_AGENT_IDLE;
		m.u.status.session_id = "";
		send_msg(c, &m);
		memset(&m, 0, sizeof(m));
		m.type = MCD_MSG_LAUNCH;
		m.u.launch.session_id = "0123456789abcdef";
		m.u.launch.user = "nobody";
		m.u.launch.display = ":0";
		m.u.launch.argc = 1;
		m.u.launch.argv[0] = argv[0];
		send_msg(c, &m);
		break;
	}
	}
}

/* Junk in the own XenStore area: what dom0 reads there is untrusted. */
static void write_junk(struct axs *x)
{
	static char big[MCD_XS_MAX_VALUE];
	static const char bad_ref[] = "-1\n\x01\xff not a number";
	static const char bad_port[] = "99999999999999999999999";
	struct {
		const char *node;
		const void *val;
		size_t len;
	} junk[] = {
		{ "agent", big, sizeof(big) },
		{ "vchan/ring-ref", bad_ref, sizeof(bad_ref) - 1 },
		{ "vchan/event-channel", bad_port, sizeof(bad_port) - 1 },
		{ "vchan/junk", big, sizeof(big) },
	};

	/* Overlong, with NULs, control bytes and high bytes in it. */
	fill_random((uint8_t *)big, sizeof(big));
	memcpy(big, "9999 linux", 10);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		/* Path and value share one XenStore message, and xenstored
		 * limits a node's size: the longest value it takes will do
		 * (dom0 reads at most MCD_XS_GUEST_MAX_VALUE bytes). */
		size_t len = junk[i].len;
		int rc;

		while ((rc = axs_write_raw(x, junk[i].node, junk[i].val,
					   len)) < 0 &&
		       (errno == E2BIG || errno == ENOSPC || errno == EINVAL) &&
		       len > 4 * MCD_XS_GUEST_MAX_VALUE)
			len = len * 3 / 4;
		if (rc < 0)
			say("MCD-HOSTILE writing %s/%s: %s", x->dir,
			    junk[i].node, strerror(errno));
		else
			say("MCD-HOSTILE wrote %zu junk bytes to %s/%s", len,
			    x->dir, junk[i].node);
	}
}

static void probe(struct axs *x)
{
	char path[AXS_PATH_MAX];

	for (int i = -3; i <= PROBE_MAX_DOMID; i++) {
		unsigned int len = 0;
		void *v;

		if (i == -3)
			snprintf(path, sizeof(path), "%s", MCD_XS_ROOT);
		else if (i == -2)
			snprintf(path, sizeof(path), "%s", MCD_XS_SESSIONS);
		else if (i == -1)
			snprintf(path, sizeof(path), "/local/domain/0");
		else if (i == 0)
			continue;
		else
			snprintf(path, sizeof(path), "/local/domain/%d/%s", i,
				 MCD_XS_GUEST_DIR);
		if (i == x->domid)
			continue; /* its own area: readable by design */
		v = xs_read(x->h, XBT_NULL, path, &len);
		/* "absent" (ENOENT) is told apart from "denied" (EACCES), so a
		 * test can insist on the permission check itself. */
		say("MCD-PROBE %s %s", path,
		    v ? "readable" : errno == EACCES ? "denied"
		    : errno == ENOENT ? "absent" : "error");
		free(v);
	}
	say("MCD-HOSTILE own domid %d", x->domid);
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct axs x = { 0 };
	xentoollog_logger *xtl = NULL;
	struct mcd_chan *c;
	char err[256];
	long delay = 5;
	int mode = -1;

	log_init(PROG, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(argv[1], mode_names[i]) == 0)
			mode = (int)i;
	if (mode < 0)
		fatalx("unknown mode '%s' (see --help)", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "--delay") && i + 1 < argc) {
			char *end;

			delay = strtol(argv[++i], &end, 10);
			if (*end || delay < 0 || delay > 3600)
				fatalx("bad --delay '%s'", argv[i]);
		} else {
			fatalx("unexpected argument '%s' (see --help)", argv[i]);
		}
	}
	if (sock && (mode == M_BADXS || mode == M_PROBE))
		fatalx("%s needs XenStore, not --socket", argv[1]);
	say("MCD-HOSTILE mode %s", argv[1]);

	if (!sock && axs_open(&x, err, sizeof(err)) < 0)
		fatalx("%s", err);
	/* After probing, serve garbage so dom0 fails the launch at once. */
	if (mode == M_PROBE)
		probe(&x);
	if (mode == M_BADXS) {
		write_junk(&x);
		say("MCD-HOSTILE waiting %ld s before serving", delay);
		sleep((unsigned)delay);
	}
	if (sock) {
		c = mcd_chan_socket_server(sock, err, sizeof(err));
	} else {
		/* Where the real agent serves; a junk agent node stays. */
		if (mode != M_BADXS)
			axs_prepare(&x);
		xtl = (xentoollog_logger *)xtl_createlogger_stdiostream(
			stderr, XTL_ERROR, 0);
		c = mcd_chan_vchan_server(xtl, x.vchan, err, sizeof(err));
	}
	if (!c)
		fatalx("%s", err);
	say("MCD-HOSTILE serving on %s", sock ? sock : x.vchan);
	wait_for_client(c);
	misbehave((enum mode)mode, c);
	stay_alive();
}
