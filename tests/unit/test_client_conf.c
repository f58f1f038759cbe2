/*
 * test_client_conf.c - mcd-client's configuration: a good file with its
 * defaults, and refusals that name file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"

static int parse(struct conf *c, const char *text, char *err, size_t errlen)
{
	return conf_parse(c, "client.conf", text, err, errlen);
}

static void test_good(void **state)
{
	struct conf c;
	char err[256] = "";

	(void)state;
	setenv("HOME", "/home/u", 1);
	unsetenv("XAUTHORITY");
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(parse(&c, "# site\n\nserver = auth.example:7443\n"
			       "ca=/etc/mcd/ca.pem\n  display = 10.0.2.2:1  \n",
			       err, sizeof(err)), 0);
	assert_string_equal(c.server, "auth.example:7443");
	assert_string_equal(c.server_name, "auth.example");
	assert_string_equal(c.ca, "/etc/mcd/ca.pem");
	assert_string_equal(c.display, "10.0.2.2:1");
	assert_string_equal(c.xauthority, "/home/u/.Xauthority");
	assert_string_equal(c.state_dir, "/home/u/.cache/mcd");
	assert_int_equal(c.load_timeout_ms, 2000);

	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	setenv("XAUTHORITY", "/tmp/xa", 1);
	assert_int_equal(parse(&c, "server = [::1]:7443\nca = /ca.pem\n"
			       "server_name = auth\nload_timeout_ms = 500\n",
			       err, sizeof(err)), 0);
	assert_string_equal(c.server_name, "auth");
	assert_string_equal(c.state_dir, "/run/user/1000/mcd");
	assert_string_equal(c.xauthority, "/tmp/xa");
	assert_int_equal(c.load_timeout_ms, 500);
	assert_string_equal(c.display, "");
}

static void test_unknown_key(void **state)
{
	struct conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&c, "server = a:1\nca = /ca\nsrever = b:2\n",
			       err, sizeof(err)), -1);
	assert_string_equal(err, "client.conf:3: unknown key 'srever'");
	assert_int_equal(parse(&c, "server a:1\n", err, sizeof(err)), -1);
	assert_string_equal(err, "client.conf:1: expected 'key = value'");
	assert_int_equal(parse(&c, "server = a:1\nserver = a:2\n", err,
			       sizeof(err)), -1);
	assert_string_equal(err, "client.conf:2: server given twice");
}

static void test_bad_value(void **state)
{
	struct conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&c, "server = a:1\n\nload_timeout_ms = 0\n",
			       err, sizeof(err)), -1);
	assert_string_equal(err, "client.conf:3: bad value for "
			    "load_timeout_ms: '0' (milliseconds, 1..600000)");
	assert_int_equal(parse(&c, "server = host\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "client.conf:1: bad value for server"));
	assert_int_equal(parse(&c, "server = h:70000\n", err, sizeof(err)), -1);
	assert_int_equal(parse(&c, "ca = relative.pem\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "client.conf:1: bad value for ca"));
	assert_int_equal(parse(&c, "display = host\n", err, sizeof(err)), -1);
	assert_int_equal(parse(&c, "display = h:1.x\n", err, sizeof(err)), -1);
	assert_int_equal(parse(&c, "load_timeout_ms = 12ms\n", err,
			       sizeof(err)), -1);
}

static void test_missing(void **state)
{
	struct conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&c, "ca = /ca\n", err, sizeof(err)), -1);
	assert_string_equal(err, "client.conf: missing server");
	assert_int_equal(parse(&c, "server = a:1\n", err, sizeof(err)), -1);
	assert_string_equal(err, "client.conf: missing ca");
	assert_int_equal(conf_load(&c, "/nonexistent/client.conf", err,
				   sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/client.conf: "));
}

static void test_display(void **state)
{
	(void)state;
	assert_int_equal(conf_display_number("10.0.2.2:0"), 0);
	assert_int_equal(conf_display_number("thin:12.1"), 12);
	assert_int_equal(conf_display_number(":1"), -1);
	assert_int_equal(conf_display_number("h:"), -1);
	assert_int_equal(conf_valid_address("h:1"), 1);
	assert_int_equal(conf_valid_address("h:0"), 0);
}

static void test_path(void **state)
{
	char p[256], err[128];

	(void)state;
	unsetenv(CONF_ENV);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(conf_path(NULL, p, sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(p, "/home/u/.config/mcd/client.conf");
	setenv(CONF_ENV, "/etc/mcd/client.conf", 1);
	assert_int_equal(conf_path(NULL, p, sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(p, "/etc/mcd/client.conf");
	assert_int_equal(conf_path("x.conf", p, sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(p, "x.conf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
