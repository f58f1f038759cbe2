/*
 * wlog.h - the Windows agent's logging: the shared log.h interface
 * (log_info, log_warnx, ...; agent.c uses it too) plus Windows errors.
 *
 * Every event is one line "YYYY-MM-DD hh:mm:ss mcd-agent: ...", appended
 * with a single write to the log file (default
 * C:\ProgramData\MCD\mcd-agent.log) and, when the agent runs in a console,
 * also written to stderr.  Lines from the service thread and the control
 * handler never interleave.
 */
#ifndef MCD_WIN_LOG_H
#define MCD_WIN_LOG_H

#include "../linux-agent/log.h"

#include <windows.h>

/* Open (append) the log file; NULL for stderr only.  0, or -1. */
int wlog_open(const wchar_t *path);
void wlog_close(void);
/* Also copy every line to stderr (console mode). */
void wlog_stderr(int on);
/* Appends ": <text of GetLastError()> (error N)". */
void log_winerr(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Text of a Windows error code, without the trailing newline. */
const char *wlog_errtext(DWORD err, char *buf, size_t len);

#endif /* MCD_WIN_LOG_H */
