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

/*
 * Send every message to sink instead (NULL: back to stderr/syslog).  The
 * session worker hands its lines to the service this way: it may not
 * write the service's log itself.
 */
void log_set_sink(void (*sink)(int pri, const char *msg));

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
 * Lines a guest can cause, limited per session: a token bucket lets a
 * burst of LOG_LIMIT_BURST lines through, then at most one a second.
 * Lines dropped meanwhile are counted and reported in one line,
 * "LABEL: N log lines dropped", before the next line that is let through
 * (or by log_limit_flush, when the session ends).  Not thread-safe: one
 * limiter belongs to the loop that owns the session.
 */
#define LOG_LIMIT_BURST 20
#define LOG_LIMIT_LABEL_MAX 48

struct log_limit {
	char label[LOG_LIMIT_LABEL_MAX]; /* "session SID" */
	unsigned tokens;
	long refill_ms;        /* monotonic ms of the last token added */
	unsigned long dropped;
	int ready;             /* initialised (a zeroed struct is not) */
};

/* label names whose lines these are, e.g. "session 0123456789abcdef". */
void log_limit_init(struct log_limit *l, const char *label);
/* log_warnx / log_info through the limiter l (NULL: not limited). */
void log_limit_warnx(struct log_limit *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_limit_info(struct log_limit *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report lines dropped so far, if any. */
void log_limit_flush(struct log_limit *l);

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
