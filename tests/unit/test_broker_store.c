/*
 * test_broker_store.c - the broker's database (store.c) and the catalog
 * rules over it (catalog.c): migrations from an empty file, reopening,
 * users/pools/apps/tokens/sessions, and who sees which app on which pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_broker_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/broker.db", f->dir);
	f->s = store_open(f->path, err, sizeof(err));
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void add_pool(struct store *s, const char *name, uint32_t level)
{
	struct store_pool p = { .level = level };

	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.address, sizeof(p.address), "%s.example:7443", name);
	assert_int_equal(store_pool_add(s, &p, NULL, 0), 0);
}

static void add_app(struct store *s, const char *id, uint32_t level,
		    const char *pool)
{
	struct store_app *a = calloc(1, sizeof(*a));

	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->name, sizeof(a->name), "Writer (%s)", id);
	snprintf(a->os, sizeof(a->os), "linux");
	a->level = level;
	snprintf(a->template_name, sizeof(a->template_name), "linux-demo");
	snprintf(a->program, sizeof(a->program), "/usr/bin/writer");
	a->nargs = 2;
	snprintf(a->args[0], sizeof(a->args[0]), "--new");
	snprintf(a->args[1], sizeof(a->args[1]), "two words");
	if (pool) {
		a->npools = 1;
		snprintf(a->pools[0], sizeof(a->pools[0]), "%s", pool);
	}
	assert_int_equal(store_app_add(s, a, NULL, 0), 0);
	free(a);
}

/* An empty file becomes the current schema; reopening migrates nothing
 * and keeps the data; a newer schema is refused. */
static void test_migrate_reopen(void **state)
{
	struct fx *f = *state;
	struct store_user u;
	char err[256];
	sqlite3 *db;

	assert_int_equal(store_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_user_add(f->s, "alice", 2, "h", 1, NULL, 0), 0);
	store_close(f->s);
	f->s = store_open(f->path, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(store_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_user_get(f->s, "alice", &u, NULL, 0), 0);
	assert_int_equal(u.level, 2);
	store_close(f->s);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES(99)",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	f->s = store_open(f->path, err, sizeof(err));
	assert_null(f->s);
	assert_non_null(strstr(err, "newer"));
	/* Leave a usable store for the teardown. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM schema_version"
				      " WHERE version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	f->s = store_open(f->path, err, sizeof(err));
	assert_non_null(f->s);
}

static int count_user(const struct store_user *u, void *arg)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct store_user u;
	char err[256], who[MCD_SITE_USER_MAX + 1];
	int n = 0;

	assert_int_equal(store_user_add(f->s, "bob", 1, "h1", 10, NULL, 0), 0);
	assert_int_equal(store_user_add(f->s, "bob", 1, "h1", 10, err,
					sizeof(err)), STORE_EXISTS);
	assert_int_equal(store_user_set_hash(f->s, "bob", "h2", NULL, 0), 0);
	assert_int_equal(store_user_set_level(f->s, "bob", 3, NULL, 0), 0);
	assert_int_equal(store_user_get(f->s, "bob", &u, NULL, 0), 0);
	assert_string_equal(u.pw_hash, "h2");
	assert_int_equal(u.level, 3);
	assert_int_equal(u.created, 10);
	assert_int_equal(store_user_get(f->s, "nobody", &u, NULL, 0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_user_set_level(f->s, "nobody", 1, NULL, 0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_user_add(f->s, "carol", 1, "h", 1, NULL, 0), 0);
	assert_int_equal(store_user_each(f->s, count_user, &n, NULL, 0), 0);
	assert_int_equal(n, 2);

	/* Tokens: by hash, until they expire, gone with their user. */
	assert_int_equal(store_token_add(f->s, "abc", "bob", 100, NULL, 0), 0);
	assert_int_equal(store_token_user(f->s, "abc", 50, who, NULL, 0), 0);
	assert_string_equal(who, "bob");
	assert_int_equal(store_token_user(f->s, "abd", 50, who, NULL, 0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_token_user(f->s, "abc", 100, who, NULL, 0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_token_add(f->s, "def", "bob", 100, NULL, 0), 0);
	assert_int_equal(store_user_del(f->s, "bob", NULL, 0), 0);
	assert_int_equal(store_token_user(f->s, "def", 50, who, NULL, 0),
			 STORE_NOT_FOUND);
	assert_int_equal(store_user_del(f->s, "bob", NULL, 0), STORE_NOT_FOUND);
	/* A token for nobody is not stored. */
	assert_int_equal(store_token_add(f->s, "ghi", "nobody", 100, NULL, 0),
			 -1);
}

static void test_apps_pools(void **state)
{
	struct fx *f = *state;
	struct store_app *a = calloc(1, sizeof(*a));
	struct store_pool p;

	add_pool(f->s, "p1", 1);
	assert_int_equal(store_pool_get(f->s, "p1", &p, NULL, 0), 0);
	assert_string_equal(p.address, "p1.example:7443");
	assert_int_equal(store_pool_add(f->s, &p, NULL, 0), STORE_EXISTS);
	add_app(f->s, "writer", 1, "p1");
	assert_int_equal(store_app_get(f->s, "writer", a, NULL, 0), 0);
	assert_int_equal(a->nargs, 2);
	assert_string_equal(a->args[1], "two words");
	assert_int_equal(a->npools, 1);
	assert_string_equal(a->pools[0], "p1");
	/* An app listing a pool that does not exist is not added at all. */
	snprintf(a->id, sizeof(a->id), "ghost");
	snprintf(a->pools[0], sizeof(a->pools[0]), "nopool");
	assert_int_equal(store_app_add(f->s, a, NULL, 0), STORE_NOT_FOUND);
	assert_int_equal(store_app_get(f->s, "ghost", a, NULL, 0),
			 STORE_NOT_FOUND);
	/* Deleting the pool takes it off the app's list. */
	assert_int_equal(store_pool_del(f->s, "p1", NULL, 0), 0);
	assert_int_equal(store_app_get(f->s, "writer", a, NULL, 0), 0);
	assert_int_equal(a->npools, 0);
	assert_int_equal(store_app_del(f->s, "writer", NULL, 0), 0);
	assert_int_equal(store_app_del(f->s, "writer", NULL, 0), STORE_NOT_FOUND);
	free(a);
}

struct seen {
	char apps[512];
	char pools[512];
};

static int seen_app(const struct store_app *a, const struct store_pool *pools,
		    unsigned n, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->apps);

	snprintf(s->apps + len, sizeof(s->apps) - len, "%s@", a->id);
	for (unsigned i = 0; i < n; i++) {
		len = strlen(s->apps);
		snprintf(s->apps + len, sizeof(s->apps) - len, "%s%s",
			 i ? "+" : "", pools[i].name);
	}
	len = strlen(s->apps);
	snprintf(s->apps + len, sizeof(s->apps) - len, " ");
	return 0;
}

static int seen_pool(const struct store_pool *p, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->pools);

	snprintf(s->pools + len, sizeof(s->pools) - len, "%s ", p->name);
	return 0;
}

/* Levels: a level-1 user sees level-1 apps only; the same program at two
 * levels is two apps, each on its own level's pools; an app without
 * listed pools gets every pool of its level; a listed pool of another
 * level is never offered. */
static void test_catalog(void **state)
{
	struct fx *f = *state;
	struct catalog_visit v = { seen_app, seen_pool, NULL };
	struct store_app *a = calloc(1, sizeof(*a));
	struct store_pool p;
	struct seen s;
	char err[256];

	add_pool(f->s, "low-a", 1);
	add_pool(f->s, "low-b", 1);
	add_pool(f->s, "high", 2);
	add_app(f->s, "writer-daily", 1, NULL);
	add_app(f->s, "writer-secret", 2, "high");
	add_app(f->s, "mixed", 1, "high");    /* wrong level: no pool left */
	v.arg = &s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_walk(f->s, 1, &v, NULL, 0), 0);
	assert_string_equal(s.apps, "writer-daily@low-a+low-b ");
	assert_string_equal(s.pools, "low-a low-b ");

	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_walk(f->s, 2, &v, NULL, 0), 0);
	assert_string_equal(s.apps, "writer-daily@low-a+low-b "
			    "writer-secret@high ");
	assert_string_equal(s.pools, "low-a low-b high ");

	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_walk(f->s, 0, &v, NULL, 0), 0);
	assert_string_equal(s.apps, "");

	assert_int_equal(catalog_app_for(f->s, 1, "writer-secret", a, err,
					 sizeof(err)), CATALOG_DENIED);
	assert_int_equal(catalog_app_for(f->s, 1, "nothing", a, err,
					 sizeof(err)), CATALOG_NOT_FOUND);
	assert_int_equal(catalog_app_for(f->s, 2, "writer-secret", a, err,
					 sizeof(err)), 0);
	assert_int_equal(catalog_pool_for(f->s, a, "high", &p, err,
					  sizeof(err)), 0);
	assert_int_equal(catalog_pool_for(f->s, a, "low-a", &p, err,
					  sizeof(err)), CATALOG_DENIED);
	assert_int_equal(catalog_pool_for(f->s, a, "none", &p, err,
					  sizeof(err)), CATALOG_NOT_FOUND);
	assert_int_equal(catalog_app_for(f->s, 1, "mixed", a, err,
					 sizeof(err)), 0);
	assert_int_equal(catalog_pool_for(f->s, a, "high", &p, err,
					  sizeof(err)), CATALOG_DENIED);
	free(a);
}

static int count_session(const struct store_session *ss, void *arg)
{
	(void)ss;
	(*(int *)arg)++;
	return 0;
}

/* NOTE records: a session is its first reporter's; another user's note
 * does not change it. */
static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct store_session ss = { .sid = "0123456789abcdef", .user = "dave",
				    .app = "writer", .pool = "p", .state = "ready",
				    .updated = 5 }, got;
	int n = 0;

	assert_int_equal(store_session_note(f->s, &ss, NULL, 0), 0);
	snprintf(ss.state, sizeof(ss.state), "ended");
	snprintf(ss.user, sizeof(ss.user), "eve");
	assert_int_equal(store_session_note(f->s, &ss, NULL, 0), 0);
	assert_int_equal(store_session_get(f->s, ss.sid, &got, NULL, 0), 0);
	assert_string_equal(got.state, "ready");
	snprintf(ss.user, sizeof(ss.user), "dave");
	ss.updated = 6;
	assert_int_equal(store_session_note(f->s, &ss, NULL, 0), 0);
	assert_int_equal(store_session_get(f->s, ss.sid, &got, NULL, 0), 0);
	assert_string_equal(got.state, "ended");
	assert_int_equal(got.updated, 6);
	assert_int_equal(store_session_each(f->s, "dave", count_session, &n,
					    NULL, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_session_each(f->s, "eve", count_session, &n,
					    NULL, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_session_each(f->s, NULL, count_session, &n,
					    NULL, 0), 0);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apps_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
