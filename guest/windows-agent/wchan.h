/*
 * wchan.h - the Windows agent's byte channel to dom0.
 *
 * The same contract as xenstore-schema/mcd_chan.h, with a Windows event
 * instead of a file descriptor to wait on:
 *   vchan  the real one: a libxenvchan-compatible server ring in the
 *          guest's own XenStore area, built on the XENIFACE device
 *          (grant tables, event channels, XenStore; xeniface.h).  dom0
 *          connects with the unchanged libxenvchan_client_init().
 *   tcp    a stand-in on 127.0.0.1:PORT (never another address), so the
 *          service can be driven by the dom0-side test code under Wine.
 * Callers wait for wchan_event(), call wchan_ready() when it fires, then
 * drain wchan_recv() until it returns 0.  One client at a time; when it
 * goes away the channel is CLOSED and the caller makes a new server.
 */
#ifndef MCD_WIN_CHAN_H
#define MCD_WIN_CHAN_H

#include <windows.h>

#include <stddef.h>

struct wchan;
struct xeniface;

enum wchan_state {
	WCHAN_WAITING = 1,
	WCHAN_OPEN = 2,
	WCHAN_CLOSED = 3,
};

/* Ring bytes in each direction, as mcd_chan's MCD_CHAN_RING_BYTES. */
#define WCHAN_RING_ORDER 16

struct wchan *wchan_tcp_server(int port, char *err, size_t errlen);
/* Offer a vchan at xs_path (".../data/mcd/vchan"), readable by domain 0
 * only; own_domid owns the nodes. */
struct wchan *wchan_vchan_server(struct xeniface *xi, int own_domid,
				 const char *xs_path, char *err,
				 size_t errlen);

HANDLE wchan_event(const struct wchan *c);
enum wchan_state wchan_ready(struct wchan *c);
enum wchan_state wchan_state(struct wchan *c);
/* Non-blocking: bytes read, 0 if none are available, -1 if closed. */
int wchan_recv(struct wchan *c, void *buf, size_t n);
/* All n bytes within timeout_ms; 0, or -1 (closed or too slow). */
int wchan_send(struct wchan *c, const void *buf, size_t n, int timeout_ms);
void wchan_close(struct wchan *c);

/* Winsock start-up, once per process. */
int wchan_net_init(void);
/* Close the TCP listener (it lives across connections; see wchan.c). */
void wchan_net_cleanup(void);

#endif /* MCD_WIN_CHAN_H */
