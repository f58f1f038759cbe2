/*
 * log.h - the agent's one logging module.
 *
 * Every event is one line on stderr, which is the guest console (and so
 * dom0's xenconsoled log).  A line is formatted first and written with a
 * single write(2), so it never interleaves with the app's own output.
 */
#ifndef MCD_AGENT_LOG_H
#define MCD_AGENT_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* prog prefixes every line; verbosity > 0 enables log_debug. */
void log_init(const char *prog, int verbosity);
int log_verbosity(void);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Log and exit(1); only for start-up errors, never for anything dom0 does. */
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif /* MCD_AGENT_LOG_H */
