/*
 * test_client_xcookie.c - the X cookie from a real Xauthority file written
 * with libXau: found for its display number, none for another.
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
#include <X11/X.h>
#include <X11/Xauth.h>

#include "xcookie.h"

static void add(FILE *f, unsigned short family, const char *addr,
		const char *number, const char *name, const char *data,
		unsigned short dlen)
{
	Xauth a = {
		.family = family,
		.address_length = (unsigned short)strlen(addr),
		.address = (char *)addr,
		.number_length = (unsigned short)strlen(number),
		.number = (char *)number,
		.name_length = (unsigned short)strlen(name),
		.name = (char *)name,
		.data_length = dlen,
		.data = (char *)data,
	};

	assert_int_equal(XauWriteAuth(f, &a), 1);
}

static void test_find(void **state)
{
	char path[] = "/tmp/mcd-client-xauth-XXXXXX", hex[XCOOKIE_HEX_LEN + 1];
	char host[256] = "", err[256];
	static const char c1[16] = "\x00\x01\x02\x03\x04\x05\x06\x07"
				   "\x08\x09\x0a\x0b\x0c\x0d\x0e\xff";
	static const char c2[16] = "0123456789abcdef";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	gethostname(host, sizeof(host) - 1);
	/* Display 1: another host's entry first, then this host's. */
	add(f, FamilyInternet, "\x0a\x00\x02\x02", "1", "MIT-MAGIC-COOKIE-1",
	    c2, 16);
	add(f, FamilyLocal, host, "1", "MIT-MAGIC-COOKIE-1", c1, 16);
	/* Display 3: another auth scheme only. */
	add(f, FamilyLocal, host, "3", "XDM-AUTHORIZATION-1", c2, 16);
	fclose(f);

	assert_int_equal(xcookie_find(path, 1, hex, err, sizeof(err)), 1);
	assert_string_equal(hex, "000102030405060708090a0b0c0d0eff");
	assert_int_equal(xcookie_find(path, 2, hex, err, sizeof(err)), 0);
	assert_int_equal(xcookie_find(path, 3, hex, err, sizeof(err)), 0);
	assert_int_equal(xcookie_find("/nonexistent/xauth", 1, hex, err,
				      sizeof(err)), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
