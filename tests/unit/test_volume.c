/*
 * test_volume.c - users' volumes in dom0 without Xen: where a volume
 * lives, who holds it, making one (with a stand-in mkfs.ext4), and the
 * template's size key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "template.h"
#include "volume.h"

static char tmpdir[64];
static char err[512];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mcd-test-volume-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	unsetenv(VOLUME_MKFS_ENV);
	return 0;
}

static void test_path(void **state)
{
	char p[VOLUME_PATH_MAX + 1], longdir[300];

	(void)state;
	assert_int_equal(volume_path("/var/lib/mcd/volumes", "alice", p, sizeof(p),
				     err, sizeof(err)), 0);
	assert_string_equal(p, "/var/lib/mcd/volumes/alice.img");
	/* One volume per user name; names that are no user are refused. */
	assert_int_equal(volume_path("/v", "root", p, sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(volume_path("/v", "../etc", p, sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(volume_path("/v", "Alice", p, sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(volume_path("/v", "", p, sizeof(p), err, sizeof(err)), -1);
	/* The directory reaches the hotplug script: plain characters only. */
	assert_int_equal(volume_path("relative", "alice", p, sizeof(p), err,
				     sizeof(err)), -1);
	assert_int_equal(volume_path("/a b", "alice", p, sizeof(p), err, sizeof(err)), -1);
	assert_int_equal(volume_path("/a/../b", "alice", p, sizeof(p), err,
				     sizeof(err)), -1);
	assert_int_equal(volume_path("/a,b", "alice", p, sizeof(p), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "volume directory"));
	/* It must fit XenStore's node. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(volume_path(longdir, "alice", p, sizeof(p), err,
				     sizeof(err)), -1);
	/* The default directory, or the environment's. */
	unsetenv(VOLUME_DIR_ENV);
	assert_string_equal(volume_dir(), VOLUME_DIR_DEFAULT);
	setenv(VOLUME_DIR_ENV, "/srv/vols", 1);
	assert_int_equal(volume_path(NULL, "bob", p, sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(p, "/srv/vols/bob.img");
	unsetenv(VOLUME_DIR_ENV);
}

static void test_holder(void **state)
{
	struct daemon d = { 0 };
	struct session *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
		       *c = calloc(1, sizeof(*c));

	(void)state;
	snprintf(a->sid, sizeof(a->sid), "aaaaaaaaaaaaaaaa");
	snprintf(a->volume, sizeof(a->volume), "/v/alice.img");
	snprintf(b->sid, sizeof(b->sid), "bbbbbbbbbbbbbbbb"); /* no volume */
	snprintf(c->sid, sizeof(c->sid), "cccccccccccccccc");
	snprintf(c->volume, sizeof(c->volume), "/v/carol.img");
	a->next = b;
	b->next = c;
	d.sessions = a;
	assert_ptr_equal(volume_holder(&d, "/v/alice.img", NULL), a);
	assert_ptr_equal(volume_holder(&d, "/v/carol.img", NULL), c);
	assert_null(volume_holder(&d, "/v/bob.img", NULL));
	/* A session is not in its own way. */
	assert_null(volume_holder(&d, "/v/alice.img", a));
	/* A session without a volume never holds the empty one. */
	assert_null(volume_holder(&d, "", NULL));
	free(a);
	free(b);
	free(c);
}

/* A stand-in mkfs.ext4: notes each call and writes a marker into the file
 * it is given (its last argument), or fails if told to. */
static void fake_mkfs(const char *mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mkfs", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$@\" >>%s/mkfs.calls\n", tmpdir);
	if (strcmp(mode, "fail") == 0)
		fprintf(f, "echo 'mke2fs 1.47.0'\necho 'mkfs.ext4: Device size reported to be zero.' >&2\nexit 1\n");
	else
		fprintf(f, "for a; do last=$a; done\nprintf FAKE-EXT4 | dd of=\"$last\" conv=notrunc 2>/dev/null\n");
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	setenv(VOLUME_MKFS_ENV, path, 1);
}

static int calls(void)
{
	char path[128], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/mkfs.calls", tmpdir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void test_prepare(void **state)
{
	char vol[200], tmp[210], dir[150];
	struct stat st;

	(void)state;
	fake_mkfs("ok");
	snprintf(dir, sizeof(dir), "%s/lib/volumes", tmpdir);
	snprintf(vol, sizeof(vol), "%s/alice.img", dir);
	assert_int_equal(volume_prepare(vol, 64ULL << 20, err, sizeof(err)), 0);
	assert_int_equal(calls(), 1);
	assert_int_equal(lstat(vol, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 64LL << 20);
	/* Sparse: only what mkfs wrote takes room. */
	assert_true(st.st_blocks * 512 < (1 << 20));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(tmp, sizeof(tmp), "%s.new", vol);
	assert_int_equal(access(tmp, F_OK), -1);

	/* An existing volume is used as it is: no second mkfs. */
	assert_int_equal(volume_prepare(vol, 128ULL << 20, err, sizeof(err)), 0);
	assert_int_equal(calls(), 1);
	assert_int_equal(stat(vol, &st), 0);
	assert_int_equal(st.st_size, 64LL << 20);

	/* A link where a volume should be is refused, never followed. */
	snprintf(vol, sizeof(vol), "%s/mallory.img", dir);
	assert_int_equal(symlink("/etc/passwd", vol), 0);
	assert_int_equal(volume_prepare(vol, 64ULL << 20, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(calls(), 1);
}

static void test_prepare_fails(void **state)
{
	char vol[200], tmp[210];

	(void)state;
	fake_mkfs("fail");
	snprintf(vol, sizeof(vol), "%s/bob.img", tmpdir);
	assert_int_equal(volume_prepare(vol, 64ULL << 20, err, sizeof(err)), -1);
	/* The reason is mkfs's own last line; nothing is left behind. */
	assert_non_null(strstr(err, "mkfs.ext4 failed (1)"));
	assert_non_null(strstr(err, "Device size reported to be zero."));
	assert_int_equal(access(vol, F_OK), -1);
	snprintf(tmp, sizeof(tmp), "%s.new", vol);
	assert_int_equal(access(tmp, F_OK), -1);

	/* No mkfs at all: a clear reason. */
	setenv(VOLUME_MKFS_ENV, "/nonexistent/mkfs.ext4", 1);
	assert_int_equal(volume_prepare(vol, 64ULL << 20, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/mkfs.ext4"));
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_size(void **state)
{
	static const struct {
		const char *s;
		int ok;
		uint64_t bytes;
	} cases[] = {
		{ "256M", 1, 256ULL << 20 },
		{ "256m", 1, 256ULL << 20 },
		{ "16M", 1, 16ULL << 20 },
		{ "16384K", 1, 16ULL << 20 },
		{ "1G", 1, 1ULL << 30 },
		{ "2g", 1, 2ULL << 30 },
		{ "16T", 1, 16ULL << 40 },
		{ "15M", 0, 0 },      /* too small for ext4 and its journal */
		{ "17T", 0, 0 },
		{ "99999999999999999999T", 0, 0 },
		{ "18446744073709551615K", 0, 0 },
		{ "256", 0, 0 },      /* a unit is required */
		{ "256MB", 0, 0 },
		{ "256 M", 0, 0 },
		{ "-1G", 0, 0 },
		{ "+1G", 0, 0 },
		{ " 1G", 0, 0 },
		{ "1P", 0, 0 },
		{ "G", 0, 0 },
		{ "", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t b = 7;
		int r = template_parse_size(cases[i].s, &b);

		if (cases[i].ok) {
			if (r != 0 || b != cases[i].bytes)
				fail_msg("\"%s\": %d, %llu", cases[i].s, r,
					 (unsigned long long)b);
		} else if (r != -1 || b != 7) {
			fail_msg("\"%s\" should be refused", cases[i].s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_holder),
		cmocka_unit_test_setup_teardown(test_prepare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_fails, setup, teardown),
		cmocka_unit_test(test_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
