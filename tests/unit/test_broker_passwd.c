/*
 * test_broker_passwd.c - scrypt password hashes (passwd.c): right and
 * wrong passwords, the stored format and its refusals, the stand-in work
 * for unknown users; and login tokens (token.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "passwd.h"
#include "token.h"

static int setup(void **state)
{
	(void)state;
	/* Small N: these tests check behaviour, not cost. */
	setenv(PASSWD_N_ENV, "1024", 1);
	return 0;
}

static void test_right_wrong(void **state)
{
	char h1[PASSWD_STR_MAX], h2[PASSWD_STR_MAX];

	(void)state;
	assert_int_equal(passwd_hash("s3cret", 6, h1, sizeof(h1), NULL, 0), 0);
	assert_int_equal(strncmp(h1, "scrypt$1024$8$1$", 16), 0);
	assert_int_equal(strlen(h1), 16 + 32 + 1 + 64);
	assert_int_equal(passwd_verify("s3cret", 6, h1), 1);
	assert_int_equal(passwd_verify("s3cre", 5, h1), 0);
	assert_int_equal(passwd_verify("s3cret!", 7, h1), 0);
	/* Binary passwords: every byte counts, NULs included. */
	assert_int_equal(passwd_hash("a\0b", 3, h2, sizeof(h2), NULL, 0), 0);
	assert_int_equal(passwd_verify("a\0b", 3, h2), 1);
	assert_int_equal(passwd_verify("a\0c", 3, h2), 0);
	/* A fresh salt each time. */
	assert_int_equal(passwd_hash("s3cret", 6, h2, sizeof(h2), NULL, 0), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(passwd_verify("s3cret", 6, h2), 1);
	/* Too small a buffer is an error, not a cut hash. */
	assert_int_equal(passwd_hash("x", 1, h2, 20, NULL, 0), -1);
}

static void test_parse(void **state)
{
	static const char salt[] = "00112233445566778899aabbccddeeff";
	static const char hash[] =
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char *const bad[] = {
		"",
		"bcrypt$1024$8$1$",
		"scrypt$1000$8$1$%s$%s",     /* N not a power of two */
		"scrypt$1$8$1$%s$%s",        /* N too small */
		"scrypt$2097152$8$1$%s$%s",  /* N too large */
		"scrypt$01024$8$1$%s$%s",    /* leading zero */
		"scrypt$1024$0$1$%s$%s",     /* r */
		"scrypt$1024$8$65$%s$%s",    /* p */
		"scrypt$1024$8$1$%sxx$%s",   /* salt length */
		"scrypt$1024$8$1$%s$%s0",    /* hash length */
		"scrypt$1024$8$1$%s$%.63sG", /* not hex */
		"scrypt$1024$8$1$%s",        /* no hash */
		"scrypt$1024$8$%s$%s",       /* a field missing */
	};
	struct passwd_params pp;
	char s[256], err[128];

	(void)state;
	snprintf(s, sizeof(s), "scrypt$1024$8$1$%s$%s", salt, hash);
	assert_int_equal(passwd_parse(s, &pp, err, sizeof(err)), 0);
	assert_int_equal(pp.n, 1024);
	assert_int_equal(pp.r, 8);
	assert_int_equal(pp.p, 1);
	assert_int_equal(pp.salt[15], 0xff);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(s, sizeof(s), bad[i], salt, hash);
#pragma GCC diagnostic pop
		err[0] = '\0';
		assert_int_equal(passwd_parse(s, &pp, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		/* A broken entry never matches. */
		assert_int_equal(passwd_verify("x", 1, s), -1);
	}
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The stand-in for an unknown user costs about what a real check does
 * (a loose bound: it must not be the instant answer it would be without
 * the KDF). */
static void test_unknown_user(void **state)
{
	char h[PASSWD_STR_MAX];
	struct timespec t0, t1, t2;
	double real, dummy;

	(void)state;
	setenv(PASSWD_N_ENV, "16384", 1);
	assert_int_equal(passwd_hash("pw", 2, h, sizeof(h), NULL, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 3; i++)
		passwd_verify("wrong", 5, h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < 3; i++)
		passwd_dummy("wrong", 5);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	real = elapsed(&t0, &t1);
	dummy = elapsed(&t1, &t2);
	assert_true(dummy > real / 4);
	assert_true(dummy < real * 4);
	setenv(PASSWD_N_ENV, "1024", 1);
}

/* The knob only lowers N: garbage or a larger value means the default. */
static void test_knob(void **state)
{
	char h[PASSWD_STR_MAX];

	(void)state;
	setenv(PASSWD_N_ENV, "1000", 1);
	assert_int_equal(passwd_hash("pw", 2, h, sizeof(h), NULL, 0), 0);
	assert_int_equal(strncmp(h, "scrypt$32768$", 13), 0);
	setenv(PASSWD_N_ENV, "1024", 1);
}

static void test_tokens(void **state)
{
	char t1[MCD_SITE_TOKEN_LEN + 1], t2[MCD_SITE_TOKEN_LEN + 1];
	char h[TOKEN_HASH_HEX + 1];

	(void)state;
	assert_int_equal(token_new(t1), 0);
	assert_int_equal(token_new(t2), 0);
	assert_int_equal(strlen(t1), MCD_SITE_TOKEN_LEN);
	assert_int_equal(strspn(t1, "0123456789abcdef"), MCD_SITE_TOKEN_LEN);
	assert_string_not_equal(t1, t2);
	assert_int_equal(token_hash("abc", h), 0);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_wrong),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_knob),
		cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
