/*
 * pools.h - the load query of one app's pools, shared by `run` (which
 * then picks one) and `pools` (which shows every answer): both must ask
 * the same pools the same way, so what `pools` shows is what `run` saw.
 */
#ifndef CLIENT_POOLS_H
#define CLIENT_POOLS_H

#include <stddef.h>

#include "conf.h"
#include "mcd_site.h"
#include "pick.h"
#include "state.h"
#include "talk.h"

/* Every pool of one app and its answer (or why it has none). */
struct pools_result {
	size_t n;
	char address[MCD_SITE_POOLS_MAX][MCD_SITE_ADDRESS_MAX + 1];
	struct pick_load loads[MCD_SITE_POOLS_MAX];
	int timed_out[MCD_SITE_POOLS_MAX];
	int no_address[MCD_SITE_POOLS_MAX]; /* not asked: the server gave none */
};

/* The app by id, else by its exact display name; NULL when not listed. */
const struct talk_app *pools_find_app(const struct talk_apps *a,
				      const char *want);

/* Ask every pool of app at once (loadq_run, timeout_ms).  Pools without
 * an address are kept in res, marked no_address, never asked.  0, or -1
 * with a reason in err (no pool to ask, no thread could start). */
int pools_query(SSL_CTX *ctx, const struct talk_apps *a,
		const struct talk_app *app, int timeout_ms,
		struct pools_result *res, char *err, size_t errlen);

/* `mcd-client pools APP [--json]`: prints one line (or object) per pool.
 * 0 when a pool answered, else an exit code of enum talk_exit. */
int pools_show(const struct conf *c, SSL_CTX *ctx,
	       const struct state_token *tok, const char *app, int json);

#endif /* CLIENT_POOLS_H */
