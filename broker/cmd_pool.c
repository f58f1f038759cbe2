/*
 * cmd_pool.c - `mcd-broker pool add|del|list`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static int
pool_add(struct store *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "level", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_pool p = { .level = 0 };
	const char *address = NULL;
	char err[256];
	int o;

	/* 0, not 1: main() scanned with "+", and only 0 resets that. */
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'a')
			address = optarg;
		else if (o != 'l' || cmd_level(optarg, &p.level) < 0)
			return cmd_usage_error("pool", o == 'l' ?
					       "level must be 1..16" : "unknown option");
	}
	if (optind != argc - 1 || !address || !p.level)
		return cmd_usage_error("pool", "pool add NAME --address HOST:PORT --level N");
	if (!mcd_site_valid_pool(argv[optind]))
		return cmd_usage_error("pool", "NAME must be [a-z0-9][a-z0-9.-]{0,63}");
	if (!mcd_site_valid_address(address))
		return cmd_usage_error("pool", "--address must be HOST:PORT");
	snprintf(p.name, sizeof(p.name), "%s", argv[optind]);
	snprintf(p.address, sizeof(p.address), "%s", address);
	if (store_pool_add(s, &p, err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("pool %s (%s) added at level %u\n", p.name, p.address, p.level);
	return 0;
}

static int
pool_del(struct store *s, int argc, char **argv)
{
	char err[256];

	if (argc != 2)
		return cmd_usage_error("pool", "pool del NAME");
	if (store_pool_del(s, argv[1], err, sizeof(err))) {
		log_warnx("%s", err);
		return 1;
	}
	printf("pool %s deleted (and taken off its apps' lists)\n", argv[1]);
	return 0;
}

static int
print_pool(const struct store_pool *p, void *arg)
{
	yajl_gen g = arg;

	if (!g) {
		printf("%-24s %5u  %s\n", p->name, p->level, p->address);
		return 0;
	}
	yajl_gen_map_open(g);
	cmd_json_key_str(g, "name", p->name);
	cmd_json_key_str(g, "address", p->address);
	cmd_json_key_int(g, "level", p->level);
	yajl_gen_map_close(g);
	return 0;
}

static int
pool_list(struct store *s, int argc, char **argv)
{
	int json = argc == 2 && !strcmp(argv[1], "--json");
	yajl_gen g = NULL;
	char err[256];

	if (argc > 2 || (argc == 2 && !json))
		return cmd_usage_error("pool", "pool list [--json]");
	if (json) {
		g = cmd_json_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-24s %5s  %s\n", "POOL", "LEVEL", "ADDRESS");
	}
	if (store_pool_each(s, 0, print_pool, g, err, sizeof(err)) < 0) {
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
cmd_pool(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct store *s, int argc, char **argv);
	} subs[] = {
		{ "add", pool_add }, { "del", pool_del }, { "list", pool_list },
	};
	struct store *s;
	int rc;

	if (argc < 2)
		return cmd_usage_error("pool", "a subcommand is needed");
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
	return cmd_usage_error("pool", "unknown subcommand");
}
