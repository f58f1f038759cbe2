/*
 * test_template.c - template_load, template_check, template_name_valid,
 * template_list and template_dir, with no Xen: the templates and the
 * kernel, ramdisk and disk files they name are written into a fresh
 * temporary directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "template.h"

static char root[256];	/* the temporary directory */
static char tdir[300];	/* root/templates */
static char kernel[PATH_MAX], ramdisk[PATH_MAX], diskimg[PATH_MAX];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Write tdir/<name>.cfg; "@K@", "@R@", "@D@" stand for the files' paths. */
static void
write_tpl(const char *name, const char *text)
{
	char path[PATH_MAX + 80], *out;
	size_t cap = strlen(text) + 3 * 3 * PATH_MAX + 1, n = 0;
	const char *s, *sub;

	out = malloc(cap);
	assert_non_null(out);
	for (s = text; *s; ) {
		sub = NULL;
		if (strncmp(s, "@K@", 3) == 0)
			sub = kernel;
		else if (strncmp(s, "@R@", 3) == 0)
			sub = ramdisk;
		else if (strncmp(s, "@D@", 3) == 0)
			sub = diskimg;
		if (sub) {
			assert_true(n + strlen(sub) < cap);
			memcpy(out + n, sub, strlen(sub));
			n += strlen(sub);
			s += 3;
		} else {
			assert_true(n + 1 < cap);
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s.cfg", tdir, name);
	write_file(path, out);
	free(out);
}

static void
tpl_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s.cfg", tdir, name);
}

/* Load and expect failure; the message must contain want. */
static void
load_fails(const char *name, const char *want)
{
	struct mcd_template t;
	libxl_domain_config dc;
	char err[1024];

	memset(err, 'x', sizeof(err));
	assert_int_equal(template_load(tdir, name, &t, &dc, err, sizeof(err)),
	    -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	/* One line. */
	assert_null(strchr(err, '\n'));
	/* Failed loads leave dc empty; disposing it is harmless. */
	assert_int_equal(dc.num_disks, 0);
	assert_null(dc.b_info.kernel);
	assert_null(dc.c_info.name);
	libxl_domain_config_dispose(&dc);
}

/* Write a template with text and expect failure containing want. */
static void
bad(const char *text, const char *want)
{
	write_tpl("bad", text);
	load_fails("bad", want);
}

/* Same, but want is "<path>:<line>: <rest>". */
static void
bad_at(const char *text, int line, const char *rest)
{
	char want[PATH_MAX + 256], path[PATH_MAX + 80];

	tpl_path(path, sizeof(path), "bad");
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
	bad(text, want);
}

static void
load_ok(const char *text, struct mcd_template *t, libxl_domain_config *dc)
{
	char err[1024];

	write_tpl("ok", text);
	if (template_load(tdir, "ok", t, dc, err, sizeof(err)) != 0)
		fail_msg("template_load failed: %s", err);
	assert_string_equal(err, "");
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/mcd-test-template-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(tdir, sizeof(tdir), "%s/templates", root);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", root);
	snprintf(ramdisk, sizeof(ramdisk), "%s/initrd.img", root);
	snprintf(diskimg, sizeof(diskimg), "%s/app.img", root);
	if (mkdir(tdir, 0755) != 0)
		return -1;
	write_file(kernel, "not really a kernel\n");
	write_file(ramdisk, "not really a ramdisk\n");
	write_file(diskimg, "not really a disk\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	if (root[0] == '\0' || strstr(root, "mcd-test-template-") == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- good templates --------------------------------------------------- */

/* A vif puts the guest on a dom0 bridge; nothing else about its network
 * is the template's to say. */
static void
test_vifs(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("memory = 64\nkernel = '@K@'\n"
	    "vif = [ 'bridge=xenbr0, mac=00:16:3e:4d:43:44', 'bridge=br1' ]\n",
	    &t, &dc);
	assert_int_equal(dc.num_nics, 2);
	assert_string_equal(dc.nics[0].bridge, "xenbr0");
	assert_int_equal(dc.nics[0].mac[0], 0x00);
	assert_int_equal(dc.nics[0].mac[2], 0x3e);
	assert_int_equal(dc.nics[0].mac[5], 0x44);
	assert_int_equal(dc.nics[0].nictype, LIBXL_NIC_TYPE_VIF);
	assert_string_equal(dc.nics[1].bridge, "br1");
	libxl_domain_config_dispose(&dc);

	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'mac=00:16:3e:00:00:01' ]\n",
	    3, "vif 1 has no bridge");
	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'bridge=xenbr0, script=/tmp/x' ]\n",
	    3, "vif 1: key 'script' is not supported (bridge, mac)");
	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'bridge=-x' ]\n",
	    3, "vif 1: bad bridge name");
	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'bridge=b, mac=01:16:3e:00:00:01' ]\n",
	    3, "vif 1: bad mac");
	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'bridge=b, mac=00:16:3e:00:00' ]\n",
	    3, "vif 1: bad mac");
	bad_at("memory = 64\nkernel = '@K@'\nvif = [ 'bridge' ]\n",
	    3, "vif 1: 'bridge' is not KEY=VALUE");
}

static void
test_good_full(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;
	libxl_device_disk *d;
	char path[PATH_MAX + 80];

	(void)state;
	load_ok("# An application template\n"
	    "type = \"pv\"\n"
	    "memory = 128\n"
	    "maxmem = 256\n"
	    "vcpus = 1\n"
	    "maxvcpus = 2\n"
	    "kernel = \"@K@\"\n"
	    "ramdisk = \"@R@\"\n"
	    "root = \"/dev/xvda\"\n"
	    "extra = \"ro console=hvc0\"\n"
	    "disk = [ 'format=raw, vdev=xvda, access=ro, target=@D@' ]\n"
	    "on_crash = 'destroy'\n"
	    "mcd_os = \"linux\"\n",
	    &t, &dc);

	tpl_path(path, sizeof(path), "ok");
	assert_string_equal(t.name, "ok");
	assert_string_equal(t.path, path);
	assert_string_equal(t.os, "linux");
	assert_int_equal(t.agent_timeout_s, 60);
	assert_int_equal(t.memory_mb, 128);
	assert_int_equal(t.maxmem_mb, 256);
	assert_int_equal(t.vcpus, 1);
	assert_int_equal(t.max_vcpus, 2);
	assert_int_equal(t.num_disks, 1);

	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_null(dc.c_info.name);
	assert_true(libxl_uuid_is_nil(&dc.c_info.uuid));
	assert_int_equal(dc.b_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(dc.b_info.target_memkb, 128 * 1024);
	assert_int_equal(dc.b_info.max_memkb, 256 * 1024);
	assert_int_equal(dc.b_info.max_vcpus, 2);
	assert_true(libxl_bitmap_test(&dc.b_info.avail_vcpus, 0));
	assert_false(libxl_bitmap_test(&dc.b_info.avail_vcpus, 1));
	assert_int_equal(libxl_bitmap_count_set(&dc.b_info.avail_vcpus), 1);
	assert_string_equal(dc.b_info.kernel, kernel);
	assert_string_equal(dc.b_info.ramdisk, ramdisk);
	assert_string_equal(dc.b_info.cmdline, "root=/dev/xvda ro console=hvc0");
	assert_null(dc.b_info.bootloader);

	assert_int_equal(dc.num_disks, 1);
	d = &dc.disks[0];
	assert_string_equal(d->vdev, "xvda");
	assert_string_equal(d->pdev_path, diskimg);
	assert_int_equal(d->readwrite, 0);
	assert_int_equal(d->format, LIBXL_DISK_FORMAT_RAW);
	assert_int_equal(d->is_cdrom, 0);

	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_watchdog, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_soft_reset, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	libxl_domain_config_dispose(&dc);
}

static void
test_good_minimal(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("memory = 64\nkernel = '@K@'\n", &t, &dc);
	assert_string_equal(t.os, "linux");
	assert_int_equal(t.agent_timeout_s, TEMPLATE_TIMEOUT_DEFAULT);
	assert_int_equal(t.ready_timeout_s, TEMPLATE_TIMEOUT_DEFAULT);
	assert_int_equal(t.vcpus, 1);
	assert_int_equal(t.max_vcpus, 1);
	assert_int_equal(t.num_disks, 0);
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(dc.b_info.max_memkb, 64 * 1024);
	assert_int_equal(dc.b_info.target_memkb, 64 * 1024);
	assert_int_equal(dc.b_info.max_vcpus, 1);
	assert_int_equal(libxl_bitmap_count_set(&dc.b_info.avail_vcpus), 1);
	assert_null(dc.b_info.ramdisk);
	assert_null(dc.b_info.cmdline);
	assert_int_equal(dc.num_disks, 0);
	assert_null(dc.disks);
	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	libxl_domain_config_dispose(&dc);
}

static void
test_good_mcd_keys(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("memory = 2048; kernel = '@K@'   # two on one line\n"
	    "vcpus = 4\n"
	    "cmdline = 'console=hvc0 name = not-a-key'\n"
	    "mcd_os = 'windows'\nmcd_agent_timeout = 3600\n"
	    "mcd_ready_timeout = 120\n", &t, &dc);
	assert_string_equal(t.os, "windows");
	assert_int_equal(t.agent_timeout_s, 3600);
	assert_int_equal(t.ready_timeout_s, 120);
	assert_int_equal(t.memory_mb, 2048);
	assert_int_equal(dc.b_info.max_vcpus, 4);
	assert_int_equal(libxl_bitmap_count_set(&dc.b_info.avail_vcpus), 4);
	assert_string_equal(dc.b_info.cmdline, "console=hvc0 name = not-a-key");
	libxl_domain_config_dispose(&dc);

	load_ok("memory = 16\nkernel = '@K@'\nmcd_agent_timeout = 1\n"
	    "extra = 'quiet'\n", &t, &dc);
	assert_int_equal(t.agent_timeout_s, 1);
	assert_string_equal(dc.b_info.cmdline, "quiet");
	libxl_domain_config_dispose(&dc);

	load_ok("memory = 65536\nkernel = '@K@'\nroot = '/dev/xvda1'\n",
	    &t, &dc);
	assert_string_equal(dc.b_info.cmdline, "root=/dev/xvda1");
	assert_int_equal(dc.b_info.max_memkb, 65536ULL * 1024);
	libxl_domain_config_dispose(&dc);
}

static void
test_readonly_disks(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=@D@',\n"
	    "         'format=raw, vdev=xvdb, access=r, target=@D@' ]\n"
	    "disk += [ 'vdev=xvdc, devtype=cdrom, target=@D@' ]\n",
	    &t, &dc);
	assert_int_equal(t.num_disks, 3);
	assert_int_equal(dc.num_disks, 3);
	assert_string_equal(dc.disks[0].vdev, "xvda");
	assert_string_equal(dc.disks[1].vdev, "xvdb");
	assert_string_equal(dc.disks[2].vdev, "xvdc");
	assert_int_equal(dc.disks[0].readwrite, 0);
	assert_int_equal(dc.disks[1].readwrite, 0);
	assert_int_equal(dc.disks[2].readwrite, 0);
	assert_int_equal(dc.disks[2].is_cdrom, 1);
	libxl_domain_config_dispose(&dc);
}

/* Exactly what scripts/mcd-bake-template writes. */
static void
test_baked_format(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("# MCD guest template \"office\", made by mcd-bake-template.\n"
	    "type = \"pv\"\n"
	    "kernel = \"@K@\"\n"
	    "ramdisk = \"@R@\"\n"
	    "memory = 256\n"
	    "vcpus = 1\n"
	    "extra = \"console=hvc0 rdinit=/init # not a comment\"\n"
	    "mcd_os = \"linux\"\n"
	    "mcd_agent_timeout = 60\n"
	    "# name = 'a comment, not a key'\n", &t, &dc);
	assert_int_equal(t.memory_mb, 256);
	assert_int_equal(t.agent_timeout_s, 60);
	assert_string_equal(t.os, "linux");
	assert_string_equal(dc.b_info.ramdisk, ramdisk);
	assert_string_equal(dc.b_info.cmdline,
	    "console=hvc0 rdinit=/init # not a comment");
	libxl_domain_config_dispose(&dc);
}

/* --- names and files ---------------------------------------------------- */

static void
test_unknown_template(void **state)
{
	char want[PATH_MAX + 128];

	(void)state;
	snprintf(want, sizeof(want), "unknown template 'nope' (no %s/nope.cfg)",
	    tdir);
	load_fails("nope", want);
}

static void
test_invalid_names(void **state)
{
	char err[256], long_name[TEMPLATE_NAME_MAX + 2];

	(void)state;
	load_fails("../etc/passwd", "invalid template name '../etc/passwd'");
	load_fails("", "template name is empty");
	load_fails(NULL, "template name is empty");
	load_fails("a/b", "invalid template name 'a/b'");
	load_fails("a..b", "'..' is not allowed");
	load_fails(".hidden", "must start with a letter or digit");
	load_fails("-x", "must start with a letter or digit");
	load_fails("sp ace", "only letters, digits");
	load_fails("caf\xc3\xa9", "only letters, digits");

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	load_fails(long_name, "longer than 64 characters");
	long_name[TEMPLATE_NAME_MAX] = '\0';		/* exactly 64 */
	assert_int_equal(template_name_valid(long_name, err, sizeof(err)), 1);
	assert_int_equal(template_name_valid("Office-2.0_x", err, sizeof(err)),
	    1);
	assert_int_equal(template_name_valid("a.b", NULL, 0), 1);
	assert_int_equal(template_name_valid("a..", NULL, 0), 0);
}

static void
test_not_a_file(void **state)
{
	char path[PATH_MAX + 80];
	char *big;

	(void)state;
	tpl_path(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0755), 0);
	load_fails("adir", "adir.cfg: not a regular file");
	assert_int_equal(rmdir(path), 0);

	big = malloc(TEMPLATE_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', TEMPLATE_FILE_MAX + 1);
	big[TEMPLATE_FILE_MAX + 1] = '\0';
	write_tpl("big", big);
	free(big);
	load_fails("big", "larger than 65536 bytes");
}

static void
test_template_dir(void **state)
{
	(void)state;
	assert_int_equal(unsetenv(TEMPLATE_DIR_ENV), 0);
	assert_string_equal(template_dir(), "/etc/mcd/templates");
	assert_int_equal(setenv(TEMPLATE_DIR_ENV, "", 1), 0);
	assert_string_equal(template_dir(), "/etc/mcd/templates");
	assert_int_equal(setenv(TEMPLATE_DIR_ENV, tdir, 1), 0);
	assert_string_equal(template_dir(), tdir);

	/* dir NULL means template_dir(). */
	{
		struct mcd_template t;
		libxl_domain_config dc;
		char err[512];

		write_tpl("envdir", "memory = 32\nkernel = '@K@'\n");
		assert_int_equal(template_load(NULL, "envdir", &t, &dc, err,
		    sizeof(err)), 0);
		libxl_domain_config_dispose(&dc);
	}
	assert_int_equal(unsetenv(TEMPLATE_DIR_ENV), 0);
}

/* --- syntax and keys ---------------------------------------------------- */

static void
test_syntax_error(void **state)
{
	char want[PATH_MAX + 80];

	(void)state;
	tpl_path(want, sizeof(want), "bad");
	strcat(want, ":3:");
	bad("memory = 128\nkernel = '@K@'\nvcpus = = 2\n", want);
	bad("memory = 128\n\nkernel = '@K@\n", want);
	tpl_path(want, sizeof(want), "bad");
	strcat(want, ":1:");
	bad("Memory = 128\n", want);
}

static void
test_reserved_keys(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '@K@'\nname = 'evil'\n", 3,
	    "'name' is set by MCD for each launch");
	bad_at("uuid = '00000000-0000-0000-0000-000000000001'\n"
	    "memory = 128\nkernel = '@K@'\n", 1,
	    "'uuid' is set by MCD for each launch");
	bad_at("memory = 128; name = 'x'\nkernel = '@K@'\n", 1,
	    "'name' is set by MCD");
}

static void
test_unknown_and_repeated_keys(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '@K@'\nvfb = [ 'vnc=1' ]\n", 3,
	    "unknown key 'vfb'");
	bad_at("memory = 128\nkernel = '@K@'\nbootloader = 'pygrub'\n", 3,
	    "unknown key 'bootloader'");
	bad_at("memory = 128\nkernel = '@K@'\n\n# comment\nmemory = 256\n", 5,
	    "'memory' already set on line 1");
	bad("memory = 128\nkernel = '@K@'\n"
	    "a_very_long_key_name_that_is_not_known_at_all = 1\n",
	    "unknown key 'a_very_long_key_name_that_is_no...'");
}

static void
test_missing_kernel(void **state)
{
	char want[PATH_MAX + 80];

	(void)state;
	tpl_path(want, sizeof(want), "bad");
	strcat(want, ": missing 'kernel'");
	bad("memory = 128\nramdisk = '@R@'\n", want);
	bad("", "missing 'memory'");
}

static void
test_kernel_file(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '/nonexistent/vmlinuz'\n", 2,
	    "kernel /nonexistent/vmlinuz: No such file or directory");
	bad_at("memory = 128\nkernel = 'vmlinuz'\n", 2,
	    "kernel 'vmlinuz' is not an absolute path");
	bad_at("memory = 128\nkernel = '/'\n", 2,
	    "kernel /: not a regular file");
	bad_at("memory = 128\nkernel = '@K@'\nramdisk = '/nonexistent/rd'\n",
	    3, "ramdisk /nonexistent/rd: No such file or directory");
	bad("memory = 128\nkernel = ['@K@']\n",
	    ": parameter `kernel' is a list but should be a single value");
}

static void
test_type(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	bad_at("type = 'hvm'\nmemory = 128\nkernel = '@K@'\n", 1,
	    "type 'hvm' is not supported (only pv)");
	bad_at("memory = 128\nkernel = '@K@'\ntype = \"pvh\"\n", 3,
	    "type 'pvh' is not supported");
	load_ok("type = 'pv'\nmemory = 128\nkernel = '@K@'\n", &t, &dc);
	libxl_domain_config_dispose(&dc);
}

static void
test_memory(void **state)
{
	(void)state;
	bad_at("memory = 15\nkernel = '@K@'\n", 1,
	    "memory 15 out of range 16..65536");
	bad_at("kernel = '@K@'\nmemory = 65537\n", 2,
	    "memory 65537 out of range 16..65536");
	bad_at("memory = 0\nkernel = '@K@'\n", 1, "memory 0 out of range");
	bad_at("memory = 'lots'\nkernel = '@K@'\n", 1,
	    "parameter `memory' is not a valid number");
	bad_at("memory = 99999999999999999999\nkernel = '@K@'\n", 1,
	    "parameter `memory' could not be parsed as a number");
	bad_at("memory = 256\nmaxmem = 128\nkernel = '@K@'\n", 2,
	    "maxmem 128 out of range 256..65536");
	bad_at("memory = 256\nkernel = '@K@'\nvcpus = 0\n", 3,
	    "vcpus 0 out of range 1..128");
	bad_at("memory = 256\nkernel = '@K@'\nvcpus = 4\nmaxvcpus = 2\n", 4,
	    "maxvcpus 2 out of range 4..128");
}

static void
test_writable_disk(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	/* Writable disks are allowed now: recorded for the clone module. */
	load_ok("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'format=raw, vdev=xvda, access=rw, target=@D@' ]\n",
	    &t, &dc);
	assert_int_equal(t.num_disks, 1);
	assert_int_equal(t.num_writable, 1);
	assert_string_equal(t.disks[0].vdev, "xvda");
	assert_string_equal(t.disks[0].target, diskimg);
	assert_int_equal(t.disks[0].writable, 1);
	assert_int_equal(t.disks[0].is_block, 0);
	assert_int_equal(t.disks[0].is_cdrom, 0);
	assert_int_equal(dc.disks[0].readwrite, 1);
	assert_string_equal(dc.disks[0].pdev_path, diskimg);
	libxl_domain_config_dispose(&dc);

	/* xl's default access is rw; order is the disk list's. */
	load_ok("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=@R@',\n"
	    "         'vdev=xvdb, target=@D@' ]\n"
	    "disk += [ 'vdev=xvdc, devtype=cdrom, target=@K@' ]\n", &t, &dc);
	assert_int_equal(t.num_disks, 3);
	assert_int_equal(t.num_writable, 1);
	assert_string_equal(t.disks[0].vdev, "xvda");
	assert_string_equal(t.disks[0].target, ramdisk);
	assert_int_equal(t.disks[0].writable, 0);
	assert_string_equal(t.disks[1].vdev, "xvdb");
	assert_string_equal(t.disks[1].target, diskimg);
	assert_int_equal(t.disks[1].writable, 1);
	assert_string_equal(t.disks[2].vdev, "xvdc");
	assert_int_equal(t.disks[2].writable, 0);
	assert_int_equal(t.disks[2].is_cdrom, 1);
	for (unsigned i = 0; i < t.num_disks; i++)
		assert_string_equal(dc.disks[i].vdev, t.disks[i].vdev);
	libxl_domain_config_dispose(&dc);

	/* A writable disk needs something to clone (xl says so first). */
	bad("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'format=empty, vdev=xvdb, access=rw' ]\n",
	    "no target specified");
}

/* A writable disk on a block device is recorded as such (for LVM). */
static void
test_block_disk(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;
	char dev[PATH_MAX], text[PATH_MAX + 200];

	(void)state;
	snprintf(dev, sizeof(dev), "%s/blockdev", root);
	if (mknod(dev, S_IFBLK | 0600, makedev(7, 0)) != 0) {
		skip();		/* not root, or no CAP_MKNOD */
	}
	snprintf(text, sizeof(text), "memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'format=raw, vdev=xvdb, access=rw, target=%s' ]\n", dev);
	load_ok(text, &t, &dc);
	assert_int_equal(t.disks[0].is_block, 1);
	assert_int_equal(t.disks[0].writable, 1);
	assert_string_equal(t.disks[0].target, dev);
	libxl_domain_config_dispose(&dc);
	unlink(dev);
}

static void
test_disk_vdevs(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=@D@',\n"
	    "         'vdev=xvda, access=ro, target=@R@' ]\n", 3,
	    "disk 2: vdev xvda is already used by disk 1");
	bad_at("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvdaaaaaaaaaaaaaaa, access=ro, target=@D@' ]\n", 3,
	    "disk 1: vdev 'xvdaaaaaaaaaaaaaaa' must be 1..15 lowercase");
}

static void
test_pool_and_keep(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	load_ok("memory = 64\nkernel = '@K@'\n", &t, &dc);
	assert_int_equal(t.pool_size, 0);
	assert_int_equal(t.keep_for_user, 0);
	libxl_domain_config_dispose(&dc);

	load_ok("memory = 64\nkernel = '@K@'\nmcd_pool_size = 32\n"
	    "mcd_keep_for_user = 1\n", &t, &dc);
	assert_int_equal(t.pool_size, TEMPLATE_POOL_MAX);
	assert_int_equal(t.keep_for_user, 1);
	libxl_domain_config_dispose(&dc);

	load_ok("memory = 64\nkernel = '@K@'\nmcd_pool_size = 0\n"
	    "mcd_keep_for_user = 0\n", &t, &dc);
	assert_int_equal(t.pool_size, 0);
	assert_int_equal(t.keep_for_user, 0);
	libxl_domain_config_dispose(&dc);

	bad_at("memory = 64\nkernel = '@K@'\nmcd_pool_size = 33\n", 3,
	    "mcd_pool_size 33 out of range 0..32");
	/* xl's syntax has no negative numbers. */
	bad_at("memory = 64\nkernel = '@K@'\nmcd_pool_size = -1\n", 3,
	    "config parsing error near `-1'");
	bad_at("memory = 64\nkernel = '@K@'\nmcd_keep_for_user = 2\n", 3,
	    "mcd_keep_for_user 2 out of range 0..1");
	bad_at("memory = 64\nkernel = '@K@'\nmcd_keep_for_user = 'yes'\n", 3,
	    "parameter `mcd_keep_for_user' is not a valid number");
}

/* --- template_check ------------------------------------------------------- */

/* Run template_check on tdir/name; its output (malloc'd) in *text. */
static int
check_out(const char *name, char **text)
{
	size_t len = 0;
	FILE *f;
	int n;

	*text = NULL;
	f = open_memstream(text, &len);
	assert_non_null(f);
	n = template_check(tdir, name, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(*text);
	return n;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Expect "<path>:<line>: <rest>" as a whole line of text. */
static void
has_line(const char *text, int line, const char *rest)
{
	char want[PATH_MAX + 256], path[PATH_MAX + 80];
	const char *p;

	tpl_path(path, sizeof(path), "chk");
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
	else
		snprintf(want, sizeof(want), "%s: %s", path, rest);
	for (p = text; (p = strstr(p, want)) != NULL; p++)
		if (p == text || p[-1] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", want, text);
}

static void
test_check_good(void **state)
{
	char *out;

	(void)state;
	write_tpl("chk", "memory = 64\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvdb, access=rw, target=@D@' ]\n"
	    "mcd_pool_size = 2\nmcd_keep_for_user = 1\n");
	assert_int_equal(check_out("chk", &out), 0);
	assert_string_equal(out, "");
	free(out);
	/* NULL out: just the count. */
	assert_int_equal(template_check(tdir, "chk", NULL), 0);
}

static void
test_check_all_problems(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;
	char *out, err[1024];
	int n;

	(void)state;
	write_tpl("chk",
	    "type = 'hvm'\n"					/* 1 */
	    "memory = 8\n"					/* 2 */
	    "kernel = '/nonexistent/vmlinuz'\n"			/* 3 */
	    "vfb = [ 'vnc=1' ]\n"			/* 4 */
	    "name = 'x'\n"					/* 5 */
	    "disk = [ 'vdev=xvda, access=ro, target=/nope.img',\n" /* 6 */
	    "         'vdev=xvdb, target=@D@' ]\n"		/* 7 */
	    "on_crash = 'restart'\n"				/* 8 */
	    "mcd_os = 'plan9'\n"				/* 9 */
	    "mcd_pool_size = 99\n"				/* 10 */
	    "memory = 8\n");					/* 11 */
	n = check_out("chk", &out);
	assert_int_equal(n, count_lines(out));
	has_line(out, 4, "unknown key 'vfb'");
	has_line(out, 5, "'name' is set by MCD for each launch and must not "
	    "be in a template");
	has_line(out, 11, "'memory' already set on line 2");
	has_line(out, 1, "type 'hvm' is not supported (only pv)");
	has_line(out, 2, "memory 8 out of range 16..65536");
	has_line(out, 3, "kernel /nonexistent/vmlinuz: No such file or "
	    "directory");
	has_line(out, 6, "disk target /nope.img: No such file or directory");
	has_line(out, 8, "on_crash 'restart': a disposable domain is only "
	    "ever destroyed");
	has_line(out, 9, "mcd_os 'plan9' is not one of linux, windows");
	has_line(out, 10, "mcd_pool_size 99 out of range 0..32");
	assert_int_equal(n, 10);

	/* template_load refuses it, with the first of those problems. */
	assert_int_equal(template_load(tdir, "chk", &t, &dc, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(out, err));
	assert_int_equal(strncmp(out, err, strlen(err)), 0);
	libxl_domain_config_dispose(&dc);
	free(out);
}

static void
test_check_syntax(void **state)
{
	char *out;
	int n;

	(void)state;
	/* Like the testbed's broken.cfg, plus an unknown key. */
	write_tpl("chk",
	    "type = \"pv\"\n"
	    "kernel = \"@K@\n"
	    "memory = = 256\n"
	    "bogus = 1\n"
	    "vcpus = [ 1,\n");
	n = check_out("chk", &out);
	assert_int_equal(n, count_lines(out));
	has_line(out, 2, "config parsing error near");
	has_line(out, 3, "config parsing error near `=': syntax error");
	has_line(out, 5, "config parsing error near");
	has_line(out, 4, "unknown key 'bogus'");
	/* Values are not judged after a syntax error: no "missing memory". */
	assert_null(strstr(out, "missing"));
	assert_int_equal(n, 4);
	free(out);
}

static void
test_check_no_file(void **state)
{
	char *out, want[PATH_MAX + 128];

	(void)state;
	assert_int_equal(check_out("nope", &out), 1);
	snprintf(want, sizeof(want), "unknown template 'nope' (no %s/nope.cfg)\n",
	    tdir);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(check_out("../x", &out), 1);
	assert_non_null(strstr(out, "invalid template name '../x'"));
	free(out);
	write_tpl("chk", "");
	assert_int_equal(check_out("chk", &out), 2);
	has_line(out, 0, "missing 'memory' (MiB, 16..65536)");
	has_line(out, 0, "missing 'kernel'");
	free(out);
}

static void
test_bad_disks(void **state)
{
	char want[PATH_MAX + 80];

	(void)state;
	tpl_path(want, sizeof(want), "bad");
	strcat(want, ": config parsing error in disk specification");
	bad("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'access=ro, target=@D@' ]\n", want);
	bad_at("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=/nonexistent.img' ]\n", 3,
	    "disk target /nonexistent.img: No such file or directory");
	bad_at("memory = 128\nkernel = '@K@'\n"
	    "disk = [ 'vdev=xvda, access=ro, target=@D@, extra=1' ]\n", 3,
	    "disk target");
	bad_at("memory = 128\nkernel = '@K@'\ndisk = 'vdev=xvda'\n", 3,
	    "parameter `disk' is a single value but should be a list");
}

static void
test_mcd_keys_bad(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '@K@'\nmcd_agent_timeout = 0\n", 3,
	    "mcd_agent_timeout 0 out of range 1..3600");
	bad_at("memory = 128\nkernel = '@K@'\nmcd_agent_timeout = 3601\n", 3,
	    "mcd_agent_timeout 3601 out of range 1..3600");
	bad_at("memory = 128\nkernel = '@K@'\nmcd_ready_timeout = 0\n", 3,
	    "mcd_ready_timeout 0 out of range 1..3600");
	bad_at("memory = 128\nkernel = '@K@'\nmcd_os = 'plan9'\n", 3,
	    "mcd_os 'plan9' is not one of linux, windows");
	bad_at("memory = 128\nkernel = '@K@'\nmcd_os = ''\n", 3,
	    "mcd_os '' is not one of");
}

static void
test_actions_and_cmdline(void **state)
{
	(void)state;
	bad_at("memory = 128\nkernel = '@K@'\non_crash = 'restart'\n", 3,
	    "on_crash 'restart': a disposable domain is only ever destroyed");
	bad_at("memory = 128\nkernel = '@K@'\nextra = 'x'\ncmdline = 'y'\n", 4,
	    "'cmdline' replaces 'root' and 'extra'");
}

static void
test_small_err_buffer(void **state)
{
	struct mcd_template t;
	libxl_domain_config dc;
	char err[8];

	(void)state;
	assert_int_equal(template_load(tdir, "nope", &t, &dc, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "unknown");
	assert_int_equal(template_load(tdir, "nope", &t, &dc, NULL, 0), -1);
	libxl_domain_config_dispose(&dc);
}

/* --- template_list ------------------------------------------------------ */

struct names {
	char	buf[16][TEMPLATE_NAME_MAX + 1];
	int	n;
	int	stop_after;
};

static int
collect(const char *name, void *arg)
{
	struct names *nm = arg;

	assert_true(nm->n < 16);
	snprintf(nm->buf[nm->n], sizeof(nm->buf[0]), "%s", name);
	nm->n++;
	return nm->stop_after && nm->n >= nm->stop_after;
}

static void
test_list(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 80];
	struct names nm;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/listdir", root);
	assert_int_equal(mkdir(dir, 0755), 0);
#define MK(n) do {							\
	snprintf(path, sizeof(path), "%s/%s", dir, (n));		\
	write_file(path, "memory = 1\n");				\
} while (0)
	MK("zeta.cfg");
	MK("alpha.cfg");
	MK("Mid-1.cfg");
	MK("notes.txt");
	MK(".cfg");
	MK(".hidden.cfg");
	MK("a..b.cfg");
	MK("alpha.cfg.bak");
#undef MK
	snprintf(path, sizeof(path), "%s/sub.cfg", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	memset(&nm, 0, sizeof(nm));
	assert_int_equal(template_list(dir, collect, &nm), 3);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.buf[0], "Mid-1");
	assert_string_equal(nm.buf[1], "alpha");
	assert_string_equal(nm.buf[2], "zeta");

	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 1;
	assert_int_equal(template_list(dir, collect, &nm), 1);

	snprintf(path, sizeof(path), "%s/missing", root);
	errno = 0;
	assert_int_equal(template_list(path, collect, &nm), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_full),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_good_minimal),
		cmocka_unit_test(test_good_mcd_keys),
		cmocka_unit_test(test_readonly_disks),
		cmocka_unit_test(test_baked_format),
		cmocka_unit_test(test_unknown_template),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_template_dir),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_reserved_keys),
		cmocka_unit_test(test_unknown_and_repeated_keys),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_kernel_file),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_writable_disk),
		cmocka_unit_test(test_block_disk),
		cmocka_unit_test(test_disk_vdevs),
		cmocka_unit_test(test_pool_and_keep),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_all_problems),
		cmocka_unit_test(test_check_syntax),
		cmocka_unit_test(test_check_no_file),
		cmocka_unit_test(test_bad_disks),
		cmocka_unit_test(test_mcd_keys_bad),
		cmocka_unit_test(test_actions_and_cmdline),
		cmocka_unit_test(test_small_err_buffer),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests_name("template", tests, setup, teardown);
}
