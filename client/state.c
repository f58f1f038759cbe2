/*
 * state.c - the token and session files (see state.h).
 */
#include "state.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FILE_MAX 4096

void state_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

int state_is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* ---- the directory ---- */

/* mkdir -p with 0700 for what is created. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* dir is a real directory of ours; closed to others (made so if we own
 * it and it was left open). */
static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		client_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		client_seterr(err, errlen, "%s: not a directory of this user's "
		       "(a symbolic link or someone else's)", dir);
		return -1;
	}
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
		client_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int state_prepare(const char *dir, char *err, size_t errlen)
{
	char sub[PATH_MAX];

	if (snprintf(sub, sizeof(sub), "%s/sessions", dir) >= (int)sizeof(sub)) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (make_dirs(sub) < 0) {
		client_seterr(err, errlen, "%s: %s", sub, strerror(errno));
		return -1;
	}
	if (check_dir(dir, err, errlen) < 0)
		return -1;
	return check_dir(sub, err, errlen);
}

/* ---- whole files of key=value lines ---- */

/* Write text to path 0600 through a temporary file and rename. */
static int write_file(const char *path, const char *text, char *err,
		      size_t errlen)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		client_seterr(err, errlen, "%s: path too long", path);
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		goto fail;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	client_seterr(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Read path into buf, refusing links, others' files and open modes.
 * 0, 1 when absent, -1 with a reason. */
static int read_file(const char *path, char *buf, size_t buflen, char *err,
		     size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		client_seterr(err, errlen, "%s: %s", path, errno == ELOOP ?
		       "a symbolic link: refused" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		client_seterr(err, errlen, "%s: refused: not a private file of this "
		       "user's (it must be mode 0600)", path);
		return -1;
	}
	n = read(fd, buf, buflen - 1);
	close(fd);
	if (n < 0 || (size_t)n == buflen - 1) {
		client_seterr(err, errlen, "%s: %s", path,
		       n < 0 ? strerror(errno) : "too large");
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* The value of key in "key=value\n" text, into out.  -1 when absent or
 * too long. */
static int get_value(const char *text, const char *key, char *out,
		     size_t outlen)
{
	size_t klen = strlen(key);

	for (const char *p = text; *p; p += strcspn(p, "\n"), p += (*p == '\n')) {
		size_t n;

		if (strncmp(p, key, klen) || p[klen] != '=')
			continue;
		n = strcspn(p + klen + 1, "\n");
		if (n >= outlen)
			return -1;
		memcpy(out, p + klen + 1, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

static int file_path(char *out, size_t outlen, const char *dir,
		     const char *sub, const char *name)
{
	return snprintf(out, outlen, "%s/%s%s", dir, sub, name) < (int)outlen
		       ? 0 : -1;
}

/* ---- the token ---- */

int state_token_save(const char *dir, const struct state_token *t,
		     char *err, size_t errlen)
{
	char path[PATH_MAX], text[512];
	int rc;

	if (file_path(path, sizeof(path), dir, "", "token") < 0) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	snprintf(text, sizeof(text), "token=%s\nuser=%s\nlevel=%" PRIu32
		 "\nexpires=%" PRId64 "\n", t->token, t->user, t->level,
		 t->expires);
	rc = write_file(path, text, err, errlen);
	state_wipe(text, sizeof(text));
	return rc;
}

int state_token_load(const char *dir, struct state_token *t, char *err,
		     size_t errlen)
{
	char path[PATH_MAX], text[STATE_FILE_MAX], num[24];
	int rc;

	memset(t, 0, sizeof(*t));
	if (file_path(path, sizeof(path), dir, "", "token") < 0) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	rc = read_file(path, text, sizeof(text), err, errlen);
	if (rc != 0)
		goto out;
	rc = -1;
	if (get_value(text, "token", t->token, sizeof(t->token)) < 0 ||
	    !state_is_hex(t->token, STATE_TOKEN_LEN) ||
	    get_value(text, "user", t->user, sizeof(t->user)) < 0 ||
	    get_value(text, "level", num, sizeof(num)) < 0 ||
	    sscanf(num, "%" SCNu32, &t->level) != 1 ||
	    get_value(text, "expires", num, sizeof(num)) < 0 ||
	    sscanf(num, "%" SCNd64, &t->expires) != 1) {
		client_seterr(err, errlen, "%s: damaged (log in again)", path);
		state_wipe(t, sizeof(*t));
		goto out;
	}
	rc = 0;
out:
	state_wipe(text, sizeof(text));
	return rc;
}

int state_token_remove(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (file_path(path, sizeof(path), dir, "", "token") < 0) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT)
		return 1;
	client_seterr(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* ---- sessions ---- */

static int session_path(char *out, size_t outlen, const char *dir,
			const char *sid, char *err, size_t errlen)
{
	if (!state_is_hex(sid, STATE_SESSION_LEN)) {
		client_seterr(err, errlen, "'%.32s' is not a session id (16 hex digits)",
		       sid);
		return -1;
	}
	if (file_path(out, outlen, dir, "sessions/", sid) < 0) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

int state_session_save(const char *dir, const struct state_session *s,
		       char *err, size_t errlen)
{
	char path[PATH_MAX], text[1024];
	int rc;

	if (session_path(path, sizeof(path), dir, s->session, err, errlen) < 0)
		return -1;
	snprintf(text, sizeof(text),
		 "session=%s\npool=%s\naddress=%s\nend_key=%s\napp=%s\n",
		 s->session, s->pool, s->address, s->end_key, s->app);
	rc = write_file(path, text, err, errlen);
	state_wipe(text, sizeof(text));
	return rc;
}

int state_session_load(const char *dir, const char *sid,
		       struct state_session *s, char *err, size_t errlen)
{
	char path[PATH_MAX], text[STATE_FILE_MAX];
	int rc;

	memset(s, 0, sizeof(*s));
	if (session_path(path, sizeof(path), dir, sid, err, errlen) < 0)
		return -1;
	rc = read_file(path, text, sizeof(text), err, errlen);
	if (rc == 1)
		client_seterr(err, errlen, "no session %s saved here", sid);
	if (rc != 0)
		goto out;
	rc = -1;
	if (get_value(text, "session", s->session, sizeof(s->session)) < 0 ||
	    strcmp(s->session, sid) ||
	    get_value(text, "pool", s->pool, sizeof(s->pool)) < 0 ||
	    get_value(text, "address", s->address, sizeof(s->address)) < 0 ||
	    get_value(text, "end_key", s->end_key, sizeof(s->end_key)) < 0 ||
	    !state_is_hex(s->end_key, STATE_END_KEY_LEN) ||
	    get_value(text, "app", s->app, sizeof(s->app)) < 0) {
		client_seterr(err, errlen, "%s: damaged", path);
		state_wipe(s, sizeof(*s));
		goto out;
	}
	rc = 0;
out:
	state_wipe(text, sizeof(text));
	return rc;
}

int state_session_remove(const char *dir, const char *sid)
{
	char path[PATH_MAX], err[8];

	if (session_path(path, sizeof(path), dir, sid, err, sizeof(err)) < 0)
		return -1;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

int state_session_list(const char *dir, char (*ids)[STATE_SESSION_LEN + 1],
		       int max, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (file_path(path, sizeof(path), dir, "sessions", "") < 0) {
		client_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	d = opendir(path);
	if (!d && errno == ENOENT)
		return 0;
	if (!d) {
		client_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Only names that are session ids: temporary files are skipped. */
	while ((de = readdir(d)) && n < max)
		if (state_is_hex(de->d_name, STATE_SESSION_LEN))
			memcpy(ids[n++], de->d_name, STATE_SESSION_LEN + 1);
	closedir(d);
	qsort(ids, (size_t)n, sizeof(ids[0]), cmp_ids);
	return n;
}
