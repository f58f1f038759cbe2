/*
 * volume.c - users' persistent block volumes; see volume.h.
 */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "daemon.h"
#include "domain.h"
#include "log.h"
#include "mcd_proto.h"
#include "runprog.h"

/* A lazy-init mkfs of a sparse file takes a second or two; one that takes
 * this long is stuck (a hung file system under the volume directory). */
#define MKFS_TIMEOUT_S	120

static const char *const mkfs_paths[] = {
	"/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4", NULL
};

const char *volume_dir(void)
{
	const char *d = getenv(VOLUME_DIR_ENV);

	return (d && *d) ? d : VOLUME_DIR_DEFAULT;
}

static int plain_dir(const char *dir)
{
	if (dir[0] != '/' || strstr(dir, ".."))
		return 0;
	for (const char *p = dir; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/._-", *p))
			return 0;
	return 1;
}

int volume_path(const char *dir, const char *user, char *out, size_t outlen,
		char *err, size_t errlen)
{
	int n;

	if (!dir)
		dir = volume_dir();
	if (!mcd_valid_user(user)) {
		snprintf(err, errlen, "no volume for user name '%.40s'", user);
		return -1;
	}
	if (!plain_dir(dir)) {
		snprintf(err, errlen, "volume directory '%.100s' must be an absolute path of [A-Za-z0-9/._-] without ..",
			 dir);
		return -1;
	}
	n = snprintf(out, outlen, "%s/%s" VOLUME_SUFFIX, dir, user);
	if (n < 0 || (size_t)n >= outlen || (size_t)n > VOLUME_PATH_MAX) {
		snprintf(err, errlen, "volume directory '%.100s' is too long", dir);
		return -1;
	}
	return 0;
}

struct session *volume_holder(struct daemon *d, const char *path,
			      const struct session *self)
{
	for (struct session *s = d->sessions; s; s = s->next)
		if (s != self && s->volume[0] && strcmp(s->volume, path) == 0)
			return s;
	return NULL;
}

/* ---- making a volume ---- */

/* The directory of path, created 0700 (its parents 0755) if missing; it
 * must end up a root-owned directory that only root can enter. */
static int make_dir(const char *path, char *err, size_t errlen)
{
	char dir[VOLUME_PATH_MAX + 1];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		snprintf(err, errlen, "volume %s: no directory", path);
		return -1;
	}
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) {
		snprintf(err, errlen, "%s is not a directory owned by root", dir);
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *mkfs_program(void)
{
	const char *p = getenv(VOLUME_MKFS_ENV);

	if (p && *p)
		return p;
	for (int i = 0; mkfs_paths[i]; i++)
		if (access(mkfs_paths[i], X_OK) == 0)
			return mkfs_paths[i];
	return NULL;
}

/* Keep the last line of a program's output, printable, for a reason. */
static void last_line(char *buf, size_t len, char *out, size_t outlen)
{
	char *line;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	snprintf(out, outlen, "%.150s", line);
}

/* A new sparse file of size bytes at tmp, formatted ext4. */
static int make_image(const char *tmp, uint64_t size, char *err,
		      size_t errlen)
{
	const char *mkfs = mkfs_program();
	struct runprog_opts o = { .timeout_s = MKFS_TIMEOUT_S };
	struct runprog *r;
	char out[200];
	int fd, rc;

	if (!mkfs) {
		snprintf(err, errlen, "cannot make a volume: mkfs.ext4 not found (install e2fsprogs)");
		return -1;
	}
	unlink(tmp); /* left by an earlier attempt that died */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	rc = ftruncate(fd, (off_t)size);
	if (rc < 0)
		snprintf(err, errlen, "cannot size %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc < 0) {
		unlink(tmp);
		return -1;
	}
	/* -F: it is a file, not a device; no reserved blocks: the volume is
	 * one user's; lazy init: the file is sparse, so unwritten tables and
	 * journal already read as zeros. */
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(err, errlen, "cannot make a volume: out of memory");
		unlink(tmp);
		return -1;
	}
	rc = runprog_run((char *const[]){ (char *)mkfs, "-q", "-F", "-m", "0",
		(char *)"-E", (char *)"lazy_itable_init=1,lazy_journal_init=1",
		(char *)tmp, NULL }, &o, r);
	if (rc != 0) {
		switch (r->end) {
		case RUNPROG_EXITED:
			last_line(r->tail, r->tail_len, out, sizeof(out));
			snprintf(err, errlen, "mkfs.ext4 failed (%d): %s",
				 r->code, out);
			break;
		case RUNPROG_SIGNALED:
			last_line(r->tail, r->tail_len, out, sizeof(out));
			snprintf(err, errlen, "mkfs.ext4 killed by signal %d: %s",
				 r->code, out);
			break;
		case RUNPROG_TIMEDOUT:
		case RUNPROG_FAILED:
			snprintf(err, errlen, "mkfs.ext4 failed: %s", r->reason);
			break;
		}
		unlink(tmp);
	}
	free(r);
	return rc;
}

int volume_prepare(const char *path, uint64_t size, char *err, size_t errlen)
{
	char tmp[VOLUME_PATH_MAX + 8];
	struct stat st;
	int fd;

	if (make_dir(path, err, errlen) < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "volume %s is not a regular file", path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "volume %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (make_image(tmp, size, err, errlen) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The new name must survive a dom0 crash as well as the data. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	log_info("volume %s created (%llu MiB, ext4)", path,
		 (unsigned long long)(size >> 20));
	return 0;
}

/* ---- attaching ---- */

/* The domain other than none that has path attached, or -1. */
static int attached_to(libxl_ctx *ctx, const char *path)
{
	int ndoms, found = -1;
	libxl_dominfo *doms = libxl_list_domain(ctx, &ndoms);

	for (int i = 0; doms && i < ndoms && found < 0; i++) {
		int n;
		libxl_device_disk *list;

		if (doms[i].domid == 0)
			continue;
		list = libxl_device_disk_list(ctx, doms[i].domid, &n);
		for (int j = 0; list && j < n; j++)
			if (list[j].pdev_path && strcmp(list[j].pdev_path, path) == 0)
				found = (int)doms[i].domid;
		if (list)
			libxl_device_disk_list_free(list, n);
	}
	if (doms)
		libxl_dominfo_list_free(doms, ndoms);
	return found;
}

/* The first xvd[b-z] domid does not use. */
static int free_vdev(libxl_ctx *ctx, uint32_t domid, char *vdev, size_t len)
{
	int n;
	libxl_device_disk *list = libxl_device_disk_list(ctx, domid, &n);

	for (char c = 'b'; c <= 'z'; c++) {
		int used = 0;

		snprintf(vdev, len, "xvd%c", c);
		for (int i = 0; list && i < n && !used; i++)
			used = list[i].vdev && strcmp(list[i].vdev, vdev) == 0;
		if (!used) {
			if (list)
				libxl_device_disk_list_free(list, n);
			return 0;
		}
	}
	if (list)
		libxl_device_disk_list_free(list, n);
	return -1;
}

int volume_attach(struct mcd_xen *x, uint32_t domid, const char *path,
		  char *vdev, size_t vdevlen, char *err, size_t errlen)
{
	libxl_ctx *ctx = xen_ctx(x);
	libxl_device_disk disk;
	int other, rc;

	other = attached_to(ctx, path);
	if (other >= 0) {
		snprintf(err, errlen, "volume %s is already attached to domain %d",
			 path, other);
		return -1;
	}
	if (free_vdev(ctx, domid, vdev, vdevlen) < 0) {
		snprintf(err, errlen, "domain %u has no free disk name for the volume",
			 domid);
		return -1;
	}
	libxl_device_disk_init(&disk);
	disk.pdev_path = strdup(path);
	disk.vdev = strdup(vdev);
	disk.format = LIBXL_DISK_FORMAT_RAW;
	disk.backend = LIBXL_DISK_BACKEND_UNKNOWN;
	disk.readwrite = 1;
	if (!disk.pdev_path || !disk.vdev) {
		libxl_device_disk_dispose(&disk);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Synchronous: libxl runs the hotplug script and, on failure,
	 * removes what it had set up. */
	rc = libxl_device_disk_add(ctx, domid, &disk, NULL);
	libxl_device_disk_dispose(&disk);
	if (rc != 0) {
		snprintf(err, errlen, "libxl could not attach volume %s as %s: %s",
			 path, vdev, libxl_error_to_string(rc) ?: "error");
		return -1;
	}
	return 0;
}

int volume_detach(struct mcd_xen *x, uint32_t domid, const char *path)
{
	libxl_ctx *ctx = xen_ctx(x);
	libxl_device_disk disk;
	char vdev[16] = "";
	int n, rc;
	libxl_device_disk *list = libxl_device_disk_list(ctx, domid, &n);

	for (int i = 0; list && i < n && !vdev[0]; i++)
		if (list[i].pdev_path && list[i].vdev &&
		    strcmp(list[i].pdev_path, path) == 0)
			snprintf(vdev, sizeof(vdev), "%s", list[i].vdev);
	if (list)
		libxl_device_disk_list_free(list, n);
	if (!vdev[0])
		return 0;
	libxl_device_disk_init(&disk);
	rc = libxl_vdev_to_device_disk(ctx, domid, vdev, &disk);
	if (rc == 0)
		rc = libxl_device_disk_remove(ctx, domid, &disk, NULL);
	libxl_device_disk_dispose(&disk);
	if (rc != 0) {
		log_warnx("volume %s: cannot detach %s from domain %u: %s", path,
			  vdev, domid, libxl_error_to_string(rc) ?: "error");
		return -1;
	}
	log_info("volume %s detached from domain %u", path, domid);
	return 0;
}
