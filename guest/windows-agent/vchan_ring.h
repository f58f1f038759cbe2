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

/*
 * The server's side of the data path, libxenvchan's protocol: the reader
 * asks for a "written" notice only when it found less than it wanted, the
 * writer asks for a "read" notice only when the ring was full, and each
 * side notifies only when the other asked (clearing the request).  An
 * index the peer broke reads as an empty or full ring, never as a read
 * or write outside the ring.
 */
struct vring {
	volatile struct vchan_page *page;
	volatile uint8_t *rd;   /* left: client -> server */
	volatile uint8_t *wr;   /* right: server -> client */
	uint32_t size;          /* bytes in each ring, a power of two */
	int (*notify)(void *ctx); /* signal the event channel; 0 or -1 */
	void *ctx;
};

/* Fill in a zeroed page for a server whose rings have 2^order bytes each
 * (order 12 or more: the grants come after, filled in by the caller):
 * client not yet connected, server live, "tell me when you write". */
void vring_server_init(struct vring *r, unsigned order);
/* The client's liveness byte: 0 gone, 1 connected, 2 not yet. */
int vring_client_live(const struct vring *r);
/* Up to n bytes from the client: the count, 0 if none are there, or -1 if
 * the client is gone and nothing is left (or notifying failed). */
int vring_recv(struct vring *r, void *buf, size_t n);
/* Up to n bytes to the client: the count (0 if the ring is full), or -1
 * if the client is not connected (or notifying failed). */
int vring_send(struct vring *r, const void *buf, size_t n);

#endif /* MCD_WIN_VCHAN_RING_H */
