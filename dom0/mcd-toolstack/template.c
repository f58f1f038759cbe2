/*
 * template.c - load and check domain templates; see template.h.
 *
 * libxlutil does the parsing, so the syntax is xl's.  Its reports (syntax
 * errors as "file:line: ...", bad values, bad disk specs) go to a memory
 * stream, and the first new line becomes our one-line error.  libxlutil has
 * no way to list the keys it read, so after a successful parse a small
 * scanner walks the same text for the key at the start of each statement:
 * that is how unknown, reserved and repeated keys are refused with their
 * line number.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxl_utils.h>
#include <libxlutil.h>

#include "template.h"

#define KEY_LEN_MAX	31	/* longer than any key we know */
#define KEYS_MAX	64	/* statements in one template */

/* Keys a template may hold. */
static const char *const tpl_keys[] = {
	"type", "memory", "maxmem", "vcpus", "maxvcpus",
	"kernel", "ramdisk", "root", "extra", "cmdline", "disk",
	"on_poweroff", "on_reboot", "on_crash", "on_watchdog",
	"mcd_os", "mcd_agent_timeout",
	NULL
};

/* Keys MCD sets for each launch. */
static const char *const tpl_reserved[] = { "name", "uuid", NULL };

/* Accepted only as "destroy". */
static const char *const tpl_on_keys[] = {
	"on_poweroff", "on_reboot", "on_crash", "on_watchdog", NULL
};

static const char *const tpl_os[] = { "linux", "windows", NULL };

struct tpl_key {
	char	name[KEY_LEN_MAX + 1];
	int	line;
};

/* State of one template_load call. */
struct tpl {
	const char	*name;
	const char	*path;
	char		*err;
	size_t		 errlen;
	XLU_Config	*cfg;
	FILE		*report;	/* libxlutil's messages */
	char		*rbuf;		/* open_memstream buffer */
	size_t		 rlen;
	size_t		 rseen;		/* bytes of rbuf already consumed */
	struct tpl_key	 keys[KEYS_MAX];
	int		 nkeys;
};

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Line of the statement that set key, 0 if unknown. */
static int
key_line(const struct tpl *tp, const char *key)
{
	int i;

	for (i = 0; i < tp->nkeys; i++)
		if (strcmp(tp->keys[i].name, key) == 0)
			return tp->keys[i].line;
	return 0;
}

/* Fail with "path:line: ..." (or "path: ..." when key has no line). */
static int
fail_at(struct tpl *tp, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail_at(struct tpl *tp, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = key ? key_line(tp, key) : 0;
	if (line > 0)
		seterr(tp->err, tp->errlen, "%s:%d: %s", tp->path, line, msg);
	else
		seterr(tp->err, tp->errlen, "%s: %s", tp->path, msg);
	return -1;
}

/*
 * Fail with the first line libxlutil reported since the last call, or
 * with "path: <fallback>: strerror(e)" if it reported nothing.
 */
static int
fail_report(struct tpl *tp, int e, const char *fallback)
{
	const char *s, *nl, *w;
	size_t n;

	if (tp->report && fflush(tp->report) == 0 && tp->rbuf &&
	    tp->rlen > tp->rseen) {
		s = tp->rbuf + tp->rseen;
		while (*s == '\n')
			s++;
		nl = strchr(s, '\n');
		n = nl ? (size_t)(nl - s) : strlen(s);
		tp->rseen = tp->rlen;
		/* It is no mere warning: we refuse the template. */
		w = memmem(s, n, ": warning: ", 11);
		if (w && n > 0) {
			seterr(tp->err, tp->errlen, "%.*s%.*s", (int)(w - s + 2),
			    s, (int)(n - (size_t)(w - s) - 11), w + 11);
			return -1;
		}
		if (n > 0) {
			seterr(tp->err, tp->errlen, "%.*s", (int)n, s);
			return -1;
		}
	}
	return fail_at(tp, NULL, "%s: %s", fallback, strerror(e));
}

/* Forget what libxlutil reported so far (warnings we chose to tolerate). */
static void
report_skip(struct tpl *tp)
{
	if (tp->report && fflush(tp->report) == 0)
		tp->rseen = tp->rlen;
}

/* --- reading the file ---------------------------------------------------- */

/* Read the whole template into a NUL-terminated buffer. */
static int
read_file(struct tpl *tp, char **data_r, size_t *len_r)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	fd = open(tp->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT) {
			seterr(tp->err, tp->errlen,
			    "unknown template '%s' (no %s)", tp->name,
			    tp->path);
			return -1;
		}
		return fail_at(tp, NULL, "cannot open: %s", strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		return fail_at(tp, NULL, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail_at(tp, NULL, "not a regular file");
	}
	if (st.st_size > TEMPLATE_FILE_MAX) {
		close(fd);
		return fail_at(tp, NULL, "larger than %d bytes",
		    TEMPLATE_FILE_MAX);
	}
	/* One byte more than allowed, to notice a file that grew. */
	data = malloc(TEMPLATE_FILE_MAX + 2);
	if (data == NULL) {
		close(fd);
		return fail_at(tp, NULL, "out of memory");
	}
	for (;;) {
		n = read(fd, data + len, TEMPLATE_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			free(data);
			close(fd);
			return fail_at(tp, NULL, "cannot read: %s",
			    strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TEMPLATE_FILE_MAX) {
			free(data);
			close(fd);
			return fail_at(tp, NULL, "larger than %d bytes",
			    TEMPLATE_FILE_MAX);
		}
	}
	close(fd);
	data[len] = '\0';
	if (memchr(data, '\0', len) != NULL) {
		free(data);
		return fail_at(tp, NULL, "contains a NUL byte");
	}
	*data_r = data;
	*len_r = len;
	return 0;
}

/* --- the key scanner ------------------------------------------------------ */

/*
 * Record the key of every statement.  Runs only on text libxlutil already
 * parsed, so it can rely on xl's lexical rules: keys are [a-z][._0-9a-z]*,
 * statements end at a newline or ';' outside brackets, strings are quoted
 * with ' or " and may hold backslash escapes, '#' starts a comment.
 */
static int
scan_keys(struct tpl *tp, const char *s)
{
	char key[KEY_LEN_MAX + 1];
	int line = 1, depth = 0, start = 1, plus, i;
	size_t n;
	char q;

	while (*s) {
		if (*s == '\n') {
			line++;
			if (depth == 0)
				start = 1;
			s++;
		} else if (*s == ';' && depth == 0) {
			start = 1;
			s++;
		} else if (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
		} else if (*s == '#') {
			while (*s && *s != '\n')
				s++;
		} else if (*s == '\'' || *s == '"') {
			q = *s++;
			while (*s && *s != q && *s != '\n') {
				if (*s == '\\' && s[1] && s[1] != '\n')
					s++;
				s++;
			}
			if (*s == q)
				s++;
			start = 0;
		} else if (*s == '[') {
			depth++;
			start = 0;
			s++;
		} else if (*s == ']') {
			if (depth > 0)
				depth--;
			start = 0;
			s++;
		} else if (start && depth == 0 && islower((unsigned char)*s)) {
			n = 0;
			while (islower((unsigned char)s[n]) ||
			    isdigit((unsigned char)s[n]) ||
			    s[n] == '_' || s[n] == '.')
				n++;
			if (n > KEY_LEN_MAX) {
				seterr(tp->err, tp->errlen,
				    "%s:%d: unknown key '%.*s...'", tp->path,
				    line, KEY_LEN_MAX, s);
				return -1;
			}
			memcpy(key, s, n);
			key[n] = '\0';
			s += n;
			while (*s == ' ' || *s == '\t')
				s++;
			plus = (*s == '+');
			start = 0;

			if (in_list(tpl_reserved, key)) {
				seterr(tp->err, tp->errlen,
				    "%s:%d: '%s' is set by MCD for each launch "
				    "and must not be in a template", tp->path,
				    line, key);
				return -1;
			}
			if (!in_list(tpl_keys, key)) {
				seterr(tp->err, tp->errlen,
				    "%s:%d: unknown key '%s'", tp->path, line,
				    key);
				return -1;
			}
			for (i = 0; i < tp->nkeys; i++)
				if (strcmp(tp->keys[i].name, key) == 0)
					break;
			if (i < tp->nkeys) {
				if (plus)
					continue;	/* list addition */
				seterr(tp->err, tp->errlen,
				    "%s:%d: '%s' already set on line %d",
				    tp->path, line, key, tp->keys[i].line);
				return -1;
			}
			if (tp->nkeys == KEYS_MAX) {
				seterr(tp->err, tp->errlen,
				    "%s:%d: more than %d keys", tp->path, line,
				    KEYS_MAX);
				return -1;
			}
			memcpy(tp->keys[tp->nkeys].name, key, n + 1);
			tp->keys[tp->nkeys].line = line;
			tp->nkeys++;
		} else {
			start = 0;
			s++;
		}
	}
	return 0;
}

/* --- typed getters -------------------------------------------------------- */

/* 1 and *v if set, 0 if absent, -1 on a bad value (err set). */
static int
get_str(struct tpl *tp, const char *key, const char **v)
{
	int r;

	r = xlu_cfg_get_string(tp->cfg, key, v, 0);
	if (r == ESRCH)
		return 0;
	if (r != 0)
		return fail_report(tp, r, key);
	return 1;
}

/* As get_str, for a number in min..max. */
static int
get_num(struct tpl *tp, const char *key, long min, long max, long *v)
{
	int r;

	r = xlu_cfg_get_long(tp->cfg, key, v, 0);
	if (r == ESRCH)
		return 0;
	if (r != 0)
		return fail_report(tp, r, key);
	if (*v < min || *v > max)
		return fail_at(tp, key, "%s %ld out of range %ld..%ld", key,
		    *v, min, max);
	return 1;
}

/* An absolute path to an existing file that we can read. */
static int
check_file(struct tpl *tp, const char *key, const char *what,
    const char *path, int allow_blk)
{
	struct stat st;

	if (path[0] != '/')
		return fail_at(tp, key, "%s '%s' is not an absolute path",
		    what, path);
	if (stat(path, &st) == -1)
		return fail_at(tp, key, "%s %s: %s", what, path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode) && !(allow_blk && S_ISBLK(st.st_mode)))
		return fail_at(tp, key, "%s %s: not a regular file", what,
		    path);
	if (access(path, R_OK) == -1)
		return fail_at(tp, key, "%s %s: %s", what, path,
		    strerror(errno));
	return 0;
}

static char *
xstrdup(struct tpl *tp, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fail_at(tp, NULL, "out of memory");
	return d;
}

/* --- the parts of a template ---------------------------------------------- */

static int
parse_type(struct tpl *tp)
{
	const char *v;
	int r;

	if ((r = get_str(tp, "type", &v)) < 0)
		return -1;
	if (r && strcmp(v, "pv") != 0)
		return fail_at(tp, "type", "type '%s' is not supported "
		    "(only pv)", v);
	return 0;
}

static int
parse_mcd(struct tpl *tp, struct mcd_template *t)
{
	const char *v;
	long l;
	int r;

	snprintf(t->os, sizeof(t->os), "linux");
	if ((r = get_str(tp, "mcd_os", &v)) < 0)
		return -1;
	if (r) {
		if (!in_list(tpl_os, v))
			return fail_at(tp, "mcd_os", "mcd_os '%s' is not one "
			    "of linux, windows", v);
		snprintf(t->os, sizeof(t->os), "%s", v);
	}
	t->agent_timeout_s = TEMPLATE_TIMEOUT_DEFAULT;
	if ((r = get_num(tp, "mcd_agent_timeout", 1, TEMPLATE_TIMEOUT_MAX,
	    &l)) < 0)
		return -1;
	if (r)
		t->agent_timeout_s = (unsigned)l;
	return 0;
}

static int
parse_actions(struct tpl *tp, libxl_domain_config *dc)
{
	const char *const *k;
	const char *v;
	int r;

	for (k = tpl_on_keys; *k; k++) {
		if ((r = get_str(tp, *k, &v)) < 0)
			return -1;
		if (r && strcmp(v, "destroy") != 0)
			return fail_at(tp, *k, "%s '%s': a disposable domain "
			    "is only ever destroyed", *k, v);
	}
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	return 0;
}

static int
parse_memory(struct tpl *tp, struct mcd_template *t,
    libxl_domain_build_info *b)
{
	long mem, maxmem;
	int r;

	if ((r = get_num(tp, "memory", TEMPLATE_MEM_MIN, TEMPLATE_MEM_MAX,
	    &mem)) < 0)
		return -1;
	if (r == 0)
		return fail_at(tp, NULL, "missing 'memory' (MiB, %d..%d)",
		    TEMPLATE_MEM_MIN, TEMPLATE_MEM_MAX);
	maxmem = mem;
	if ((r = get_num(tp, "maxmem", mem, TEMPLATE_MEM_MAX, &maxmem)) < 0)
		return -1;
	t->memory_mb = (unsigned)mem;
	t->maxmem_mb = (unsigned)maxmem;
	b->target_memkb = (uint64_t)mem * 1024;
	b->max_memkb = (uint64_t)maxmem * 1024;
	return 0;
}

static int
parse_vcpus(struct tpl *tp, struct mcd_template *t,
    libxl_domain_build_info *b)
{
	long vcpus = 1, maxvcpus;
	int r, i;

	if ((r = get_num(tp, "vcpus", 1, TEMPLATE_VCPUS_MAX, &vcpus)) < 0)
		return -1;
	maxvcpus = vcpus;
	if ((r = get_num(tp, "maxvcpus", vcpus, TEMPLATE_VCPUS_MAX,
	    &maxvcpus)) < 0)
		return -1;
	t->vcpus = (unsigned)vcpus;
	t->max_vcpus = (unsigned)maxvcpus;
	b->max_vcpus = (int)maxvcpus;
	/* libxl frees the map with free(); see libxl_bitmap_alloc. */
	b->avail_vcpus.size = (uint32_t)((maxvcpus + 7) / 8);
	b->avail_vcpus.map = calloc(b->avail_vcpus.size, 1);
	if (b->avail_vcpus.map == NULL) {
		b->avail_vcpus.size = 0;
		return fail_at(tp, NULL, "out of memory");
	}
	for (i = 0; i < vcpus; i++)
		libxl_bitmap_set(&b->avail_vcpus, i);
	return 0;
}

static int
parse_boot(struct tpl *tp, libxl_domain_build_info *b)
{
	const char *kernel, *ramdisk, *root = NULL, *extra = NULL, *cmdline = NULL;
	int r, hr, he, hc;

	if ((r = get_str(tp, "kernel", &kernel)) < 0)
		return -1;
	if (r == 0)
		return fail_at(tp, NULL, "missing 'kernel' (a PV template "
		    "boots a kernel from dom0)");
	if (check_file(tp, "kernel", "kernel", kernel, 0) < 0)
		return -1;
	if ((b->kernel = xstrdup(tp, kernel)) == NULL)
		return -1;

	if ((r = get_str(tp, "ramdisk", &ramdisk)) < 0)
		return -1;
	if (r) {
		if (check_file(tp, "ramdisk", "ramdisk", ramdisk, 0) < 0)
			return -1;
		if ((b->ramdisk = xstrdup(tp, ramdisk)) == NULL)
			return -1;
	}

	if ((hr = get_str(tp, "root", &root)) < 0 ||
	    (he = get_str(tp, "extra", &extra)) < 0 ||
	    (hc = get_str(tp, "cmdline", &cmdline)) < 0)
		return -1;
	if (hc && (hr || he))
		return fail_at(tp, "cmdline", "'cmdline' replaces 'root' and "
		    "'extra': use either");
	if (!hc && !hr && !he)
		return 0;
	if (hc)
		b->cmdline = strdup(cmdline);
	else if (!hr)
		b->cmdline = strdup(extra);
	else if ((he ? asprintf(&b->cmdline, "root=%s %s", root, extra) :
	    asprintf(&b->cmdline, "root=%s", root)) == -1)
		b->cmdline = NULL;
	if (b->cmdline == NULL)
		return fail_at(tp, NULL, "out of memory");
	return 0;
}

static int
parse_disks(struct tpl *tp, struct mcd_template *t, libxl_domain_config *dc)
{
	XLU_ConfigList *list;
	libxl_device_disk *d;
	const char *spec;
	int r, n, i;

	r = xlu_cfg_get_list(tp->cfg, "disk", &list, &n, 0);
	if (r == ESRCH)
		return 0;
	if (r != 0)
		return fail_report(tp, r, "disk");
	if (n > TEMPLATE_DISKS_MAX)
		return fail_at(tp, "disk", "more than %d disks",
		    TEMPLATE_DISKS_MAX);
	if (n == 0)
		return 0;
	dc->disks = calloc((size_t)n, sizeof(*dc->disks));
	if (dc->disks == NULL)
		return fail_at(tp, NULL, "out of memory");
	for (i = 0; i < n; i++) {
		d = &dc->disks[i];
		libxl_device_disk_init(d);
		dc->num_disks = i + 1;	/* so dispose frees this one too */
		spec = xlu_cfg_get_listitem(list, i);
		if (spec == NULL)
			return fail_at(tp, "disk", "disk %d is not a string",
			    i + 1);
		r = xlu_disk_parse(tp->cfg, 1, &spec, d);
		if (r != 0)
			return fail_report(tp, r, "disk");
		if (d->vdev == NULL)
			return fail_at(tp, "disk", "disk %d has no vdev",
			    i + 1);
		if (d->readwrite) {
			seterr(tp->err, tp->errlen, "template %s: writable "
			    "disk %s needs a per-launch clone (not supported "
			    "yet)", tp->name, d->vdev);
			return -1;
		}
		if (d->format != LIBXL_DISK_FORMAT_EMPTY && d->pdev_path &&
		    d->pdev_path[0] != '\0' &&
		    check_file(tp, "disk", "disk target", d->pdev_path, 1) < 0)
			return -1;
	}
	t->num_disks = (unsigned)n;
	return 0;
}

/* --- public --------------------------------------------------------------- */

const char *
template_dir(void)
{
	const char *d = getenv(TEMPLATE_DIR_ENV);

	return (d && *d) ? d : TEMPLATE_DIR_DEFAULT;
}

int
template_name_valid(const char *name, char *err, size_t errlen)
{
	size_t i, n;

	if (name == NULL || *name == '\0') {
		seterr(err, errlen, "template name is empty");
		return 0;
	}
	n = strnlen(name, TEMPLATE_NAME_MAX + 1);
	if (n > TEMPLATE_NAME_MAX) {
		seterr(err, errlen, "template name '%.*s...' is longer than "
		    "%d characters", 16, name, TEMPLATE_NAME_MAX);
		return 0;
	}
	if (!isalnum((unsigned char)name[0]) || !isascii(name[0])) {
		seterr(err, errlen, "invalid template name '%s': it must "
		    "start with a letter or digit", name);
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isascii(c) || !(isalnum(c) || c == '_' || c == '.' ||
		    c == '-')) {
			seterr(err, errlen, "invalid template name '%s': only "
			    "letters, digits, '_', '.' and '-' are allowed",
			    name);
			return 0;
		}
	}
	if (strstr(name, "..") != NULL) {
		seterr(err, errlen, "invalid template name '%s': '..' is not "
		    "allowed", name);
		return 0;
	}
	return 1;
}

int
template_load(const char *dir, const char *name, struct mcd_template *t,
    libxl_domain_config *dc, char *err, size_t errlen)
{
	struct tpl tp;
	char *data = NULL;
	size_t len = 0;
	int n, r, rc = -1;

	libxl_domain_config_init(dc);
	memset(t, 0, sizeof(*t));
	memset(&tp, 0, sizeof(tp));
	tp.name = name;
	tp.path = t->path;
	tp.err = err;
	tp.errlen = errlen;
	seterr(err, errlen, "%s", "");

	if (!template_name_valid(name, err, errlen))
		goto out;
	if (dir == NULL)
		dir = template_dir();
	if (*dir == '\0') {
		seterr(err, errlen, "template directory is empty");
		goto out;
	}
	n = snprintf(t->path, sizeof(t->path), "%s/%s%s", dir, name,
	    TEMPLATE_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(t->path)) {
		seterr(err, errlen, "template directory '%.64s...' is too "
		    "long", dir);
		t->path[0] = '\0';
		goto out;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);

	if (read_file(&tp, &data, &len) < 0)
		goto out;

	tp.report = open_memstream(&tp.rbuf, &tp.rlen);
	if (tp.report == NULL) {
		fail_at(&tp, NULL, "open_memstream: %s", strerror(errno));
		goto out;
	}
	tp.cfg = xlu_cfg_init(tp.report, t->path);
	if (tp.cfg == NULL) {
		fail_at(&tp, NULL, "out of memory");
		goto out;
	}
	if (len > 0 && (r = xlu_cfg_readdata(tp.cfg, data, (int)len)) != 0) {
		fail_report(&tp, r, "cannot parse");
		goto out;
	}
	report_skip(&tp);
	if (scan_keys(&tp, data) < 0)
		goto out;

	dc->c_info.type = LIBXL_DOMAIN_TYPE_PV;
	libxl_domain_build_info_init_type(&dc->b_info, LIBXL_DOMAIN_TYPE_PV);

	if (parse_type(&tp) < 0 ||
	    parse_memory(&tp, t, &dc->b_info) < 0 ||
	    parse_vcpus(&tp, t, &dc->b_info) < 0 ||
	    parse_boot(&tp, &dc->b_info) < 0 ||
	    parse_disks(&tp, t, dc) < 0 ||
	    parse_actions(&tp, dc) < 0 ||
	    parse_mcd(&tp, t) < 0)
		goto out;
	rc = 0;
out:
	if (tp.cfg)
		xlu_cfg_destroy(tp.cfg);
	if (tp.report)
		fclose(tp.report);
	free(tp.rbuf);
	free(data);
	if (rc != 0) {
		libxl_domain_config_dispose(dc);
		libxl_domain_config_init(dc);
		if (err && errlen && err[0] == '\0')
			seterr(err, errlen, "template %s: invalid", name ?
			    name : "(null)");
	}
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
template_list(const char *dir, int (*cb)(const char *name, void *arg),
    void *arg)
{
	char **names = NULL, **nn, *stem;
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0, i, l, sl = strlen(TEMPLATE_SUFFIX);
	DIR *d;
	int e, count = -1;

	if (dir == NULL)
		dir = template_dir();
	if ((d = opendir(dir)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto out;
			break;
		}
		l = strlen(de->d_name);
		if (l <= sl || strcmp(de->d_name + l - sl,
		    TEMPLATE_SUFFIX) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if ((stem = strndup(de->d_name, l - sl)) == NULL)
			goto out;
		if (!template_name_valid(stem, NULL, 0)) {
			free(stem);
			continue;
		}
		if (n == TEMPLATE_LIST_MAX) {
			free(stem);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nn = reallocarray(names, cap, sizeof(*names));
			if (nn == NULL) {
				free(stem);
				goto out;
			}
			names = nn;
		}
		names[n++] = stem;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	count = 0;
	for (i = 0; i < n; i++) {
		count++;
		if (cb(names[i], arg) != 0)
			break;
	}
out:
	e = errno;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	if (count < 0)
		errno = e;
	return count;
}
