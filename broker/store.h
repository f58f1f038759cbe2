/*
 * store.h - the Auth/App server's database: users, apps, pools, login
 * tokens, failed logins and the sessions clients report (NOTE).
 *
 * One SQLite file in WAL mode with a busy timeout, so the server's
 * per-connection children and the admin CLI can use it at once.  The
 * schema has a version (table schema_version) and is brought up to date by
 * ordered migrations when the file is opened; an empty file becomes the
 * current schema.  Every statement is prepared with bound parameters.
 *
 * A connection must not cross fork(): the server opens the store in each
 * child.  Functions return -1 with a one-line reason in err on a database
 * error; "not found" is a separate result where it can happen.
 */
#ifndef BROKER_STORE_H
#define BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mcd_site.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_BUSY_MS 5000
#define STORE_HASH_MAX 256
/* The args of one app, all together: a ticket carries them and must stay
 * below MCD_SITE_TICKET_MAX with everything else in it. */
#define STORE_ARGS_BYTES_MAX 4096

struct store;

struct store_user {
	char name[MCD_SITE_USER_MAX + 1];
	uint32_t level;
	char pw_hash[STORE_HASH_MAX];
	int64_t created;
};

struct store_pool {
	char name[MCD_SITE_POOL_MAX + 1];
	char address[MCD_SITE_ADDRESS_MAX + 1];
	uint32_t level;
};

/* An app and the pools listed for it in app_pools (npools 0: none listed;
 * see catalog.h for what that means). */
struct store_app {
	char id[MCD_SITE_APP_MAX + 1];
	char name[MCD_SITE_NAME_MAX + 1];
	char os[MCD_SITE_OS_MAX + 1];
	uint32_t level;
	char template_name[MCD_SITE_TEMPLATE_MAX + 1];
	char program[MCD_SITE_PROGRAM_MAX + 1];
	unsigned nargs;
	char args[MCD_SITE_ARGS_MAX][MCD_SITE_ARG_MAX + 1];
	unsigned npools;
	char pools[MCD_SITE_POOLS_MAX][MCD_SITE_POOL_MAX + 1];
};

struct store_session {
	char sid[MCD_SITE_SESSION_LEN + 1];
	char user[MCD_SITE_USER_MAX + 1];
	char app[MCD_SITE_APP_MAX + 1];
	char pool[MCD_SITE_POOL_MAX + 1];
	char state[MCD_SITE_STATE_MAX + 1];
	int64_t updated;
};

/* Open (creating it 0600 if missing) and migrate.  NULL with a reason. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);
/* The schema version of the open file (STORE_SCHEMA_VERSION once open). */
int store_version(struct store *s);

/* Results of lookups and changes besides 0 and -1. */
#define STORE_NOT_FOUND 1
#define STORE_EXISTS 2

/* --- users --- */
int store_user_add(struct store *s, const char *name, uint32_t level,
		   const char *pw_hash, int64_t now, char *err, size_t errlen);
/* 0 with *u filled, STORE_NOT_FOUND, or -1. */
int store_user_get(struct store *s, const char *name, struct store_user *u,
		   char *err, size_t errlen);
int store_user_set_hash(struct store *s, const char *name, const char *pw_hash,
			char *err, size_t errlen);
int store_user_set_level(struct store *s, const char *name, uint32_t level,
			 char *err, size_t errlen);
/* Also drops the user's tokens and failure counter. */
int store_user_del(struct store *s, const char *name, char *err, size_t errlen);
/* cb for each user by name (pw_hash left empty); a non-zero return stops
 * the walk and is returned. */
int store_user_each(struct store *s,
		    int (*cb)(const struct store_user *u, void *arg), void *arg,
		    char *err, size_t errlen);

/* --- pools --- */
int store_pool_add(struct store *s, const struct store_pool *p,
		   char *err, size_t errlen);
int store_pool_get(struct store *s, const char *name, struct store_pool *p,
		   char *err, size_t errlen);
/* Also removes the pool from every app's list. */
int store_pool_del(struct store *s, const char *name, char *err, size_t errlen);
/* Every pool (level 0) or those of one level, by name. */
int store_pool_each(struct store *s, uint32_t level,
		    int (*cb)(const struct store_pool *p, void *arg), void *arg,
		    char *err, size_t errlen);

/* --- apps --- */
/* Adds the app, its args and its pool list in one transaction. */
int store_app_add(struct store *s, const struct store_app *a,
		  char *err, size_t errlen);
int store_app_get(struct store *s, const char *id, struct store_app *a,
		  char *err, size_t errlen);
int store_app_del(struct store *s, const char *id, char *err, size_t errlen);
/* Apps of level <= max_level (0: all) by level then id; *a is scratch
 * space for the walk (an app is large). */
int store_app_each(struct store *s, uint32_t max_level, struct store_app *a,
		   int (*cb)(const struct store_app *a, void *arg), void *arg,
		   char *err, size_t errlen);

/* --- tokens (only their SHA-256, hex, is stored) --- */
int store_token_add(struct store *s, const char *hash_hex, const char *user,
		    int64_t expires, char *err, size_t errlen);
/* 0 with user (MCD_SITE_USER_MAX + 1 bytes) set when the token is known
 * and now < expires; STORE_NOT_FOUND otherwise; -1 on error.  Expired
 * tokens are removed on the way. */
int store_token_user(struct store *s, const char *hash_hex, int64_t now,
		     char *user, char *err, size_t errlen);

/* --- failed logins, per key ("user:NAME", "addr:IP") --- */
/* count and time of the last failure (0, 0 when none). */
int store_fail_get(struct store *s, const char *key, unsigned *count,
		   int64_t *last, char *err, size_t errlen);
/* One more failure at now; a count whose last failure is older than
 * window seconds starts again from 1. */
int store_fail_add(struct store *s, const char *key, int64_t now,
		   int64_t window, char *err, size_t errlen);
int store_fail_clear(struct store *s, const char *key, char *err,
		     size_t errlen);

/* --- sessions, as clients report them with NOTE --- */
int store_session_note(struct store *s, const struct store_session *ss,
		       char *err, size_t errlen);
int store_session_get(struct store *s, const char *sid,
		      struct store_session *ss, char *err, size_t errlen);
/* Every session (user NULL) or one user's, newest first. */
int store_session_each(struct store *s, const char *user,
		       int (*cb)(const struct store_session *ss, void *arg),
		       void *arg, char *err, size_t errlen);

#endif /* BROKER_STORE_H */
