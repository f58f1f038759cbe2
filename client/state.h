/*
 * state.h - what mcd-client keeps between runs, under its state directory
 * (0700): the login token (state_dir/token) and one file per running
 * session (state_dir/sessions/SID) with what it takes to end it.
 *
 * Every file is 0600 and written whole (a temporary file renamed over
 * it).  The token and the end keys are secrets, so a file that others can
 * read, that someone else owns, or that is a symbolic link is refused
 * rather than used.
 */
#ifndef CLIENT_STATE_H
#define CLIENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_TOKEN_LEN 64    /* as MCD_SITE_TOKEN_LEN */
#define STATE_SESSION_LEN 16  /* as MCD_SITE_SESSION_LEN */
#define STATE_END_KEY_LEN 32  /* as MCD_SITE_END_KEY_LEN */
#define STATE_SESSIONS_MAX 256

struct state_token {
	char token[STATE_TOKEN_LEN + 1];
	char user[33];
	uint32_t level;
	int64_t expires;    /* Unix time */
};

struct state_session {
	char session[STATE_SESSION_LEN + 1];
	char pool[65];
	char address[129];
	char end_key[STATE_END_KEY_LEN + 1];
	char app[65];
};

/* Create dir (and its sessions/ subdirectory) 0700 if missing, and check
 * that it is a directory of ours that nobody else can enter.  0, or -1
 * with a reason. */
int state_prepare(const char *dir, char *err, size_t errlen);

/* The token: 0 loaded, 1 none saved, -1 refused or unreadable (reason). */
int state_token_load(const char *dir, struct state_token *t, char *err,
		     size_t errlen);
int state_token_save(const char *dir, const struct state_token *t,
		     char *err, size_t errlen);
/* 0 removed, 1 there was none, -1 error. */
int state_token_remove(const char *dir, char *err, size_t errlen);

/* Sessions, by id (16 lowercase hex digits; anything else is refused). */
int state_session_save(const char *dir, const struct state_session *s,
		       char *err, size_t errlen);
int state_session_load(const char *dir, const char *sid,
		       struct state_session *s, char *err, size_t errlen);
int state_session_remove(const char *dir, const char *sid);
/* The ids saved, sorted, at most max: their count, or -1 with a reason. */
int state_session_list(const char *dir, char (*ids)[STATE_SESSION_LEN + 1],
		       int max, char *err, size_t errlen);

/* 1 if s is n lowercase hex digits. */
int state_is_hex(const char *s, size_t n);

/* Overwrite a secret in a way the compiler keeps. */
void state_wipe(void *p, size_t n);

#endif /* CLIENT_STATE_H */
