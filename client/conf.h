/*
 * conf.h - mcd-client's configuration: strict `key = value` lines.
 *
 * The file is found at --config, $MCD_CLIENT_CONFIG or
 * ~/.config/mcd/client.conf.  Unknown keys, repeated keys and bad values
 * are refused with file:line, so a typo never silently falls back to a
 * default.
 */
#ifndef CLIENT_CONF_H
#define CLIENT_CONF_H

#include <limits.h>
#include <stddef.h>

#define CONF_ENV "MCD_CLIENT_CONFIG"
#define CONF_HOST_MAX 128         /* server host or certificate name */
#define CONF_ADDRESS_MAX 128      /* as MCD_SITE_ADDRESS_MAX */
#define CONF_DISPLAY_MAX 64       /* as MCD_SITE_DISPLAY_MAX */
#define CONF_LOAD_TIMEOUT_DEFAULT 2000
#define CONF_LOAD_TIMEOUT_MAX 600000

struct conf {
	char path[PATH_MAX];                  /* the file read */
	char server[CONF_ADDRESS_MAX + 1];    /* host:port of the broker */
	char server_name[CONF_HOST_MAX + 1];  /* its certificate's name */
	char ca[PATH_MAX];                    /* the site CA (PEM) */
	/* This thin client's X display as the pools reach it: the pools see
	 * another address than $DISPLAY says, so it is never guessed. */
	char display[CONF_DISPLAY_MAX + 1];
	char xauthority[PATH_MAX];
	int load_timeout_ms;
	char state_dir[PATH_MAX];
};

/* The file to read: explicit (--config), else $MCD_CLIENT_CONFIG, else
 * ~/.config/mcd/client.conf.  0, or -1 with a reason. */
int conf_path(const char *explicit_path, char *out, size_t outlen,
	      char *err, size_t errlen);

/* Parse text (the file's contents, named path in messages) into c, with
 * defaults for what it leaves out.  0, or -1 with one line
 * ("FILE:LINE: ..." or "FILE: missing server"). */
int conf_parse(struct conf *c, const char *path, const char *text,
	       char *err, size_t errlen);

/* Read and parse the file at path.  0, or -1 with one line. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* Shape checks shared with the command line: 1 if valid. */
int conf_valid_address(const char *s);   /* host:port, port 1..65535 */
int conf_valid_display(const char *s);   /* host:N or host:N.M */

/* The display number of "host:N[.M]" (-1 if malformed). */
int conf_display_number(const char *display);

#endif /* CLIENT_CONF_H */
