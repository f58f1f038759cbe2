/*
 * storage.h - the user's storage in the guest: the per-user block volume
 * and network shares (NFS, CIFS) of a LAUNCH2, mounted before the app
 * starts and synced and unmounted when the session ends, before the agent
 * reports the end to dom0 (which then destroys the domain).
 *
 * Share passwords arrive only in the request; they are handed to the mount
 * helper without ever appearing on a command line or in XenStore.
 */
#ifndef MCD_AGENT_STORAGE_H
#define MCD_AGENT_STORAGE_H

#include "launch.h"
#include "mcd_proto.h"

#include <limits.h>

struct storage {
	int nmounts;                         /* mounted, in mount order */
	char mounts[MCD_MAX_SHARES + 1][PATH_MAX];
};

/*
 * Mount req's volume on the user's home and its shares under it.  0, or -1
 * with *code (MCD_FAIL_STORAGE) and a reason; on failure nothing stays
 * mounted.  A request without storage is a no-op.
 */
int storage_mount(struct storage *st, const struct mcd_launch *req,
		  const struct launch_user *u, uint32_t *code, char *reason,
		  size_t reason_len);

/* Sync and unmount everything storage_mount() mounted, last first.
 * Processes still using a mount are killed first (the session is over). */
void storage_unmount(struct storage *st);

#endif /* MCD_AGENT_STORAGE_H */
