/*
 * catalog.c - what a user may see and launch; see catalog.h.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"

struct level_pools {
	uint32_t level;
	struct store_pool *out;
	unsigned n;
};

static int
add_level_pool(const struct store_pool *p, void *arg)
{
	struct level_pools *lp = arg;

	if (lp->n >= MCD_SITE_POOLS_MAX)
		return 1;
	lp->out[lp->n++] = *p;
	return 0;
}

int
catalog_app_pools(struct store *s, const struct store_app *a,
		  struct store_pool out[MCD_SITE_POOLS_MAX], unsigned *n,
		  char *err, size_t errlen)
{
	struct level_pools lp = { a->level, out, 0 };

	*n = 0;
	if (a->npools == 0) {
		if (store_pool_each(s, a->level, add_level_pool, &lp, err,
				    errlen) < 0)
			return -1;
		*n = lp.n;
		return 0;
	}
	for (unsigned i = 0; i < a->npools; i++) {
		int rc = store_pool_get(s, a->pools[i], &out[*n], err, errlen);

		if (rc < 0)
			return -1;
		/* A listed pool of another level is never offered. */
		if (rc == 0 && out[*n].level == a->level)
			(*n)++;
	}
	return 0;
}

int
catalog_app_for(struct store *s, uint32_t level, const char *id,
		struct store_app *a, char *err, size_t errlen)
{
	int rc = store_app_get(s, id, a, err, errlen);

	if (rc == STORE_NOT_FOUND)
		return CATALOG_NOT_FOUND;
	if (rc)
		return -1;
	if (a->level > level) {
		seterr(err, errlen, "app %s is level %u, above your level %u",
		       id, a->level, level);
		return CATALOG_DENIED;
	}
	return 0;
}

int
catalog_pool_for(struct store *s, const struct store_app *a, const char *name,
		 struct store_pool *p, char *err, size_t errlen)
{
	struct store_pool pools[MCD_SITE_POOLS_MAX];
	unsigned n;
	int rc = store_pool_get(s, name, p, err, errlen);

	if (rc == STORE_NOT_FOUND)
		return CATALOG_NOT_FOUND;
	if (rc)
		return -1;
	if (catalog_app_pools(s, a, pools, &n, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(pools[i].name, name))
			return 0;
	seterr(err, errlen, "pool %s does not run app %s", name, a->id);
	return CATALOG_DENIED;
}

/* Pools referenced so far, in first-seen order. */
struct walk {
	struct store *s;
	const struct catalog_visit *v;
	struct store_pool *seen;
	unsigned nseen, cap;
	int failed;
	char *err;
	size_t errlen;
};

static int
remember_pool(struct walk *w, const struct store_pool *p)
{
	for (unsigned i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i].name, p->name))
			return 0;
	if (w->nseen == w->cap) {
		unsigned cap = w->cap ? 2 * w->cap : 16;
		struct store_pool *n = realloc(w->seen, cap * sizeof(*n));

		if (!n) {
			seterr(w->err, w->errlen, "out of memory");
			return -1;
		}
		w->seen = n;
		w->cap = cap;
	}
	w->seen[w->nseen++] = *p;
	return 0;
}

static int
walk_app(const struct store_app *a, void *arg)
{
	struct walk *w = arg;
	struct store_pool pools[MCD_SITE_POOLS_MAX];
	unsigned n;

	if (catalog_app_pools(w->s, a, pools, &n, w->err, w->errlen) < 0) {
		w->failed = 1;
		return -1;
	}
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (remember_pool(w, &pools[i]) < 0) {
			w->failed = 1;
			return -1;
		}
	return w->v->app ? w->v->app(a, pools, n, w->v->arg) : 0;
}

int
catalog_walk(struct store *s, uint32_t level, const struct catalog_visit *v,
	     char *err, size_t errlen)
{
	struct walk w = { .s = s, .v = v, .err = err, .errlen = errlen };
	struct store_app *a = calloc(1, sizeof(*a));
	int rc = -1;

	if (!a) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	/* Level 0 would mean "every app" to the store: nobody has it. */
	if (level == 0) {
		rc = 0;
		goto out;
	}
	rc = store_app_each(s, level, a, walk_app, &w, err, errlen);
	if (w.failed)
		rc = -1;
	for (unsigned i = 0; rc == 0 && i < w.nseen; i++)
		rc = v->pool ? v->pool(&w.seen[i], v->arg) : 0;
out:
	free(w.seen);
	free(a);
	return rc;
}
