/*
 * talk.h - mcd-client's exchanges with the Auth/App server (broker) and
 * the pool masters: one request per TLS connection, as mcd_site.h says.
 *
 * Each call returns an exit code of mcd-client (enum talk_exit) and, on
 * failure, one line in err; a server's ERROR or FAILED maps to the code
 * the user sees (AUTH 5, DENIED and TICKET 4, NO_ROOM 3, the rest 1).
 */
#ifndef CLIENT_TALK_H
#define CLIENT_TALK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "mcd_site.h"
#include "pick.h"
#include "state.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

enum talk_exit {
	TALK_OK = 0,
	TALK_FAILED = 1,
	TALK_USAGE = 2,
	TALK_NO_ROOM = 3,
	TALK_DENIED = 4,
	TALK_AUTH = 5,
};

#define TALK_APPS_MAX 256
#define TALK_POOLS_MAX 256

struct talk_app {
	char app[MCD_SITE_APP_MAX + 1];
	char name[MCD_SITE_NAME_MAX + 1];
	char os[MCD_SITE_OS_MAX + 1];
	uint32_t level;
	unsigned npools;
	char pools[MCD_SITE_POOLS_MAX][MCD_SITE_POOL_MAX + 1];
};

struct talk_pool {
	char pool[MCD_SITE_POOL_MAX + 1];
	char address[MCD_SITE_ADDRESS_MAX + 1];
	uint32_t level;
};

struct talk_apps {
	unsigned napps, npools;
	struct talk_app apps[TALK_APPS_MAX];
	struct talk_pool pools[TALK_POOLS_MAX];
};

struct talk_ticket {
	uint8_t ticket[MCD_SITE_TICKET_MAX];
	size_t ticket_len;
	uint8_t sig[MCD_SITE_SIG_LEN];
	char pool[MCD_SITE_POOL_MAX + 1];
	char address[MCD_SITE_ADDRESS_MAX + 1];
	uint32_t expires;
};

/* Where the broker is. */
struct talk_broker {
	SSL_CTX *ctx;
	const char *address;  /* host:port */
	const char *name;     /* its certificate's name */
};

/* The exit code for an ERROR or FAILED code. */
int talk_exit_for(uint32_t code);

/* Connect within timeout_ms, check the certificate names `name`, say
 * HELLO.  The connection, or NULL with a reason. */
SSL *talk_open(SSL_CTX *ctx, const char *address, const char *name,
	       int timeout_ms, char *err, size_t errlen);

/* ---- the broker ---- */
int talk_login(const struct talk_broker *b, const char *user,
	       const char *password, struct state_token *out, char *err,
	       size_t errlen);
int talk_apps(const struct talk_broker *b, const char *token,
	      struct talk_apps *out, char *err, size_t errlen);
int talk_ticket_req(const struct talk_broker *b, const char *token,
		    const char *app, const char *pool, const char *display,
		    struct talk_ticket *out, char *err, size_t errlen);
/* state: "ready" or "ended". */
int talk_note(const struct talk_broker *b, const char *token,
	      const char *sid, const char *pool, const char *app,
	      const char *state, char *err, size_t errlen);

/* The pool named in an APPS answer (NULL when it was not listed). */
const struct talk_pool *talk_find_pool(const struct talk_apps *a,
				       const char *pool);

/* ---- a pool master ---- */

/* LOAD to one pool, everything done by the deadline (CLOCK_MONOTONIC,
 * milliseconds).  Fills out (answered or not, with the reason in
 * out->text); returns 1 when the deadline passed first. */
int talk_load(SSL_CTX *ctx, const char *pool, const char *address,
	      int64_t deadline_ms, struct pick_load *out);

/* Send LAUNCH on a new connection; the caller reads its replies with
 * talk_next().  NULL with a reason. */
SSL *talk_launch(SSL_CTX *ctx, const char *pool, const char *address,
		 const struct talk_ticket *t, const char *cookie_hex,
		 uint32_t wait, char *err, size_t errlen);

/* The next frame from a pool, waiting as long as it takes unless *stop
 * becomes set (then 1).  0 with the frame in m, -1 with a reason. */
int talk_next(SSL *ssl, volatile sig_atomic_t *stop, struct mcd_site_msg *m,
	      char *err, size_t errlen);

int talk_end(SSL_CTX *ctx, const struct state_session *s, char *err,
	     size_t errlen);
/* STATUS: the session's state into state (MCD_SITE_STATE_MAX + 1). */
int talk_status(SSL_CTX *ctx, const struct state_session *s, char *state,
		char *err, size_t errlen);

void talk_close(SSL *ssl);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t talk_now_ms(void);

#endif /* CLIENT_TALK_H */
