/*
 * test_ctl.c - the CLI/service control framing and the `command` node's
 * quoting: pure code, no Xen needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "store.h"

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void test_roundtrip(void **state)
{
	const char *strs[] = { "linux-demo", "alice", "10.0.2.2:0", "/usr/bin/app", "" };
	static struct ctl_rx rx;
	static struct ctl_msg m;
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(ctl_send(sv[0], CTL_LAUNCH, strs, 5), 0);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 1);
	assert_int_equal(m.type, CTL_LAUNCH);
	assert_int_equal(m.nstr, 5);
	assert_string_equal(m.str[0], "linux-demo");
	assert_string_equal(m.str[3], "/usr/bin/app");
	assert_string_equal(m.str[4], "");
	assert_null(m.str[5]);
	/* Nothing more: the reader waits. */
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	close(sv[0]);
	/* Peer gone: the reader says so. */
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[1]);
}

static void test_fragmented(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_END, 17 };
	const char *payload = "0123456789abcdef";
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 5), 5);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	assert_int_equal(write(sv[0], (char *)hdr + 5, 3), 3);
	assert_int_equal(write(sv[0], payload, 10), 10);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 0);
	assert_int_equal(write(sv[0], payload + 10, 7), 7);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), 1);
	assert_int_equal(m.nstr, 1);
	assert_string_equal(m.str[0], payload);
	close(sv[0]);
	close(sv[1]);
}

static void test_oversized_refused(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_LAUNCH, CTL_MAX_PAYLOAD + 1 };
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_unterminated_refused(void **state)
{
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_END, 4 };
	int sv[2];

	(void)state;
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(write(sv[0], "abcd", 4), 4);
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_too_many_strings_refused(void **state)
{
	static char payload[2 * (CTL_MAX_STRS + 1)];
	static struct ctl_rx rx;
	static struct ctl_msg m;
	uint32_t hdr[2] = { CTL_LAUNCH, sizeof(payload) };
	int sv[2];

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i += 2) {
		payload[i] = 'a';
		payload[i + 1] = '\0';
	}
	pair(sv);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(write(sv[0], hdr, 8), 8);
	assert_int_equal(write(sv[0], payload, sizeof(payload)), (ssize_t)sizeof(payload));
	assert_int_equal(ctl_rx_read(sv[1], &rx, &m), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_quote_argv(void **state)
{
	const char *plain[] = { "/usr/bin/app", "--arg", "a=b", NULL };
	const char *odd[] = { "/bin/sh", "-c", "echo 'hi' there", "", NULL };
	char out[256];

	(void)state;
	store_quote_argv(out, sizeof(out), plain);
	assert_string_equal(out, "/usr/bin/app --arg a=b");
	store_quote_argv(out, sizeof(out), odd);
	assert_string_equal(out, "/bin/sh -c 'echo '\\''hi'\\'' there' ''");
}

static void test_quote_argv_truncates(void **state)
{
	static char big[2000];
	const char *argv[] = { "/usr/bin/app", big, NULL };
	char out[64];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	store_quote_argv(out, sizeof(out), argv);
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out + strlen(out) - 3, "...");
	assert_memory_equal(out, "/usr/bin/app", 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fragmented),
		cmocka_unit_test(test_oversized_refused),
		cmocka_unit_test(test_unterminated_refused),
		cmocka_unit_test(test_too_many_strings_refused),
		cmocka_unit_test(test_quote_argv),
		cmocka_unit_test(test_quote_argv_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
