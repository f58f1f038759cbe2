/*
 * limit.h - failed-login limits, kept in the store so they hold across the
 * server's per-connection processes.
 *
 * A user name is slowed after LIMIT_USER_FAILS failed logins and a client
 * address after LIMIT_ADDR_FAILS, each counted while the failures come
 * less than LIMIT_WINDOW seconds apart; a slowed login is refused for
 * LIMIT_WINDOW seconds after the last failure, without its password being
 * checked (so guessing gains nothing).  A successful login clears its
 * user's count (not its address's: one user logging in says nothing about
 * the other names tried from there).
 */
#ifndef BROKER_LIMIT_H
#define BROKER_LIMIT_H

#include <stdint.h>

#include "store.h"

#define LIMIT_USER_FAILS 5
#define LIMIT_ADDR_FAILS 20
#define LIMIT_WINDOW (15 * 60)

/* 0: the login may go on; 1: slowed, *wait the seconds left and why in
 * err ("too many failed logins for USER; try again in N s"); -1: database
 * error. */
int limit_check(struct store *s, const char *user, const char *addr,
		int64_t now, int64_t *wait, char *err, size_t errlen);
/* Count one failed login for user and addr.  0, or -1. */
int limit_failed(struct store *s, const char *user, const char *addr,
		 int64_t now, char *err, size_t errlen);
/* A login succeeded: clear the user's count.  0, or -1. */
int limit_succeeded(struct store *s, const char *user, char *err,
		    size_t errlen);

#endif /* BROKER_LIMIT_H */
