/*
 * conf.h - the agent's configuration file (default /etc/mcd/agent.conf).
 *
 * Format: one "key=value" per line, blanks allowed around key and value,
 * '#' starts a comment line, empty lines are ignored.  Keys:
 *   create_users=0|1   create an unknown user named in a LAUNCH (default 0)
 *   x_display=N        the local X display relay mode serves, 0..999
 *                      (default 0: /tmp/.X11-unix/X0, DISPLAY=:0)
 *   uid_min=N          the lowest uid an app may run as, 1..60000
 *                      (default 0: the guest's /etc/login.defs UID_MIN,
 *                      else 1000)
 * Parsing is strict: an unknown key, a repeated key, a bad value, a line
 * over CONF_LINE_MAX bytes or a control byte is an error.  Every error is
 * logged as "file:line: reason" and the file is refused as a whole.
 */
#ifndef MCD_AGENT_CONF_H
#define MCD_AGENT_CONF_H

#include <stddef.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH "/etc/mcd/agent.conf"
#define CONF_LINE_MAX 256

struct conf {
	int create_users;
	int x_display;
	int uid_min;     /* 0: not set */
};

#define CONF_UID_MIN_MAX 60000

#define CONF_X_DISPLAY_MAX 999

void conf_defaults(struct conf *c);

/*
 * Parse an open file; name is used in messages.  Returns the number of
 * errors (0 on success; *c is only changed then).  The first error message
 * is copied to first_err when it is not NULL.
 */
int conf_parse(const char *name, FILE *f, struct conf *c, char *first_err,
	       size_t errlen);

/*
 * Load path into *c (defaults first).  A missing file is fine when
 * missing_ok (the defaults apply); returns 0, or -1 after logging why.
 */
int conf_load(const char *path, int missing_ok, struct conf *c);

#endif /* MCD_AGENT_CONF_H */
