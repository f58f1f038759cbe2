/*
 * fuzz_proto.c - libFuzzer harness for the wire format's reader.
 *
 * Input: one control byte, then the byte stream a peer would send.  The
 * stream goes through mcd_rx_space()/mcd_rx_commit() in both directions,
 * once in one piece and once cut into chunks chosen by the control byte;
 * both runs must see the same messages and fail at the same byte.  Every
 * decoded message is re-encoded: mcd_encode() must accept it, give back
 * exactly the bytes of the frame it came from, and those bytes must decode
 * to the same values.  The strings of the input also go through the
 * validators.  Any difference aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_proto.h"

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                         \
			abort();                                          \
		}                                                         \
	} while (0)

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Field by field: do two decoded messages say the same thing? */
static int msg_eq(const struct mcd_msg *a, const struct mcd_msg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case MCD_MSG_HELLO:
		return a->u.hello.version_min == b->u.hello.version_min &&
		       a->u.hello.version_max == b->u.hello.version_max &&
		       a->u.hello.role == b->u.hello.role &&
		       !memcmp(a->u.hello.reserved, b->u.hello.reserved, 3);
	case MCD_MSG_LAUNCH:
	case MCD_MSG_LAUNCH2: {
		const struct mcd_launch *x = &a->u.launch, *y = &b->u.launch;

		if (x->flags != y->flags || x->argc != y->argc ||
		    x->envc != y->envc || !str_eq(x->session_id, y->session_id) ||
		    !str_eq(x->user, y->user) || !str_eq(x->display, y->display) ||
		    !str_eq(x->xcookie, y->xcookie) || !str_eq(x->volume, y->volume) ||
		    x->sharec != y->sharec)
			return 0;
		for (unsigned i = 0; i < x->sharec; i++) {
			const struct mcd_share *p = &x->share[i], *q = &y->share[i];

			if (!str_eq(p->kind, q->kind) || !str_eq(p->source, q->source) ||
			    !str_eq(p->mount_name, q->mount_name) ||
			    !str_eq(p->user, q->user) || !str_eq(p->password, q->password))
				return 0;
		}
		for (unsigned i = 0; i < x->argc; i++)
			if (!str_eq(x->argv[i], y->argv[i]))
				return 0;
		for (unsigned i = 0; i < x->envc; i++)
			if (!str_eq(x->env[i], y->env[i]))
				return 0;
		return !x->argv[x->argc] && !y->argv[y->argc] &&
		       !x->env[x->envc] && !y->env[y->envc];
	}
	case MCD_MSG_STOP:
		return a->u.stop.grace_ms == b->u.stop.grace_ms &&
		       str_eq(a->u.stop.session_id, b->u.stop.session_id);
	case MCD_MSG_STATUS:
		return a->u.status.state == b->u.status.state &&
		       a->u.status.pid == b->u.status.pid &&
		       a->u.status.exit_code == b->u.status.exit_code &&
		       a->u.status.exit_signal == b->u.status.exit_signal &&
		       str_eq(a->u.status.session_id, b->u.status.session_id);
	case MCD_MSG_STARTED:
		return a->u.started.pid == b->u.started.pid &&
		       str_eq(a->u.started.session_id, b->u.started.session_id);
	case MCD_MSG_EXITED:
		return a->u.exited.exit_code == b->u.exited.exit_code &&
		       a->u.exited.exit_signal == b->u.exited.exit_signal &&
		       str_eq(a->u.exited.session_id, b->u.exited.session_id);
	case MCD_MSG_READY:
		return str_eq(a->u.ready.session_id, b->u.ready.session_id);
	case MCD_MSG_X_OPEN:
		return a->u.x.conn == b->u.x.conn;
	case MCD_MSG_X_DATA:
		return a->u.x.conn == b->u.x.conn && a->u.x.len == b->u.x.len &&
		       !memcmp(a->u.x.data, b->u.x.data, a->u.x.len);
	case MCD_MSG_X_ACK:
		return a->u.x.conn == b->u.x.conn && a->u.x.ack == b->u.x.ack;
	case MCD_MSG_X_CLOSE:
		return a->u.x.conn == b->u.x.conn &&
		       str_eq(a->u.x.reason, b->u.x.reason);
	case MCD_MSG_FAILED:
		return a->u.failed.code == b->u.failed.code &&
		       str_eq(a->u.failed.session_id, b->u.failed.session_id) &&
		       str_eq(a->u.failed.reason, b->u.failed.reason);
	}
	return 0;
}

/* What the decoder promised about a message it accepted. */
static void check_valid(const struct mcd_msg *m)
{
	switch (m->type) {
	case MCD_MSG_LAUNCH2:
		CHECK(!(m->u.launch.flags & ~MCD_LAUNCH2_FLAGS_KNOWN));
		CHECK(!m->u.launch.xcookie[0] || mcd_valid_xcookie(m->u.launch.xcookie));
		CHECK(!m->u.launch.volume[0] || mcd_valid_vdev(m->u.launch.volume));
		CHECK(m->u.launch.sharec <= MCD_MAX_SHARES);
		for (unsigned i = 0; i < m->u.launch.sharec; i++)
			CHECK(mcd_valid_share(&m->u.launch.share[i], NULL, 0));
		/* fall through: the v1 fields obey the v1 rules */
	case MCD_MSG_LAUNCH:
		CHECK(mcd_valid_session_id(m->u.launch.session_id));
		CHECK(mcd_valid_user(m->u.launch.user));
		CHECK(mcd_valid_display(m->u.launch.display));
		CHECK(m->u.launch.argc >= 1 && m->u.launch.argc <= MCD_MAX_ARGS);
		CHECK(m->u.launch.envc <= MCD_MAX_ENV);
		CHECK(mcd_valid_program(m->u.launch.argv[0]));
		for (unsigned i = 0; i < m->u.launch.argc; i++)
			CHECK(strlen(m->u.launch.argv[i]) <= MCD_MAX_ARG_LEN);
		for (unsigned i = 0; i < m->u.launch.envc; i++)
			CHECK(mcd_valid_env(m->u.launch.env[i]));
		break;
	case MCD_MSG_FAILED:
		CHECK(mcd_valid_reason(m->u.failed.reason));
		CHECK(mcd_valid_session_id(m->u.failed.session_id));
		break;
	case MCD_MSG_STATUS:
		CHECK(m->u.status.state <= MCD_AGENT_STATE_MAX);
		break;
	case MCD_MSG_X_DATA:
		CHECK(m->u.x.len >= 1 && m->u.x.len <= MCD_MAX_X_DATA);
		break;
	case MCD_MSG_X_ACK:
		CHECK(m->u.x.ack >= 1 && m->u.x.ack <= MCD_X_WINDOW);
		break;
	}
}

/* Re-encode m; it must give back the frame it was decoded from. */
static void check_reencode(const struct mcd_msg *m, enum mcd_dir from,
			   const uint8_t *frame, size_t flen)
{
	static uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg again;
	char err[160];
	int n;

	check_valid(m);
	n = mcd_encode(m, buf, sizeof(buf));
	CHECK(n >= MCD_HDR_LEN);
	CHECK((size_t)n == flen);
	CHECK(memcmp(buf, frame, flen) == 0);
	CHECK(mcd_decode(m->type, from, buf + MCD_HDR_LEN,
			 (size_t)n - MCD_HDR_LEN, &again, err, sizeof(err)) == 0);
	CHECK(msg_eq(m, &again));
	/* One byte short never fits. */
	CHECK(mcd_encode(m, buf, (size_t)n - 1) == -1);
}

/* What a run through the reader saw. */
struct run {
	unsigned msgs;
	uint64_t digest;  /* FNV-1a over the accepted frames */
	int failed;
	size_t fail_at;   /* bytes consumed when it failed */
	size_t pending;   /* bytes of an unfinished frame at the end */
};

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void run_stream(const uint8_t *p, size_t n, enum mcd_dir from,
		       const size_t *chunks, size_t nchunks, struct run *out)
{
	static struct mcd_rx rx;
	struct mcd_msg m;
	char err[160];
	size_t off = 0, start = 0, ci = 0;

	memset(out, 0, sizeof(*out));
	out->digest = 0xcbf29ce484222325ull;
	mcd_rx_init(&rx);
	while (off < n) {
		size_t want, k;
		uint8_t *dst = mcd_rx_space(&rx, &want);
		int r;

		CHECK(want > 0 && want <= MCD_MAX_FRAME);
		CHECK(dst >= rx.buf && dst + want <= rx.buf + sizeof(rx.buf));
		k = n - off;
		if (k > want)
			k = want;
		if (nchunks && k > chunks[ci % nchunks])
			k = chunks[ci % nchunks];
		ci++;
		memcpy(dst, p + off, k);
		off += k;
		r = mcd_rx_commit(&rx, k, from, &m, err, sizeof(err));
		if (r < 0) {
			CHECK(err[0] != '\0');
			out->failed = 1;
			out->fail_at = off;
			/* The reader stays failed. */
			mcd_rx_space(&rx, &want);
			CHECK(want > 0 && want <= MCD_HDR_LEN);
			CHECK(mcd_rx_commit(&rx, 0, from, &m, err, sizeof(err)) < 0);
			return;
		}
		if (r == 1) {
			CHECK(m.type == rx.hdr.type);
			CHECK(off - start == MCD_HDR_LEN + rx.hdr.len);
			check_reencode(&m, from, p + start, off - start);
			out->digest = fnv(out->digest, p + start, off - start);
			out->msgs++;
			start = off;
		}
	}
	out->pending = off - start;
}

static void check_same(const struct run *a, const struct run *b)
{
	CHECK(a->msgs == b->msgs);
	CHECK(a->digest == b->digest);
	CHECK(a->failed == b->failed);
	CHECK(a->fail_at == b->fail_at);
	CHECK(a->pending == b->pending);
}

/* The validators on every NUL-separated piece of the input. */
static void validators(const uint8_t *p, size_t n)
{
	static char s[MCD_MAX_FRAME + 1];
	size_t i = 0;

	if (n > MCD_MAX_FRAME)
		n = MCD_MAX_FRAME;
	memcpy(s, p, n);
	s[n] = '\0';
	while (i <= n) {
		const char *t = s + i;
		int v = mcd_valid_session_id(t);

		v += mcd_valid_user(t);
		v += mcd_valid_display(t);
		v += mcd_valid_program(t);
		v += mcd_valid_env(t);
		v += mcd_valid_reason(t);
		(void)v;
		i += strlen(t) + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mcd_dir dirs[] = { MCD_DIR_TO_GUEST, MCD_DIR_TO_DOM0 };
	const uint8_t *p;
	size_t n, chunks[3];
	unsigned ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	p = data + 1;
	n = size - 1;
	/* Cut points from the control byte: small odd chunks exercise header
	 * and payload boundaries, 1 delivers byte by byte. */
	chunks[0] = 1 + (ctl & 7);
	chunks[1] = 1 + ((ctl >> 3) & 3) * 5;
	chunks[2] = (ctl & 0x80) ? 1 : 1 + ((ctl >> 5) & 3) * 13;

	for (size_t d = 0; d < 2; d++) {
		struct run whole, cut;

		run_stream(p, n, dirs[d], NULL, 0, &whole);
		run_stream(p, n, dirs[d], chunks, 3, &cut);
		check_same(&whole, &cut);
	}

	/* The decoder alone, each type, on the raw bytes as a payload. */
	for (uint32_t t = 0; t <= 0x24; t++) {
		struct mcd_msg m;
		size_t len = n > MCD_MAX_PAYLOAD ? MCD_MAX_PAYLOAD : n;

		for (size_t d = 0; d < 2; d++) {
			static uint8_t frame[MCD_MAX_FRAME];

			if (mcd_decode(t, dirs[d], p, len, &m, NULL, 0) != 0)
				continue;
			frame[0] = (uint8_t)t;
			frame[1] = frame[2] = frame[3] = 0;
			frame[4] = (uint8_t)len;
			frame[5] = (uint8_t)(len >> 8);
			frame[6] = frame[7] = 0;
			memcpy(frame + MCD_HDR_LEN, p, len);
			check_reencode(&m, dirs[d], frame, MCD_HDR_LEN + len);
		}
	}

	validators(p, n);
	return 0;
}
