/*
 * vchan_ring.h - the shared page of a vchan, as libxenvchan lays it out
 * (Xen's public io/libxenvchan.h), for the Windows agent's own server
 * (wchan.c).  Plain C: tests/windows/test_wincore.c checks it against
 * Xen's header field by field.
 *
 * Two producer/consumer index pairs, the ring orders, liveness and
 * notification bytes, then the grant references of the data pages (left
 * ring first).  "left" is written by the client (dom0) and read by the
 * server (the agent), "right" the other way round.
 */
#ifndef MCD_WIN_VCHAN_RING_H
#define MCD_WIN_VCHAN_RING_H

#include <stddef.h>
#include <stdint.h>

struct vchan_ring_idx {
	uint32_t cons;
	uint32_t prod;
};

struct vchan_page {
	struct vchan_ring_idx left;
	struct vchan_ring_idx right;
	uint16_t left_order;
	uint16_t right_order;
	uint8_t cli_live;   /* 0 gone, 1 connected, 2 not yet connected */
	uint8_t srv_live;
	uint8_t cli_notify; /* bits the server asks the client to notify on */
	uint8_t srv_notify; /* bits the client asks the server to notify on */
	uint32_t grants[];
};

/* Notification bits. */
#define VCHAN_RING_NOTIFY_WRITE 1 /* tell me when you have written */
#define VCHAN_RING_NOTIFY_READ 2  /* tell me when you have read */

_Static_assert(offsetof(struct vchan_page, left_order) == 16, "vchan layout");
_Static_assert(offsetof(struct vchan_page, cli_live) == 20, "vchan layout");
_Static_assert(offsetof(struct vchan_page, srv_live) == 21, "vchan layout");
_Static_assert(offsetof(struct vchan_page, grants) == 24, "vchan layout");

#endif /* MCD_WIN_VCHAN_RING_H */
