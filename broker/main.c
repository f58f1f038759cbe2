/*
 * main.c - mcd-broker: the command table, the global options and the
 * small commands (init, keygen, sessions, serve).
 *
 * The admin commands work on the database directly; they may run while
 * the server does (SQLite in WAL mode with a busy timeout).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "mcd_ticket.h"
#include "serve.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int
cmd_init(int argc, char **argv)
{
	struct store *s;

	(void)argv;
	if (argc != 1)
		return cmd_usage_error("init", "no arguments expected");
	s = cmd_store();
	if (!s)
		return 1;
	printf("%s: schema version %d\n", cmd_db, store_version(s));
	store_close(s);
	return 0;
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "private", required_argument, NULL, 'k' },
		{ "public", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *priv = NULL, *pub = NULL;
	char err[256];
	int o;

	/* 0, not 1: main() scanned with "+", and only 0 resets that. */
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'k')
			priv = optarg;
		else if (o == 'p')
			pub = optarg;
		else
			return cmd_usage_error("keygen", "unknown option");
	}
	if (!priv || !pub || optind != argc)
		return cmd_usage_error("keygen", "--private and --public needed");
	if (mcd_ticket_keygen(priv, pub, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}
	printf("ticket keys written: %s (private), %s (public)\n", priv, pub);
	return 0;
}

static int
print_session(const struct store_session *ss, void *arg)
{
	yajl_gen g = arg;

	if (!g) {
		printf("%-16s %-16s %-24s %-16s %-6s %lld\n", ss->sid, ss->user,
		       ss->app, ss->pool, ss->state, (long long)ss->updated);
		return 0;
	}
	yajl_gen_map_open(g);
	cmd_json_key_str(g, "session", ss->sid);
	cmd_json_key_str(g, "user", ss->user);
	cmd_json_key_str(g, "app", ss->app);
	cmd_json_key_str(g, "pool", ss->pool);
	cmd_json_key_str(g, "state", ss->state);
	cmd_json_key_int(g, "updated", ss->updated);
	yajl_gen_map_close(g);
	return 0;
}

int
cmd_sessions(int argc, char **argv)
{
	int json = argc == 2 && !strcmp(argv[1], "--json");
	yajl_gen g = NULL;
	struct store *s;
	char err[256];
	int rc;

	if (argc > 2 || (argc == 2 && !json))
		return cmd_usage_error("sessions", "unknown argument");
	s = cmd_store();
	if (!s)
		return 1;
	if (json) {
		g = cmd_json_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-16s %-16s %-24s %-16s %-6s %s\n", "SESSION", "USER",
		       "APP", "POOL", "STATE", "UPDATED");
	}
	rc = store_session_each(s, NULL, print_session, g, err, sizeof(err));
	store_close(s);
	if (rc < 0) {
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

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'L' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ticket-key", required_argument, NULL, 't' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts so = { .db = cmd_db };
	int o;

	/* 0, not 1: main() scanned with "+", and only 0 resets that. */
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd': so.db = optarg; break;
		case 'L': so.listen = optarg; break;
		case 'c': so.cert = optarg; break;
		case 'k': so.key = optarg; break;
		case 't': so.ticket_key = optarg; break;
		case 'f': so.foreground = 1; break;
		case 'l': so.log_file = optarg; break;
		default: return cmd_usage_error("serve", "unknown option");
		}
	}
	if (optind != argc || !so.listen || !so.cert || !so.key ||
	    !so.ticket_key)
		return cmd_usage_error("serve", "--listen, --cert, --key and "
				       "--ticket-key are needed");
	return serve_main(&so);
}

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "init", cmd_init, "init",
	  "create the database (or bring its schema up to date)" },
	{ "user", cmd_user,
	  "user add NAME --level N [--password-file F] | user passwd NAME "
	  "[--password-file F]\n         | user level NAME N | user del NAME | "
	  "user list [--json]",
	  "manage users and their clearance level (1..16); a password is read "
	  "from the first line of F or asked twice on the terminal, never "
	  "taken from the command line" },
	{ "app", cmd_app,
	  "app add ID --name TEXT --os linux|windows --level N --template T "
	  "--program /ABS\n         [--arg A]... [--pool NAME]... | app del ID | "
	  "app list [--json]",
	  "manage the apps users may launch; an app is offered on the pools "
	  "listed with --pool (which must serve its level), or on every pool "
	  "of its level when none is listed" },
	{ "pool", cmd_pool,
	  "pool add NAME --address HOST:PORT --level N | pool del NAME | "
	  "pool list [--json]",
	  "manage the pools (pool masters); a pool serves exactly one level" },
	{ "keygen", cmd_keygen, "keygen --private F --public F",
	  "make the Ed25519 key pair that signs launch tickets (the public "
	  "key goes to every pool master)" },
	{ "sessions", cmd_sessions, "sessions [--json]",
	  "list the sessions clients reported (NOTE)" },
	{ "serve", cmd_serve,
	  "serve [--db FILE] --listen ADDR:PORT --cert PEM --key PEM "
	  "--ticket-key PRIV.pem\n         [--foreground] [--log FILE]",
	  "run the Auth/App server: TLS, one process per connection; prints "
	  "'listening on ADDR:PORT' when ready (port 0: the kernel picks)" },
	{ "help", cmd_help, "help [COMMAND]", "show help" },
};

static const struct cmd *
find_cmd(const char *name)
{
	const struct cmd *hit = NULL;
	size_t len = strlen(name);

	/* Exact name, or an unambiguous prefix. */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
		if (len && !strncmp(cmds[i].name, name, len)) {
			if (hit)
				return NULL;
			hit = &cmds[i];
		}
	}
	return hit;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mcd-broker [-v] [--db FILE] COMMAND [ARGS]\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nThe database is %s unless --db says otherwise.\n"
		   "'mcd-broker COMMAND --help' shows a command's usage.\n",
		CMD_DB_DEFAULT);
}

static int
cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		log_warnx("unknown command '%s'", argv[1]);
		return 2;
	}
	printf("usage: mcd-broker %s\n%s\n", c->usage, c->help);
	return 0;
}

static int
want_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c;
	int o;

	while ((o = getopt_long(argc, argv, "+vhd:", opts, NULL)) != -1) {
		switch (o) {
		case 'd': cmd_db = optarg; break;
		case 'v': log_set_verbose(1); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	c = find_cmd(argv[optind]);
	if (!c) {
		log_warnx("unknown or ambiguous command '%s' (see mcd-broker help)",
			  argv[optind]);
		return 2;
	}
	if (want_help(argc - optind, argv + optind)) {
		printf("usage: mcd-broker %s\n%s\n", c->usage, c->help);
		return 0;
	}
	return c->fn(argc - optind, argv + optind);
}
