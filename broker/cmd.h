/*
 * cmd.h - what the admin commands of mcd-broker share.
 *
 * Each handler gets argv[0] = its command's name, answers --help itself
 * (main.c does it before calling), prints data on stdout (JSON with
 * --json), reports an error as one line on stderr and returns 0 on
 * success, 1 on failure and 2 on a usage error.
 */
#ifndef BROKER_CMD_H
#define BROKER_CMD_H

#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "store.h"

#define CMD_DB_DEFAULT "/var/lib/mcd/broker.db"

/* The database file every command works on (--db). */
extern const char *cmd_db;

/* Open cmd_db; NULL after printing why. */
struct store *cmd_store(void);

/* "mcd-broker CMD: what" and the usage line on stderr; returns 2. */
int cmd_usage_error(const char *cmd, const char *what);

/* A level 1..MCD_SITE_LEVEL_MAX.  0, or -1. */
int cmd_level(const char *s, uint32_t *level);

/* JSON output through yajl: a generator that pretty-prints nothing and
 * validates UTF-8; cmd_json_done prints it with a newline and frees it. */
yajl_gen cmd_json_new(void);
void cmd_json_key_str(yajl_gen g, const char *key, const char *val);
void cmd_json_key_int(yajl_gen g, const char *key, long long val);
void cmd_json_key(yajl_gen g, const char *key);
void cmd_json_str(yajl_gen g, const char *val);
int cmd_json_done(yajl_gen g);

/* The commands. */
int cmd_user(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_sessions(int argc, char **argv);

#endif /* BROKER_CMD_H */
