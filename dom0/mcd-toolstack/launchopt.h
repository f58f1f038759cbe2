/*
 * launchopt.h - what a launch asks for beyond template, user, display and
 * command line: the X mode and the thin client's cookie, the X leg's TLS
 * port, the user's volume and network shares.
 *
 * The CLI sends them to the service as "KEY=VALUE" strings in CTL_LAUNCH,
 * after the fixed fields and before argv (argv[0] is an absolute path, so
 * it can never be mistaken for an option).  The service parses them here,
 * in one place, keeps them in the session (in memory only: the cookie and
 * share passwords are secrets and never reach XenStore) and turns them
 * into the LAUNCH2 the agent gets.
 *
 * Keys:
 *   x=relay|direct|none   X mode (default relay)
 *   xcookie=HEX           the thin client's MIT-MAGIC-COOKIE-1 (32 hex)
 *   xtls=PORT             reach the thin client's X server over TLS on PORT
 *   volume=yes            attach the user's persistent volume
 *   share=KIND|SOURCE|NAME|USER|PASSWORD   a network share (see mcd_share)
 */
#ifndef MCD_LAUNCHOPT_H
#define MCD_LAUNCHOPT_H

#include "mcd_proto.h"

#include <stddef.h>
#include <stdint.h>

struct launch_share {
	char kind[8];
	char source[MCD_MAX_SHARE_SRC + 1];
	char name[MCD_MAX_MOUNT_NAME + 1];
	char user[MCD_MAX_SHARE_USER + 1];
	char password[MCD_MAX_SECRET_LEN + 1];
};

struct launch_opt {
	uint32_t xflags;        /* MCD_LAUNCH_X_RELAY, _DIRECT or 0 (none) */
	char xcookie[MCD_XCOOKIE_LEN + 1];
	unsigned xtls_port;     /* 0: plain TCP to port 6000 + display */
	int volume;             /* attach the user's volume */
	char vdev[MCD_MAX_VDEV_LEN + 1]; /* where it was attached ("" none) */
	unsigned nshares;
	struct launch_share share[MCD_MAX_SHARES];
};

/* The defaults: X relay, nothing else. */
void launchopt_init(struct launch_opt *o);
/* Is s a "KEY=VALUE" option string (not argv[0])? */
int launchopt_is_option(const char *s);
/* Apply one option string; 0, or -1 with a one-line reason. */
int launchopt_apply(struct launch_opt *o, const char *kv, char *err,
		    size_t errlen);
/* Fill the v2 fields of a LAUNCH2 from o (strings point into o). */
void launchopt_to_launch(const struct launch_opt *o, struct mcd_launch *l);
/* The X mode's name: "relay", "direct" or "none". */
const char *launchopt_xmode(const struct launch_opt *o);
/* Forget the secrets (cookie, passwords) once they were sent. */
void launchopt_wipe_secrets(struct launch_opt *o);
/* Wipe every byte of o (a launch that is over or failed), then the
 * defaults again. */
void launchopt_forget(struct launch_opt *o);
/* For a process that holds a cookie or a password: not dumpable (no
 * core file, no ptrace or /proc/PID/mem by others) and RLIMIT_CORE 0.
 * 0, or -1 with errno. */
int launchopt_no_core_dumps(void);

/*
 * CLI side: turn command-line values into option strings.  Secrets come
 * from files, never from the command line (where `ps` shows them).
 */
/* --xauth FILE: the cookie, as 32 hex digits or an `xauth list` line; out
 * gets "xcookie=HEX".  0, or -1 with a reason. */
int launchopt_cli_xauth(const char *file, char *out, size_t outlen,
			char *err, size_t errlen);
/* --share KIND,SOURCE,NAME[,USER[,PASSWORD-FILE]]; out gets
 * "share=KIND|SOURCE|NAME|USER|PASSWORD".  0, or -1 with a reason. */
int launchopt_cli_share(const char *spec, char *out, size_t outlen,
			char *err, size_t errlen);
#define LAUNCHOPT_SHARE_MAX (sizeof("share=") + 8 + MCD_MAX_SHARE_SRC + \
			     MCD_MAX_MOUNT_NAME + MCD_MAX_SHARE_USER + \
			     MCD_MAX_SECRET_LEN + 8)

#endif /* MCD_LAUNCHOPT_H */
