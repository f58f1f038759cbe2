/*
 * test_agent_appout.c - the app's output (appout.c): every line marked as
 * the app's, nothing that moves the console or forges the agent's lines,
 * long lines cut, a flood limited, reading never blocks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../guest/linux-agent/appout.h"

struct cap {
	char *buf;
	size_t len;
	FILE *f;
	int p[2];
	struct appout a;
};

static void cap_open(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	assert_int_equal(pipe(c->p), 0);
	appout_init(&c->a, c->p[0], c->f);
}

static void cap_close(struct cap *c)
{
	appout_close(&c->a);
	close(c->p[1]);
	fclose(c->f);
	free(c->buf);
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* The app cannot write a line that starts like the agent's, nor put
 * control characters (a carriage return, an escape) on the console. */
static void test_lines_are_marked(void **state)
{
	static const char in[] = "hello\nmcd-agent: session 0123456789abcdef: FAKE\n"
				 "\rmcd-agent: also fake\x1b[2J\npartial";
	struct cap c;

	(void)state;
	cap_open(&c);
	assert_int_equal(write(c.p[1], in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
	assert_int_equal(appout_read(&c.a, 1000), 0);
	/* Not there yet: the partial line waits for its end. */
	fflush(c.f);
	assert_null(strstr(c.buf, "partial"));
	close(c.p[1]);
	c.p[1] = dup(2);
	assert_int_equal(appout_read(&c.a, 1000), -1); /* end of file */
	fflush(c.f);
	assert_string_equal(c.buf,
		"app: hello\n"
		"app: mcd-agent: session 0123456789abcdef: FAKE\n"
		"app: ?mcd-agent: also fake?[2J\n"
		"app: partial\n");
	for (char *l = c.buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		assert_memory_equal(l, "app: ", 5);
	assert_int_equal(c.a.fd, -1);
	cap_close(&c);
}

static void test_long_line_cut(void **state)
{
	char in[3 * APPOUT_LINE_MAX];
	struct cap c;

	(void)state;
	cap_open(&c);
	memset(in, 'x', sizeof(in));
	in[sizeof(in) - 1] = '\n';
	assert_int_equal(write(c.p[1], in, sizeof(in)), (ssize_t)sizeof(in));
	assert_int_equal(appout_read(&c.a, 1000), 0);
	fflush(c.f);
	assert_int_equal(c.len, strlen("app: ") + APPOUT_LINE_MAX + strlen(" [cut]\n"));
	assert_non_null(strstr(c.buf, " [cut]\n"));
	cap_close(&c);
}

/* A flood: a burst goes through, the rest is counted, and a second later
 * lines flow again, after the count. */
static void test_flood_limited(void **state)
{
	struct cap c;
	char line[16];

	(void)state;
	cap_open(&c);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "l%d\n", i);

		assert_int_equal(write(c.p[1], line, (size_t)n), n);
		if (i % 100 == 99)
			assert_int_equal(appout_read(&c.a, 5000), 0);
	}
	fflush(c.f);
	assert_int_equal(count(c.buf, "app: l"), APPOUT_BURST);
	assert_int_equal(write(c.p[1], "later\n", 6), 6);
	assert_int_equal(appout_read(&c.a, 6000), 0);
	fflush(c.f);
	assert_non_null(strstr(c.buf, "app: (800 lines dropped)\napp: later\n"));
	cap_close(&c);
}

/* Nothing to read: return at once, never wait for the app. */
static void test_never_blocks(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c);
	assert_int_equal(appout_read(&c.a, 1000), 0);
	cap_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_are_marked),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_flood_limited),
		cmocka_unit_test(test_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
