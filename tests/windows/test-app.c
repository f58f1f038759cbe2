/*
 * test-app.c - mcd-test-app.exe, the Windows app the Wine tests launch
 * through the agent (tests/windows/test_win_agent.c).
 *
 *   exit N                 exit with code N (0..2^32-1)
 *   report FILE N ARGS...  write argc, every argv entry, the working
 *                          directory and the environment to FILE (UTF-8,
 *                          written to FILE.tmp, then renamed), exit N
 *   sleep MS               sleep, exit 0
 *   wait FILE N            wait (at most 60 s) until FILE exists, exit N
 *   crash                  write through a NULL pointer
 *   spawn-sleep MS FILE    start "sleep MS" as a child, write its pid to
 *                          FILE, then sleep MS
 *   alive PID              exit 1 if process PID runs, else 0
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static void put_utf8(FILE *f, const wchar_t *w)
{
	char buf[8192];

	if (WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, sizeof(buf), NULL,
				NULL) <= 0)
		snprintf(buf, sizeof(buf), "<unconvertible>");
	fputs(buf, f);
}

static int report(const wchar_t *file, int argc, wchar_t **argv)
{
	wchar_t tmp[MAX_PATH + 8], cwd[MAX_PATH];
	wchar_t *env = GetEnvironmentStringsW();
	FILE *f;

	swprintf(tmp, MAX_PATH + 8, L"%ls.tmp", file);
	f = _wfopen(tmp, L"wb");
	if (!f)
		return 120;
	fprintf(f, "argc=%d\n", argc);
	for (int i = 0; i < argc; i++) {
		fprintf(f, "argv[%d]=", i);
		put_utf8(f, argv[i]);
		fputc('\n', f);
	}
	GetCurrentDirectoryW(MAX_PATH, cwd);
	fputs("cwd=", f);
	put_utf8(f, cwd);
	fputs("\nenv:\n", f);
	for (const wchar_t *p = env; p && *p; p += wcslen(p) + 1) {
		put_utf8(f, p);
		fputc('\n', f);
	}
	fputs("end\n", f);
	fclose(f);
	FreeEnvironmentStringsW(env);
	return MoveFileExW(tmp, file, MOVEFILE_REPLACE_EXISTING) ? 0 : 121;
}

int wmain(int argc, wchar_t **argv)
{
	if (argc >= 3 && wcscmp(argv[1], L"exit") == 0)
		return (int)wcstoul(argv[2], NULL, 0);
	if (argc >= 4 && wcscmp(argv[1], L"report") == 0) {
		int rc = report(argv[2], argc, argv);

		return rc ? rc : (int)wcstoul(argv[3], NULL, 0);
	}
	if (argc >= 3 && wcscmp(argv[1], L"sleep") == 0) {
		Sleep((DWORD)wcstoul(argv[2], NULL, 0));
		return 0;
	}
	if (argc >= 4 && wcscmp(argv[1], L"wait") == 0) {
		for (int i = 0; i < 3000; i++) {
			if (GetFileAttributesW(argv[2]) != INVALID_FILE_ATTRIBUTES)
				return (int)wcstoul(argv[3], NULL, 0);
			Sleep(20);
		}
		return 124;
	}
	if (argc >= 2 && wcscmp(argv[1], L"crash") == 0) {
		volatile int *p = NULL;

		*p = 1;
		return 0;
	}
	if (argc >= 4 && wcscmp(argv[1], L"spawn-sleep") == 0) {
		wchar_t self[MAX_PATH], cmd[MAX_PATH + 64];
		STARTUPINFOW si;
		PROCESS_INFORMATION pi;
		FILE *f;

		memset(&si, 0, sizeof(si));
		si.cb = sizeof(si);
		GetModuleFileNameW(NULL, self, MAX_PATH);
		swprintf(cmd, MAX_PATH + 64, L"\"%ls\" sleep %ls", self, argv[2]);
		if (!CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL,
				    &si, &pi))
			return 122;
		f = _wfopen(argv[3], L"w");
		if (!f)
			return 123;
		fprintf(f, "%lu\n", pi.dwProcessId);
		fclose(f);
		Sleep((DWORD)wcstoul(argv[2], NULL, 0));
		return 0;
	}
	if (argc >= 3 && wcscmp(argv[1], L"alive") == 0) {
		HANDLE h = OpenProcess(SYNCHRONIZE, FALSE,
				       (DWORD)wcstoul(argv[2], NULL, 0));
		int alive = h && WaitForSingleObject(h, 0) == WAIT_TIMEOUT;

		if (h)
			CloseHandle(h);
		return alive;
	}
	return 125;
}
