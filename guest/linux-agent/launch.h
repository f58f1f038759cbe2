/*
 * launch.h - starting an app for a LAUNCH: the user, the program, the
 * process.
 *
 * The request has been validated by mcd_decode(); this module adds the
 * checks that need the guest's own state:
 *   - the user exists (or is created with useradd / busybox adduser when
 *     the configuration allows it) and is not the superuser (uid or gid 0);
 *   - argv[0] is a regular file that this user may execute (checked in a
 *     short-lived child that has already become the user);
 * and then starts the app in its own session and process group, as the
 * user, with a clean environment, stdin on /dev/null and stdout/stderr
 * shared with the agent (the console).  A failure after fork() (setuid,
 * exec, ...) comes back through a close-on-exec pipe, so the caller learns
 * of it before it tells dom0 that the app started.
 */
#ifndef MCD_AGENT_LAUNCH_H
#define MCD_AGENT_LAUNCH_H

#include "mcd_proto.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* The app's PATH: never inherited, never from dom0. */
#define LAUNCH_PATH "/usr/local/bin:/usr/bin:/bin"
/* How long useradd/adduser may take before it is killed. */
#define LAUNCH_HELPER_TIMEOUT_MS 30000
/* How long a child that runs as the user (the program check, the app
 * until its exec) may take before it is killed and the launch fails. */
#define LAUNCH_CHILD_TIMEOUT_MS 10000
/* Supplementary groups taken into the app; more are refused. */
#define LAUNCH_MAX_GROUPS 1024

struct launch_user {
	char name[MCD_MAX_USER_LEN + 1];
	uid_t uid;
	gid_t gid;
	char home[PATH_MAX];  /* "/" if the account has none usable */
	char shell[PATH_MAX]; /* "/bin/sh" if the account has none */
	int ngroups;
	gid_t groups[LAUNCH_MAX_GROUPS];
};

/* Apps run only as regular accounts: uid >= the minimum.  The default is
 * login.defs' own; the agent takes the guest's /etc/login.defs and
 * agent.conf's uid_min at start-up (launch_set_uid_min). */
#define LAUNCH_UID_MIN_DEFAULT 1000
#define LAUNCH_LOGIN_DEFS "/etc/login.defs"

/* What launch_start() needs to know about the guest. */
struct launch_opts {
	int create_users;
};

/*
 * Check and start the app of req.  0 with *pid (the app's pid and process
 * group id), or -1 with *code (enum mcd_fail) and a reason fit for FAILED.
 */
int launch_start(const struct launch_opts *o, const struct mcd_launch *req,
		 pid_t *pid, uint32_t *code, char *reason, size_t reason_len);

/*
 * launch_start() in two steps, for launches that set things up between
 * (the user's storage, the X relay and its display check):
 * launch_prepare() finds or creates the user and checks the program;
 * launch_spawn() starts the app.  `x` overrides what the request says
 * about X: its display ("" or NULL: the request's) and an XAUTHORITY file
 * (NULL: none).
 */
struct launch_x {
	const char *display;
	const char *xauthority;
};
int launch_prepare(const struct launch_opts *o, const struct mcd_launch *req,
		   struct launch_user *u, uint32_t *code, char *reason,
		   size_t reason_len);
/* With outfd, the app's stdout and stderr are a pipe whose read end is
 * returned there (appout.h reads it); without, they are the agent's. */
int launch_spawn(const struct launch_user *u, const struct mcd_launch *req,
		 const struct launch_x *x, pid_t *pid, int *outfd,
		 uint32_t *code, char *reason, size_t reason_len);

/*
 * For the other children the agent forks (the X watcher): undo the agent's
 * signal mask and dispositions; become u for good (0, or -1 with errno).
 */
void launch_child_reset_signals(void);
int launch_become_user(const struct launch_user *u);

/*
 * End every process of uid (real, effective or saved): stop each one found,
 * then kill them, and scan again until a scan finds none alive, so a
 * process that forks or left the app's session cannot slip between scans.
 * 0 when none is left, -1 if some still were at the deadline (or uid is 0).
 */
#define LAUNCH_KILL_TIMEOUT_MS 5000
int launch_kill_user(uid_t uid, int timeout_ms);

/*
 * Wipe the request's X cookie and share passwords where they arrived (the
 * strings point into the agent's receive buffer, or a copy of it): once
 * the cookie file is written and the shares are mounted, nothing needs
 * them.  launch_spawn() calls it too.
 */
void launch_wipe_secrets(const struct mcd_launch *req);

/* The pieces of launch_start(), for the tests. */

/* The lowest uid of a regular account, for every later launch. */
void launch_set_uid_min(uid_t min);
uid_t launch_get_uid_min(void);
/* UID_MIN from a login.defs file into *min (left alone when absent or not
 * a plain number); 0, or -1 if the file is unreadable. */
int launch_read_login_defs(const char *path, uid_t *min);
/* 0 if u is a regular account (uid >= the minimum), else -1 with *code
 * USER_DENIED and reason. */
int launch_check_regular(const struct launch_user *u, uint32_t *code,
			 char *reason, size_t reason_len);

/* Look name up: 0 found, 1 no such user, -1 error or refused (uid/gid 0,
 * too many groups) with *code and reason set. */
int launch_lookup_user(const char *name, struct launch_user *u,
		       uint32_t *code, char *reason, size_t reason_len);
/* Create the account with the first of useradd or busybox adduser found;
 * 0 or -1 with reason set. */
int launch_create_user(const char *name, char *reason, size_t reason_len);
/* 0 if u may execute path, else -1 with reason set (NO_PROGRAM). */
int launch_check_program(const struct launch_user *u, const char *path,
			 char *reason, size_t reason_len);
/*
 * Fill env (at least LAUNCH_ENV_MAX entries) and its storage for u and
 * req: HOME, USER, LOGNAME, SHELL, PATH, DISPLAY and the request's extra
 * entries.  Returns the number of entries; env[n] is NULL.
 */
#define LAUNCH_ENV_FIXED 7
#define LAUNCH_ENV_MAX (LAUNCH_ENV_FIXED + MCD_MAX_ENV + 1)
struct launch_env {
	char home[PATH_MAX + sizeof("HOME=")];
	char user[MCD_MAX_USER_LEN + sizeof("USER=")];
	char logname[MCD_MAX_USER_LEN + sizeof("LOGNAME=")];
	char shell[PATH_MAX + sizeof("SHELL=")];
	char display[MCD_MAX_DISPLAY_LEN + sizeof("DISPLAY=")];
	char xauthority[PATH_MAX + sizeof("XAUTHORITY=")];
	const char *env[LAUNCH_ENV_MAX];
};
int launch_build_env(const struct launch_user *u,
		     const struct mcd_launch *req, const struct launch_x *x,
		     struct launch_env *e);

#endif /* MCD_AGENT_LAUNCH_H */
