/*
 * test_clone.c - per-launch disk clones (clone.c) with no Xen and no LVM:
 * images are sparse files in a temporary directory, and `lvm` is a shell
 * script that records its arguments and answers as a test tells it to.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxl.h>

#include "clone.h"
#include "template.h"

#define MiB	(1024ULL * 1024)
#define SID	"0123456789abcdef"

static char root[256];		/* the temporary directory */
static char cdir[512];	/* root/clones (made by clone_disks) */
static char lvmlog[PATH_MAX];	/* what the fake lvm was called with */
static char fakelvm[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/mcd-test-clone-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(lvmlog, sizeof(lvmlog), "%s/lvm.log", root);
	snprintf(fakelvm, sizeof(fakelvm), "%s/lvm", root);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	if (root[0] == '\0' || strstr(root, "mcd-test-clone-") == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Each test gets a fresh clone directory and lvm log. */
static int
each(void **state)
{
	static int n;

	(void)state;
	snprintf(cdir, sizeof(cdir), "%s/clones-%d/sub", root, ++n);
	unlink(lvmlog);
	unsetenv(CLONE_LVM_ENV);
	return 0;
}

/* --- helpers ---------------------------------------------------------------- */

/* A sparse file of size bytes with pattern data at the given ranges. */
static void
make_image(const char *path, uint64_t size, const uint64_t *offs,
    const uint64_t *lens, int n)
{
	char *buf;
	uint64_t k;
	int fd, i;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (i = 0; i < n; i++) {
		buf = malloc(lens[i]);
		assert_non_null(buf);
		for (k = 0; k < lens[i]; k++)
			buf[k] = (char)('A' + (offs[i] + k * 7) % 26);
		assert_int_equal(pwrite(fd, buf, lens[i], (off_t)offs[i]),
		    (ssize_t)lens[i]);
		free(buf);
	}
	assert_int_equal(close(fd), 0);
}

/* FNV-1a of a whole file, to prove it was not changed. */
static uint64_t
file_sum(const char *path)
{
	uint64_t h = 14695981039346656037ULL;
	unsigned char buf[65536];
	ssize_t n, i;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	assert_int_equal(n, 0);
	close(fd);
	return h;
}

static void
same_bytes(const char *a, const char *b)
{
	assert_int_equal(file_sum(a), file_sum(b));
}

/*
 * a and b have the same size, b's data lies within a's data ranges, and
 * a's data ranges hold the same bytes in b: b is a sparse copy of a.  Reads
 * only the data, so a 1 GiB sparse file is quick to compare.
 */
static void
same_sparse(const char *a, const char *b)
{
	static char ba[1 << 20], bb[1 << 20];
	off_t size, off, data, hole, d2, h2;
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	size_t n;

	assert_true(fa >= 0 && fb >= 0);
	size = lseek(fa, 0, SEEK_END);
	assert_int_equal(lseek(fb, 0, SEEK_END), size);
	for (off = 0; off < size; off = hole) {
		data = lseek(fa, off, SEEK_DATA);
		if (data < 0)
			break;
		hole = lseek(fa, data, SEEK_HOLE);
		for (off = data; off < hole; off += (off_t)n) {
			n = (size_t)(hole - off) < sizeof(ba) ?
			    (size_t)(hole - off) : sizeof(ba);
			assert_int_equal(pread(fa, ba, n, off), (ssize_t)n);
			assert_int_equal(pread(fb, bb, n, off), (ssize_t)n);
			assert_memory_equal(ba, bb, n);
		}
	}
	/* Every data range of b starts inside a data range of a. */
	for (off = 0; off < size; off = h2) {
		d2 = lseek(fb, off, SEEK_DATA);
		if (d2 < 0)
			break;
		h2 = lseek(fb, d2, SEEK_HOLE);
		data = lseek(fa, d2, SEEK_DATA);
		assert_int_equal(data, d2);
	}
	close(fa);
	close(fb);
}

/* A template and its domain config with the given disks. */
struct tdisk {
	const char	*vdev;
	const char	*target;
	int		 writable;
	int		 is_block;
};

static void
make_tpl(struct mcd_template *t, libxl_domain_config *dc,
    const struct tdisk *d, int n)
{
	int i;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "disky");
	snprintf(t->path, sizeof(t->path), "/etc/mcd/templates/disky.cfg");
	libxl_domain_config_init(dc);
	dc->disks = calloc((size_t)n, sizeof(*dc->disks));
	assert_non_null(dc->disks);
	dc->num_disks = n;
	for (i = 0; i < n; i++) {
		libxl_device_disk_init(&dc->disks[i]);
		dc->disks[i].vdev = strdup(d[i].vdev);
		dc->disks[i].pdev_path = strdup(d[i].target);
		dc->disks[i].readwrite = d[i].writable;
		dc->disks[i].format = LIBXL_DISK_FORMAT_RAW;
		snprintf(t->disks[i].vdev, sizeof(t->disks[i].vdev), "%s",
		    d[i].vdev);
		snprintf(t->disks[i].target, sizeof(t->disks[i].target), "%s",
		    d[i].target);
		t->disks[i].writable = d[i].writable;
		t->disks[i].is_block = d[i].is_block;
		if (d[i].writable)
			t->num_writable++;
	}
	t->num_disks = (unsigned)n;
}

/* Progress calls, recorded. */
struct calls {
	int		n;
	char		vdev[8][16];
	uint64_t	done[256];
	uint64_t	total[256];
	int		cancel_after;	/* cancel at this call (0: never) */
};

static int
record(void *arg, const char *vdev, uint64_t done, uint64_t total)
{
	struct calls *c = arg;

	assert_true(c->n < 256);
	snprintf(c->vdev[c->n < 8 ? c->n : 7], sizeof(c->vdev[0]), "%s", vdev);
	c->done[c->n] = done;
	c->total[c->n] = total;
	c->n++;
	return c->cancel_after && c->n >= c->cancel_after;
}

static int
entries(const char *dir)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' 2>/dev/null | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void
clone_path_of(char *buf, size_t n, const char *sid, const char *vdev)
{
	assert_true(strlen(cdir) + 40 < n);
	snprintf(buf, n, "%s/%s-%s.img", cdir, sid, vdev);
}

/* --- file clones ------------------------------------------------------------- */

static void
test_sparse_copy(void **state)
{
	char img[PATH_MAX], ro[PATH_MAX], cl[PATH_MAX], err[512];
	const uint64_t offs[] = { 0, 10 * MiB, 64 * MiB - 4096 };
	const uint64_t lens[] = { 4096, MiB, 4096 };
	struct mcd_template t;
	libxl_domain_config dc;
	struct stat s1, s2, sd, before;
	struct calls c = { 0 };
	uint64_t sum;

	(void)state;
	snprintf(img, sizeof(img), "%s/data.img", root);
	snprintf(ro, sizeof(ro), "%s/ro.img", root);
	make_image(img, 64 * MiB, offs, lens, 3);
	make_image(ro, MiB, offs, lens, 1);
	sum = file_sum(img);
	assert_int_equal(stat(img, &before), 0);
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvda", ro, 0, 0 }, { "xvdb", img, 1, 0 } }, 2);

	assert_int_equal(clone_disks(&t, &dc, SID, cdir, record, &c, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	clone_path_of(cl, sizeof(cl), SID, "xvdb");
	/* The domain gets the clone; the read-only disk stays as it was. */
	assert_string_equal(dc.disks[1].pdev_path, cl);
	assert_string_equal(dc.disks[0].pdev_path, ro);
	assert_int_equal(dc.disks[1].readwrite, 1);

	/* Same bytes, same size, holes kept. */
	same_bytes(img, cl);
	same_sparse(img, cl);
	assert_int_equal(stat(img, &s1), 0);
	assert_int_equal(stat(cl, &s2), 0);
	assert_int_equal(s1.st_size, s2.st_size);
	assert_true(s2.st_blocks * 512 < (blkcnt_t)(8 * MiB));
	assert_true(s2.st_blocks <= s1.st_blocks + 64);
	assert_int_equal(s2.st_mode & 07777, 0600);
	assert_int_equal(stat(cdir, &sd), 0);
	assert_int_equal(sd.st_mode & 07777, 0700);
	assert_int_equal(entries(cdir), 1);	/* only the writable disk */

	/* The template's image was not touched. */
	assert_int_equal(file_sum(img), sum);
	assert_int_equal(s1.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(s1.st_mtim.tv_nsec, before.st_mtim.tv_nsec);

	/* Writing the clone does not write the template. */
	{
		int fd = open(cl, O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "guest wrote this", 16, 4096), 16);
		close(fd);
	}
	assert_int_equal(file_sum(img), sum);
	assert_int_equal(clone_remove(SID, cdir), 0);
	assert_int_equal(entries(cdir), 0);
	assert_int_equal(file_sum(img), sum);
	libxl_domain_config_dispose(&dc);
}

/*
 * The reflink path needs a file system that shares blocks (XFS with
 * reflink, btrfs): set MCD_TEST_REFLINK_DIR to a directory on one to run
 * it, e.g. a loop-mounted `mkfs.xfs -m reflink=1` image.  Skipped otherwise.
 */
static void
test_reflink(void **state)
{
	const char *rdir = getenv("MCD_TEST_REFLINK_DIR");
	char img[PATH_MAX], cl[PATH_MAX + 64], dir[PATH_MAX], err[512];
	const uint64_t offs[] = { 0, 40 * MiB };
	const uint64_t lens[] = { 8 * MiB, 8 * MiB };
	struct mcd_template t;
	libxl_domain_config dc;
	struct calls c = { 0 };
	struct statvfs v0, v1;
	uint64_t sum;
	int fd;

	(void)state;
	if (rdir == NULL || *rdir == '\0')
		skip();
	snprintf(img, sizeof(img), "%s/mcd-reflink-src.img", rdir);
	snprintf(dir, sizeof(dir), "%s/mcd-reflink-clones", rdir);
	make_image(img, 64 * MiB, offs, lens, 2);
	sum = file_sum(img);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", img, 1, 0 } }, 1);
	/* Allocate the image's blocks for real before measuring. */
	fd = open(img, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fsync(fd), 0);
	close(fd);
	clone_remove(SID, dir);		/* a failed earlier run */
	rmdir(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	sync();
	/* clone_plan predicts it. */
	assert_int_equal(clone_plan(&t.disks[0], dir, err, sizeof(err)),
	    CLONE_REFLINK);
	assert_int_equal(statvfs(rdir, &v0), 0);
	assert_int_equal(clone_disks(&t, &dc, SID, dir, record, &c, err,
	    sizeof(err)), 0);
	sync();
	assert_int_equal(statvfs(rdir, &v1), 0);
	snprintf(cl, sizeof(cl), "%s/" SID "-xvdb.img", dir);
	assert_string_equal(dc.disks[0].pdev_path, cl);
	same_bytes(img, cl);
	/* Shared blocks: 16 MiB of data cost (almost) no new space. */
	assert_true(((int64_t)v0.f_bavail - (int64_t)v1.f_bavail) *
	    (int64_t)v0.f_frsize < (int64_t)(2 * MiB));
	/* A reflink reports once, done. */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.done[1], 64 * MiB);
	/* Writing the clone leaves the template alone. */
	fd = open(cl, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "guest", 5, 4096), 5);
	close(fd);
	assert_int_equal(file_sum(img), sum);
	assert_int_equal(clone_remove(SID, dir), 0);
	unlink(img);
	rmdir(dir);
	libxl_domain_config_dispose(&dc);
}

static void
test_progress(void **state)
{
	char img[PATH_MAX], err[512];
	const uint64_t offs[] = { 0, 3 * MiB, 17 * MiB, 40 * MiB };
	const uint64_t lens[] = { 2 * MiB, 5 * MiB, 9 * MiB, MiB };
	struct mcd_template t;
	libxl_domain_config dc;
	struct calls c = { 0 };
	int i;

	(void)state;
	snprintf(img, sizeof(img), "%s/prog.img", root);
	make_image(img, 48 * MiB, offs, lens, 4);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdc", img, 1, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, record, &c, err,
	    sizeof(err)), 0);
	assert_true(c.n >= 2);
	assert_true(c.n <= 102);	/* about once per percent at most */
	assert_int_equal(c.done[0], 0);
	for (i = 0; i < c.n; i++) {
		assert_int_equal(c.total[i], 48 * MiB);
		if (i > 0)
			assert_true(c.done[i] > c.done[i - 1]);
	}
	assert_int_equal(c.done[c.n - 1], 48 * MiB);
	assert_string_equal(c.vdev[0], "xvdc");
	assert_int_equal(clone_remove(SID, cdir), 0);
	libxl_domain_config_dispose(&dc);
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 GiB apparent size, 4 MiB of data: the holes cost nothing. */
static void
test_big_sparse_is_fast(void **state)
{
	char img[PATH_MAX], cl[PATH_MAX], err[512];
	uint64_t offs[4], lens[4];
	struct mcd_template t;
	libxl_domain_config dc;
	struct calls c = { 0 };
	struct stat st;
	double t0, took;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		offs[i] = (uint64_t)i * 256 * MiB + 12345;
		lens[i] = MiB;
	}
	snprintf(img, sizeof(img), "%s/big.img", root);
	make_image(img, 1024 * MiB, offs, lens, 4);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", img, 1, 0 } }, 1);
	t0 = secs();
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, record, &c, err,
	    sizeof(err)), 0);
	took = secs() - t0;
	clone_path_of(cl, sizeof(cl), SID, "xvdb");
	assert_int_equal(stat(cl, &st), 0);
	assert_int_equal(st.st_size, 1024 * MiB);
	assert_true(st.st_blocks * 512 < (blkcnt_t)(16 * MiB));
	assert_true(took < 5.0);
	same_sparse(img, cl);
	assert_int_equal(c.done[c.n - 1], 1024 * MiB);
	assert_int_equal(clone_remove(SID, cdir), 0);
	unlink(img);
	libxl_domain_config_dispose(&dc);
}

/* A second disk fails: the first one's clone is removed, dc is unchanged. */
static void
test_failure_cleans_up(void **state)
{
	char a[PATH_MAX], b[PATH_MAX], cl[PATH_MAX], err[512];
	const uint64_t offs[] = { 0 };
	const uint64_t lens[] = { 65536 };
	struct mcd_template t;
	libxl_domain_config dc;
	int fd;

	(void)state;
	snprintf(a, sizeof(a), "%s/a.img", root);
	snprintf(b, sizeof(b), "%s/missing.img", root);
	make_image(a, 4 * MiB, offs, lens, 1);
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvda", a, 1, 0 }, { "xvdb", b, 1, 0 } }, 2);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot clone disk xvdb of template "
	    "disky"));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(entries(cdir), 0);
	assert_string_equal(dc.disks[0].pdev_path, a);
	assert_string_equal(dc.disks[1].pdev_path, b);
	libxl_domain_config_dispose(&dc);

	/* A clone that is already there is neither overwritten nor removed. */
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvda", a, 1, 0 } }, 1);
	clone_path_of(cl, sizeof(cl), SID, "xvda");
	fd = open(cl, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "File exists"));
	assert_int_equal(entries(cdir), 1);
	assert_string_equal(dc.disks[0].pdev_path, a);
	assert_int_equal(clone_remove(SID, cdir), 0);
	libxl_domain_config_dispose(&dc);
}

static void
test_cancel(void **state)
{
	char img[PATH_MAX], err[512];
	const uint64_t offs[] = { 0 };
	const uint64_t lens[] = { 32 * MiB };
	struct mcd_template t;
	libxl_domain_config dc;
	struct calls c = { .cancel_after = 3 };

	(void)state;
	snprintf(img, sizeof(img), "%s/cancel.img", root);
	make_image(img, 32 * MiB, offs, lens, 1);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", img, 1, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, record, &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cancelled"));
	assert_int_equal(c.n, 3);
	assert_int_equal(entries(cdir), 0);
	assert_string_equal(dc.disks[0].pdev_path, img);
	libxl_domain_config_dispose(&dc);
}

static void
test_bad_arguments(void **state)
{
	char img[PATH_MAX], err[512];
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	snprintf(img, sizeof(img), "%s/args.img", root);
	make_image(img, MiB, NULL, NULL, 0);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", img, 1, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, "../x", cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid clone owner id"));
	assert_int_equal(clone_disks(&t, &dc, "ABC", cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(clone_disks(&t, &dc, SID, "rel/dir", NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not an absolute path"));
	free(dc.disks[0].vdev);
	dc.disks[0].vdev = strdup("xvdz");
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "disk 1 of the domain config is not xvdb"));
	assert_int_equal(entries(cdir), 0);
	libxl_domain_config_dispose(&dc);

	/* No writable disk: nothing to do, not even the directory. */
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvda", img, 0, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(access(cdir, F_OK), -1);
	assert_string_equal(dc.disks[0].pdev_path, img);
	libxl_domain_config_dispose(&dc);

	/* The clone directory must be a directory. */
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvda", img, 1, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, SID, img, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a directory"));
	libxl_domain_config_dispose(&dc);
}

struct ids {
	char	id[8][CLONE_ID_MAX + 1];
	int	n;
};

static int
collect(const char *sid, void *arg)
{
	struct ids *ids = arg;

	assert_true(ids->n < 8);
	snprintf(ids->id[ids->n++], sizeof(ids->id[0]), "%s", sid);
	return 0;
}

static void
touch(const char *name)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cdir, name);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_remove_and_list(void **state)
{
	char img[PATH_MAX], err[512];
	struct mcd_template t;
	libxl_domain_config dc;
	struct ids ids = { .n = 0 };

	(void)state;
	/* Missing directory: nothing to list or remove. */
	assert_int_equal(clone_list(cdir, collect, &ids), 0);
	assert_int_equal(clone_remove(SID, cdir), 0);

	snprintf(img, sizeof(img), "%s/rl.img", root);
	make_image(img, MiB, NULL, NULL, 0);
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvda", img, 1, 0 }, { "xvdb", img, 1, 0 } }, 2);
	assert_int_equal(clone_disks(&t, &dc, "ffff000011112222", cdir, NULL,
	    NULL, err, sizeof(err)), 0);
	libxl_domain_config_dispose(&dc);
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", img, 1, 0 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, "aaaa000011112222", cdir, NULL,
	    NULL, err, sizeof(err)), 0);
	libxl_domain_config_dispose(&dc);
	/* Things that are not clones. */
	touch("notes.txt");
	touch("Upper-xvda.img");
	touch("aaaa000011112222-xvdb.img.bak");
	touch("-xvda.img");
	touch("pool7-.img");
	assert_int_equal(entries(cdir), 8);

	assert_int_equal(clone_list(cdir, collect, &ids), 2);
	assert_string_equal(ids.id[0], "aaaa000011112222");
	assert_string_equal(ids.id[1], "ffff000011112222");

	assert_int_equal(clone_remove("ffff000011112222", cdir), 0);
	assert_int_equal(entries(cdir), 6);
	ids.n = 0;
	assert_int_equal(clone_list(cdir, collect, &ids), 1);
	assert_string_equal(ids.id[0], "aaaa000011112222");
	assert_int_equal(clone_remove("ffff000011112222", cdir), 0);
	assert_int_equal(clone_remove("aaaa000011112222", cdir), 0);
	assert_int_equal(entries(cdir), 5);	/* the non-clones stay */
	ids.n = 0;
	assert_int_equal(clone_list(cdir, collect, &ids), 0);
	assert_int_equal(clone_remove("../etc", cdir), -1);
}

/* --- LVM thin snapshots, with a fake lvm ------------------------------------ */

/*
 * Write the fake lvm: it appends "<arg1> <arg2> ..." (one line per call)
 * to lvmlog, prints lvs_out for `lvs --noheadings ...`, and exits with the
 * status given for each command.
 */
static void
fake_lvm(const char *lvs_out, int lvcreate_rc, int lvremove_rc, int lvs_rc)
{
	FILE *f = fopen(fakelvm, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
	    "echo \"$*\" >>'%s'\n"
	    "case \"$1\" in\n"
	    "lvs) [ \"$2\" = --noheadings ] && printf '%%s\\n' '%s'\n"
	    "     exit %d ;;\n"
	    "lvcreate) [ %d = 0 ] || echo '  Insufficient free space in "
	    "thin pool' >&2; exit %d ;;\n"
	    "lvremove) exit %d ;;\n"
	    "esac\n"
	    "exit 9\n", lvmlog, lvs_out, lvs_rc, lvcreate_rc, lvcreate_rc,
	    lvremove_rc);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(fakelvm, 0755), 0);
	assert_int_equal(setenv(CLONE_LVM_ENV, fakelvm, 1), 0);
}

/* The fake lvm's calls, one line each. */
static char *
lvm_calls(void)
{
	static char buf[4096];
	FILE *f = fopen(lvmlog, "r");
	size_t n;

	buf[0] = '\0';
	if (f == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_lvm_snapshot(void **state)
{
	char err[512], marker[PATH_MAX + 64], buf[256], want[1024];
	struct mcd_template t;
	libxl_domain_config dc;
	struct calls c = { 0 };
	struct ids ids = { .n = 0 };
	FILE *f;

	(void)state;
	fake_lvm("  vg0:base:thin:1073741824  ", 0, 0, 0);
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvdb", "/dev/vg0/base", 1, 1 } }, 1);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, record, &c, err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want),
	    "lvs --noheadings --nosuffix --units b --separator : -o "
	    "vg_name,lv_name,segtype,lv_size /dev/vg0/base\n"
	    "lvcreate -s -kn -n mcd-" SID "-xvdb vg0/base\n");
	assert_string_equal(lvm_calls(), want);
	assert_string_equal(dc.disks[0].pdev_path,
	    "/dev/vg0/mcd-" SID "-xvdb");
	/* The marker names the LV. */
	snprintf(marker, sizeof(marker), "%s/" SID "-xvdb.lv", cdir);
	f = fopen(marker, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "vg0/mcd-" SID "-xvdb\n");
	/* Progress: start and end, in bytes of the origin. */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.done[0], 0);
	assert_int_equal(c.done[1], 1073741824ULL);
	assert_int_equal(c.total[1], 1073741824ULL);

	assert_int_equal(clone_list(cdir, collect, &ids), 1);
	assert_string_equal(ids.id[0], SID);
	unlink(lvmlog);
	assert_int_equal(clone_remove(SID, cdir), 0);
	assert_string_equal(lvm_calls(), "lvremove -f vg0/mcd-" SID "-xvdb\n");
	assert_int_equal(access(marker, F_OK), -1);
	libxl_domain_config_dispose(&dc);
}

static void
test_lvm_refusals(void **state)
{
	char err[512];
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvdb", "/dev/vg0/base", 1, 1 } }, 1);

	/* A thick LV cannot be snapshotted without a size: refused. */
	fake_lvm("  vg0:base:linear:1073741824", 0, 0, 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "vg0/base is a 'linear' LV, not a thin "
	    "one"));
	assert_null(strstr(lvm_calls(), "lvcreate"));
	assert_int_equal(entries(cdir), 0);

	/* Not an LV at all. */
	unlink(lvmlog);
	fake_lvm("", 0, 0, 5);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not an LVM logical volume"));

	/* Garbage from lvs. */
	fake_lvm("vg0;base", 0, 0, 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read lvs output"));
	fake_lvm("  -vg:base:thin:10", 0, 0, 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read lvs output"));

	/* lvcreate fails: its complaint is the error, the marker goes. */
	unlink(lvmlog);
	fake_lvm("  vg0:base:thin:4096", 5, 0, 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "lvcreate: Insufficient free space in "
	    "thin pool"));
	assert_non_null(strstr(lvm_calls(), "lvcreate -s -kn"));
	assert_int_equal(entries(cdir), 0);
	assert_string_equal(dc.disks[0].pdev_path, "/dev/vg0/base");

	/* No lvm at all. */
	assert_int_equal(setenv(CLONE_LVM_ENV, "/nonexistent/lvm", 1), 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot run /nonexistent/lvm: No such "
	    "file or directory"));
	libxl_domain_config_dispose(&dc);
}

static void
write_marker(const char *sid, const char *vdev, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s.lv", cdir, sid, vdev);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_lvm_remove(void **state)
{
	char err[512];
	struct mcd_template t;
	libxl_domain_config dc;

	(void)state;
	/* Make the directory with one file clone. */
	make_tpl(&t, &dc, (const struct tdisk[]){ { "xvdb", fakelvm, 1, 0 } },
	    1);
	fake_lvm("", 0, 0, 0);
	assert_int_equal(clone_disks(&t, &dc, SID, cdir, NULL, NULL, err,
	    sizeof(err)), 0);
	libxl_domain_config_dispose(&dc);

	/* lvremove fails but lvs says the LV is gone: removed. */
	fake_lvm("", 0, 5, 5);
	write_marker(SID, "xvdc", "vg0/mcd-" SID "-xvdc\n");
	assert_int_equal(clone_remove(SID, cdir), 0);
	assert_string_equal(lvm_calls(), "lvremove -f vg0/mcd-" SID "-xvdc\n"
	    "lvs vg0/mcd-" SID "-xvdc\n");
	assert_int_equal(entries(cdir), 0);

	/* lvremove fails and the LV is still there: the marker stays. */
	unlink(lvmlog);
	fake_lvm("", 0, 5, 0);
	write_marker(SID, "xvdc", "vg0/mcd-" SID "-xvdc\n");
	assert_int_equal(clone_remove(SID, cdir), -1);
	assert_int_equal(entries(cdir), 1);

	/* A marker naming an LV MCD did not make is never acted on. */
	unlink(lvmlog);
	fake_lvm("", 0, 0, 0);
	write_marker(SID, "xvdc", "vg0/root\n");
	assert_int_equal(clone_remove(SID, cdir), -1);
	write_marker(SID, "xvdc", "vg0/mcd-ffffffffffffffff-xvdc\n");
	assert_int_equal(clone_remove(SID, cdir), -1);
	write_marker(SID, "xvdc", "vg0/mcd-" SID "-xvdc");	/* no newline */
	assert_int_equal(clone_remove(SID, cdir), -1);
	write_marker(SID, "xvdc", "-vg/mcd-" SID "-xvdc\n");
	assert_int_equal(clone_remove(SID, cdir), -1);
	assert_string_equal(lvm_calls(), "");
	assert_int_equal(entries(cdir), 1);
}

/* --- plan and check ------------------------------------------------------------ */

static void
test_plan(void **state)
{
	struct template_disk d;
	struct mcd_template t;
	libxl_domain_config dc;
	struct statfs sf;
	char why[256], img[PATH_MAX], *out;
	size_t len;
	FILE *f;
	int m;

	(void)state;
	snprintf(img, sizeof(img), "%s/plan.img", root);
	make_image(img, MiB, NULL, NULL, 0);
	memset(&d, 0, sizeof(d));
	snprintf(d.vdev, sizeof(d.vdev), "xvda");
	snprintf(d.target, sizeof(d.target), "%s", img);
	assert_int_equal(clone_plan(&d, cdir, why, sizeof(why)), CLONE_NONE);
	d.writable = 1;
	m = clone_plan(&d, cdir, why, sizeof(why));
	assert_true(m == CLONE_COPY || m == CLONE_REFLINK);
	assert_int_equal(statfs(root, &sf), 0);
	if (sf.f_type == 0xEF53 || sf.f_type == 0x01021994)	/* ext4, tmpfs */
		assert_int_equal(m, CLONE_COPY);
	/* A clone directory on another file system: copy. */
	assert_int_equal(clone_plan(&d, "/proc/nope", why, sizeof(why)),
	    CLONE_COPY);
	snprintf(d.target, sizeof(d.target), "%s/none.img", root);
	assert_int_equal(clone_plan(&d, cdir, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "No such file"));
	assert_string_equal(clone_method_name(CLONE_COPY), "sparse copy");
	assert_string_equal(clone_method_name(CLONE_LVM), "lvm thin snapshot");

	/* clone_check: one line per disk that cannot be cloned. */
	make_tpl(&t, &dc, (const struct tdisk[]){
	    { "xvda", img, 0, 0 }, { "xvdb", img, 1, 0 },
	    { "xvdc", "/dev/null", 1, 0 } }, 3);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(clone_check(&t, cdir, f), 1);
	fclose(f);
	assert_string_equal(out, "/etc/mcd/templates/disky.cfg: disk xvdc "
	    "cannot be cloned: /dev/null: not a regular file or block "
	    "device\n");
	free(out);
	libxl_domain_config_dispose(&dc);
}

/* --- progress lines and the bar ---------------------------------------------- */

static void
test_progress_lines(void **state)
{
	char buf[128], vdev[TEMPLATE_VDEV_MAX + 1];
	uint64_t done, total;

	(void)state;
	assert_int_equal(clone_progress_format(buf, sizeof(buf), "xvdb",
	    1048576, 67108864), 0);
	assert_string_equal(buf, "clone xvdb 1048576 67108864");
	assert_int_equal(clone_progress_parse(buf, vdev, &done, &total), 0);
	assert_string_equal(vdev, "xvdb");
	assert_int_equal(done, 1048576);
	assert_int_equal(total, 67108864);
	assert_int_equal(clone_progress_parse("clone xvda 0 0", vdev, &done,
	    &total), 0);
	assert_int_equal(clone_progress_parse("clone xvda "
	    "18446744073709551615 18446744073709551615", vdev, &done, &total),
	    0);
	assert_int_equal(done, UINT64_MAX);
	assert_int_equal(clone_progress_format(buf, 8, "xvdb", 1, 2), -1);

	assert_int_equal(clone_progress_parse("clone xvda 5 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone xvda 1 "
	    "18446744073709551616", vdev, &done, &total), -1);
	assert_int_equal(clone_progress_parse("clone xvda 01 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone xvda -1 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone xvda 1 4 ", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone XVDA 1 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone  1 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("clone xvdaaaaaaaaaaaaaaa 1 4",
	    vdev, &done, &total), -1);
	assert_int_equal(clone_progress_parse("clones xvda 1 4", vdev, &done,
	    &total), -1);
	assert_int_equal(clone_progress_parse("session 0123 creating", vdev,
	    &done, &total), -1);
	assert_int_equal(clone_progress_parse(NULL, vdev, &done, &total), -1);
}

static void
test_progress_bar(void **state)
{
	char buf[256], *slave;
	FILE *f;
	int m, s;
	ssize_t n;

	(void)state;
	progress_format(buf, sizeof(buf), "cloning xvdb", 32 * MiB, 64 * MiB,
	    80);
	assert_non_null(strstr(buf, "cloning xvdb ["));
	assert_non_null(strstr(buf, "]  50%  32.0/64.0 MiB"));
	assert_true(strlen(buf) <= 80);
	assert_non_null(strstr(buf, "####################....................") );
	progress_format(buf, sizeof(buf), "x", 0, 0, 80);
	assert_non_null(strstr(buf, "100%  0/0 B"));
	progress_format(buf, sizeof(buf), "x", 3 * 1024ULL * MiB,
	    4 * 1024ULL * MiB, 20);
	assert_non_null(strstr(buf, " 75%  3.0/4.0 GiB"));
	assert_non_null(strstr(buf, "[#######...]"));	/* at least 10 wide */

	/* Not a terminal: nothing is written. */
	f = tmpfile();
	assert_non_null(f);
	progress_bar(f, "cloning xvdb", 1, 2);
	progress_bar(f, "cloning xvdb", 2, 2);
	assert_int_equal(ftell(f), 0);
	fclose(f);
	progress_bar(NULL, "x", 1, 2);

	/* A terminal: redrawn in place, a newline at the end. */
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    (slave = ptsname(m)) == NULL)
		skip();
	s = open(slave, O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	f = fdopen(s, "w");
	assert_non_null(f);
	progress_bar(f, "cloning xvdb", MiB, 4 * MiB);
	progress_bar(f, "cloning xvdb", 4 * MiB, 4 * MiB);
	fclose(f);
	n = read(m, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(m);
	assert_int_equal(buf[0], '\r');
	assert_non_null(strstr(buf, " 25%  1.0/4.0 MiB\033[K\r"));
	assert_non_null(strstr(buf, "100%  4.0/4.0 MiB\033[K"));
	/* The tty turns "\n" into "\r\n". */
	assert_true(buf[n - 1] == '\n');
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(clone_id_valid(SID), 1);
	assert_int_equal(clone_id_valid("pool3"), 1);
	assert_int_equal(clone_id_valid(""), 0);
	assert_int_equal(clone_id_valid(NULL), 0);
	assert_int_equal(clone_id_valid("a-b"), 0);
	assert_int_equal(clone_id_valid("A"), 0);
	assert_int_equal(clone_id_valid("0123456789abcdef0123456789abcdef"),
	    1);
	assert_int_equal(clone_id_valid("0123456789abcdef0123456789abcdef0"),
	    0);
	assert_int_equal(unsetenv(CLONE_DIR_ENV), 0);
	assert_string_equal(clone_dir(), "/var/lib/mcd/clones");
	assert_int_equal(setenv(CLONE_DIR_ENV, "/srv/c", 1), 0);
	assert_string_equal(clone_dir(), "/srv/c");
	assert_int_equal(unsetenv(CLONE_DIR_ENV), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sparse_copy, each),
		cmocka_unit_test_setup(test_reflink, each),
		cmocka_unit_test_setup(test_progress, each),
		cmocka_unit_test_setup(test_big_sparse_is_fast, each),
		cmocka_unit_test_setup(test_failure_cleans_up, each),
		cmocka_unit_test_setup(test_cancel, each),
		cmocka_unit_test_setup(test_bad_arguments, each),
		cmocka_unit_test_setup(test_remove_and_list, each),
		cmocka_unit_test_setup(test_lvm_snapshot, each),
		cmocka_unit_test_setup(test_lvm_refusals, each),
		cmocka_unit_test_setup(test_lvm_remove, each),
		cmocka_unit_test_setup(test_plan, each),
		cmocka_unit_test(test_progress_lines),
		cmocka_unit_test(test_progress_bar),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("clone", tests, setup, teardown);
}
