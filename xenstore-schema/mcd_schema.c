/*
 * mcd_schema.c - MCD's XenStore layout as one table, and the checks that
 * hold a `xenstore-ls -p` listing to it (see mcd_schema.h, SCHEMA.md).
 *
 * The listing is parsed into nodes {path, value, permissions}, sorted by
 * path, then checked three ways: each node against the table, each session
 * as a whole (required keys, domain name), and with --domains each session
 * against the domains in /local/domain.  Values come partly from guests, so
 * a value is never printed raw: problems quote it escaped and cut short.
 */
#include "mcd_schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_proto.h"
#include "mcd_xs.h"

/* XenStore refuses absolute paths over 3072 bytes; allow some slack. */
#define PATH_LEN 4096
#define MAX_DEPTH 1024

/* ---- value formats ---- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal without sign or leading zero, at most max_digits digits, >= 1. */
static int decimal(const char *v, size_t max_digits, unsigned long long *out)
{
	unsigned long long n = 0;
	size_t i;

	if (v[0] == '0' || v[0] == '\0')
		return 0;
	for (i = 0; v[i]; i++) {
		if (!is_digit(v[i]) || i >= max_digits)
			return 0;
		n = n * 10 + (unsigned long long)(v[i] - '0');
	}
	*out = n;
	return 1;
}

/* Domain ids below DOMID_FIRST_RESERVED (0x7ff0); never dom0. */
static int valid_domid(const char *v)
{
	unsigned long long n;

	return decimal(v, 5, &n) && n < 0x7ff0;
}

static int valid_domain_name(const char *v)
{
	size_t pl = strlen(MCD_DOMAIN_PREFIX);

	return strncmp(v, MCD_DOMAIN_PREFIX, pl) == 0 &&
	       mcd_valid_session_id(v + pl);
}

/* The rule mcd-toolstack applies to template names. */
static int valid_template(const char *v)
{
	if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z') ||
	      is_digit(v[0])))
		return 0;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      is_digit(*p) || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return strstr(v, "..") == NULL;
}

static int valid_state(const char *v)
{
	return strcmp(v, MCD_SESSION_STATE_QUEUED) == 0 ||
	       strcmp(v, MCD_SESSION_STATE_CREATING) == 0 ||
	       strcmp(v, MCD_SESSION_STATE_CONNECTING) == 0 ||
	       strcmp(v, MCD_SESSION_STATE_RUNNING) == 0 ||
	       strcmp(v, MCD_SESSION_STATE_ENDING) == 0;
}

static int valid_created(const char *v)
{
	unsigned long long n;

	return decimal(v, 19, &n) && n <= INT64_MAX;
}

static int valid_pid(const char *v)
{
	unsigned long long n;

	return decimal(v, 10, &n) && n <= INT32_MAX;
}

static int valid_xmode(const char *v)
{
	return !strcmp(v, "relay") || !strcmp(v, "direct") || !strcmp(v, "none");
}

static int valid_port(const char *v)
{
	unsigned long long n;

	return decimal(v, 5, &n) && n >= 1 && n <= 65535;
}

static int valid_one(const char *v)
{
	return !strcmp(v, "1");
}

/* "code N" (0..255) or "signal N" (1..128), as in the EXITED message. */
static int valid_exit_status(const char *v)
{
	unsigned long long n;

	if (strcmp(v, "code 0") == 0)
		return 1;
	if (strncmp(v, "code ", 5) == 0)
		return decimal(v + 5, 3, &n) && n <= 255;
	if (strncmp(v, "signal ", 7) == 0)
		return decimal(v + 7, 3, &n) && n <= 128;
	return 0;
}

static int valid_printable(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return 0;
	return 1;
}

/* A volume's dom0 path: absolute, [A-Za-z0-9/._-], no "..". */
static int valid_volume(const char *v)
{
	if (v[0] != '/' || strstr(v, ".."))
		return 0;
	for (; *v; v++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/._-", *v))
			return 0;
	return 1;
}

/* The quoted argv: any bytes (xenstore-ls escapes them), not empty. */
static int valid_command(const char *v)
{
	return *v != '\0';
}

static int valid_u32(const char *v)
{
	unsigned long long n;

	return strcmp(v, "0") == 0 || (decimal(v, 10, &n) && n <= UINT32_MAX);
}

/* "<version> <os>": protocol version 1..65535 and a lowercase OS name. */
static int valid_agent(const char *v)
{
	const char *sp = strchr(v, ' ');
	char ver[8];
	unsigned long long n;

	if (!sp || (size_t)(sp - v) >= sizeof(ver))
		return 0;
	memcpy(ver, v, (size_t)(sp - v));
	ver[sp - v] = '\0';
	if (!decimal(ver, 5, &n) || n > 65535 || !sp[1])
		return 0;
	for (const char *p = sp + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || is_digit(*p)))
			return 0;
	return 1;
}

static int valid_pool_state(const char *v)
{
	return strcmp(v, MCD_POOL_STATE_BOOTING) == 0 ||
	       strcmp(v, MCD_POOL_STATE_READY) == 0;
}

static int valid_user(const char *v)
{
	return mcd_valid_user(v);
}

static int valid_display(const char *v)
{
	return mcd_valid_display(v);
}

/* ---- the tree ---- */

enum area {
	AREA_DOM0,  /* /mcd: written by the dom0 service only; perms n0 */
	AREA_GUEST, /* /local/domain/<domid>/data/mcd: the guest's, untrusted */
};

enum need {
	OPTIONAL,
	REQUIRED,          /* in every session */
	REQUIRED_BUT_NEW,  /* in every session past "queued" and "creating" */
};

struct rule {
	const char *pattern; /* '*' stands for exactly one path component */
	enum area area;
	enum need need;      /* for the keys of a session */
	size_t max;          /* longest value in bytes; 0: must be empty */
	int (*valid)(const char *v);
	const char *want;    /* what a valid value is, for messages */
};

#define SESS MCD_XS_SESSIONS "/*/"
#define POOL MCD_XS_POOL "/*/"
#define GUEST "/local/domain/*/"

/* Every node MCD may have in XenStore.  SCHEMA.md is this table in prose. */
static const struct rule tree[] = {
	{ MCD_XS_ROOT, AREA_DOM0, OPTIONAL, 0, NULL, "empty" },
	{ MCD_XS_SESSIONS, AREA_DOM0, OPTIONAL, 0, NULL, "empty" },
	{ MCD_XS_SESSIONS "/*", AREA_DOM0, OPTIONAL, 0, NULL, "empty" },
	{ SESS MCD_XS_K_DOMID, AREA_DOM0, REQUIRED_BUT_NEW, 5, valid_domid,
	  "a domain id 1..32751" },
	{ SESS MCD_XS_K_DOMNAME, AREA_DOM0, REQUIRED,
	  sizeof(MCD_DOMAIN_PREFIX) - 1 + MCD_SESSION_ID_LEN,
	  valid_domain_name, "mcd-<session id>" },
	{ SESS MCD_XS_K_TEMPLATE, AREA_DOM0, REQUIRED, MCD_XS_MAX_TEMPLATE,
	  valid_template, "a template name" },
	{ SESS MCD_XS_K_USER, AREA_DOM0, REQUIRED, MCD_MAX_USER_LEN, valid_user,
	  "a user name other than root" },
	{ SESS MCD_XS_K_DISPLAY, AREA_DOM0, REQUIRED, MCD_MAX_DISPLAY_LEN,
	  valid_display, "an X display [host]:N[.M]" },
	{ SESS MCD_XS_K_COMMAND, AREA_DOM0, REQUIRED, MCD_XS_MAX_COMMAND,
	  valid_command, "a quoted command line" },
	{ SESS MCD_XS_K_STATE, AREA_DOM0, REQUIRED, 10, valid_state,
	  "queued, creating, connecting, running or ending" },
	{ SESS MCD_XS_K_CREATED, AREA_DOM0, REQUIRED, 19, valid_created,
	  "unix seconds" },
	{ SESS MCD_XS_K_PID, AREA_DOM0, OPTIONAL, 10, valid_pid,
	  "a process id 1..2147483647" },
	{ SESS MCD_XS_K_EXIT, AREA_DOM0, OPTIONAL, 10, valid_exit_status,
	  "\"code N\" or \"signal N\"" },
	{ SESS MCD_XS_K_ERROR, AREA_DOM0, OPTIONAL, MCD_XS_MAX_ERROR,
	  valid_printable, "one line of printable ASCII" },
	{ SESS MCD_XS_K_VOLUME, AREA_DOM0, OPTIONAL, MCD_XS_MAX_VOLUME,
	  valid_volume, "an absolute path of [A-Za-z0-9/._-]" },
	{ SESS MCD_XS_K_XMODE, AREA_DOM0, OPTIONAL, 6, valid_xmode,
	  "relay, direct or none" },
	{ SESS MCD_XS_K_XTLS, AREA_DOM0, OPTIONAL, 5, valid_port,
	  "a TCP port 1..65535" },
	{ SESS MCD_XS_K_XREADY, AREA_DOM0, OPTIONAL, 1, valid_one,
	  "1 (READY came)" },

	{ MCD_XS_POOL, AREA_DOM0, OPTIONAL, 0, NULL, "empty" },
	{ MCD_XS_POOL "/*", AREA_DOM0, OPTIONAL, 0, NULL, "empty" },
	{ POOL MCD_XS_K_DOMID, AREA_DOM0, OPTIONAL, 5, valid_domid,
	  "a domain id 1..32751" },
	{ POOL MCD_XS_K_DOMNAME, AREA_DOM0, OPTIONAL,
	  sizeof(MCD_DOMAIN_PREFIX) - 1 + MCD_SESSION_ID_LEN,
	  valid_domain_name, "mcd-<member id>" },
	{ POOL MCD_XS_K_TEMPLATE, AREA_DOM0, OPTIONAL, MCD_XS_MAX_TEMPLATE,
	  valid_template, "a template name" },
	{ POOL MCD_XS_K_STATE, AREA_DOM0, OPTIONAL, 7, valid_pool_state,
	  "booting or ready" },
	{ POOL MCD_XS_K_CREATED, AREA_DOM0, OPTIONAL, 19, valid_created,
	  "unix seconds" },
	{ POOL MCD_XS_K_USER, AREA_DOM0, OPTIONAL, MCD_MAX_USER_LEN, valid_user,
	  "a user name other than root (whom the domain is kept for)" },

	{ GUEST MCD_XS_GUEST_DIR, AREA_GUEST, OPTIONAL, 0, NULL, "empty" },
	{ GUEST MCD_XS_GUEST_VCHAN, AREA_GUEST, OPTIONAL, 0, NULL, "empty" },
	{ GUEST MCD_XS_GUEST_VCHAN "/ring-ref", AREA_GUEST, OPTIONAL, 10,
	  valid_u32, "a grant reference" },
	{ GUEST MCD_XS_GUEST_VCHAN "/event-channel", AREA_GUEST, OPTIONAL, 10,
	  valid_u32, "an event channel port" },
	{ GUEST MCD_XS_GUEST_AGENT, AREA_GUEST, OPTIONAL, MCD_XS_GUEST_MAX_VALUE,
	  valid_agent, "\"<version> <os>\"" },
};

#define NRULES (sizeof(tree) / sizeof(tree[0]))

/* ---- parsed listing ---- */

struct node {
	char *path;
	char *value;      /* unescaped and NUL-terminated; may hold NUL bytes */
	size_t vlen;
	char *perms;      /* as listed ("n0,r5"), NULL if the listing has none */
	unsigned line;
	unsigned truncated : 1; /* xenstore-ls cut the value */
	unsigned unreadable : 1; /* listed as "name:" */
};

struct ctx {
	const struct mcd_schema_opts *o;
	mcd_schema_report_fn *report;
	void *rctx;
	struct mcd_schema_result *res;
	struct node *nodes;
	size_t count, cap;
	char root[PATH_LEN]; /* "" stands for "/" */
	const char *name;
	int oom;
	int indented;        /* some line was in the indented form */
	const char *no_perms; /* first /mcd node listed without permissions */
};

static void problem(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res->problems++;
	if (c->report)
		c->report(c->rctx, path, msg);
}

static void line_problem(struct ctx *c, unsigned line, const char *what)
{
	char where[256];

	snprintf(where, sizeof(where), "%s:%u", c->name, line);
	problem(c, where, "%s", what);
}

/* A value for a message: quoted, escaped, and cut at 40 bytes. */
static const char *show(const char *v, size_t n, char *buf, size_t blen)
{
	size_t j = 0;

	buf[j++] = '"';
	for (size_t i = 0; i < n && j + 8 < blen; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (i == 40) {
			memcpy(buf + j, "...", 3);
			j += 3;
			break;
		}
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			j += (size_t)snprintf(buf + j, blen - j, "\\x%02x", ch);
		else
			buf[j++] = (char)ch;
	}
	buf[j++] = '"';
	buf[j] = '\0';
	return buf;
}

static int key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       is_digit(ch) || ch == '-' || ch == '_' || ch == '@';
}

/* An absolute path of valid components: "/a/b", no "//", no trailing '/'. */
static int valid_path(const char *p, size_t n)
{
	if (n < 2 || p[0] != '/' || p[n - 1] == '/')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (p[i] == '/' ? p[i - 1] == '/' : !key_char(p[i]))
			return 0;
	return 1;
}

/* Undo xenstore-ls's escaping; an escape cut short at the end stays as
 * far as it got. */
static char *unescape(const char *s, size_t n, size_t *outlen)
{
	char *o = malloc(n + 1);
	size_t i = 0, j = 0;

	if (!o)
		return NULL;
	while (i < n) {
		char e;

		if (s[i] != '\\') {
			o[j++] = s[i++];
			continue;
		}
		if (++i == n) {
			o[j++] = '\\';
			break;
		}
		e = s[i++];
		if (e == 't') {
			o[j++] = '\t';
		} else if (e == 'n') {
			o[j++] = '\n';
		} else if (e == 'r') {
			o[j++] = '\r';
		} else if (e == 'x') {
			unsigned v = 0, k = 0;

			for (; k < 2 && i < n; k++, i++) {
				char h = s[i];

				if (is_digit(h))
					v = v * 16 + (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					v = v * 16 + (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					v = v * 16 + (unsigned)(h - 'A' + 10);
				else
					break;
			}
			o[j++] = k ? (char)v : 'x';
		} else if (e >= '0' && e <= '7') {
			unsigned v = (unsigned)(e - '0');

			for (int k = 1; k < 3 && i < n && s[i] >= '0' && s[i] <= '7';
			     k++, i++)
				v = v * 8 + (unsigned)(s[i] - '0');
			o[j++] = (char)v;
		} else {
			o[j++] = e; /* "\\" and anything unknown */
		}
	}
	o[j] = '\0';
	*outlen = j;
	return o;
}

/* "n0,r5": entries of a letter n/r/w/b and a domain id. */
static int valid_perms(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	while (i < n) {
		size_t d = 0;

		if (!strchr("nrwb", p[i]) || p[i] == '\0')
			return 0;
		for (i++; i < n && is_digit(p[i]); i++)
			if (++d > 10)
				return 0;
		if (d == 0)
			return 0;
		if (i < n && (p[i] != ',' || ++i == n))
			return 0;
	}
	return 1;
}

static struct node *add_node(struct ctx *c)
{
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct node *n = realloc(c->nodes, cap * sizeof(*n));

		if (!n) {
			c->oom = 1;
			return NULL;
		}
		c->nodes = n;
		c->cap = cap;
	}
	memset(&c->nodes[c->count], 0, sizeof(c->nodes[0]));
	return &c->nodes[c->count++];
}

/* Where the indented form is: the path of the last node at each depth. */
struct stack {
	char path[PATH_LEN];
	size_t end[MAX_DEPTH + 1]; /* path length up to depth d */
	size_t depth;              /* components of the last node */
};

/* The "  (n0)" line xenstore-ls prints after "name:" when it cannot read a
 * value but can read the permissions. */
static int perms_line(struct ctx *c, const char *l, size_t n)
{
	struct node *prev = c->count ? &c->nodes[c->count - 1] : NULL;
	size_t i = 0;

	while (i < n && l[i] == ' ')
		i++;
	if (i == n || l[i] != '(' || l[n - 1] != ')')
		return 0;
	if (!prev || !prev->unreadable || prev->perms ||
	    !valid_perms(l + i + 1, n - i - 2))
		return 0;
	prev->perms = strndup(l + i + 1, n - i - 2);
	if (!prev->perms)
		c->oom = 1;
	return 1;
}

static void parse_line(struct ctx *c, struct stack *st, const char *l,
		       size_t n, unsigned lineno)
{
	const char *eq = memmem(l, n, " = \"", 4);
	const char *key, *q, *tail, *vend, *pad, *end = l + n;
	size_t depth = 0, klen;
	char path[PATH_LEN];
	struct node *nd;

	if (perms_line(c, l, n))
		return;
	while (depth < n && l[depth] == ' ')
		depth++;
	key = l + depth;
	if (eq) {
		klen = (size_t)(eq - key);
	} else if (n > depth + 1 && l[n - 1] == ':') {
		klen = n - depth - 1; /* "name:" - value unreadable */
	} else {
		line_problem(c, lineno, "cannot parse this line");
		return;
	}

	if (depth == 0 && klen > 0 && key[0] == '/') {
		/* xenstore-ls -f: the full path. */
		if (klen >= PATH_LEN || !valid_path(key, klen)) {
			line_problem(c, lineno, "not a valid XenStore path");
			return;
		}
		memcpy(path, key, klen);
		path[klen] = '\0';
	} else {
		size_t base;

		c->indented = 1;
		for (size_t i = 0; i < klen; i++)
			if (!key_char(key[i]))
				klen = 0;
		if (klen == 0) {
			line_problem(c, lineno, "not a valid XenStore node name");
			return;
		}
		if (depth > st->depth || depth >= MAX_DEPTH) {
			line_problem(c, lineno, "indented deeper than its parent");
			return;
		}
		base = st->end[depth];
		if (base + 1 + klen >= PATH_LEN) {
			line_problem(c, lineno, "path too long");
			return;
		}
		st->path[base] = '/';
		memcpy(st->path + base + 1, key, klen);
		st->path[base + 1 + klen] = '\0';
		st->end[depth + 1] = base + 1 + klen;
		st->depth = depth + 1;
		memcpy(path, st->path, base + 2 + klen);
	}

	nd = add_node(c);
	if (!nd)
		return;
	nd->line = lineno;
	nd->path = strdup(path);
	if (!nd->path) {
		c->oom = 1;
		return;
	}
	if (!eq) {
		nd->unreadable = 1;
		nd->value = strdup("");
		if (!nd->value)
			c->oom = 1;
		return;
	}

	/* The value ends at the last quote: only permissions follow it, and
	 * they hold none, while the value's own quotes are not escaped. */
	q = eq + 4;
	tail = NULL;
	for (const char *p = end; p > q; p--)
		if (p[-1] == '"') {
			tail = p;
			break;
		}
	if (!tail) {
		line_problem(c, lineno, "value has no closing quote");
		c->count--;
		free(nd->path);
		return;
	}
	/* Then padding " . . ." and the permissions "  (n0,r5)". */
	vend = tail - 1;
	pad = tail;
	while (tail < end && (*tail == ' ' || *tail == '.'))
		tail++;
	if (tail < end && (*tail != '(' || end[-1] != ')' ||
			   !valid_perms(tail + 1, (size_t)(end - tail - 2)))) {
		line_problem(c, lineno, "cannot parse the permissions");
		c->count--;
		free(nd->path);
		return;
	}
	/*
	 * A value cut to fit the terminal ends in "\..." and, with -p, is
	 * followed by exactly two spaces; a whole value gets at least three.
	 * Without -p a whole value that ends in "\..." looks cut too.
	 */
	if (vend - q >= 4 && memcmp(vend - 4, "\\...", 4) == 0 &&
	    (tail == end || tail - pad == 2)) {
		nd->truncated = 1;
		vend -= 4;
	}
	nd->value = unescape(q, (size_t)(vend - q), &nd->vlen);
	if (!nd->value) {
		c->oom = 1;
		return;
	}
	if (tail == end)
		return;
	nd->perms = strndup(tail + 1, (size_t)(end - tail - 2));
	if (!nd->perms)
		c->oom = 1;
}

static void parse(struct ctx *c, const char *text, size_t len)
{
	static struct stack st; /* large; the checker is not reentrant */
	unsigned lineno = 0;
	size_t i = 0;

	memset(st.end, 0, sizeof(st.end));
	st.depth = 0;
	st.end[0] = strlen(c->root);
	memcpy(st.path, c->root, st.end[0] + 1);
	while (i < len && !c->oom) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t linelen = nl ? (size_t)(nl - (text + i)) : len - i;
		size_t n = linelen;

		lineno++;
		if (n > 0 && text[i + n - 1] == '\r')
			n--;
		if (memchr(text + i, '\0', n))
			line_problem(c, lineno, "line holds a NUL byte");
		else if (n > 0)
			parse_line(c, &st, text + i, n, lineno);
		i += linelen + (nl ? 1 : 0);
	}
}

/* ---- lookups ---- */

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->path,
		      ((const struct node *)b)->path);
}

static const struct node *find(const struct ctx *c, const char *path)
{
	struct node key = { .path = (char *)path };

	if (!c->count)
		return NULL;
	return bsearch(&key, c->nodes, c->count, sizeof(key), node_cmp);
}

/* Does path match pattern, '*' standing for one component? */
static int match(const char *pattern, const char *path)
{
	while (*pattern && *path) {
		if (*pattern == '*') {
			pattern++;
			while (*path && *path != '/')
				path++;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Is path equal to or below prefix? */
static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Is path inside what the listing shows (the root or below it)? */
static int covered(const struct ctx *c, const char *path)
{
	return c->root[0] == '\0' || under(path, c->root);
}

static int in_guest_area(const char *path)
{
	static const char pre[] = "/local/domain/";
	const char *p;

	if (strncmp(path, pre, sizeof(pre) - 1) != 0)
		return 0;
	p = strchr(path + sizeof(pre) - 1, '/');
	return p && under(p + 1, MCD_XS_GUEST_DIR);
}

/* ---- checks ---- */

static void check_perms(struct ctx *c, const struct node *nd)
{
	const char *p = nd->perms;

	if (!p) {
		if (!c->no_perms)
			c->no_perms = nd->path;
		return;
	}
	if (strncmp(p, "n0", 2) != 0 || (p[2] != '\0' && p[2] != ',')) {
		problem(c, nd->path, "permissions (%s) do not start with n0: "
			"dom0 must own the node and other domains have no access",
			p);
		return;
	}
	for (p = strchr(p, ','); p; p = strchr(p, ',')) {
		char kind = *++p;
		unsigned long id = strtoul(p + 1, NULL, 10);

		if (kind != 'n' && id != 0)
			problem(c, nd->path, "permissions (%s) give domain %lu access",
				nd->perms, id);
	}
}

static void check_node(struct ctx *c, const struct node *nd)
{
	const struct rule *r = NULL;
	enum area area;
	char buf[200];

	if (under(nd->path, MCD_XS_ROOT))
		area = AREA_DOM0;
	else if (in_guest_area(nd->path))
		area = AREA_GUEST;
	else
		return;
	if (area == AREA_DOM0)
		check_perms(c, nd);
	for (size_t i = 0; i < NRULES && !r; i++)
		if (match(tree[i].pattern, nd->path))
			r = &tree[i];
	if (!r) {
		problem(c, nd->path, area == AREA_DOM0 ? "unknown node"
			: "unknown node (written by the guest)");
		return;
	}
	if (nd->unreadable) {
		problem(c, nd->path, "value cannot be read");
		return;
	}
	if (nd->truncated) {
		c->res->truncated++;
		return;
	}
	if (r->max == 0) {
		if (nd->vlen)
			problem(c, nd->path, "has value %s; want empty",
				show(nd->value, nd->vlen, buf, sizeof(buf)));
		return;
	}
	if (nd->vlen > r->max)
		problem(c, nd->path, "value of %zu bytes is longer than %zu",
			nd->vlen, r->max);
	else if (strlen(nd->value) != nd->vlen)
		problem(c, nd->path, "value %s holds a NUL byte",
			show(nd->value, nd->vlen, buf, sizeof(buf)));
	else if (!r->valid(nd->value))
		problem(c, nd->path, "value %s is not %s",
			show(nd->value, nd->vlen, buf, sizeof(buf)), r->want);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Record ids seen in paths under area ("/mcd/sessions" or "/mcd/pool"),
 * whether or not their directory is listed; appended to *sids. */
static int collect_sids(struct ctx *c, const char *area, char ***sids,
			size_t *nsids)
{
	char pre[64];
	char **v = *sids;
	size_t n = *nsids, first = *nsids;

	snprintf(pre, sizeof(pre), "%s/", area);

	for (size_t i = 0; i < c->count; i++) {
		const char *s = c->nodes[i].path;
		size_t len;
		char **nv;

		if (strncmp(s, pre, strlen(pre)) != 0)
			continue;
		s += strlen(pre);
		len = strcspn(s, "/");
		if (n > first && strlen(v[n - 1]) == len && !strncmp(v[n - 1], s, len))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strndup(s, len))) {
			free(nv ? nv : v);
			return -1;
		}
		v = nv;
		n++;
	}
	/* Sorted paths can interleave two ids ("ab", "ab-c", "ab/x"): dedup. */
	for (size_t i = first; i < n; i++)
		for (size_t j = i + 1; j < n;)
			if (strcmp(v[i], v[j]) == 0) {
				free(v[j]);
				v[j] = v[--n];
			} else {
				j++;
			}
	if (n > first)
		qsort(v + first, n - first, sizeof(*v), str_cmp);
	*sids = v;
	*nsids = n;
	return 0;
}

/* out = "a/b"; 0 if it does not fit (then no node can have that path). */
static int join(char *out, size_t n, const char *a, const char *b)
{
	int r = snprintf(out, n, "%s/%s", a, b);

	return r >= 0 && (size_t)r < n;
}

/* A readable, whole value of the node at dir/key, or NULL. */
static const char *value_at(const struct ctx *c, const char *dir,
			    const char *key)
{
	char p[PATH_LEN];
	const struct node *nd;

	if (!join(p, sizeof(p), dir, key))
		return NULL;
	nd = find(c, p);
	if (!nd || nd->unreadable || nd->truncated ||
	    strlen(nd->value) != nd->vlen)
		return NULL;
	return nd->value;
}

static void check_session(struct ctx *c, const char *sid, char **sids,
			  size_t nsids, int domains)
{
	char dir[PATH_LEN], p[PATH_LEN], want[64];
	const char *state, *v;
	size_t pl = strlen(MCD_XS_SESSIONS "/*/");

	snprintf(dir, sizeof(dir), MCD_XS_SESSIONS "/%s", sid);
	if (!mcd_valid_session_id(sid))
		problem(c, dir, "session id is not %d lowercase hex digits",
			MCD_SESSION_ID_LEN);
	if (!covered(c, dir))
		return;

	state = value_at(c, dir, MCD_XS_K_STATE);
	for (size_t i = 0; i < NRULES; i++) {
		const struct rule *r = &tree[i];

		if (r->need == OPTIONAL || strncmp(r->pattern, MCD_XS_SESSIONS "/*/", pl))
			continue;
		if (!join(p, sizeof(p), dir, r->pattern + pl) || find(c, p))
			continue;
		if (r->need == REQUIRED_BUT_NEW && state &&
		    (strcmp(state, MCD_SESSION_STATE_CREATING) == 0 ||
		     strcmp(state, MCD_SESSION_STATE_QUEUED) == 0))
			continue;
		problem(c, p, r->need == REQUIRED ? "missing"
			: "missing (required once the domain exists)");
	}

	snprintf(want, sizeof(want), MCD_DOMAIN_PREFIX "%s", sid);
	v = value_at(c, dir, MCD_XS_K_DOMNAME);
	if (v && valid_domain_name(v) && strcmp(v, want) != 0) {
		if (join(p, sizeof(p), dir, MCD_XS_K_DOMNAME))
			problem(c, p, "is %s, not %s", v, want);
	}

	v = value_at(c, dir, MCD_XS_K_DOMID);
	if (!v || !valid_domid(v))
		return;
	if (!join(p, sizeof(p), dir, MCD_XS_K_DOMID))
		return;
	for (size_t i = 0; i < nsids; i++) {
		char other[PATH_LEN];
		const char *ov;

		if (strcmp(sids[i], sid) >= 0)
			continue;
		snprintf(other, sizeof(other), MCD_XS_SESSIONS "/%s", sids[i]);
		ov = value_at(c, other, MCD_XS_K_DOMID);
		if (ov && strcmp(ov, v) == 0)
			problem(c, p, "domain %s is also recorded by session %s",
				v, sids[i]);
	}
	if (domains) {
		char dom[64];
		const char *name;

		snprintf(dom, sizeof(dom), "/local/domain/%s", v);
		if (!find(c, dom)) {
			problem(c, p, "domain %s does not exist (no %s)", v, dom);
			return;
		}
		name = value_at(c, dom, "name");
		if (name && strcmp(name, want) != 0) {
			char buf[200];

			problem(c, p, "domain %s is named %s, not %s", v,
				show(name, strlen(name), buf, sizeof(buf)), want);
		}
	}
}

/* Domains named mcd-<sid> whose session is gone: leaked domains. */
static void check_orphans(struct ctx *c, char **sids, size_t nsids)
{
	size_t pl = strlen(MCD_DOMAIN_PREFIX);

	for (size_t i = 0; i < c->count; i++) {
		const struct node *nd = &c->nodes[i];
		const char *sid;
		size_t j;

		if (!match("/local/domain/*/name", nd->path) || nd->truncated ||
		    strncmp(nd->value, MCD_DOMAIN_PREFIX, pl) != 0)
			continue;
		sid = nd->value + pl;
		for (j = 0; j < nsids; j++)
			if (strcmp(sids[j], sid) == 0)
				break;
		if (j == nsids) {
			char buf[200];

			problem(c, nd->path, "domain %s has no session under "
				MCD_XS_SESSIONS " nor pool record under "
				MCD_XS_POOL, show(nd->value, nd->vlen, buf,
						  sizeof(buf)));
		}
	}
}

/* Does the listing show the domains?  Every running system has at least
 * /local/domain/0. */
static int check_domains_listed(struct ctx *c)
{
	static const char dom[] = "/local/domain";

	if (c->root[0] != '\0') {
		problem(c, dom, "not in a listing of %s: --domains needs the "
			"whole tree (xenstore-ls -fp /)", c->root);
		return 0;
	}
	for (size_t i = 0; i < c->count; i++)
		if (under(c->nodes[i].path, dom) &&
		    strcmp(c->nodes[i].path, dom) != 0)
			return 1;
	problem(c, dom, "not in the listing: --domains needs the whole tree "
		"(xenstore-ls -fp /)");
	return 0;
}

static int set_root(struct ctx *c, const char *root, char *err, size_t errlen)
{
	size_t n = root ? strlen(root) : 0;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n <= 1) {
		if (root && n == 1 && root[0] != '/')
			goto bad;
		c->root[0] = '\0';
		return 0;
	}
	if (n >= PATH_LEN - 1 || !valid_path(root, n))
		goto bad;
	memcpy(c->root, root, n);
	c->root[n] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "root '%s' is not an absolute XenStore path",
		 root);
	return -1;
}

int mcd_schema_check(const char *text, size_t len,
		     const struct mcd_schema_opts *opts,
		     mcd_schema_report_fn *report, void *rctx,
		     struct mcd_schema_result *res, char *err, size_t errlen)
{
	static const struct mcd_schema_opts none;
	struct ctx c = { .report = report, .rctx = rctx, .res = res };
	char **sids = NULL;
	size_t nsids = 0;
	int domains, rc = -1;

	c.o = opts ? opts : &none;
	c.name = c.o->name ? c.o->name : "input";
	memset(res, 0, sizeof(*res));
	if (set_root(&c, c.o->root, err, errlen) < 0)
		return -1;

	parse(&c, text, len);
	if (c.oom)
		goto oom;
	if (c.count)
		qsort(c.nodes, c.count, sizeof(c.nodes[0]), node_cmp);

	/* An indented listing taken elsewhere but read as one of "/" would
	 * otherwise pass without checking anything. */
	if (c.root[0] == '\0' && c.indented && c.count && !find(&c, "/local"))
		problem(&c, c.name, "not a listing of / (it has no 'local'): "
			"pass --root with the path given to xenstore-ls");

	for (size_t i = 0; i < c.count; i++) {
		if (i && strcmp(c.nodes[i].path, c.nodes[i - 1].path) == 0)
			problem(&c, c.nodes[i].path, "listed twice (lines %u and %u)",
				c.nodes[i - 1].line, c.nodes[i].line);
		else
			check_node(&c, &c.nodes[i]);
	}
	if (c.no_perms)
		problem(&c, c.no_perms, "the listing has no permissions: "
			"run xenstore-ls with -p");

	if (collect_sids(&c, MCD_XS_SESSIONS, &sids, &nsids) < 0)
		goto oom;
	res->sessions = (unsigned)nsids;
	domains = c.o->domains && check_domains_listed(&c);
	for (size_t i = 0; i < res->sessions; i++)
		check_session(&c, sids[i], sids, res->sessions, domains);
	/* A pool member owns its domain as a session does. */
	if (collect_sids(&c, MCD_XS_POOL, &sids, &nsids) < 0)
		goto oom;
	if (domains)
		check_orphans(&c, sids, nsids);
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	for (size_t i = 0; i < nsids; i++)
		free(sids[i]);
	free(sids);
	for (size_t i = 0; i < c.count; i++) {
		free(c.nodes[i].path);
		free(c.nodes[i].value);
		free(c.nodes[i].perms);
	}
	free(c.nodes);
	return rc;
}
