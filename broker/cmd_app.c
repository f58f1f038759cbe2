/*
 * cmd_app.c - `mcd-broker app add|del|list`.
 *
 * app add checks what the catalog rules need (catalog.h): every pool it
 * lists exists and serves the app's level.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

/* Copy a value into a fixed field; -1 when it does not fit. */
static int
put(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int
add_list(struct store_app *a, int o, const char *v, size_t *argbytes)
{
	if (o == 'A') {
		*argbytes += strlen(v);
		if (a->nargs == MCD_SITE_ARGS_MAX || !*v ||
		    *argbytes > STORE_ARGS_BYTES_MAX)
			return -1;
		return put(a->args[a->nargs++], sizeof(a->args[0]), v);
	}
	if (a->npools == MCD_SITE_POOLS_MAX || !mcd_site_valid_pool(v))
		return -1;
	return put(a->pools[a->npools++], sizeof(a->pools[0]), v);
}

static int
parse_add(struct store_app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "os", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'l' },
		{ "template", required_argument, NULL, 't' },
		{ "program", required_argument, NULL, 'p' },
		{ "arg", required_argument, NULL, 'A' },
		{ "pool", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	size_t argbytes = 0;
	int o, bad = 0;

	/* 0, not 1: main() scanned with "+", and only 0 resets that. */
	optind = 0;
	while (!bad && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': bad = put(a->name, sizeof(a->name), optarg); break;
		case 'o': bad = put(a->os, sizeof(a->os), optarg); break;
		case 'l': bad = cmd_level(optarg, &a->level); break;
		case 't': bad = put(a->template_name, sizeof(a->template_name),
				    optarg); break;
		case 'p': bad = put(a->program, sizeof(a->program), optarg); break;
		case 'A':
		case 'P': bad = add_list(a, o, optarg, &argbytes); break;
		default: return cmd_usage_error("app", "unknown option");
		}
		if (bad)
			return cmd_usage_error("app", "a value is too long, empty or "
					       "out of range, or too many of it");
	}
	if (optind != argc - 1 || put(a->id, sizeof(a->id), argv[optind]) < 0)
		return cmd_usage_error("app", "one app ID needed");
	return 0;
}

static int
check_add(const struct store_app *a)
{
	if (!mcd_site_valid_app(a->id))
		return cmd_usage_error("app", "ID must be [a-z0-9][a-z0-9._-]{0,63}");
	if (!a->name[0] || !a->template_name[0] || !a->level)
		return cmd_usage_error("app", "--name, --level and --template are needed");
	if (strcmp(a->os, "linux") && strcmp(a->os, "windows"))
		return cmd_usage_error("app", "--os must be linux or windows");
	if (a->program[0] != '/')
		return cmd_usage_error("app", "--program must be an absolute path");
	return 0;
}

/* Listed pools exist and serve the app's level (a pool serves one). */
static int
check_pools(struct store *s, const struct store_app *a)
{
	struct store_pool p;
	char err[256];

	for (unsigned i = 0; i < a->npools; i++) {
		if (store_pool_get(s, a->pools[i], &p, err, sizeof(err))) {
			log_warnx("%s", err);
			return 1;
		}
		if (p.level != a->level) {
			log_warnx("pool %s serves level %u, not the app's level %u",
				  p.name, p.level, a->level);
			return 1;
		}
	}
	return 0;
}

static int
app_add(struct store *s, int argc, char **argv)
{
	struct store_app *a = calloc(1, sizeof(*a));
	char err[256];
	int rc;

	if (!a) {
		log_warnx("out of memory");
		return 1;
	}
	rc = parse_add(a, argc, argv);
	if (!rc)
		rc = check_add(a);
	if (!rc)
		rc = check_pools(s, a);
	if (!rc && store_app_add(s, a, err, sizeof(err))) {
		log_warnx("%s", err);
		rc = 1;
	}
	if (!rc)
		printf("app %s (%s) added at level %u\n", a->id, a->name, a->level);
	free(a);
	return rc;
}

static int
app_del(struct store *s, int argc, char **argv)
{
	char err[256];

	if (argc != 2)
		return cmd_usage_error("app", "app del ID");
	if (store_app_del(s, argv[1], err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("app %s deleted\n", argv[1]);
	return 0;
}

static void
json_app(yajl_gen g, const struct store_app *a)
{
	yajl_gen_map_open(g);
	cmd_json_key_str(g, "id", a->id);
	cmd_json_key_str(g, "name", a->name);
	cmd_json_key_str(g, "os", a->os);
	cmd_json_key_int(g, "level", a->level);
	cmd_json_key_str(g, "template", a->template_name);
	cmd_json_key_str(g, "program", a->program);
	cmd_json_key(g, "args");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < a->nargs; i++)
		cmd_json_str(g, a->args[i]);
	yajl_gen_array_close(g);
	/* Only the listed pools: none means every pool of the level. */
	cmd_json_key(g, "pools");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < a->npools; i++)
		cmd_json_str(g, a->pools[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

static int
print_app(const struct store_app *a, void *arg)
{
	yajl_gen g = arg;

	if (g) {
		json_app(g, a);
		return 0;
	}
	printf("%-24s %5u %-8s %-16s %s", a->id, a->level, a->os,
	       a->template_name, a->program);
	for (unsigned i = 0; i < a->nargs; i++)
		printf(" %s", a->args[i]);
	printf("  [");
	for (unsigned i = 0; i < a->npools; i++)
		printf("%s%s", i ? " " : "", a->pools[i]);
	printf("%s]  %s\n", a->npools ? "" : "pools of its level", a->name);
	return 0;
}

static int
app_list(struct store *s, int argc, char **argv)
{
	int json = argc == 2 && !strcmp(argv[1], "--json");
	struct store_app *a = calloc(1, sizeof(*a));
	yajl_gen g = NULL;
	char err[256];
	int rc = 0;

	if (!a) {
		log_warnx("out of memory");
		return 1;
	}
	if (argc > 2 || (argc == 2 && !json)) {
		free(a);
		return cmd_usage_error("app", "app list [--json]");
	}
	if (json) {
		g = cmd_json_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-24s %5s %-8s %-16s %s  [POOLS]  NAME\n", "APP", "LEVEL",
		       "OS", "TEMPLATE", "PROGRAM");
	}
	if (store_app_each(s, 0, a, print_app, g, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		rc = 1;
	}
	free(a);
	if (!g)
		return rc;
	if (rc) {
		yajl_gen_free(g);
		return rc;
	}
	yajl_gen_array_close(g);
	return cmd_json_done(g);
}

int
cmd_app(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct store *s, int argc, char **argv);
	} subs[] = {
		{ "add", app_add }, { "del", app_del }, { "list", app_list },
	};
	struct store *s;
	int rc;

	if (argc < 2)
		return cmd_usage_error("app", "a subcommand is needed");
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
	return cmd_usage_error("app", "unknown subcommand");
}
