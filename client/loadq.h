/*
 * loadq.h - the load query to every pool of an app at once: one thread per
 * pool, one overall deadline, so a silent pool costs the user at most
 * load_timeout_ms and never holds up the others.
 */
#ifndef CLIENT_LOADQ_H
#define CLIENT_LOADQ_H

#include <stddef.h>

#include "pick.h"

typedef struct ssl_ctx_st SSL_CTX;

struct loadq_pool {
	const char *pool;     /* its name, also its certificate's name */
	const char *address;  /* host:port */
};

/*
 * Ask each of the n pools for LOAD; out[i] gets pool i's answer, or
 * answered = 0 with the reason in text (timed_out[i] set when the deadline
 * passed first).  Returns within timeout_ms (plus a moment): a pool still
 * busy then is left to finish on its own and reported as timed out.
 * 0, or -1 when no thread could be started.
 */
int loadq_run(SSL_CTX *ctx, const struct loadq_pool *pools, size_t n,
	      int timeout_ms, struct pick_load *out, int *timed_out);

#endif /* CLIENT_LOADQ_H */
