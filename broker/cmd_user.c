/*
 * cmd_user.c - `mcd-broker user add|passwd|level|del|list`.
 */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "log.h"
#include "passwd.h"
#include "pwread.h"

/* Read a password (file or terminal) and hash it into hash. */
static int
new_hash(const char *file, char hash[PASSWD_STR_MAX])
{
	char pw[PWREAD_MAX + 2], err[256];
	size_t len = 0;
	int rc;

	rc = pwread(file, pw, &len, err, sizeof(err));
	if (rc == 0)
		rc = passwd_hash(pw, len, hash, PASSWD_STR_MAX, err, sizeof(err));
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc < 0)
		log_warnx("%s", err);
	return rc;
}

/* Options of add and passwd: --level N (add only), --password-file F. */
static int
parse_pw_opts(int argc, char **argv, int want_level, uint32_t *level,
	      const char **file, const char **name)
{
	static const struct option opts[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	/* 0, not 1: main() scanned with "+", and only 0 resets that. */
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'l' && want_level && cmd_level(optarg, level) == 0)
			continue;
		if (o == 'p') {
			*file = optarg;
			continue;
		}
		return cmd_usage_error("user", o == 'l' ? "bad or unexpected --level"
				       : "unknown option");
	}
	if (optind != argc - 1)
		return cmd_usage_error("user", "one user NAME needed");
	*name = argv[optind];
	if (!mcd_site_valid_user(*name))
		return cmd_usage_error("user", "NAME must be [a-z_][a-z0-9_-]{0,31}, not root");
	if (want_level && *level == 0)
		return cmd_usage_error("user", "--level N (1..16) needed");
	return 0;
}

static int
user_add(struct store *s, int argc, char **argv)
{
	char hash[PASSWD_STR_MAX], err[256];
	const char *file = NULL, *name = NULL;
	uint32_t level = 0;
	int rc = parse_pw_opts(argc, argv, 1, &level, &file, &name);

	if (rc)
		return rc;
	if (store_user_get(s, name, &(struct store_user){ 0 }, NULL, 0) == 0) {
		log_warnx("user %s already exists", name);
		return 1;
	}
	if (new_hash(file, hash) < 0)
		return 1;
	if (store_user_add(s, name, level, hash, time(NULL), err,
			   sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("user %s added at level %u\n", name, level);
	return 0;
}

static int
user_passwd(struct store *s, int argc, char **argv)
{
	char hash[PASSWD_STR_MAX], err[256];
	const char *file = NULL, *name = NULL;
	uint32_t level = 0;
	int rc = parse_pw_opts(argc, argv, 0, &level, &file, &name);

	if (rc)
		return rc;
	if (store_user_get(s, name, &(struct store_user){ 0 }, err,
			   sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	if (new_hash(file, hash) < 0)
		return 1;
	if (store_user_set_hash(s, name, hash, err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("password of %s changed\n", name);
	return 0;
}

static int
user_level(struct store *s, int argc, char **argv)
{
	uint32_t level;
	char err[256];

	if (argc != 3)
		return cmd_usage_error("user", "user level NAME N");
	if (cmd_level(argv[2], &level) < 0)
		return cmd_usage_error("user", "level must be 1..16");
	if (store_user_set_level(s, argv[1], level, err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("user %s now at level %u (logged out)\n", argv[1], level);
	return 0;
}

static int
user_del(struct store *s, int argc, char **argv)
{
	char err[256];

	if (argc != 2)
		return cmd_usage_error("user", "user del NAME");
	if (store_user_del(s, argv[1], err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("user %s deleted\n", argv[1]);
	return 0;
}

static int
print_user(const struct store_user *u, void *arg)
{
	yajl_gen g = arg;

	if (!g) {
		printf("%-32s %5u\n", u->name, u->level);
		return 0;
	}
	yajl_gen_map_open(g);
	cmd_json_key_str(g, "name", u->name);
	cmd_json_key_int(g, "level", u->level);
	cmd_json_key_int(g, "created", u->created);
	yajl_gen_map_close(g);
	return 0;
}

static int
user_list(struct store *s, int argc, char **argv)
{
	int json = argc == 2 && !strcmp(argv[1], "--json");
	yajl_gen g = NULL;
	char err[256];

	if (argc > 2 || (argc == 2 && !json))
		return cmd_usage_error("user", "user list [--json]");
	if (json) {
		g = cmd_json_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-32s %5s\n", "USER", "LEVEL");
	}
	if (store_user_each(s, print_user, g, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		if (g)
			yajl_gen_free(g);
		return 1;
	}
	if (!g)
		return 0;
	yajl_gen_array_close(g);
	return cmd_json_done(g);
}

int
cmd_user(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct store *s, int argc, char **argv);
	} subs[] = {
		{ "add", user_add }, { "passwd", user_passwd },
		{ "level", user_level }, { "del", user_del },
		{ "list", user_list },
	};
	struct store *s;
	int rc;

	if (argc < 2)
		return cmd_usage_error("user", "a subcommand is needed");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		s = cmd_store();
		if (!s)
			return 1;
		rc = subs[i].fn(s, argc - 1, argv + 1);
		store_close(s);
		return rc;
	}
	return cmd_usage_error("user", "unknown subcommand");
}
