/*
 * mcd_tls.h - TLS for the site protocol, and frames over it with deadlines.
 *
 * Every leg of the site (thin client -> Auth/App server, thin client ->
 * pool master) is TLS 1.2 or later with certificates from the site CA; a
 * peer's certificate must chain to that CA and name the peer (a pool's
 * certificate names the pool, the server's its host name; IP addresses
 * are matched as IP SANs).  No client certificates: users prove who they
 * are with their password, the launch with its ticket.
 *
 * All I/O is on non-blocking sockets with a deadline, so a slow or silent
 * peer costs its own connection at most that long and never anyone else.
 */
#ifndef MCD_TLS_H
#define MCD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mcd_site.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

#define MCD_TLS_HANDSHAKE_MS 10000 /* default for a handshake */
#define MCD_TLS_IO_MS 30000        /* default for one frame */

/* Server context: certificate chain and key (PEM).  NULL with a reason. */
SSL_CTX *mcd_tls_server_ctx(const char *cert, const char *key,
			    char *err, size_t errlen);
/* Client context trusting only the CA file ca.  NULL with a reason. */
SSL_CTX *mcd_tls_client_ctx(const char *ca, char *err, size_t errlen);

/*
 * Connect to address "host:port" within timeout_ms and complete the
 * handshake, checking that the certificate names `name` (a DNS name or an
 * IP address; NULL: the host part of address).  NULL with a reason (which
 * says "timed out" when the deadline passed).
 */
SSL *mcd_tls_connect(SSL_CTX *ctx, const char *address, const char *name,
		     int timeout_ms, char *err, size_t errlen);
/* Server side: handshake on an accepted socket (made non-blocking here).
 * NULL with a reason. */
SSL *mcd_tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, char *err,
		    size_t errlen);
/* Shut down (without waiting for the peer), free, close the socket. */
void mcd_tls_close(SSL *ssl);

/* Send one finished frame within timeout_ms.  0, or -1 with a reason. */
int mcd_tls_send(SSL *ssl, const struct mcd_site_out *o, int timeout_ms,
		 char *err, size_t errlen);
/* Receive and decode one frame from direction dir within timeout_ms
 * (timeout_ms < 0: no deadline).  0, or -1 with a reason ("connection
 * closed" at a clean end of stream). */
int mcd_tls_recv(SSL *ssl, unsigned dir, struct mcd_site_msg *m,
		 int timeout_ms, char *err, size_t errlen);

/*
 * HELLO: the client's side (send VMIN/VMAX, read the server's VERSION or
 * ERROR) and the server's (read the client's HELLO, answer).  The agreed
 * version, or -1 with a reason.
 */
int mcd_tls_hello_client(SSL *ssl, int timeout_ms, char *err, size_t errlen);
int mcd_tls_hello_server(SSL *ssl, unsigned dir_from_client, int timeout_ms,
			 char *err, size_t errlen);

/* Send ERROR (code, one line).  0, or -1. */
int mcd_tls_send_error(SSL *ssl, uint32_t code, int timeout_ms,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The numeric address of the socket's peer ("10.0.2.2", "::1").  0, or
 * -1. */
int mcd_tls_peer_addr(int fd, char *out, size_t outlen);

#endif /* MCD_TLS_H */
