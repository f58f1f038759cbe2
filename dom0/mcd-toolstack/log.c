/*
 * log.c - stderr in the foreground, syslog as a daemon; see log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static char log_progname[64];
static int log_to_syslog;
static int log_verbose;

void
log_init(const char *progname, int to_syslog, int verbosity)
{
	const char *base;

	base = progname ? strrchr(progname, '/') : NULL;
	base = base ? base + 1 : progname;
	if (base == NULL || *base == '\0')
		base = program_invocation_short_name;
	snprintf(log_progname, sizeof(log_progname), "%s", base);
	log_verbose = verbosity < 0 ? 0 : verbosity;
	log_to_syslog = to_syslog;
	if (to_syslog)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_verbosity(void)
{
	return log_verbose;
}

static void (*log_sink)(int pri, const char *msg);

void
log_set_sink(void (*sink)(int pri, const char *msg))
{
	log_sink = sink;
}

/* Format, optionally append strerror(errnum), and emit as one write. */
static void
log_emit(int pri, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
log_emit(int pri, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], ebuf[128];
	const char *name;
	size_t len;
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	if (errnum >= 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror_r(errnum, ebuf, sizeof(ebuf)));
	}
	if (log_sink) {
		log_sink(pri, msg);
		return;
	}
	if (log_to_syslog) {
		syslog(pri, "%s", msg);
		return;
	}
	name = log_progname[0] ? log_progname : program_invocation_short_name;
	/* One fprintf per line: stdio locks the stream for the call. */
	fprintf(stderr, "%s: %s\n", name, msg);
}

#define LOG_BODY(pri, errnum) do {					\
	int saved_errno = errno;					\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_emit((pri), (errnum), fmt, ap);				\
	va_end(ap);							\
	errno = saved_errno;						\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, saved_errno);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, -1);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, -1);
}

void
log_debug(const char *fmt, ...)
{
	if (log_verbose < 1)
		return;
	LOG_BODY(LOG_DEBUG, -1);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, saved_errno);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, -1);
	exit(1);
}

/* --- lines a guest can cause ------------------------------------------ */

static long log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void
log_limit_init(struct log_limit *l, const char *label)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->label, sizeof(l->label), "%s", label ? label : "?");
	l->tokens = LOG_LIMIT_BURST;
	l->refill_ms = log_now_ms();
	l->ready = 1;
}

void
log_limit_flush(struct log_limit *l)
{
	int saved_errno = errno;

	if (l == NULL || !l->ready || l->dropped == 0)
		return;
	log_warnx("%s: %lu log lines dropped", l->label, l->dropped);
	l->dropped = 0;
	errno = saved_errno;
}

/* 1 if a line may be written now (after the note of what was dropped). */
static int
log_limit_take(struct log_limit *l)
{
	long now;

	if (l == NULL)
		return 1;
	if (!l->ready)
		log_limit_init(l, NULL);
	now = log_now_ms();
	if (now - l->refill_ms >= 1000) {
		long add = (now - l->refill_ms) / 1000;

		l->tokens = add >= LOG_LIMIT_BURST || l->tokens + add >= LOG_LIMIT_BURST
		    ? LOG_LIMIT_BURST : l->tokens + (unsigned)add;
		l->refill_ms += add * 1000;
	}
	if (l->tokens == 0) {
		l->dropped++;
		return 0;
	}
	l->tokens--;
	log_limit_flush(l);
	return 1;
}

void
log_limit_warnx(struct log_limit *l, const char *fmt, ...)
{
	if (!log_limit_take(l))
		return;
	LOG_BODY(LOG_WARNING, -1);
}

void
log_limit_info(struct log_limit *l, const char *fmt, ...)
{
	if (!log_limit_take(l))
		return;
	LOG_BODY(LOG_INFO, -1);
}

/* --- libxl's logger ---------------------------------------------------- */

static xentoollog_level
log_xtl_level(void)
{
	if (log_verbose >= 2)
		return XTL_DEBUG;
	if (log_verbose == 1)
		return XTL_INFO;
	return XTL_WARN;
}

/* The syslog flavour: the vtable first, so a pointer to it is the logger. */
struct log_xtl_syslog {
	xentoollog_logger vtable;
	xentoollog_level min_level;
};

static int
log_xtl_priority(xentoollog_level level)
{
	switch (level) {
	case XTL_CRITICAL:
		return LOG_CRIT;
	case XTL_ERROR:
		return LOG_ERR;
	case XTL_WARN:
		return LOG_WARNING;
	case XTL_NOTICE:
		return LOG_NOTICE;
	case XTL_INFO:
	case XTL_PROGRESS:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

static void
log_xtl_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));

static void
log_xtl_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *format, va_list al)
{
	struct log_xtl_syslog *s = (struct log_xtl_syslog *)lg;
	char msg[LOG_MSG_MAX], ebuf[128];
	size_t len;
	int saved_errno = errno;

	if (level < s->min_level)
		return;
	len = 0;
	if (context) {
		snprintf(msg, sizeof(msg), "%s: ", context);
		len = strlen(msg);
	}
	if (vsnprintf(msg + len, sizeof(msg) - len, format, al) < 0)
		snprintf(msg + len, sizeof(msg) - len, "(unformattable)");
	if (errnoval >= 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror_r(errnoval, ebuf, sizeof(ebuf)));
	}
	syslog(log_xtl_priority(level), "%s: %s", xtl_level_to_string(level),
	    msg);
	errno = saved_errno;
}

static void
log_xtl_progress(xentoollog_logger *lg, const char *context,
    const char *doing_what, int percent, unsigned long done,
    unsigned long total)
{
	/* Progress bars are noise in syslog. */
	(void)lg; (void)context; (void)doing_what;
	(void)percent; (void)done; (void)total;
}

static void
log_xtl_destroy(xentoollog_logger *lg)
{
	free(lg);
}

xentoollog_logger *
log_xtl(void)
{
	struct log_xtl_syslog *s;
	xentoollog_logger_stdiostream *st;

	if (!log_to_syslog) {
		st = xtl_createlogger_stdiostream(stderr, log_xtl_level(),
		    XTL_STDIOSTREAM_HIDE_PROGRESS);
		return (xentoollog_logger *)st;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->vtable.vmessage = log_xtl_vmessage;
	s->vtable.progress = log_xtl_progress;
	s->vtable.destroy = log_xtl_destroy;
	s->min_level = log_xtl_level();
	return &s->vtable;
}

void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
