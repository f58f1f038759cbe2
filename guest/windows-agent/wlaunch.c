/*
 * wlaunch.c - the app as the requested user, in a job object (see
 * wlaunch.h).
 */
#include "wlaunch.h"

#include "wait_compat.h"
#include "wlog.h"

#include <windows.h>
#include <lm.h>
#include <sddl.h>
#include <userenv.h>
#include <winnetwk.h>
#include <wtsapi32.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* CreateProcess takes at most this many UTF-16 units, with the NUL. */
#define CMDLINE_MAX 32767

static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	/* FAILED reasons are printable ASCII; system messages may not be. */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* "<system text> (error N)" for the last error, for reasons. */
static const char *errtext(DWORD err, char *buf, size_t len)
{
	char text[160];
	int n = snprintf(buf, len, "%s (error %lu)",
			 wlog_errtext(err, text, sizeof(text)), err);

	(void)n;
	return buf;
}

/* UTF-8 to a new UTF-16 string; NULL if s is not valid UTF-8. */
static wchar_t *to_w(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1,
				    NULL, 0);
	wchar_t *w;

	if (n <= 0 || !(w = malloc((size_t)n * sizeof(wchar_t))))
		return NULL;
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n)
	    != n) {
		free(w);
		return NULL;
	}
	return w;
}

static char *to_utf8(const wchar_t *w)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s;

	if (n <= 0 || !(s = malloc((size_t)n)))
		return NULL;
	if (WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- the user ---- */

/* The session of user (case-insensitive), preferring an active one;
 * 1 found, 0 not. */
static int find_session(const wchar_t *user, DWORD *session)
{
	WTS_SESSION_INFOW *info = NULL;
	DWORD count = 0;
	int found = 0;

	if (!WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &info,
				   &count))
		return 0;
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (DWORD i = 0; i < count && !found; i++) {
			wchar_t *name = NULL;
			DWORD bytes = 0;

			/* Session 0 is the services' session, never a user's. */
			if (info[i].SessionId == 0)
				continue;
			if (pass == 0 && info[i].State != WTSActive)
				continue;
			if (!WTSQuerySessionInformationW(
				    WTS_CURRENT_SERVER_HANDLE,
				    info[i].SessionId, WTSUserName, &name,
				    &bytes))
				continue;
			if (name && _wcsicmp(name, user) == 0) {
				*session = info[i].SessionId;
				found = 1;
			}
			WTSFreeMemory(name);
		}
	}
	WTSFreeMemory(info);
	return found;
}

static int account_exists(const wchar_t *user)
{
	BYTE sid[SECURITY_MAX_SID_SIZE];
	wchar_t domain[256];
	DWORD sidlen = sizeof(sid), domlen = 256;
	SID_NAME_USE use;

	return LookupAccountNameW(NULL, user, sid, &sidlen, domain, &domlen,
				  &use) && use == SidTypeUser;
}

static int token_is_service_account(HANDLE tok)
{
	BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	TOKEN_USER *tu = (TOKEN_USER *)buf;
	DWORD len;

	if (!GetTokenInformation(tok, TokenUser, buf, sizeof(buf), &len))
		return 1; /* cannot tell: refuse */
	return IsWellKnownSid(tu->User.Sid, WinLocalSystemSid) ||
	       IsWellKnownSid(tu->User.Sid, WinLocalServiceSid) ||
	       IsWellKnownSid(tu->User.Sid, WinNetworkServiceSid);
}

/* Administrators among the token's groups, enabled or deny-only (a UAC
 * filtered token of an administrator still is one). */
static int token_is_admin(HANDLE tok)
{
	TOKEN_GROUPS *g;
	DWORD len = 0;
	int admin = 1;

	GetTokenInformation(tok, TokenGroups, NULL, 0, &len);
	if (len == 0 || !(g = malloc(len)))
		return 1;
	if (GetTokenInformation(tok, TokenGroups, g, len, &len)) {
		admin = 0;
		for (DWORD i = 0; i < g->GroupCount; i++)
			if (IsWellKnownSid(g->Groups[i].Sid,
					   WinBuiltinAdministratorsSid))
				admin = 1;
	}
	free(g);
	return admin;
}

static int user_token(const struct wconf *conf, const char *user,
		      HANDLE *out, uint32_t *code, char *reason, size_t rlen)
{
	HANDLE tok = NULL, dup = NULL;
	wchar_t *wuser = to_w(user);
	DWORD session;
	char et[200];
	int rc = -1;

	*out = NULL;
	*code = MCD_FAIL_INTERNAL;
	if (!wuser) {
		say(reason, rlen, "out of memory");
		return -1;
	}
	if (conf->allow_current_user) {
		/* TEST ONLY: the service's own account stands in for user. */
		log_warnx("allow_current_user=1: running the app as the "
			  "service's own account, not as %s (test only)",
			  user);
		if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE |
				      TOKEN_QUERY, &tok)) {
			say(reason, rlen, "own token: %s",
			    errtext(GetLastError(), et, sizeof(et)));
			goto out;
		}
	} else {
		if (!find_session(wuser, &session)) {
			*code = MCD_FAIL_NO_USER;
			if (account_exists(wuser))
				say(reason, rlen, "user %s has no logon "
				    "session to start the app in", user);
			else
				say(reason, rlen, "no such user: %s", user);
			goto out;
		}
		if (!WTSQueryUserToken(session, &tok)) {
			say(reason, rlen, "token of session %lu: %s", session,
			    errtext(GetLastError(), et, sizeof(et)));
			goto out;
		}
	}
	if (!DuplicateTokenEx(tok, MAXIMUM_ALLOWED, NULL,
			      SecurityImpersonation, TokenPrimary, &dup)) {
		say(reason, rlen, "duplicating the token: %s",
		    errtext(GetLastError(), et, sizeof(et)));
		goto out;
	}
	if (token_is_service_account(dup)) {
		*code = MCD_FAIL_USER_DENIED;
		say(reason, rlen, "user %s is a service account", user);
		goto out;
	}
	if (!conf->allow_current_user && token_is_admin(dup)) {
		*code = MCD_FAIL_USER_DENIED;
		say(reason, rlen, "user %s is an administrator", user);
		goto out;
	}
	*out = dup;
	dup = NULL;
	rc = 0;
out:
	if (tok)
		CloseHandle(tok);
	if (dup)
		CloseHandle(dup);
	free(wuser);
	return rc;
}

/* ---- the program ---- */

static int check_program(HANDLE tok, const char *user, const char *path,
			 const wchar_t *wpath, char *reason, size_t rlen)
{
	DWORD attr, err = 0;
	HANDLE h;

	/* As the user: what the user may not reach, the app may not run. */
	if (!ImpersonateLoggedOnUser(tok)) {
		say(reason, rlen, "cannot act as %s (error %lu)", user,
		    GetLastError());
		return -1;
	}
	attr = GetFileAttributesW(wpath);
	if (attr == INVALID_FILE_ATTRIBUTES) {
		err = GetLastError();
	} else if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
		h = CreateFileW(wpath, FILE_EXECUTE | FILE_READ_ATTRIBUTES,
				FILE_SHARE_READ | FILE_SHARE_WRITE |
				FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0,
				NULL);
		if (h == INVALID_HANDLE_VALUE)
			err = GetLastError();
		else
			CloseHandle(h);
	}
	RevertToSelf();
	if (attr == INVALID_FILE_ATTRIBUTES) {
		if (err == ERROR_ACCESS_DENIED)
			say(reason, rlen, "not executable by %s: %s", user,
			    path);
		else
			say(reason, rlen, "no such program: %s", path);
		return -1;
	}
	if (attr & FILE_ATTRIBUTE_DIRECTORY) {
		say(reason, rlen, "not a file: %s", path);
		return -1;
	}
	if (err) {
		say(reason, rlen, "not executable by %s: %s", user, path);
		return -1;
	}
	return 0;
}

/* ---- the environment ---- */

/* A new UTF-16 environment block, or NULL with reason set. */
static wchar_t *build_env(HANDLE tok, const struct mcd_launch *req,
			  uint32_t *code, char *reason, size_t rlen)
{
	const char *list[512 + MCD_MAX_ENV + 1];
	char *base[512];
	char disp[MCD_MAX_DISPLAY_LEN + sizeof("DISPLAY=")];
	size_t nbase = 0, total = 1, pos = 0;
	wchar_t *blk = NULL, *out = NULL;
	int n = -1;

	for (unsigned i = 0; i < req->envc; i++) {
		if (!wincore_env_allowed(req->env[i])) {
			const char *eq = strchr(req->env[i], '=');

			*code = MCD_FAIL_BAD_REQUEST;
			say(reason, rlen, "environment variable %.*s may not "
			    "be set on Windows", (int)(eq - req->env[i]),
			    req->env[i]);
			return NULL;
		}
	}
	*code = MCD_FAIL_INTERNAL;
	/* The user's own environment, not the service's. */
	if (!CreateEnvironmentBlock((void **)&blk, tok, FALSE)) {
		say(reason, rlen, "user environment: error %lu",
		    GetLastError());
		return NULL;
	}
	for (const wchar_t *p = blk; *p && nbase < 512; p += wcslen(p) + 1)
		if ((base[nbase] = to_utf8(p)))
			nbase++;
	DestroyEnvironmentBlock(blk);
	n = wincore_env_build((const char *const *)base, nbase, req->display,
			      req->env, req->envc, disp, sizeof(disp), list,
			      sizeof(list) / sizeof(list[0]));
	if (n < 0) {
		say(reason, rlen, "environment too large");
		goto out;
	}
	for (int i = 0; i < n; i++)
		total += (size_t)MultiByteToWideChar(CP_UTF8, 0, list[i], -1,
						     NULL, 0);
	out = malloc(total * sizeof(wchar_t));
	if (!out) {
		say(reason, rlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		pos += (size_t)MultiByteToWideChar(CP_UTF8, 0, list[i], -1,
						   out + pos,
						   (int)(total - pos));
	out[pos] = L'\0';
out:
	for (size_t i = 0; i < nbase; i++)
		free(base[i]);
	return out;
}

/* ---- the share ---- */

static int map_share(const struct wconf *conf, struct wapp *app,
		     char *reason, size_t rlen)
{
	char unc[WCONF_SHARE_MAX + 64], et[200];
	wchar_t wunc[WCONF_SHARE_MAX + 64], wdrive[3] = L"";
	NETRESOURCEW nr;
	DWORD r;

	if (!conf->share[0])
		return 0;
	if (wconf_share_for(conf, app->user, unc, sizeof(unc)) < 0) {
		say(reason, rlen, "share name too long");
		return -1;
	}
	MultiByteToWideChar(CP_UTF8, 0, unc, -1, wunc,
			    (int)(sizeof(wunc) / sizeof(wunc[0])));
	if (conf->share_drive[0]) {
		wdrive[0] = (wchar_t)conf->share_drive[0];
		wdrive[1] = L':';
		wdrive[2] = L'\0';
	}
	memset(&nr, 0, sizeof(nr));
	nr.dwType = RESOURCETYPE_DISK;
	nr.lpLocalName = wdrive[0] ? wdrive : NULL;
	nr.lpRemoteName = wunc;
	/* As the user, so the connection and its drive letter belong to the
	 * user's logon session and use the user's own credentials. */
	if (!ImpersonateLoggedOnUser(app->token)) {
		say(reason, rlen, "cannot act as %s (error %lu)", app->user,
		    GetLastError());
		return -1;
	}
	r = WNetAddConnection2W(&nr, NULL, NULL, CONNECT_TEMPORARY);
	RevertToSelf();
	if (r != NO_ERROR) {
		say(reason, rlen, "cannot connect share %s%s%s: %s", unc,
		    wdrive[0] ? " as " : "", conf->share_drive,
		    errtext(r, et, sizeof(et)));
		return -1;
	}
	wcscpy(app->share_name, wdrive[0] ? wdrive : wunc);
	app->share_mapped = 1;
	log_info("share %s connected%s%s for %s", unc,
		 wdrive[0] ? " as " : "", conf->share_drive, app->user);
	return 0;
}

static void unmap_share(struct wapp *app)
{
	DWORD r;

	if (!app->share_mapped)
		return;
	app->share_mapped = 0;
	if (!ImpersonateLoggedOnUser(app->token)) {
		log_winerr("cannot act as %s to disconnect the share",
			   app->user);
		return;
	}
	/* Force: the app has ended; nothing of the session may keep it. */
	r = WNetCancelConnection2W(app->share_name, 0, TRUE);
	RevertToSelf();
	if (r != NO_ERROR)
		log_warnx("disconnecting the share of %s: error %lu",
			  app->user, r);
	else
		log_info("share of %s disconnected", app->user);
}

/* ---- the process ---- */

static HANDLE open_nul(void)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };

	return CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
			   FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
			   OPEN_EXISTING, 0, NULL);
}

/*
 * Start cmdline as tok, suspended, with stdin/stdout/stderr on NUL and no
 * other handle of the service inherited (the handle list names only the
 * NUL handle).  Returns CreateProcessAsUserW's result.
 */
static BOOL spawn(HANDLE tok, const wchar_t *app_path, wchar_t *cmdline,
		  void *env, const wchar_t *dir, int own_desktop,
		  DWORD flags, PROCESS_INFORMATION *pi)
{
	STARTUPINFOEXW si;
	SIZE_T attr_len = 0;
	HANDLE nul = open_nul();
	BOOL ok = FALSE;
	DWORD err;

	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	/* The user's desktop in the user's session (the token carries the
	 * session); the test stand-in keeps the service's. */
	si.StartupInfo.lpDesktop = own_desktop ? NULL : L"winsta0\\default";
	if (nul != INVALID_HANDLE_VALUE) {
		si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
		si.StartupInfo.hStdInput = nul;
		si.StartupInfo.hStdOutput = nul;
		si.StartupInfo.hStdError = nul;
	}
	InitializeProcThreadAttributeList(NULL, 1, 0, &attr_len);
	si.lpAttributeList = malloc(attr_len);
	if (si.lpAttributeList &&
	    InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0,
					      &attr_len)) {
		if (nul != INVALID_HANDLE_VALUE)
			UpdateProcThreadAttribute(si.lpAttributeList, 0,
				PROC_THREAD_ATTRIBUTE_HANDLE_LIST, &nul,
				sizeof(nul), NULL, NULL);
		ok = CreateProcessAsUserW(tok, app_path, cmdline, NULL, NULL,
					  nul != INVALID_HANDLE_VALUE,
					  flags | EXTENDED_STARTUPINFO_PRESENT,
					  env, dir, &si.StartupInfo, pi);
		err = GetLastError();
		DeleteProcThreadAttributeList(si.lpAttributeList);
		SetLastError(err);
	} else {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
	}
	err = GetLastError();
	free(si.lpAttributeList);
	if (nul != INVALID_HANDLE_VALUE)
		CloseHandle(nul);
	SetLastError(err);
	return ok;
}

int wlaunch_start(const struct wconf *conf, const struct mcd_launch *req,
		  struct wapp *app, uint32_t *code, char *reason,
		  size_t reason_len)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
	PROCESS_INFORMATION pi;
	const char *argv[MCD_MAX_ARGS + 1];
	char path[WINCORE_PATH_MAX], et[200];
	char *cmd = NULL;
	wchar_t *wpath = NULL, *wcmd = NULL, *env = NULL;
	wchar_t dir[MAX_PATH];
	DWORD dirlen = MAX_PATH;
	size_t cmdcap = (size_t)MCD_MAX_ARGS * (2 * MCD_MAX_ARG_LEN + 3) + 64;
	int rc = -1;

	memset(app, 0, sizeof(*app));
	snprintf(app->user, sizeof(app->user), "%s", req->user);
	app->own_desktop = conf->allow_current_user;
	*code = MCD_FAIL_NO_PROGRAM;
	if (wincore_program_path(req->argv[0], path, sizeof(path), reason,
				 reason_len) < 0)
		return -1;
	*code = MCD_FAIL_INTERNAL;
	wpath = to_w(path);
	cmd = malloc(cmdcap);
	if (!wpath || !cmd) {
		say(reason, reason_len, "out of memory");
		goto out;
	}
	/* The app's argv[0] is its Windows path. */
	argv[0] = path;
	for (unsigned i = 1; i <= req->argc; i++)
		argv[i] = req->argv[i];
	*code = MCD_FAIL_BAD_REQUEST;
	if (wincore_cmdline(argv, cmd, cmdcap) < 0) {
		say(reason, reason_len, "command line too long for Windows");
		goto out;
	}
	wcmd = to_w(cmd);
	if (!wcmd) {
		say(reason, reason_len, "an argument is not valid UTF-8");
		goto out;
	}
	if (wcslen(wcmd) >= CMDLINE_MAX) {
		say(reason, reason_len, "command line too long for Windows");
		goto out;
	}
	if (user_token(conf, req->user, &app->token, code, reason,
		       reason_len) < 0)
		goto out;
	*code = MCD_FAIL_NO_PROGRAM;
	if (check_program(app->token, req->user, path, wpath, reason,
			  reason_len) < 0)
		goto out;
	env = build_env(app->token, req, code, reason, reason_len);
	if (!env)
		goto out;
	*code = MCD_FAIL_INTERNAL;
	if (map_share(conf, app, reason, reason_len) < 0)
		goto out;
	app->job = CreateJobObjectW(NULL, NULL);
	memset(&li, 0, sizeof(li));
	li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (!app->job ||
	    !SetInformationJobObject(app->job, JobObjectExtendedLimitInformation,
				     &li, sizeof(li))) {
		say(reason, reason_len, "job object: %s",
		    errtext(GetLastError(), et, sizeof(et)));
		goto out;
	}
	/* Start in the user's profile directory. */
	if (!GetUserProfileDirectoryW(app->token, dir, &dirlen))
		dir[0] = L'\0';
	/* Console programs get no window: MCD runs desktop apps. */
	if (!spawn(app->token, wpath, wcmd, env, dir[0] ? dir : NULL,
		   app->own_desktop,
		   CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT |
		   CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW, &pi)) {
		DWORD e = GetLastError();

		if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) {
			*code = MCD_FAIL_NO_PROGRAM;
			say(reason, reason_len, "no such program: %s", path);
		} else {
			*code = MCD_FAIL_EXEC;
			say(reason, reason_len, "start %s: %s", path,
			    errtext(e, et, sizeof(et)));
		}
		goto out;
	}
	/* In the job before its first instruction, so all it starts is too. */
	if (!AssignProcessToJobObject(app->job, pi.hProcess)) {
		*code = MCD_FAIL_EXEC;
		say(reason, reason_len, "job for %s: %s", path,
		    errtext(GetLastError(), et, sizeof(et)));
		TerminateProcess(pi.hProcess, WINCORE_KILL_CODE(SIGKILL));
		CloseHandle(pi.hThread);
		CloseHandle(pi.hProcess);
		goto out;
	}
	ResumeThread(pi.hThread);
	CloseHandle(pi.hThread);
	app->process = pi.hProcess;
	app->pid = pi.dwProcessId;
	rc = 0;
out:
	if (rc < 0)
		wlaunch_cleanup(app);
	free(cmd);
	free(wcmd);
	free(wpath);
	free(env);
	return rc;
}

/* ---- stopping ---- */

static void ask_windows_to_close(struct wapp *app)
{
	union {
		JOBOBJECT_BASIC_PROCESS_ID_LIST l;
		BYTE raw[sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) +
			 64 * sizeof(ULONG_PTR)];
	} ids;
	wchar_t exe[MAX_PATH], cmd[MAX_PATH + 64 * 12 + 32];
	PROCESS_INFORMATION pi;
	size_t pos;

	memset(&ids, 0, sizeof(ids));
	if (!QueryInformationJobObject(app->job, JobObjectBasicProcessIdList,
				       &ids, sizeof(ids), NULL) &&
	    GetLastError() != ERROR_MORE_DATA) {
		log_winerr("listing the processes of pid %lu", app->pid);
		return;
	}
	if (ids.l.NumberOfProcessIdsInList == 0)
		return;
	if (!GetModuleFileNameW(NULL, exe, MAX_PATH))
		return;
	/* A helper in the app's session and on its desktop (a service in
	 * session 0 cannot see the user's windows) asks them to close. */
	pos = (size_t)swprintf(cmd, sizeof(cmd) / sizeof(cmd[0]),
			       L"\"%ls\" close-windows", exe);
	for (DWORD i = 0; i < ids.l.NumberOfProcessIdsInList && i < 64; i++)
		pos += (size_t)swprintf(cmd + pos,
					sizeof(cmd) / sizeof(cmd[0]) - pos,
					L" %lu",
					(unsigned long)ids.l.ProcessIdList[i]);
	if (!spawn(app->token, exe, cmd, NULL, NULL, app->own_desktop,
		   CREATE_NO_WINDOW, &pi)) {
		log_winerr("starting the close-windows helper");
		return;
	}
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
}

void wlaunch_signal(struct wapp *app, int sig)
{
	if (!app->process)
		return;
	if (sig == SIGTERM) {
		ask_windows_to_close(app);
		return;
	}
	if (app->job && TerminateJobObject(app->job, WINCORE_KILL_CODE(sig)))
		app->terminated = 1;
}

int wlaunch_exit_status(struct wapp *app)
{
	DWORD code = 0;
	int st;

	if (!GetExitCodeProcess(app->process, &code)) {
		log_winerr("exit code of pid %lu", app->pid);
		return WAIT_EXITED(255);
	}
	st = wincore_exit_status(code, app->terminated);
	if (code > 255 && !(WIFSIGNALED(st) && app->terminated))
		log_info("pid %lu ended with 0x%08lx, reported as %s %d",
			 app->pid, code, WIFSIGNALED(st) ? "signal" : "code",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return st;
}

void wlaunch_cleanup(struct wapp *app)
{
	if (app->job) {
		/* Whatever the app left running ends with the job. */
		TerminateJobObject(app->job, WINCORE_KILL_CODE(SIGKILL));
		CloseHandle(app->job);
	}
	unmap_share(app);
	if (app->process)
		CloseHandle(app->process);
	if (app->token)
		CloseHandle(app->token);
	memset(app, 0, sizeof(*app));
}

/* ---- the close-windows helper ---- */

struct close_ctx {
	const DWORD *pids;
	size_t n;
	int asked;
};

static BOOL CALLBACK close_one(HWND w, LPARAM lp)
{
	struct close_ctx *c = (struct close_ctx *)lp;
	DWORD pid = 0;

	GetWindowThreadProcessId(w, &pid);
	for (size_t i = 0; i < c->n; i++) {
		if (c->pids[i] == pid) {
			PostMessageW(w, WM_CLOSE, 0, 0);
			c->asked++;
			break;
		}
	}
	return TRUE;
}

int wlaunch_close_windows(const DWORD *pids, size_t n)
{
	struct close_ctx c = { pids, n, 0 };

	EnumWindows(close_one, (LPARAM)&c);
	return c.asked;
}
