/*
 * storage.c - the user's volume and shares (see storage.h).
 *
 * Everything here runs as root in a guest where the user has no process
 * yet (storage_mount, before the app) or no longer (storage_unmount, after
 * killing what was left).  Still, the user's home and what is in it are
 * the user's: paths under it are never followed through symlinks.
 */
#include "storage.h"
#include "log.h"
#include "runprog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *const fsck_paths[] = {
	"/sbin/e2fsck", "/usr/sbin/e2fsck", "/sbin/fsck.ext4", NULL
};
static const char *const mount_paths[] = {
	"/usr/bin/mount", "/bin/mount", "/usr/sbin/mount", "/sbin/mount", NULL
};

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *first_program(const char *const *paths)
{
	for (int i = 0; paths[i]; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

void storage_sanitize(const char *in, char *out, size_t outlen)
{
	const char *line = NULL, *p = in;
	size_t n = 0, len = 0;
	int err_line = 0;

	if (!outlen)
		return;
	/* The last line that says "error", else the last non-empty one:
	 * mount helpers put the reason last, some with a hint after it. */
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		size_t k = l;
		int is_err;

		while (k && (p[k - 1] == '\r' || p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		is_err = k && memmem(p, k, "error", 5);
		if (k && (is_err || !err_line)) {
			line = p;
			len = k;
			err_line = is_err;
		}
		p += l + (e ? 1 : 0);
	}
	for (size_t i = 0; line && i < len && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)line[i];

		out[n++] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	out[n] = '\0';
}

/* ---- running helpers ---- */

/*
 * Run argv (runprog.h: fixed environment, stdin /dev/null, its own process
 * group, killed with it after timeout_s) with the tail of its output in
 * out.  Its exit status (128 + N if signal N ended it), or -1 with out
 * saying why (it could not run, or did not finish in time).
 */
static int run_helper(char *const argv[], int timeout_s, char *out,
		      size_t outlen)
{
	struct runprog_opts o = { .timeout_s = timeout_s };
	struct runprog r;
	size_t keep;

	runprog_run(argv, &o, &r);
	switch (r.end) {
	case RUNPROG_EXITED:
	case RUNPROG_SIGNALED:
		/* The reason is at the end. */
		keep = r.tail_len < outlen - 1 ? r.tail_len : outlen - 1;
		memcpy(out, r.tail + r.tail_len - keep, keep);
		out[keep] = '\0';
		return r.end == RUNPROG_EXITED ? r.code : 128 + r.code;
	case RUNPROG_TIMEDOUT:
	case RUNPROG_FAILED:
		break;
	}
	snprintf(out, outlen, "%s", r.reason);
	return -1;
}

/* ---- credentials ---- */

/*
 * dir exists as a real directory of ours, 0700, in a parent of ours that
 * nobody else may write but everybody may enter: the parent
 * (/run/mcd-agent) also holds the X cookie directories the user must
 * reach, so it is never made 0700 itself.
 */
static int private_dir(const char *dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", parent,
				 strerror(errno));
			return -1;
		}
		if (lstat(parent, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || (st.st_mode & 022)) {
			snprintf(err, errlen, "%s is not a directory of ours alone",
				 parent);
			return -1;
		}
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is not a private directory", dir);
		return -1;
	}
	return 0;
}

int storage_write_creds(const char *dir, const struct mcd_share *sh,
			char *path, size_t pathlen, char *err, size_t errlen)
{
	char buf[MCD_MAX_SHARE_USER + MCD_MAX_SECRET_LEN + 32];
	int fd, n, rc = 0;

	if (private_dir(dir, err, errlen) < 0)
		return -1;
	if ((size_t)snprintf(path, pathlen, "%s/cifs-XXXXXX", dir) >= pathlen) {
		snprintf(err, errlen, "credentials path too long");
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC); /* 0600, O_EXCL */
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a credentials file: %s",
			 strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "username=%s\npassword=%s\n", sh->user,
		     sh->password);
	if (n < 0 || (size_t)n >= sizeof(buf) || fchmod(fd, 0600) < 0 ||
	    write(fd, buf, (size_t)n) != n) {
		snprintf(err, errlen, "cannot write the credentials file");
		rc = -1;
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	if (rc < 0)
		storage_drop_creds(path);
	return rc;
}

void storage_drop_creds(const char *path)
{
	static const char zeros[MCD_MAX_SHARE_USER + MCD_MAX_SECRET_LEN + 32];
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	/* On tmpfs the pages go with the file, but a disk-backed /run would
	 * keep the bytes: overwrite first. */
	if (fd >= 0) {
		if (write(fd, zeros, sizeof(zeros)) < 0)
			log_warn("credentials file %s", path);
		fsync(fd);
		close(fd);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove credentials file %s", path);
}

/* ---- mount options ---- */

/* A value that may go between commas of an option string. */
static int plain_value(const char *s)
{
	return !strpbrk(s, ",= \t\n\"'\\");
}

int storage_share_options(const struct mcd_share *sh, uid_t uid, gid_t gid,
			  const char *cred, char *out, size_t outlen)
{
	int n;

	if (strcmp(sh->kind, "nfs") == 0) {
		/* soft + short timeouts + no retries: a dead server fails the
		 * launch (and the session's I/O) instead of hanging it. */
		n = snprintf(out, outlen,
			     "nosuid,nodev,soft,timeo=50,retrans=2,retry=0");
	} else if (strcmp(sh->kind, "cifs") == 0) {
		if (!plain_value(cred) || (cred[0] && cred[0] != '/'))
			return -1;
		n = snprintf(out, outlen,
			     "nosuid,nodev,%s%s,uid=%u,forceuid,gid=%u,forcegid,file_mode=0600,dir_mode=0700",
			     cred[0] ? "credentials=" : "guest", cred,
			     (unsigned)uid, (unsigned)gid);
	} else {
		return -1;
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* ---- the volume ---- */

static int wait_block_dev(const char *dev)
{
	long deadline = mono_ms() + STORAGE_DEV_WAIT_MS;
	struct stat st;

	/* blkfront creates the node once the backend has connected. */
	while (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode)) {
		if (mono_ms() >= deadline)
			return -1;
		usleep(100000);
	}
	return 0;
}

/* What e2fsck said (a journal replay, fixes), for the console. */
static void log_lines(const char *dev, char *out)
{
	char *save = NULL;

	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char clean[200];

		storage_sanitize(l, clean, sizeof(clean));
		if (clean[0])
			log_info("storage: e2fsck %s: %s", dev, clean);
	}
}

/* e2fsck -p: replays the journal and fixes what is safe, so a volume left
 * by a guest that died mid-write mounts cleanly.  0, or -1 with reason. */
static int check_volume(const char *dev, char *reason, size_t reason_len)
{
	const char *fsck = first_program(fsck_paths);
	char out[1024], line[200];
	int rc;

	if (!fsck) {
		log_warnx("storage: no e2fsck in this guest; mounting %s unchecked",
			  dev);
		return 0;
	}
	rc = run_helper((char *const[]){ (char *)fsck, "-p", (char *)dev, NULL },
			STORAGE_FSCK_TIMEOUT, out, sizeof(out));
	storage_sanitize(out, line, sizeof(line));
	log_lines(dev, out); /* cuts out into lines */
	/* 0: clean; 1: errors fixed; 2: fixed, reboot advised (for a root
	 * file system; this one is not mounted yet). */
	if (rc >= 0 && rc <= 2) {
		if (rc)
			log_info("storage: e2fsck %s fixed errors (%d)", dev, rc);
		return 0;
	}
	snprintf(reason, reason_len, "volume %s does not check clean (e2fsck %d): %.150s",
		 dev, rc, line);
	return -1;
}

/* The user's home, as a directory that is no symlink, in a parent only
 * root can write: an O_PATH descriptor, or -1 with reason. */
static int open_home(const struct launch_user *u, char *reason,
		     size_t reason_len)
{
	char parent[PATH_MAX];
	char *slash;
	struct stat st;
	int fd;

	snprintf(parent, sizeof(parent), "%s", u->home);
	slash = strrchr(parent, '/');
	if (u->home[0] != '/' || strcmp(u->home, "/") == 0 || !slash) {
		snprintf(reason, reason_len, "user %s has no home directory for a volume",
			 u->name);
		return -1;
	}
	*slash = '\0';
	if (stat(parent[0] ? parent : "/", &st) < 0 || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		snprintf(reason, reason_len, "the parent of %.120s is not root's alone",
			 u->home);
		return -1;
	}
	if (mkdir(u->home, 0700) == 0 && chown(u->home, u->uid, u->gid) < 0)
		log_warn("storage: chown %s", u->home);
	fd = open(u->home, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		snprintf(reason, reason_len, "home %.120s: %s", u->home,
			 errno == ENOTDIR || errno == ELOOP ? "not a directory"
							    : strerror(errno));
	return fd;
}

static int mount_volume(struct storage *st, const char *vdev,
			const struct launch_user *u, char *reason,
			size_t reason_len)
{
	char dev[32], target[64];
	struct stat sb;
	int fd, root;

	snprintf(dev, sizeof(dev), "/dev/%s", vdev);
	if (wait_block_dev(dev) < 0) {
		snprintf(reason, reason_len, "volume %s did not appear within %d s",
			 dev, STORAGE_DEV_WAIT_MS / 1000);
		return -1;
	}
	if (check_volume(dev, reason, reason_len) < 0)
		return -1;
	fd = open_home(u, reason, reason_len);
	if (fd < 0)
		return -1;
	/* Mount on the directory that was checked, not on a name that could
	 * have changed since. */
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(dev, target, "ext4", MS_NODEV | MS_NOSUID, "") < 0) {
		snprintf(reason, reason_len, "cannot mount volume %s on %.120s: %s",
			 dev, u->home, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(st->mounts[st->nmounts++], PATH_MAX, "%s", u->home);
	/* The volume's root is the user's home: theirs alone.  A new volume
	 * comes from mkfs owned by root. */
	root = open(u->home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0 || fstat(root, &sb) < 0) {
		snprintf(reason, reason_len, "cannot open the mounted volume: %s",
			 strerror(errno));
		if (root >= 0)
			close(root);
		return -1;
	}
	if ((sb.st_uid != u->uid || sb.st_gid != u->gid ||
	     (sb.st_mode & 07777) != 0700) &&
	    (fchown(root, u->uid, u->gid) < 0 || fchmod(root, 0700) < 0)) {
		snprintf(reason, reason_len, "cannot give the volume to %s: %s",
			 u->name, strerror(errno));
		close(root);
		return -1;
	}
	close(root);
	log_info("storage: volume %s mounted on %s", dev, u->home);
	return 0;
}

/* ---- shares ---- */

int storage_mountpoint(const struct launch_user *u, const char *name,
		       char *reason, size_t reason_len)
{
	struct stat sb;
	int home, fd;

	home = open(u->home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (home < 0) {
		snprintf(reason, reason_len, "home %.120s: %s", u->home, strerror(errno));
		return -1;
	}
	if (mkdirat(home, name, 0700) == 0 &&
	    fchownat(home, name, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) < 0)
		log_warn("storage: chown %s/%s", u->home, name);
	fd = openat(home, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(home);
	if (fd < 0) {
		snprintf(reason, reason_len, "mount point %.120s/%s: %s", u->home, name,
			 errno == ENOTDIR || errno == ELOOP ? "not a directory"
							    : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || sb.st_uid != u->uid) {
		snprintf(reason, reason_len, "mount point %.120s/%s is not %s's",
			 u->home, name, u->name);
		close(fd);
		return -1;
	}
	return fd;
}

/* The staging directory, a private mount of its own: a mount can only be
 * moved out of a parent mount that does not propagate. */
static int stage_dir(char *err, size_t errlen)
{
	struct stat d, p;

	if (private_dir(STORAGE_STAGE_DIR, err, errlen) < 0)
		return -1;
	if (stat(STORAGE_STAGE_DIR, &d) < 0 || stat(STORAGE_STAGE_DIR "/..", &p) < 0)
		goto fail;
	if (d.st_dev == p.st_dev &&
	    mount(STORAGE_STAGE_DIR, STORAGE_STAGE_DIR, NULL, MS_BIND, NULL) < 0)
		goto fail;
	if (mount(NULL, STORAGE_STAGE_DIR, NULL, MS_PRIVATE, NULL) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "staging directory %s: %s", STORAGE_STAGE_DIR,
		 strerror(errno));
	return -1;
}

int storage_move_mount(const char *from, int to_fd)
{
	return (int)syscall(SYS_move_mount, AT_FDCWD, from, to_fd, "",
			    MOVE_MOUNT_T_EMPTY_PATH);
}

/*
 * mount(8) runs on a staging directory only root can reach, never on a
 * path under the user's home (which a process of the user could swap for
 * a symlink between a check and the mount); the finished mount is then
 * moved onto the directory that was checked, through its descriptor.
 */
static int mount_share(struct storage *st, const struct mcd_share *sh,
		       const struct launch_user *u, char *reason,
		       size_t reason_len)
{
	const char *mnt = first_program(mount_paths);
	char stage[64], target[PATH_MAX], opts[STORAGE_OPTS_MAX], cred[PATH_MAX] = "";
	char out[1024], line[200], err[160];
	int cifs = strcmp(sh->kind, "cifs") == 0, rc, fd;

	if (!mnt) {
		snprintf(reason, reason_len, "share %s: no mount program in this guest",
			 sh->mount_name);
		return -1;
	}
	if ((size_t)snprintf(target, sizeof(target), "%s/%s", u->home,
			     sh->mount_name) >= sizeof(target)) {
		snprintf(reason, reason_len, "mount point path too long");
		return -1;
	}
	if (stage_dir(err, sizeof(err)) < 0) {
		snprintf(reason, reason_len, "share %s: %s", sh->mount_name, err);
		return -1;
	}
	snprintf(stage, sizeof(stage), "%s/%d", STORAGE_STAGE_DIR, st->nmounts);
	if (mkdir(stage, 0700) < 0 && errno != EEXIST) {
		snprintf(reason, reason_len, "share %s: cannot create %s: %s",
			 sh->mount_name, stage, strerror(errno));
		return -1;
	}
	if (cifs && sh->user[0] &&
	    storage_write_creds(STORAGE_CRED_DIR, sh, cred, sizeof(cred), err,
				sizeof(err)) < 0) {
		snprintf(reason, reason_len, "share %s: %s", sh->mount_name, err);
		return -1;
	}
	if (storage_share_options(sh, u->uid, u->gid, cred, opts,
				  sizeof(opts)) < 0) {
		if (cred[0])
			storage_drop_creds(cred);
		snprintf(reason, reason_len, "share %s: bad mount options",
			 sh->mount_name);
		return -1;
	}
	rc = run_helper((char *const[]){ (char *)mnt, "-t", (char *)sh->kind,
				"-o", opts, "--", (char *)sh->source, stage,
				NULL }, STORAGE_MOUNT_TIMEOUT, out, sizeof(out));
	if (cred[0])
		storage_drop_creds(cred);
	if (rc != 0) {
		storage_sanitize(out, line, sizeof(line));
		snprintf(reason, reason_len, "cannot mount %s share %s on %s: %s",
			 sh->kind, sh->source, sh->mount_name,
			 line[0] ? line : "mount failed");
		return -1;
	}
	/* Checked now, after the helper's time, and held: what the mount
	 * lands on is this directory whatever the path says later. */
	fd = storage_mountpoint(u, sh->mount_name, reason, reason_len);
	if (fd < 0 || storage_move_mount(stage, fd) < 0) {
		if (fd >= 0)
			snprintf(reason, reason_len, "cannot move share %s into "
				 "place: %s", sh->mount_name, strerror(errno));
		if (umount2(stage, MNT_DETACH) < 0)
			log_warn("storage: unmount %s", stage);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	rmdir(stage);
	memcpy(st->mounts[st->nmounts++], target, sizeof(target));
	log_info("storage: %s share %s mounted on %s", sh->kind, sh->source,
		 target);
	return 0;
}

/* The request's passwords are not needed once the shares are mounted (or
 * failed): wipe them where they arrived.  The strings point into the
 * agent's own receive buffer, so this is writable memory. */
static void wipe_passwords(const struct mcd_launch *req)
{
	for (unsigned i = 0; i < req->sharec; i++) {
		char *pw = (char *)req->share[i].password;

		if (pw)
			explicit_bzero(pw, strlen(pw));
	}
}

int storage_mount(struct storage *st, const struct mcd_launch *req,
		  const struct launch_user *u, uint32_t *code, char *reason,
		  size_t reason_len)
{
	char why[MCD_MAX_REASON_LEN + 1] = "";
	int rc = 0;

	st->nmounts = 0;
	st->uid = u->uid;
	if ((!req->volume || !req->volume[0]) && req->sharec == 0)
		return 0;
	if (req->volume && req->volume[0]) {
		if (!mcd_valid_vdev(req->volume)) {
			snprintf(why, sizeof(why), "bad volume name");
			rc = -1;
		} else {
			rc = mount_volume(st, req->volume, u, why, sizeof(why));
		}
	}
	for (unsigned i = 0; rc == 0 && i < req->sharec; i++)
		rc = mount_share(st, &req->share[i], u, why, sizeof(why));
	wipe_passwords(req);
	if (rc == 0)
		return 0;
	log_warnx("storage: %s", why);
	storage_unmount(st);
	*code = MCD_FAIL_STORAGE;
	storage_sanitize(why, reason, reason_len);
	return -1;
}

/* ---- unmounting ---- */

static void sync_mount(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		if (syncfs(fd) < 0)
			log_warn("storage: syncfs %s", path);
		close(fd);
	}
}

static void unmount_one(const char *path, uid_t uid)
{
	for (int tries = 0; tries < 20; tries++) {
		if (umount2(path, UMOUNT_NOFOLLOW) == 0) {
			log_info("storage: synced and unmounted %s", path);
			return;
		}
		if (errno != EBUSY)
			break;
		/* Someone still holds it: the session is over, so are they. */
		if (uid != 0)
			launch_kill_user(uid, LAUNCH_KILL_TIMEOUT_MS);
		usleep(100000);
	}
	log_warn("storage: cannot unmount %s; detaching it lazily", path);
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		log_warn("storage: lazy unmount of %s", path);
}

void storage_unmount(struct storage *st)
{
	if (st->nmounts < 0)
		st->nmounts = 0;
	/* First the data, while everything is still mounted. */
	for (int i = st->nmounts - 1; i >= 0; i--)
		sync_mount(st->mounts[i]);
	if (st->nmounts)
		sync();
	/* With storage or without: the session is over, and a kept domain
	 * must not carry anything of the user into the next session (a
	 * process that left the app's process group with setsid() too). */
	if (st->uid != 0)
		launch_kill_user(st->uid, LAUNCH_KILL_TIMEOUT_MS);
	for (int i = st->nmounts - 1; i >= 0; i--)
		unmount_one(st->mounts[i], st->uid);
	st->nmounts = 0;
	st->uid = 0;
}
