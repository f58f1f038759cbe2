/*
 * test_agent_conf.c - the agent's configuration parser: what it accepts,
 * and that every malformed line is refused with its file:line.
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

#include "../../guest/linux-agent/conf.h"

/* Parse text as file "t.conf"; returns the error count. */
static int parse(const char *text, size_t len, struct conf *c, char *err,
		 size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int n;

	assert_non_null(f);
	n = conf_parse("t.conf", f, c, err, errlen);
	fclose(f);
	return n;
}

static int parse_str(const char *text, struct conf *c, char *err,
		     size_t errlen)
{
	return parse(text, strlen(text), c, err, errlen);
}

static void test_defaults(void **state)
{
	struct conf c = { .create_users = 7, .x_display = 9 };

	(void)state;
	conf_defaults(&c);
	assert_int_equal(c.create_users, 0);
	assert_int_equal(c.x_display, 0);
}

static void test_x_display(void **state)
{
	char err[256] = "";
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(parse_str("x_display=999\ncreate_users=1\n", &c, err,
				   sizeof(err)), 0);
	assert_int_equal(c.x_display, 999);
	assert_int_equal(c.create_users, 1);
	assert_int_equal(parse_str("x_display = 0\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.x_display, 0);
}

static void test_accepts(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "create_users=1\n", 1 },
		{ "create_users=0\n", 0 },
		{ "create_users=1", 1 },              /* no final newline */
		{ "  create_users =\t1  \n", 1 },     /* blanks around */
		{ "# comment\n\ncreate_users=1\n# end\n", 1 },
		{ "   # indented comment\ncreate_users=1\n", 1 },
		{ "", 0 },                            /* empty file */
		{ "\n\n", 0 },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c;

		conf_defaults(&c);
		err[0] = '\0';
		assert_int_equal(parse_str(cases[i].text, &c, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(c.create_users, cases[i].want);
	}
}

static void test_uid_min(void **state)
{
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(c.uid_min, 0);
	assert_int_equal(parse_str("uid_min = 500\n", &c, NULL, 0), 0);
	assert_int_equal(c.uid_min, 500);
}

/* Each bad file: the error count and the start of the first message. */
static void test_refuses(void **state)
{
	static const struct {
		const char *text;
		int errors;
		const char *first;
	} cases[] = {
		{ "create_users=yes\n", 1, "t.conf:1: create_users must be 0 or 1" },
		{ "create_users=\n", 1, "t.conf:1: create_users must be 0 or 1" },
		{ "create_users=01\n", 1, "t.conf:1: create_users must be 0 or 1" },
		{ "create_users=1 # no trailing comments\n", 1, "t.conf:1: create_users" },
		{ "create_users\n", 1, "t.conf:1: expected key=value" },
		{ "# ok\ncreate_user=1\n", 1, "t.conf:2: unknown key 'create_user'" },
		{ "=1\n", 1, "t.conf:1: unknown key ''" },
		{ "create_users=1\ncreate_users=1\n", 1, "t.conf:2: create_users given twice" },
		{ "create_users=1\r\n", 1, "t.conf:1: control character" },
		{ "x=1\ny=2\ncreate_users=2\n", 3, "t.conf:1: unknown key 'x'" },
		{ "x_display=1000\n", 1, "t.conf:1: x_display must be a number from 0 to 999" },
		{ "x_display=-1\n", 1, "t.conf:1: x_display must be" },
		{ "x_display=07\n", 1, "t.conf:1: x_display must be" },
		{ "x_display=\n", 1, "t.conf:1: x_display must be" },
		{ "x_display=1\nx_display=2\n", 1, "t.conf:2: x_display given twice" },
		{ "uid_min=0\n", 1, "t.conf:1: uid_min must be from 1 to 60000" },
		{ "uid_min=60001\n", 1, "t.conf:1: uid_min must be a number from 0 to 60000" },
		{ "uid_min=1x\n", 1, "t.conf:1: uid_min must be" },
		{ "uid_min=500\nuid_min=500\n", 1, "t.conf:2: uid_min given twice" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c = { .create_users = 5 };

		err[0] = '\0';
		assert_int_equal(parse_str(cases[i].text, &c, err, sizeof(err)),
				 cases[i].errors);
		if (strncmp(err, cases[i].first, strlen(cases[i].first)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err,
				 cases[i].first);
		/* A refused file changes nothing. */
		assert_int_equal(c.create_users, 5);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "create_users=1\0junk\n";
	struct conf c = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(text, sizeof(text) - 1, &c, err, sizeof(err)), 1);
	assert_string_equal(err, "t.conf:1: control character in line");
	assert_int_equal(c.create_users, 0);
}

static void test_long_line(void **state)
{
	char text[CONF_LINE_MAX + 64];
	struct conf c = { 0 };
	char err[256] = "";

	(void)state;
	memset(text, '#', sizeof(text));
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse_str(text, &c, err, sizeof(err)), 1);
	assert_string_equal(err, "t.conf:1: line longer than 256 bytes");

	/* Exactly the limit is fine. */
	memset(text, '#', CONF_LINE_MAX);
	text[CONF_LINE_MAX] = '\n';
	text[CONF_LINE_MAX + 1] = '\0';
	assert_int_equal(parse_str(text, &c, err, sizeof(err)), 0);
}

static void test_load_files(void **state)
{
	char dir[] = "/tmp/mcd-conf-XXXXXX";
	char path[64];
	struct conf c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.conf", dir);

	/* Missing: fine only when allowed. */
	assert_int_equal(conf_load(path, 1, &c), 0);
	assert_int_equal(c.create_users, 0);
	assert_int_equal(conf_load(path, 0, &c), -1);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("create_users=1\n", f);
	fclose(f);
	assert_int_equal(conf_load(path, 0, &c), 0);
	assert_int_equal(c.create_users, 1);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("create_users=1\nbogus\n", f);
	fclose(f);
	assert_int_equal(conf_load(path, 1, &c), -1);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_x_display),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_uid_min),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_load_files),
	};

	return cmocka_run_group_tests_name("agent conf", tests, NULL, NULL);
}
