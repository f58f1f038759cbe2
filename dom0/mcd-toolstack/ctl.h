/*
 * ctl.h - the local control protocol between the mcd-toolstack CLI and the
 * dom0 service (`mcd-toolstack daemon`).
 *
 * A Unix stream socket (default /run/mcd/control.sock, directory mode 0700)
 * carries frames of {u32 type, u32 len} (host order: both ends are on this
 * machine) followed by NUL-terminated strings.  The service checks the
 * caller's credentials with SO_PEERCRED and serves only root.  The CLI sends
 * one request and reads replies until DONE or ERROR.
 */
#ifndef MCD_CTL_H
#define MCD_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_SOCKET_DEFAULT "/run/mcd/control.sock"
#define CTL_MAX_PAYLOAD 32768 /* a LAUNCH: template, user, display, argv */
#define CTL_MAX_STRS 80       /* MCD_MAX_ARGS plus the fixed fields */
#define LAUNCH_WAIT_MAX 3600  /* launch --wait: at most an hour */

enum ctl_type {
	/* CLI -> service */
	CTL_LAUNCH = 1,   /* template, user, display, wait seconds, argv... */
	CTL_END = 2,      /* session id */
	/* service -> CLI */
	CTL_PROGRESS = 0x100, /* one line of status for the user */
	CTL_DONE = 0x101,     /* launch: sid, domid, pid; end: sid */
	CTL_ERROR = 0x102,    /* one line: what went wrong */
};

struct ctl_msg {
	uint32_t type;
	unsigned nstr;
	const char *str[CTL_MAX_STRS + 1];
	char buf[CTL_MAX_PAYLOAD];
};

/* Incremental reader for a non-blocking socket. */
struct ctl_rx {
	size_t have;
	uint8_t hdr[8];
	uint32_t type, len;
	char buf[CTL_MAX_PAYLOAD];
};

/*
 * The service's replies to one client, queued and written as the socket
 * takes them (on POLLOUT), so a client that stops reading never stalls
 * the service.  Bounded: a client whose queue would pass CTL_TXQ_MAX is
 * dropped by the caller.
 */
#define CTL_TXQ_MAX 65536

struct ctl_txq {
	char *buf;            /* CTL_TXQ_MAX bytes, allocated on first use */
	size_t off, len;      /* bytes [off, len) wait to be written */
};

/* Queue one frame.  0, or -1 if it does not fit (or out of memory). */
int ctl_txq_put(struct ctl_txq *q, uint32_t type, const char *const *strs,
		unsigned n);
/* Queue an already encoded frame of another protocol as it is (the face's
 * site frames, face.h).  0, or -1 if it does not fit. */
int ctl_txq_put_raw(struct ctl_txq *q, const void *frame, size_t len);
/* Write what the socket takes now, never waiting.  1 when the queue is
 * empty, 0 when bytes remain (poll for POLLOUT), -1 if the peer is gone. */
int ctl_txq_flush(int fd, struct ctl_txq *q);
/* Bytes waiting. */
size_t ctl_txq_pending(const struct ctl_txq *q);
/* Wipe and free the queue's buffer. */
void ctl_txq_free(struct ctl_txq *q);

/* Encode and send a frame of strings.  Returns 0 or -1 (also when a
 * non-blocking socket is full: nobody waits for a reader). */
int ctl_send(int fd, uint32_t type, const char *const *strs, unsigned n);
/* Send a one-string frame with printf formatting. */
int ctl_sendf(int fd, uint32_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Blocking receive of one frame. Returns 0, or -1 on EOF/error/bad frame. */
int ctl_recv(int fd, struct ctl_msg *m);
/* Non-blocking: read what is there.  Returns 1 with m filled, 0 if more
 * bytes are needed, -1 on EOF or a malformed frame. */
int ctl_rx_read(int fd, struct ctl_rx *rx, struct ctl_msg *m);

/* Service side: create the listening socket (removing a stale one). */
int ctl_listen(const char *path);
/* Service side: 1 if the connected peer is root, else 0. */
int ctl_peer_is_root(int fd);
/* CLI side: connect; -1 with errno when nobody listens. */
int ctl_connect(const char *path);

#endif /* MCD_CTL_H */
