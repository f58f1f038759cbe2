/*
 * test_load.c - the load coefficient (load_compute, load_fits, load_cmp,
 * load_limits) with fixed numbers, and the `load` command's argument
 * handling, with no Xen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "commands.h"
#include "load.h"

#define MB	1024ULL		/* KiB per MiB */

/* A host: 2048 MiB, 2 CPUs, 32 guests allowed, 64 MiB reserve. */
static struct load_sample
host(uint64_t free_mb, unsigned guests, double cpu_busy)
{
	struct load_sample s = {
		.total_kb = 2048 * MB,
		.free_kb = free_mb * MB,
		.reserve_kb = 64 * MB,
		.nr_cpus = 2,
		.guests = guests,
		.max_guests = 32,
		.interval_ns = 200000000ULL,
	};

	s.busy_ns = (uint64_t)(cpu_busy * 2 * 200000000.0);
	return s;
}

static struct mcd_template
tpl(const char *name, unsigned mem)
{
	struct mcd_template t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.memory_mb = mem;
	return t;
}

static void
test_compute_memory_bound(void **state)
{
	struct load_sample s = host(1088, 2, 0.10);
	struct load_info li;

	(void)state;
	load_compute(&s, &li);
	/* avail = 1088 - 64 = 1024 of 2048: half the memory is used. */
	assert_int_equal(li.avail_kb, 1024 * MB);
	assert_float_equal(li.mem, 0.5, 1e-9);
	assert_float_equal(li.cpu, 0.10, 1e-6);
	assert_float_equal(li.dom, 2.0 / 32, 1e-9);
	assert_float_equal(li.coefficient, 0.5, 1e-9);
	assert_string_equal(li.limit, "memory");
	assert_int_equal(li.full, 0);
	/* The inputs are kept (field by field: padding is not). */
	assert_int_equal(li.in.total_kb, s.total_kb);
	assert_int_equal(li.in.free_kb, s.free_kb);
	assert_int_equal(li.in.reserve_kb, s.reserve_kb);
	assert_int_equal(li.in.nr_cpus, s.nr_cpus);
	assert_int_equal(li.in.guests, s.guests);
	assert_int_equal(li.in.max_guests, s.max_guests);
	assert_int_equal(li.in.busy_ns, s.busy_ns);
	assert_int_equal(li.in.interval_ns, s.interval_ns);
}

static void
test_compute_cpu_and_domains(void **state)
{
	struct load_sample s;
	struct load_info li;

	(void)state;
	s = host(1600, 4, 0.75);
	load_compute(&s, &li);
	assert_float_equal(li.cpu, 0.75, 1e-6);
	assert_float_equal(li.coefficient, 0.75, 1e-6);
	assert_string_equal(li.limit, "cpu");

	s = host(1600, 30, 0.20);
	load_compute(&s, &li);
	assert_float_equal(li.dom, 30.0 / 32, 1e-9);
	assert_float_equal(li.coefficient, 30.0 / 32, 1e-9);
	assert_string_equal(li.limit, "domains");
	assert_int_equal(li.full, 0);

	/* More CPU time than the CPUs have (rounding, a late sample): 1. */
	s = host(1600, 1, 1.5);
	load_compute(&s, &li);
	assert_float_equal(li.cpu, 1.0, 1e-9);
	assert_float_equal(li.coefficient, 1.0, 1e-9);
}

static void
test_compute_edges(void **state)
{
	struct load_sample s;
	struct load_info li;

	(void)state;
	/* Free memory below the reserve: nothing available, full. */
	s = host(50, 0, 0);
	load_compute(&s, &li);
	assert_int_equal(li.avail_kb, 0);
	assert_float_equal(li.mem, 1.0, 1e-9);
	assert_int_equal(li.full, 1);
	assert_string_equal(li.limit, "memory");

	/* The domain cap reached: full, whatever the memory. */
	s = host(2000, 32, 0);
	load_compute(&s, &li);
	assert_int_equal(li.full, 1);
	assert_float_equal(li.dom, 1.0, 1e-9);
	assert_string_equal(li.limit, "domains");

	/* Nothing known: counted as full, never preferred. */
	memset(&s, 0, sizeof(s));
	load_compute(&s, &li);
	assert_float_equal(li.coefficient, 1.0, 1e-9);
	assert_float_equal(li.cpu, 0.0, 1e-9);
	assert_int_equal(li.full, 1);

	/* An idle, empty host. */
	s = host(2048, 0, 0);
	s.reserve_kb = 0;
	load_compute(&s, &li);
	assert_float_equal(li.coefficient, 0.0, 1e-9);
	assert_int_equal(li.full, 0);

	/* Exactly the smallest domain (16 + 4 MiB) still fits. */
	s = host(64 + 20, 0, 0);
	load_compute(&s, &li);
	assert_int_equal(li.full, 0);
	s = host(64 + 19, 0, 0);
	load_compute(&s, &li);
	assert_int_equal(li.full, 1);

	/* in and out may be the same memory. */
	{
		struct load_info both;

		both.in = host(1088, 2, 0.10);
		load_compute(&both.in, &both);
		assert_float_equal(both.coefficient, 0.5, 1e-9);
	}
}

static void
test_fits(void **state)
{
	struct load_sample s = host(64 + 180, 3, 0.5);
	struct mcd_template demo = tpl("linux-demo", 256);
	struct mcd_template small = tpl("tiny", 128);
	struct load_info li;
	char why[256];

	(void)state;
	assert_int_equal(load_need_kb(&demo), 260 * MB);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &demo, why, sizeof(why)), 0);
	assert_string_equal(why, "not enough free memory: template linux-demo "
	    "needs 260 MiB (memory 256 + 4 MiB overhead), 180 MiB free");
	assert_int_equal(load_fits(&li, &small, why, sizeof(why)), 1);
	assert_string_equal(why, "template tiny needs 132 MiB, 180 MiB free");

	/* Exactly enough. */
	s = host(64 + 260, 3, 0);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &demo, why, sizeof(why)), 1);
	s = host(64 + 259, 3, 0);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &demo, NULL, 0), 0);

	/* The domain cap. */
	s = host(2000, 32, 0);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &small, why, sizeof(why)), 0);
	assert_string_equal(why, "too many domains: 32 guests running, at most "
	    "32 (MCD_LOAD_MAX_DOMAINS)");
	s = host(2000, 31, 0);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &small, why, sizeof(why)), 1);

	/* A busy CPU ranks, it does not refuse. */
	s = host(2000, 1, 1.0);
	load_compute(&s, &li);
	assert_int_equal(load_fits(&li, &demo, why, sizeof(why)), 1);
}

static void
test_cmp(void **state)
{
	struct load_sample s;
	struct load_info a, b;

	(void)state;
	/* 98% memory, idle CPU loses to 50% of everything. */
	s = host(64 + 41, 1, 0);
	load_compute(&s, &a);
	s = host(64 + 1024, 16, 0.5);
	load_compute(&s, &b);
	assert_true(a.coefficient > 0.97);
	assert_true(load_cmp(&b, &a) < 0);
	assert_true(load_cmp(&a, &b) > 0);
	assert_int_equal(load_cmp(&a, &a), 0);

	/* Equal maxima: the lower mean wins. */
	s = host(64 + 1024, 16, 0.5);		/* mem .5 cpu .5 dom .5 */
	load_compute(&s, &a);
	s = host(64 + 1024, 0, 0);		/* mem .5 cpu 0 dom 0 */
	load_compute(&s, &b);
	assert_float_equal(a.coefficient, b.coefficient, 1e-6);
	assert_true(load_cmp(&b, &a) < 0);
}

static void
test_limits(void **state)
{
	uint64_t reserve;
	unsigned max;
	char err[256];

	(void)state;
	unsetenv(LOAD_RESERVE_ENV);
	unsetenv(LOAD_MAX_DOMAINS_ENV);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), 0);
	assert_int_equal(reserve, 64 * MB);
	assert_int_equal(max, 32);
	assert_int_equal(load_limits(0, &reserve, &max, err, sizeof(err)), 0);
	assert_int_equal(max, 16);
	assert_int_equal(load_limits(4096, &reserve, &max, err, sizeof(err)),
	    0);
	assert_int_equal(max, LOAD_GUESTS_MAX);

	setenv(LOAD_RESERVE_ENV, "0", 1);
	setenv(LOAD_MAX_DOMAINS_ENV, "5", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), 0);
	assert_int_equal(reserve, 0);
	assert_int_equal(max, 5);
	setenv(LOAD_RESERVE_ENV, "100000", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), 0);
	assert_int_equal(reserve, 100000 * MB);

	setenv(LOAD_MAX_DOMAINS_ENV, "0", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), -1);
	assert_string_equal(err, "MCD_LOAD_MAX_DOMAINS='0': expected a number "
	    "1..32752");
	setenv(LOAD_MAX_DOMAINS_ENV, "12x", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), -1);
	setenv(LOAD_MAX_DOMAINS_ENV, "-3", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), -1);
	setenv(LOAD_MAX_DOMAINS_ENV, "3", 1);
	setenv(LOAD_RESERVE_ENV, "1048577", 1);
	assert_int_equal(load_limits(2, &reserve, &max, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "MCD_LOAD_RESERVE_MB"));
	unsetenv(LOAD_RESERVE_ENV);
	unsetenv(LOAD_MAX_DOMAINS_ENV);
}

/* The command, up to the point where it needs Xen. */
static int
cmd(const char *a0, ...)
{
	char *argv[8];
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)a0;
	va_start(ap, a0);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return cmd_load(argc, argv);
}

static void
test_cmd_load_args(void **state)
{
	(void)state;
	assert_int_equal(cmd("load", "--help", NULL), 0);
	assert_int_equal(cmd("load", "--bogus", NULL), 2);
	assert_int_equal(cmd("load", "extra", NULL), 2);
	assert_int_equal(cmd("load", "--template", NULL), 2);
	assert_int_equal(cmd("load", "--template", "../x", NULL), 1);
	/* A template that does not exist is refused before Xen is asked. */
	setenv(TEMPLATE_DIR_ENV, "/nonexistent-mcd-templates", 1);
	assert_int_equal(cmd("load", "--template", "nope", NULL), 1);
	unsetenv(TEMPLATE_DIR_ENV);
	/* A bad setting is one clear error, before Xen is asked. */
	setenv(LOAD_RESERVE_ENV, "lots", 1);
	assert_int_equal(cmd("load", "--json", NULL), 1);
	unsetenv(LOAD_RESERVE_ENV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compute_memory_bound),
		cmocka_unit_test(test_compute_cpu_and_domains),
		cmocka_unit_test(test_compute_edges),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_cmd_load_args),
	};

	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
