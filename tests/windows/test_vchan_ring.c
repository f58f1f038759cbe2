/*
 * test_vchan_ring.c - the Windows agent's vchan server ring
 * (guest/windows-agent/vchan_ring.c) against the real libxenvchan client
 * code dom0 uses (libxenvchan_write/read/is_open), in one process: the
 * "shared" pages are plain memory, set up the way libxenvchan_client_init()
 * maps them, and the event channel is this file's xenevtchn_notify(),
 * which the dynamic linker gives libxenvchan instead of the real one.  So
 * the data path, the index arithmetic and the notification rules meet the
 * real peer without Xen; granting, mapping and the event channel itself
 * are left to a real Windows guest (see the agent's README).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxenvchan.h>
#include <xenevtchn.h>

#include "../../guest/windows-agent/vchan_ring.h"

#define ORDER 16
#define SIZE (1u << ORDER)
#define PORT 7

/* Notifications each side sent, counted instead of sent. */
static int client_notified; /* by libxenvchan (the client) */
static int server_notified; /* by the agent's ring */

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port);
int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	assert_int_equal(port, PORT);
	client_notified++;
	return 0;
}

static int server_notify(void *ctx)
{
	(void)ctx;
	server_notified++;
	return 0;
}

struct pair {
	struct vchan_page *page;
	uint8_t *left, *right;
	struct vring srv;
	struct libxenvchan cli;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->page = aligned_alloc(4096, 4096);
	p->left = aligned_alloc(4096, SIZE);
	p->right = aligned_alloc(4096, SIZE);
	if (!p->page || !p->left || !p->right)
		return -1;
	memset(p->page, 0, 4096);
	p->srv.page = p->page;
	p->srv.rd = p->left;
	p->srv.wr = p->right;
	p->srv.notify = server_notify;
	vring_server_init(&p->srv, ORDER);

	/* What libxenvchan_client_init() does after mapping the pages. */
	p->cli.ring = (struct vchan_interface *)p->page;
	p->cli.event = (xenevtchn_handle *)p; /* never dereferenced */
	p->cli.event_port = PORT;
	p->cli.is_server = 0;
	p->cli.blocking = 0;
	p->cli.write.order = p->page->left_order;
	p->cli.read.order = p->page->right_order;
	p->cli.write.shr = &p->cli.ring->left;
	p->cli.read.shr = &p->cli.ring->right;
	p->cli.write.buffer = p->left;
	p->cli.read.buffer = p->right;
	p->page->cli_live = 1;
	p->page->srv_notify = VCHAN_RING_NOTIFY_WRITE;
	client_notified = server_notified = 0;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	free(p->page);
	free(p->left);
	free(p->right);
	free(p);
	return 0;
}

static void test_init_matches_libxenvchan(void **state)
{
	struct pair *p = *state;

	assert_int_equal(p->page->left_order, ORDER);
	assert_int_equal(p->page->right_order, ORDER);
	assert_int_equal(p->page->srv_live, 1);
	/* The client sees the server open. */
	assert_int_equal(libxenvchan_is_open(&p->cli), 1);
	assert_int_equal(vring_client_live(&p->srv), 1);
}

static void test_both_ways_with_notifications(void **state)
{
	struct pair *p = *state;
	char buf[64];

	/* The server asked to hear of writes: one notification. */
	assert_int_equal(libxenvchan_write(&p->cli, "hello", 5), 5);
	assert_int_equal(client_notified, 1);
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	/* Nothing more: the server asks again, and is told again. */
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), 0);
	assert_int_equal(libxenvchan_write(&p->cli, "x", 1), 1);
	assert_int_equal(client_notified, 2);
	assert_int_equal(vring_recv(&p->srv, buf, 1), 1);
	/* The client asked to hear of writes (at connect): told once. */
	assert_int_equal(vring_send(&p->srv, "world", 5), 5);
	assert_int_equal(server_notified, 1);
	assert_int_equal(libxenvchan_read(&p->cli, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "world", 5);
	/* The client found no more and asked again. */
	assert_int_equal(libxenvchan_read(&p->cli, buf, sizeof(buf)), 0);
	assert_int_equal(vring_send(&p->srv, "!", 1), 1);
	assert_int_equal(server_notified, 2);
	assert_int_equal(libxenvchan_read(&p->cli, buf, 1), 1);
	assert_int_equal(buf[0], '!');
}

/* Many frames of odd sizes each way, wrapping the rings many times. */
static void test_stream_wraps(void **state)
{
	struct pair *p = *state;
	static uint8_t out[3 * SIZE], in[3 * SIZE];
	size_t sent = 0, got = 0;
	uint32_t x = 1;

	for (size_t i = 0; i < sizeof(out); i++) {
		x = x * 1103515245u + 12345u;
		out[i] = (uint8_t)(x >> 16);
	}
	/* client -> server */
	while (got < sizeof(out)) {
		size_t chunk = 1 + (x = x * 1103515245u + 12345u) % 9000;
		int w, r;

		if (chunk > sizeof(out) - sent)
			chunk = sizeof(out) - sent;
		w = chunk ? libxenvchan_write(&p->cli, out + sent, chunk) : 0;
		assert_true(w >= 0);
		sent += (size_t)w;
		r = vring_recv(&p->srv, in + got, 1 + (x >> 8) % 7000);
		assert_true(r >= 0);
		got += (size_t)r;
	}
	assert_memory_equal(in, out, sizeof(out));
	/* server -> client */
	sent = got = 0;
	memset(in, 0, sizeof(in));
	while (got < sizeof(out)) {
		size_t chunk = 1 + (x = x * 1103515245u + 12345u) % 9000;
		int w, r;

		if (chunk > sizeof(out) - sent)
			chunk = sizeof(out) - sent;
		w = chunk ? vring_send(&p->srv, out + sent, chunk) : 0;
		assert_true(w >= 0);
		sent += (size_t)w;
		r = libxenvchan_read(&p->cli, in + got, 1 + (x >> 8) % 7000);
		assert_true(r >= 0);
		got += (size_t)r;
	}
	assert_memory_equal(in, out, sizeof(out));
}

static void test_full_ring(void **state)
{
	struct pair *p = *state;
	static uint8_t big[SIZE + 100];
	int before;

	memset(big, 'z', sizeof(big));
	/* The ring takes exactly SIZE bytes. */
	assert_int_equal(vring_send(&p->srv, big, sizeof(big)), SIZE);
	assert_int_equal(vring_send(&p->srv, big, 1), 0);
	/* Full: the server asked to hear of reads; the client's read tells. */
	before = client_notified;
	assert_int_equal(libxenvchan_read(&p->cli, big, 100), 100);
	assert_int_equal(client_notified, before + 1);
	assert_int_equal(vring_send(&p->srv, big, 100), 100);
	assert_int_equal(vring_send(&p->srv, big, 1), 0);
}

static void test_client_gone(void **state)
{
	struct pair *p = *state;
	char buf[8];

	assert_int_equal(libxenvchan_write(&p->cli, "ab", 2), 2);
	/* libxenvchan_close() clears cli_live (and notifies). */
	p->page->cli_live = 0;
	/* What was written before is still read, then the end. */
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), 2);
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), -1);
	assert_int_equal(vring_send(&p->srv, "x", 1), -1);
}

static void test_broken_indexes(void **state)
{
	struct pair *p = *state;
	char buf[8];

	/* A client that claims more than the ring holds is read as empty,
	 * never past the ring. */
	p->page->left.prod = p->page->left.cons + SIZE + 1;
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), 0);
	/* One that consumed more than was written is read as a full ring. */
	p->page->right.cons = p->page->right.prod + 5;
	assert_int_equal(vring_send(&p->srv, "x", 1), 0);
}

static void test_waiting_for_client(void **state)
{
	struct pair *p = *state;
	char buf[8];

	p->page->cli_live = 2;
	assert_int_equal(vring_client_live(&p->srv), 2);
	assert_int_equal(vring_recv(&p->srv, buf, sizeof(buf)), 0);
	assert_int_equal(vring_send(&p->srv, "x", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_matches_libxenvchan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_ways_with_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_for_client, setup, teardown),
	};

	return cmocka_run_group_tests_name("Windows agent vchan ring vs "
					   "libxenvchan's client", tests, NULL,
					   NULL);
}
