/*
 * test_bootq.c - the line of launches waiting for a boot slot (bootq.c):
 * arrival order, places kept across leaving and coming back, slots, and
 * pool refills that never go ahead of a user's launch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bootq.h"

static void test_default_max(void **state)
{
	(void)state;
	assert_int_equal(bootq_default_max(0), 1);
	assert_int_equal(bootq_default_max(1), 1);
	assert_int_equal(bootq_default_max(8), 8);
}

static void test_fifo(void **state)
{
	struct bootq q = { 0 };
	struct bootq_ent e[4] = { { 0 } };

	(void)state;
	for (int i = 0; i < 4; i++)
		bootq_ticket(&q, &e[i]);
	/* Added out of order: the line follows the tickets. */
	bootq_add(&q, &e[2]);
	bootq_add(&q, &e[0]);
	bootq_add(&q, &e[3]);
	bootq_add(&q, &e[1]);
	bootq_add(&q, &e[1]); /* twice: once in line */
	assert_int_equal(q.len, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(bootq_ahead(&q, &e[i]), i);
	assert_ptr_equal(q.head, &e[0]);
	bootq_remove(&q, &e[0]);
	bootq_remove(&q, &e[0]); /* not in line: nothing */
	assert_int_equal(q.len, 3);
	assert_int_equal(e[0].queued, 0);
	assert_int_equal(bootq_ahead(&q, &e[3]), 2);
	/* One in the middle gives up: those behind move up. */
	bootq_remove(&q, &e[2]);
	assert_int_equal(bootq_ahead(&q, &e[3]), 1);
	/* It comes back: its old place, ahead of later tickets. */
	bootq_add(&q, &e[2]);
	assert_int_equal(bootq_ahead(&q, &e[2]), 1);
	assert_int_equal(bootq_ahead(&q, &e[3]), 2);
	/* Not in line: counts those with earlier tickets. */
	bootq_remove(&q, &e[1]);
	assert_int_equal(bootq_ahead(&q, &e[1]), 0);
	assert_int_equal(bootq_ahead(&q, &e[3]), 1);
}

static void test_slots(void **state)
{
	struct bootq q = { 0 };
	struct bootq_ent a = { 0 }, b = { 0 }, late = { 0 };

	(void)state;
	bootq_ticket(&q, &a);
	bootq_ticket(&q, &b);
	bootq_ticket(&q, &late);
	/* Empty line: a free slot is taken by anyone. */
	assert_true(bootq_may_start(&q, &a, 0, 2));
	assert_true(bootq_may_start(&q, &a, 1, 2));
	assert_false(bootq_may_start(&q, &a, 2, 2));
	assert_true(bootq_may_start(&q, NULL, 1, 2));
	assert_false(bootq_may_start(&q, NULL, 2, 2));
	bootq_add(&q, &a);
	bootq_add(&q, &b);
	/* Only the head, and only with a slot. */
	assert_true(bootq_may_start(&q, &a, 1, 2));
	assert_false(bootq_may_start(&q, &b, 1, 2));
	assert_false(bootq_may_start(&q, &a, 2, 2));
	/* A launch that arrives later does not go past the line. */
	assert_false(bootq_may_start(&q, &late, 0, 2));
	/* A pool refill waits while any user's launch is in line. */
	assert_false(bootq_may_start(&q, NULL, 0, 2));
	bootq_remove(&q, &a);
	bootq_remove(&q, &b);
	assert_true(bootq_may_start(&q, NULL, 0, 2));
	assert_true(bootq_may_start(&q, &late, 0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_max),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
