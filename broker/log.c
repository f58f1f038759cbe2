/*
 * log.c - stderr, a file or syslog; see log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = -1;      /* -1: stderr */
static int log_syslog;
static int log_verbose;

int
log_open(const char *path, int to_syslog)
{
	int fd;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0)
			return -1;
		if (log_fd >= 0)
			close(log_fd);
		log_fd = fd;
		return 0;
	}
	if (to_syslog) {
		openlog("mcd-broker", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
	}
	return 0;
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* A file gets a timestamp and the pid (children share it); stderr does
 * not, as a CLI's errors are read by people. */
static size_t
log_prefix(char *buf, size_t len)
{
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (log_fd < 0)
		return (size_t)snprintf(buf, len, "mcd-broker: ");
	gmtime_r(&now, &tm);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ mcd-broker[%d]: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)getpid());
	return n < 0 ? 0 : (size_t)n;
}

static void
log_emit(int pri, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
log_emit(int pri, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], ebuf[128];
	size_t pre, len;
	ssize_t w;

	pre = log_syslog && log_fd < 0 ? 0 : log_prefix(msg, sizeof(msg));
	if (pre >= sizeof(msg))
		pre = 0;
	if (vsnprintf(msg + pre, sizeof(msg) - pre, fmt, ap) < 0)
		snprintf(msg + pre, sizeof(msg) - pre, "(unformattable message)");
	len = strlen(msg);
	if (errnum >= 0 && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ": %s",
			 strerror_r(errnum, ebuf, sizeof(ebuf)));
	if (log_syslog && log_fd < 0) {
		syslog(pri, "%s", msg);
		return;
	}
	len = strlen(msg);
	if (len == sizeof(msg) - 1)
		len--;
	msg[len++] = '\n';
	w = write(log_fd >= 0 ? log_fd : STDERR_FILENO, msg, len);
	(void)w;
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
	if (!log_verbose)
		return;
	LOG_BODY(LOG_DEBUG, -1);
}

void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
