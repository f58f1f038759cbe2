/*
 * storage.c - the user's volume and shares (see storage.h).
 */
#include "storage.h"

#include <stdio.h>

int storage_mount(struct storage *st, const struct mcd_launch *req,
		  const struct launch_user *u, uint32_t *code, char *reason,
		  size_t reason_len)
{
	(void)u;
	st->nmounts = 0;
	if ((!req->volume || !req->volume[0]) && req->sharec == 0)
		return 0;
	*code = MCD_FAIL_STORAGE;
	snprintf(reason, reason_len, "user storage is not available in this agent");
	return -1;
}

void storage_unmount(struct storage *st)
{
	st->nmounts = 0;
}
