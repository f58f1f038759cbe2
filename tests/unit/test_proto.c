/*
 * test_proto.c - the wire format: round trips of every message, the shared
 * validators, and every way a peer can send something the decoder must
 * refuse.  Frames are built two ways: with mcd_encode() for the happy paths
 * and packed by hand for the unhappy ones, so a bug shared by encoder and
 * decoder cannot hide itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mcd_proto.h"

#define SID "0123456789abcdef"
#define SID2 "fedcba9876543210"

/* ---- helpers ---- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

/* A hand-packed frame: header plus payload. */
struct frame {
	uint8_t b[MCD_MAX_FRAME + 64];
	size_t len; /* bytes so far, header included */
};

static void f_start(struct frame *f, uint32_t type)
{
	memset(f, 0, sizeof(*f));
	put32(f->b, type);
	f->len = MCD_HDR_LEN;
}

static void f_u32(struct frame *f, uint32_t v)
{
	put32(f->b + f->len, v);
	f->len += 4;
}

static void f_u16(struct frame *f, uint16_t v)
{
	put16(f->b + f->len, v);
	f->len += 2;
}

static void f_bytes(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

/* A string with its NUL. */
static void f_str(struct frame *f, const char *s)
{
	f_bytes(f, s, strlen(s) + 1);
}

/* Fix the header's length to the payload built so far. */
static void f_end(struct frame *f)
{
	put32(f->b + 4, (uint32_t)(f->len - MCD_HDR_LEN));
}

/*
 * Feed bytes to a reader the way a real caller does: never more than `want`,
 * and at most `chunk` at a time.  Stops at the first message or error.
 * Returns the mcd_rx_commit() result of the last call; *used is how many
 * bytes were consumed.
 */
static int feed(struct mcd_rx *rx, const uint8_t *p, size_t len, size_t chunk,
		enum mcd_dir from, struct mcd_msg *m, char *err, size_t errlen,
		size_t *used)
{
	size_t off = 0;
	int r = 0;

	err[0] = '\0';
	while (off < len) {
		size_t want, n;
		uint8_t *dst = mcd_rx_space(rx, &want);

		assert_true(want > 0);
		assert_true(want <= MCD_MAX_FRAME);
		n = len - off;
		if (n > want)
			n = want;
		if (n > chunk)
			n = chunk;
		memcpy(dst, p + off, n);
		off += n;
		r = mcd_rx_commit(rx, n, from, m, err, errlen);
		if (r != 0)
			break;
	}
	if (used)
		*used = off;
	return r;
}

/* Decode one whole frame through a fresh reader. */
static int rx_frame(const uint8_t *p, size_t len, enum mcd_dir from,
		    struct mcd_rx *rx, struct mcd_msg *m, char *err,
		    size_t errlen)
{
	mcd_rx_init(rx);
	return feed(rx, p, len, SIZE_MAX, from, m, err, errlen, NULL);
}

static int rx_hand(struct frame *f, enum mcd_dir from, struct mcd_rx *rx,
		   struct mcd_msg *m, char *err, size_t errlen)
{
	return rx_frame(f->b, f->len, from, rx, m, err, errlen);
}

/* Encode, then decode through the reader; the frame must be accepted. */
static void roundtrip(const struct mcd_msg *in, enum mcd_dir from,
		      struct mcd_rx *rx, struct mcd_msg *out)
{
	uint8_t buf[MCD_MAX_FRAME];
	char err[160];
	int n = mcd_encode(in, buf, sizeof(buf));

	assert_true(n >= MCD_HDR_LEN);
	assert_int_equal(rx_frame(buf, (size_t)n, from, rx, out, err,
				  sizeof(err)), 1);
	assert_int_equal(out->type, in->type);
}

/* The frame must be refused, and err must mention `why`. */
static void expect_refused(struct frame *f, enum mcd_dir from, const char *why)
{
	static struct mcd_rx rx;
	struct mcd_msg m;
	char err[160];

	f_end(f);
	assert_int_equal(rx_hand(f, from, &rx, &m, err, sizeof(err)), -1);
	if (why && !strstr(err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
}

static void expect_accepted(struct frame *f, enum mcd_dir from)
{
	static struct mcd_rx rx;
	struct mcd_msg m;
	char err[160];
	int r;

	f_end(f);
	r = rx_hand(f, from, &rx, &m, err, sizeof(err));
	if (r != 1)
		fail_msg("refused: %s", err);
}

/* A LAUNCH with the given argv/env, all else valid. */
static void launch_frame(struct frame *f, uint32_t flags, unsigned argc,
			 const char *const *argv, unsigned envc,
			 const char *const *env)
{
	f_start(f, MCD_MSG_LAUNCH);
	f_u32(f, flags);
	f_u16(f, (uint16_t)argc);
	f_u16(f, (uint16_t)envc);
	f_str(f, SID);
	f_str(f, "alice");
	f_str(f, "10.0.2.2:0");
	for (unsigned i = 0; argv && argv[i]; i++)
		f_str(f, argv[i]);
	for (unsigned i = 0; env && env[i]; i++)
		f_str(f, env[i]);
}

static struct mcd_msg valid_launch(void)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH };

	m.u.launch.session_id = SID;
	m.u.launch.user = "alice";
	m.u.launch.display = "10.0.2.2:0";
	m.u.launch.argc = 1;
	m.u.launch.argv[0] = "/usr/bin/xterm";
	return m;
}

/* ---- round trips ---- */

static void test_roundtrip_hello(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_HELLO }, out;

	(void)state;
	in.u.hello.version_min = 1;
	in.u.hello.version_max = 7;
	in.u.hello.role = MCD_ROLE_DOM0;
	roundtrip(&in, MCD_DIR_TO_GUEST, &rx, &out);
	assert_int_equal(out.u.hello.version_min, 1);
	assert_int_equal(out.u.hello.version_max, 7);
	assert_int_equal(out.u.hello.role, MCD_ROLE_DOM0);

	in.u.hello.role = MCD_ROLE_AGENT_WINDOWS;
	in.u.hello.version_max = 1;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.hello.role, MCD_ROLE_AGENT_WINDOWS);
	assert_int_equal(out.u.hello.version_max, 1);
}

static void test_roundtrip_launch(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = valid_launch(), out;

	(void)state;
	in.u.launch.user = "bob_2-x";
	in.u.launch.display = "[::1]:12.3";
	in.u.launch.argc = 4;
	in.u.launch.argv[0] = "/opt/office/bin/word";
	in.u.launch.argv[1] = "--new";
	in.u.launch.argv[2] = "";
	in.u.launch.argv[3] = "a file \x01 with \"odd\" bytes\n";
	in.u.launch.envc = 2;
	in.u.launch.env[0] = "LANG=ru_RU.UTF-8";
	in.u.launch.env[1] = "MCD_LEVEL=2";
	roundtrip(&in, MCD_DIR_TO_GUEST, &rx, &out);
	assert_int_equal(out.u.launch.flags, 0);
	assert_string_equal(out.u.launch.session_id, SID);
	assert_string_equal(out.u.launch.user, "bob_2-x");
	assert_string_equal(out.u.launch.display, "[::1]:12.3");
	assert_int_equal(out.u.launch.argc, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_string_equal(out.u.launch.argv[i], in.u.launch.argv[i]);
	assert_null(out.u.launch.argv[4]);
	assert_int_equal(out.u.launch.envc, 2);
	assert_string_equal(out.u.launch.env[0], "LANG=ru_RU.UTF-8");
	assert_string_equal(out.u.launch.env[1], "MCD_LEVEL=2");
	assert_null(out.u.launch.env[2]);
}

/* The largest counts the format allows, with the longest entries that fit. */
static void test_roundtrip_launch_limits(void **state)
{
	static struct mcd_rx rx;
	static char args[MCD_MAX_ARGS][200];
	static char envs[MCD_MAX_ENV][32];
	struct mcd_msg in = valid_launch(), out;

	(void)state;
	in.u.launch.argc = MCD_MAX_ARGS;
	for (unsigned i = 1; i < MCD_MAX_ARGS; i++) {
		memset(args[i], 'a' + (char)(i % 26), sizeof(args[i]) - 1);
		in.u.launch.argv[i] = args[i];
	}
	in.u.launch.envc = MCD_MAX_ENV;
	for (unsigned i = 0; i < MCD_MAX_ENV; i++) {
		snprintf(envs[i], sizeof(envs[i]), "V%u=%u", i, i * 7);
		in.u.launch.env[i] = envs[i];
	}
	roundtrip(&in, MCD_DIR_TO_GUEST, &rx, &out);
	assert_int_equal(out.u.launch.argc, MCD_MAX_ARGS);
	assert_int_equal(out.u.launch.envc, MCD_MAX_ENV);
	assert_string_equal(out.u.launch.argv[MCD_MAX_ARGS - 1],
			    args[MCD_MAX_ARGS - 1]);
	assert_null(out.u.launch.argv[MCD_MAX_ARGS]);
	assert_string_equal(out.u.launch.env[MCD_MAX_ENV - 1],
			    envs[MCD_MAX_ENV - 1]);
	assert_null(out.u.launch.env[MCD_MAX_ENV]);
}

static void test_roundtrip_stop(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_STOP }, out;

	(void)state;
	in.u.stop.grace_ms = 0xfffffffeu;
	in.u.stop.session_id = SID;
	roundtrip(&in, MCD_DIR_TO_GUEST, &rx, &out);
	assert_int_equal(out.u.stop.grace_ms, 0xfffffffeu);
	assert_string_equal(out.u.stop.session_id, SID);
}

static void test_roundtrip_status(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_STATUS }, out;

	(void)state;
	in.u.status.state = MCD_AGENT_IDLE;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.status.state, MCD_AGENT_IDLE);
	assert_string_equal(out.u.status.session_id, "");

	in.u.status.state = MCD_AGENT_RUNNING;
	in.u.status.pid = 4242;
	in.u.status.session_id = SID;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.status.state, MCD_AGENT_RUNNING);
	assert_int_equal(out.u.status.pid, 4242);
	assert_string_equal(out.u.status.session_id, SID);

	in.u.status.state = MCD_AGENT_EXITED;
	in.u.status.exit_code = -1;
	in.u.status.exit_signal = 9;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.status.state, MCD_AGENT_EXITED);
	assert_int_equal(out.u.status.exit_code, -1);
	assert_int_equal(out.u.status.exit_signal, 9);
	assert_int_equal(out.u.status.pid, 4242);
}

static void test_roundtrip_started(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_STARTED }, out;

	(void)state;
	in.u.started.pid = 0x7fffffff;
	in.u.started.session_id = SID;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.started.pid, 0x7fffffff);
	assert_string_equal(out.u.started.session_id, SID);
}

static void test_roundtrip_exited(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_EXITED }, out;

	(void)state;
	in.u.exited.exit_code = 255;
	in.u.exited.session_id = SID;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.exited.exit_code, 255);
	assert_int_equal(out.u.exited.exit_signal, 0);

	in.u.exited.exit_code = -1;
	in.u.exited.exit_signal = 15;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.exited.exit_code, -1);
	assert_int_equal(out.u.exited.exit_signal, 15);
	assert_string_equal(out.u.exited.session_id, SID);
}

static void test_roundtrip_failed(void **state)
{
	static struct mcd_rx rx;
	static char reason[MCD_MAX_REASON_LEN + 1];
	struct mcd_msg in = { .type = MCD_MSG_FAILED }, out;

	(void)state;
	in.u.failed.code = MCD_FAIL_NO_PROGRAM;
	in.u.failed.session_id = SID;
	in.u.failed.reason = "/usr/bin/nope: No such file or directory";
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(out.u.failed.code, MCD_FAIL_NO_PROGRAM);
	assert_string_equal(out.u.failed.session_id, SID);
	assert_string_equal(out.u.failed.reason, in.u.failed.reason);

	memset(reason, '~', MCD_MAX_REASON_LEN);
	in.u.failed.code = MCD_FAIL_MAX;
	in.u.failed.reason = reason;
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_int_equal(strlen(out.u.failed.reason), MCD_MAX_REASON_LEN);

	in.u.failed.reason = "";
	roundtrip(&in, MCD_DIR_TO_DOM0, &rx, &out);
	assert_string_equal(out.u.failed.reason, "");
}

/* ---- validators ---- */

static void test_valid_session_id(void **state)
{
	(void)state;
	assert_true(mcd_valid_session_id(SID));
	assert_true(mcd_valid_session_id("0000000000000000"));
	assert_false(mcd_valid_session_id(""));
	assert_false(mcd_valid_session_id("0123456789abcde"));   /* 15 */
	assert_false(mcd_valid_session_id("0123456789abcdef0")); /* 17 */
	assert_false(mcd_valid_session_id("0123456789ABCDEF"));  /* upper */
	assert_false(mcd_valid_session_id("0123456789abcdeg"));
	assert_false(mcd_valid_session_id("0123456789abcde "));
	assert_false(mcd_valid_session_id("../../../../etc/"));
}

static void test_valid_user(void **state)
{
	char name[64];

	(void)state;
	assert_true(mcd_valid_user("alice"));
	assert_true(mcd_valid_user("_svc"));
	assert_true(mcd_valid_user("a"));
	assert_true(mcd_valid_user("user-01_x"));
	assert_true(mcd_valid_user("rootless"));
	assert_false(mcd_valid_user("root"));
	assert_false(mcd_valid_user(""));
	assert_false(mcd_valid_user("Alice"));
	assert_false(mcd_valid_user("1alice"));
	assert_false(mcd_valid_user("-alice"));
	assert_false(mcd_valid_user("al ice"));
	assert_false(mcd_valid_user("alice$"));
	assert_false(mcd_valid_user("al/ice"));
	assert_false(mcd_valid_user("alice\n"));

	memset(name, 'u', sizeof(name));
	name[MCD_MAX_USER_LEN] = '\0';
	assert_true(mcd_valid_user(name));          /* 32 characters */
	name[MCD_MAX_USER_LEN] = 'u';
	name[MCD_MAX_USER_LEN + 1] = '\0';
	assert_false(mcd_valid_user(name));         /* 33 characters */
}

static void test_valid_display(void **state)
{
	static const char *const good[] = {
		"10.0.2.2:0", ":1", "host:0.1", "[::1]:0", "unix:0",
		"thin-client-7.example.org:10.2", "[fe80::1:2]:99999",
		"[::ffff:10.0.0.1]:3", "H0ST:0", ":0.0",
	};
	static const char *const bad[] = {
		"", ":", "host", "host:", "host:x", "host:0.", "host:0.x",
		"host:0.1.2", "host:123456", ":0 ", " :0", "ho st:0",
		"-display:0", "-:0", ".host:0", "host;rm:0", "host/unix:0",
		"::1:0", "host::0", "[::1:0", "::1]:0", "[]:0", "[:]x:0",
		"[host]:0", "a]b:0", "[::1]x:0", "host:0\n", "h\xc3\xa9:0",
	};
	char longd[MCD_MAX_DISPLAY_LEN + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!mcd_valid_display(good[i]))
			fail_msg("display \"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcd_valid_display(bad[i]))
			fail_msg("display \"%s\" accepted", bad[i]);

	memset(longd, 'h', sizeof(longd));
	memcpy(longd + MCD_MAX_DISPLAY_LEN - 2, ":0", 3); /* 64 chars */
	assert_true(mcd_valid_display(longd));
	memset(longd, 'h', sizeof(longd));
	memcpy(longd + MCD_MAX_DISPLAY_LEN - 1, ":0", 3); /* 65 chars */
	assert_false(mcd_valid_display(longd));
}

static void test_valid_program(void **state)
{
	static const char *const good[] = {
		"/usr/bin/xterm", "/x", "/opt/My App/bin/run.sh", "/a/.hidden",
		"/a/..b", "/a/b..",
	};
	static const char *const bad[] = {
		"", "/", "xterm", "./xterm", "/usr/bin/", "/usr//bin/x",
		"/usr/./bin/x", "/usr/../bin/x", "/..", "/.", "/usr/bin/..",
		"/usr/bin/x\n", "/usr/bin/\x7f", "/usr/bin/\xff",
	};
	char longp[MCD_MAX_ARG_LEN + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!mcd_valid_program(good[i]))
			fail_msg("program \"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcd_valid_program(bad[i]))
			fail_msg("program \"%s\" accepted", bad[i]);

	memset(longp, 'p', sizeof(longp));
	longp[0] = '/';
	longp[MCD_MAX_ARG_LEN] = '\0';
	assert_true(mcd_valid_program(longp));
	longp[MCD_MAX_ARG_LEN] = 'p';
	longp[MCD_MAX_ARG_LEN + 1] = '\0';
	assert_false(mcd_valid_program(longp));
}

static void test_valid_env(void **state)
{
	static const char *const good[] = {
		"LANG=C", "A=", "_X1=a b c", "lower=ok", "LD=not-a-prefix",
		"PATHX=fine", "MYPATH=/x", "XLD_PRELOAD=harmless",
	};
	static const char *const bad[] = {
		"", "=x", "NOEQUALS", "1A=x", "A-B=x", "A B=x",
		"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp", "LD_=x",
		"PATH=/tmp", "HOME=/", "DISPLAY=evil:0", "IFS= ",
		"MALLOC_CHECK_=3", "GLIBC_TUNABLES=glibc.x=1", "NLSPATH=/tmp",
		"LOCPATH=/tmp", "GCONV_PATH=/tmp", "BASH_ENV=/tmp/x", "ENV=/x",
		"A=line\nbreak", "A=\x1b[31m",
	};
	char longe[MCD_MAX_ENV_LEN + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!mcd_valid_env(good[i]))
			fail_msg("env \"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcd_valid_env(bad[i]))
			fail_msg("env \"%s\" accepted", bad[i]);

	memset(longe, 'v', sizeof(longe));
	memcpy(longe, "V=", 2);
	longe[MCD_MAX_ENV_LEN] = '\0';
	assert_true(mcd_valid_env(longe));
	longe[MCD_MAX_ENV_LEN] = 'v';
	longe[MCD_MAX_ENV_LEN + 1] = '\0';
	assert_false(mcd_valid_env(longe));
}

static void test_valid_reason(void **state)
{
	char r[MCD_MAX_REASON_LEN + 8];

	(void)state;
	assert_true(mcd_valid_reason(""));
	assert_true(mcd_valid_reason("exec: Permission denied (13)"));
	assert_false(mcd_valid_reason("two\nlines"));
	assert_false(mcd_valid_reason("tab\there"));
	assert_false(mcd_valid_reason("\x1b]0;title\x07"));
	assert_false(mcd_valid_reason("caf\xc3\xa9"));
	memset(r, 'r', sizeof(r));
	r[MCD_MAX_REASON_LEN] = '\0';
	assert_true(mcd_valid_reason(r));
	r[MCD_MAX_REASON_LEN] = 'r';
	r[MCD_MAX_REASON_LEN + 1] = '\0';
	assert_false(mcd_valid_reason(r));
}

/* ---- headers: refused before any payload byte is buffered ---- */

/*
 * Feed only the 8 header bytes: a bad header must be refused right there,
 * so the reader never asks for (or buffers) a payload byte.
 */
static void expect_header_refused(uint32_t type, uint32_t len,
				  enum mcd_dir from, const char *why)
{
	static struct mcd_rx rx;
	uint8_t hdr[MCD_HDR_LEN];
	struct mcd_msg m;
	char err[160];
	size_t used;

	put32(hdr, type);
	put32(hdr + 4, len);
	mcd_rx_init(&rx);
	assert_int_equal(feed(&rx, hdr, sizeof(hdr), SIZE_MAX, from, &m, err,
			      sizeof(err), &used), -1);
	assert_int_equal(used, MCD_HDR_LEN);
	if (!strstr(err, why))
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
}

static void test_unknown_type(void **state)
{
	(void)state;
	expect_header_refused(0, 8, MCD_DIR_TO_DOM0, "unknown message type");
	expect_header_refused(0x02, 8, MCD_DIR_TO_GUEST, "unknown message type");
	expect_header_refused(0x25, 30, MCD_DIR_TO_DOM0, "unknown message type");
	expect_header_refused(0xffffffffu, 8, MCD_DIR_TO_GUEST,
			      "unknown message type");
	assert_string_equal(mcd_msg_name(0x99), "UNKNOWN");
}

static void test_wrong_direction(void **state)
{
	(void)state;
	/* dom0-only messages sent by a guest. */
	expect_header_refused(MCD_MSG_LAUNCH, 100, MCD_DIR_TO_DOM0, "by a guest");
	expect_header_refused(MCD_MSG_STOP, 21, MCD_DIR_TO_DOM0, "by a guest");
	/* Agent-only messages sent by dom0. */
	expect_header_refused(MCD_MSG_STATUS, 17, MCD_DIR_TO_GUEST, "by dom0");
	expect_header_refused(MCD_MSG_STARTED, 21, MCD_DIR_TO_GUEST, "by dom0");
	expect_header_refused(MCD_MSG_EXITED, 25, MCD_DIR_TO_GUEST, "by dom0");
	expect_header_refused(MCD_MSG_FAILED, 22, MCD_DIR_TO_GUEST, "by dom0");
	/* Not a direction at all. */
	expect_header_refused(MCD_MSG_HELLO, 8,
			      (enum mcd_dir)(MCD_DIR_TO_GUEST | MCD_DIR_TO_DOM0),
			      "direction");
}

static void test_length_bounds(void **state)
{
	(void)state;
	/* Below the minimum. */
	expect_header_refused(MCD_MSG_HELLO, 7, MCD_DIR_TO_DOM0, "length 7");
	expect_header_refused(MCD_MSG_HELLO, 0, MCD_DIR_TO_DOM0, "length 0");
	expect_header_refused(MCD_MSG_LAUNCH, 32, MCD_DIR_TO_GUEST, "length 32");
	expect_header_refused(MCD_MSG_STOP, 20, MCD_DIR_TO_GUEST, "length 20");
	expect_header_refused(MCD_MSG_STATUS, 16, MCD_DIR_TO_DOM0, "length 16");
	expect_header_refused(MCD_MSG_FAILED, 21, MCD_DIR_TO_DOM0, "length 21");
	/* Above the maximum: never buffered, however large. */
	expect_header_refused(MCD_MSG_HELLO, 9, MCD_DIR_TO_GUEST, "length 9");
	expect_header_refused(MCD_MSG_LAUNCH, MCD_MAX_PAYLOAD + 1,
			      MCD_DIR_TO_GUEST, "length");
	expect_header_refused(MCD_MSG_LAUNCH, 0xffffffffu, MCD_DIR_TO_GUEST,
			      "length");
	expect_header_refused(MCD_MSG_STOP, 22, MCD_DIR_TO_GUEST, "length 22");
	expect_header_refused(MCD_MSG_STATUS, 34, MCD_DIR_TO_DOM0, "length 34");
	expect_header_refused(MCD_MSG_STARTED, 22, MCD_DIR_TO_DOM0, "length 22");
	expect_header_refused(MCD_MSG_EXITED, 26, MCD_DIR_TO_DOM0, "length 26");
	expect_header_refused(MCD_MSG_FAILED, 4 + 17 + MCD_MAX_REASON_LEN + 2,
			      MCD_DIR_TO_DOM0, "length");
}

/* The decoder called directly applies the same header rules. */
static void test_decode_direct(void **state)
{
	static uint8_t big[MCD_MAX_PAYLOAD + 1];
	uint8_t hello[8] = { 1, 0, 1, 0, MCD_ROLE_AGENT_LINUX, 0, 0, 0 };
	struct mcd_msg m;
	char err[160];

	(void)state;
	assert_int_equal(mcd_decode(MCD_MSG_HELLO, MCD_DIR_TO_DOM0, hello, 8,
				    &m, err, sizeof(err)), 0);
	assert_int_equal(m.u.hello.role, MCD_ROLE_AGENT_LINUX);
	assert_int_equal(mcd_decode(MCD_MSG_HELLO, MCD_DIR_TO_DOM0, hello, 7,
				    &m, err, sizeof(err)), -1);
	assert_int_equal(mcd_decode(MCD_MSG_LAUNCH, MCD_DIR_TO_GUEST, big,
				    sizeof(big), &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over limit"));
	/* A NULL err buffer is allowed. */
	assert_int_equal(mcd_decode(0x77, MCD_DIR_TO_DOM0, hello, 8, &m, NULL,
				    0), -1);
}

/* ---- payloads the decoder must refuse ---- */

static void test_truncated_strings(void **state)
{
	struct frame f;

	(void)state;
	/* STOP: 17 bytes of session id, no NUL inside the payload. */
	f_start(&f, MCD_MSG_STOP);
	f_u32(&f, 1000);
	f_bytes(&f, SID "x", 17);
	expect_refused(&f, MCD_DIR_TO_GUEST, "session id");

	/* FAILED: the reason runs to the end of the payload without a NUL. */
	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_EXEC);
	f_str(&f, SID);
	f_bytes(&f, "no nul", 6);
	expect_refused(&f, MCD_DIR_TO_DOM0, "reason");

	/* LAUNCH: argv[1] unterminated. */
	f_start(&f, MCD_MSG_LAUNCH);
	f_u32(&f, 0);
	f_u16(&f, 2);
	f_u16(&f, 0);
	f_str(&f, SID);
	f_str(&f, "alice");
	f_str(&f, ":0");
	f_str(&f, "/bin/app");
	f_bytes(&f, "arg", 3);
	expect_refused(&f, MCD_DIR_TO_GUEST, "argv[1]");

	/* LAUNCH: the user name is not terminated within its limit. */
	f_start(&f, MCD_MSG_LAUNCH);
	f_u32(&f, 0);
	f_u16(&f, 1);
	f_u16(&f, 0);
	f_str(&f, SID);
	f_str(&f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 33 */
	f_str(&f, ":0");
	f_str(&f, "/bin/app");
	expect_refused(&f, MCD_DIR_TO_GUEST, "user");

	/* STATUS: idle, but the session id field has no NUL at all. */
	f_start(&f, MCD_MSG_STATUS);
	f_u32(&f, MCD_AGENT_IDLE);
	f_u32(&f, 0);
	f_u32(&f, 0);
	f_u32(&f, 0);
	f_bytes(&f, "x", 1);
	expect_refused(&f, MCD_DIR_TO_DOM0, "session id");
}

static void test_trailing_bytes(void **state)
{
	static const char *const argv[] = { "/bin/app", NULL };
	struct frame f;

	(void)state;
	f_start(&f, MCD_MSG_STATUS);
	f_u32(&f, MCD_AGENT_IDLE);
	f_u32(&f, 0);
	f_u32(&f, 0);
	f_u32(&f, 0);
	f_str(&f, "");
	f_bytes(&f, "\0", 1);
	expect_refused(&f, MCD_DIR_TO_DOM0, "trailing");

	/* A LAUNCH with one string more than argc + envc account for. */
	launch_frame(&f, 0, 1, argv, 0, NULL);
	f_str(&f, "EXTRA=1");
	expect_refused(&f, MCD_DIR_TO_GUEST, "trailing");

	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_EXEC);
	f_str(&f, SID);
	f_str(&f, "reason");
	f_bytes(&f, "zz", 2);
	expect_refused(&f, MCD_DIR_TO_DOM0, "trailing");

	/* The same frames without the extra bytes are fine. */
	launch_frame(&f, 0, 1, argv, 0, NULL);
	expect_accepted(&f, MCD_DIR_TO_GUEST);
}

static void test_launch_counts(void **state)
{
	static const char *argv[MCD_MAX_ARGS + 2];
	static const char *env[MCD_MAX_ENV + 2];
	struct frame f;

	(void)state;
	for (unsigned i = 0; i < MCD_MAX_ARGS + 1; i++)
		argv[i] = i ? "x" : "/bin/app";
	for (unsigned i = 0; i < MCD_MAX_ENV + 1; i++)
		env[i] = "A=1";

	/* argc 0, with and without strings after it. */
	launch_frame(&f, 0, 0, NULL, 0, NULL);
	f_str(&f, "/bin/app");
	expect_refused(&f, MCD_DIR_TO_GUEST, "argc 0");

	/* argc 65. */
	launch_frame(&f, 0, MCD_MAX_ARGS + 1, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "argc 65");

	/* argc 64 is the limit. */
	argv[MCD_MAX_ARGS] = NULL;
	launch_frame(&f, 0, MCD_MAX_ARGS, argv, 0, NULL);
	expect_accepted(&f, MCD_DIR_TO_GUEST);

	/* argc claims more strings than there are. */
	argv[3] = NULL;
	launch_frame(&f, 0, 5, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "argv[3]");
	argv[3] = "x";

	/* envc 33; envc 32 is fine. */
	argv[1] = NULL;
	launch_frame(&f, 0, 1, argv, MCD_MAX_ENV + 1, env);
	expect_refused(&f, MCD_DIR_TO_GUEST, "envc 33");
	env[MCD_MAX_ENV] = NULL;
	launch_frame(&f, 0, 1, argv, MCD_MAX_ENV, env);
	expect_accepted(&f, MCD_DIR_TO_GUEST);

	/* envc says 2, one given. */
	env[1] = NULL;
	launch_frame(&f, 0, 1, argv, 2, env);
	expect_refused(&f, MCD_DIR_TO_GUEST, "env[1]");

	/* Unknown flags. */
	launch_frame(&f, 1, 1, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "flags");
	launch_frame(&f, 0x80000000u, 1, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "flags");
}

static void test_launch_strings(void **state)
{
	static char longarg[MCD_MAX_ARG_LEN + 2];
	const char *argv[3] = { "/bin/app", NULL, NULL };
	const char *env[2] = { NULL, NULL };
	struct frame f;

	(void)state;
	/* An argv entry of 1024 bytes is fine, 1025 is not. */
	memset(longarg, 'a', MCD_MAX_ARG_LEN);
	argv[1] = longarg;
	launch_frame(&f, 0, 2, argv, 0, NULL);
	expect_accepted(&f, MCD_DIR_TO_GUEST);
	longarg[MCD_MAX_ARG_LEN] = 'a';
	launch_frame(&f, 0, 2, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "argv[1]");
	argv[1] = NULL;

	/* The program must be an absolute, clean path. */
	argv[0] = "xterm";
	launch_frame(&f, 0, 1, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "program");
	argv[0] = "/usr/../bin/sh";
	launch_frame(&f, 0, 1, argv, 0, NULL);
	expect_refused(&f, MCD_DIR_TO_GUEST, "program");
	argv[0] = "/bin/app";

	/* Dangerous or malformed environment names. */
	env[0] = "LD_PRELOAD=/tmp/x.so";
	launch_frame(&f, 0, 1, argv, 1, env);
	expect_refused(&f, MCD_DIR_TO_GUEST, "env[0]");
	env[0] = "PATH=/tmp";
	launch_frame(&f, 0, 1, argv, 1, env);
	expect_refused(&f, MCD_DIR_TO_GUEST, "env[0]");
	env[0] = "NO_EQUALS";
	launch_frame(&f, 0, 1, argv, 1, env);
	expect_refused(&f, MCD_DIR_TO_GUEST, "env[0]");
	env[0] = "GOOD=1";
	launch_frame(&f, 0, 1, argv, 1, env);
	expect_accepted(&f, MCD_DIR_TO_GUEST);

	/* Bad session id, user, display. */
	f_start(&f, MCD_MSG_LAUNCH);
	f_u32(&f, 0);
	f_u16(&f, 1);
	f_u16(&f, 0);
	f_str(&f, "0123456789ABCDEF");
	f_str(&f, "alice");
	f_str(&f, ":0");
	f_str(&f, "/bin/app");
	expect_refused(&f, MCD_DIR_TO_GUEST, "session id");

	f_start(&f, MCD_MSG_LAUNCH);
	f_u32(&f, 0);
	f_u16(&f, 1);
	f_u16(&f, 0);
	f_str(&f, SID);
	f_str(&f, "root");
	f_str(&f, ":0");
	f_str(&f, "/bin/app");
	expect_refused(&f, MCD_DIR_TO_GUEST, "user");

	f_start(&f, MCD_MSG_LAUNCH);
	f_u32(&f, 0);
	f_u16(&f, 1);
	f_u16(&f, 0);
	f_str(&f, SID);
	f_str(&f, "alice");
	f_str(&f, "-evil:0");
	f_str(&f, "/bin/app");
	expect_refused(&f, MCD_DIR_TO_GUEST, "display");
}

static void test_hello_fields(void **state)
{
	struct frame f;

	(void)state;
	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 0);
	f_u16(&f, 1);
	f_bytes(&f, "\x02\0\0\0", 4);
	expect_refused(&f, MCD_DIR_TO_DOM0, "version");

	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 3);
	f_u16(&f, 2);
	f_bytes(&f, "\x02\0\0\0", 4);
	expect_refused(&f, MCD_DIR_TO_DOM0, "version");

	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 1);
	f_u16(&f, 1);
	f_bytes(&f, "\x04\0\0\0", 4);
	expect_refused(&f, MCD_DIR_TO_DOM0, "role");

	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 1);
	f_u16(&f, 1);
	f_bytes(&f, "\x02\0\x01\0", 4);
	expect_refused(&f, MCD_DIR_TO_DOM0, "reserved");

	/* A guest claiming to be dom0, and dom0 claiming to be an agent. */
	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 1);
	f_u16(&f, 1);
	f_bytes(&f, "\x01\0\0\0", 4);
	expect_refused(&f, MCD_DIR_TO_DOM0, "role");
	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 1);
	f_u16(&f, 1);
	f_bytes(&f, "\x02\0\0\0", 4);
	expect_refused(&f, MCD_DIR_TO_GUEST, "role");

	/* A future peer's wide range is fine for the decoder. */
	f_start(&f, MCD_MSG_HELLO);
	f_u16(&f, 1);
	f_u16(&f, 0xffff);
	f_bytes(&f, "\x03\0\0\0", 4);
	expect_accepted(&f, MCD_DIR_TO_DOM0);
}

static void test_failed_fields(void **state)
{
	struct frame f;

	(void)state;
	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_EXEC);
	f_str(&f, SID);
	f_str(&f, "bad\x1b[2Jreason");
	expect_refused(&f, MCD_DIR_TO_DOM0, "reason");

	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_EXEC);
	f_str(&f, SID);
	f_str(&f, "multi\nline");
	expect_refused(&f, MCD_DIR_TO_DOM0, "reason");

	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, 0);
	f_str(&f, SID);
	f_str(&f, "x");
	expect_refused(&f, MCD_DIR_TO_DOM0, "code");

	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_MAX + 1);
	f_str(&f, SID);
	f_str(&f, "x");
	expect_refused(&f, MCD_DIR_TO_DOM0, "code");

	/* FAILED always names the session it refuses. */
	f_start(&f, MCD_MSG_FAILED);
	f_u32(&f, MCD_FAIL_BUSY);
	f_str(&f, "");
	f_str(&f, "already running another session");
	expect_refused(&f, MCD_DIR_TO_DOM0, "session id");
}

static void status_frame(struct frame *f, uint32_t st, int32_t pid,
			 int32_t code, uint32_t sig, const char *sid)
{
	f_start(f, MCD_MSG_STATUS);
	f_u32(f, st);
	f_u32(f, (uint32_t)pid);
	f_u32(f, (uint32_t)code);
	f_u32(f, sig);
	f_str(f, sid);
}

static void test_status_consistency(void **state)
{
	struct frame f;

	(void)state;
	status_frame(&f, MCD_AGENT_IDLE, 0, 0, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "does not match state");
	status_frame(&f, MCD_AGENT_RUNNING, 10, 0, 0, "");
	expect_refused(&f, MCD_DIR_TO_DOM0, "does not match state");
	status_frame(&f, MCD_AGENT_EXITED, 10, 0, 0, "");
	expect_refused(&f, MCD_DIR_TO_DOM0, "does not match state");
	status_frame(&f, MCD_AGENT_RUNNING, 0, 0, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "pid");
	status_frame(&f, MCD_AGENT_RUNNING, -5, 0, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "pid");
	status_frame(&f, MCD_AGENT_STATE_MAX + 1, 10, 0, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "state");
	status_frame(&f, MCD_AGENT_EXITED, 10, -1, 129, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "signal");
	/* An exit is by a code or by a signal, never both or neither. */
	status_frame(&f, MCD_AGENT_EXITED, 10, 3, 9, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	status_frame(&f, MCD_AGENT_EXITED, 10, -1, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	status_frame(&f, MCD_AGENT_EXITED, 10, 256, 0, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	status_frame(&f, MCD_AGENT_RUNNING, 10, 0, 0, "0123456789abcdeF");
	expect_refused(&f, MCD_DIR_TO_DOM0, "session id");

	status_frame(&f, MCD_AGENT_EXITED, 10, 0, 0, SID);
	expect_accepted(&f, MCD_DIR_TO_DOM0);
	status_frame(&f, MCD_AGENT_EXITED, 10, -1, 128, SID);
	expect_accepted(&f, MCD_DIR_TO_DOM0);
}

static void test_started_exited_fields(void **state)
{
	struct frame f;

	(void)state;
	f_start(&f, MCD_MSG_STARTED);
	f_u32(&f, 0);
	f_str(&f, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "pid");
	f_start(&f, MCD_MSG_STARTED);
	f_u32(&f, 0x80000000u);
	f_str(&f, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "pid");
	f_start(&f, MCD_MSG_STARTED);
	f_u32(&f, 1);
	f_bytes(&f, SID "\0", 17);
	expect_accepted(&f, MCD_DIR_TO_DOM0);

	f_start(&f, MCD_MSG_EXITED);
	f_u32(&f, (uint32_t)-2);
	f_u32(&f, 0);
	f_str(&f, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	f_start(&f, MCD_MSG_EXITED);
	f_u32(&f, 1);
	f_u32(&f, 9);
	f_str(&f, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	f_start(&f, MCD_MSG_EXITED);
	f_u32(&f, (uint32_t)-1);
	f_u32(&f, 0);
	f_str(&f, SID);
	expect_refused(&f, MCD_DIR_TO_DOM0, "exit status");
	f_start(&f, MCD_MSG_EXITED);
	f_u32(&f, 0);
	f_u32(&f, 0);
	f_str(&f, "not-a-session-id");
	expect_refused(&f, MCD_DIR_TO_DOM0, "session id");
}

/* ---- the reader ---- */

static void test_fragmented_bytewise(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = valid_launch(), out;
	uint8_t buf[MCD_MAX_FRAME];
	char err[160];
	int n;

	(void)state;
	in.u.launch.argc = 2;
	in.u.launch.argv[1] = "--geometry=80x24";
	in.u.launch.envc = 1;
	in.u.launch.env[0] = "LANG=C.UTF-8";
	n = mcd_encode(&in, buf, sizeof(buf));
	assert_true(n > MCD_HDR_LEN);

	mcd_rx_init(&rx);
	for (int i = 0; i < n; i++) {
		size_t want;
		uint8_t *p = mcd_rx_space(&rx, &want);
		int r;

		/* The reader never asks beyond the header, then the frame. */
		if (i < MCD_HDR_LEN)
			assert_int_equal(want, (size_t)(MCD_HDR_LEN - i));
		else
			assert_int_equal(want, (size_t)(n - i));
		*p = buf[i];
		r = mcd_rx_commit(&rx, 1, MCD_DIR_TO_GUEST, &out, err,
				  sizeof(err));
		assert_int_equal(r, i == n - 1 ? 1 : 0);
	}
	assert_string_equal(out.u.launch.session_id, SID);
	assert_string_equal(out.u.launch.argv[1], "--geometry=80x24");
	assert_string_equal(out.u.launch.env[0], "LANG=C.UTF-8");
	assert_null(out.u.launch.argv[2]);
}

/* Odd chunk sizes give the same result as one read. */
static void test_fragmented_chunks(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg in = { .type = MCD_MSG_FAILED }, out;
	uint8_t buf[MCD_MAX_FRAME];
	char err[160];
	int n;

	(void)state;
	in.u.failed.code = MCD_FAIL_NO_USER;
	in.u.failed.session_id = SID;
	in.u.failed.reason = "no such user: zed";
	n = mcd_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	for (size_t chunk = 1; chunk <= (size_t)n; chunk++) {
		size_t used;

		mcd_rx_init(&rx);
		assert_int_equal(feed(&rx, buf, (size_t)n, chunk,
				      MCD_DIR_TO_DOM0, &out, err, sizeof(err),
				      &used), 1);
		assert_int_equal(used, (size_t)n);
		assert_string_equal(out.u.failed.reason, "no such user: zed");
	}
}

static void test_back_to_back(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg hello = { .type = MCD_MSG_HELLO };
	struct mcd_msg status = { .type = MCD_MSG_STATUS };
	struct mcd_msg exited = { .type = MCD_MSG_EXITED };
	struct mcd_msg out;
	uint8_t buf[3 * 64];
	size_t len = 0, used, off = 0;
	char err[160];
	int n;

	(void)state;
	hello.u.hello.version_min = 1;
	hello.u.hello.version_max = 1;
	hello.u.hello.role = MCD_ROLE_AGENT_LINUX;
	status.u.status.state = MCD_AGENT_RUNNING;
	status.u.status.pid = 77;
	status.u.status.session_id = SID;
	exited.u.exited.exit_code = 3;
	exited.u.exited.session_id = SID;
	n = mcd_encode(&hello, buf + len, sizeof(buf) - len);
	assert_true(n > 0);
	len += (size_t)n;
	n = mcd_encode(&status, buf + len, sizeof(buf) - len);
	assert_true(n > 0);
	len += (size_t)n;
	n = mcd_encode(&exited, buf + len, sizeof(buf) - len);
	assert_true(n > 0);
	len += (size_t)n;

	/* All three arrive in one read buffer; the reader takes one frame at
	 * a time and never consumes bytes of the next. */
	mcd_rx_init(&rx);
	assert_int_equal(feed(&rx, buf, len, SIZE_MAX, MCD_DIR_TO_DOM0, &out,
			      err, sizeof(err), &used), 1);
	assert_int_equal(used, 16);
	assert_int_equal(out.type, MCD_MSG_HELLO);
	off += used;
	assert_int_equal(feed(&rx, buf + off, len - off, SIZE_MAX,
			      MCD_DIR_TO_DOM0, &out, err, sizeof(err), &used),
			 1);
	assert_int_equal(out.type, MCD_MSG_STATUS);
	assert_int_equal(out.u.status.pid, 77);
	assert_int_equal(used, MCD_HDR_LEN + 16 + 17);
	off += used;
	assert_int_equal(feed(&rx, buf + off, len - off, 5, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), &used), 1);
	assert_int_equal(out.type, MCD_MSG_EXITED);
	assert_int_equal(out.u.exited.exit_code, 3);
	assert_int_equal(off + used, len);
}

/* Bytes after a refused frame are never looked at: no resynchronising. */
static void test_error_is_sticky(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg status = { .type = MCD_MSG_STATUS }, out;
	uint8_t good[64], hdr[MCD_HDR_LEN];
	char err[160];
	size_t want;
	int n;

	(void)state;
	status.u.status.state = MCD_AGENT_IDLE;
	n = mcd_encode(&status, good, sizeof(good));
	assert_true(n > 0);

	put32(hdr, MCD_MSG_STATUS);
	put32(hdr + 4, 0x7fffffff);
	mcd_rx_init(&rx);
	assert_int_equal(feed(&rx, hdr, sizeof(hdr), SIZE_MAX, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), NULL), -1);
	/* A careless caller that keeps reading gets a small, safe window and
	 * nothing but errors, even for a perfectly good frame. */
	mcd_rx_space(&rx, &want);
	assert_true(want > 0 && want <= MCD_HDR_LEN);
	assert_int_equal(feed(&rx, good, (size_t)n, SIZE_MAX, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), NULL), -1);
	/* Until it starts over. */
	mcd_rx_init(&rx);
	assert_int_equal(feed(&rx, good, (size_t)n, SIZE_MAX, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), NULL), 1);

	/* The same after a frame whose payload was refused. */
	status.u.status.state = MCD_AGENT_RUNNING;
	status.u.status.pid = 5;
	status.u.status.session_id = SID;
	n = mcd_encode(&status, good, sizeof(good));
	assert_true(n > 0);
	good[MCD_HDR_LEN] = 9; /* unknown state */
	mcd_rx_init(&rx);
	assert_int_equal(feed(&rx, good, (size_t)n, SIZE_MAX, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), NULL), -1);
	good[MCD_HDR_LEN] = MCD_AGENT_RUNNING;
	assert_int_equal(feed(&rx, good, (size_t)n, SIZE_MAX, MCD_DIR_TO_DOM0,
			      &out, err, sizeof(err), NULL), -1);
}

static void test_reader_overrun(void **state)
{
	static struct mcd_rx rx;
	struct mcd_msg out;
	char err[160];
	size_t want;

	(void)state;
	mcd_rx_init(&rx);
	mcd_rx_space(&rx, &want);
	assert_int_equal(want, MCD_HDR_LEN);
	assert_int_equal(mcd_rx_commit(&rx, want + 1, MCD_DIR_TO_DOM0, &out,
				       err, sizeof(err)), -1);
	assert_non_null(strstr(err, "overrun"));
	/* Committing nothing is harmless. */
	mcd_rx_init(&rx);
	assert_int_equal(mcd_rx_commit(&rx, 0, MCD_DIR_TO_DOM0, &out, err,
				       sizeof(err)), 0);
	mcd_rx_space(&rx, &want);
	assert_int_equal(want, MCD_HDR_LEN);
}

/* ---- HELLO negotiation ---- */

static void test_hello_negotiate(void **state)
{
	struct mcd_hello a = { .version_min = 1, .version_max = 3 };
	struct mcd_hello b = { .version_min = 2, .version_max = 5 };

	(void)state;
	assert_int_equal(mcd_hello_negotiate(&a, &b), 3);
	assert_int_equal(mcd_hello_negotiate(&b, &a), 3);
	b.version_min = 3;
	assert_int_equal(mcd_hello_negotiate(&a, &b), 3);
	b.version_min = 4;
	assert_int_equal(mcd_hello_negotiate(&a, &b), -1);
	assert_int_equal(mcd_hello_negotiate(&b, &a), -1);
	a.version_min = a.version_max = 1;
	b.version_min = b.version_max = 1;
	assert_int_equal(mcd_hello_negotiate(&a, &b), 1);
	b.version_min = 1;
	b.version_max = 9;
	assert_int_equal(mcd_hello_negotiate(&a, &b), 1);
	/* What this build speaks with itself. */
	a.version_min = b.version_min = MCD_PROTO_VERSION_MIN;
	a.version_max = b.version_max = MCD_PROTO_VERSION_MAX;
	assert_int_equal(mcd_hello_negotiate(&a, &b), MCD_PROTO_VERSION_MAX);
}

/* ---- the encoder refuses what the decoder would refuse ---- */

static void expect_no_encode(const struct mcd_msg *m, const char *what)
{
	uint8_t buf[MCD_MAX_FRAME];

	if (mcd_encode(m, buf, sizeof(buf)) != -1)
		fail_msg("encoder accepted %s", what);
}

static void test_encoder_refuses(void **state)
{
	static char huge[MCD_MAX_ARG_LEN + 1];
	struct mcd_msg m;
	uint8_t small[MCD_HDR_LEN + 4];

	(void)state;
	m = valid_launch();
	m.u.launch.session_id = "short";
	expect_no_encode(&m, "bad session id");
	m = valid_launch();
	m.u.launch.session_id = NULL;
	expect_no_encode(&m, "NULL session id");
	m = valid_launch();
	m.u.launch.user = "root";
	expect_no_encode(&m, "user root");
	m = valid_launch();
	m.u.launch.display = "nodisplay";
	expect_no_encode(&m, "bad display");
	m = valid_launch();
	m.u.launch.argc = 0;
	expect_no_encode(&m, "argc 0");
	m = valid_launch();
	m.u.launch.argc = MCD_MAX_ARGS + 1;
	for (unsigned i = 1; i <= MCD_MAX_ARGS; i++)
		m.u.launch.argv[i] = "x";
	expect_no_encode(&m, "argc 65");
	m = valid_launch();
	m.u.launch.argc = 0x10001; /* would wrap to 1 in a u16 */
	expect_no_encode(&m, "argc 65537");
	m = valid_launch();
	m.u.launch.argc = 2; /* argv[1] is NULL */
	expect_no_encode(&m, "NULL argv entry");
	m = valid_launch();
	m.u.launch.envc = 1; /* env[0] is NULL */
	expect_no_encode(&m, "NULL env entry");
	m = valid_launch();
	m.u.launch.envc = MCD_MAX_ENV + 1;
	for (unsigned i = 0; i <= MCD_MAX_ENV; i++)
		m.u.launch.env[i] = "A=1";
	expect_no_encode(&m, "envc 33");
	m = valid_launch();
	m.u.launch.envc = 1;
	m.u.launch.env[0] = "LD_PRELOAD=/x.so";
	expect_no_encode(&m, "LD_PRELOAD");
	m = valid_launch();
	memset(huge, 'a', MCD_MAX_ARG_LEN);
	huge[0] = '/';
	m.u.launch.argc = 2;
	m.u.launch.argv[1] = huge;
	assert_true(mcd_encode(&m, (uint8_t[MCD_MAX_FRAME]){ 0 },
			       MCD_MAX_FRAME) > 0);
	m.u.launch.argv[0] = "relative";
	expect_no_encode(&m, "relative program");
	m = valid_launch();
	m.u.launch.flags = 2;
	expect_no_encode(&m, "unknown flags");

	/* A LAUNCH bigger than MCD_MAX_PAYLOAD. */
	m = valid_launch();
	memset(huge, 'a', MCD_MAX_ARG_LEN);
	m.u.launch.argc = 17;
	for (unsigned i = 1; i < 17; i++)
		m.u.launch.argv[i] = huge;
	expect_no_encode(&m, "oversized LAUNCH");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_HELLO;
	m.u.hello.version_min = 2;
	m.u.hello.version_max = 1;
	m.u.hello.role = MCD_ROLE_DOM0;
	expect_no_encode(&m, "HELLO with min > max");
	m.u.hello.version_min = 1;
	m.u.hello.reserved[1] = 1;
	expect_no_encode(&m, "HELLO with reserved bytes");
	m.u.hello.reserved[1] = 0;
	m.u.hello.role = 0;
	expect_no_encode(&m, "HELLO with role 0");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_STOP;
	m.u.stop.session_id = "";
	expect_no_encode(&m, "STOP without session");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_STATUS;
	m.u.status.state = MCD_AGENT_RUNNING;
	m.u.status.session_id = SID;
	expect_no_encode(&m, "STATUS running with pid 0");
	m.u.status.state = MCD_AGENT_IDLE;
	expect_no_encode(&m, "STATUS idle with a session");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_STARTED;
	m.u.started.pid = -1;
	m.u.started.session_id = SID;
	expect_no_encode(&m, "STARTED pid -1");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_EXITED;
	m.u.exited.exit_code = 1;
	m.u.exited.exit_signal = 9;
	m.u.exited.session_id = SID;
	expect_no_encode(&m, "EXITED with code and signal");

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_FAILED;
	m.u.failed.code = MCD_FAIL_EXEC;
	m.u.failed.session_id = SID;
	m.u.failed.reason = "line\nbreak";
	expect_no_encode(&m, "FAILED with a newline");
	m.u.failed.reason = "ok";
	m.u.failed.code = 0;
	expect_no_encode(&m, "FAILED code 0");

	memset(&m, 0, sizeof(m));
	m.type = 0x42;
	expect_no_encode(&m, "unknown type");

	/* No room. */
	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_STARTED;
	m.u.started.pid = 1;
	m.u.started.session_id = SID;
	assert_int_equal(mcd_encode(&m, small, sizeof(small)), -1);
	assert_int_equal(mcd_encode(&m, small, 4), -1);
	assert_int_equal(mcd_encode(&m, small, 0), -1);
}

/* The exact bytes: little-endian header and fields, NUL-terminated ids. */
static void test_wire_bytes(void **state)
{
	static const uint8_t want[] = {
		0x21, 0, 0, 0, 21, 0, 0, 0,           /* STARTED, len 21 */
		0x39, 0x30, 0, 0,                     /* pid 12345 */
		'0', '1', '2', '3', '4', '5', '6', '7',
		'8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 0,
	};
	struct mcd_msg m = { .type = MCD_MSG_STARTED };
	uint8_t buf[64];
	struct mcd_hdr h;

	(void)state;
	m.u.started.pid = 12345;
	m.u.started.session_id = SID;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	mcd_hdr_parse(buf, &h);
	assert_int_equal(h.type, MCD_MSG_STARTED);
	assert_int_equal(h.len, 21);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(mcd_msg_name(MCD_MSG_HELLO), "HELLO");
	assert_string_equal(mcd_msg_name(MCD_MSG_LAUNCH), "LAUNCH");
	assert_string_equal(mcd_msg_name(MCD_MSG_FAILED), "FAILED");
	assert_string_equal(mcd_fail_name(MCD_FAIL_BUSY), "busy");
	assert_string_equal(mcd_fail_name(0), "unknown");
	assert_string_equal(mcd_fail_name(MCD_FAIL_MAX + 1), "unknown");
	assert_string_equal(mcd_agent_state_name(MCD_AGENT_EXITED), "exited");
	assert_string_equal(mcd_agent_state_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hello),
		cmocka_unit_test(test_roundtrip_launch),
		cmocka_unit_test(test_roundtrip_launch_limits),
		cmocka_unit_test(test_roundtrip_stop),
		cmocka_unit_test(test_roundtrip_status),
		cmocka_unit_test(test_roundtrip_started),
		cmocka_unit_test(test_roundtrip_exited),
		cmocka_unit_test(test_roundtrip_failed),
		cmocka_unit_test(test_valid_session_id),
		cmocka_unit_test(test_valid_user),
		cmocka_unit_test(test_valid_display),
		cmocka_unit_test(test_valid_program),
		cmocka_unit_test(test_valid_env),
		cmocka_unit_test(test_valid_reason),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_wrong_direction),
		cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_decode_direct),
		cmocka_unit_test(test_truncated_strings),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_launch_counts),
		cmocka_unit_test(test_launch_strings),
		cmocka_unit_test(test_hello_fields),
		cmocka_unit_test(test_failed_fields),
		cmocka_unit_test(test_status_consistency),
		cmocka_unit_test(test_started_exited_fields),
		cmocka_unit_test(test_fragmented_bytewise),
		cmocka_unit_test(test_fragmented_chunks),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_reader_overrun),
		cmocka_unit_test(test_hello_negotiate),
		cmocka_unit_test(test_encoder_refuses),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("mcd_proto", tests, NULL, NULL);
}
