/*
 * xcookie.h - the thin client's X cookie, installed for the session's user.
 *
 * The cookie arrives only in the LAUNCH2 over the channel.  It is written
 * with libXau to <dir>/<session id>/Xauthority: the session directory is
 * 0700 and the file 0600, both owned by the user, so nobody else in the
 * guest can read it.  Two entries: FamilyLocal for this host and the
 * relay's display number (what a local client looks up first), and
 * FamilyWild with no display number, which also matches the thin client's
 * address in direct mode.
 */
#ifndef MCD_AGENT_XCOOKIE_H
#define MCD_AGENT_XCOOKIE_H

#include "mcd_proto.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* Where the session directories are made (created 0755 root if missing). */
#define XCOOKIE_BASE_DIR "/run/mcd-agent/x"
#define XCOOKIE_NAME "MIT-MAGIC-COOKIE-1"
#define XCOOKIE_BYTES 16

struct xcookie {
	char dir[PATH_MAX];  /* "" when nothing was written */
	char path[PATH_MAX];
};

/*
 * Write hex (32 lowercase hex digits, checked again here) for display
 * number dnum under base/sid, owned by uid:gid.  0, or -1 with reason.
 */
int xcookie_install(struct xcookie *c, const char *base, const char *sid,
		    const char *hex, int dnum, uid_t uid, gid_t gid,
		    char *reason, size_t reason_len);
/* Remove the file and its directory (nothing if none was written). */
void xcookie_remove(struct xcookie *c);

#endif /* MCD_AGENT_XCOOKIE_H */
