/*
 * storage.h - the user's storage in the guest: the per-user block volume
 * and network shares (NFS, CIFS) of a LAUNCH2, mounted before the app
 * starts and synced and unmounted when the session ends, before the agent
 * reports the end to dom0 (which then destroys the domain).
 *
 * The volume (a disk dom0 attached, named in LAUNCH2) is checked with
 * e2fsck -p, so one left by a crashed guest mounts cleanly, and mounted
 * ext4 nodev,nosuid on the user's home.  Shares are mounted by mount(8)
 * and its helpers (mount.nfs, mount.cifs), each bounded by a timeout, on
 * a staging directory only root can reach, then moved onto
 * $HOME/<mount name> through a descriptor of the checked directory.  Share passwords arrive only in the request;
 * a CIFS password reaches mount.cifs in a credentials file (0600, in a
 * directory only root can enter) that is removed as soon as mount returns,
 * never on a command line or in an environment.
 */
#ifndef MCD_AGENT_STORAGE_H
#define MCD_AGENT_STORAGE_H

#include "launch.h"
#include "mcd_proto.h"

#include <limits.h>
#include <sys/types.h>

#define STORAGE_DEV_WAIT_MS  20000   /* for the volume's /dev node */
#define STORAGE_FSCK_TIMEOUT 120     /* s, e2fsck of the volume */
#define STORAGE_MOUNT_TIMEOUT 30     /* s, one share's mount helper */
#define STORAGE_CRED_DIR     "/run/mcd-agent/creds"
#define STORAGE_STAGE_DIR    "/run/mcd-agent/stage" /* root's, 0700 */
#define STORAGE_OPTS_MAX     512

struct storage {
	int nmounts;                         /* mounted, in mount order */
	char mounts[MCD_MAX_SHARES + 1][PATH_MAX];
	uid_t uid;                           /* the session's user; 0: none */
};

/*
 * Mount req's volume on the user's home and its shares under it.  0, or -1
 * with *code (MCD_FAIL_STORAGE) and a reason; on failure nothing stays
 * mounted.  A request without storage is a no-op.  Share passwords in req
 * are wiped once used.
 */
int storage_mount(struct storage *st, const struct mcd_launch *req,
		  const struct launch_user *u, uint32_t *code, char *reason,
		  size_t reason_len);

/* The session is over: sync, end every process of its user (even with no
 * storage: nothing of the user may outlive the session in a kept domain),
 * and unmount everything storage_mount() mounted, last first. */
void storage_unmount(struct storage *st);

/* ---- the pieces, for the tests ---- */

/* A helper's output as one line of printable ASCII for a FAILED reason:
 * its last line with "error" in it, else its last non-empty line; other
 * bytes as '?', cut to fit out. */
void storage_sanitize(const char *in, char *out, size_t outlen);

/*
 * The -o string for sh's mount helper: nosuid,nodev, and for NFS soft
 * timeouts and no retries (a dead server fails the launch); for CIFS the
 * credentials file cred ("" for a guest mount) and the user's uid and gid
 * as the files' owner.  0, or -1 if a value could change the meaning of
 * the option string (a separator in it) or it does not fit.
 */
int storage_share_options(const struct mcd_share *sh, uid_t uid, gid_t gid,
			  const char *cred, char *out, size_t outlen);

/*
 * Write sh's user and password into a new file in dir (created 0700 if
 * missing; it must be a real directory of ours that only we can enter),
 * mode 0600; its name goes to path.  0, or -1 with a reason.
 */
int storage_write_creds(const char *dir, const struct mcd_share *sh,
			char *path, size_t pathlen, char *err, size_t errlen);
/* Overwrite and remove such a file. */
void storage_drop_creds(const char *path);

/* $HOME/name, made by root if missing (never through a link), as an
 * O_PATH descriptor of a directory owned by u; -1 with a reason. */
int storage_mountpoint(const struct launch_user *u, const char *name,
		       char *reason, size_t reason_len);
/* Move the mount at from (a root-only path) onto the directory to_fd
 * (move_mount(2)); 0, or -1 with errno. */
int storage_move_mount(const char *from, int to_fd);

#endif /* MCD_AGENT_STORAGE_H */
