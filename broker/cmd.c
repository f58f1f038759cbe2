/*
 * cmd.c - helpers shared by the admin commands; see cmd.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

const char *cmd_db = CMD_DB_DEFAULT;

struct store *
cmd_store(void)
{
	char err[256];
	struct store *s = store_open(cmd_db, err, sizeof(err));

	if (!s)
		log_warnx("%s", err);
	return s;
}

int
cmd_usage_error(const char *cmd, const char *what)
{
	/* One line: the usage text is for --help. */
	fprintf(stderr, "mcd-broker %s: %s (see 'mcd-broker %s --help')\n", cmd,
		what, cmd);
	return 2;
}

int
cmd_level(const char *s, uint32_t *level)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 ||
	    v > MCD_SITE_LEVEL_MAX)
		return -1;
	*level = (uint32_t)v;
	return 0;
}

yajl_gen
cmd_json_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g) {
		log_warnx("out of memory");
		exit(1);
	}
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

void
cmd_json_str(yajl_gen g, const char *val)
{
	yajl_gen_string(g, (const unsigned char *)val, strlen(val));
}

void
cmd_json_key(yajl_gen g, const char *key)
{
	cmd_json_str(g, key);
}

void
cmd_json_key_str(yajl_gen g, const char *key, const char *val)
{
	cmd_json_str(g, key);
	cmd_json_str(g, val);
}

void
cmd_json_key_int(yajl_gen g, const char *key, long long val)
{
	cmd_json_str(g, key);
	yajl_gen_integer(g, val);
}

int
cmd_json_done(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	int rc = 0;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
		log_warnx("cannot write JSON");
		rc = 1;
	} else {
		fwrite(buf, 1, len, stdout);
		putchar('\n');
	}
	yajl_gen_free(g);
	return rc;
}
