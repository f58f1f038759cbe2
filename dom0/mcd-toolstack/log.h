/*
 * log.h - the one logging module of mcd-toolstack.
 *
 * In the foreground every message goes to stderr as "progname: message";
 * once daemonized (to_syslog != 0) it goes to syslog(3) under LOG_DAEMON.
 * All functions may be called from any thread: each message is formatted
 * into one buffer and written with a single call, so lines never interleave.
 * None of them changes errno.
 *
 * Before log_init() is called, messages go to stderr with the program's
 * short name and verbosity 0.
 */
#ifndef MCD_LOG_H
#define MCD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <xentoollog.h>

/* Longest message kept; longer ones are cut (never overflow). */
#define LOG_MSG_MAX 1024

/*
 * Set the program name (copied), the destination and the verbosity.
 * verbosity 0: warnings and info; 1: plus debug; each further step only
 * lowers libxl's level (see log_xtl).  Opens syslog when to_syslog.
 */
void log_init(const char *progname, int to_syslog, int verbosity);

/* Current verbosity as set by log_init (0 before). */
int log_verbosity(void);

/* "message: strerror(errno)" at warning level. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "message" at warning level. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only printed when verbosity >= 1. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like log_warn / log_warnx at error level, then exit(1). */
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * Write a one-line error message into err (errlen bytes, cut if it must
 * be); nothing when err is NULL or errlen 0.  The modules' way of handing
 * a reason back to their caller.
 */
void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A new xentoollog logger for libxl_ctx_alloc().  Its minimum level is
 * XTL_WARN at verbosity 0, XTL_INFO at 1 and XTL_DEBUG at 2 or more.
 * In the foreground it is a stdiostream logger on stderr (progress bars
 * hidden); when logging to syslog it forwards each message to syslog, since
 * a daemon's stderr is /dev/null.  The caller owns it: free it with
 * xtl_logger_destroy() after libxl_ctx_free().  NULL if out of memory.
 */
xentoollog_logger *log_xtl(void);

#endif /* MCD_LOG_H */
