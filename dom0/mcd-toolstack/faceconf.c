/*
 * faceconf.c - the face's configuration file (see faceconf.h) and the
 * ticket -> CTL_LAUNCH translation.
 */
#include "faceconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "mcd_ticket.h"

#define LINE_MAX_LEN 1024

/* What the parser knows while it reads one file. */
struct parse {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	unsigned nerr;
	unsigned seen;  /* bit per key: each but share at most once */
};

static void problem(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct parse *p, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The first problem is the one reported; the rest are counted. */
	if (p->nerr++ == 0)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->path, p->line, why);
}

static int copy(char *dst, size_t cap, const char *src)
{
	return (size_t)snprintf(dst, cap, "%s", src) < cap ? 0 : -1;
}

static int number(const char *v, unsigned long lo, unsigned long hi,
		  unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || end == v || v[0] == '-' || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* A pool name, as the site protocol spells them: [a-z0-9][a-z0-9.-]*. */
static int valid_pool(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FACE_POOL_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

/* ADDR:PORT or [V6ADDR]:PORT. */
static int set_listen(struct face_conf *c, const char *v)
{
	const char *colon = strrchr(v, ':');
	size_t hl;

	if (!colon || colon == v)
		return -1;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			return -1;
		v++;
		hl -= 2;
	} else if (memchr(v, ':', hl)) {
		return -1; /* a v6 address needs its brackets */
	}
	if (hl >= sizeof(c->listen_host) || memchr(v, '[', hl) ||
	    memchr(v, ']', hl))
		return -1;
	memcpy(c->listen_host, v, hl);
	c->listen_host[hl] = '\0';
	return number(colon + 1, 1, 65535, &c->listen_port);
}

/* A secret from the first line of a file only root may read. */
static int read_password(const char *path, char *out, size_t outlen,
			 char *why, size_t whylen)
{
	char buf[MCD_MAX_SECRET_LEN + 3];
	struct stat st;
	size_t n;
	FILE *f = fopen(path, "re");
	int rc = -1;

	if (!f) {
		snprintf(why, whylen, "password file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & S_IROTH)) {
		snprintf(why, whylen, "password file %s may be read by anyone", path);
		goto out;
	}
	if (!fgets(buf, sizeof(buf), f)) {
		snprintf(why, whylen, "password file %s is empty", path);
		goto out;
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 || n >= outlen) {
		snprintf(why, whylen, "password file %s: 1..%d bytes on its first line",
			 path, MCD_MAX_SECRET_LEN);
		goto out;
	}
	memcpy(out, buf, n + 1);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	fclose(f);
	return rc;
}

/* {user} is the one placeholder: any other brace is a typo. */
static int placeholders_ok(const char *s)
{
	for (const char *b = strchr(s, '{'); b; b = strchr(b + 1, '{'))
		if (strncmp(b, FACE_USER_TOKEN, strlen(FACE_USER_TOKEN)))
			return 0;
	for (const char *b = strchr(s, '}'); b; b = strchr(b + 1, '}'))
		if (b - s < (long)strlen(FACE_USER_TOKEN) - 1 ||
		    strncmp(b - strlen(FACE_USER_TOKEN) + 1, FACE_USER_TOKEN,
			    strlen(FACE_USER_TOKEN)))
			return 0;
	return 1;
}

/* KIND SOURCE NAME [USER PASSWORD-FILE] */
static void set_share(struct parse *p, struct face_conf *c, char *v)
{
	char *f[6], *save = NULL, why[160];
	char src[MCD_MAX_SHARE_SRC + 1];
	struct face_share *sh;
	struct mcd_share chk;
	unsigned n = 0;

	if (c->nshares >= MCD_MAX_SHARES)
		return problem(p, "at most %d shares", MCD_MAX_SHARES);
	for (char *t = strtok_r(v, " \t", &save); t && n < 6;
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n != 3 && n != 5)
		return problem(p, "share: use KIND SOURCE NAME [USER PASSWORD-FILE]");
	sh = &c->share[c->nshares];
	if (copy(sh->kind, sizeof(sh->kind), f[0]) < 0 ||
	    copy(sh->source, sizeof(sh->source), f[1]) < 0 ||
	    copy(sh->name, sizeof(sh->name), f[2]) < 0 ||
	    (n == 5 && copy(sh->user, sizeof(sh->user), f[3]) < 0))
		return problem(p, "share: a field is too long");
	if (!placeholders_ok(sh->source))
		return problem(p, "share %s: the only placeholder is " FACE_USER_TOKEN,
			       sh->name);
	/* Checked as the agent will see it, for the longest user name. */
	if (faceconf_subst_user(sh->source, "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu",
				src, sizeof(src)) < 0)
		return problem(p, "share %s: source too long once {user} is replaced",
			       sh->name);
	chk = (struct mcd_share){ sh->kind, src, sh->name, sh->user,
				  n == 5 ? "x" : "" };
	if (!mcd_valid_share(&chk, why, sizeof(why)))
		return problem(p, "share %s: %s", sh->name, why);
	for (unsigned i = 0; i < c->nshares; i++)
		if (!strcmp(c->share[i].name, sh->name))
			return problem(p, "share name %s used twice", sh->name);
	if (n == 5 && read_password(f[4], sh->password, sizeof(sh->password),
				    why, sizeof(why)) < 0)
		return problem(p, "share %s: %s", sh->name, why);
	c->nshares++;
}

enum key_id { K_NAME, K_LEVEL, K_LISTEN, K_CERT, K_KEY, K_CA, K_TICKET_KEY,
	      K_MAXCONN, K_SHARE, K_VOLUME };

static const char *const key_names[] = {
	[K_NAME] = "name", [K_LEVEL] = "level", [K_LISTEN] = "listen",
	[K_CERT] = "cert", [K_KEY] = "key", [K_CA] = "ca",
	[K_TICKET_KEY] = "ticket_key", [K_MAXCONN] = "max_connections",
	[K_SHARE] = "share", [K_VOLUME] = "volume",
};
#define NKEYS (sizeof(key_names) / sizeof(key_names[0]))
#define REQUIRED ((1u << K_NAME) | (1u << K_LEVEL) | (1u << K_LISTEN) | \
		  (1u << K_CERT) | (1u << K_KEY) | (1u << K_TICKET_KEY))

static void set_path(struct parse *p, char *dst, const char *v)
{
	if (v[0] != '/')
		return problem(p, "give an absolute path");
	if (copy(dst, FACE_PATH_MAX, v) < 0)
		problem(p, "path too long");
}

static void set_key(struct parse *p, struct face_conf *c, enum key_id k,
		    char *v)
{
	switch (k) {
	case K_NAME:
		if (!valid_pool(v))
			return problem(p, "name: a pool name is [a-z0-9][a-z0-9.-], at most %d",
				       FACE_POOL_MAX);
		copy(c->name, sizeof(c->name), v);
		break;
	case K_LEVEL:
		if (number(v, 1, FACE_LEVEL_MAX, &c->level) < 0)
			return problem(p, "level: 1..%d", FACE_LEVEL_MAX);
		break;
	case K_LISTEN:
		if (set_listen(c, v) < 0)
			return problem(p, "listen: use ADDR:PORT or [ADDR]:PORT, port 1..65535");
		break;
	case K_CERT: set_path(p, c->cert, v); break;
	case K_KEY: set_path(p, c->key, v); break;
	case K_CA: set_path(p, c->ca, v); break;
	case K_TICKET_KEY: set_path(p, c->ticket_key, v); break;
	case K_MAXCONN:
		if (number(v, 1, FACE_CONN_MAX, &c->max_connections) < 0)
			return problem(p, "max_connections: 1..%d", FACE_CONN_MAX);
		break;
	case K_SHARE: set_share(p, c, v); break;
	case K_VOLUME:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return problem(p, "volume: yes or no");
		c->volume = !strcmp(v, "yes");
		break;
	}
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void parse_line(struct parse *p, struct face_conf *c, char *line)
{
	char *eq, *key, *val;
	size_t k;

	line = trim(line);
	if (!line[0] || line[0] == '#')
		return;
	eq = strchr(line, '=');
	if (!eq)
		return problem(p, "expected key = value");
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	for (k = 0; k < NKEYS; k++)
		if (!strcmp(key, key_names[k]))
			break;
	if (k == NKEYS)
		return problem(p, "unknown key '%.40s'", key);
	if (k != K_SHARE && (p->seen & (1u << k)))
		return problem(p, "%s given twice", key);
	p->seen |= 1u << k;
	if (!val[0])
		return problem(p, "%s: no value", key);
	set_key(p, c, (enum key_id)k, val);
}

static void parse_file(struct parse *p, struct face_conf *c, FILE *f)
{
	char line[LINE_MAX_LEN + 2];

	while (fgets(line, sizeof(line), f)) {
		p->line++;
		if (!strchr(line, '\n') && !feof(f)) {
			int ch;

			problem(p, "line longer than %d bytes", LINE_MAX_LEN);
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		parse_line(p, c, line);
	}
	explicit_bzero(line, sizeof(line));
}

int faceconf_load(const char *path, struct face_conf *c, char *err,
		  size_t errlen, unsigned *nerr)
{
	struct parse p = { .path = path, .err = err, .errlen = errlen };
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->max_connections = FACE_CONN_DEFAULT;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (nerr)
			*nerr = 1;
		return -1;
	}
	parse_file(&p, c, f);
	fclose(f);
	for (unsigned k = 0; k < NKEYS; k++)
		if ((REQUIRED & (1u << k)) && !(p.seen & (1u << k))) {
			p.line = 0;
			if (p.nerr++ == 0)
				snprintf(err, errlen, "%s: %s is required", path,
					 key_names[k]);
		}
	if (nerr)
		*nerr = p.nerr;
	if (p.nerr) {
		faceconf_wipe(c);
		return -1;
	}
	return 0;
}

void faceconf_wipe(struct face_conf *c)
{
	explicit_bzero(c, sizeof(*c));
}

int faceconf_subst_user(const char *src, const char *user, char *out,
			size_t outlen)
{
	size_t tl = strlen(FACE_USER_TOKEN), ul = strlen(user), o = 0;

	while (*src) {
		const char *piece = src;
		size_t n = 1;

		if (!strncmp(src, FACE_USER_TOKEN, tl)) {
			piece = user;
			n = ul;
			src += tl;
		} else {
			src++;
		}
		if (o + n >= outlen)
			return -1;
		memcpy(out + o, piece, n);
		o += n;
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/* ---- ticket -> CTL_LAUNCH ---- */

/* Builds m's strings one after the other in m->buf. */
struct msg_build {
	struct ctl_msg *m;
	size_t used;
	int failed;
};

static char *add_str(struct msg_build *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *add_str(struct msg_build *b, const char *fmt, ...)
{
	char *dst = b->m->buf + b->used;
	size_t room = sizeof(b->m->buf) - b->used;
	va_list ap;
	int n;

	if (b->failed || b->m->nstr >= CTL_MAX_STRS) {
		b->failed = 1;
		return NULL;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->failed = 1;
		return NULL;
	}
	b->m->str[b->m->nstr++] = dst;
	b->m->str[b->m->nstr] = NULL;
	b->used += (size_t)n + 1;
	return dst;
}

/* share=KIND|SOURCE|NAME|USER|PASSWORD with the user's own SOURCE. */
static void add_share(struct msg_build *b, const struct face_share *sh,
		      const char *user)
{
	char src[MCD_MAX_SHARE_SRC + 1];

	if (faceconf_subst_user(sh->source, user, src, sizeof(src)) < 0) {
		b->failed = 1;
		return;
	}
	add_str(b, "share=%s|%s|%s|%s|%s", sh->kind, src, sh->name, sh->user,
		sh->password);
}

int face_launch_msg(const struct mcd_ticket *t, const struct face_conf *c,
		    const char *cookie, uint32_t wait, struct ctl_msg *m,
		    char *err, size_t errlen)
{
	struct msg_build b = { .m = m };

	m->type = CTL_LAUNCH;
	m->nstr = 0;
	m->str[0] = NULL;
	/* The ticket was checked already; these guard what {user} and the
	 * CTL_LAUNCH's fixed positions rely on. */
	if (!t->user || !mcd_valid_user(t->user) || !t->template_name ||
	    !t->display || !t->program || t->program[0] != '/' ||
	    t->nargs > MCD_SITE_ARGS_MAX || wait > LAUNCH_WAIT_MAX) {
		snprintf(err, errlen, "ticket does not name a valid launch");
		return -1;
	}
	add_str(&b, "%s", t->template_name);
	add_str(&b, "%s", t->user);
	add_str(&b, "%s", t->display);
	add_str(&b, "%u", wait);
	if (cookie)
		add_str(&b, "xcookie=%s", cookie);
	if (c->volume)
		add_str(&b, "volume=yes");
	for (unsigned i = 0; i < c->nshares; i++)
		add_share(&b, &c->share[i], t->user);
	add_str(&b, "%s", t->program);
	for (unsigned i = 0; i < t->nargs; i++)
		add_str(&b, "%s", t->args[i]);
	if (b.failed) {
		explicit_bzero(m->buf, sizeof(m->buf));
		m->nstr = 0;
		m->str[0] = NULL;
		snprintf(err, errlen, "launch too long for the service");
		return -1;
	}
	return 0;
}
