/*
 * conf.c - mcd-client's configuration file (see conf.h).
 */
#include "conf.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE_MAX 65536 /* a config this size is a mistake */
#define CONF_LINE_MAX 4096

static int copy(char *dst, size_t dstlen, const char *src)
{
	return snprintf(dst, dstlen, "%s", src) < (int)dstlen ? 0 : -1;
}

int conf_path(const char *explicit_path, char *out, size_t outlen,
	      char *err, size_t errlen)
{
	const char *env = getenv(CONF_ENV), *home = getenv("HOME");

	if (explicit_path && *explicit_path)
		env = explicit_path;
	if (env && *env) {
		if (copy(out, outlen, env) < 0)
			goto toolong;
		return 0;
	}
	if (!home || *home != '/') {
		client_seterr(err, errlen, "no configuration: give --config FILE or "
		       "set $" CONF_ENV " ($HOME is not set)");
		return -1;
	}
	if (snprintf(out, outlen, "%s/.config/mcd/client.conf", home) >=
	    (int)outlen)
		goto toolong;
	return 0;
toolong:
	client_seterr(err, errlen, "the configuration file's path is too long");
	return -1;
}

/* A host name or address: letters, digits, '.', '-', '_', and for an IPv6
 * address in brackets, ':' and hex digits. */
static int valid_host(const char *s, size_t len)
{
	if (len == 0 || len > CONF_HOST_MAX)
		return 0;
	if (s[0] == '[')
		return len > 2 && s[len - 1] == ']' &&
		       strspn(s + 1, "0123456789abcdefABCDEF:.") == len - 2;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
			return 0;
	return 1;
}

/* Digits only, value in lo..hi. */
static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s) || strlen(s) > 9)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int conf_valid_address(const char *s)
{
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || strlen(s) > CONF_ADDRESS_MAX)
		return 0;
	return valid_host(s, (size_t)(colon - s)) &&
	       parse_num(colon + 1, 1, 65535, &port) == 0;
}

int conf_display_number(const char *display)
{
	const char *colon = strrchr(display, ':');
	char num[16];
	size_t n;
	long v;

	if (!colon || strlen(display) > CONF_DISPLAY_MAX ||
	    !valid_host(display, (size_t)(colon - display)))
		return -1;
	n = strcspn(colon + 1, ".");
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, colon + 1, n);
	num[n] = '\0';
	if (parse_num(num, 0, 65535, &v) < 0)
		return -1;
	/* An optional screen number after the dot. */
	if (colon[1 + n] == '.' && parse_num(colon + 2 + n, 0, 255, &(long){0}) < 0)
		return -1;
	return (int)v;
}

int conf_valid_display(const char *s)
{
	return conf_display_number(s) >= 0;
}

/* ---- defaults ---- */

static int default_paths(struct conf *c, char *err, size_t errlen)
{
	const char *home = getenv("HOME"), *xa = getenv("XAUTHORITY");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	int n;

	if (!c->xauthority[0]) {
		if (xa && *xa == '/')
			n = snprintf(c->xauthority, sizeof(c->xauthority), "%s", xa);
		else if (home && *home == '/')
			n = snprintf(c->xauthority, sizeof(c->xauthority),
				     "%s/.Xauthority", home);
		else
			n = 0;
		if (n >= (int)sizeof(c->xauthority))
			goto toolong;
	}
	if (!c->state_dir[0]) {
		if (rt && *rt == '/')
			n = snprintf(c->state_dir, sizeof(c->state_dir),
				     "%s/mcd", rt);
		else if (home && *home == '/')
			n = snprintf(c->state_dir, sizeof(c->state_dir),
				     "%s/.cache/mcd", home);
		else {
			client_seterr(err, errlen, "%s: no state_dir, and neither "
			       "$XDG_RUNTIME_DIR nor $HOME is set", c->path);
			return -1;
		}
		if (n >= (int)sizeof(c->state_dir))
			goto toolong;
	}
	return 0;
toolong:
	client_seterr(err, errlen, "%s: a default path is too long", c->path);
	return -1;
}

/* server_name defaults to the server's host (brackets off an IPv6 one). */
static void default_server_name(struct conf *c)
{
	const char *s = c->server;
	size_t len = (size_t)(strrchr(s, ':') - s);

	if (c->server_name[0])
		return;
	if (s[0] == '[') {
		s++;
		len -= 2;
	}
	snprintf(c->server_name, sizeof(c->server_name), "%.*s", (int)len, s);
}

/* ---- keys ---- */

enum key_kind { K_ADDRESS, K_HOST, K_PATH, K_DISPLAY, K_MS };

struct key {
	const char *name;
	enum key_kind kind;
	size_t off, size;
	const char *what; /* for messages: what a good value looks like */
};

#define STR_KEY(n, kind, field, what) \
	{ n, kind, offsetof(struct conf, field), \
	  sizeof(((struct conf *)0)->field), what }

static const struct key keys[] = {
	STR_KEY("server", K_ADDRESS, server, "HOST:PORT"),
	STR_KEY("server_name", K_HOST, server_name, "a host name"),
	STR_KEY("ca", K_PATH, ca, "an absolute path"),
	STR_KEY("display", K_DISPLAY, display, "HOST:N or HOST:N.M"),
	STR_KEY("xauthority", K_PATH, xauthority, "an absolute path"),
	{ "load_timeout_ms", K_MS, offsetof(struct conf, load_timeout_ms),
	  sizeof(int), "milliseconds, 1..600000" },
	STR_KEY("state_dir", K_PATH, state_dir, "an absolute path"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int valid_value(const struct key *k, const char *v)
{
	switch (k->kind) {
	case K_ADDRESS: return conf_valid_address(v);
	case K_HOST: return valid_host(v, strlen(v)) && v[0] != '[';
	case K_PATH: return v[0] == '/' && strlen(v) < k->size;
	case K_DISPLAY: return conf_valid_display(v);
	case K_MS: return parse_num(v, 1, CONF_LOAD_TIMEOUT_MAX, &(long){0}) == 0;
	}
	return 0;
}

static void set_value(struct conf *c, const struct key *k, const char *v)
{
	char *field = (char *)c + k->off;
	long n;

	if (k->kind == K_MS) {
		parse_num(v, 1, CONF_LOAD_TIMEOUT_MAX, &n);
		*(int *)(void *)field = (int)n;
	} else {
		snprintf(field, k->size, "%s", v);
	}
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One line: blank, a comment, or key = value.  seen marks keys given. */
static int parse_line(struct conf *c, char *line, unsigned lineno,
		      unsigned *seen, char *err, size_t errlen)
{
	char *eq, *key, *val;
	size_t i;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		client_seterr(err, errlen, "%s:%u: expected 'key = value'", c->path,
		       lineno);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	for (i = 0; i < NKEYS && strcmp(keys[i].name, key); i++)
		;
	if (i == NKEYS) {
		client_seterr(err, errlen, "%s:%u: unknown key '%.64s'", c->path,
		       lineno, key);
		return -1;
	}
	if (*seen & (1u << i)) {
		client_seterr(err, errlen, "%s:%u: %s given twice", c->path, lineno, key);
		return -1;
	}
	if (!valid_value(&keys[i], val)) {
		client_seterr(err, errlen, "%s:%u: bad value for %s: '%.128s' (%s)",
		       c->path, lineno, key, val, keys[i].what);
		return -1;
	}
	*seen |= 1u << i;
	set_value(c, &keys[i], val);
	return 0;
}

int conf_parse(struct conf *c, const char *path, const char *text,
	       char *err, size_t errlen)
{
	char line[CONF_LINE_MAX];
	unsigned lineno = 0, seen = 0;
	const char *p = text;

	memset(c, 0, sizeof(*c));
	c->load_timeout_ms = CONF_LOAD_TIMEOUT_DEFAULT;
	if (copy(c->path, sizeof(c->path), path) < 0) {
		client_seterr(err, errlen, "the configuration file's path is too long");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");

		lineno++;
		if (n >= sizeof(line)) {
			client_seterr(err, errlen, "%s:%u: line too long", path, lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (parse_line(c, line, lineno, &seen, err, errlen) < 0)
			return -1;
		p += n + (p[n] == '\n');
	}
	if (!c->server[0] || !c->ca[0]) {
		client_seterr(err, errlen, "%s: missing %s", path,
		       !c->server[0] ? "server" : "ca");
		return -1;
	}
	default_server_name(c);
	return default_paths(c, err, errlen);
}

/* The whole file, NUL-terminated, in buf. */
static int read_file(const char *path, char *buf, size_t buflen,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0) {
		client_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf + got, buflen - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (n < 0 || got == buflen - 1) {
		client_seterr(err, errlen, "%s: %s", path,
		       n < 0 ? strerror(errno) : "file too large");
		return -1;
	}
	buf[got] = '\0';
	if (strlen(buf) != got) {
		client_seterr(err, errlen, "%s: contains a NUL byte", path);
		return -1;
	}
	return 0;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char *buf = malloc(CONF_FILE_MAX);
	int rc;

	if (!buf) {
		client_seterr(err, errlen, "out of memory");
		return -1;
	}
	rc = read_file(path, buf, CONF_FILE_MAX, err, errlen);
	if (rc == 0)
		rc = conf_parse(c, path, buf, err, errlen);
	free(buf);
	return rc;
}
