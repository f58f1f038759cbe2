/*
 * catalog.h - what a user may see and launch.
 *
 * The rules, in one place:
 *  - a user sees the apps whose level is at most the user's clearance;
 *    the same program at two levels is two apps (two ids), each offered
 *    on its own level's pools;
 *  - a pool serves exactly one level, and an app of level L is only ever
 *    offered pools of level L;
 *  - an app's pools are those listed for it (app add --pool) that are of
 *    its level; an app with none listed is offered every pool of its
 *    level.  An app left with no pool at all is not shown (nothing could
 *    run it).
 */
#ifndef BROKER_CATALOG_H
#define BROKER_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Results besides 0 and -1 (a database error). */
#define CATALOG_NOT_FOUND 1
#define CATALOG_DENIED 2

/* The pools app a is offered (at most MCD_SITE_POOLS_MAX) into out. */
int catalog_app_pools(struct store *s, const struct store_app *a,
		      struct store_pool out[MCD_SITE_POOLS_MAX], unsigned *n,
		      char *err, size_t errlen);

/* App id for a user of clearance level: 0 with *a filled, NOT_FOUND (no
 * such app), DENIED (its level is above the user's), each with a one-line
 * reason, or -1. */
int catalog_app_for(struct store *s, uint32_t level, const char *id,
		    struct store_app *a, char *err, size_t errlen);

/* Pool name for app a: 0 with *p filled, NOT_FOUND (no such pool),
 * DENIED (not one of the app's pools), or -1. */
int catalog_pool_for(struct store *s, const struct store_app *a,
		     const char *name, struct store_pool *p, char *err,
		     size_t errlen);

/* The catalog of a user of clearance level: app() for each app shown with
 * its pools, then pool() once for each pool any of them referenced.  A
 * non-zero return from a callback stops the walk and is returned. */
struct catalog_visit {
	int (*app)(const struct store_app *a, const struct store_pool *pools,
		   unsigned npools, void *arg);
	int (*pool)(const struct store_pool *p, void *arg);
	void *arg;
};
int catalog_walk(struct store *s, uint32_t level,
		 const struct catalog_visit *v, char *err, size_t errlen);

#endif /* BROKER_CATALOG_H */
