/*
 * main.c - mcd-agent.exe: the MCD guest agent for Windows, a Windows
 * service.  It offers a vchan to dom0 in the guest's own XenStore area
 * (through the Xen PV drivers' XENIFACE device) and on dom0's LAUNCH runs
 * one app as the requested user in that user's session; it reports when
 * the app started and how it ended.  The protocol and session rules are
 * the Linux agent's own state machine (guest/linux-agent/agent.c).  See
 * README.md beside this file.
 *
 *   mcd-agent.exe [options] install     register the service (auto start)
 *   mcd-agent.exe uninstall             stop and remove it
 *   mcd-agent.exe [options] service     what the service manager runs
 *   mcd-agent.exe [options] run         the same in a console (Ctrl-C)
 *   mcd-agent.exe close-windows PID...  helper: WM_CLOSE to their windows
 */
#include "wchan.h"
#include "wincore.h"
#include "wlaunch.h"
#include "wlog.h"
#include "wloop.h"

#include <windows.h>
#include <shlobj.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define PROG "mcd-agent"
#define SERVICE_NAME L"mcd-agent"
#define SERVICE_DISPLAY L"MCD guest agent"
#define SERVICE_DESC L"Runs the applications of Multi-Cloud Desktop " \
	L"sessions for dom0 (vchan over the Xen PV drivers)."

struct opts {
	struct wloop_opts loop;
	const wchar_t *config;   /* NULL: the default file */
	const wchar_t *log;      /* NULL: the default file */
	const wchar_t *transport;
	int verbose;
};

static struct opts O;
static SERVICE_STATUS_HANDLE svc_handle;
static SERVICE_STATUS svc_status;
static wchar_t default_config[MAX_PATH + 64];
static wchar_t default_log[MAX_PATH + 64];

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG ".exe [--transport vchan|tcp:PORT] [--config FILE] [--log FILE]\n"
"                     [-v] install|uninstall|service|run\n"
"       " PROG ".exe --help\n"
"\n"
"The MCD guest agent for Windows: serves dom0's launch requests in this\n"
"domain as the Windows service \"mcd-agent\".\n"
"\n"
"  install     register the service (automatic start, LocalSystem) with the\n"
"              given options, and start it on the next boot (or: net start\n"
"              mcd-agent)\n"
"  uninstall   stop the service and remove it\n"
"  service     run as the service (the service manager uses this)\n"
"  run         run in this console until Ctrl-C\n"
"\n"
"  --transport vchan      vchan server at /local/domain/<own domid>/data/mcd/\n"
"                         vchan through the Xen PV drivers (default)\n"
"  --transport tcp:PORT   test stand-in on 127.0.0.1:PORT only\n"
"  --config FILE          default %%ProgramData%%\\MCD\\agent.conf (missing:\n"
"                         defaults)\n"
"  --log FILE             default %%ProgramData%%\\MCD\\mcd-agent.log\n"
"  -v, --verbose          debug lines\n");
}

static void errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void defaults(void)
{
	wchar_t base[MAX_PATH];

	if (SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, 0, base) != S_OK)
		wcscpy(base, L"C:\\ProgramData");
	swprintf(default_config, sizeof(default_config) / sizeof(wchar_t),
		 L"%ls\\MCD\\agent.conf", base);
	swprintf(default_log, sizeof(default_log) / sizeof(wchar_t),
		 L"%ls\\MCD\\mcd-agent.log", base);
}

/* Create the directory that holds path (one level). */
static void make_parent(const wchar_t *path)
{
	wchar_t dir[MAX_PATH + 64];
	wchar_t *slash;

	swprintf(dir, sizeof(dir) / sizeof(wchar_t), L"%ls", path);
	slash = wcsrchr(dir, L'\\');
	if (!slash)
		return;
	*slash = L'\0';
	CreateDirectoryW(dir, NULL);
}

static void conf_report(const char *line)
{
	log_warnx("%s", line);
}

/* Load the configuration; 0, or -1 after logging why. */
static int load_config(void)
{
	const wchar_t *path = O.config ? O.config : default_config;
	char name[MAX_PATH * 3];
	FILE *f;
	int errors;

	wconf_defaults(&O.loop.conf);
	WideCharToMultiByte(CP_UTF8, 0, path, -1, name, sizeof(name), NULL,
			    NULL);
	f = _wfopen(path, L"r");
	if (!f) {
		if (!O.config)
			return 0; /* no file at the default place: defaults */
		log_warnx("cannot open configuration %s", name);
		return -1;
	}
	errors = wconf_parse(name, f, &O.loop.conf, conf_report, NULL, 0);
	fclose(f);
	if (errors) {
		log_warnx("%d error(s) in %s; not starting", errors, name);
		return -1;
	}
	return 0;
}

static int parse_transport(const wchar_t *w)
{
	char s[64];

	if (WideCharToMultiByte(CP_UTF8, 0, w, -1, s, sizeof(s), NULL, NULL) <= 0)
		return -1;
	if (strcmp(s, "vchan") == 0) {
		O.loop.transport = WLOOP_VCHAN;
		return 0;
	}
	O.loop.tcp_port = wincore_parse_tcp(s);
	if (O.loop.tcp_port <= 0)
		return -1;
	O.loop.transport = WLOOP_TCP;
	return 0;
}

/* Start logging and read the configuration: the common start-up of
 * "service" and "run".  0, or -1. */
static int start_up(int console)
{
	const wchar_t *log = O.log ? O.log : default_log;

	if (!O.log)
		make_parent(log);
	wlog_stderr(console);
	if (wlog_open(log) < 0 && console)
		fprintf(stderr, PROG ": warning: cannot open the log file\n");
	log_init(PROG, O.verbose);
	if (load_config() < 0)
		return -1;
	if (O.loop.conf.allow_current_user)
		log_warnx("allow_current_user=1 in the configuration: apps "
			  "run as this service's account (TEST ONLY)");
	if (O.loop.transport == WLOOP_TCP)
		log_warnx("transport tcp:%d: any program in this guest can "
			  "connect and act as dom0 (TEST ONLY)",
			  O.loop.tcp_port);
	if (wchan_net_init() < 0) {
		log_warnx("Winsock start-up failed");
		return -1;
	}
	O.loop.stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!O.loop.stop_event)
		return -1;
	log_info("started (pid %lu, transport %s, share %s)",
		 GetCurrentProcessId(),
		 O.loop.transport == WLOOP_VCHAN ? "vchan" : "tcp",
		 O.loop.conf.share[0] ? O.loop.conf.share : "none");
	return 0;
}

/* ---- the service ---- */

static void report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
	static DWORD checkpoint = 1;

	svc_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	svc_status.dwCurrentState = state;
	svc_status.dwWin32ExitCode = exit_code;
	svc_status.dwWaitHint = wait_hint;
	svc_status.dwControlsAccepted = state == SERVICE_RUNNING ?
		SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
	svc_status.dwCheckPoint = (state == SERVICE_RUNNING ||
				   state == SERVICE_STOPPED) ? 0 : checkpoint++;
	SetServiceStatus(svc_handle, &svc_status);
}

static DWORD WINAPI svc_control(DWORD ctl, DWORD type, LPVOID data,
				LPVOID ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (ctl) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		/* The app gets WLOOP_STOP_GRACE_MS, then up to 5 s to die. */
		report(SERVICE_STOP_PENDING, NO_ERROR,
		       WLOOP_STOP_GRACE_MS + 8000);
		log_info("%s control from the service manager",
			 ctl == SERVICE_CONTROL_STOP ? "stop" : "shutdown");
		SetEvent(O.loop.stop_event);
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	}
	return ERROR_CALL_NOT_IMPLEMENTED;
}

static void WINAPI svc_main(DWORD argc, LPWSTR *argv)
{
	int rc;

	(void)argc;
	(void)argv;
	svc_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, svc_control,
						   NULL);
	if (!svc_handle)
		return;
	report(SERVICE_START_PENDING, NO_ERROR, 3000);
	if (start_up(0) < 0) {
		report(SERVICE_STOPPED, ERROR_BAD_CONFIGURATION, 0);
		return;
	}
	report(SERVICE_RUNNING, NO_ERROR, 0);
	rc = wloop_run(&O.loop);
	wlog_close();
	report(SERVICE_STOPPED, rc ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR,
	       0);
}

static int cmd_service(void)
{
	SERVICE_TABLE_ENTRYW table[] = {
		{ (LPWSTR)SERVICE_NAME, svc_main },
		{ NULL, NULL },
	};

	if (!StartServiceCtrlDispatcherW(table))
		errorx("not started by the service manager (error %lu); use "
		       "'run' in a console", GetLastError());
	return 0;
}

/* ---- console ---- */

static BOOL WINAPI console_ctrl(DWORD type)
{
	(void)type;
	SetEvent(O.loop.stop_event);
	return TRUE;
}

static int cmd_run(void)
{
	if (start_up(1) < 0)
		return 1;
	SetConsoleCtrlHandler(console_ctrl, TRUE);
	return wloop_run(&O.loop);
}

/* ---- install / uninstall ---- */

/* Append " --opt \"value\"" (values never contain quotes: checked). */
static int add_opt(wchar_t *cmd, size_t cap, const wchar_t *opt,
		   const wchar_t *val)
{
	size_t len = wcslen(cmd);

	if (!val)
		return 0;
	if (wcschr(val, L'"'))
		return -1;
	return swprintf(cmd + len, cap - len, L" %ls \"%ls\"", opt, val) < 0
		? -1 : 0;
}

static int cmd_install(void)
{
	wchar_t exe[MAX_PATH], cmd[3 * MAX_PATH + 200];
	SERVICE_DESCRIPTIONW desc = { (LPWSTR)SERVICE_DESC };
	SC_ACTION actions[3] = {
		{ SC_ACTION_RESTART, 5000 }, { SC_ACTION_RESTART, 5000 },
		{ SC_ACTION_RESTART, 30000 },
	};
	SERVICE_FAILURE_ACTIONSW fa = { 86400, NULL, NULL, 3, actions };
	SC_HANDLE scm, svc;
	size_t cap = sizeof(cmd) / sizeof(cmd[0]);

	if (!GetModuleFileNameW(NULL, exe, MAX_PATH))
		errorx("cannot find this program's path");
	if (load_config() < 0)
		errorx("bad configuration, not installing");
	swprintf(cmd, cap, L"\"%ls\"", exe);
	if (add_opt(cmd, cap, L"--transport", O.transport) < 0 ||
	    add_opt(cmd, cap, L"--config", O.config) < 0 ||
	    add_opt(cmd, cap, L"--log", O.log) < 0)
		errorx("an option value contains a quote");
	if (O.verbose)
		wcscat(cmd, L" -v");
	wcscat(cmd, L" service");
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (!scm)
		errorx("cannot open the service manager (error %lu): run as "
		       "an administrator", GetLastError());
	svc = CreateServiceW(scm, SERVICE_NAME, SERVICE_DISPLAY,
			     SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
			     SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd,
			     NULL, NULL, NULL, NULL /* LocalSystem */, NULL);
	if (!svc) {
		DWORD e = GetLastError();

		CloseServiceHandle(scm);
		if (e == ERROR_SERVICE_EXISTS)
			errorx("the service is installed already (uninstall "
			       "first)");
		errorx("cannot create the service (error %lu)", e);
	}
	/* Best effort: older service managers may not know these. */
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa);
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	printf(PROG ": service %ls installed: %ls\n", SERVICE_NAME, cmd);
	return 0;
}

static int cmd_uninstall(void)
{
	SERVICE_STATUS st;
	SC_HANDLE scm, svc;

	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (!scm)
		errorx("cannot open the service manager (error %lu)",
		       GetLastError());
	svc = OpenServiceW(scm, SERVICE_NAME, SERVICE_STOP | DELETE |
			   SERVICE_QUERY_STATUS);
	if (!svc) {
		CloseServiceHandle(scm);
		errorx("the service is not installed (error %lu)",
		       GetLastError());
	}
	if (ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
		for (int i = 0; i < 150 && QueryServiceStatus(svc, &st) &&
				st.dwCurrentState != SERVICE_STOPPED; i++)
			Sleep(100);
	}
	if (!DeleteService(svc)) {
		DWORD e = GetLastError();

		CloseServiceHandle(svc);
		CloseServiceHandle(scm);
		errorx("cannot remove the service (error %lu)", e);
	}
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	printf(PROG ": service %ls removed\n", SERVICE_NAME);
	return 0;
}

static int cmd_close_windows(int argc, wchar_t **argv)
{
	DWORD pids[64];
	size_t n = 0;

	for (int i = 0; i < argc && n < 64; i++) {
		wchar_t *end;
		unsigned long v = wcstoul(argv[i], &end, 10);

		if (*end || v == 0)
			return 2;
		pids[n++] = (DWORD)v;
	}
	return wlaunch_close_windows(pids, n) > 0 ? 0 : 1;
}

int wmain(int argc, wchar_t **argv)
{
	const wchar_t *verb = NULL;
	int i;

	defaults();
	O.loop.transport = WLOOP_VCHAN;
	for (i = 1; i < argc; i++) {
		const wchar_t *a = argv[i];

		if (wcscmp(a, L"--help") == 0 || wcscmp(a, L"-h") == 0) {
			usage(stdout);
			return 0;
		} else if (wcscmp(a, L"-v") == 0 || wcscmp(a, L"--verbose") == 0) {
			O.verbose++;
		} else if (wcscmp(a, L"--transport") == 0 && i + 1 < argc) {
			O.transport = argv[++i];
			if (parse_transport(O.transport) < 0)
				errorx("bad --transport '%ls': use vchan or "
				       "tcp:PORT", O.transport);
		} else if (wcscmp(a, L"--config") == 0 && i + 1 < argc) {
			O.config = argv[++i];
		} else if (wcscmp(a, L"--log") == 0 && i + 1 < argc) {
			O.log = argv[++i];
		} else if (a[0] == L'-') {
			errorx("unknown or incomplete option '%ls' (see --help)",
			       a);
		} else {
			verb = a;
			i++;
			break;
		}
	}
	if (!verb)
		errorx("no command given (see --help)");
	if (wcscmp(verb, L"close-windows") == 0)
		return cmd_close_windows(argc - i, argv + i);
	if (i < argc)
		errorx("unexpected argument '%ls' (see --help)", argv[i]);
	if (wcscmp(verb, L"install") == 0)
		return cmd_install();
	if (wcscmp(verb, L"uninstall") == 0)
		return cmd_uninstall();
	if (wcscmp(verb, L"service") == 0)
		return cmd_service();
	if (wcscmp(verb, L"run") == 0)
		return cmd_run();
	errorx("unknown command '%ls' (see --help)", verb);
	return 1;
}
