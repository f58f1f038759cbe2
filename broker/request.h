/*
 * request.h - one client connection of the Auth/App server: HELLO, one
 * request (LOGIN, APPS, TICKET_REQ, NOTE, SESSIONS), its answers.
 *
 * Runs in the per-connection child after the TLS handshake.  Everything
 * the client sent is untrusted: the decoder (mcd_site_decode) has checked
 * the frame's shape, this module checks what it means (token, level, app,
 * pool).  A refusal is one ERROR frame with its code and a one-line text.
 * One log line per request: peer, user, request, result; never a
 * password or a token.
 */
#ifndef BROKER_REQUEST_H
#define BROKER_REQUEST_H

#include "mcd_tls.h"

typedef struct evp_pkey_st EVP_PKEY;

struct request_ctx {
	const char *db_path;   /* opened here: a store never crosses fork */
	EVP_PKEY *ticket_key;  /* Ed25519 private key for tickets */
};

/* Serve the connection's one request.  0 when it was answered (a refusal
 * included), -1 when the connection failed before an answer. */
int request_serve(SSL *ssl, const char *peer, const struct request_ctx *ctx);

#endif /* BROKER_REQUEST_H */
