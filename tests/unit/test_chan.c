/*
 * test_chan.c - the channel's send queue (mcd_chan), on its Unix-socket
 * backend: a send never waits for the peer, bytes keep their order, the
 * queue pauses producers above its low mark and refuses to grow past its
 * bound, and mcd_chan_ready() moves it on when the peer reads.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcd_chan.h"

struct pair {
	char dir[64];
	char path[96];
	struct mcd_chan *srv;  /* the side under test */
	struct mcd_chan *cli;  /* the peer, which reads when told */
};

static void pair_open(struct pair *p)
{
	char err[160];

	snprintf(p->dir, sizeof(p->dir), "/tmp/mcd-test-chan-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/sock", p->dir);
	p->srv = mcd_chan_socket_server(p->path, err, sizeof(err));
	assert_non_null(p->srv);
	p->cli = mcd_chan_socket_client(p->path, err, sizeof(err));
	assert_non_null(p->cli);
	/* Accept the client. */
	for (int i = 0; i < 100 && mcd_chan_state(p->srv) != MCD_CHAN_OPEN; i++) {
		struct pollfd pfd = { mcd_chan_fd(p->srv), POLLIN, 0 };

		poll(&pfd, 1, 100);
		mcd_chan_ready(p->srv);
	}
	assert_int_equal(mcd_chan_state(p->srv), MCD_CHAN_OPEN);
}

static void pair_close(struct pair *p)
{
	mcd_chan_close(p->srv);
	mcd_chan_close(p->cli);
	unlink(p->path);
	rmdir(p->dir);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Byte i of the test stream. */
static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void fill(uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(off + i);
}

/* A peer that never reads: sends return at once, the excess is queued,
 * producers are told to pause, and the bound is enforced. */
static void test_send_never_waits(void **state)
{
	struct pair p;
	uint8_t buf[16384];
	size_t sent = 0;
	long t0;
	int r = 0;

	(void)state;
	pair_open(&p);
	assert_int_equal(mcd_chan_events(p.srv), POLLIN);
	t0 = now_ms();
	while (sent < 4 * (size_t)MCD_CHAN_QUEUE_MAX) {
		fill(buf, sent, sizeof(buf));
		r = mcd_chan_send(p.srv, buf, sizeof(buf));
		if (r < 0)
			break;
		sent += sizeof(buf);
	}
	/* Nothing waited: even on a slow machine, far below a second. */
	assert_true(now_ms() - t0 < 1000);
	/* It stopped because the queue reached its bound, not before. */
	assert_int_equal(r, -1);
	assert_true(mcd_chan_pending(p.srv) > MCD_CHAN_QUEUE_MAX - sizeof(buf));
	assert_true(mcd_chan_pending(p.srv) <= MCD_CHAN_QUEUE_MAX);
	assert_false(mcd_chan_has_room(p.srv));
	/* A socket with a queue asks poll for room. */
	assert_int_equal(mcd_chan_events(p.srv), POLLIN | POLLOUT);
	pair_close(&p);
}

/* The peer reads in its own time: ready() on POLLOUT moves the queue on,
 * every byte arrives once and in order, and room comes back. */
static void test_queue_drains_in_order(void **state)
{
	struct pair p;
	size_t total = 1024 * 1024 + 12345, sent = 0, got = 0;
	uint8_t *in = malloc(65536);
	uint8_t out[5000];
	long deadline = now_ms() + 20000;

	(void)state;
	assert_non_null(in);
	pair_open(&p);
	while (got < total) {
		struct pollfd pfd = { mcd_chan_fd(p.srv), mcd_chan_events(p.srv), 0 };
		ssize_t n;

		assert_true(now_ms() < deadline);
		/* A producer that respects has_room(). */
		while (sent < total && mcd_chan_has_room(p.srv)) {
			size_t k = total - sent < sizeof(out) ? total - sent
							      : sizeof(out);

			fill(out, sent, k);
			assert_int_equal(mcd_chan_send(p.srv, out, k), 0);
			sent += k;
		}
		assert_true(mcd_chan_pending(p.srv) <
			    MCD_CHAN_QUEUE_LOW + sizeof(out));
		/* The peer reads a little at a time. */
		n = mcd_chan_recv(p.cli, in, 3000);
		assert_true(n >= 0);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(in[i], pat(got + (size_t)i));
		got += (size_t)n;
		if (poll(&pfd, 1, 10) > 0)
			assert_int_equal(mcd_chan_ready(p.srv), MCD_CHAN_OPEN);
	}
	assert_int_equal(sent, total);
	assert_int_equal(mcd_chan_pending(p.srv), 0);
	assert_true(mcd_chan_has_room(p.srv));
	assert_int_equal(mcd_chan_events(p.srv), POLLIN);
	free(in);
	pair_close(&p);
}

/* Bytes queued behind a full socket are never overtaken by a later
 * send that would fit. */
static void test_no_overtaking(void **state)
{
	struct pair p;
	uint8_t big[65536], small[16] = { 0 }, in[65536];
	size_t sent = 0, got = 0;
	long deadline = now_ms() + 20000;

	(void)state;
	pair_open(&p);
	while (mcd_chan_pending(p.srv) == 0) {
		fill(big, sent, sizeof(big));
		assert_int_equal(mcd_chan_send(p.srv, big, sizeof(big)), 0);
		sent += sizeof(big);
	}
	/* The peer makes room; the next small send must queue behind. */
	while (got < 65536) {
		ssize_t n = mcd_chan_recv(p.cli, in, sizeof(in));

		assert_true(n >= 0);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(in[i], pat(got + (size_t)i));
		got += (size_t)n;
	}
	fill(small, sent, sizeof(small));
	assert_int_equal(mcd_chan_send(p.srv, small, sizeof(small)), 0);
	sent += sizeof(small);
	while (got < sent) {
		ssize_t n = mcd_chan_recv(p.cli, in, sizeof(in));

		assert_true(now_ms() < deadline);
		assert_true(n >= 0);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(in[i], pat(got + (size_t)i));
		got += (size_t)n;
		mcd_chan_ready(p.srv);
	}
	pair_close(&p);
}

/* A closed peer fails the send instead of queueing for ever; sync()
 * gives up at its deadline when nobody reads. */
static void test_closed_and_sync(void **state)
{
	struct pair p;
	uint8_t buf[65536] = { 0 };
	long t0;

	(void)state;
	pair_open(&p);
	while (mcd_chan_pending(p.srv) == 0)
		assert_int_equal(mcd_chan_send(p.srv, buf, sizeof(buf)), 0);
	t0 = now_ms();
	assert_int_equal(mcd_chan_sync(p.srv, 300), -1);
	assert_true(now_ms() - t0 >= 250);
	mcd_chan_close(p.cli);
	p.cli = NULL;
	for (int i = 0; i < 50 && mcd_chan_send(p.srv, buf, 1) == 0; i++) {
		struct pollfd pfd = { mcd_chan_fd(p.srv), POLLIN | POLLOUT, 0 };

		poll(&pfd, 1, 20);
		mcd_chan_ready(p.srv);
	}
	assert_int_equal(mcd_chan_send(p.srv, buf, 1), -1);
	mcd_chan_close(p.srv);
	unlink(p.path);
	rmdir(p.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_never_waits),
		cmocka_unit_test(test_queue_drains_in_order),
		cmocka_unit_test(test_no_overtaking),
		cmocka_unit_test(test_closed_and_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
