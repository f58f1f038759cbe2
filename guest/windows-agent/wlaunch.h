/*
 * wlaunch.h - starting, stopping and reaping an app on Windows.
 *
 * The request has passed mcd_decode(); this module adds what needs the
 * guest's own state, like launch.c on Linux:
 *   - the program: argv[0] maps to a Windows path (wincore_program_path)
 *     that must be a file the user may execute (checked while
 *     impersonating the user), else FAILED no-such-program;
 *   - the user: the token of the user's own logon session (the session
 *     whose user name is the requested one, WTSQueryUserToken), so the app
 *     runs as that user, in that session, on its desktop - never as the
 *     service's account (LocalSystem).  No session: FAILED no-such-user.
 *     A token of SYSTEM, LocalService, NetworkService or with the
 *     Administrators group (enabled or deny-only) is refused
 *     (FAILED user-denied);
 *   - the environment: the user's own (CreateEnvironmentBlock, not the
 *     service's), DISPLAY and the request's extra entries, of which
 *     wincore_env_allowed() refuses the Windows loader/runtime variables;
 *   - the share (configuration "share"): mapped with WNetAddConnection2
 *     as the user (so it is in the user's logon session) before the app
 *     starts, disconnected when it has ended.
 * The app runs in a job object: when its first process ends, the rest of
 * the job is ended too (the session ends with its leader, as the process
 * group on Linux), and closing the job kills whatever is left.
 *
 * allow_current_user=1 (configuration, test only) replaces the user's
 * token with the service's own and skips the account checks but the
 * LocalSystem one: Wine has no other accounts.  See README.md.
 */
#ifndef MCD_WIN_LAUNCH_H
#define MCD_WIN_LAUNCH_H

#include "mcd_proto.h"
#include "wincore.h"

#include <windows.h>

#include <stdint.h>

struct wapp {
	HANDLE process;      /* NULL when no app runs */
	HANDLE job;
	HANDLE token;        /* the user's primary token */
	DWORD pid;
	int terminated;      /* the agent ended it (TerminateJobObject) */
	int own_desktop;     /* allow_current_user: the service's desktop */
	int share_mapped;
	wchar_t share_name[WCONF_SHARE_MAX + 64]; /* drive or UNC to cancel */
	char user[MCD_MAX_USER_LEN + 1];
};

/* Check and start the app of req.  0 with app filled in, or -1 with *code
 * (enum mcd_fail) and a printable reason for FAILED. */
int wlaunch_start(const struct wconf *conf, const struct mcd_launch *req,
		  struct wapp *app, uint32_t *code, char *reason,
		  size_t reason_len);

/* SIGTERM: ask the app's windows to close (WM_CLOSE, from a helper in the
 * app's session and desktop); SIGKILL: end the whole job. */
void wlaunch_signal(struct wapp *app, int sig);

/* The app's first process has ended: its exit in waitpid() format. */
int wlaunch_exit_status(struct wapp *app);

/* End what is left, disconnect the share, close every handle. */
void wlaunch_cleanup(struct wapp *app);

/* The helper for SIGTERM: post WM_CLOSE to every top-level window of the
 * given processes on the current desktop.  Returns the windows asked. */
int wlaunch_close_windows(const DWORD *pids, size_t n);

#endif /* MCD_WIN_LAUNCH_H */
