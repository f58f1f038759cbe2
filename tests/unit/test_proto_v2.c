/*
 * test_proto_v2.c - protocol version 2: LAUNCH2 (X mode, cookie, volume,
 * shares), READY and the X relay messages, the validators they use, and
 * which messages each version may carry.
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
#define COOKIE "00112233445566778899aabbccddeeff"

static struct mcd_msg launch2(void)
{
	struct mcd_msg m = { .type = MCD_MSG_LAUNCH2 };

	m.u.launch.flags = MCD_LAUNCH_X_RELAY;
	m.u.launch.session_id = SID;
	m.u.launch.user = "alice";
	m.u.launch.display = "10.0.2.2:0";
	m.u.launch.xcookie = COOKIE;
	m.u.launch.volume = "xvdc";
	m.u.launch.argc = 2;
	m.u.launch.argv[0] = "/usr/bin/xlogo";
	m.u.launch.argv[1] = "-fg";
	m.u.launch.sharec = 2;
	m.u.launch.share[0] = (struct mcd_share){ "nfs", "fs.example:/home/alice",
						  "nfs-home", "", "" };
	m.u.launch.share[1] = (struct mcd_share){ "cifs", "//files/alice",
						  "docs", "alice", "p@ss, w|rd" };
	return m;
}

/* Encode, then decode as the agent does. */
static int roundtrip(const struct mcd_msg *in, uint8_t *buf, size_t cap,
		     struct mcd_msg *out, char *err, size_t errlen)
{
	int n = mcd_encode(in, buf, cap);
	struct mcd_hdr h;

	if (n < 0)
		return -1;
	mcd_hdr_parse(buf, &h);
	return mcd_decode(h.type, in->type < MCD_MSG_STATUS ? MCD_DIR_TO_GUEST
							    : MCD_DIR_TO_DOM0,
			  buf + MCD_HDR_LEN, h.len, out, err, errlen);
}

static void test_launch2_roundtrip(void **state)
{
	static uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg in = launch2(), out;
	char err[160];

	(void)state;
	assert_int_equal(roundtrip(&in, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_int_equal(out.type, MCD_MSG_LAUNCH2);
	assert_int_equal(out.u.launch.flags, MCD_LAUNCH_X_RELAY);
	assert_string_equal(out.u.launch.xcookie, COOKIE);
	assert_string_equal(out.u.launch.volume, "xvdc");
	assert_int_equal(out.u.launch.argc, 2);
	assert_string_equal(out.u.launch.argv[1], "-fg");
	assert_int_equal(out.u.launch.sharec, 2);
	assert_string_equal(out.u.launch.share[0].source, "fs.example:/home/alice");
	assert_string_equal(out.u.launch.share[1].kind, "cifs");
	assert_string_equal(out.u.launch.share[1].password, "p@ss, w|rd");
	assert_string_equal(mcd_msg_name(MCD_MSG_LAUNCH2), "LAUNCH2");
}

/* A v1 LAUNCH decodes with the v2 fields empty, never NULL. */
static void test_launch_v1_has_empty_v2_fields(void **state)
{
	static uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg in = launch2(), out;
	char err[160];

	(void)state;
	in.type = MCD_MSG_LAUNCH;
	in.u.launch.flags = 0;
	in.u.launch.sharec = 0;
	assert_int_equal(roundtrip(&in, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_string_equal(out.u.launch.xcookie, "");
	assert_string_equal(out.u.launch.volume, "");
	assert_int_equal(out.u.launch.sharec, 0);
	/* v1 cannot carry shares or X flags. */
	in.u.launch.sharec = 1;
	assert_int_equal(mcd_encode(&in, buf, sizeof(buf)), -1);
	in.u.launch.sharec = 0;
	in.u.launch.flags = MCD_LAUNCH_X_RELAY;
	assert_int_equal(mcd_encode(&in, buf, sizeof(buf)), -1);
}

static void expect_launch2_refused(struct mcd_msg *m)
{
	static uint8_t buf[MCD_MAX_FRAME];

	assert_int_equal(mcd_encode(m, buf, sizeof(buf)), -1);
}

static void test_launch2_refusals(void **state)
{
	struct mcd_msg m;

	(void)state;
	m = launch2();
	m.u.launch.flags = MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT;
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.flags = 0x80;
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.flags = 0; /* a cookie without an X mode */
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.xcookie = "00112233445566778899AABBCCDDEEFF";
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.xcookie = "0011";
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.volume = "sda";
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.volume = "xvda"; /* the guest's own root disk */
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.sharec = MCD_MAX_SHARES + 1;
	expect_launch2_refused(&m);
	m = launch2();
	m.u.launch.share[1].mount_name = "nfs-home"; /* same mount twice */
	expect_launch2_refused(&m);
}

static int share_ok(const char *kind, const char *src, const char *name,
		    const char *user, const char *pw)
{
	struct mcd_share sh = { kind, src, name, user, pw };
	char err[96];

	return mcd_valid_share(&sh, err, sizeof(err));
}

static void test_valid_share(void **state)
{
	(void)state;
	assert_true(share_ok("nfs", "server:/export/home", "home", "", ""));
	assert_true(share_ok("nfs", "10.0.2.2:/srv", "h", "", ""));
	assert_true(share_ok("cifs", "//server/share", "docs", "", ""));
	assert_true(share_ok("cifs", "//server/share/sub/dir", "docs", "alice", "x"));
	/* Kinds and sources. */
	assert_false(share_ok("smb", "//server/share", "docs", "", ""));
	assert_false(share_ok("nfs", "server:export", "home", "", ""));
	assert_false(share_ok("nfs", ":/export", "home", "", ""));
	assert_false(share_ok("nfs", "-o:/export", "home", "", ""));
	assert_false(share_ok("nfs", "server:/a/../etc", "home", "", ""));
	assert_false(share_ok("cifs", "//server", "docs", "", ""));
	assert_false(share_ok("cifs", "//server/", "docs", "", ""));
	assert_false(share_ok("cifs", "\\\\server\\share", "docs", "", ""));
	/* Option injection through any field. */
	assert_false(share_ok("nfs", "server:/x,exec", "home", "", ""));
	assert_false(share_ok("cifs", "//server/share", "docs", "alice,uid=0", "x"));
	assert_false(share_ok("cifs", "//server/s hare", "docs", "", ""));
	/* Mount names stay one directory below the home. */
	assert_false(share_ok("nfs", "s:/x", "..", "", ""));
	assert_false(share_ok("nfs", "s:/x", "a/b", "", ""));
	assert_false(share_ok("nfs", "s:/x", ".hidden", "", ""));
	assert_false(share_ok("nfs", "s:/x", "", "", ""));
	assert_false(share_ok("nfs", "s:/x", "-rf", "", ""));
	/* Credentials. */
	assert_false(share_ok("nfs", "s:/x", "h", "alice", ""));
	assert_false(share_ok("cifs", "//s/x", "h", "", "secret"));
	assert_false(share_ok("cifs", "//s/x", "h", "alice", "line\nbreak"));
	assert_true(share_ok("cifs", "//s/x", "h", "alice", "any, printable | thing"));
}

static void test_valid_cookie_and_vdev(void **state)
{
	(void)state;
	assert_true(mcd_valid_xcookie(COOKIE));
	assert_false(mcd_valid_xcookie(""));
	assert_false(mcd_valid_xcookie(COOKIE "0"));
	assert_false(mcd_valid_xcookie("g0112233445566778899aabbccddeeff"));
	assert_true(mcd_valid_vdev("xvdb"));
	assert_true(mcd_valid_vdev("xvdz"));
	assert_false(mcd_valid_vdev("xvda"));
	assert_false(mcd_valid_vdev("xvdbb"));
	assert_false(mcd_valid_vdev("../sda"));
}

static void test_x_messages(void **state)
{
	static uint8_t buf[MCD_MAX_FRAME];
	uint8_t data[MCD_MAX_X_DATA];
	struct mcd_msg m = { .type = MCD_MSG_X_DATA }, out;
	char err[160];

	(void)state;
	memset(data, 0xa5, sizeof(data));
	m.u.x.conn = 7;
	m.u.x.data = data;
	m.u.x.len = sizeof(data);
	assert_int_equal(roundtrip(&m, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_int_equal(out.u.x.conn, 7);
	assert_int_equal(out.u.x.len, MCD_MAX_X_DATA);
	assert_memory_equal(out.u.x.data, data, sizeof(data));
	/* X_DATA travels both ways; empty or oversized is refused. */
	assert_int_equal(mcd_decode(MCD_MSG_X_DATA, MCD_DIR_TO_GUEST,
				    buf + MCD_HDR_LEN, 4 + 10, &out, err,
				    sizeof(err)), 0);
	m.u.x.len = 0;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);
	m.u.x.len = MCD_MAX_X_DATA + 1;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);

	m = (struct mcd_msg){ .type = MCD_MSG_X_ACK };
	m.u.x.conn = 1;
	m.u.x.ack = MCD_X_WINDOW;
	assert_int_equal(roundtrip(&m, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_int_equal(out.u.x.ack, MCD_X_WINDOW);
	m.u.x.ack = MCD_X_WINDOW + 1;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);
	m.u.x.ack = 0;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);

	m = (struct mcd_msg){ .type = MCD_MSG_X_CLOSE };
	m.u.x.conn = 3;
	m.u.x.reason = "TLS: certificate verify failed";
	assert_int_equal(roundtrip(&m, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_string_equal(out.u.x.reason, "TLS: certificate verify failed");
	m.u.x.reason = "bad\x01";
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);

	/* X_OPEN and READY only come from the agent. */
	m = (struct mcd_msg){ .type = MCD_MSG_X_OPEN };
	m.u.x.conn = 9;
	assert_int_equal(roundtrip(&m, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_int_equal(mcd_decode(MCD_MSG_X_OPEN, MCD_DIR_TO_GUEST,
				    buf + MCD_HDR_LEN, 4, &out, err,
				    sizeof(err)), -1);
	m = (struct mcd_msg){ .type = MCD_MSG_READY };
	m.u.ready.session_id = SID;
	assert_int_equal(roundtrip(&m, buf, sizeof(buf), &out, err, sizeof(err)), 0);
	assert_string_equal(out.u.ready.session_id, SID);
	m.u.ready.session_id = "nothex";
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);
}

/* The service and its session worker: their own two frames go only their
 * own way, a guest can send neither, and the worker's directions carry
 * the guest's frames but never X_*. */
static void test_worker_frames(void **state)
{
	static uint8_t buf[MCD_MAX_FRAME];
	struct mcd_msg m = { .type = MCD_MSG_W_XCONF }, out;
	struct mcd_hdr h;
	char err[160];
	int n;

	(void)state;
	m.u.wxconf.port = 6043;
	m.u.wxconf.tls = 0;
	m.u.wxconf.display = "10.0.2.2:43";
	m.u.wxconf.host = "10.0.2.2";
	m.u.wxconf.addr = "10.0.2.2";
	n = mcd_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	mcd_hdr_parse(buf, &h);
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_WORKER, err, sizeof(err)), 0);
	assert_int_equal(mcd_decode(h.type, MCD_DIR_TO_WORKER, buf + MCD_HDR_LEN,
				    h.len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.u.wxconf.port, 6043);
	assert_string_equal(out.u.wxconf.addr, "10.0.2.2");
	/* Not from a guest, not to a guest, not back from the worker. */
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_DOM0, err, sizeof(err)), -1);
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_GUEST, err, sizeof(err)), -1);
	assert_int_equal(mcd_check_header(&h, MCD_DIR_FROM_WORKER, err, sizeof(err)), -1);
	/* Bad values are refused even on this trusted path. */
	m.u.wxconf.port = 0;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);
	m.u.wxconf.port = 6043;
	m.u.wxconf.tls = 2;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);
	m.u.wxconf.tls = 1;
	m.u.wxconf.host = "bad\nhost";
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);

	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_W_XNOTE;
	m.u.wxnote.kind = MCD_WX_FAILED;
	m.u.wxnote.text = "guest protocol error: X_ACK of 9 bytes";
	n = mcd_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	mcd_hdr_parse(buf, &h);
	assert_int_equal(mcd_decode(h.type, MCD_DIR_FROM_WORKER, buf + MCD_HDR_LEN,
				    h.len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.u.wxnote.kind, MCD_WX_FAILED);
	/* A guest cannot speak for the worker. */
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_DOM0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "by a guest"));
	m.u.wxnote.kind = MCD_WX_KIND_MAX + 1;
	assert_int_equal(mcd_encode(&m, buf, sizeof(buf)), -1);

	/* The guest's frames pass the worker's directions, X_* do not. */
	h.type = MCD_MSG_STATUS;
	h.len = 17;
	assert_int_equal(mcd_check_header(&h, MCD_DIR_FROM_WORKER, err, sizeof(err)), 0);
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_WORKER, err, sizeof(err)), -1);
	h.type = MCD_MSG_STOP;
	h.len = 4 + MCD_SESSION_ID_LEN + 1;
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_WORKER, err, sizeof(err)), 0);
	h.type = MCD_MSG_X_OPEN;
	h.len = 4;
	assert_int_equal(mcd_check_header(&h, MCD_DIR_FROM_WORKER, err, sizeof(err)), -1);
	h.type = MCD_MSG_X_DATA;
	h.len = 5;
	assert_int_equal(mcd_check_header(&h, MCD_DIR_TO_WORKER, err, sizeof(err)), -1);
	/* A HELLO passed on keeps its role rule: the agent's, not dom0's. */
	memset(&m, 0, sizeof(m));
	m.type = MCD_MSG_HELLO;
	m.u.hello.version_min = 1;
	m.u.hello.version_max = 2;
	m.u.hello.role = MCD_ROLE_DOM0;
	n = mcd_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(mcd_decode(MCD_MSG_HELLO, MCD_DIR_FROM_WORKER,
				    buf + MCD_HDR_LEN, 8, &out, err, sizeof(err)), -1);
	assert_int_equal(mcd_decode(MCD_MSG_HELLO, MCD_DIR_TO_WORKER,
				    buf + MCD_HDR_LEN, 8, &out, err, sizeof(err)), 0);
}

static void test_versions(void **state)
{
	(void)state;
	assert_int_equal(mcd_msg_version(MCD_MSG_HELLO), 1);
	assert_int_equal(mcd_msg_version(MCD_MSG_LAUNCH), 1);
	assert_int_equal(mcd_msg_version(MCD_MSG_FAILED), 1);
	assert_int_equal(mcd_msg_version(MCD_MSG_LAUNCH2), 2);
	assert_int_equal(mcd_msg_version(MCD_MSG_READY), 2);
	assert_int_equal(mcd_msg_version(MCD_MSG_X_DATA), 2);
	assert_int_equal(mcd_msg_version(0x99), 0);
	assert_string_equal(mcd_fail_name(MCD_FAIL_DISPLAY), "display");
	assert_string_equal(mcd_fail_name(MCD_FAIL_STORAGE), "storage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch2_roundtrip),
		cmocka_unit_test(test_launch_v1_has_empty_v2_fields),
		cmocka_unit_test(test_launch2_refusals),
		cmocka_unit_test(test_valid_share),
		cmocka_unit_test(test_valid_cookie_and_vdev),
		cmocka_unit_test(test_x_messages),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_worker_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
