/*
 * template.c - load and check domain templates; see template.h.
 *
 * libxlutil does the parsing, so the syntax is xl's.  Its reports (syntax
 * errors as "file:line: ...", bad values, bad disk specs) go to a memory
 * stream and become our problems, one line each.  libxlutil has no way to
 * list the keys it read, so a small scanner walks the same text for the key
 * at the start of each statement: that is how unknown, reserved and
 * repeated keys are refused with their line number.
 *
 * Every check records its problem and goes on, so template_check can print
 * them all; template_load runs the same checks and fails with the first.
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

#include "log.h"
#include "template.h"

#define KEY_LEN_MAX	31	/* longer than any key we know */
#define KEYS_MAX	64	/* statements in one template */
#define PROBLEM_MAX	(PATH_MAX + 512)	/* one reported line */

/* Keys a template may hold. */
static const char *const tpl_keys[] = {
	"type", "memory", "maxmem", "vcpus", "maxvcpus",
	"kernel", "ramdisk", "root", "extra", "cmdline", "disk", "vif",
	"on_poweroff", "on_reboot", "on_crash", "on_watchdog",
	"mcd_os", "mcd_agent_timeout", "mcd_pool_size", "mcd_keep_for_user",
	"mcd_user_volume_size",
	"mcd_ready_timeout", NULL
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

/* State of one template_load or template_check call. */
struct tpl {
	const char	*name;
	const char	*path;
	char		*err;		/* the first problem goes here */
	size_t		 errlen;
	FILE		*out;		/* every problem goes here (may be NULL) */
	int		 problems;
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

/* Record one problem (a whole line, without newline).  Always -1. */
static int
problem(struct tpl *tp, const char *line)
{
	if (tp->problems == 0)
		seterr(tp->err, tp->errlen, "%s", line);
	if (tp->out)
		fprintf(tp->out, "%s\n", line);
	tp->problems++;
	return -1;
}

/* A problem at a known line: "path:line: ..." ("path: ..." if line 0). */
static int
problem_line(struct tpl *tp, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
problem_line(struct tpl *tp, int line, const char *fmt, ...)
{
	char msg[PROBLEM_MAX], full[PATH_MAX + PROBLEM_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", tp->path, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", tp->path, msg);
	return problem(tp, full);
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

/* A problem with key's value: "path:line: ..." (or "path: ..."). */
static int
fail_at(struct tpl *tp, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail_at(struct tpl *tp, const char *key, const char *fmt, ...)
{
	char msg[PROBLEM_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return problem_line(tp, key ? key_line(tp, key) : 0, "%s", msg);
}

/*
 * Record each line libxlutil reported since the last call as a problem
 * (its warnings are problems to us: we refuse the template), or
 * "path: <fallback>: strerror(e)" if it reported nothing.  Always -1.
 */
static int
fail_report(struct tpl *tp, int e, const char *fallback)
{
	char line[PROBLEM_MAX];
	const char *s, *end, *nl, *w;
	size_t n;
	int found = 0;

	if (tp->report && fflush(tp->report) == 0 && tp->rbuf &&
	    tp->rlen > tp->rseen) {
		s = tp->rbuf + tp->rseen;
		end = tp->rbuf + tp->rlen;
		tp->rseen = tp->rlen;
		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			if (n > 0) {
				w = memmem(s, n, ": warning: ", 11);
				if (w)
					snprintf(line, sizeof(line), "%.*s%.*s",
					    (int)(w - s + 2), s,
					    (int)(n - (size_t)(w - s) - 11),
					    w + 11);
				else
					snprintf(line, sizeof(line), "%.*s",
					    (int)n, s);
				problem(tp, line);
				found = 1;
			}
			s += n + 1;
		}
	}
	if (!found)
		fail_at(tp, NULL, "%s: %s", fallback, strerror(e));
	return -1;
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
	char line[PROBLEM_MAX];
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	fd = open(tp->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT) {
			snprintf(line, sizeof(line),
			    "unknown template '%s' (no %s)", tp->name,
			    tp->path);
			return problem(tp, line);
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
 * Record the key of every statement and report each unknown, reserved or
 * repeated one.  Runs on text libxlutil parsed (or tried to: after a syntax
 * error it still finds the keys of the statements around it), relying on
 * xl's lexical rules: keys are [a-z][._0-9a-z]*, statements end at a
 * newline or ';' outside brackets, strings are quoted with ' or " and may
 * hold backslash escapes, '#' starts a comment.
 */
static void
scan_keys(struct tpl *tp, const char *s)
{
	char key[KEY_LEN_MAX + 1];
	int line = 1, depth = 0, start = 1, plus, i, full = 0;
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
			start = 0;
			if (n > KEY_LEN_MAX) {
				problem_line(tp, line, "unknown key '%.*s...'",
				    KEY_LEN_MAX, s);
				s += n;
				continue;
			}
			memcpy(key, s, n);
			key[n] = '\0';
			s += n;
			while (*s == ' ' || *s == '\t')
				s++;
			plus = (*s == '+');

			if (in_list(tpl_reserved, key)) {
				problem_line(tp, line, "'%s' is set by MCD for "
				    "each launch and must not be in a template",
				    key);
				continue;
			}
			if (!in_list(tpl_keys, key)) {
				problem_line(tp, line, "unknown key '%s'", key);
				continue;
			}
			for (i = 0; i < tp->nkeys; i++)
				if (strcmp(tp->keys[i].name, key) == 0)
					break;
			if (i < tp->nkeys) {
				if (!plus)	/* += is a list addition */
					problem_line(tp, line, "'%s' already "
					    "set on line %d", key,
					    tp->keys[i].line);
				continue;
			}
			if (tp->nkeys == KEYS_MAX) {
				if (!full)
					problem_line(tp, line, "more than %d "
					    "keys", KEYS_MAX);
				full = 1;
				continue;
			}
			memcpy(tp->keys[tp->nkeys].name, key, n + 1);
			tp->keys[tp->nkeys].line = line;
			tp->nkeys++;
		} else {
			start = 0;
			s++;
		}
	}
}

/* --- typed getters -------------------------------------------------------- */

/* 1 and *v if set, 0 if absent, -1 on a bad value (problem recorded). */
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

/*
 * An absolute path to an existing file that we can read: a regular file,
 * or with allow_blk a block device too (*is_blk then tells which).
 */
static int
check_file(struct tpl *tp, const char *key, const char *what,
    const char *path, int allow_blk, int *is_blk)
{
	struct stat st;

	if (path[0] != '/')
		return fail_at(tp, key, "%s '%s' is not an absolute path",
		    what, path);
	if (stat(path, &st) == -1)
		return fail_at(tp, key, "%s %s: %s", what, path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode) && !(allow_blk && S_ISBLK(st.st_mode)))
		return fail_at(tp, key, "%s %s: not a regular file%s", what,
		    path, allow_blk ? " or block device" : "");
	if (access(path, R_OK) == -1)
		return fail_at(tp, key, "%s %s: %s", what, path,
		    strerror(errno));
	if (is_blk)
		*is_blk = S_ISBLK(st.st_mode);
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

/*
 * Each part records every problem it finds in its keys and returns -1 if
 * there was one.  Parts do not depend on each other, so all of them run.
 */

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
	int r, rc = 0;

	snprintf(t->os, sizeof(t->os), "linux");
	if ((r = get_str(tp, "mcd_os", &v)) < 0) {
		rc = -1;
	} else if (r) {
		if (!in_list(tpl_os, v))
			rc = fail_at(tp, "mcd_os", "mcd_os '%s' is not one "
			    "of linux, windows", v);
		else
			snprintf(t->os, sizeof(t->os), "%s", v);
	}
	t->agent_timeout_s = TEMPLATE_TIMEOUT_DEFAULT;
	if ((r = get_num(tp, "mcd_agent_timeout", 1, TEMPLATE_TIMEOUT_MAX,
	    &l)) < 0)
		rc = -1;
	else if (r)
		t->agent_timeout_s = (unsigned)l;
	t->ready_timeout_s = TEMPLATE_TIMEOUT_DEFAULT;
	if ((r = get_num(tp, "mcd_ready_timeout", 1, TEMPLATE_TIMEOUT_MAX,
	    &l)) < 0)
		rc = -1;
	else if (r)
		t->ready_timeout_s = (unsigned)l;
	t->pool_size = 0;
	if ((r = get_num(tp, "mcd_pool_size", 0, TEMPLATE_POOL_MAX, &l)) < 0)
		rc = -1;
	else if (r)
		t->pool_size = (unsigned)l;
	t->keep_for_user = 0;
	if ((r = get_num(tp, "mcd_keep_for_user", 0, 1, &l)) < 0)
		rc = -1;
	else if (r)
		t->keep_for_user = (int)l;
	t->user_volume_size = TEMPLATE_VOLUME_DEFAULT;
	if ((r = get_str(tp, "mcd_user_volume_size", &v)) < 0)
		rc = -1;
	else if (r && template_parse_size(v, &t->user_volume_size) < 0)
		rc = fail_at(tp, "mcd_user_volume_size", "mcd_user_volume_size "
		    "'%s' is not a size from 16M to 16T (a number and K, M, G "
		    "or T)", v);
	return rc;
}

int
template_parse_size(const char *s, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *u;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || !*end || end[1] != '\0')
		return -1;
	u = strchr(units, toupper((unsigned char)*end));
	if (!u)
		return -1;
	for (const char *k = units; k <= u; k++) {
		if (n > TEMPLATE_VOLUME_MAX >> 10)
			return -1;
		n <<= 10;
	}
	if (n < TEMPLATE_VOLUME_MIN || n > TEMPLATE_VOLUME_MAX)
		return -1;
	*bytes = n;
	return 0;
}

static int
parse_actions(struct tpl *tp, libxl_domain_config *dc)
{
	const char *const *k;
	const char *v;
	int r, rc = 0;

	for (k = tpl_on_keys; *k; k++) {
		if ((r = get_str(tp, *k, &v)) < 0)
			rc = -1;
		else if (r && strcmp(v, "destroy") != 0)
			rc = fail_at(tp, *k, "%s '%s': a disposable domain "
			    "is only ever destroyed", *k, v);
	}
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	return rc;
}

static int
parse_memory(struct tpl *tp, struct mcd_template *t,
    libxl_domain_build_info *b)
{
	long mem = 0, maxmem;
	int r, rc = 0;

	if ((r = get_num(tp, "memory", TEMPLATE_MEM_MIN, TEMPLATE_MEM_MAX,
	    &mem)) < 0)
		rc = -1;
	else if (r == 0)
		rc = fail_at(tp, NULL, "missing 'memory' (MiB, %d..%d)",
		    TEMPLATE_MEM_MIN, TEMPLATE_MEM_MAX);
	if (rc < 0)
		mem = TEMPLATE_MEM_MIN;	/* still check maxmem on its own */
	maxmem = mem;
	if ((r = get_num(tp, "maxmem", mem, TEMPLATE_MEM_MAX, &maxmem)) < 0)
		return -1;
	if (rc < 0)
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
	int r, rc = 0, i;

	if ((r = get_num(tp, "vcpus", 1, TEMPLATE_VCPUS_MAX, &vcpus)) < 0) {
		rc = -1;
		vcpus = 1;
	}
	maxvcpus = vcpus;
	if ((r = get_num(tp, "maxvcpus", vcpus, TEMPLATE_VCPUS_MAX,
	    &maxvcpus)) < 0)
		return -1;
	if (rc < 0)
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
	int r, hr, he, hc, rc = 0;

	if ((r = get_str(tp, "kernel", &kernel)) < 0)
		rc = -1;
	else if (r == 0)
		rc = fail_at(tp, NULL, "missing 'kernel' (a PV template "
		    "boots a kernel from dom0)");
	else if (check_file(tp, "kernel", "kernel", kernel, 0, NULL) < 0)
		rc = -1;
	else if ((b->kernel = xstrdup(tp, kernel)) == NULL)
		return -1;

	if ((r = get_str(tp, "ramdisk", &ramdisk)) < 0)
		rc = -1;
	else if (r && check_file(tp, "ramdisk", "ramdisk", ramdisk, 0,
	    NULL) < 0)
		rc = -1;
	else if (r && (b->ramdisk = xstrdup(tp, ramdisk)) == NULL)
		return -1;

	hr = get_str(tp, "root", &root);
	he = get_str(tp, "extra", &extra);
	hc = get_str(tp, "cmdline", &cmdline);
	if (hr < 0 || he < 0 || hc < 0)
		return -1;
	if (hc && (hr || he))
		return fail_at(tp, "cmdline", "'cmdline' replaces 'root' and "
		    "'extra': use either");
	if (rc < 0 || (!hc && !hr && !he))
		return rc;
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

/* A vdev names clone files and LVs: [a-z0-9]+, at most 15 characters. */
static int
vdev_valid(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > TEMPLATE_VDEV_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)v[i]) ||
		    isdigit((unsigned char)v[i])))
			return 0;
	return 1;
}

/* One disk: its spec parsed into d, recorded in td.  -1 on a problem. */
static int
parse_disk(struct tpl *tp, struct mcd_template *t, int i,
    XLU_ConfigList *list, libxl_device_disk *d, struct template_disk *td)
{
	const char *spec;
	unsigned j;
	int r;

	spec = xlu_cfg_get_listitem(list, i);
	if (spec == NULL)
		return fail_at(tp, "disk", "disk %d is not a string", i + 1);
	r = xlu_disk_parse(tp->cfg, 1, &spec, d);
	if (r != 0)
		return fail_report(tp, r, "disk");
	if (d->vdev == NULL)
		return fail_at(tp, "disk", "disk %d has no vdev", i + 1);
	if (!vdev_valid(d->vdev))
		return fail_at(tp, "disk", "disk %d: vdev '%.40s' must be 1..%d "
		    "lowercase letters and digits", i + 1, d->vdev,
		    TEMPLATE_VDEV_MAX);
	for (j = 0; j < (unsigned)i; j++)
		if (strcmp(t->disks[j].vdev, d->vdev) == 0)
			return fail_at(tp, "disk", "disk %d: vdev %s is "
			    "already used by disk %u", i + 1, d->vdev, j + 1);
	snprintf(td->vdev, sizeof(td->vdev), "%s", d->vdev);
	td->writable = d->readwrite != 0;
	td->is_cdrom = d->is_cdrom != 0;
	if (d->format == LIBXL_DISK_FORMAT_EMPTY || d->pdev_path == NULL ||
	    d->pdev_path[0] == '\0') {
		if (td->writable)
			return fail_at(tp, "disk", "writable disk %s has no "
			    "target to clone", d->vdev);
		return 0;
	}
	if (strlen(d->pdev_path) >= sizeof(td->target))
		return fail_at(tp, "disk", "disk %s: target is longer than "
		    "%zu bytes", d->vdev, sizeof(td->target) - 1);
	if (check_file(tp, "disk", "disk target", d->pdev_path, 1,
	    &td->is_block) < 0)
		return -1;
	snprintf(td->target, sizeof(td->target), "%s", d->pdev_path);
	return 0;
}

static int
parse_disks(struct tpl *tp, struct mcd_template *t, libxl_domain_config *dc)
{
	XLU_ConfigList *list;
	int r, n, i, rc = 0;

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
		libxl_device_disk_init(&dc->disks[i]);
		dc->num_disks = i + 1;	/* so dispose frees this one too */
		if (parse_disk(tp, t, i, list, &dc->disks[i],
		    &t->disks[i]) < 0)
			rc = -1;
		else if (t->disks[i].writable)
			t->num_writable++;
	}
	t->num_disks = (unsigned)n;
	return rc;
}

#define TEMPLATE_VIFS_MAX 4

/* A Linux interface name: 1..15 of [A-Za-z0-9_.-], not starting with '-'. */
static int
bridge_valid(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > 15 || b[0] == '-')
		return 0;
	return strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == n;
}

/* "00:16:3e:xx:xx:xx" into *mac; -1 if malformed. */
static int
parse_mac(const char *v, libxl_mac *mac)
{
	unsigned b[6];
	char end;

	if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
	    &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		(*mac)[i] = (uint8_t)b[i];
	/* A unicast address: the multicast bit clear. */
	return (b[0] & 1) ? -1 : 0;
}

/*
 * One vif: "bridge=NAME[, mac=XX:XX:XX:XX:XX:XX]".  Only what a template
 * needs to put a guest on a dom0 bridge; a domain's own network settings
 * (addresses, scripts) are not the template's to choose.
 */
static int
parse_vif(struct tpl *tp, const char *spec, int i, libxl_device_nic *nic)
{
	char buf[256], *tok, *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return fail_at(tp, "vif", "vif %d is too long", i + 1);
	snprintf(buf, sizeof(buf), "%s", spec);
	nic->nictype = LIBXL_NIC_TYPE_VIF;
	for (tok = strtok_r(buf, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq;

		while (*tok == ' ')
			tok++;
		for (eq = tok + strlen(tok); eq > tok && eq[-1] == ' '; eq--)
			eq[-1] = '\0';
		eq = strchr(tok, '=');
		if (eq == NULL)
			return fail_at(tp, "vif", "vif %d: '%.40s' is not KEY=VALUE",
			    i + 1, tok);
		*eq++ = '\0';
		if (strcmp(tok, "bridge") == 0) {
			if (!bridge_valid(eq))
				return fail_at(tp, "vif", "vif %d: bad bridge name",
				    i + 1);
			free(nic->bridge);
			nic->bridge = strdup(eq);
			if (nic->bridge == NULL)
				return fail_at(tp, NULL, "out of memory");
		} else if (strcmp(tok, "mac") == 0) {
			if (parse_mac(eq, &nic->mac) < 0)
				return fail_at(tp, "vif", "vif %d: bad mac '%.20s'",
				    i + 1, eq);
		} else {
			return fail_at(tp, "vif", "vif %d: key '%.20s' is not "
			    "supported (bridge, mac)", i + 1, tok);
		}
	}
	if (nic->bridge == NULL)
		return fail_at(tp, "vif", "vif %d has no bridge", i + 1);
	return 0;
}

static int
parse_vifs(struct tpl *tp, libxl_domain_config *dc)
{
	XLU_ConfigList *list;
	int r, n, i, rc = 0;

	r = xlu_cfg_get_list(tp->cfg, "vif", &list, &n, 0);
	if (r == ESRCH)
		return 0;
	if (r != 0)
		return fail_report(tp, r, "vif");
	if (n > TEMPLATE_VIFS_MAX)
		return fail_at(tp, "vif", "more than %d vifs", TEMPLATE_VIFS_MAX);
	if (n == 0)
		return 0;
	dc->nics = calloc((size_t)n, sizeof(*dc->nics));
	if (dc->nics == NULL)
		return fail_at(tp, NULL, "out of memory");
	for (i = 0; i < n; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);

		libxl_device_nic_init(&dc->nics[i]);
		dc->num_nics = i + 1;	/* so dispose frees this one too */
		if (spec == NULL)
			rc = fail_at(tp, "vif", "vif %d is not a string", i + 1);
		else if (parse_vif(tp, spec, i, &dc->nics[i]) < 0)
			rc = -1;
	}
	return rc;
}

/*
 * Load (or check) one template: every problem is recorded in tp.  Returns
 * the number of problems.
 */
static int
tpl_run(struct tpl *tp, const char *dir, const char *name,
    struct mcd_template *t, libxl_domain_config *dc)
{
	char line[PROBLEM_MAX];
	char *data = NULL;
	size_t len = 0;
	int n, r;

	libxl_domain_config_init(dc);
	memset(t, 0, sizeof(*t));
	tp->name = name;
	tp->path = t->path;

	if (!template_name_valid(name, line, sizeof(line))) {
		problem(tp, line);
		return tp->problems;
	}
	if (dir == NULL)
		dir = template_dir();
	if (*dir == '\0') {
		problem(tp, "template directory is empty");
		return tp->problems;
	}
	n = snprintf(t->path, sizeof(t->path), "%s/%s%s", dir, name,
	    TEMPLATE_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(t->path)) {
		snprintf(line, sizeof(line), "template directory '%.64s...' "
		    "is too long", dir);
		t->path[0] = '\0';
		problem(tp, line);
		return tp->problems;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);

	if (read_file(tp, &data, &len) < 0)
		goto out;

	tp->report = open_memstream(&tp->rbuf, &tp->rlen);
	if (tp->report == NULL) {
		fail_at(tp, NULL, "open_memstream: %s", strerror(errno));
		goto out;
	}
	tp->cfg = xlu_cfg_init(tp->report, t->path);
	if (tp->cfg == NULL) {
		fail_at(tp, NULL, "out of memory");
		goto out;
	}
	if (len > 0 && (r = xlu_cfg_readdata(tp->cfg, data, (int)len)) != 0) {
		/* Every syntax error, then the keys; libxlutil dropped the
		 * values, so checking them would only add noise. */
		fail_report(tp, r, "cannot parse");
		scan_keys(tp, data);
		goto out;
	}
	report_skip(tp);
	scan_keys(tp, data);

	dc->c_info.type = LIBXL_DOMAIN_TYPE_PV;
	libxl_domain_build_info_init_type(&dc->b_info, LIBXL_DOMAIN_TYPE_PV);

	parse_type(tp);
	parse_memory(tp, t, &dc->b_info);
	parse_vcpus(tp, t, &dc->b_info);
	parse_boot(tp, &dc->b_info);
	parse_disks(tp, t, dc);
	parse_vifs(tp, dc);
	parse_actions(tp, dc);
	parse_mcd(tp, t);
out:
	if (tp->cfg)
		xlu_cfg_destroy(tp->cfg);
	if (tp->report)
		fclose(tp->report);
	free(tp->rbuf);
	free(data);
	tp->cfg = NULL;
	tp->report = NULL;
	tp->rbuf = NULL;
	return tp->problems;
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

	memset(&tp, 0, sizeof(tp));
	tp.err = err;
	tp.errlen = errlen;
	seterr(err, errlen, "%s", "");
	if (tpl_run(&tp, dir, name, t, dc) == 0)
		return 0;
	libxl_domain_config_dispose(dc);
	libxl_domain_config_init(dc);
	return -1;
}

int
template_check(const char *dir, const char *name, FILE *out)
{
	struct mcd_template *t;
	libxl_domain_config dc;
	struct tpl tp;
	int n;

	if ((t = malloc(sizeof(*t))) == NULL) {
		if (out)
			fprintf(out, "%s: out of memory\n", name ? name : "");
		return 1;
	}
	memset(&tp, 0, sizeof(tp));
	tp.out = out;
	n = tpl_run(&tp, dir, name, t, &dc);
	libxl_domain_config_dispose(&dc);
	free(t);
	if (out)
		fflush(out);
	return n;
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
