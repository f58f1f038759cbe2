/*
 * test_agent_xsess.c - the pieces of the agent's X side without an X
 * server: the setup header parsing and the window ownership rule, the
 * relay's credit accounting and id checks (real sockets, a recording
 * dom0), the watcher's line protocol, and the cookie file (read back with
 * libXau).  The cookie test needs root (it chowns); skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <X11/Xauth.h>

#include <cmocka.h>

#include "../../guest/linux-agent/xcookie.h"
#include "../../guest/linux-agent/xrelay.h"
#include "../../guest/linux-agent/xwatch.h"

/* ---- a recording dom0 ---- */

struct sent {
	int n;
	uint32_t type[64];
	uint32_t conn[64];
	uint64_t data, acked;  /* X_DATA bytes, X_ACK total */
	int fail;              /* make send fail */
};

static int rec_send(void *ctx, const struct mcd_msg *m)
{
	struct sent *s = ctx;

	if (s->fail)
		return -1;
	if (s->n < 64) {
		s->type[s->n] = m->type;
		s->conn[s->n] = m->u.x.conn;
	}
	s->n++;
	if (m->type == MCD_MSG_X_DATA)
		s->data += m->u.x.len;
	if (m->type == MCD_MSG_X_ACK)
		s->acked += m->u.x.ack;
	return 0;
}

static struct xrelay *relay_new(struct sent *s)
{
	struct xrelay_out out = { rec_send, s, NULL };
	struct xrelay *r = malloc(sizeof(*r));

	assert_non_null(r);
	memset(s, 0, sizeof(*s));
	xrelay_init(r, &out);
	return r;
}

static void relay_free(struct xrelay *r)
{
	xrelay_close(r);
	free(r);
}

/* A relayed connection whose local client is *peer. */
static uint32_t adopt(struct xrelay *r, struct sent *s, int *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	assert_int_equal(xrelay_adopt(r, sv[0]), 1);
	assert_int_equal(s->type[s->n - 1], MCD_MSG_X_OPEN);
	*peer = sv[1];
	return s->conn[s->n - 1];
}

static struct xrelay_conn *conn_of(struct xrelay *r, uint32_t id)
{
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		if (r->conn[i].fd >= 0 && r->conn[i].id == id)
			return &r->conn[i];
	return NULL;
}

static int from_dom0(struct xrelay *r, uint32_t type, uint32_t id,
		     const void *data, uint32_t len, uint32_t ack)
{
	struct mcd_msg m = { .type = type };

	m.u.x.conn = id;
	m.u.x.data = data;
	m.u.x.len = len;
	m.u.x.ack = ack;
	m.u.x.reason = "";
	return xrelay_message(r, &m);
}

/* Tell the relay its connection id is readable/writable. */
static int kick(struct xrelay *r, uint32_t id, short revents)
{
	struct xrelay_conn *c = conn_of(r, id);
	struct pollfd p;

	assert_non_null(c);
	p = (struct pollfd){ c->fd, POLLIN | POLLOUT, revents };
	return xrelay_event(r, &p, id);
}

/* ---- parsing and ownership ---- */

static void put32(uint8_t *p, uint32_t v, int big)
{
	for (int i = 0; i < 4; i++)
		p[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static void reply_hdr(uint8_t h[XRELAY_REPLY_HDR], uint8_t status,
		      uint32_t base, uint32_t mask, int big)
{
	memset(h, 0, XRELAY_REPLY_HDR);
	h[0] = status;
	put32(h + 12, base, big);
	put32(h + 16, mask, big);
}

static void test_setup_parsing(void **state)
{
	uint8_t h[XRELAY_REPLY_HDR];
	uint32_t base, mask;

	(void)state;
	assert_int_equal(xrelay_byte_order('l'), 'l');
	assert_int_equal(xrelay_byte_order('B'), 'B');
	assert_int_equal(xrelay_byte_order('x'), 0);
	assert_int_equal(xrelay_byte_order(0), 0);

	reply_hdr(h, 1, 0x00a00000, 0x001fffff, 0);
	assert_int_equal(xrelay_parse_reply(h, 'l', &base, &mask), 0);
	assert_int_equal(base, 0x00a00000);
	assert_int_equal(mask, 0x001fffff);
	reply_hdr(h, 1, 0x00a00000, 0x001fffff, 1);
	assert_int_equal(xrelay_parse_reply(h, 'B', &base, &mask), 0);
	assert_int_equal(base, 0x00a00000);
	assert_int_equal(mask, 0x001fffff);
	/* Failed (0) and Authenticate (2) carry no ids. */
	reply_hdr(h, 0, 0x00a00000, 0x001fffff, 0);
	assert_int_equal(xrelay_parse_reply(h, 'l', &base, &mask), -1);
	reply_hdr(h, 2, 0x00a00000, 0x001fffff, 0);
	assert_int_equal(xrelay_parse_reply(h, 'l', &base, &mask), -1);
	/* Unknown byte order, empty mask, base overlapping the mask. */
	reply_hdr(h, 1, 0x00a00000, 0x001fffff, 0);
	assert_int_equal(xrelay_parse_reply(h, 'x', &base, &mask), -1);
	reply_hdr(h, 1, 0x00a00000, 0, 0);
	assert_int_equal(xrelay_parse_reply(h, 'l', &base, &mask), -1);
	reply_hdr(h, 1, 0x00a00001, 0x001fffff, 0);
	assert_int_equal(xrelay_parse_reply(h, 'l', &base, &mask), -1);
}

static void test_ownership_rule(void **state)
{
	(void)state;
	assert_true(xrelay_id_owned(0x00a00001, 0x00a00000, 0x001fffff));
	assert_true(xrelay_id_owned(0x00bfffff, 0x00a00000, 0x001fffff));
	assert_false(xrelay_id_owned(0x00c00001, 0x00a00000, 0x001fffff));
	assert_false(xrelay_id_owned(0x00200001, 0x00a00000, 0x001fffff));
	assert_false(xrelay_id_owned(0, 0, 0x001fffff));
}

/* A connection learns its ids from the bytes it relays; only connections
 * opened after the app started count. */
static void test_app_windows(void **state)
{
	struct sent s;
	struct xrelay *r = relay_new(&s);
	uint8_t h[XRELAY_REPLY_HDR];
	int wpeer, apeer;
	uint32_t watcher, app;
	uint8_t buf[64];

	(void)state;
	watcher = adopt(r, &s, &wpeer);
	r->app_started = 1;
	app = adopt(r, &s, &apeer);
	assert_int_equal(write(wpeer, "l\0\x0b\0", 4), 4);
	assert_int_equal(write(apeer, "B\0\0\x0b", 4), 4);
	assert_int_equal(kick(r, watcher, POLLIN), 0);
	assert_int_equal(kick(r, app, POLLIN), 0);
	/* The same base for both, to see that only the app's counts; the
	 * reply arrives in two pieces. */
	reply_hdr(h, 1, 0x00400000, 0x001fffff, 0);
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, watcher, h, 20, 0), 0);
	reply_hdr(h, 1, 0x00400000, 0x001fffff, 1);
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, app, h, 7, 0), 0);
	assert_false(xrelay_app_window(r, 0x00400005));
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, app, h + 7, 13, 0), 0);
	assert_true(xrelay_app_window(r, 0x00400005));
	assert_false(xrelay_app_window(r, 0x00600005));
	assert_int_equal(read(apeer, buf, sizeof(buf)), 20);
	close(wpeer);
	close(apeer);
	relay_free(r);
}

/* ---- credit ---- */

/* dom0 may have MCD_X_WINDOW bytes unacknowledged, no more; the relay
 * acknowledges what it wrote to the local client, a batch at a time or
 * ahead of its own next bytes. */
static void test_credit_from_dom0(void **state)
{
	static uint8_t chunk[MCD_MAX_X_DATA];
	struct sent s;
	struct xrelay *r = relay_new(&s);
	struct xrelay_conn *c;
	uint64_t sent = 0;
	uint8_t buf[65536];
	int peer, sz = 4096;
	uint32_t id;
	ssize_t n;

	(void)state;
	id = adopt(r, &s, &peer);
	c = conn_of(r, id);
	/* A small socket buffer, so the relay must buffer. */
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz,
				    sizeof(sz)), 0);
	for (;;) {
		size_t room = MCD_X_WINDOW - c->out_len;
		uint32_t len = room > sizeof(chunk) ? sizeof(chunk)
						    : (uint32_t)room;

		if (len == 0)
			break;
		assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, id, chunk, len,
					   0), 0);
		sent += len;
	}
	assert_int_equal(c->out_len, MCD_X_WINDOW);
	assert_true(s.acked < sent);
	/* One byte more than the window: dom0 is broken. */
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, id, chunk, 1, 0), -1);
	/* The client reads everything: acknowledged in batches, less than
	 * one batch left owed. */
	while (c->out_len > 0) {
		n = read(peer, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(kick(r, id, POLLOUT), 0);
	}
	assert_true(s.acked > 0);
	assert_true(sent - s.acked < MCD_X_ACK_BATCH);
	/* The rest goes with the next bytes towards dom0, ahead of them. */
	assert_int_equal(write(peer, "x", 1), 1);
	assert_int_equal(kick(r, id, POLLIN), 0);
	assert_int_equal(s.acked, sent);
	close(peer);
	relay_free(r);
}

/* The relay stops reading a client with a full window out. */
static void test_credit_to_dom0(void **state)
{
	static uint8_t chunk[16384];
	struct sent s;
	struct xrelay *r = relay_new(&s);
	struct pollfd pfd[4];
	uint32_t tag[4];
	uint32_t id;
	int peer, n;

	(void)state;
	memset(chunk, 'l', sizeof(chunk));
	id = adopt(r, &s, &peer);
	assert_int_equal(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
	while (s.data < MCD_X_WINDOW) {
		(void)!write(peer, chunk, sizeof(chunk));
		assert_int_equal(kick(r, id, POLLIN), 0);
	}
	assert_int_equal(s.data, MCD_X_WINDOW);
	assert_int_equal(conn_of(r, id)->unacked, MCD_X_WINDOW);
	/* Nothing to do for it now: it is not polled. */
	n = xrelay_pollfds(r, pfd, tag, 4);
	assert_int_equal(n, 0);
	/* More acknowledged than sent. */
	assert_int_equal(from_dom0(r, MCD_MSG_X_ACK, id, NULL, 0,
				   MCD_X_WINDOW + 1), -1);
	assert_int_equal(from_dom0(r, MCD_MSG_X_ACK, id, NULL, 0, 1000), 0);
	n = xrelay_pollfds(r, pfd, tag, 4);
	assert_int_equal(n, 1);
	assert_int_equal(tag[0], id);
	assert_true(pfd[0].events & POLLIN);
	(void)!write(peer, chunk, sizeof(chunk));
	assert_int_equal(kick(r, id, POLLIN), 0);
	assert_int_equal(s.data, MCD_X_WINDOW + 1000);
	close(peer);
	relay_free(r);
}

/* ---- ids and closing ---- */

static void test_ids_and_close(void **state)
{
	struct sent s;
	struct xrelay *r = relay_new(&s);
	uint32_t id, id2;
	int peer, peer2, last;
	uint8_t b = 0;

	(void)state;
	id = adopt(r, &s, &peer);
	/* Never issued: protocol error; a close for it is harmless. */
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, 99, &b, 1, 0), -1);
	assert_int_equal(from_dom0(r, MCD_MSG_X_ACK, 99, NULL, 0, 1), -1);
	assert_int_equal(from_dom0(r, MCD_MSG_X_CLOSE, 99, NULL, 0, 0), 0);
	/* The local client leaves: X_CLOSE to dom0; what dom0 sent for
	 * that id meanwhile is ignored. */
	close(peer);
	assert_int_equal(kick(r, id, POLLIN), 0);
	assert_int_equal(s.type[s.n - 1], MCD_MSG_X_CLOSE);
	assert_null(conn_of(r, id));
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, id, &b, 1, 0), 0);
	assert_int_equal(from_dom0(r, MCD_MSG_X_CLOSE, id, NULL, 0, 0), 0);
	/* dom0 closes: the id is never reused, data after it is an error
	 * while the relay still drains, ignored once it is gone. */
	id2 = adopt(r, &s, &peer2);
	assert_int_not_equal(id2, id);
	last = s.n;
	assert_int_equal(from_dom0(r, MCD_MSG_X_CLOSE, id2, NULL, 0, 0), 0);
	assert_int_equal(s.n, last); /* no X_CLOSE echoed */
	assert_null(conn_of(r, id2));
	assert_int_equal(from_dom0(r, MCD_MSG_X_DATA, id2, &b, 1, 0), 0);
	close(peer2);
	relay_free(r);
}

static void test_max_conns(void **state)
{
	struct sent s;
	struct xrelay *r = relay_new(&s);
	int peer[MCD_MAX_X_CONNS], sv[2];
	char b;

	(void)state;
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		adopt(r, &s, &peer[i]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(xrelay_adopt(r, sv[0]), 0);
	/* Refused means closed. */
	assert_int_equal(read(sv[1], &b, 1), 0);
	close(sv[1]);
	for (int i = 0; i < MCD_MAX_X_CONNS; i++)
		close(peer[i]);
	relay_free(r);
}

/* ---- the watcher's lines ---- */

static int parse(const char *line, struct xwatch_line *l)
{
	return xwatch_parse_line(line, strlen(line), l);
}

static void test_watch_lines(void **state)
{
	struct xwatch_line l;
	char big[400];

	(void)state;
	assert_int_equal(parse("ok", &l), 0);
	assert_int_equal(l.kind, XWATCH_OK);
	assert_int_equal(parse("fail Invalid MIT-MAGIC-COOKIE-1 key", &l), 0);
	assert_int_equal(l.kind, XWATCH_FAIL);
	assert_string_equal(l.detail, "Invalid MIT-MAGIC-COOKIE-1 key");
	assert_int_equal(parse("fail ", &l), 0);
	assert_string_equal(l.detail, "");
	assert_int_equal(parse("map 0x400001", &l), 0);
	assert_int_equal(l.kind, XWATCH_MAP);
	assert_int_equal(l.nids, 1);
	assert_int_equal(l.ids[0], 0x400001);
	assert_int_equal(parse("map 0x200003 0xa00001 0xffffffff", &l), 0);
	assert_int_equal(l.nids, 3);
	assert_int_equal(l.ids[2], 0xffffffff);

	assert_int_equal(parse("", &l), -1);
	assert_int_equal(parse("ok ", &l), -1);
	assert_int_equal(parse("OK", &l), -1);
	assert_int_equal(parse("fail", &l), -1);
	assert_int_equal(parse("fail a\tb", &l), -1);
	assert_int_equal(parse("map", &l), -1);
	assert_int_equal(parse("map ", &l), -1);
	assert_int_equal(parse("map 0x", &l), -1);
	assert_int_equal(parse("map 400001", &l), -1);
	assert_int_equal(parse("map 0x1ffffffff", &l), -1);
	assert_int_equal(parse("map 0xABC", &l), -1);
	assert_int_equal(parse("map 0x1  0x2", &l), -1);
	assert_int_equal(parse("map 0x1 ", &l), -1);
	assert_int_equal(parse("hello", &l), -1);
	assert_int_equal(xwatch_parse_line("ok\0", 3, &l), -1);
	/* Too many ids, too long a detail. */
	strcpy(big, "map");
	for (int i = 0; i <= XWATCH_MAX_IDS; i++)
		strcat(big, " 0x1");
	assert_int_equal(parse(big, &l), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "fail ", 5);
	big[5 + XWATCH_DETAIL_MAX + 1] = '\0';
	assert_int_equal(parse(big, &l), -1);
	big[5 + XWATCH_DETAIL_MAX] = '\0';
	assert_int_equal(parse(big, &l), 0);
}

/* Lines arrive in pieces and several at once; garbage ends the watcher. */
static void test_watch_read(void **state)
{
	struct xwatch w;
	struct xwatch_line l;
	int p[2];

	(void)state;
	xwatch_init(&w);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	w.fd = p[0];
	assert_int_equal(xwatch_read(&w, &l), 0);
	assert_int_equal(write(p[1], "o", 1), 1);
	assert_int_equal(xwatch_read(&w, &l), 0);
	assert_int_equal(write(p[1], "k\nmap 0x5\nma", 12), 12);
	assert_int_equal(xwatch_read(&w, &l), 1);
	assert_int_equal(l.kind, XWATCH_OK);
	assert_int_equal(xwatch_read(&w, &l), 1);
	assert_int_equal(l.kind, XWATCH_MAP);
	assert_int_equal(xwatch_read(&w, &l), 0);
	assert_int_equal(write(p[1], "p 0x6\nbogus\n", 12), 12);
	assert_int_equal(xwatch_read(&w, &l), 1);
	assert_int_equal(l.ids[0], 6);
	assert_int_equal(xwatch_read(&w, &l), -1);
	/* A line that never ends is refused once it is too long. */
	xwatch_stop(&w);
	close(p[1]);
	xwatch_init(&w);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	w.fd = p[0];
	for (int i = 0; i < XWATCH_LINE_MAX + 1; i++)
		assert_int_equal(write(p[1], "m", 1), 1);
	assert_int_equal(xwatch_read(&w, &l), -1);
	xwatch_stop(&w);
	close(p[1]);
}

/* ---- the cookie file ---- */

static void test_cookie_file(void **state)
{
	const char *hex = "00ff102030405060708090a0b0c0d0e0";
	const unsigned char want[16] = { 0x00, 0xff, 0x10, 0x20, 0x30, 0x40,
		0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0 };
	char base[64], reason[256], cmd[96];
	struct xcookie c;
	struct passwd *pw;
	struct stat st;
	Xauth *a;
	FILE *f;
	int n = 0, wild = 0, local = 0;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	pw = getpwnam("nobody");
	assert_non_null(pw);
	snprintf(base, sizeof(base), "/tmp/mcd-xcookie-XXXXXX");
	assert_non_null(mkdtemp(base));
	strcat(base, "/x");
	assert_int_equal(xcookie_install(&c, base, "0123456789abcdef", hex, 7,
					 pw->pw_uid, pw->pw_gid, reason,
					 sizeof(reason)), 0);
	assert_int_equal(stat(c.dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, pw->pw_uid);
	assert_int_equal(stat(c.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, pw->pw_uid);
	f = fopen(c.path, "r");
	assert_non_null(f);
	while ((a = XauReadAuth(f))) {
		n++;
		assert_int_equal(a->name_length, 18);
		assert_memory_equal(a->name, "MIT-MAGIC-COOKIE-1", 18);
		assert_int_equal(a->data_length, 16);
		assert_memory_equal(a->data, want, 16);
		if (a->family == FamilyWild) {
			wild++;
			assert_int_equal(a->number_length, 0);
		} else if (a->family == FamilyLocal) {
			local++;
			assert_int_equal(a->number_length, 1);
			assert_memory_equal(a->number, "7", 1);
		}
		XauDisposeAuth(a);
	}
	fclose(f);
	assert_int_equal(n, 2);
	assert_int_equal(wild, 1);
	assert_int_equal(local, 1);
	/* A second install for the same session replaces a stale one. */
	assert_int_equal(xcookie_install(&c, base, "0123456789abcdef", hex, 7,
					 pw->pw_uid, pw->pw_gid, reason,
					 sizeof(reason)), 0);
	xcookie_remove(&c);
	assert_int_not_equal(stat("0123456789abcdef", &st), 0);
	snprintf(cmd, sizeof(cmd), "%s/0123456789abcdef", base);
	assert_int_not_equal(stat(cmd, &st), 0);
	/* Bad cookies are refused before anything is written. */
	assert_int_equal(xcookie_install(&c, base, "0123456789abcdef",
					 "00FF102030405060708090a0b0c0d0e0",
					 7, pw->pw_uid, pw->pw_gid, reason,
					 sizeof(reason)), -1);
	assert_int_equal(xcookie_install(&c, base, "0123456789abcdef", "abc",
					 7, pw->pw_uid, pw->pw_gid, reason,
					 sizeof(reason)), -1);
	base[strlen(base) - 2] = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_parsing),
		cmocka_unit_test(test_ownership_rule),
		cmocka_unit_test(test_app_windows),
		cmocka_unit_test(test_credit_from_dom0),
		cmocka_unit_test(test_credit_to_dom0),
		cmocka_unit_test(test_ids_and_close),
		cmocka_unit_test(test_max_conns),
		cmocka_unit_test(test_watch_lines),
		cmocka_unit_test(test_watch_read),
		cmocka_unit_test(test_cookie_file),
	};

	return cmocka_run_group_tests_name("agent X side", tests, NULL, NULL);
}
