/*
 * conf.c - strict parser for the agent's configuration file (see conf.h).
 */
#include "conf.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void conf_defaults(struct conf *c)
{
	c->create_users = 0;
	c->x_display = 0;
	c->uid_min = 0;
}

struct parser {
	const char *name;
	unsigned line;
	int errors;
	char *first_err;
	size_t errlen;
};

static void conf_error(struct parser *p, const char *fmt, ...)
	LOG_PRINTF(2, 3);
static void conf_error(struct parser *p, const char *fmt, ...)
{
	char msg[CONF_LINE_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%u: %s", p->name, p->line, msg);
	if (p->errors == 0 && p->first_err && p->errlen)
		snprintf(p->first_err, p->errlen, "%s:%u: %s", p->name,
			 p->line, msg);
	p->errors++;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Strip blanks at both ends, in place. */
static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Decimal digits only, no sign or leading zero, within [0, max]. */
static int parse_uint(struct parser *p, const char *key, const char *v,
		      int max, int *out)
{
	long n = 0;
	size_t len = strlen(v);

	if (len == 0 || len > 9 || (len > 1 && v[0] == '0'))
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		n = n * 10 + (v[i] - '0');
	}
	if (n > max)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	conf_error(p, "%s must be a number from 0 to %d, not '%s'", key, max,
		   v);
	return -1;
}

/* "0" or "1" only: a config value is never guessed at. */
static int parse_bool(struct parser *p, const char *key, const char *v,
		      int *out)
{
	if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
		*out = v[0] == '1';
		return 0;
	}
	conf_error(p, "%s must be 0 or 1, not '%s'", key, v);
	return -1;
}

static void parse_line(struct parser *p, char *line, struct conf *c,
		       unsigned *seen)
{
	char *eq, *key, *val;

	key = trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return;
	eq = strchr(key, '=');
	if (!eq) {
		conf_error(p, "expected key=value");
		return;
	}
	*eq = '\0';
	val = trim(eq + 1);
	key = trim(key);
	if (strcmp(key, "create_users") == 0) {
		if (*seen & 1u) {
			conf_error(p, "create_users given twice");
			return;
		}
		*seen |= 1u;
		parse_bool(p, key, val, &c->create_users);
		return;
	}
	if (strcmp(key, "x_display") == 0) {
		if (*seen & 2u) {
			conf_error(p, "x_display given twice");
			return;
		}
		*seen |= 2u;
		parse_uint(p, key, val, CONF_X_DISPLAY_MAX, &c->x_display);
		return;
	}
	if (strcmp(key, "uid_min") == 0) {
		if (*seen & 4u) {
			conf_error(p, "uid_min given twice");
			return;
		}
		*seen |= 4u;
		/* 0 reads as unset, and uid 0 is refused whatever this says. */
		if (parse_uint(p, key, val, CONF_UID_MIN_MAX, &c->uid_min) == 0 &&
		    c->uid_min == 0) {
			conf_error(p, "uid_min must be from 1 to %d",
				   CONF_UID_MIN_MAX);
		}
		return;
	}
	conf_error(p, "unknown key '%s'", key);
}

int conf_parse(const char *name, FILE *f, struct conf *c, char *first_err,
	       size_t errlen)
{
	struct parser p = { name, 0, 0, first_err, errlen };
	struct conf tmp = *c;
	unsigned seen = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;
		int bad = 0;

		p.line++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > CONF_LINE_MAX) {
			conf_error(&p, "line longer than %d bytes", CONF_LINE_MAX);
			continue;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)line[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				bad = 1;
				break;
			}
		}
		if (bad) {
			conf_error(&p, "control character in line");
			continue;
		}
		parse_line(&p, line, &tmp, &seen);
	}
	if (ferror(f)) {
		conf_error(&p, "read error: %s", strerror(errno));
	}
	free(line);
	if (p.errors == 0)
		*c = tmp;
	return p.errors;
}

int conf_load(const char *path, int missing_ok, struct conf *c)
{
	FILE *f;
	int errors;

	conf_defaults(c);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && missing_ok) {
			log_info("no %s, using defaults (create_users=0)", path);
			return 0;
		}
		log_warn("cannot open %s", path);
		return -1;
	}
	errors = conf_parse(path, f, c, NULL, 0);
	fclose(f);
	if (errors) {
		log_warnx("%s: %d error%s, refusing the configuration", path,
			  errors, errors == 1 ? "" : "s");
		return -1;
	}
	return 0;
}
