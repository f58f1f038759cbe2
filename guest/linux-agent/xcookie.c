/*
 * xcookie.c - the session's Xauthority file (see xcookie.h).
 */
#include "xcookie.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <X11/Xauth.h>

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int cookie_bytes(const char *hex, unsigned char out[XCOOKIE_BYTES])
{
	if (!mcd_valid_xcookie(hex))
		return -1;
	for (int i = 0; i < XCOOKIE_BYTES; i++)
		out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 |
					 hexval(hex[2 * i + 1]));
	return 0;
}

/* A root-owned directory on the way: create it, or accept it only if it
 * is a real directory that only root can change. */
static int root_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* base and its parent (both fixed paths under /run by default). */
static int base_dirs(const char *base)
{
	char parent[PATH_MAX];
	char *slash;

	if (snprintf(parent, sizeof(parent), "%s", base) >= (int)sizeof(parent))
		return -1;
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (root_dir(parent) < 0)
			return -1;
	}
	return root_dir(base);
}

static void set_entry(Xauth *a, unsigned short family, char *addr,
		      char *num, unsigned char *data)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->address = addr;
	a->address_length = (unsigned short)strlen(addr);
	a->number = num;
	a->number_length = (unsigned short)strlen(num);
	a->name = (char *)XCOOKIE_NAME;
	a->name_length = (unsigned short)strlen(XCOOKIE_NAME);
	a->data = (char *)data;
	a->data_length = XCOOKIE_BYTES;
}

/* The two entries, into a file root just created in a root-only dir. */
static int write_entries(FILE *f, int dnum, unsigned char *data)
{
	char host[256] = "";
	char num[16];
	char none[1] = "";
	Xauth a;

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	snprintf(num, sizeof(num), "%d", dnum);
	set_entry(&a, FamilyLocal, host, num, data);
	if (host[0] && XauWriteAuth(f, &a) != 1)
		return -1;
	set_entry(&a, FamilyWild, none, none, data);
	if (XauWriteAuth(f, &a) != 1)
		return -1;
	return fflush(f) == 0 ? 0 : -1;
}

int xcookie_install(struct xcookie *c, const char *base, const char *sid,
		    const char *hex, int dnum, uid_t uid, gid_t gid,
		    char *reason, size_t reason_len)
{
	unsigned char data[XCOOKIE_BYTES];
	char fbuf[BUFSIZ]; /* stdio's buffer holds the cookie: ours, wiped */
	const char *step = "directory";
	FILE *f = NULL;
	int fd = -1;

	memset(c, 0, sizeof(*c));
	if (cookie_bytes(hex, data) < 0 || !mcd_valid_session_id(sid)) {
		snprintf(reason, reason_len, "bad X cookie or session id");
		return -1;
	}
	if (snprintf(c->dir, sizeof(c->dir), "%s/%s", base, sid) >=
		    (int)sizeof(c->dir) ||
	    snprintf(c->path, sizeof(c->path), "%s/Xauthority", c->dir) >=
		    (int)sizeof(c->path)) {
		snprintf(reason, reason_len, "X cookie path too long");
		c->dir[0] = '\0';
		return -1;
	}
	/* A directory left by a crashed agent for the same session id. */
	unlink(c->path);
	rmdir(c->dir);
	if (base_dirs(base) < 0 || mkdir(c->dir, 0700) < 0) {
		snprintf(reason, reason_len, "X cookie %s %s: %s", step,
			 c->dir, strerror(errno));
		c->dir[0] = '\0';
		return -1;
	}
	/* Written as root in a directory nobody else can enter yet; handed
	 * to the user only once complete. */
	step = "file";
	fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		  O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		goto fail;
	fd = -1;
	setvbuf(f, fbuf, _IOFBF, sizeof(fbuf));
	if (write_entries(f, dnum, data) < 0 ||
	    fchown(fileno(f), uid, gid) < 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (chown(c->dir, uid, gid) < 0)
		goto fail;
	explicit_bzero(data, sizeof(data));
	explicit_bzero(fbuf, sizeof(fbuf));
	return 0;
fail:
	snprintf(reason, reason_len, "X cookie %s %s: %s", step, c->path,
		 strerror(errno));
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	explicit_bzero(data, sizeof(data));
	explicit_bzero(fbuf, sizeof(fbuf));
	xcookie_remove(c);
	return -1;
}

void xcookie_remove(struct xcookie *c)
{
	if (!c || !c->dir[0])
		return;
	/* The user owns the directory and may have put more in it; only
	 * what the agent made is removed, the rest stays for an admin. */
	unlink(c->path);
	rmdir(c->dir);
	c->dir[0] = '\0';
	c->path[0] = '\0';
}
