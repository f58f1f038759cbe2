/*
 * log.h - the one logging module of mcd-broker.
 *
 * Messages go to stderr as "mcd-broker: message" until log_open() names a
 * file (the server's --log) or syslog (a detached server without --log).
 * Each message is formatted into one buffer and written with one call, so
 * lines of the per-connection children never interleave.  None of these
 * functions changes errno.  Nothing secret is ever passed to them: callers
 * log users, requests and results, never a password or a token.
 */
#ifndef BROKER_LOG_H
#define BROKER_LOG_H

#include <stddef.h>

#define LOG_MSG_MAX 1024

/* path: append to this file; NULL with to_syslog: syslog; else stderr.
 * 0, or -1 (errno set) when the file cannot be opened. */
int log_open(const char *path, int to_syslog);

/* Debug lines only when verbose (the CLI's -v). */
void log_set_verbose(int verbose);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A one-line reason into err (cut to errlen); nothing when err is NULL. */
void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* BROKER_LOG_H */
