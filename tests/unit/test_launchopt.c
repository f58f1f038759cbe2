/*
 * test_launchopt.c - launch options: parsing on the service side, the
 * CLI's --xauth and --share readers, and that secrets are wiped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "launchopt.h"

#define COOKIE "00112233445566778899aabbccddeeff"

static int apply(struct launch_opt *o, const char *kv, char *err, size_t n)
{
	err[0] = '\0';
	return launchopt_apply(o, kv, err, n);
}

static void test_defaults_and_x(void **state)
{
	struct launch_opt o;
	char err[128];

	(void)state;
	launchopt_init(&o);
	assert_int_equal(o.xflags, MCD_LAUNCH_X_RELAY);
	assert_string_equal(launchopt_xmode(&o), "relay");
	assert_int_equal(apply(&o, "x=direct", err, sizeof(err)), 0);
	assert_string_equal(launchopt_xmode(&o), "direct");
	assert_int_equal(apply(&o, "x=none", err, sizeof(err)), 0);
	assert_int_equal(o.xflags, 0);
	assert_int_equal(apply(&o, "x=vnc", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "relay, direct or none"));
	assert_int_equal(apply(&o, "xtls=7100", err, sizeof(err)), 0);
	assert_int_equal(o.xtls_port, 7100);
	assert_int_equal(apply(&o, "xtls=0", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "xtls=70000", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "xtls=7x", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "xcookie=" COOKIE, err, sizeof(err)), 0);
	assert_string_equal(o.xcookie, COOKIE);
	assert_int_equal(apply(&o, "xcookie=1234", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "volume=yes", err, sizeof(err)), 0);
	assert_true(o.volume);
	assert_int_equal(apply(&o, "volume=maybe", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "colour=blue", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown launch option 'colour'"));
}

static void test_is_option(void **state)
{
	(void)state;
	assert_true(launchopt_is_option("x=relay"));
	/* argv[0] is an absolute path, even one with '=' in it. */
	assert_false(launchopt_is_option("/usr/bin/env"));
	assert_false(launchopt_is_option("/opt/a=b"));
	assert_false(launchopt_is_option("=x"));
	assert_false(launchopt_is_option("plain"));
}

static void test_shares(void **state)
{
	struct launch_opt o;
	struct mcd_launch l;
	char err[128];

	(void)state;
	launchopt_init(&o);
	assert_int_equal(apply(&o, "share=nfs|fs:/home/alice|home||", err, sizeof(err)), 0);
	/* The password is the rest of the string, '|' and all. */
	assert_int_equal(apply(&o, "share=cifs|//fs/alice|docs|alice|a|b c", err, sizeof(err)), 0);
	assert_int_equal(o.nshares, 2);
	assert_string_equal(o.share[1].password, "a|b c");
	assert_int_equal(apply(&o, "share=cifs|//fs/x|docs|bob|pw", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "used twice"));
	assert_int_equal(apply(&o, "share=nfs|fs:/x|n2|alice|pw", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "share=nfs|fs:/x,exec|n3||", err, sizeof(err)), -1);
	assert_int_equal(apply(&o, "share=nfs|fs:/x", err, sizeof(err)), -1);
	assert_int_equal(o.nshares, 2);
	assert_int_equal(apply(&o, "share=nfs|a:/3|n3||", err, sizeof(err)), 0);
	assert_int_equal(apply(&o, "share=nfs|a:/4|n4||", err, sizeof(err)), 0);
	assert_int_equal(apply(&o, "share=nfs|a:/5|n5||", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));

	memset(&l, 0, sizeof(l));
	snprintf(o.vdev, sizeof(o.vdev), "xvdc");
	launchopt_to_launch(&o, &l);
	assert_int_equal(l.sharec, 4);
	assert_string_equal(l.share[1].user, "alice");
	assert_string_equal(l.volume, "xvdc");
	assert_int_equal(l.flags, MCD_LAUNCH_X_RELAY);

	launchopt_wipe_secrets(&o);
	assert_string_equal(o.share[1].password, "");
	assert_string_equal(o.xcookie, "");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_cli_xauth(void **state)
{
	char dir[] = "/tmp/mcd-launchopt-XXXXXX", path[128], out[64], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cookie", dir);
	write_file(path, COOKIE "\n");
	assert_int_equal(launchopt_cli_xauth(path, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "xcookie=" COOKIE);
	/* A line of `xauth list`, upper case hex accepted. */
	write_file(path, "thin/unix:0  MIT-MAGIC-COOKIE-1  00112233445566778899AABBCCDDEEFF\n");
	assert_int_equal(launchopt_cli_xauth(path, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "xcookie=" COOKIE);
	write_file(path, "no cookie here\n");
	assert_int_equal(launchopt_cli_xauth(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no MIT-MAGIC-COOKIE-1"));
	unlink(path);
	assert_int_equal(launchopt_cli_xauth(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	rmdir(dir);
}

static void test_cli_share(void **state)
{
	char dir[] = "/tmp/mcd-launchopt-XXXXXX", pw[128], spec[256];
	char out[LAUNCHOPT_SHARE_MAX], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	write_file(pw, "s3cret, with|bars\n");
	snprintf(spec, sizeof(spec), "cifs,//fs/alice,docs,alice,%s", pw);
	assert_int_equal(launchopt_cli_share(spec, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "share=cifs|//fs/alice|docs|alice|s3cret, with|bars");
	assert_int_equal(launchopt_cli_share("nfs,fs:/home,home", out, sizeof(out), err,
					     sizeof(err)), 0);
	assert_string_equal(out, "share=nfs|fs:/home|home||");
	assert_int_equal(launchopt_cli_share("nfs,fs:/home", out, sizeof(out), err,
					     sizeof(err)), -1);
	assert_int_equal(launchopt_cli_share("smb,//fs/a,docs", out, sizeof(out), err,
					     sizeof(err)), -1);
	assert_int_equal(launchopt_cli_share("cifs,//fs/a,docs,alice,/nonexistent/pw", out,
					     sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/pw"));
	unlink(pw);
	rmdir(dir);
}

/* Nothing of a secret is left in a launch's options once they are
 * forgotten: not the cookie, not a password, anywhere in the struct. */
static int has_bytes(const void *mem, size_t n, const char *needle)
{
	return memmem(mem, n, needle, strlen(needle)) != NULL;
}

static void test_forget_leaves_nothing(void **state)
{
	struct launch_opt o;
	char err[200];

	(void)state;
	launchopt_init(&o);
	assert_int_equal(launchopt_apply(&o, "xcookie=0123456789abcdef0123456789abcdef",
					 err, sizeof(err)), 0);
	assert_int_equal(launchopt_apply(&o, "share=cifs|//h/s|docs|bob|Sw0rdfish!",
					 err, sizeof(err)), 0);
	/* A refused share must not leave its password behind either. */
	assert_int_equal(launchopt_apply(&o, "share=cifs|//h/s|docs|bob|Tr0ut!",
					 err, sizeof(err)), -1);
	launchopt_forget(&o);
	assert_false(has_bytes(&o, sizeof(o), "0123456789abcdef"));
	assert_false(has_bytes(&o, sizeof(o), "Sw0rdfish!"));
	assert_false(has_bytes(&o, sizeof(o), "Tr0ut!"));
	assert_int_equal(o.nshares, 0);
}

/* A process holding secrets can be neither dumped nor traced by others,
 * and writes no core file. */
static void test_no_core_dumps(void **state)
{
	struct rlimit rl;

	(void)state;
	assert_int_equal(launchopt_no_core_dumps(), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_x),
		cmocka_unit_test(test_is_option),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_forget_leaves_nothing),
		cmocka_unit_test(test_no_core_dumps),
		cmocka_unit_test(test_cli_xauth),
		cmocka_unit_test(test_cli_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
