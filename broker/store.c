/*
 * store.c - the broker's SQLite database; see store.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

struct store {
	sqlite3 *db;
};

/*
 * Ordered migrations: migrations[i] takes the schema from version i to
 * i + 1.  Never edit one that has shipped; add the next.
 */
static const char *const migrations[] = {
	/* 0 -> 1: everything. */
	"CREATE TABLE users(name TEXT PRIMARY KEY, level INTEGER NOT NULL,"
	" pw_hash TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE pools(name TEXT PRIMARY KEY, address TEXT NOT NULL,"
	" level INTEGER NOT NULL);"
	"CREATE TABLE apps(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" os TEXT NOT NULL, level INTEGER NOT NULL, template TEXT NOT NULL,"
	" program TEXT NOT NULL);"
	"CREATE TABLE app_args(app TEXT NOT NULL REFERENCES apps(id)"
	" ON DELETE CASCADE, pos INTEGER NOT NULL, arg TEXT NOT NULL,"
	" PRIMARY KEY(app, pos));"
	"CREATE TABLE app_pools(app TEXT NOT NULL REFERENCES apps(id)"
	" ON DELETE CASCADE, pool TEXT NOT NULL REFERENCES pools(name)"
	" ON DELETE CASCADE, pos INTEGER NOT NULL, PRIMARY KEY(app, pool));"
	"CREATE TABLE tokens(hash TEXT PRIMARY KEY, user TEXT NOT NULL"
	" REFERENCES users(name) ON DELETE CASCADE, expires INTEGER NOT NULL);"
	"CREATE INDEX tokens_expires ON tokens(expires);"
	"CREATE TABLE login_failures(key TEXT PRIMARY KEY,"
	" count INTEGER NOT NULL, last INTEGER NOT NULL);"
	"CREATE TABLE sessions(sid TEXT PRIMARY KEY, user TEXT NOT NULL,"
	" app TEXT NOT NULL, pool TEXT NOT NULL, state TEXT NOT NULL,"
	" updated INTEGER NOT NULL);",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
	       STORE_SCHEMA_VERSION, "one migration per schema version");

static int
db_err(struct store *s, char *err, size_t errlen, const char *what)
{
	seterr(err, errlen, "database: %s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static sqlite3_stmt *
prep(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(s, err, errlen, "prepare");
		return NULL;
	}
	return st;
}

/* Bind parameters described by fmt: 's' a string, 'i' an int64, 'u' a
 * uint32. */
static int
bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
		switch (*fmt) {
		case 's':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *),
					       -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, uint32_t));
			break;
		default:
			return SQLITE_MISUSE;
		}
	}
	return rc;
}

/* Prepare sql, bind, run to the end.  Rows changed, or -1. */
static int
run(struct store *s, char *err, size_t errlen, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt *st = prep(s, sql, err, errlen);
	va_list ap;
	int rc;

	if (!st)
		return -1;
	va_start(ap, fmt);
	rc = bindv(st, fmt, ap);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return -2;
	if (rc != SQLITE_DONE)
		return db_err(s, err, errlen, "write");
	return sqlite3_changes(s->db);
}

/* Prepare sql and bind; the caller steps and finalizes. */
static sqlite3_stmt *
query(struct store *s, char *err, size_t errlen, const char *sql,
      const char *fmt, ...)
{
	sqlite3_stmt *st = prep(s, sql, err, errlen);
	va_list ap;
	int rc;

	if (!st)
		return NULL;
	va_start(ap, fmt);
	rc = bindv(st, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		db_err(s, err, errlen, "bind");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static void
col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

/* Run each statement of a script (constant DDL, no parameters). */
static int
run_script(struct store *s, const char *sql, char *err, size_t errlen)
{
	const char *tail = sql;

	while (*tail) {
		sqlite3_stmt *st = NULL;
		int rc;

		if (sqlite3_prepare_v2(s->db, tail, -1, &st, &tail) != SQLITE_OK)
			return db_err(s, err, errlen, "migration");
		if (!st)
			break;
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			return db_err(s, err, errlen, "migration");
	}
	return 0;
}

static int
read_version(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int v = 0;

	st = query(s, err, errlen, "SELECT max(version) FROM schema_version", "");
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Is the schema current already?  The common case: the server's process
 * for each connection opens the file, and it must not take the write lock
 * (and queue behind every other connection) just to find nothing to do. */
static int
schema_current(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM schema_version",
			       -1, &st, NULL) != SQLITE_OK)
		return 0; /* a new file: no table yet */
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v == STORE_SCHEMA_VERSION;
}

/* Bring the schema up to date in one write transaction, so two processes
 * opening a new file at once do not both migrate it. */
static int
migrate(struct store *s, char *err, size_t errlen)
{
	int v;

	if (schema_current(s))
		return 0;
	if (run_script(s, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (run_script(s, "CREATE TABLE IF NOT EXISTS schema_version("
		       "version INTEGER NOT NULL)", err, errlen) < 0)
		goto fail;
	v = read_version(s, err, errlen);
	if (v < 0)
		goto fail;
	if (v > STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "database: schema version %d is newer than "
		       "this program's (%d)", v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		if (run_script(s, migrations[v], err, errlen) < 0 ||
		    run(s, err, errlen, "INSERT INTO schema_version VALUES(?)",
			"i", (int64_t)v + 1) < 0)
			goto fail;
	}
	if (run_script(s, "COMMIT", err, errlen) < 0)
		goto fail;
	return 0;
fail:
	run_script(s, "ROLLBACK", NULL, 0);
	return -1;
}

/* The file holds password hashes: create it for its owner only. */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (create_private(path, err, errlen) < 0)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		seterr(err, errlen, "%s: %s", path,
		       s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (run_script(s, "PRAGMA journal_mode=WAL", err, errlen) < 0 ||
	    run_script(s, "PRAGMA foreign_keys=ON", err, errlen) < 0 ||
	    run_script(s, "PRAGMA synchronous=NORMAL", err, errlen) < 0 ||
	    migrate(s, err, errlen) < 0)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

int
store_version(struct store *s)
{
	return read_version(s, NULL, 0);
}

/* Map run()'s result of an INSERT: a constraint means the row exists. */
static int
insert_result(int rc, char *err, size_t errlen, const char *what,
	      const char *name)
{
	if (rc == -2) {
		seterr(err, errlen, "%s %s already exists", what, name);
		return STORE_EXISTS;
	}
	return rc < 0 ? -1 : 0;
}

/* Map run()'s result of an UPDATE or DELETE by key. */
static int
change_result(int rc, char *err, size_t errlen, const char *what,
	      const char *name)
{
	if (rc < 0)
		return -1;
	if (rc == 0) {
		seterr(err, errlen, "no %s %s", what, name);
		return STORE_NOT_FOUND;
	}
	return 0;
}

/* --- users --- */

int
store_user_add(struct store *s, const char *name, uint32_t level,
	       const char *pw_hash, int64_t now, char *err, size_t errlen)
{
	return insert_result(run(s, err, errlen, "INSERT INTO users"
				 "(name, level, pw_hash, created) VALUES(?,?,?,?)",
				 "susi", name, level, pw_hash, now),
			     err, errlen, "user", name);
}

int
store_user_get(struct store *s, const char *name, struct store_user *u,
	       char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT name, level, pw_hash,"
				 " created FROM users WHERE name = ?", "s", name);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_text(st, 0, u->name, sizeof(u->name));
		u->level = (uint32_t)sqlite3_column_int64(st, 1);
		col_text(st, 2, u->pw_hash, sizeof(u->pw_hash));
		u->created = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE) {
		seterr(err, errlen, "no user %s", name);
		return STORE_NOT_FOUND;
	}
	return db_err(s, err, errlen, "read");
}

int
store_user_set_hash(struct store *s, const char *name, const char *pw_hash,
		    char *err, size_t errlen)
{
	return change_result(run(s, err, errlen, "UPDATE users SET pw_hash = ?"
				 " WHERE name = ?", "ss", pw_hash, name),
			     err, errlen, "user", name);
}

int
store_user_set_level(struct store *s, const char *name, uint32_t level,
		     char *err, size_t errlen)
{
	int rc = change_result(run(s, err, errlen, "UPDATE users SET level = ?"
				   " WHERE name = ?", "us", level, name),
			       err, errlen, "user", name);

	/* Tokens were handed out at the old level: the user logs in again. */
	if (rc == 0 && run(s, err, errlen, "DELETE FROM tokens WHERE user = ?",
			   "s", name) < 0)
		return -1;
	return rc;
}

int
store_user_del(struct store *s, const char *name, char *err, size_t errlen)
{
	char key[MCD_SITE_USER_MAX + 8];

	snprintf(key, sizeof(key), "user:%s", name);
	if (run(s, err, errlen, "DELETE FROM login_failures WHERE key = ?",
		"s", key) < 0)
		return -1;
	return change_result(run(s, err, errlen, "DELETE FROM users"
				 " WHERE name = ?", "s", name),
			     err, errlen, "user", name);
}

int
store_user_each(struct store *s,
		int (*cb)(const struct store_user *u, void *arg), void *arg,
		char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT name, level, created"
				 " FROM users ORDER BY name", "");
	struct store_user u;
	int rc, stop = 0;

	if (!st)
		return -1;
	memset(&u, 0, sizeof(u));
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		col_text(st, 0, u.name, sizeof(u.name));
		u.level = (uint32_t)sqlite3_column_int64(st, 1);
		u.created = sqlite3_column_int64(st, 2);
		stop = cb(&u, arg);
	}
	sqlite3_finalize(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, err, errlen, "read");
	return stop;
}

/* --- pools --- */

int
store_pool_add(struct store *s, const struct store_pool *p, char *err,
	       size_t errlen)
{
	return insert_result(run(s, err, errlen, "INSERT INTO pools(name,"
				 " address, level) VALUES(?,?,?)", "ssu",
				 p->name, p->address, p->level),
			     err, errlen, "pool", p->name);
}

static void
pool_row(sqlite3_stmt *st, struct store_pool *p)
{
	col_text(st, 0, p->name, sizeof(p->name));
	col_text(st, 1, p->address, sizeof(p->address));
	p->level = (uint32_t)sqlite3_column_int64(st, 2);
}

int
store_pool_get(struct store *s, const char *name, struct store_pool *p,
	       char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT name, address, level"
				 " FROM pools WHERE name = ?", "s", name);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pool_row(st, p);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE) {
		seterr(err, errlen, "no pool %s", name);
		return STORE_NOT_FOUND;
	}
	return db_err(s, err, errlen, "read");
}

int
store_pool_del(struct store *s, const char *name, char *err, size_t errlen)
{
	return change_result(run(s, err, errlen, "DELETE FROM pools"
				 " WHERE name = ?", "s", name),
			     err, errlen, "pool", name);
}

int
store_pool_each(struct store *s, uint32_t level,
		int (*cb)(const struct store_pool *p, void *arg), void *arg,
		char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT name, address, level"
				 " FROM pools WHERE ? = 0 OR level = ?"
				 " ORDER BY name", "uu", level, level);
	struct store_pool p;
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		pool_row(st, &p);
		stop = cb(&p, arg);
	}
	sqlite3_finalize(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, err, errlen, "read");
	return stop;
}

/* --- apps --- */

static int
app_add_children(struct store *s, const struct store_app *a, char *err,
		 size_t errlen)
{
	int rc;

	for (unsigned i = 0; i < a->nargs; i++)
		if (run(s, err, errlen, "INSERT INTO app_args(app, pos, arg)"
			" VALUES(?,?,?)", "sus", a->id, i, a->args[i]) < 0)
			return -1;
	for (unsigned i = 0; i < a->npools; i++) {
		rc = run(s, err, errlen, "INSERT INTO app_pools(app, pool, pos)"
			 " VALUES(?,?,?)", "ssu", a->id, a->pools[i], i);
		if (rc == -2) {
			seterr(err, errlen, "no pool %s (or listed twice)",
			       a->pools[i]);
			return STORE_NOT_FOUND;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
store_app_add(struct store *s, const struct store_app *a, char *err,
	      size_t errlen)
{
	int rc;

	if (run_script(s, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	rc = insert_result(run(s, err, errlen, "INSERT INTO apps(id, name, os,"
			       " level, template, program) VALUES(?,?,?,?,?,?)",
			       "sssuss", a->id, a->name, a->os, a->level,
			       a->template_name, a->program),
			   err, errlen, "app", a->id);
	if (rc == 0)
		rc = app_add_children(s, a, err, errlen);
	if (rc == 0 && run_script(s, "COMMIT", err, errlen) == 0)
		return 0;
	run_script(s, "ROLLBACK", NULL, 0);
	return rc ? rc : -1;
}

static int
app_children(struct store *s, struct store_app *a, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	a->nargs = a->npools = 0;
	st = query(s, err, errlen, "SELECT arg FROM app_args WHERE app = ?"
		   " ORDER BY pos", "s", a->id);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->nargs < MCD_SITE_ARGS_MAX)
		col_text(st, 0, a->args[a->nargs++], sizeof(a->args[0]));
	sqlite3_finalize(st);
	st = query(s, err, errlen, "SELECT pool FROM app_pools WHERE app = ?"
		   " ORDER BY pos", "s", a->id);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       a->npools < MCD_SITE_POOLS_MAX)
		col_text(st, 0, a->pools[a->npools++], sizeof(a->pools[0]));
	sqlite3_finalize(st);
	return 0;
}

static void
app_row(sqlite3_stmt *st, struct store_app *a)
{
	col_text(st, 0, a->id, sizeof(a->id));
	col_text(st, 1, a->name, sizeof(a->name));
	col_text(st, 2, a->os, sizeof(a->os));
	a->level = (uint32_t)sqlite3_column_int64(st, 3);
	col_text(st, 4, a->template_name, sizeof(a->template_name));
	col_text(st, 5, a->program, sizeof(a->program));
}

int
store_app_get(struct store *s, const char *id, struct store_app *a,
	      char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT id, name, os, level,"
				 " template, program FROM apps WHERE id = ?",
				 "s", id);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		app_row(st, a);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		seterr(err, errlen, "no app %s", id);
		return STORE_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return db_err(s, err, errlen, "read");
	return app_children(s, a, err, errlen);
}

int
store_app_del(struct store *s, const char *id, char *err, size_t errlen)
{
	return change_result(run(s, err, errlen, "DELETE FROM apps WHERE id = ?",
				 "s", id), err, errlen, "app", id);
}

int
store_app_each(struct store *s, uint32_t max_level, struct store_app *a,
	       int (*cb)(const struct store_app *a, void *arg), void *arg,
	       char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT id, name, os, level,"
				 " template, program FROM apps"
				 " WHERE ? = 0 OR level <= ? ORDER BY level, id",
				 "uu", max_level, max_level);
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		app_row(st, a);
		if (app_children(s, a, err, errlen) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		stop = cb(a, arg);
	}
	sqlite3_finalize(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, err, errlen, "read");
	return stop;
}

/* --- tokens --- */

int
store_token_add(struct store *s, const char *hash_hex, const char *user,
		int64_t expires, char *err, size_t errlen)
{
	int rc = run(s, err, errlen, "INSERT INTO tokens(hash, user, expires)"
		     " VALUES(?,?,?)", "ssi", hash_hex, user, expires);

	if (rc == -2)
		seterr(err, errlen, "token not stored (no such user?)");
	return rc < 0 ? -1 : 0;
}

int
store_token_user(struct store *s, const char *hash_hex, int64_t now,
		 char *user, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (run(s, err, errlen, "DELETE FROM tokens WHERE expires <= ?", "i",
		now) < 0)
		return -1;
	st = query(s, err, errlen, "SELECT user FROM tokens WHERE hash = ?"
		   " AND expires > ?", "si", hash_hex, now);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		col_text(st, 0, user, MCD_SITE_USER_MAX + 1);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	return db_err(s, err, errlen, "read");
}

/* --- failed logins --- */

int
store_fail_get(struct store *s, const char *key, unsigned *count,
	       int64_t *last, char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT count, last FROM"
				 " login_failures WHERE key = ?", "s", key);
	int rc;

	*count = 0;
	*last = 0;
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = (unsigned)sqlite3_column_int64(st, 0);
		*last = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, err, errlen, "read");
	return 0;
}

int
store_fail_add(struct store *s, const char *key, int64_t now, int64_t window,
	       char *err, size_t errlen)
{
	/* One statement, so concurrent children never lose a count. */
	return run(s, err, errlen, "INSERT INTO login_failures(key, count, last)"
		   " VALUES(?1, 1, ?2) ON CONFLICT(key) DO UPDATE SET"
		   " count = CASE WHEN last <= ?2 - ?3 THEN 1 ELSE count + 1 END,"
		   " last = ?2", "sii", key, now, window) < 0 ? -1 : 0;
}

int
store_fail_clear(struct store *s, const char *key, char *err, size_t errlen)
{
	return run(s, err, errlen, "DELETE FROM login_failures WHERE key = ?",
		   "s", key) < 0 ? -1 : 0;
}

/* --- sessions --- */

int
store_session_note(struct store *s, const struct store_session *ss,
		   char *err, size_t errlen)
{
	return run(s, err, errlen, "INSERT INTO sessions(sid, user, app, pool,"
		   " state, updated) VALUES(?1,?2,?3,?4,?5,?6)"
		   " ON CONFLICT(sid) DO UPDATE SET state = ?5, updated = ?6"
		   " WHERE user = ?2", "sssssi", ss->sid, ss->user, ss->app,
		   ss->pool, ss->state, ss->updated) < 0 ? -1 : 0;
}

static void
session_row(sqlite3_stmt *st, struct store_session *ss)
{
	col_text(st, 0, ss->sid, sizeof(ss->sid));
	col_text(st, 1, ss->user, sizeof(ss->user));
	col_text(st, 2, ss->app, sizeof(ss->app));
	col_text(st, 3, ss->pool, sizeof(ss->pool));
	col_text(st, 4, ss->state, sizeof(ss->state));
	ss->updated = sqlite3_column_int64(st, 5);
}

int
store_session_get(struct store *s, const char *sid, struct store_session *ss,
		  char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT sid, user, app, pool,"
				 " state, updated FROM sessions WHERE sid = ?",
				 "s", sid);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		session_row(st, ss);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	return db_err(s, err, errlen, "read");
}

int
store_session_each(struct store *s, const char *user,
		   int (*cb)(const struct store_session *ss, void *arg),
		   void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = query(s, err, errlen, "SELECT sid, user, app, pool,"
				 " state, updated FROM sessions WHERE ?1 IS NULL"
				 " OR user = ?1 ORDER BY updated DESC, sid",
				 "s", user);
	struct store_session ss;
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		session_row(st, &ss);
		stop = cb(&ss, arg);
	}
	sqlite3_finalize(st);
	if (!stop && rc != SQLITE_DONE)
		return db_err(s, err, errlen, "read");
	return stop;
}
