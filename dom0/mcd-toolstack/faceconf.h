/*
 * faceconf.h - the pool master's network face: its configuration file
 * (`mcd-toolstack daemon --face FILE`), and how a checked launch ticket
 * becomes the CTL_LAUNCH request the service already knows.
 *
 * The file is strict `key = value`, one per line; '#' starts a comment
 * line.  Every key but share appears at most once; an unknown key, a bad
 * value or a missing required key is reported as "file:line: why" and the
 * service refuses to start.
 *
 *   name = POOL              this pool's name: its certificate's DNS name
 *   level = N                the security level it serves (1..16)
 *   listen = ADDR:PORT       where thin clients connect ([v6]:PORT too)
 *   cert = FILE              certificate chain (PEM)
 *   key = FILE               its private key (PEM)
 *   ca = FILE                the site CA (optional: for the record)
 *   ticket_key = FILE        the Auth/App server's Ed25519 public key
 *   max_connections = N      face connections at once (default 64)
 *   share = KIND SOURCE NAME [USER PASSWORD-FILE]   0..4 lines: the
 *                            level's network storage, mounted in every
 *                            session; "{user}" in SOURCE is replaced by
 *                            the ticket's user.  Never from the client.
 *   volume = yes|no          attach the user's persistent volume
 *
 * Share passwords are read from their files here, once, while the service
 * is root; a file that others may read is refused.
 */
#ifndef MCD_FACECONF_H
#define MCD_FACECONF_H

#include <stddef.h>
#include <stdint.h>

#include "mcd_proto.h"

struct ctl_msg;
struct mcd_ticket;

#define FACE_POOL_MAX 64
#define FACE_PATH_MAX 256
#define FACE_LEVEL_MAX 16
#define FACE_CONN_DEFAULT 64
#define FACE_CONN_MAX 1024  /* each is a process: keep it bounded */
#define FACE_USER_TOKEN "{user}"

struct face_share {
	char kind[8];
	char source[MCD_MAX_SHARE_SRC + 1]; /* may hold {user} */
	char name[MCD_MAX_MOUNT_NAME + 1];
	char user[MCD_MAX_SHARE_USER + 1];
	char password[MCD_MAX_SECRET_LEN + 1];
};

struct face_conf {
	char name[FACE_POOL_MAX + 1];
	unsigned level;
	char listen_host[64];  /* numeric address or name, without brackets */
	unsigned listen_port;
	char cert[FACE_PATH_MAX], key[FACE_PATH_MAX], ca[FACE_PATH_MAX];
	char ticket_key[FACE_PATH_MAX];
	unsigned max_connections;
	unsigned nshares;
	struct face_share share[MCD_MAX_SHARES];
	int volume;
};

/* Read and check FILE.  0, or -1 with "file:line: why" in err (the first
 * problem; every problem is counted in *nerr when nerr is not NULL). */
int faceconf_load(const char *path, struct face_conf *c, char *err,
		  size_t errlen, unsigned *nerr);
/* Wipe it (it holds share passwords). */
void faceconf_wipe(struct face_conf *c);

/* src with every "{user}" replaced by user.  0, or -1 if it does not fit. */
int faceconf_subst_user(const char *src, const char *user, char *out,
			size_t outlen);

/*
 * The CTL_LAUNCH a checked ticket stands for: template, user and display
 * from the ticket, wait, the options (xcookie=COOKIE when cookie is not
 * NULL, the level's volume= and share= with {user} replaced), then argv
 * (PROGRAM, ARG...).  m's strings point into m->buf.  0, or -1 with a
 * one-line reason.  Pure: no files, no Xen.
 */
int face_launch_msg(const struct mcd_ticket *t, const struct face_conf *c,
		    const char *cookie, uint32_t wait, struct ctl_msg *m,
		    char *err, size_t errlen);

#endif /* MCD_FACECONF_H */
