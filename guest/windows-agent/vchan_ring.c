/*
 * vchan_ring.c - the server side of libxenvchan's ring protocol (see
 * vchan_ring.h).  No Windows API: tests/windows/test_wincore.c runs it
 * against libxenvchan's own client code.
 */
#include "vchan_ring.h"

#include <string.h>

void vring_server_init(struct vring *r, unsigned order)
{
	volatile struct vchan_page *p = r->page;

	r->size = 1u << order;
	p->left.cons = p->left.prod = 0;
	p->right.cons = p->right.prod = 0;
	p->left_order = (uint16_t)order;
	p->right_order = (uint16_t)order;
	p->cli_live = 2;
	p->srv_live = 1;
	p->cli_notify = VCHAN_RING_NOTIFY_WRITE;
	p->srv_notify = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int vring_client_live(const struct vring *r)
{
	return __atomic_load_n(&r->page->cli_live, __ATOMIC_ACQUIRE);
}

/* Ask the client to notify us on bit. */
static void request_notify(struct vring *r, uint8_t bit)
{
	__atomic_fetch_or(&r->page->cli_notify, bit, __ATOMIC_SEQ_CST);
}

/* Notify the client if it asked for bit, clearing its request. */
static int send_notify(struct vring *r, uint8_t bit)
{
	uint8_t prev;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	prev = __atomic_fetch_and(&r->page->srv_notify, (uint8_t)~bit,
				  __ATOMIC_SEQ_CST);
	return (prev & bit) ? r->notify(r->ctx) : 0;
}

static uint32_t data_ready(struct vring *r)
{
	uint32_t ready = __atomic_load_n(&r->page->left.prod, __ATOMIC_ACQUIRE) -
			 r->page->left.cons;

	return ready > r->size ? 0 : ready;
}

static uint32_t space_left(struct vring *r)
{
	uint32_t used = r->page->right.prod -
			__atomic_load_n(&r->page->right.cons, __ATOMIC_ACQUIRE);

	return used > r->size ? 0 : r->size - used;
}

int vring_recv(struct vring *r, void *buf, size_t n)
{
	uint32_t ready = data_ready(r), cons, idx, first;

	if (ready < n) {
		/* We will want more: ask to be told when the client writes,
		 * then look again (it may have written in between). */
		request_notify(r, VCHAN_RING_NOTIFY_WRITE);
		ready = data_ready(r);
	}
	if (ready == 0)
		return vring_client_live(r) == 0 ? -1 : 0;
	if (n > ready)
		n = ready;
	cons = r->page->left.cons;
	idx = cons & (r->size - 1);
	first = r->size - idx;
	if (first > n)
		first = (uint32_t)n;
	memcpy(buf, (const uint8_t *)r->rd + idx, first);
	memcpy((uint8_t *)buf + first, (const uint8_t *)r->rd, n - first);
	__atomic_store_n(&r->page->left.cons, cons + (uint32_t)n,
			 __ATOMIC_RELEASE);
	if (send_notify(r, VCHAN_RING_NOTIFY_READ) < 0)
		return -1;
	return (int)n;
}

int vring_send(struct vring *r, const void *buf, size_t n)
{
	uint32_t space, prod, idx, first;

	if (vring_client_live(r) != 1)
		return -1;
	space = space_left(r);
	if (space < n) {
		request_notify(r, VCHAN_RING_NOTIFY_READ);
		space = space_left(r);
	}
	if (n > space)
		n = space;
	if (n == 0)
		return 0;
	prod = r->page->right.prod;
	idx = prod & (r->size - 1);
	first = r->size - idx;
	if (first > n)
		first = (uint32_t)n;
	memcpy((uint8_t *)r->wr + idx, buf, first);
	memcpy((uint8_t *)r->wr, (const uint8_t *)buf + first, n - first);
	__atomic_store_n(&r->page->right.prod, prod + (uint32_t)n,
			 __ATOMIC_RELEASE);
	if (send_notify(r, VCHAN_RING_NOTIFY_WRITE) < 0)
		return -1;
	return (int)n;
}
