/*
 * wincore.h - the parts of the Windows agent that need no Windows API.
 *
 * Everything here works on UTF-8 strings and plain C, so it compiles both
 * into the service (mingw-w64) and into a native unit test on Linux
 * (tests/windows/test_wincore.c): how a program named on the wire maps to
 * a Windows path, how argv becomes one command line that the app splits
 * back into the same argv, which environment names a request may not set,
 * how a Windows exit code is reported to dom0, and the configuration file.
 * The Windows API calls that use these live in wlaunch.c and main.c.
 */
#ifndef MCD_WIN_CORE_H
#define MCD_WIN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Programs on the wire are absolute POSIX-style paths (mcd_valid_program).
 * A Windows program is named with its drive letter as the first component:
 * "/c/Program Files/App/app.exe" is C:\Program Files\App\app.exe.  Refused
 * (with a reason for FAILED no-such-program): no drive component, any of
 * \ : * ? " < > | (no second syntax, no alternate data streams), a
 * component ending in '.' or ' ' (Windows would silently drop it, so the
 * path run would not be the path an admin reads), DOS device names (CON,
 * NUL, COM1, ...), and anything but a ".exe" file: CreateProcess runs .bat
 * and .cmd files through cmd.exe, whose own parsing of the arguments would
 * let a request inject commands.
 * Returns 0 with the Windows path in out, or -1 with reason set.
 */
#define WINCORE_PATH_MAX 1100
int wincore_program_path(const char *wire, char *out, size_t outlen,
			 char *reason, size_t reason_len);

/*
 * Build the command line for CreateProcess from argv (argv[0] is the
 * Windows path of the program).  Each argument is quoted so that the
 * Microsoft C runtime and CommandLineToArgvW give the app exactly argv
 * back; argv[0] is always enclosed in quotes (it has none inside).
 * Returns the length, or -1 if it does not fit in cap bytes with the NUL.
 */
int wincore_cmdline(const char *const *argv, char *out, size_t cap);

/*
 * 1 if a request's extra KEY=VALUE entry (already mcd_valid_env) may reach
 * a Windows app.  Names are compared case-insensitively, as Windows does;
 * refused are the variables that change where Windows or a runtime loads
 * code or data from (Path, PATHEXT, ComSpec, SystemRoot, windir, TEMP,
 * the profile directories, __COMPAT_LAYER, COR_*, COMPLUS_*, DOTNET_*,
 * ...) and those the agent sets itself (DISPLAY, USERNAME, ...).
 */
int wincore_env_allowed(const char *kv);

/*
 * The app's environment: base (the user's own environment, from
 * CreateEnvironmentBlock) without any entry that DISPLAY or an extra
 * entry replaces, then DISPLAY=display, then the extras; sorted by name
 * case-insensitively as CreateProcess expects ("=C:" style entries
 * first).  out receives pointers into base, extras and disp_buf (which
 * holds "DISPLAY=..." and must have room for it).  Returns the number of
 * entries, or -1 if more than cap.
 */
int wincore_env_build(const char *const *base, size_t nbase,
		      const char *display, const char *const *extras,
		      size_t nextras, char *disp_buf, size_t disp_len,
		      const char **out, size_t cap);

/*
 * How a Windows exit code is reported (the waitpid() format of
 * wait_compat.h, which agent.c turns into EXITED):
 *   - the agent ended the app (TerminateJobObject with
 *     WINCORE_KILL_CODE(sig)): killed by that signal;
 *   - 0..255: that exit code;
 *   - an exception status: the matching signal (access violation and
 *     stack overflow SIGSEGV, illegal instruction SIGILL, arithmetic
 *     SIGFPE, breakpoint SIGTRAP, Ctrl-C SIGINT, fail-fast SIGABRT);
 *   - anything else: exit code 255 (the caller logs the real value).
 */
#define WINCORE_KILL_BASE 0x4d434400u
#define WINCORE_KILL_CODE(sig) (WINCORE_KILL_BASE | ((uint32_t)(sig) & 0xff))
int wincore_exit_status(uint32_t code, int terminated_by_agent);

/*
 * "tcp:PORT" (the test transport): the service listens on 127.0.0.1:PORT
 * only, never on another address.  Returns the port, or -1.
 */
int wincore_parse_tcp(const char *s);

/*
 * The configuration file (default C:\ProgramData\MCD\agent.conf).  Same
 * rules as the Linux agent's: "key=value" lines, blanks around both
 * allowed, '#' comment lines, strict (an unknown or repeated key, a bad
 * value, a line over WCONF_LINE_MAX bytes or a control byte is an error
 * reported as file:line; the file is refused as a whole).  Keys:
 *   share=\\server\share\%u   the user's network share; %u is replaced by
 *                             the user name (default: none)
 *   share_drive=H:            drive letter for it (default: none, a
 *                             connection without a drive letter)
 *   allow_current_user=0|1    TEST ONLY (default 0): run apps as the
 *                             account the service runs as, without looking
 *                             up the requested user.  For Wine, which has
 *                             no other accounts; never set it in a template.
 */
#define WCONF_LINE_MAX 256
#define WCONF_SHARE_MAX 200
struct wconf {
	char share[WCONF_SHARE_MAX + 1];
	char share_drive[3];
	int allow_current_user;
};

void wconf_defaults(struct wconf *c);
/* Parse f (name for messages); returns the number of errors, each reported
 * through report (may be NULL); *c is changed only on success. */
int wconf_parse(const char *name, FILE *f, struct wconf *c,
		void (*report)(const char *line), char *first_err,
		size_t errlen);
/* The share for user, with %u replaced; 0, or -1 if it does not fit. */
int wconf_share_for(const struct wconf *c, const char *user, char *out,
		    size_t outlen);

#endif /* MCD_WIN_CORE_H */
