/*
 * test_client_pick.c - the pool choice: lowest load with room, ties to the
 * first listed, the no-room line, and --wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pick.h"

static struct pick_load pool(const char *name, int answered, uint32_t load,
			     int room, const char *limit)
{
	struct pick_load l;

	memset(&l, 0, sizeof(l));
	snprintf(l.pool, sizeof(l.pool), "%s", name);
	l.answered = answered;
	l.load = load;
	l.room = room;
	snprintf(l.limit, sizeof(l.limit), "%s", limit);
	return l;
}

static void test_lowest(void **state)
{
	struct pick_load l[3] = { pool("a", 1, 500, 1, ""),
				  pool("b", 1, 120, 1, ""),
				  pool("c", 1, 300, 1, "") };
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 3, 0, &i), PICK_OK);
	assert_int_equal(i, 1);
}

static void test_room(void **state)
{
	/* The lowest is full, one is silent: the next lowest with room. */
	struct pick_load l[3] = { pool("a", 1, 10, 0, "memory"),
				  pool("b", 0, 0, 1, ""),
				  pool("c", 1, 700, 1, "") };
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 3, 0, &i), PICK_OK);
	assert_int_equal(i, 2);
}

static void test_ties(void **state)
{
	struct pick_load l[3] = { pool("a", 1, 400, 0, "cpu"),
				  pool("b", 1, 200, 1, ""),
				  pool("c", 1, 200, 1, "") };
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 3, 0, &i), PICK_OK);
	assert_int_equal(i, 1);
}

static void test_all_full(void **state)
{
	struct pick_load l[3] = { pool("a", 1, 900, 0, "memory"),
				  pool("b", 0, 0, 0, ""),
				  pool("c", 1, 800, 0, "domains") };
	char line[256];
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 3, 0, &i), PICK_NO_ROOM);
	assert_int_equal(i, 99);
	pick_no_room_line(l, 3, line, sizeof(line));
	assert_string_equal(line, "no room: pool a (full: memory), "
			    "pool c (full: domains)");
	snprintf(l[0].text, sizeof(l[0].text), "3 of 3 domains");
	l[0].limit[0] = '\0';
	pick_no_room_line(l, 1, line, sizeof(line));
	assert_string_equal(line, "no room: pool a (full: 3 of 3 domains)");
}

static void test_wait(void **state)
{
	struct pick_load l[3] = { pool("a", 1, 900, 0, "memory"),
				  pool("b", 1, 800, 0, "cpu"),
				  pool("c", 1, 800, 0, "cpu") };
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 3, 1, &i), PICK_WAIT);
	assert_int_equal(i, 1);
	/* With room somewhere, waiting changes nothing. */
	l[0].room = 1;
	assert_int_equal(pick_pool(l, 3, 1, &i), PICK_OK);
	assert_int_equal(i, 0);
}

static void test_none(void **state)
{
	struct pick_load l[2] = { pool("a", 0, 0, 0, ""),
				  pool("b", 0, 0, 0, "") };
	size_t i = 99;

	(void)state;
	assert_int_equal(pick_pool(l, 2, 1, &i), PICK_NONE);
	assert_int_equal(pick_pool(l, 0, 0, &i), PICK_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_all_full),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
