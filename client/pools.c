/*
 * pools.c - one app's load query and `mcd-client pools` (see pools.h).
 */
#include "pools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jout.h"
#include "loadq.h"

#define ERR_MAX 512

const struct talk_app *pools_find_app(const struct talk_apps *a,
				      const char *want)
{
	const struct talk_app *by_name = NULL;

	for (unsigned i = 0; i < a->napps; i++) {
		if (!strcmp(a->apps[i].app, want))
			return &a->apps[i];
		if (!strcmp(a->apps[i].name, want) && !by_name)
			by_name = &a->apps[i];
	}
	return by_name;
}

/* res's slots in the app's order; which of them get asked goes into q and
 * slot (q[k] is res slot slot[k]). */
static size_t pools_list(const struct talk_apps *a, const struct talk_app *app,
			 struct pools_result *res, struct loadq_pool *q,
			 size_t *slot)
{
	size_t nq = 0;

	memset(res, 0, sizeof(*res));
	for (unsigned i = 0; i < app->npools && i < MCD_SITE_POOLS_MAX; i++) {
		const struct talk_pool *p = talk_find_pool(a, app->pools[i]);
		struct pick_load *l = &res->loads[res->n];

		snprintf(l->pool, sizeof(l->pool), "%s", app->pools[i]);
		if (!p) {
			res->no_address[res->n] = 1;
			snprintf(l->text, sizeof(l->text),
				 "no address from the server");
		} else {
			snprintf(res->address[res->n],
				 sizeof(res->address[0]), "%s", p->address);
			q[nq].pool = p->pool;
			q[nq].address = p->address;
			slot[nq++] = res->n;
		}
		res->n++;
	}
	return nq;
}

int pools_query(SSL_CTX *ctx, const struct talk_apps *a,
		const struct talk_app *app, int timeout_ms,
		struct pools_result *res, char *err, size_t errlen)
{
	struct loadq_pool q[MCD_SITE_POOLS_MAX];
	struct pick_load got[MCD_SITE_POOLS_MAX];
	int timed_out[MCD_SITE_POOLS_MAX];
	size_t slot[MCD_SITE_POOLS_MAX];
	size_t nq = pools_list(a, app, res, q, slot);

	if (nq == 0) {
		snprintf(err, errlen, "none of this app's pools has an "
			 "address from the server");
		return -1;
	}
	if (loadq_run(ctx, q, nq, timeout_ms, got, timed_out) < 0) {
		snprintf(err, errlen, "cannot query the pools' loads");
		return -1;
	}
	for (size_t k = 0; k < nq; k++) {
		res->loads[slot[k]] = got[k];
		res->timed_out[slot[k]] = timed_out[k];
	}
	return 0;
}

/* ---- `mcd-client pools` ---- */

/* The coefficient as the pools mean it: load is in thousandths. */
static void load_text(const struct pick_load *l, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%03u", (unsigned)(l->load / 1000),
		 (unsigned)(l->load % 1000));
}

/* Why a pool has no figure, as one phrase. */
static void skip_text(const struct pools_result *res, size_t i,
		      int timeout_ms, char *buf, size_t len)
{
	if (res->timed_out[i])
		snprintf(buf, len, "timed out after %d ms", timeout_ms);
	else
		snprintf(buf, len, "%s", res->loads[i].text[0] ?
			 res->loads[i].text : "no answer");
}

static void line_text(const struct pools_result *res, size_t i,
		      int timeout_ms)
{
	const struct pick_load *l = &res->loads[i];
	const char *addr = res->address[i][0] ? res->address[i] : "-";
	char load[16], why[PICK_TEXT_MAX + 64];

	if (!l->answered) {
		skip_text(res, i, timeout_ms, why, sizeof(why));
		printf("%-16s %-24s %6s %-4s skipped: %s\n", l->pool, addr,
		       "-", "-", why);
		return;
	}
	load_text(l, load, sizeof(load));
	printf("%-16s %-24s %6s %-4s %s", l->pool, addr, load,
	       l->room ? "yes" : "no", l->limit[0] ? l->limit : "-");
	/* The pool's own words on why it is full, when it gave any. */
	if (!l->room && l->text[0])
		printf(" %s", l->text);
	printf("\n");
}

static void obj_json(yajl_gen g, const struct pools_result *res, size_t i,
		     int timeout_ms)
{
	const struct pick_load *l = &res->loads[i];
	char load[16], why[PICK_TEXT_MAX + 64];

	yajl_gen_map_open(g);
	jout_str(g, "pool", l->pool);
	jout_str(g, "address", res->address[i][0] ? res->address[i] : NULL);
	jout_key(g, "answered");
	yajl_gen_bool(g, l->answered);
	if (l->answered) {
		load_text(l, load, sizeof(load));
		jout_key(g, "load");
		yajl_gen_number(g, load, strlen(load));
		jout_key(g, "room");
		yajl_gen_bool(g, l->room);
		jout_str(g, "limit", l->limit[0] ? l->limit : NULL);
		jout_str(g, "text", l->text[0] ? l->text : NULL);
	} else {
		skip_text(res, i, timeout_ms, why, sizeof(why));
		jout_key(g, "timed_out");
		yajl_gen_bool(g, res->timed_out[i]);
		jout_str(g, "skipped", why);
	}
	yajl_gen_map_close(g);
}

static void print_all(const struct pools_result *res, int timeout_ms,
		      int json)
{
	yajl_gen g = NULL;

	if (json) {
		g = jout_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-16s %-24s %6s %-4s %s\n", "POOL", "ADDRESS", "LOAD",
		       "ROOM", "LIMIT");
	}
	for (size_t i = 0; i < res->n; i++) {
		if (g)
			obj_json(g, res, i, timeout_ms);
		else
			line_text(res, i, timeout_ms);
	}
	if (g) {
		yajl_gen_array_close(g);
		jout_done(g);
	}
}

static int any_answered(const struct pools_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->loads[i].answered)
			return 1;
	return 0;
}

/* The catalog and the answers are large: on the heap, not the stack. */
struct show {
	struct talk_apps apps;
	struct pools_result res;
};

int pools_show(const struct conf *c, SSL_CTX *ctx,
	       const struct state_token *tok, const char *app, int json)
{
	struct talk_broker b = { ctx, c->server, c->server_name };
	struct show *s = calloc(1, sizeof(*s));
	const struct talk_app *a = NULL;
	char err[ERR_MAX];
	int rc;

	if (!s) {
		fprintf(stderr, "mcd-client: out of memory\n");
		return TALK_FAILED;
	}
	rc = talk_apps(&b, tok->token, &s->apps, err, sizeof(err));
	if (!rc && !(a = pools_find_app(&s->apps, app))) {
		snprintf(err, sizeof(err), "no app '%s' among yours (see "
			 "mcd-client apps)", app);
		rc = TALK_FAILED;
	}
	if (!rc && pools_query(ctx, &s->apps, a, c->load_timeout_ms, &s->res,
			       err, sizeof(err)) < 0)
		rc = TALK_FAILED;
	if (!rc) {
		print_all(&s->res, c->load_timeout_ms, json);
		rc = any_answered(&s->res) ? TALK_OK : TALK_FAILED;
		if (rc)
			snprintf(err, sizeof(err), "no pool of this app "
				 "answered");
	}
	if (rc)
		fprintf(stderr, "mcd-client: %s\n", err);
	free(s);
	return rc;
}
