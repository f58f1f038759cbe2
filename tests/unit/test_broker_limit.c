/*
 * test_broker_limit.c - failed-login limits (limit.c over store.c): five
 * failures slow a user, twenty an address, the window lets them go, a
 * success clears the user's count, and the counts live in the database
 * (another connection, like another server process, sees them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limit.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_broker_limit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/broker.db", f->dir);
	f->s = store_open(f->path, NULL, 0);
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

static int check(struct store *s, const char *user, const char *addr,
		 int64_t now, int64_t *wait, char *err, size_t errlen)
{
	*wait = 0;
	return limit_check(s, user, addr, now, wait, err, errlen);
}

static void test_user_slowed(void **state)
{
	struct fx *f = *state;
	struct store *other;
	char err[256];
	int64_t wait;

	for (int i = 0; i < LIMIT_USER_FAILS - 1; i++) {
		assert_int_equal(check(f->s, "alice", "10.0.0.1", 1000 + i, &wait,
				       err, sizeof(err)), 0);
		assert_int_equal(limit_failed(f->s, "alice", "10.0.0.1", 1000 + i,
					      NULL, 0), 0);
	}
	assert_int_equal(check(f->s, "alice", "10.0.0.1", 1010, &wait, err,
			       sizeof(err)), 0);
	assert_int_equal(limit_failed(f->s, "alice", "10.0.0.1", 1010, NULL, 0),
			 0);
	assert_int_equal(check(f->s, "alice", "10.0.0.2", 1010, &wait, err,
			       sizeof(err)), 1);
	assert_int_equal(wait, LIMIT_WINDOW);
	assert_string_equal(err, "too many failed logins for alice; try again "
			    "in 900 s");
	/* Another user from the same address is not slowed by alice. */
	assert_int_equal(check(f->s, "bob", "10.0.0.1", 1010, &wait, err,
			       sizeof(err)), 0);
	/* Another connection (another server process) sees the count. */
	other = store_open(f->path, NULL, 0);
	assert_non_null(other);
	assert_int_equal(check(other, "alice", "10.0.0.9", 1100, &wait, err,
			       sizeof(err)), 1);
	assert_int_equal(wait, LIMIT_WINDOW - 90);
	store_close(other);
	/* The window after the last failure lets the user try again. */
	assert_int_equal(check(f->s, "alice", "10.0.0.1", 1010 + LIMIT_WINDOW,
			       &wait, err, sizeof(err)), 0);
	/* ... and the count then starts again from one. */
	assert_int_equal(limit_failed(f->s, "alice", "10.0.0.1",
				      1010 + LIMIT_WINDOW, NULL, 0), 0);
	assert_int_equal(check(f->s, "alice", "10.0.0.1", 1011 + LIMIT_WINDOW,
			       &wait, err, sizeof(err)), 0);
}

static void test_addr_slowed(void **state)
{
	struct fx *f = *state;
	char user[32], err[256];
	int64_t wait;

	/* Twenty names tried from one address, each fewer than five times. */
	for (int i = 0; i < LIMIT_ADDR_FAILS; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		assert_int_equal(check(f->s, user, "192.0.2.7", 2000, &wait, err,
				       sizeof(err)), 0);
		assert_int_equal(limit_failed(f->s, user, "192.0.2.7", 2000, NULL,
					      0), 0);
	}
	assert_int_equal(check(f->s, "fresh", "192.0.2.7", 2001, &wait, err,
			       sizeof(err)), 1);
	assert_int_equal(wait, LIMIT_WINDOW - 1);
	assert_non_null(strstr(err, "from 192.0.2.7"));
	/* The same name from elsewhere is fine. */
	assert_int_equal(check(f->s, "fresh", "192.0.2.8", 2001, &wait, err,
			       sizeof(err)), 0);
}

static void test_success_clears(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t wait;

	for (int i = 0; i < LIMIT_USER_FAILS - 1; i++)
		assert_int_equal(limit_failed(f->s, "carol", "10.1.1.1", 3000,
					      NULL, 0), 0);
	assert_int_equal(limit_succeeded(f->s, "carol", NULL, 0), 0);
	/* Four more failures after the success: still not slowed. */
	for (int i = 0; i < LIMIT_USER_FAILS - 1; i++)
		assert_int_equal(limit_failed(f->s, "carol", "10.1.1.1", 3001,
					      NULL, 0), 0);
	assert_int_equal(check(f->s, "carol", "10.1.1.1", 3002, &wait, err,
			       sizeof(err)), 0);
	assert_int_equal(limit_failed(f->s, "carol", "10.1.1.1", 3002, NULL, 0),
			 0);
	assert_int_equal(check(f->s, "carol", "10.1.1.1", 3003, &wait, err,
			       sizeof(err)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_user_slowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_slowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_clears, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
