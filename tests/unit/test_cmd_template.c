/*
 * test_cmd_template.c - `mcd-toolstack template list|show|check` run as a
 * function on templates in a temporary directory, stdout captured.
 */
#include <fcntl.h>
#include <limits.h>
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

#include "clone.h"
#include "commands.h"
#include "template.h"

static char root[256], tdir[300], kernel[PATH_MAX], img[PATH_MAX];
static char out[65536];		/* the last command's stdout */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
write_tpl(const char *name, const char *fmt, ...)
{
	char path[PATH_MAX + 80], text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s.cfg", tdir, name);
	write_file(path, text);
}

/* Run cmd_template with the given arguments; stdout into out. */
static int
run(const char *a0, ...)
{
	char *argv[8], path[PATH_MAX];
	va_list ap;
	int argc = 0, fd, saved, rc;
	ssize_t n;

	argv[argc++] = (char *)a0;
	va_start(ap, a0);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);

	snprintf(path, sizeof(path), "%s/stdout", root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 1), 1);
	rc = cmd_template(argc, argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return rc;
}

static void
has(const char *want)
{
	if (strstr(out, want) == NULL)
		fail_msg("\"%s\" not in output:\n%s", want, out);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/mcd-test-cmdtpl-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(tdir, sizeof(tdir), "%s/templates", root);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", root);
	snprintf(img, sizeof(img), "%s/data.img", root);
	if (mkdir(tdir, 0755) != 0)
		return -1;
	write_file(kernel, "kernel\n");
	write_file(img, "disk\n");
	write_tpl("demo", "memory = 256\nkernel = '%s'\nmcd_agent_timeout = 30\n",
	    kernel);
	write_tpl("disky", "memory = 128\nkernel = '%s'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=%s',\n"
	    "         'format=raw, vdev=xvdb, access=rw, target=%s' ]\n"
	    "mcd_pool_size = 2\nmcd_keep_for_user = 1\n", kernel, img, img);
	write_tpl("broken", "type = \"pv\"\nkernel = \"%s\nmemory = = 256\n"
	    "vcpus = [ 1,\n", kernel);
	write_tpl("bad2", "memory = 8\nkernel = '/nonexistent'\nvfb = []\n");
	setenv(TEMPLATE_DIR_ENV, tdir, 1);
	setenv(CLONE_DIR_ENV, root, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	if (root[0] == '\0' || strstr(root, "mcd-test-cmdtpl-") == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_usage(void **state)
{
	(void)state;
	assert_int_equal(run("template", "--help", NULL), 0);
	has("usage: mcd-toolstack template list [--json]");
	assert_int_equal(run("template", NULL), 2);
	assert_int_equal(run("template", "frob", NULL), 2);
	assert_int_equal(run("template", "show", NULL), 2);
	assert_int_equal(run("template", "check", NULL), 2);
	assert_int_equal(run("template", "list", "x", NULL), 2);
	assert_int_equal(run("template", "show", "a", "b", NULL), 2);
	assert_int_equal(run("template", "list", "--verbose", NULL), 2);
	assert_string_equal(out, "");
}

static void
test_list(void **state)
{
	(void)state;
	assert_int_equal(run("template", "list", NULL), 0);
	has("NAME");
	has("STATUS");
	/* Sorted by name, broken ones flagged. */
	assert_true(strstr(out, "bad2") < strstr(out, "broken"));
	assert_true(strstr(out, "broken") < strstr(out, "demo"));
	assert_true(strstr(out, "demo") < strstr(out, "disky"));
	has("broken (see: mcd-toolstack template check)");
	has("MEMORY VCPUS DISKS  RW POOL KEEP STATUS\n");
	has("   256     1     0   0    0 no   ok\n");
	has("   128     1     2   1    2 yes  ok\n");

	assert_int_equal(run("template", "list", "--json", NULL), 0);
	assert_int_equal(out[0], '[');
	has("{\"name\":\"demo\",\"ok\":true,\"os\":\"linux\",\"memory_mib\":256,"
	    "\"vcpus\":1,\"disks\":0,\"writable_disks\":0,\"pool_size\":0,"
	    "\"keep_for_user\":false}");
	has("\"pool_size\":2,\"keep_for_user\":true}");
	has("{\"name\":\"broken\",\"ok\":false,\"error\":\"");
	has("broken.cfg:2: config parsing error");
	has("]\n");

	setenv(TEMPLATE_DIR_ENV, "/nonexistent-mcd", 1);
	assert_int_equal(run("template", "list", NULL), 1);
	setenv(TEMPLATE_DIR_ENV, tdir, 1);
}

static void
test_show(void **state)
{
	char want[PATH_MAX + 128];

	(void)state;
	assert_int_equal(run("template", "show", "disky", NULL), 0);
	has("template:       disky\n");
	snprintf(want, sizeof(want), "file:           %s/disky.cfg\n", tdir);
	has(want);
	has("os:             linux\n");
	has("memory:         128 MiB\n");
	has("pool size:      2\n");
	has("keep for user:  yes\n");
	has("disks:          2 (1 writable, cloned for each launch)\n");
	has("  xvda   ro  ");
	has("attached as it is\n");
	has("  xvdb   rw  ");
	has("clone: ");
	snprintf(want, sizeof(want), "kernel:         %s\n", kernel);
	has(want);

	assert_int_equal(run("template", "show", "demo", "--json", NULL), 0);
	has("{\"name\":\"demo\",\"path\":\"");
	has("\"os\":\"linux\",\"memory_mib\":256,\"maxmem_mib\":256,"
	    "\"vcpus\":1,\"max_vcpus\":1,\"kernel\":\"");
	has("\"agent_timeout_s\":30,\"pool_size\":0,\"keep_for_user\":false,"
	    "\"disks\":[]}\n");
	assert_int_equal(run("template", "show", "--json", "disky", NULL), 0);
	has("{\"vdev\":\"xvda\",\"target\":\"");
	has("\"writable\":false,\"block\":false,\"cdrom\":false,"
	    "\"clone\":\"none\"}");
	has("\"writable\":true,\"block\":false,\"cdrom\":false,\"clone\":\"");

	assert_int_equal(run("template", "show", "broken", NULL), 1);
	assert_string_equal(out, "");
	assert_int_equal(run("template", "show", "nope", NULL), 1);
}

static void
test_check(void **state)
{
	char want[PATH_MAX + 128];

	(void)state;
	assert_int_equal(run("template", "check", "disky", NULL), 0);
	assert_string_equal(out, "ok: disky\n");
	assert_int_equal(run("template", "check", "demo", "--json", NULL), 0);
	assert_string_equal(out, "{\"template\":\"demo\",\"ok\":true,"
	    "\"problems\":[]}\n");

	/* Every problem, each with its file and line. */
	assert_int_equal(run("template", "check", "broken", NULL), 1);
	snprintf(want, sizeof(want), "%s/broken.cfg:2: config parsing error",
	    tdir);
	has(want);
	snprintf(want, sizeof(want), "%s/broken.cfg:3: config parsing error",
	    tdir);
	has(want);
	snprintf(want, sizeof(want), "%s/broken.cfg:4: config parsing error",
	    tdir);
	has(want);

	assert_int_equal(run("template", "check", "bad2", NULL), 1);
	snprintf(want, sizeof(want), "%s/bad2.cfg:3: unknown key 'vfb'\n", tdir);
	has(want);
	snprintf(want, sizeof(want), "%s/bad2.cfg:1: memory 8 out of range "
	    "16..65536\n", tdir);
	has(want);
	snprintf(want, sizeof(want), "%s/bad2.cfg:2: kernel /nonexistent: No "
	    "such file or directory\n", tdir);
	has(want);

	assert_int_equal(run("template", "check", "bad2", "--json", NULL), 1);
	has("{\"template\":\"bad2\",\"ok\":false,\"problems\":[\"");
	has("bad2.cfg:3: unknown key 'vfb'\",\"");
	has("\"]}\n");

	assert_int_equal(run("template", "check", "nope", NULL), 1);
	has("unknown template 'nope'");
	assert_int_equal(run("template", "check", "../etc/passwd", NULL), 1);
	has("invalid template name");
}

/* A writable block device that lvm does not know: check says so. */
static void
test_check_block_disk(void **state)
{
	char lvm[PATH_MAX + 16], want[PATH_MAX + 128];

	(void)state;
	if (access("/dev/loop0", R_OK) != 0)
		skip();
	snprintf(lvm, sizeof(lvm), "%s/lvm", root);
	write_file(lvm, "#!/bin/sh\necho '  Failed to find logical volume' >&2\n"
	    "exit 5\n");
	assert_int_equal(chmod(lvm, 0755), 0);
	setenv(CLONE_LVM_ENV, lvm, 1);
	write_tpl("blk", "memory = 64\nkernel = '%s'\n"
	    "disk = [ 'format=raw, vdev=xvdb, access=rw, target=/dev/loop0' ]\n",
	    kernel);
	assert_int_equal(run("template", "check", "blk", NULL), 1);
	snprintf(want, sizeof(want), "%s/blk.cfg: disk xvdb cannot be cloned: "
	    "not an LVM logical volume (lvs): Failed to find logical volume\n",
	    tdir);
	assert_string_equal(out, want);
	assert_int_equal(run("template", "show", "blk", NULL), 0);
	has("cannot be cloned: not an LVM logical volume");
	unsetenv(CLONE_LVM_ENV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_block_disk),
	};

	return cmocka_run_group_tests_name("cmd_template", tests, setup,
	    teardown);
}
