/*
 * wlog.c - one line per event in the log file (see wlog.h).
 */
#include "wlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_LINE_MAX 1024

static const char *log_prog = "mcd-agent";
static int log_level;
static HANDLE log_file = INVALID_HANDLE_VALUE;
static int log_to_stderr = 1;
static INIT_ONCE log_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION log_lock;

static BOOL CALLBACK lock_init(PINIT_ONCE o, PVOID p, PVOID *ctx)
{
	(void)o;
	(void)p;
	(void)ctx;
	InitializeCriticalSection(&log_lock);
	return TRUE;
}

void log_init(const char *prog, int verbosity)
{
	log_prog = prog;
	log_level = verbosity;
}

int log_verbosity(void)
{
	return log_level;
}

void wlog_stderr(int on)
{
	log_to_stderr = on;
}

int wlog_open(const wchar_t *path)
{
	InitOnceExecuteOnce(&log_once, lock_init, NULL, NULL);
	if (!path)
		return 0;
	log_file = CreateFileW(path, FILE_APPEND_DATA,
			       FILE_SHARE_READ | FILE_SHARE_WRITE |
			       FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
			       FILE_ATTRIBUTE_NORMAL, NULL);
	return log_file == INVALID_HANDLE_VALUE ? -1 : 0;
}

void wlog_close(void)
{
	if (log_file != INVALID_HANDLE_VALUE)
		CloseHandle(log_file);
	log_file = INVALID_HANDLE_VALUE;
}

const char *wlog_errtext(DWORD err, char *buf, size_t len)
{
	DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
				 FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0,
				 buf, (DWORD)len, NULL);

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '.'))
		n--;
	if (n == 0)
		snprintf(buf, len, "error");
	else
		buf[n] = '\0';
	return buf;
}

static void log_emit(const char *tag, const char *suffix, const char *fmt,
		     va_list ap)
{
	char line[LOG_LINE_MAX];
	SYSTEMTIME t;
	size_t n;
	DWORD w;
	int r;

	InitOnceExecuteOnce(&log_once, lock_init, NULL, NULL);
	GetLocalTime(&t);
	r = snprintf(line, sizeof(line), "%04u-%02u-%02u %02u:%02u:%02u %s: %s",
		     t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
		     log_prog, tag);
	n = r < 0 ? 0 : (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (suffix && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, "%s", suffix);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	/* Nothing the app or dom0 said may start a new line in the log. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[n++] = '\r';
	line[n++] = '\n';
	EnterCriticalSection(&log_lock);
	if (log_file != INVALID_HANDLE_VALUE)
		WriteFile(log_file, line, (DWORD)n, &w, NULL);
	if (log_to_stderr)
		WriteFile(GetStdHandle(STD_ERROR_HANDLE), line, (DWORD)n, &w,
			  NULL);
	LeaveCriticalSection(&log_lock);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_emit("debug: ", NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("", NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	char suffix[160];
	int err = errno;
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(err));
	va_start(ap, fmt);
	log_emit("warning: ", suffix, fmt, ap);
	va_end(ap);
	errno = err;
}

void log_winerr(const char *fmt, ...)
{
	DWORD err = GetLastError();
	char text[160], suffix[200];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s (error %lu)",
		 wlog_errtext(err, text, sizeof(text)), err);
	va_start(ap, fmt);
	log_emit("warning: ", suffix, fmt, ap);
	va_end(ap);
	SetLastError(err);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("warning: ", NULL, fmt, ap);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("error: ", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
