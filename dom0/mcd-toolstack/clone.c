/*
 * clone.c - per-launch clones of writable template disks; see clone.h.
 *
 * The template's image is opened O_RDONLY and nothing else: every write
 * goes to a file this module created with O_EXCL, or to an LV lvm created.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "clone.h"
#include "log.h"
#include "runprog.h"

#define COPY_CHUNK	(8u << 20)	/* bytes per copy_file_range call */
#define RW_BUF		(1u << 20)	/* bytes per read in the fallback */
#define LVM_OUT_MAX	4096		/* bytes of lvm output kept */
#define LVM_NAME_MAX	127		/* VG and LV names */
#define MIB		(1024.0 * 1024.0)

/* File systems that can share blocks between files (FICLONE). */
#define FS_BTRFS	0x9123683EUL
#define FS_XFS		0x58465342UL
#define FS_OCFS2	0x7461636FUL
#define FS_BCACHEFS	0xCA451A4EUL

/* Copy s into d (n bytes), cut if it must be. */
static void
scopy(char *d, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);

	memcpy(d, s, l);
	d[l] = '\0';
}

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

const char *
clone_method_name(enum clone_method m)
{
	switch (m) {
	case CLONE_NONE:	return "none";
	case CLONE_REFLINK:	return "reflink";
	case CLONE_COPY:	return "sparse copy";
	case CLONE_LVM:		return "lvm thin snapshot";
	}
	return "?";
}

const char *
clone_dir(void)
{
	const char *d = getenv(CLONE_DIR_ENV);

	return (d && *d) ? d : CLONE_DIR_DEFAULT;
}

int
clone_id_valid(const char *id)
{
	size_t i, n;

	if (id == NULL)
		return 0;
	n = strnlen(id, CLONE_ID_MAX + 1);
	if (n == 0 || n > CLONE_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isdigit((unsigned char)id[i]) ||
		    (id[i] >= 'a' && id[i] <= 'z')))
			return 0;
	return 1;
}

static int
vdev_ok(const char *v)
{
	size_t i, n = strnlen(v, TEMPLATE_VDEV_MAX + 1);

	if (n == 0 || n > TEMPLATE_VDEV_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isdigit((unsigned char)v[i]) ||
		    (v[i] >= 'a' && v[i] <= 'z')))
			return 0;
	return 1;
}

/* LVM's rule for VG and LV names: [A-Za-z0-9+_.-], not starting with '-'. */
static int
lvm_name_ok(const char *s)
{
	size_t i, n = strnlen(s, LVM_NAME_MAX + 1);

	if (n == 0 || n > LVM_NAME_MAX || s[0] == '-' ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '+' ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-') ||
		    !isascii((unsigned char)s[i]))
			return 0;
	return 1;
}

/* <dir>/<sid>-<vdev><suffix>; -1 if it does not fit. */
static int
clone_path(char *buf, size_t n, const char *dir, const char *sid,
    const char *vdev, const char *suffix)
{
	int r = snprintf(buf, n, "%s/%s-%s%s", dir, sid, vdev, suffix);

	return (r < 0 || (size_t)r >= n) ? -1 : 0;
}

/* --- running lvm ------------------------------------------------------------ */

struct run {
	int		status;			/* exit status, or -1 */
	char		out[LVM_OUT_MAX];	/* stdout, cut */
	char		err[512];		/* first line of stderr */
	struct runprog	rp;			/* stderr's tail */
};

static const char *
lvm_path(void)
{
	const char *p = getenv(CLONE_LVM_ENV);

	return (p && *p) ? p : CLONE_LVM_DEFAULT;
}

/*
 * Run `lvm args...` (args NULL-terminated, without "lvm") with a fixed
 * environment (runprog.h), stdout apart from stderr.  Returns 0 with
 * rr->status the exit status (-1 if killed) and rr->err the first line of
 * its stderr, or -1 with rr->err set if it could not run at all or took
 * longer than CLONE_LVM_TIMEOUT_S.
 */
static int
run_lvm(const char *const *args, struct run *rr)
{
	static char *const envp[] = {
		RUNPROG_PATH,
		"LC_ALL=C",
		"LVM_SUPPRESS_FD_WARNINGS=1",
		NULL
	};
	struct runprog_opts o = {
		.path = lvm_path(),
		.timeout_s = CLONE_LVM_TIMEOUT_S,
		.envp = envp,
		.out = rr->out,
		.outlen = sizeof(rr->out),
	};
	char *argv[24], *s, *nl;
	size_t i;

	memset(rr, 0, sizeof(*rr));
	rr->status = -1;
	argv[0] = "lvm";
	for (i = 0; args[i]; i++) {
		if (i + 2 >= sizeof(argv) / sizeof(argv[0])) {
			seterr(rr->err, sizeof(rr->err), "too many arguments");
			return -1;
		}
		argv[i + 1] = (char *)args[i];
	}
	argv[i + 1] = NULL;

	runprog_run(argv, &o, &rr->rp);
	switch (rr->rp.end) {
	case RUNPROG_TIMEDOUT:
	case RUNPROG_FAILED:
		seterr(rr->err, sizeof(rr->err), "%s", rr->rp.reason);
		return -1;
	case RUNPROG_SIGNALED:
		break;
	case RUNPROG_EXITED:
		rr->status = rr->rp.code;
		break;
	}
	/* The first line lvm complained with, for error messages. */
	s = rr->rp.tail;
	while (*s == ' ' || *s == '\n')
		s++;
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	scopy(rr->err, sizeof(rr->err), s);
	return 0;
}

/* One line of why an lvm command failed. */
static void
lvm_failed(char *err, size_t errlen, const char *what, const struct run *rr)
{
	if (rr->status < 0)
		seterr(err, errlen, "%s: lvm was killed", what);
	else if (rr->err[0])
		seterr(err, errlen, "%s: %s", what, rr->err);
	else
		seterr(err, errlen, "%s: lvm exited with status %d", what,
		    rr->status);
}

struct lv_info {
	char		vg[LVM_NAME_MAX + 1];
	char		lv[LVM_NAME_MAX + 1];
	char		segtype[32];
	uint64_t	size;
};

/* Cut s at the next ':' (or end); return what follows, or NULL. */
static char *
field(char *s)
{
	char *c = strchr(s, ':');

	if (c == NULL)
		return NULL;
	*c = '\0';
	return c + 1;
}

/* Ask lvm what the block device target is.  0, or -1 with err. */
static int
lv_lookup(const char *target, struct lv_info *li, char *err, size_t errlen)
{
	const char *args[] = { "lvs", "--noheadings", "--nosuffix", "--units",
	    "b", "--separator", ":", "-o", "vg_name,lv_name,segtype,lv_size",
	    target, NULL };
	struct run *rr;
	char *s, *lv, *seg, *size, *end, *nl;
	unsigned long long sz;
	int rc = -1;

	memset(li, 0, sizeof(*li));
	if ((rr = malloc(sizeof(*rr))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (run_lvm(args, rr) < 0) {
		seterr(err, errlen, "%s", rr->err);
		goto out;
	}
	if (rr->status != 0) {
		lvm_failed(err, errlen, "not an LVM logical volume (lvs)", rr);
		goto out;
	}
	s = rr->out;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	if ((lv = field(s)) == NULL || (seg = field(lv)) == NULL ||
	    (size = field(seg)) == NULL) {
		seterr(err, errlen, "cannot read lvs output '%.60s'", s);
		goto out;
	}
	errno = 0;
	sz = strtoull(size, &end, 10);
	while (*end == ' ')
		end++;
	if (!lvm_name_ok(s) || !lvm_name_ok(lv) || errno || end == size ||
	    *end != '\0' || strlen(seg) >= sizeof(li->segtype)) {
		seterr(err, errlen, "cannot read lvs output '%.60s'", rr->out);
		goto out;
	}
	scopy(li->vg, sizeof(li->vg), s);
	scopy(li->lv, sizeof(li->lv), lv);
	scopy(li->segtype, sizeof(li->segtype), seg);
	li->size = sz;
	rc = 0;
out:
	free(rr);
	return rc;
}

/* Check a thin LV can be snapshotted.  0, or -1 with err. */
static int
lv_thin(const char *target, struct lv_info *li, char *err, size_t errlen)
{
	if (lv_lookup(target, li, err, errlen) < 0)
		return -1;
	if (strcmp(li->segtype, "thin") != 0) {
		seterr(err, errlen, "%s/%s is a '%s' LV, not a thin one: MCD "
		    "clones block devices only as LVM thin snapshots", li->vg,
		    li->lv, li->segtype);
		return -1;
	}
	return 0;
}

/* lvremove an LV MCD made; 0 if it is gone afterwards. */
static int
lv_remove(const char *vg_lv)
{
	const char *rm[] = { "lvremove", "-f", vg_lv, NULL };
	const char *ls[] = { "lvs", vg_lv, NULL };
	struct run *rr;
	int rc = -1;

	if ((rr = malloc(sizeof(*rr))) == NULL)
		return -1;
	if (run_lvm(rm, rr) < 0) {
		log_warnx("clone %s: cannot remove: %s", vg_lv, rr->err);
		goto out;
	}
	if (rr->status == 0) {
		rc = 0;
		goto out;
	}
	/* Already gone (say, removed by hand)?  lvs fails on a missing LV. */
	if (run_lvm(ls, rr) == 0 && rr->status != 0) {
		rc = 0;
		goto out;
	}
	log_warnx("clone %s: lvremove failed (status %d)%s%s", vg_lv,
	    rr->status, rr->err[0] ? ": " : "", rr->err);
out:
	free(rr);
	return rc;
}

/* --- progress ---------------------------------------------------------------- */

struct prog {
	clone_progress_fn cb;
	void		*arg;
	const char	*vdev;
	uint64_t	 total;
	uint64_t	 last_done;
	int		 last_pct;	/* -1: nothing reported yet */
};

/* Report done if it moved a percent (or force); -1 if cancelled. */
static int
prog_report(struct prog *p, uint64_t done, int force)
{
	int pct;

	if (p->cb == NULL)
		return 0;
	if (done > p->total)
		done = p->total;
	pct = p->total ? (int)(done * 100 / p->total) : 100;
	if (p->last_pct >= 0 && (done == p->last_done ||
	    (!force && pct == p->last_pct)))
		return 0;
	p->last_pct = pct;
	p->last_done = done;
	return p->cb(p->arg, p->vdev, done, p->total) ? -1 : 0;
}

/* --- file clones ------------------------------------------------------------- */

static int
all_zero(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/*
 * Copy [pos, end) of src to the same offsets of dst.  copy_file_range
 * first; where the kernel cannot (another file system, old kernel), read
 * and write, leaving all-zero blocks as holes.
 */
static int
copy_range(int src, int dst, uint64_t pos, uint64_t end, int *use_rw,
    char **buf, struct prog *p, char *err, size_t errlen)
{
	ssize_t n, w;
	size_t want, k;
	loff_t in, out;

	while (pos < end) {
		want = end - pos > COPY_CHUNK ? COPY_CHUNK : (size_t)(end - pos);
		if (!*use_rw) {
			in = out = (loff_t)pos;
			n = copy_file_range(src, &in, dst, &out, want, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			    errno == ENOSYS || errno == EOPNOTSUPP ||
			    errno == EBADF)) {
				*use_rw = 1;
				continue;
			}
			if (n < 0) {
				seterr(err, errlen, "copy: %s",
				    strerror(errno));
				return -1;
			}
			if (n == 0)
				break;	/* the image shrank under us */
			pos += (uint64_t)n;
		} else {
			if (*buf == NULL && (*buf = malloc(RW_BUF)) == NULL) {
				seterr(err, errlen, "out of memory");
				return -1;
			}
			if (want > RW_BUF)
				want = RW_BUF;
			n = pread(src, *buf, want, (off_t)pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				seterr(err, errlen, "read: %s",
				    strerror(errno));
				return -1;
			}
			if (n == 0)
				break;
			if (!all_zero(*buf, (size_t)n)) {
				for (k = 0; k < (size_t)n; k += (size_t)w) {
					w = pwrite(dst, *buf + k, (size_t)n - k,
					    (off_t)(pos + k));
					if (w < 0 && errno == EINTR) {
						w = 0;
						continue;
					}
					if (w <= 0) {
						seterr(err, errlen, "write: %s",
						    w < 0 ? strerror(errno) :
						    "short write");
						return -1;
					}
				}
			}
			pos += (uint64_t)n;
		}
		if (prog_report(p, pos, 0) < 0) {
			seterr(err, errlen, "cancelled");
			errno = ECANCELED;
			return -1;
		}
	}
	return 0;
}

/* Refuse a copy that cannot fit in dir's file system (as root sees it). */
static int
space_check(const char *dir, const char *target, const struct stat *st,
    char *err, size_t errlen)
{
	struct statvfs vfs;
	uint64_t need = (uint64_t)st->st_blocks * 512, avail;

	if (statvfs(dir, &vfs) < 0)
		return 0;	/* cannot tell: let the copy find out */
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (need > avail) {
		seterr(err, errlen, "not enough space in %s for a copy of %s: "
		    "needs %.1f MiB, %.1f MiB free", dir, target, need / MIB,
		    avail / MIB);
		return -1;
	}
	return 0;
}

/*
 * Clone the regular file target to path (created O_EXCL): a reflink if
 * the file system can, else a sparse copy.  On failure path is removed.
 */
static int
clone_file(const char *target, const char *path, const char *dir,
    struct prog *p, enum clone_method *how, char *err, size_t errlen)
{
	struct stat st;
	int src = -1, dst = -1, use_rw = 0, rc = -1;
	char *buf = NULL;
	uint64_t size, off, data, hole;
	off_t r;

	src = open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (src < 0) {
		seterr(err, errlen, "%s: %s", target, strerror(errno));
		return -1;
	}
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", target);
		close(src);
		return -1;
	}
	size = (uint64_t)st.st_size;
	p->total = size;
	dst = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (dst < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(src);
		return -1;
	}
	if (prog_report(p, 0, 1) < 0) {
		seterr(err, errlen, "cancelled");
		goto out;
	}
	if (ioctl(dst, FICLONE, src) == 0) {
		*how = CLONE_REFLINK;
		if (prog_report(p, size, 1) < 0) {
			seterr(err, errlen, "cancelled");
			goto out;
		}
		rc = 0;
		goto out;
	}
	/* No sharing here (ext4, tmpfs, another file system...): copy. */
	*how = CLONE_COPY;
	if (space_check(dir, target, &st, err, errlen) < 0)
		goto out;
	if (ftruncate(dst, 0) < 0 || ftruncate(dst, (off_t)size) < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (off = 0; off < size; off = hole) {
		r = lseek(src, (off_t)off, SEEK_DATA);
		if (r < 0 && errno == ENXIO)
			break;			/* a hole up to the end */
		if (r < 0) {			/* no SEEK_DATA: all data */
			data = off;
			hole = size;
		} else {
			data = (uint64_t)r;
			r = lseek(src, (off_t)data, SEEK_HOLE);
			hole = r < 0 ? size : (uint64_t)r;
		}
		if (hole > size)
			hole = size;
		if (data >= size)
			break;
		if (prog_report(p, data, 0) < 0) {
			seterr(err, errlen, "cancelled");
			goto out;
		}
		if (copy_range(src, dst, data, hole, &use_rw, &buf, p, err,
		    errlen) < 0)
			goto out;
	}
	if (prog_report(p, size, 1) < 0) {
		seterr(err, errlen, "cancelled");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	close(src);
	if (dst >= 0 && close(dst) < 0 && rc == 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(path);
	return rc;
}

/* --- LVM clones ---------------------------------------------------------------- */

/*
 * Snapshot the thin LV target as VG/mcd-<sid>-<vdev>; dev gets its device
 * path.  The marker is written first and removed again on failure.
 */
static int
clone_lv(const char *target, const char *marker, const char *sid,
    const char *vdev, struct prog *p, char *dev, size_t devlen, char *err,
    size_t errlen)
{
	struct lv_info li;
	char name[LVM_NAME_MAX + 1], origin[2 * LVM_NAME_MAX + 2];
	char vg_lv[2 * LVM_NAME_MAX + 2], line[2 * LVM_NAME_MAX + 4];
	const char *args[] = { "lvcreate", "-s", "-kn", "-n", name, origin,
	    NULL };
	struct run *rr = NULL;
	int fd, n, rc = -1;
	size_t len;

	if (lv_thin(target, &li, err, errlen) < 0)
		return -1;
	p->total = li.size;
	snprintf(name, sizeof(name), CLONE_LV_PREFIX "%s-%s", sid, vdev);
	snprintf(origin, sizeof(origin), "%s/%s", li.vg, li.lv);
	snprintf(vg_lv, sizeof(vg_lv), "%s/%s", li.vg, name);
	n = snprintf(dev, devlen, "/dev/%s/%s", li.vg, name);
	if (n < 0 || (size_t)n >= devlen) {
		seterr(err, errlen, "device path too long");
		return -1;
	}
	if (prog_report(p, 0, 1) < 0) {
		seterr(err, errlen, "cancelled");
		return -1;
	}
	fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		seterr(err, errlen, "%s: %s", marker, strerror(errno));
		return -1;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s\n", vg_lv);
	n = write(fd, line, len) == (ssize_t)len ? 0 : -1;
	if (close(fd) < 0 || n < 0) {
		seterr(err, errlen, "%s: cannot write", marker);
		unlink(marker);
		return -1;
	}
	if ((rr = malloc(sizeof(*rr))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if (run_lvm(args, rr) < 0) {
		seterr(err, errlen, "%s", rr->err);
		goto out;
	}
	if (rr->status != 0) {
		lvm_failed(err, errlen, "lvcreate", rr);
		goto out;
	}
	if (prog_report(p, li.size, 1) < 0) {
		seterr(err, errlen, "cancelled");
		lv_remove(vg_lv);
		goto out;
	}
	rc = 0;
out:
	free(rr);
	if (rc < 0)
		unlink(marker);
	return rc;
}

/* Read a marker: "VG/mcd-<sid>-<vdev>\n", checked so that a bad marker
 * can never make us remove somebody else's LV. */
static int
read_marker(const char *marker, const char *sid, char *vg_lv, size_t n)
{
	char buf[2 * LVM_NAME_MAX + 8], prefix[CLONE_ID_MAX + 8], *slash;
	ssize_t r;
	int fd;

	fd = open(marker, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 1 || buf[r - 1] != '\n')
		return -1;
	buf[r - 1] = '\0';
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	snprintf(prefix, sizeof(prefix), CLONE_LV_PREFIX "%s-", sid);
	if (!lvm_name_ok(buf) || !lvm_name_ok(slash + 1) ||
	    strncmp(slash + 1, prefix, strlen(prefix)) != 0 ||
	    !vdev_ok(slash + 1 + strlen(prefix)))
		return -1;
	*slash = '/';
	if (strlen(buf) >= n)
		return -1;
	snprintf(vg_lv, n, "%s", buf);
	return 0;
}

/* --- the clone directory ----------------------------------------------------- */

/* mkdir -p dir: parents 0755, dir itself 0700.  0, or -1 with err. */
static int
ensure_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], *s;
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			seterr(err, errlen, "clone directory %s is not a "
			    "directory", dir);
			return -1;
		}
		return 0;
	}
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		seterr(err, errlen, "clone directory path too long");
		return -1;
	}
	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			seterr(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
			return -1;
		}
		*s = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		seterr(err, errlen, "cannot create clone directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "clone directory %s is not a directory",
		    dir);
		return -1;
	}
	return 0;
}

/* --- public ------------------------------------------------------------------ */

struct made {
	enum clone_method how;
	char		file[PATH_MAX];	/* clone file, or the LV's marker */
	char		dev[PATH_MAX];	/* what the domain gets */
};

/* Remove one clone clone_disks made (on its failure). */
static void
unmake(const struct made *m)
{
	char vg_lv[2 * LVM_NAME_MAX + 2];
	const char *slash;

	if (m->how == CLONE_LVM) {
		/* dev is /dev/VG/LV */
		slash = m->dev + strlen("/dev/");
		snprintf(vg_lv, sizeof(vg_lv), "%s", slash);
		if (lv_remove(vg_lv) == 0)
			unlink(m->file);
	} else if (m->how != CLONE_NONE) {
		unlink(m->file);
	}
}

int
clone_disks(const struct mcd_template *t, libxl_domain_config *dc,
    const char *sid, const char *dir, clone_progress_fn cb, void *arg,
    char *err, size_t errlen)
{
	const struct template_disk *td;
	struct made *made = NULL;
	char *paths[TEMPLATE_DISKS_MAX] = { NULL };
	char why[512];
	unsigned i;
	int rc = -1;
	long t0;

	seterr(err, errlen, "%s", "");
	if (t->num_writable == 0)
		return 0;
	if (dir == NULL)
		dir = clone_dir();
	if (!clone_id_valid(sid)) {
		seterr(err, errlen, "invalid clone owner id '%.40s'",
		    sid ? sid : "");
		return -1;
	}
	if (dir[0] != '/') {
		seterr(err, errlen, "clone directory '%s' is not an absolute "
		    "path", dir);
		return -1;
	}
	if (t->num_disks > TEMPLATE_DISKS_MAX ||
	    dc->num_disks != (int)t->num_disks) {
		seterr(err, errlen, "template %s: the domain config has %d "
		    "disks, the template %u", t->name, dc->num_disks,
		    t->num_disks);
		return -1;
	}
	for (i = 0; i < t->num_disks; i++) {
		if (dc->disks[i].vdev == NULL ||
		    strcmp(dc->disks[i].vdev, t->disks[i].vdev) != 0) {
			seterr(err, errlen, "template %s: disk %u of the domain "
			    "config is not %s", t->name, i + 1,
			    t->disks[i].vdev);
			return -1;
		}
	}
	if (ensure_dir(dir, err, errlen) < 0)
		return -1;
	if ((made = calloc(t->num_disks, sizeof(*made))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}

	for (i = 0; i < t->num_disks; i++) {
		struct prog p = { cb, arg, NULL, 0, 0, -1 };
		struct made *m = &made[i];
		int r;

		td = &t->disks[i];
		if (!td->writable)
			continue;
		p.vdev = td->vdev;
		why[0] = '\0';
		t0 = ms_now();
		if (!vdev_ok(td->vdev) || td->target[0] == '\0') {
			seterr(err, errlen, "template %s: disk %u cannot be "
			    "cloned", t->name, i + 1);
			goto fail;
		}
		if (td->is_block) {
			if (clone_path(m->file, sizeof(m->file), dir, sid,
			    td->vdev, ".lv") < 0) {
				seterr(err, errlen, "clone path too long");
				goto fail;
			}
			r = clone_lv(td->target, m->file, sid, td->vdev, &p,
			    m->dev, sizeof(m->dev), why, sizeof(why));
			if (r == 0)
				m->how = CLONE_LVM;
		} else {
			if (clone_path(m->file, sizeof(m->file), dir, sid,
			    td->vdev, ".img") < 0) {
				seterr(err, errlen, "clone path too long");
				goto fail;
			}
			r = clone_file(td->target, m->file, dir, &p, &m->how,
			    why, sizeof(why));
			if (r == 0)
				snprintf(m->dev, sizeof(m->dev), "%s",
				    m->file);
			else
				m->how = CLONE_NONE;
		}
		if (r < 0) {
			m->how = CLONE_NONE;
			seterr(err, errlen, "cannot clone disk %s of template "
			    "%s (%s): %s", td->vdev, t->name, td->target, why);
			goto fail;
		}
		log_info("clone %s: disk %s of template %s: %s of %s as %s "
		    "(%.1f MiB, %ld ms)", sid, td->vdev, t->name,
		    clone_method_name(m->how), td->target, m->dev,
		    p.total / MIB, ms_now() - t0);
	}
	/* Every clone exists: now point the domain at them, all or none. */
	for (i = 0; i < t->num_disks; i++) {
		if (made[i].how == CLONE_NONE)
			continue;
		if ((paths[i] = strdup(made[i].dev)) == NULL) {
			seterr(err, errlen, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < t->num_disks; i++) {
		if (paths[i] == NULL)
			continue;
		free(dc->disks[i].pdev_path);
		dc->disks[i].pdev_path = paths[i];
		paths[i] = NULL;
	}
	rc = 0;
	goto out;
fail:
	for (i = 0; i < t->num_disks; i++) {
		free(paths[i]);
		if (made[i].how != CLONE_NONE)
			unmake(&made[i]);
	}
out:
	free(made);
	return rc;
}

/*
 * A clone entry's name: <id>-<vdev>.img or <id>-<vdev>.lv.  Returns 1 (a
 * file clone) or 2 (an LV marker) with the id copied out, else 0.
 */
static int
entry_kind(const char *name, char id[CLONE_ID_MAX + 1])
{
	const char *dash = strchr(name, '-'), *dot;
	char vdev[TEMPLATE_VDEV_MAX + 1];
	size_t il, vl;
	int kind;

	if (dash == NULL || (dot = strrchr(dash, '.')) == NULL)
		return 0;
	if (strcmp(dot, ".img") == 0)
		kind = 1;
	else if (strcmp(dot, ".lv") == 0)
		kind = 2;
	else
		return 0;
	il = (size_t)(dash - name);
	vl = (size_t)(dot - dash - 1);
	if (il == 0 || il > CLONE_ID_MAX || vl == 0 || vl > TEMPLATE_VDEV_MAX)
		return 0;
	memcpy(id, name, il);
	id[il] = '\0';
	memcpy(vdev, dash + 1, vl);
	vdev[vl] = '\0';
	if (!clone_id_valid(id) || !vdev_ok(vdev))
		return 0;
	return kind;
}

int
clone_remove(const char *sid, const char *dir)
{
	char id[CLONE_ID_MAX + 1], path[PATH_MAX], vg_lv[2 * LVM_NAME_MAX + 2];
	struct dirent *de;
	DIR *d;
	int kind, rc = 0;

	if (!clone_id_valid(sid)) {
		errno = EINVAL;
		return -1;
	}
	if (dir == NULL)
		dir = clone_dir();
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		kind = entry_kind(de->d_name, id);
		if (kind == 0 || strcmp(id, sid) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (kind == 2) {
			if (read_marker(path, sid, vg_lv, sizeof(vg_lv)) < 0) {
				log_warnx("clone %s: %s is not a marker MCD "
				    "wrote; leaving it", sid, path);
				rc = -1;
				continue;
			}
			if (lv_remove(vg_lv) < 0) {
				rc = -1;
				continue;
			}
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			log_warn("clone %s: cannot remove %s", sid, path);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
clone_list(const char *dir, int (*cb)(const char *sid, void *arg), void *arg)
{
	char id[CLONE_ID_MAX + 1], **ids = NULL, **nn;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	int count = -1, e;
	DIR *d;

	if (dir == NULL)
		dir = clone_dir();
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno)
				goto out;
			break;
		}
		if (entry_kind(de->d_name, id) == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL)
				goto out;
			ids = nn;
		}
		if ((ids[n] = strdup(id)) == NULL)
			goto out;
		n++;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), id_cmp);
	count = 0;
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			continue;
		count++;
		if (cb(ids[i], arg) != 0)
			break;
	}
out:
	e = errno;
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	closedir(d);
	if (count < 0)
		errno = e;
	return count;
}

/* The device of dir, or of its nearest existing parent. */
static int
dir_dev(const char *dir, dev_t *dev, struct statfs *sf)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		if (stat(path, &st) == 0 && statfs(path, sf) == 0) {
			*dev = st.st_dev;
			return 0;
		}
		if ((slash = strrchr(path, '/')) == NULL)
			return -1;
		if (slash == path) {
			if (path[1] == '\0')
				return -1;
			path[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

int
clone_plan(const struct template_disk *d, const char *dir, char *why,
    size_t whylen)
{
	struct lv_info li;
	struct statfs sf, dsf;
	struct stat st;
	dev_t ddev;
	unsigned long type;

	seterr(why, whylen, "%s", "");
	if (!d->writable)
		return CLONE_NONE;
	if (dir == NULL)
		dir = clone_dir();
	if (d->target[0] == '\0') {
		seterr(why, whylen, "writable disk has no target");
		return -1;
	}
	if (stat(d->target, &st) < 0) {
		seterr(why, whylen, "%s: %s", d->target, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (lv_thin(d->target, &li, why, whylen) < 0)
			return -1;
		return CLONE_LVM;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(why, whylen, "%s: not a regular file or block device",
		    d->target);
		return -1;
	}
	if (statfs(d->target, &sf) < 0 || dir_dev(dir, &ddev, &dsf) < 0 ||
	    ddev != st.st_dev)
		return CLONE_COPY;
	type = (unsigned long)sf.f_type;
	if (type == FS_BTRFS || type == FS_XFS || type == FS_OCFS2 ||
	    type == FS_BCACHEFS)
		return CLONE_REFLINK;
	return CLONE_COPY;
}

int
clone_check(const struct mcd_template *t, const char *dir, FILE *out)
{
	char why[512];
	struct stat st;
	unsigned i;
	int n = 0;

	if (dir == NULL)
		dir = clone_dir();
	if (t->num_writable > 0 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		if (out)
			fprintf(out, "%s: clone directory %s is not a "
			    "directory\n", t->path, dir);
		n++;
	}
	for (i = 0; i < t->num_disks && i < TEMPLATE_DISKS_MAX; i++) {
		if (!t->disks[i].writable)
			continue;
		if (clone_plan(&t->disks[i], dir, why, sizeof(why)) < 0) {
			if (out)
				fprintf(out, "%s: disk %s cannot be cloned: "
				    "%s\n", t->path, t->disks[i].vdev, why);
			n++;
		}
	}
	return n;
}

/* --- progress lines and the bar --------------------------------------------- */

int
clone_progress_format(char *buf, size_t n, const char *vdev, uint64_t done,
    uint64_t total)
{
	int r = snprintf(buf, n, CLONE_PROGRESS_WORD " %s %" PRIu64 " %" PRIu64,
	    vdev, done, total);

	return (r < 0 || (size_t)r >= n) ? -1 : 0;
}

/* A decimal u64 with no sign, no leading zeros (but "0"), no overflow. */
static const char *
parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p) || (p[0] == '0' &&
	    isdigit((unsigned char)p[1])))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return NULL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return p;
}

int
clone_progress_parse(const char *line, char vdev[TEMPLATE_VDEV_MAX + 1],
    uint64_t *done, uint64_t *total)
{
	const char *s = line, *sp;
	size_t n;

	if (line == NULL || strncmp(s, CLONE_PROGRESS_WORD " ",
	    sizeof(CLONE_PROGRESS_WORD)) != 0)
		return -1;
	s += sizeof(CLONE_PROGRESS_WORD);
	if ((sp = strchr(s, ' ')) == NULL)
		return -1;
	n = (size_t)(sp - s);
	if (n == 0 || n > TEMPLATE_VDEV_MAX)
		return -1;
	memcpy(vdev, s, n);
	vdev[n] = '\0';
	if (!vdev_ok(vdev))
		return -1;
	if ((s = parse_u64(sp + 1, done)) == NULL || *s != ' ')
		return -1;
	if ((s = parse_u64(s + 1, total)) == NULL || *s != '\0')
		return -1;
	return *done <= *total ? 0 : -1;
}

void
progress_format(char *buf, size_t n, const char *label, uint64_t done,
    uint64_t total, unsigned width)
{
	static const struct { double div; const char *name; } units[] = {
		{ 1024.0 * 1024 * 1024, "GiB" }, { 1024.0 * 1024, "MiB" },
		{ 1024.0, "KiB" }, { 1, "B" },
	};
	char tail[64], bar[64];
	unsigned pct, i, u = 0, w, fill;
	size_t used;

	if (done > total)
		done = total;
	pct = total ? (unsigned)(done * 100 / total) : 100;
	while (u < 3 && (double)total < units[u].div)
		u++;
	if (u == 3)
		snprintf(tail, sizeof(tail), "%3u%%  %" PRIu64 "/%" PRIu64 " B",
		    pct, done, total);
	else
		snprintf(tail, sizeof(tail), "%3u%%  %.1f/%.1f %s", pct,
		    done / units[u].div, total / units[u].div,
		    units[u].name);
	used = strlen(label) + strlen(tail) + 5;	/* " [" "] " " " */
	w = width > used + 10 ? width - (unsigned)used : 10;
	if (w > 40)
		w = 40;
	fill = total ? (unsigned)((done * w) / total) : w;
	for (i = 0; i < w; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[w] = '\0';
	snprintf(buf, n, "%s [%s] %s", label, bar, tail);
}

void
progress_bar(FILE *tty, const char *label, uint64_t done, uint64_t total)
{
	struct winsize ws;
	unsigned width = 80;
	char line[256];

	if (tty == NULL || !isatty(fileno(tty)))
		return;
	if (ioctl(fileno(tty), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	/* Leave the last column free: some terminals wrap there. */
	progress_format(line, sizeof(line), label, done, total,
	    width > 1 ? width - 1 : width);
	fprintf(tty, "\r%s\033[K%s", line, done >= total ? "\n" : "");
	fflush(tty);
}
