/*
 * limit.c - failed-login limits; see limit.h.
 */
#include <stdio.h>

#include "limit.h"
#include "log.h"

#define LIMIT_KEY_MAX 96

static void
key_user(char *key, const char *user)
{
	snprintf(key, LIMIT_KEY_MAX, "user:%s", user);
}

static void
key_addr(char *key, const char *addr)
{
	snprintf(key, LIMIT_KEY_MAX, "addr:%s", addr);
}

/* Seconds key stays slowed at now (0: not slowed), or -1. */
static int64_t
slowed_for(struct store *s, const char *key, unsigned max, int64_t now,
	   char *err, size_t errlen)
{
	unsigned count;
	int64_t last, left;

	if (store_fail_get(s, key, &count, &last, err, errlen) < 0)
		return -1;
	left = last + LIMIT_WINDOW - now;
	if (count < max || left <= 0)
		return 0;
	return left;
}

int
limit_check(struct store *s, const char *user, const char *addr, int64_t now,
	    int64_t *wait, char *err, size_t errlen)
{
	char key[LIMIT_KEY_MAX];
	int64_t u, a;

	key_user(key, user);
	u = slowed_for(s, key, LIMIT_USER_FAILS, now, err, errlen);
	key_addr(key, addr);
	a = u < 0 ? -1 : slowed_for(s, key, LIMIT_ADDR_FAILS, now, err, errlen);
	if (u < 0 || a < 0)
		return -1;
	*wait = u > a ? u : a;
	if (*wait == 0)
		return 0;
	if (u >= a)
		seterr(err, errlen, "too many failed logins for %s; try again "
		       "in %lld s", user, (long long)*wait);
	else
		seterr(err, errlen, "too many failed logins from %s; try again "
		       "in %lld s", addr, (long long)*wait);
	return 1;
}

int
limit_failed(struct store *s, const char *user, const char *addr, int64_t now,
	     char *err, size_t errlen)
{
	char key[LIMIT_KEY_MAX];

	key_user(key, user);
	if (store_fail_add(s, key, now, LIMIT_WINDOW, err, errlen) < 0)
		return -1;
	key_addr(key, addr);
	return store_fail_add(s, key, now, LIMIT_WINDOW, err, errlen);
}

int
limit_succeeded(struct store *s, const char *user, char *err, size_t errlen)
{
	char key[LIMIT_KEY_MAX];

	key_user(key, user);
	return store_fail_clear(s, key, err, errlen);
}
