/*
 * test_site.c - the site protocol's codec: a round trip of every message
 * type, and each way a frame must be refused.  Good frames come from the
 * encoder; bad ones are packed by hand so that a bug shared by encoder and
 * decoder cannot hide itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mcd_site.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SID "0123456789abcdef"
#define KEY32 "00112233445566778899aabbccddeeff"

static struct mcd_site_out out;
static struct mcd_site_msg msg;
static char err[256];

/* ---- hand packing ---- */

struct frame {
	uint8_t b[MCD_SITE_MAX_FRAME + 64];
	size_t len;
};

static struct frame fr;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void f_start(uint16_t type)
{
	memset(&fr, 0, sizeof(fr));
	put16(fr.b, type);
	fr.len = MCD_SITE_HDR_LEN;
}

static void f_field(uint16_t tag, const void *p, size_t n)
{
	put16(fr.b + fr.len, tag);
	put16(fr.b + fr.len + 2, (uint16_t)n);
	memcpy(fr.b + fr.len + 4, p, n);
	fr.len += 4 + n;
}

static void f_str(uint16_t tag, const char *s)
{
	f_field(tag, s, strlen(s));
}

static void f_u32(uint16_t tag, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	f_field(tag, b, 4);
}

static void f_end(void)
{
	put32(fr.b + 4, (uint32_t)(fr.len - MCD_SITE_HDR_LEN));
}

static int f_decode(unsigned dir)
{
	err[0] = '\0';
	return mcd_site_decode(fr.b, fr.len, dir, &msg, err, sizeof(err));
}

/* The decoder refuses the hand-packed frame with a reason containing want. */
static void refused(unsigned dir, const char *want)
{
	assert_int_equal(f_decode(dir), -1);
	if (!strstr(err, want))
		print_message("reason \"%s\", wanted \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
	assert_int_equal(msg.nfield, 0);
}

/* ---- round trips ---- */

/* Finish the builder for dir and decode what it made. */
static void encode_decode(unsigned dir)
{
	assert_int_equal(mcd_site_finish(&out, dir, err, sizeof(err)), 0);
	assert_int_equal(mcd_site_decode(out.buf, out.len, dir, &msg, err,
					 sizeof(err)), 0);
	assert_int_equal(msg.type, (uint16_t)(out.buf[0] | out.buf[1] << 8));
}

static void test_hello(void **state)
{
	(void)state;
	mcd_site_begin(&out, MCD_SITE_HELLO);
	mcd_site_put_u32(&out, MCD_ST_VMIN, 1);
	mcd_site_put_u32(&out, MCD_ST_VMAX, 3);
	encode_decode(MCD_SITE_C2P);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_VMIN, 0), 1);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_VMAX, 0), 3);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_VERSION, 77), 77);
	/* A server's HELLO is not a client's. */
	assert_int_equal(mcd_site_decode(out.buf, out.len, MCD_SITE_B2C, &msg,
					 err, sizeof(err)), -1);
	mcd_site_begin(&out, MCD_SITE_HELLO);
	mcd_site_put_u32(&out, MCD_ST_VERSION, 1);
	encode_decode(MCD_SITE_B2C);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_VERSION, 0), 1);
	encode_decode(MCD_SITE_P2C);
}

static void test_error_ok(void **state)
{
	(void)state;
	mcd_site_begin(&out, MCD_SITE_ERROR);
	mcd_site_put_u32(&out, MCD_ST_CODE, MCD_SITE_E_AUTH);
	mcd_site_put_str(&out, MCD_ST_TEXT, "wrong password — try again");
	encode_decode(MCD_SITE_B2C);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_CODE, 0), MCD_SITE_E_AUTH);
	assert_string_equal(mcd_site_str(&msg, MCD_ST_TEXT),
			    "wrong password — try again");
	mcd_site_begin(&out, MCD_SITE_OK);
	encode_decode(MCD_SITE_P2C);
	assert_int_equal(msg.nfield, 0);
	assert_int_equal(out.len, MCD_SITE_HDR_LEN);
}

static void test_login(void **state)
{
	static const uint8_t pw[] = { 's', 0, '\n', 0xff, 'x' };
	const uint8_t *p;
	size_t n;

	(void)state;
	mcd_site_begin(&out, MCD_SITE_LOGIN);
	mcd_site_put_str(&out, MCD_ST_USER, "alice");
	mcd_site_put_bytes(&out, MCD_ST_PASSWORD, pw, sizeof(pw));
	encode_decode(MCD_SITE_C2B);
	assert_string_equal(mcd_site_str(&msg, MCD_ST_USER), "alice");
	p = mcd_site_bytes(&msg, MCD_ST_PASSWORD, &n);
	assert_int_equal(n, sizeof(pw));
	assert_memory_equal(p, pw, sizeof(pw));
	mcd_site_wipe(&msg);
	assert_int_equal(msg.nfield, 0);
	mcd_site_out_wipe(&out);
	for (size_t i = 0; i < sizeof(out.buf); i++)
		assert_int_equal(out.buf[i], 0);

	mcd_site_begin(&out, MCD_SITE_LOGIN_OK);
	mcd_site_put_str(&out, MCD_ST_TOKEN, TOKEN);
	mcd_site_put_str(&out, MCD_ST_USER, "alice");
	mcd_site_put_u32(&out, MCD_ST_LEVEL, 3);
	mcd_site_put_u32(&out, MCD_ST_EXPIRES, 2000000000u);
	encode_decode(MCD_SITE_B2C);
	assert_string_equal(mcd_site_str(&msg, MCD_ST_TOKEN), TOKEN);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_EXPIRES, 0), 2000000000u);
}

static void test_apps_list(void **state)
{
	char pool[16];

	(void)state;
	mcd_site_begin(&out, MCD_SITE_APPS);
	mcd_site_put_str(&out, MCD_ST_TOKEN, TOKEN);
	encode_decode(MCD_SITE_C2B);

	mcd_site_begin(&out, MCD_SITE_APP);
	mcd_site_put_str(&out, MCD_ST_APP, "firefox");
	mcd_site_put_str(&out, MCD_ST_NAME, "Firefox Web Browser");
	mcd_site_put_str(&out, MCD_ST_OS, "linux");
	mcd_site_put_u32(&out, MCD_ST_LEVEL, 2);
	for (int i = 0; i < MCD_SITE_POOLS_MAX; i++) {
		snprintf(pool, sizeof(pool), "pool%d", i);
		mcd_site_put_str(&out, MCD_ST_POOL, pool);
	}
	encode_decode(MCD_SITE_B2C);
	assert_int_equal(mcd_site_count(&msg, MCD_ST_POOL), MCD_SITE_POOLS_MAX);
	assert_string_equal(mcd_site_nth(&msg, MCD_ST_POOL, 0), "pool0");
	assert_string_equal(mcd_site_nth(&msg, MCD_ST_POOL, 15), "pool15");
	assert_null(mcd_site_nth(&msg, MCD_ST_POOL, 16));

	mcd_site_begin(&out, MCD_SITE_POOL);
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_ADDRESS, "10.0.0.5:7443");
	mcd_site_put_u32(&out, MCD_ST_LEVEL, 2);
	encode_decode(MCD_SITE_B2C);

	mcd_site_begin(&out, MCD_SITE_LIST_END);
	encode_decode(MCD_SITE_B2C);
}

static void test_ticket_msgs(void **state)
{
	uint8_t body[300], sig[MCD_SITE_SIG_LEN];
	const uint8_t *p;
	size_t n;

	(void)state;
	memset(body, 0xab, sizeof(body));
	memset(sig, 0x5a, sizeof(sig));
	mcd_site_begin(&out, MCD_SITE_TICKET_REQ);
	mcd_site_put_str(&out, MCD_ST_TOKEN, TOKEN);
	mcd_site_put_str(&out, MCD_ST_APP, "firefox");
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_DISPLAY, "10.0.0.9:0");
	encode_decode(MCD_SITE_C2B);

	mcd_site_begin(&out, MCD_SITE_TICKET_OK);
	mcd_site_put_bytes(&out, MCD_ST_TICKET, body, sizeof(body));
	mcd_site_put_bytes(&out, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_ADDRESS, "[::1]:7443");
	mcd_site_put_u32(&out, MCD_ST_EXPIRES, 1234);
	encode_decode(MCD_SITE_B2C);
	p = mcd_site_bytes(&msg, MCD_ST_TICKET, &n);
	assert_int_equal(n, sizeof(body));
	assert_memory_equal(p, body, n);

	mcd_site_begin(&out, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&out, MCD_ST_TICKET, body, sizeof(body));
	mcd_site_put_bytes(&out, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_str(&out, MCD_ST_COOKIE, KEY32);
	mcd_site_put_u32(&out, MCD_ST_WAIT, MCD_SITE_WAIT_MAX);
	encode_decode(MCD_SITE_C2P);
	assert_string_equal(mcd_site_str(&msg, MCD_ST_COOKIE), KEY32);
	/* The cookie is optional. */
	mcd_site_begin(&out, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&out, MCD_ST_TICKET, body, sizeof(body));
	mcd_site_put_bytes(&out, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_u32(&out, MCD_ST_WAIT, 0);
	encode_decode(MCD_SITE_C2P);
	assert_null(mcd_site_str(&msg, MCD_ST_COOKIE));
}

static void test_sessions(void **state)
{
	(void)state;
	mcd_site_begin(&out, MCD_SITE_NOTE);
	mcd_site_put_str(&out, MCD_ST_TOKEN, TOKEN);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_APP, "firefox");
	mcd_site_put_str(&out, MCD_ST_STATE, "ready");
	encode_decode(MCD_SITE_C2B);

	mcd_site_begin(&out, MCD_SITE_SESSIONS);
	mcd_site_put_str(&out, MCD_ST_TOKEN, TOKEN);
	encode_decode(MCD_SITE_C2B);

	mcd_site_begin(&out, MCD_SITE_SESSION_INFO);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_APP, "firefox");
	mcd_site_put_str(&out, MCD_ST_USER, "alice");
	mcd_site_put_str(&out, MCD_ST_STATE, "running");
	mcd_site_put_u32(&out, MCD_ST_ISSUED, 99);
	encode_decode(MCD_SITE_B2C);
	encode_decode(MCD_SITE_P2C);
	mcd_site_begin(&out, MCD_SITE_SESSION_INFO);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_STATE, "running");
	encode_decode(MCD_SITE_P2C);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_ISSUED, 5), 5);
}

static void test_pool_msgs(void **state)
{
	(void)state;
	mcd_site_begin(&out, MCD_SITE_LOAD);
	encode_decode(MCD_SITE_C2P);

	mcd_site_begin(&out, MCD_SITE_LOAD_OK);
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_u32(&out, MCD_ST_LEVEL, MCD_SITE_LEVEL_MAX);
	mcd_site_put_u32(&out, MCD_ST_LOAD, 1000);
	mcd_site_put_u32(&out, MCD_ST_ROOM, 0);
	mcd_site_put_str(&out, MCD_ST_LIMIT, "memory");
	mcd_site_put_str(&out, MCD_ST_TEXT, "3.9 GiB of 4 GiB in use");
	encode_decode(MCD_SITE_P2C);
	assert_int_equal(mcd_site_u32(&msg, MCD_ST_LOAD, 0), 1000);

	mcd_site_begin(&out, MCD_SITE_WAIT);
	mcd_site_put_str(&out, MCD_ST_STATE, "booting");
	mcd_site_put_str(&out, MCD_ST_TEXT, "domain 7 boots");
	encode_decode(MCD_SITE_P2C);

	mcd_site_begin(&out, MCD_SITE_READY);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_END_KEY, KEY32);
	encode_decode(MCD_SITE_P2C);

	mcd_site_begin(&out, MCD_SITE_FAILED);
	mcd_site_put_u32(&out, MCD_ST_CODE, MCD_SITE_E_LAUNCH);
	mcd_site_put_str(&out, MCD_ST_TEXT, "agent did not answer");
	encode_decode(MCD_SITE_P2C);

	mcd_site_begin(&out, MCD_SITE_ENDED);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	encode_decode(MCD_SITE_P2C);

	mcd_site_begin(&out, MCD_SITE_END);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_END_KEY, KEY32);
	encode_decode(MCD_SITE_C2P);

	mcd_site_begin(&out, MCD_SITE_STATUS);
	mcd_site_put_str(&out, MCD_ST_SESSION, SID);
	mcd_site_put_str(&out, MCD_ST_END_KEY, KEY32);
	encode_decode(MCD_SITE_C2P);
}

static void put_body(int nargs)
{
	char arg[16];

	mcd_site_begin(&out, MCD_SITE_TICKET_BODY);
	mcd_site_put_str(&out, MCD_ST_NONCE, KEY32);
	mcd_site_put_str(&out, MCD_ST_USER, "alice");
	mcd_site_put_str(&out, MCD_ST_APP, "firefox");
	mcd_site_put_u32(&out, MCD_ST_LEVEL, 1);
	mcd_site_put_str(&out, MCD_ST_TEMPLATE, "debian12");
	mcd_site_put_str(&out, MCD_ST_PROGRAM, "/usr/bin/firefox");
	for (int i = 0; i < nargs; i++) {
		snprintf(arg, sizeof(arg), "--arg%d", i);
		mcd_site_put_str(&out, MCD_ST_ARG, arg);
	}
	mcd_site_put_str(&out, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&out, MCD_ST_DISPLAY, "[fe80::1]:0.1");
	mcd_site_put_u32(&out, MCD_ST_ISSUED, 100);
	mcd_site_put_u32(&out, MCD_ST_EXPIRES, 160);
}

static void test_ticket_body(void **state)
{
	(void)state;
	put_body(MCD_SITE_ARGS_MAX);
	encode_decode(MCD_SITE_TICKET);
	assert_int_equal(mcd_site_count(&msg, MCD_ST_ARG), MCD_SITE_ARGS_MAX);
	assert_string_equal(mcd_site_nth(&msg, MCD_ST_ARG, 62), "--arg62");
	/* A body is never a frame of its own on any leg. */
	assert_int_equal(mcd_site_decode(out.buf, out.len, MCD_SITE_C2P, &msg,
					 err, sizeof(err)), -1);
	put_body(MCD_SITE_ARGS_MAX + 1);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_TICKET, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 63 ARG"));
}

/* ---- refusals ---- */

static void test_refuse_header(void **state)
{
	uint16_t type;
	uint32_t len;

	(void)state;
	f_start(0x7777);
	f_end();
	refused(MCD_SITE_C2B, "unknown message type");
	f_start(MCD_SITE_LOGIN);
	f_str(MCD_ST_USER, "alice");
	f_str(MCD_ST_PASSWORD, "pw");
	f_end();
	assert_int_equal(f_decode(MCD_SITE_C2B), 0);
	refused(MCD_SITE_C2P, "not allowed in this direction");
	refused(MCD_SITE_B2C, "not allowed in this direction");
	put16(fr.b + 2, 1);
	refused(MCD_SITE_C2B, "flags");
	/* The header alone refuses an oversized length. */
	f_start(MCD_SITE_LOGIN);
	put32(fr.b + 4, MCD_SITE_MAX_PAYLOAD + 1);
	assert_int_equal(mcd_site_check_hdr(fr.b, MCD_SITE_C2B, &type, &len,
					    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "payload of"));
	put32(fr.b + 4, 200);
	assert_int_equal(mcd_site_check_hdr(fr.b, MCD_SITE_C2B, &type, &len,
					    err, sizeof(err)), -1);
	put32(fr.b + 4, 20);
	assert_int_equal(mcd_site_check_hdr(fr.b, MCD_SITE_C2B, &type, &len,
					    err, sizeof(err)), 0);
	assert_int_equal(type, MCD_SITE_LOGIN);
	assert_int_equal(len, 20);
	fr.len = 5;
	refused(MCD_SITE_C2B, "truncated header");
}

static void test_refuse_truncated(void **state)
{
	(void)state;
	f_start(MCD_SITE_APPS);
	f_str(MCD_ST_TOKEN, TOKEN);
	f_end();
	fr.len--;
	refused(MCD_SITE_C2B, "truncated payload");
	fr.len++;
	/* A field longer than what is left of the payload. */
	put16(fr.b + MCD_SITE_HDR_LEN + 2, 65);
	refused(MCD_SITE_C2B, "truncated TOKEN");
	/* Bytes after the payload the header announced. */
	f_start(MCD_SITE_APPS);
	f_str(MCD_ST_TOKEN, TOKEN);
	f_end();
	fr.len += 1;
	refused(MCD_SITE_C2B, "trailing bytes after the payload");
	/* Fewer than a field header's 4 bytes left inside the payload. */
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "s");
	f_str(MCD_ST_TEXT, "t");
	fr.len += 3;
	f_end();
	refused(MCD_SITE_P2C, "WAIT: 3 trailing bytes");
}

static void test_refuse_tags(void **state)
{
	(void)state;
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "s");
	f_str(99, "x");
	f_end();
	refused(MCD_SITE_P2C, "unknown tag 99");
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "s");
	f_str(MCD_ST_USER, "alice");
	f_end();
	refused(MCD_SITE_P2C, "tag USER not allowed");
	f_start(MCD_SITE_APPS);
	f_end();
	refused(MCD_SITE_C2B, "missing TOKEN");
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "s");
	f_str(MCD_ST_STATE, "s");
	f_end();
	refused(MCD_SITE_P2C, "more than 1 STATE");
	f_start(MCD_SITE_APP);
	f_str(MCD_ST_APP, "a");
	f_str(MCD_ST_NAME, "A");
	f_str(MCD_ST_OS, "linux");
	f_u32(MCD_ST_LEVEL, 1);
	f_end();
	refused(MCD_SITE_B2C, "missing POOL");
	for (int i = 0; i <= MCD_SITE_POOLS_MAX; i++)
		f_str(MCD_ST_POOL, "p");
	f_end();
	refused(MCD_SITE_B2C, "more than 16 POOL");
}

static void one_str(uint16_t type, uint16_t tag, const char *s)
{
	f_start(type);
	f_field(tag, s, strlen(s));
	f_end();
}

static void test_refuse_strings(void **state)
{
	(void)state;
	/* APPS carries only a TOKEN; SESSIONS too: use WAIT for text. */
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "x");
	f_str(MCD_ST_TEXT, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	f_end();
	assert_int_equal(f_decode(MCD_SITE_P2C), 0);

	static const char *const bad[] = {
		"bad \xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xff", "a\x80", "line\nbreak", "tab\there",
		"del\x7f", "c1 \xc2\x85", "esc\x1b[0m",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f_start(MCD_SITE_WAIT);
		f_str(MCD_ST_STATE, "x");
		f_str(MCD_ST_TEXT, bad[i]);
		f_end();
		refused(MCD_SITE_P2C, "TEXT: not UTF-8 text");
	}
	/* A NUL inside a string. */
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "x");
	f_field(MCD_ST_TEXT, "a\0b", 3);
	f_end();
	refused(MCD_SITE_P2C, "TEXT: not UTF-8");
	/* Empty and too long strings. */
	f_start(MCD_SITE_WAIT);
	f_str(MCD_ST_STATE, "");
	f_str(MCD_ST_TEXT, "t");
	f_end();
	refused(MCD_SITE_P2C, "STATE: 0 bytes");
	char long_app[MCD_SITE_APP_MAX + 2];
	memset(long_app, 'a', sizeof(long_app) - 1);
	long_app[sizeof(long_app) - 1] = '\0';
	f_start(MCD_SITE_SESSION_INFO);
	f_str(MCD_ST_SESSION, SID);
	f_str(MCD_ST_POOL, "p");
	f_str(MCD_ST_STATE, "s");
	f_str(MCD_ST_APP, long_app);
	f_end();
	refused(MCD_SITE_P2C, "APP: 65 bytes");
	/* PROGRAM must be absolute. */
	put_body(0);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_TICKET, err,
					 sizeof(err)), 0);
	mcd_site_begin(&out, MCD_SITE_TICKET_BODY);
	f_start(MCD_SITE_TICKET_BODY);
	f_str(MCD_ST_PROGRAM, "usr/bin/x");
	f_end();
	refused(MCD_SITE_TICKET, "PROGRAM: not an absolute path");
}

static void test_refuse_hex(void **state)
{
	(void)state;
	one_str(MCD_SITE_TICKET_REQ, MCD_ST_TOKEN, TOKEN "0");
	refused(MCD_SITE_C2B, "TOKEN: 65 bytes");
	one_str(MCD_SITE_APPS, MCD_ST_TOKEN, TOKEN + 1);
	refused(MCD_SITE_C2B, "TOKEN: 63 bytes");
	one_str(MCD_SITE_APPS, MCD_ST_TOKEN,
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
	refused(MCD_SITE_C2B, "TOKEN: not lowercase hex");
	one_str(MCD_SITE_APPS, MCD_ST_TOKEN,
		"0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef");
	refused(MCD_SITE_C2B, "TOKEN: not lowercase hex");
	f_start(MCD_SITE_SESSION_INFO);
	f_str(MCD_ST_SESSION, "0123456789abcdef0");
	f_str(MCD_ST_POOL, "p");
	f_str(MCD_ST_STATE, "s");
	f_end();
	refused(MCD_SITE_P2C, "SESSION: 17 bytes");
}

/* A LOAD_OK with one U32 changed. */
static void load_ok(uint16_t tag, uint32_t v)
{
	f_start(MCD_SITE_LOAD_OK);
	f_str(MCD_ST_POOL, "p");
	f_u32(MCD_ST_LEVEL, tag == MCD_ST_LEVEL ? v : 1);
	f_u32(MCD_ST_LOAD, tag == MCD_ST_LOAD ? v : 1);
	f_u32(MCD_ST_ROOM, tag == MCD_ST_ROOM ? v : 1);
	f_str(MCD_ST_LIMIT, "cpu");
	f_end();
}

static void test_refuse_ranges(void **state)
{
	uint8_t three[3] = { 1, 0, 0 };

	(void)state;
	load_ok(0, 0);
	assert_int_equal(f_decode(MCD_SITE_P2C), 0);
	load_ok(MCD_ST_LEVEL, 0);
	refused(MCD_SITE_P2C, "LEVEL: 0 out of range");
	load_ok(MCD_ST_LEVEL, MCD_SITE_LEVEL_MAX + 1);
	refused(MCD_SITE_P2C, "LEVEL: 17 out of range");
	load_ok(MCD_ST_LOAD, 1001);
	refused(MCD_SITE_P2C, "LOAD: 1001 out of range");
	load_ok(MCD_ST_ROOM, 2);
	refused(MCD_SITE_P2C, "ROOM: 2 out of range");
	f_start(MCD_SITE_FAILED);
	f_u32(MCD_ST_CODE, 0);
	f_str(MCD_ST_TEXT, "t");
	f_end();
	refused(MCD_SITE_P2C, "CODE: 0 out of range");
	f_start(MCD_SITE_FAILED);
	f_u32(MCD_ST_CODE, MCD_SITE_E_MAX + 1);
	f_str(MCD_ST_TEXT, "t");
	f_end();
	refused(MCD_SITE_P2C, "CODE: 12 out of range");
	f_start(MCD_SITE_FAILED);
	f_field(MCD_ST_CODE, three, 3);
	f_str(MCD_ST_TEXT, "t");
	f_end();
	refused(MCD_SITE_P2C, "CODE: 3 bytes");
	mcd_site_begin(&out, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&out, MCD_ST_TICKET, "12345678", 8);
	mcd_site_put_bytes(&out, MCD_ST_SIG, fr.b, MCD_SITE_SIG_LEN - 1);
	mcd_site_put_u32(&out, MCD_ST_WAIT, 0);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_C2P, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "SIG: 63 bytes"));
	mcd_site_begin(&out, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&out, MCD_ST_TICKET, "12345678", 8);
	mcd_site_put_bytes(&out, MCD_ST_SIG, fr.b, MCD_SITE_SIG_LEN);
	mcd_site_put_u32(&out, MCD_ST_WAIT, MCD_SITE_WAIT_MAX + 1);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_C2P, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "WAIT: 3601 out of range"));
}

static void test_finish_refuses(void **state)
{
	static uint8_t big[70000];

	(void)state;
	/* Missing field: a build the decoder refuses never finishes. */
	mcd_site_begin(&out, MCD_SITE_LOGIN);
	mcd_site_put_str(&out, MCD_ST_USER, "alice");
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_C2B, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "missing PASSWORD"));
	/* Wrong direction. */
	mcd_site_begin(&out, MCD_SITE_OK);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_C2B, err, sizeof(err)),
			 -1);
	/* A field past the frame's room marks the builder failed. */
	mcd_site_begin(&out, MCD_SITE_WAIT);
	mcd_site_put_bytes(&out, MCD_ST_TEXT, big, sizeof(big));
	mcd_site_put_str(&out, MCD_ST_STATE, "s");
	assert_int_equal(out.failed, 1);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_P2C, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "does not fit"));
	mcd_site_begin(&out, MCD_SITE_WAIT);
	mcd_site_put_str(&out, MCD_ST_STATE, NULL);
	assert_int_equal(out.failed, 1);
	/* Many small fields until the buffer is full. */
	mcd_site_begin(&out, MCD_SITE_WAIT);
	for (int i = 0; i < 5000; i++)
		mcd_site_put_str(&out, MCD_ST_TEXT, "x");
	assert_int_equal(out.failed, 1);
	assert_true(out.len <= sizeof(out.buf));
}

static void test_wire_bytes(void **state)
{
	static const uint8_t want[] = {
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t hello[] = {
		0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
		0x03, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,
	};

	(void)state;
	mcd_site_begin(&out, MCD_SITE_OK);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_B2C, err, sizeof(err)),
			 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.buf, want, sizeof(want));
	mcd_site_begin(&out, MCD_SITE_HELLO);
	mcd_site_put_u32(&out, MCD_ST_VERSION, 1);
	assert_int_equal(mcd_site_finish(&out, MCD_SITE_P2C, err, sizeof(err)),
			 0);
	assert_int_equal(out.len, sizeof(hello));
	assert_memory_equal(out.buf, hello, sizeof(hello));
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(mcd_site_valid_user("alice"));
	assert_true(mcd_site_valid_user("_svc-1"));
	assert_false(mcd_site_valid_user("root"));
	assert_false(mcd_site_valid_user("Alice"));
	assert_false(mcd_site_valid_user("1x"));
	assert_false(mcd_site_valid_user(""));
	assert_false(mcd_site_valid_user("a23456789012345678901234567890123"));
	assert_true(mcd_site_valid_app("libreoffice.writer-7_1"));
	assert_false(mcd_site_valid_app(".x"));
	assert_false(mcd_site_valid_app("a/b"));
	assert_true(mcd_site_valid_pool("pool-a.site"));
	assert_false(mcd_site_valid_pool("pool_a"));
	assert_true(mcd_site_valid_address("10.0.0.1:443"));
	assert_true(mcd_site_valid_address("pool0.example:65535"));
	assert_true(mcd_site_valid_address("[::1]:7443"));
	assert_false(mcd_site_valid_address("[::1]"));
	assert_false(mcd_site_valid_address("::1:443"));
	assert_false(mcd_site_valid_address("host:0"));
	assert_false(mcd_site_valid_address("host:65536"));
	assert_false(mcd_site_valid_address("host:080"));
	assert_false(mcd_site_valid_address(":443"));
	assert_false(mcd_site_valid_address("a b:1"));
	assert_true(mcd_site_valid_display("10.0.0.9:0"));
	assert_true(mcd_site_valid_display("[fe80::1]:10.2"));
	assert_false(mcd_site_valid_display(":0"));
	assert_false(mcd_site_valid_display("host:"));
	assert_false(mcd_site_valid_display("host:0."));
	assert_false(mcd_site_valid_display("host:0.1.2"));
	assert_string_equal(mcd_site_type_name(MCD_SITE_TICKET_BODY),
			    "TICKET_BODY");
	assert_string_equal(mcd_site_type_name(0x99), "UNKNOWN");
	assert_string_equal(mcd_site_err_name(MCD_SITE_E_TICKET), "ticket");
	assert_string_equal(mcd_site_err_name(0), "unknown");
	assert_string_equal(mcd_site_err_name(MCD_SITE_E_MAX + 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_error_ok),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_apps_list),
		cmocka_unit_test(test_ticket_msgs),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_pool_msgs),
		cmocka_unit_test(test_ticket_body),
		cmocka_unit_test(test_refuse_header),
		cmocka_unit_test(test_refuse_truncated),
		cmocka_unit_test(test_refuse_tags),
		cmocka_unit_test(test_refuse_strings),
		cmocka_unit_test(test_refuse_hex),
		cmocka_unit_test(test_refuse_ranges),
		cmocka_unit_test(test_finish_refuses),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
