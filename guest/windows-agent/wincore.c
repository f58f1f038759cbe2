/*
 * wincore.c - the Windows agent's OS-independent pieces (see wincore.h).
 */
#include "wincore.h"

#include "wait_compat.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Case-insensitive compare of [a, a+n) with the NUL-terminated b. */
static int name_is(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n && b[i]; i++)
		if (upper(a[i]) != upper(b[i]))
			return 0;
	return i == n && b[i] == '\0';
}

static int name_has_prefix(const char *a, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (n < pl)
		return 0;
	for (size_t i = 0; i < pl; i++)
		if (upper(a[i]) != upper(prefix[i]))
			return 0;
	return 1;
}

/* ---- program paths ---- */

/* CON, PRN, AUX, NUL, COM0-9, LPT0-9, with or without an extension. */
static int is_device_name(const char *c, size_t n)
{
	static const char *const three[] = { "CON", "PRN", "AUX", "NUL" };
	size_t base = 0;

	while (base < n && c[base] != '.')
		base++;
	while (base > 0 && c[base - 1] == ' ')
		base--;
	for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
		if (name_is(c, base, three[i]))
			return 1;
	if (base == 4 && (name_has_prefix(c, 3, "COM") ||
			  name_has_prefix(c, 3, "LPT")) &&
	    c[3] >= '0' && c[3] <= '9')
		return 1;
	return 0;
}

int wincore_program_path(const char *wire, char *out, size_t outlen,
			 char *reason, size_t reason_len)
{
	size_t len = strlen(wire);
	const char *p, *comp;
	size_t o = 0;

	if (len < 4 || wire[0] != '/' || !is_letter(wire[1]) ||
	    wire[2] != '/') {
		say(reason, reason_len, "no such program: %.200s (name Windows "
		    "programs as /c/path/app.exe)", wire);
		return -1;
	}
	if (len + 1 > outlen || len + 1 > WINCORE_PATH_MAX) {
		say(reason, reason_len, "program path too long");
		return -1;
	}
	if (strpbrk(wire, "\\:*?\"<>|")) {
		say(reason, reason_len, "no such program: %.200s (\\ : * ? \" "
		    "< > | are not allowed)", wire);
		return -1;
	}
	if (len < 8 || !name_is(wire + len - 4, 4, ".exe") ||
	    wire[len - 5] == '/') {
		say(reason, reason_len, "not a Windows program (.exe): %.200s",
		    wire);
		return -1;
	}
	out[o++] = upper(wire[1]);
	out[o++] = ':';
	/* Each component after the drive: no trailing dot or blank, no
	 * device name.  mcd_valid_program() already refused "", "." and "..". */
	for (comp = wire + 3; *comp; comp = *p ? p + 1 : p) {
		size_t n;

		p = strchr(comp, '/');
		if (!p)
			p = comp + strlen(comp);
		n = (size_t)(p - comp);
		if (n == 0 || comp[n - 1] == '.' || comp[n - 1] == ' ' ||
		    comp[0] == ' ') {
			say(reason, reason_len, "no such program: %.200s (a "
			    "name begins or ends with a blank or ends with "
			    "'.')", wire);
			return -1;
		}
		if (is_device_name(comp, n)) {
			say(reason, reason_len, "no such program: %.200s (a "
			    "name is a device name)", wire);
			return -1;
		}
		out[o++] = '\\';
		memcpy(out + o, comp, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* ---- command line ---- */

struct buf {
	char *p;
	size_t cap;
	size_t len;
	int over;
};

static void put(struct buf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		b->over = 1;
		return;
	}
	b->p[b->len++] = c;
}

static void put_n(struct buf *b, char c, size_t n)
{
	while (n--)
		put(b, c);
}

/* One argument after argv[0], by the rules of the Microsoft C runtime:
 * inside quotes, 2n backslashes before a quote are n backslashes and the
 * quote ends the argument, 2n+1 are n backslashes and a literal quote;
 * backslashes not before a quote are literal. */
static void put_arg(struct buf *b, const char *a)
{
	size_t bs = 0;

	if (a[0] != '\0' && !strpbrk(a, " \t\n\v\"")) {
		for (; *a; a++)
			put(b, *a);
		return;
	}
	put(b, '"');
	for (; *a; a++) {
		if (*a == '\\') {
			bs++;
			continue;
		}
		if (*a == '"') {
			put_n(b, '\\', 2 * bs + 1);
		} else {
			put_n(b, '\\', bs);
		}
		bs = 0;
		put(b, *a);
	}
	/* The closing quote must not be escaped by trailing backslashes. */
	put_n(b, '\\', 2 * bs);
	put(b, '"');
}

int wincore_cmdline(const char *const *argv, char *out, size_t cap)
{
	struct buf b = { out, cap, 0, 0 };

	if (cap == 0 || !argv[0] || strchr(argv[0], '"'))
		return -1;
	/* argv[0] is parsed differently (no backslash escapes): quotes only. */
	put(&b, '"');
	for (const char *a = argv[0]; *a; a++)
		put(&b, *a);
	put(&b, '"');
	for (size_t i = 1; argv[i]; i++) {
		put(&b, ' ');
		put_arg(&b, argv[i]);
	}
	if (b.over)
		return -1;
	out[b.len] = '\0';
	return (int)b.len;
}

/* ---- environment ---- */

/* Names (case-insensitive) a request may not set for a Windows app. */
static const char *const env_denied_win[] = {
	"PATH", "PATHEXT", "COMSPEC", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR",
	"TEMP", "TMP", "USERPROFILE", "USERNAME", "USERDOMAIN",
	"USERDOMAIN_ROAMINGPROFILE", "USERDNSDOMAIN", "HOMEDRIVE", "HOMEPATH",
	"HOMESHARE", "APPDATA", "LOCALAPPDATA", "ALLUSERSPROFILE",
	"PROGRAMDATA", "PUBLIC", "LOGONSERVER", "COMPUTERNAME", "OS",
	"PSMODULEPATH", "DRIVERDATA", "DISPLAY", "HOME", "USER", "LOGNAME",
	"SHELL", "IFS", "ENV", "BASH_ENV", "GCONV_PATH", "HOSTALIASES",
	"LOCALDOMAIN", "RES_OPTIONS", "TMPDIR",
};

/* Prefixes (case-insensitive): loader, runtime and profiler hooks. */
static const char *const env_denied_prefix[] = {
	"PROGRAMFILES", "PROGRAMW6432", "COMMONPROGRAM", "PROCESSOR_",
	"NUMBER_OF_PROCESSORS", "__COMPAT_LAYER", "__PROCESS_HISTORY",
	"COR_", "CORECLR_", "COMPLUS_", "DOTNET_", "MICROSOFT_WINDOWSAZURE_",
	"_NT_", "LD_", "MALLOC_", "PYTHON", "PERL5", "RUBYOPT", "NODE_OPTIONS",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
};

int wincore_env_allowed(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n;

	if (!eq || eq == kv)
		return 0;
	n = (size_t)(eq - kv);
	for (size_t i = 0; i < sizeof(env_denied_win) / sizeof(env_denied_win[0]); i++)
		if (name_is(kv, n, env_denied_win[i]))
			return 0;
	for (size_t i = 0; i < sizeof(env_denied_prefix) / sizeof(env_denied_prefix[0]); i++)
		if (name_has_prefix(kv, n, env_denied_prefix[i]))
			return 0;
	return 1;
}

static size_t name_len(const char *kv)
{
	/* "=C:=C:\x" style entries: the name includes the leading '='. */
	const char *eq = strchr(kv[0] == '=' ? kv + 1 : kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static int same_name(const char *a, const char *b)
{
	size_t na = name_len(a), nb = name_len(b);

	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (upper(a[i]) != upper(b[i]))
			return 0;
	return 1;
}

static int env_cmp(const void *pa, const void *pb)
{
	const char *a = *(const char *const *)pa;
	const char *b = *(const char *const *)pb;
	size_t na = name_len(a), nb = name_len(b);

	for (size_t i = 0; i < na && i < nb; i++) {
		unsigned char ca = (unsigned char)upper(a[i]);
		unsigned char cb = (unsigned char)upper(b[i]);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return na < nb ? -1 : na > nb ? 1 : 0;
}

int wincore_env_build(const char *const *base, size_t nbase,
		      const char *display, const char *const *extras,
		      size_t nextras, char *disp_buf, size_t disp_len,
		      const char **out, size_t cap)
{
	size_t n = 0;
	int w;

	w = snprintf(disp_buf, disp_len, "DISPLAY=%s", display);
	if (w < 0 || (size_t)w >= disp_len)
		return -1;
	for (size_t i = 0; i < nbase; i++) {
		int replaced = same_name(base[i], disp_buf);

		for (size_t j = 0; j < nextras && !replaced; j++)
			replaced = same_name(base[i], extras[j]);
		if (replaced || !strchr(base[i], '='))
			continue;
		if (n >= cap)
			return -1;
		out[n++] = base[i];
	}
	if (n + 1 + nextras > cap)
		return -1;
	out[n++] = disp_buf;
	for (size_t j = 0; j < nextras; j++) {
		/* A repeated extra name: the last one wins. */
		int later = 0;

		for (size_t k = j + 1; k < nextras && !later; k++)
			later = same_name(extras[j], extras[k]);
		if (!later)
			out[n++] = extras[j];
	}
	qsort(out, n, sizeof(out[0]), env_cmp);
	return (int)n;
}

/* ---- exit status ---- */

int wincore_exit_status(uint32_t code, int terminated_by_agent)
{
	static const struct {
		uint32_t status;
		int sig;
	} exc[] = {
		{ 0xC0000005u, 11 }, /* access violation: SIGSEGV */
		{ 0xC00000FDu, 11 }, /* stack overflow */
		{ 0xC0000006u, 7 },  /* in-page error: SIGBUS */
		{ 0xC000001Du, 4 },  /* illegal instruction: SIGILL */
		{ 0xC0000096u, 4 },  /* privileged instruction */
		{ 0xC000008Cu, 11 }, /* array bounds exceeded */
		{ 0xC000008Du, 8 },  /* float denormal operand: SIGFPE */
		{ 0xC000008Eu, 8 },  /* float divide by zero */
		{ 0xC000008Fu, 8 },  /* float inexact result */
		{ 0xC0000090u, 8 },  /* float invalid operation */
		{ 0xC0000091u, 8 },  /* float overflow */
		{ 0xC0000092u, 8 },  /* float stack check */
		{ 0xC0000093u, 8 },  /* float underflow */
		{ 0xC0000094u, 8 },  /* integer divide by zero */
		{ 0xC0000095u, 8 },  /* integer overflow */
		{ 0x80000003u, 5 },  /* breakpoint: SIGTRAP */
		{ 0x80000004u, 5 },  /* single step */
		{ 0xC000013Au, 2 },  /* Ctrl-C exit: SIGINT */
		{ 0xC0000409u, 6 },  /* fail fast / stack buffer overrun: SIGABRT */
	};

	if (terminated_by_agent && (code & ~0xffu) == WINCORE_KILL_BASE &&
	    (code & 0x7f) != 0)
		return WAIT_SIGNALED((int)(code & 0x7f));
	if (code <= 255)
		return WAIT_EXITED((int)code);
	for (size_t i = 0; i < sizeof(exc) / sizeof(exc[0]); i++)
		if (exc[i].status == code)
			return WAIT_SIGNALED(exc[i].sig);
	return WAIT_EXITED(255);
}

/* ---- tcp:PORT ---- */

int wincore_parse_tcp(const char *s)
{
	long port = 0;

	if (strncmp(s, "tcp:", 4) != 0)
		return -1;
	s += 4;
	if (*s < '1' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		port = port * 10 + (*s - '0');
		if (port > 65535)
			return -1;
	}
	return (int)port;
}

/* ---- configuration ---- */

void wconf_defaults(struct wconf *c)
{
	memset(c, 0, sizeof(*c));
}

struct parser {
	const char *name;
	unsigned line;
	int errors;
	void (*report)(const char *line);
	char *first_err;
	size_t errlen;
};

static void conf_error(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void conf_error(struct parser *p, const char *fmt, ...)
{
	char msg[WCONF_LINE_MAX + 64], line[WCONF_LINE_MAX + 400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%.300s:%u: %s", p->name, p->line, msg);
	if (p->report)
		p->report(line);
	if (p->errors == 0 && p->first_err && p->errlen)
		snprintf(p->first_err, p->errlen, "%s", line);
	p->errors++;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

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

/* \\server\share[\path...], printable, no quote, at most one %u. */
static int valid_share(const char *v)
{
	const char *u = strstr(v, "%u");

	if (strncmp(v, "\\\\", 2) != 0 || !is_letter(v[2]) ||
	    strlen(v) > WCONF_SHARE_MAX)
		return 0;
	if (u && strstr(u + 2, "%u"))
		return 0;
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '/' ||
		    (c == '%' && p[1] != 'u'))
			return 0;
	}
	return v[strlen(v) - 1] != '\\';
}

enum { SEEN_SHARE = 1, SEEN_DRIVE = 2, SEEN_ALLOW = 4 };

static void parse_line(struct parser *p, char *line, struct wconf *c,
		       unsigned *seen)
{
	char *eq, *key, *val;
	unsigned bit;

	key = trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return;
	eq = strchr(key, '=');
	if (!eq) {
		conf_error(p, "expected key=value");
		return;
	}
	*eq = '\0';
	key = trim(key);
	val = trim(eq + 1);
	if (strcmp(key, "share") == 0) {
		bit = SEEN_SHARE;
		if (!valid_share(val)) {
			conf_error(p, "share must be \\\\server\\share[\\path], "
				   "printable, with at most one %%u");
			return;
		}
		snprintf(c->share, sizeof(c->share), "%s", val);
	} else if (strcmp(key, "share_drive") == 0) {
		bit = SEEN_DRIVE;
		if (!(is_letter(val[0]) && val[1] == ':' && val[2] == '\0')) {
			conf_error(p, "share_drive must be a drive like H:, "
				   "not '%s'", val);
			return;
		}
		c->share_drive[0] = upper(val[0]);
		c->share_drive[1] = ':';
		c->share_drive[2] = '\0';
	} else if (strcmp(key, "allow_current_user") == 0) {
		bit = SEEN_ALLOW;
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
			conf_error(p, "allow_current_user must be 0 or 1, "
				   "not '%s'", val);
			return;
		}
		c->allow_current_user = val[0] == '1';
	} else {
		conf_error(p, "unknown key '%s'", key);
		return;
	}
	if (*seen & bit)
		conf_error(p, "%s given twice", key);
	*seen |= bit;
}

int wconf_parse(const char *name, FILE *f, struct wconf *c,
		void (*report)(const char *line), char *first_err,
		size_t errlen)
{
	struct parser p = { name, 0, 0, report, first_err, errlen };
	char line[WCONF_LINE_MAX + 2];
	struct wconf tmp;
	unsigned seen = 0;

	wconf_defaults(&tmp);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		int bad = 0;

		p.line++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			int ch;

			conf_error(&p, "line longer than %d bytes",
				   WCONF_LINE_MAX);
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n > WCONF_LINE_MAX) {
			conf_error(&p, "line longer than %d bytes",
				   WCONF_LINE_MAX);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				bad = 1;
		if (bad || memchr(line, '\0', n) != NULL) {
			conf_error(&p, "control character in line");
			continue;
		}
		parse_line(&p, line, &tmp, &seen);
	}
	if (ferror(f)) {
		conf_error(&p, "read error");
	}
	if ((seen & SEEN_DRIVE) && !(seen & SEEN_SHARE)) {
		conf_error(&p, "share_drive without share");
	}
	if (p.errors == 0)
		*c = tmp;
	return p.errors;
}

int wconf_share_for(const struct wconf *c, const char *user, char *out,
		    size_t outlen)
{
	const char *u = strstr(c->share, "%u");
	int n;

	if (!u)
		n = snprintf(out, outlen, "%s", c->share);
	else
		n = snprintf(out, outlen, "%.*s%s%s", (int)(u - c->share),
			     c->share, user, u + 2);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
