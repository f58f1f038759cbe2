/*
 * test_faceconf.c - the face's configuration file (good, unknown key, bad
 * level, bad share, missing and repeated keys), {user} substitution, and
 * the ticket -> CTL_LAUNCH translation, without Xen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "faceconf.h"
#include "mcd_ticket.h"

static char dir[] = "/tmp/test_faceconf.XXXXXX";
static char conf_path[300], pw_path[300];

static const char GOOD[] =
	"# the pool master of level 2\n"
	"name = pool-a.example\n"
	"level = 2\n"
	"listen = 0.0.0.0:7443\n"
	"cert = /etc/mcd/face.crt\n"
	"key = /etc/mcd/face.key\n"
	"ca = /etc/mcd/ca.crt\n"
	"ticket_key = /etc/mcd/ticket.pub\n"
	"\n"
	"max_connections = 10\n"
	"volume = yes\n"
	"share = nfs storage:/home/{user} data\n";

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Load text as a config file: the return code, err and the count. */
static int load(const char *text, struct face_conf *c, char *err,
		size_t errlen, unsigned *nerr)
{
	write_file(conf_path, text, 0600);
	err[0] = '\0';
	return faceconf_load(conf_path, c, err, errlen, nerr);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/face.conf", dir);
	snprintf(pw_path, sizeof(pw_path), "%s/share.pw", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	unlink(pw_path);
	rmdir(dir);
	return 0;
}

static void test_good(void **state)
{
	struct face_conf c;
	char err[256];
	unsigned n;

	(void)state;
	assert_int_equal(load(GOOD, &c, err, sizeof(err), &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(c.name, "pool-a.example");
	assert_int_equal(c.level, 2);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 7443);
	assert_string_equal(c.ticket_key, "/etc/mcd/ticket.pub");
	assert_int_equal(c.max_connections, 10);
	assert_int_equal(c.volume, 1);
	assert_int_equal(c.nshares, 1);
	assert_string_equal(c.share[0].source, "storage:/home/{user}");
	assert_string_equal(c.share[0].password, "");
	faceconf_wipe(&c);
}

static void test_defaults_and_v6(void **state)
{
	struct face_conf c;
	char err[256];

	(void)state;
	assert_int_equal(load("name = p1\nlevel = 16\nlisten = [::1]:443\n"
			      "cert = /c\nkey = /k\nticket_key = /t\n",
			      &c, err, sizeof(err), NULL), 0);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 443);
	assert_int_equal(c.max_connections, FACE_CONN_DEFAULT);
	assert_int_equal(c.volume, 0);
	assert_int_equal(c.nshares, 0);
}

static void test_unknown_key(void **state)
{
	struct face_conf c;
	char err[256], want[400];
	unsigned n;

	(void)state;
	assert_int_equal(load("name = p1\nlevle = 2\n", &c, err, sizeof(err), &n), -1);
	snprintf(want, sizeof(want), "%s:2: unknown key 'levle'", conf_path);
	assert_string_equal(err, want);
	/* The unknown key, then level missing (and listen, cert...). */
	assert_true(n >= 2);
}

static void test_bad_level(void **state)
{
	static const char *const bad[] = { "0", "17", "-1", "2x", "" };
	char err[256], text[512];
	struct face_conf c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "name = p1\nlisten = 1.2.3.4:5\n"
			 "level = %s\ncert = /c\nkey = /k\nticket_key = /t\n", bad[i]);
		assert_int_equal(load(text, &c, err, sizeof(err), NULL), -1);
		assert_non_null(strstr(err, ":3: level"));
	}
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = {
		"listen = 1.2.3.4", "listen = ::1:80", "listen = h:0",
		"name = Pool", "cert = relative.crt", "max_connections = 0",
		"volume = maybe", "name = p1", "junk line",
	};
	char err[256], text[512];
	struct face_conf c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* "name = p1" a second time: a repeated key. */
		snprintf(text, sizeof(text), "name = p1\nlevel = 1\nlisten = h:1\n"
			 "cert = /c\nkey = /k\nticket_key = /t\n%s\n", bad[i]);
		assert_int_equal(load(text, &c, err, sizeof(err), NULL), -1);
		assert_non_null(strstr(err, ":7: "));
	}
	assert_int_equal(load("name = p1\n", &c, err, sizeof(err), NULL), -1);
	assert_non_null(strstr(err, "level is required"));
}

static void test_bad_share(void **state)
{
	static const char *const bad[] = {
		"share = nfs storage:/home/{user}",           /* no name */
		"share = smb //s/{user} data",                /* kind */
		"share = nfs storage:/home/{usr} data",       /* placeholder */
		"share = nfs storage:/home/{user} ../x",      /* mount name */
		"share = nfs storage:/home/{user} data bob",  /* user w/o file */
		"share = cifs //s/{user} data bob /nonexistent/pw",
	};
	char err[256], text[512];
	struct face_conf c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "name = p1\nlevel = 1\nlisten = h:1\n"
			 "cert = /c\nkey = /k\nticket_key = /t\n%s\n", bad[i]);
		assert_int_equal(load(text, &c, err, sizeof(err), NULL), -1);
		assert_non_null(strstr(err, ":7: share"));
	}
	/* A password file anyone can read is refused. */
	write_file(pw_path, "s3cret\n", 0644);
	snprintf(text, sizeof(text), "name = p1\nlevel = 1\nlisten = h:1\n"
		 "cert = /c\nkey = /k\nticket_key = /t\n"
		 "share = cifs //s/{user} docs svc %s\n", pw_path);
	assert_int_equal(load(text, &c, err, sizeof(err), NULL), -1);
	assert_non_null(strstr(err, "read by anyone"));
	write_file(pw_path, "s3cret\n", 0600);
	assert_int_equal(load(text, &c, err, sizeof(err), NULL), 0);
	assert_string_equal(c.share[0].password, "s3cret");
	assert_string_equal(c.share[0].user, "svc");
	faceconf_wipe(&c);
	assert_string_equal(c.share[0].password, "");
}

static void test_subst_user(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(faceconf_subst_user("s:/home/{user}", "alice", out,
					     sizeof(out)), 0);
	assert_string_equal(out, "s:/home/alice");
	assert_int_equal(faceconf_subst_user("//s/{user}/{user}x", "bo", out,
					     sizeof(out)), 0);
	assert_string_equal(out, "//s/bo/box");
	assert_int_equal(faceconf_subst_user("s:/plain", "bo", out, sizeof(out)), 0);
	assert_string_equal(out, "s:/plain");
	assert_int_equal(faceconf_subst_user("{user}", "alice", out, 5), -1);
	assert_int_equal(faceconf_subst_user("{user}", "alic", out, 5), 0);
}

static void ticket(struct mcd_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->user = "alice";
	t->app = "writer";
	t->level = 2;
	t->template_name = "linux-demo";
	t->program = "/usr/bin/xterm";
	t->nargs = 2;
	t->args[0] = "-e";
	t->args[1] = "top";
	t->pool = "pool-a.example";
	t->display = "10.0.2.2:0";
}

static void test_launch_msg(void **state)
{
	static const char COOKIE[] = "00112233445566778899aabbccddeeff";
	struct ctl_msg *m = malloc(sizeof(*m));
	struct mcd_ticket t;
	struct face_conf c;
	char err[256], text[1024];

	(void)state;
	write_file(pw_path, "pw|with|bars\n", 0600);
	snprintf(text, sizeof(text), "%s"
		 "share = cifs //store/{user}/docs docs svc %s\n", GOOD, pw_path);
	assert_int_equal(load(text, &c, err, sizeof(err), NULL), 0);
	ticket(&t);
	assert_int_equal(face_launch_msg(&t, &c, COOKIE, 30, m, err,
					 sizeof(err)), 0);
	assert_int_equal(m->type, CTL_LAUNCH);
	assert_int_equal(m->nstr, 11);
	assert_string_equal(m->str[0], "linux-demo");
	assert_string_equal(m->str[1], "alice");
	assert_string_equal(m->str[2], "10.0.2.2:0");
	assert_string_equal(m->str[3], "30");
	assert_string_equal(m->str[4], "xcookie=00112233445566778899aabbccddeeff");
	assert_string_equal(m->str[5], "volume=yes");
	assert_string_equal(m->str[6], "share=nfs|storage:/home/alice|data||");
	assert_string_equal(m->str[7], "share=cifs|//store/alice/docs|docs|svc|pw|with|bars");
	assert_string_equal(m->str[8], "/usr/bin/xterm");
	assert_string_equal(m->str[9], "-e");
	assert_string_equal(m->str[10], "top");
	assert_null(m->str[11]);

	/* No cookie, no storage, no wait. */
	faceconf_wipe(&c);
	assert_int_equal(load("name = p1\nlevel = 2\nlisten = h:1\ncert = /c\n"
			      "key = /k\nticket_key = /t\n", &c, err, sizeof(err),
			      NULL), 0);
	t.nargs = 0;
	assert_int_equal(face_launch_msg(&t, &c, NULL, 0, m, err, sizeof(err)), 0);
	assert_int_equal(m->nstr, 5);
	assert_string_equal(m->str[3], "0");
	assert_string_equal(m->str[4], "/usr/bin/xterm");

	/* What the service could not take is refused here. */
	t.user = "root";
	assert_int_equal(face_launch_msg(&t, &c, NULL, 0, m, err, sizeof(err)), -1);
	ticket(&t);
	assert_int_equal(face_launch_msg(&t, &c, NULL, LAUNCH_WAIT_MAX + 1, m,
					 err, sizeof(err)), -1);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults_and_v6),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_level),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_share),
		cmocka_unit_test(test_subst_user),
		cmocka_unit_test(test_launch_msg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
