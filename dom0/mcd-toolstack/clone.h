/*
 * clone.h - per-launch clones of a template's writable disks.
 *
 * A domain never gets a template's writable disk: each launch gets its own
 * clone, and the template's image is only ever opened read-only (read-only
 * disks are attached as they are).  For each writable disk, in this order:
 *   reflink     a regular file on a file system that shares blocks
 *               (btrfs, XFS with reflink, ...): ioctl(FICLONE), instant;
 *   sparse copy any other regular file: only the data ranges are copied
 *               (SEEK_DATA/SEEK_HOLE + copy_file_range), holes stay holes,
 *               and progress is reported through the callback;
 *   LVM thin    a block device that is a thin logical volume: a thin
 *               snapshot, `lvm lvcreate -s -kn -n mcd-<sid>-<vdev> VG/LV`,
 *               removed with `lvm lvremove -f VG/mcd-<sid>-<vdev>`.
 * A writable block device that is not a thin LV cannot be cloned: the
 * launch fails (clone_check says so in advance).
 *
 * Names.  A clone belongs to an id `sid` (a session id, or whatever the
 * caller uses for a pool member): 1..CLONE_ID_MAX characters [0-9a-z].
 *   file clone   <clone_dir>/<sid>-<vdev>.img                (mode 0600)
 *   LV clone     VG/mcd-<sid>-<vdev>, device /dev/VG/mcd-<sid>-<vdev>, and
 *                a marker <clone_dir>/<sid>-<vdev>.lv holding "VG/LV\n",
 *                written before lvcreate, so removal and orphan reaping
 *                never scan LVM.
 * The clone directory (default CLONE_DIR_DEFAULT) is created mode 0700.
 *
 * The lvm tools run as `lvm <command> ...` with a fixed argv and a fixed
 * environment (runprog.h: never a shell, killed after CLONE_LVM_TIMEOUT_S);
 * $MCD_LVM names the binary (default CLONE_LVM_DEFAULT), which lets tests
 * use a fake one.
 *
 * Threads: every function may run on any thread, several at once for
 * different ids.  Child processes are reaped with waitpid(pid) only, as
 * domain.h asks.
 */
#ifndef MCD_CLONE_H
#define MCD_CLONE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libxl.h>

#include "template.h"

#define CLONE_DIR_DEFAULT	"/var/lib/mcd/clones"
#define CLONE_DIR_ENV		"MCD_CLONE_DIR"
#define CLONE_LVM_DEFAULT	"/sbin/lvm"
#define CLONE_LVM_ENV		"MCD_LVM"
#define CLONE_ID_MAX		32	/* characters of a clone owner id */
#define CLONE_LV_PREFIX		"mcd-"
#define CLONE_LVM_TIMEOUT_S	120	/* an lvm command taking longer is killed */

enum clone_method {
	CLONE_NONE = 0,		/* read-only disk: attached as it is */
	CLONE_REFLINK,
	CLONE_COPY,		/* sparse copy */
	CLONE_LVM,		/* LVM thin snapshot */
};

/* "none", "reflink", "sparse copy", "lvm thin snapshot". */
const char *clone_method_name(enum clone_method m);

/* $MCD_CLONE_DIR if set and not empty, else CLONE_DIR_DEFAULT. */
const char *clone_dir(void);

/* 1 if id can own clones ([0-9a-z]{1,CLONE_ID_MAX}), else 0. */
int clone_id_valid(const char *id);

/*
 * Progress of one disk's clone, called on the cloning thread: first with
 * done 0, then as the copy advances (at most about once per percent), and
 * last with done == total.  done never decreases.  For a sparse copy,
 * total is the image's size and done the offset reached (holes count as
 * done at once); a reflink or snapshot reports (total, total) once.
 * Return 0 to go on, non-zero to cancel: clone_disks then removes what it
 * made and fails with "cancelled".
 */
typedef int (*clone_progress_fn)(void *arg, const char *vdev, uint64_t done,
    uint64_t total);

/*
 * Clone every writable disk of t for sid into clone_dir (NULL:
 * clone_dir()) and point dc's disks at the clones; dc is the config
 * template_load filled for t (dc->disks[i] is t->disks[i]).  Read-only disks
 * are left as they are.  cb may be NULL.  Returns 0; or -1 with one line in
 * err, having removed every clone it made and left dc unchanged.  Nothing
 * to do (no writable disk) costs nothing, not even the directory.
 */
int clone_disks(const struct mcd_template *t, libxl_domain_config *dc,
    const char *sid, const char *clone_dir, clone_progress_fn cb, void *arg,
    char *err, size_t errlen);

/*
 * Remove every clone of sid in clone_dir (NULL: clone_dir()): its files,
 * and its LVs with their markers.  0 if all are gone (also when there were
 * none); -1 if one could not be removed (it is kept, and so is an LV's
 * marker, so a later call retries).
 */
int clone_remove(const char *sid, const char *clone_dir);

/*
 * Call cb(sid, arg) once for each id that has clones in clone_dir (NULL:
 * clone_dir()), sorted; for reaping the clones of sessions that no longer
 * exist.  Stops early if cb returns non-zero.  Returns the number of ids
 * passed to cb (0 if the directory does not exist), or -1 with errno.
 */
int clone_list(const char *clone_dir, int (*cb)(const char *sid, void *arg),
    void *arg);

/*
 * How disk d would be cloned into clone_dir (NULL: clone_dir()): CLONE_NONE
 * for a read-only disk; for a file, CLONE_REFLINK if the image and the
 * clone directory are on one file system that can share blocks (a
 * prediction: clone_disks still falls back to a copy), else CLONE_COPY; for
 * a block device, CLONE_LVM if lvm says it is a thin LV.  -1 with a reason
 * in why if it cannot be cloned.
 */
int clone_plan(const struct template_disk *d, const char *clone_dir,
    char *why, size_t whylen);

/*
 * Print one line "<template path>: disk <vdev>: <reason>" to out (may be
 * NULL) for each writable disk of t that cannot be cloned, and one for an
 * unusable clone directory.  Returns the number of lines.
 */
int clone_check(const struct mcd_template *t, const char *clone_dir,
    FILE *out);

/*
 * The progress line the service relays to the CLI: "clone <vdev> <done>
 * <total>" (decimal bytes).  clone_progress_parse accepts exactly that
 * (vdev as in template.h, done <= total) and returns 0, else -1.
 */
#define CLONE_PROGRESS_WORD	"clone"
int clone_progress_format(char *buf, size_t n, const char *vdev,
    uint64_t done, uint64_t total);
int clone_progress_parse(const char *line, char vdev[TEMPLATE_VDEV_MAX + 1],
    uint64_t *done, uint64_t *total);

/*
 * A one-line progress bar on tty, redrawn in place ("\r...") and ended
 * with a newline when done reaches total:
 *   cloning xvdb [##########..........]  50%  32.0/64.0 MiB
 * Draws nothing unless tty is a terminal.  progress_format writes the bar
 * (without "\r" or newline) for a terminal width columns wide into buf.
 */
void progress_bar(FILE *tty, const char *label, uint64_t done,
    uint64_t total);
void progress_format(char *buf, size_t n, const char *label, uint64_t done,
    uint64_t total, unsigned width);

#endif /* MCD_CLONE_H */
