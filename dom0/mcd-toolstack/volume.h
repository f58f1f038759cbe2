/*
 * volume.h - each user's persistent block volume in dom0.
 *
 * A user's volume is one sparse raw image, <volume_dir>/<user>.img (mode
 * 0600 in a 0700 directory), made on the user's first `launch --volume`
 * with the size of the template's mcd_user_volume_size and formatted ext4
 * by dom0's mkfs.ext4.  The service attaches it to the session's domain
 * with libxl once the agent is up (cold and warm launches alike) and tells
 * the agent the guest disk name in LAUNCH2; the agent checks and mounts it
 * on the user's home.  The domain's destruction detaches it; a domain kept
 * for its user gets it detached explicitly first.
 *
 * One volume belongs to at most one live session: a second launch of the
 * same user's volume is refused while a session (as the service knows it,
 * rebuilt from XenStore's `volume` nodes after a restart) still holds it,
 * and an attach checks that no domain has the image already.
 *
 * The images are only ever written by one guest at a time and are plain
 * ext4: an admin inspects one with `e2fsck -n` or `debugfs -R ls`, or
 * mounts it read-only with `mount -o loop,ro` while its user has no
 * session; a backup is a copy of the file (`cp --sparse=always`) taken
 * while it is not attached.
 */
#ifndef MCD_VOLUME_H
#define MCD_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "mcd_xs.h"

#define VOLUME_DIR_DEFAULT	"/var/lib/mcd/volumes"
#define VOLUME_DIR_ENV		"MCD_VOLUME_DIR"
#define VOLUME_SUFFIX		".img"
/* mkfs.ext4 to run ($MCD_MKFS_EXT4, else the first of these that exists). */
#define VOLUME_MKFS_ENV		"MCD_MKFS_EXT4"
#define VOLUME_PATH_MAX		MCD_XS_MAX_VOLUME /* it is recorded in XenStore */

struct daemon;
struct mcd_xen;
struct session;

/* $MCD_VOLUME_DIR if set and not empty, else VOLUME_DIR_DEFAULT. */
const char *volume_dir(void);

/*
 * The volume of user in dir (NULL: volume_dir()) into out.  0, or -1 with
 * a reason if the user name is not valid or the directory is not an
 * absolute path of plain characters ([A-Za-z0-9/._-], no "..": it reaches
 * a shell script, the hotplug block script) or the path is too long.
 */
int volume_path(const char *dir, const char *user, char *out, size_t outlen,
		char *err, size_t errlen);

/* The live session other than self whose volume is path, or NULL.  Every
 * session counts until it is freed, i.e. until its domain is gone. */
struct session *volume_holder(struct daemon *d, const char *path,
			      const struct session *self);

/*
 * Make sure the volume exists: if path is missing, create its directory
 * (0700), a sparse file of size bytes (0600) under a temporary name,
 * format it ext4 and rename it into place, so a crash never leaves a
 * half-made volume under the real name.  An existing volume is used as it
 * is (never resized or reformatted); it must be a regular file, not a
 * link.  0, or -1 with a one-line reason.  Runs mkfs: call from a job
 * thread.
 */
int volume_prepare(const char *path, uint64_t size, char *err, size_t errlen);

/*
 * Attach the image at path to domid as a writable raw disk on the first
 * free xvd[b-z], which goes to vdev (at least 8 bytes).  Refused if any
 * domain has the image attached already.  0, or -1 with a reason; a failed
 * attach leaves nothing attached.  Synchronous (hotplug scripts run).
 */
int volume_attach(struct mcd_xen *x, uint32_t domid, const char *path,
		  char *vdev, size_t vdevlen, char *err, size_t errlen);

/* Detach the image at path from domid (found by its target, so it works
 * after a restart too).  0 if detached or not attached; -1 (logged). */
int volume_detach(struct mcd_xen *x, uint32_t domid, const char *path);

#endif /* MCD_VOLUME_H */
