/*
 * main.c - mcd-client: the thin client's command line (a command table).
 *
 * Exit codes: 0 ok, 1 failed, 2 usage, 3 no room, 4 refused or denied,
 * 5 not logged in / authentication failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/ssl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "jout.h"
#include "menu.h"
#include "mcd_site.h"
#include "mcd_tls.h"
#include "pools.h"
#include "run.h"
#include "state.h"
#include "talk.h"

#define ERR_MAX 512

static const char *config_opt;
static const char *display_opt;
static struct conf conf;
static volatile sig_atomic_t stop_flag;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct cmd *find_cmd(const char *name);

static int fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("mcd-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* One line, so a script sees the whole complaint in one read and a person
 * sees the usage right beside it. */
static int usage_error(const char *name, const char *what)
{
	const struct cmd *c = find_cmd(name);

	fprintf(stderr, "mcd-client %s: %s (usage: mcd-client %s)\n", name,
		what, c ? c->usage : name);
	return TALK_USAGE;
}

/* getopt_long's own messages are off (opterr = 0) because they would make
 * a second line; this says what it would have, in ours.  o is what
 * getopt_long returned ('?' or ':'); the offending word is the one just
 * consumed. */
static int bad_opt(const char *name, int o, char **argv)
{
	char what[160];
	const char *word = optind > 0 ? argv[optind - 1] : "?";

	if (o == ':')
		snprintf(what, sizeof(what), "option '%s' needs a value", word);
	else
		snprintf(what, sizeof(what), "unknown option '%s'", word);
	return usage_error(name, what);
}

/* ---- shared steps ---- */

static int load_conf(void)
{
	char path[PATH_MAX], err[ERR_MAX];

	if (conf_path(config_opt, path, sizeof(path), err, sizeof(err)) < 0 ||
	    conf_load(&conf, path, err, sizeof(err)) < 0 ||
	    state_prepare(conf.state_dir, err, sizeof(err)) < 0)
		return fail(TALK_FAILED, "%s", err);
	return 0;
}

static SSL_CTX *client_ctx(void)
{
	char err[ERR_MAX];
	SSL_CTX *ctx = mcd_tls_client_ctx(conf.ca, err, sizeof(err));

	if (!ctx)
		fail(TALK_FAILED, "%s: %s", conf.ca, err);
	return ctx;
}

/* The saved token, if it is still good. */
static int get_token(struct state_token *t)
{
	char err[ERR_MAX];
	int rc = state_token_load(conf.state_dir, t, err, sizeof(err));

	if (rc < 0)
		return fail(TALK_AUTH, "%s", err);
	if (rc == 1)
		return fail(TALK_AUTH, "not logged in (mcd-client login)");
	if (t->expires <= (int64_t)time(NULL)) {
		state_wipe(t, sizeof(*t));
		return fail(TALK_AUTH, "the login has expired (mcd-client login)");
	}
	return 0;
}

static void broker_of(struct talk_broker *b, SSL_CTX *ctx)
{
	b->ctx = ctx;
	b->address = conf.server;
	b->name = conf.server_name;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT and SIGTERM set a flag (no SA_RESTART) that the run loop
 * checks; SIGPIPE is off because TLS writes report it as an error. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The display the pools reach: --display, else the config's. */
static const char *need_display(void)
{
	const char *d = display_opt ? display_opt : conf.display;

	if (!d || !*d) {
		fail(TALK_USAGE, "no display: set display = HOST:N in %s or "
		     "give --display HOST:N (the address the pools reach this "
		     "X server at)", conf.path);
		return NULL;
	}
	if (!conf_valid_display(d)) {
		fail(TALK_USAGE, "bad display '%s' (HOST:N or HOST:N.M)", d);
		return NULL;
	}
	return d;
}

/* Options of a command: getopt_long from argv[0] on; ':' first so a
 * missing value is told apart from an unknown option.  No '+': options
 * may follow the operand, as the usages show them ("run APP --detach");
 * getopt moves the operands to the end, and "--" still ends options. */
static int next_opt(int argc, char **argv, const struct option *opts)
{
	return getopt_long(argc, argv, ":", opts, NULL);
}

/* ---- login / logout ---- */

/* Read one line from the terminal without echo. */
static int read_tty_password(char *buf, size_t buflen)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), n = -1;
	FILE *f;

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	dprintf(fd, "password: ");
	tcsetattr(fd, TCSAFLUSH, &quiet);
	f = fdopen(fd, "r");
	if (f && fgets(buf, (int)buflen, f))
		n = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	if (f)
		fclose(f);
	else
		close(fd);
	return n;
}

static int read_file_password(const char *path, char *buf, size_t buflen)
{
	FILE *f = fopen(path, "re");
	int n = -1;

	if (!f)
		return -1;
	if (fgets(buf, (int)buflen, f))
		n = 0;
	fclose(f);
	return n;
}

static int get_password(const char *file, char *buf, size_t buflen)
{
	int rc = file ? read_file_password(file, buf, buflen)
		      : read_tty_password(buf, buflen);

	if (rc < 0)
		return fail(TALK_FAILED, "cannot read the password from %s: %s",
			    file ? file : "the terminal", strerror(errno));
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf)
		return fail(TALK_AUTH, "empty password");
	return 0;
}

static const char *default_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u = getenv("USER");

	return u && *u ? u : pw ? pw->pw_name : NULL;
}

static void print_login(const struct state_token *t)
{
	char when[64];
	time_t exp = (time_t)t->expires;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&exp));
	printf("logged in as %s (level %u) until %s\n", t->user,
	       (unsigned)t->level, when);
}

static int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *pwfile = NULL;
	char pw[MCD_SITE_PASSWORD_MAX + 2], err[ERR_MAX];
	struct talk_broker b;
	struct state_token t;
	SSL_CTX *ctx;
	int o, rc;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		if (o == 'u')
			user = optarg;
		else if (o == 'p')
			pwfile = optarg;
		else
			return bad_opt("login", o, argv);
	}
	if (optind != argc)
		return usage_error("login", "no arguments expected");
	if (!user && !(user = default_user()))
		return usage_error("login", "give --user NAME");
	if (!mcd_site_valid_user(user))
		return usage_error("login", "bad user name");
	if ((rc = load_conf()) || !(ctx = client_ctx()))
		return rc ? rc : TALK_FAILED;
	rc = get_password(pwfile, pw, sizeof(pw));
	if (!rc) {
		broker_of(&b, ctx);
		rc = talk_login(&b, user, pw, &t, err, sizeof(err));
		if (rc)
			fail(rc, "%s", err);
	}
	state_wipe(pw, sizeof(pw));
	if (!rc && (rc = state_token_save(conf.state_dir, &t, err, sizeof(err))))
		rc = fail(TALK_FAILED, "%s", err);
	if (!rc)
		print_login(&t);
	state_wipe(&t, sizeof(t));
	SSL_CTX_free(ctx);
	return rc;
}

static int cmd_logout(int argc, char **argv)
{
	char err[ERR_MAX];
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_error("logout", "no arguments expected");
	if ((rc = load_conf()))
		return rc;
	rc = state_token_remove(conf.state_dir, err, sizeof(err));
	if (rc < 0)
		return fail(TALK_FAILED, "%s", err);
	printf(rc == 1 ? "not logged in\n" : "logged out\n");
	return 0;
}

/* ---- apps ---- */

static void apps_json(const struct talk_apps *a)
{
	yajl_gen g = jout_new();

	yajl_gen_array_open(g);
	for (unsigned i = 0; i < a->napps; i++) {
		const struct talk_app *p = &a->apps[i];

		yajl_gen_map_open(g);
		jout_str(g, "name", p->name);
		jout_str(g, "id", p->app);
		jout_int(g, "level", p->level);
		jout_str(g, "os", p->os);
		jout_key(g, "pools");
		yajl_gen_array_open(g);
		for (unsigned k = 0; k < p->npools; k++)
			jout_sval(g, p->pools[k]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	jout_done(g);
}

static void apps_text(const struct talk_apps *a)
{
	printf("%-24s %-20s %5s %-8s %s\n", "NAME", "ID", "LEVEL", "OS",
	       "POOLS");
	for (unsigned i = 0; i < a->napps; i++) {
		const struct talk_app *p = &a->apps[i];

		printf("%-24s %-20s %5u %-8s", p->name, p->app,
		       (unsigned)p->level, p->os);
		for (unsigned k = 0; k < p->npools; k++)
			printf("%s%s", k ? "," : " ", p->pools[k]);
		printf("\n");
	}
}

static int cmd_apps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static struct talk_apps a;
	struct state_token t;
	struct talk_broker b;
	char err[ERR_MAX];
	int o, json = 0, rc;
	SSL_CTX *ctx;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		if (o != 'j')
			return bad_opt("apps", o, argv);
		json = 1;
	}
	if (optind != argc)
		return usage_error("apps", "no arguments expected");
	if ((rc = load_conf()) || (rc = get_token(&t)))
		return rc;
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	broker_of(&b, ctx);
	rc = talk_apps(&b, t.token, &a, err, sizeof(err));
	state_wipe(&t, sizeof(t));
	SSL_CTX_free(ctx);
	if (rc)
		return fail(rc, "%s", err);
	if (json)
		apps_json(&a);
	else
		apps_text(&a);
	return 0;
}

/* ---- pools ---- */

static int cmd_pools(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct state_token t;
	int o, json = 0, rc;
	SSL_CTX *ctx;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		if (o != 'j')
			return bad_opt("pools", o, argv);
		json = 1;
	}
	if (optind != argc - 1)
		return usage_error("pools", "give one APP");
	if ((rc = load_conf()) || (rc = get_token(&t)))
		return rc;
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	rc = pools_show(&conf, ctx, &t, argv[optind], json);
	state_wipe(&t, sizeof(t));
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- run ---- */

static int parse_wait(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > MCD_SITE_WAIT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "detach", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "display", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts ro = { .wait_sec = -1, .stop = &stop_flag };
	struct state_token t;
	SSL_CTX *ctx;
	int o, rc;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		switch (o) {
		case 'w':
			if (parse_wait(optarg, &ro.wait_sec) < 0)
				return usage_error("run", "--wait takes seconds "
						   "(0..3600)");
			break;
		case 'd': ro.detach = 1; break;
		case 'j': ro.json = 1; break;
		case 'D': display_opt = optarg; break;
		default: return bad_opt("run", o, argv);
		}
	}
	if (optind != argc - 1)
		return usage_error("run", "give one APP");
	ro.app = argv[optind];
	if ((rc = load_conf()))
		return rc;
	if (!(ro.display = need_display()))
		return TALK_USAGE;
	if ((rc = get_token(&t)))
		return rc;
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	catch_signals();
	rc = run_app(&conf, ctx, &t, &ro);
	state_wipe(&t, sizeof(t));
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- sessions / end ---- */

static void session_out(yajl_gen g, const struct state_session *s,
			const char *state, const char *why)
{
	if (!g) {
		printf("%-16s %-16s %-20s %s%s%s\n", s->session, s->pool, s->app,
		       state, why ? ": " : "", why ? why : "");
		return;
	}
	yajl_gen_map_open(g);
	jout_str(g, "session", s->session);
	jout_str(g, "pool", s->pool);
	jout_str(g, "app", s->app);
	jout_str(g, "state", state);
	if (why)
		jout_str(g, "error", why);
	yajl_gen_map_close(g);
}

static void one_session(SSL_CTX *ctx, const char *sid, yajl_gen g)
{
	char err[ERR_MAX], state[MCD_SITE_STATE_MAX + 1];
	struct state_session s;

	if (state_session_load(conf.state_dir, sid, &s, err, sizeof(err))) {
		fail(TALK_FAILED, "%s", err);
		return;
	}
	if (talk_status(ctx, &s, state, err, sizeof(err)))
		session_out(g, &s, "unknown", err);
	else
		session_out(g, &s, state, NULL);
	state_wipe(&s, sizeof(s));
}

static int cmd_sessions(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static char ids[STATE_SESSIONS_MAX][STATE_SESSION_LEN + 1];
	char err[ERR_MAX];
	yajl_gen g = NULL;
	int o, json = 0, n, rc;
	SSL_CTX *ctx;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		if (o != 'j')
			return bad_opt("sessions", o, argv);
		json = 1;
	}
	if (optind != argc)
		return usage_error("sessions", "no arguments expected");
	if ((rc = load_conf()))
		return rc;
	n = state_session_list(conf.state_dir, ids, STATE_SESSIONS_MAX, err,
			       sizeof(err));
	if (n < 0)
		return fail(TALK_FAILED, "%s", err);
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	if (json) {
		g = jout_new();
		yajl_gen_array_open(g);
	} else {
		printf("%-16s %-16s %-20s %s\n", "SESSION", "POOL", "APP", "STATE");
	}
	for (int i = 0; i < n; i++)
		one_session(ctx, ids[i], g);
	if (g) {
		yajl_gen_array_close(g);
		jout_done(g);
	}
	SSL_CTX_free(ctx);
	return 0;
}

static void note_ended(SSL_CTX *ctx, const struct state_session *s)
{
	struct state_token t;
	struct talk_broker b;
	char err[ERR_MAX];

	/* Best effort, and only with a good login. */
	if (state_token_load(conf.state_dir, &t, err, sizeof(err)) != 0)
		return;
	broker_of(&b, ctx);
	if (talk_note(&b, t.token, s->session, s->pool, s->app, "ended", err,
		      sizeof(err)))
		fprintf(stderr, "mcd-client: could not tell the server the "
			"session ended: %s\n", err);
	state_wipe(&t, sizeof(t));
}

static int cmd_end(int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct state_session s;
	char err[ERR_MAX];
	SSL_CTX *ctx;
	int o, rc;

	/* No options, but "--x" must not pass for a session id. */
	if ((o = next_opt(argc, argv, opts)) != -1)
		return bad_opt("end", o, argv);
	if (optind != argc - 1)
		return usage_error("end", "give one SESSION");
	if ((rc = load_conf()))
		return rc;
	if (state_session_load(conf.state_dir, argv[optind], &s, err,
			       sizeof(err)))
		return fail(TALK_FAILED, "%s", err);
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	rc = talk_end(ctx, &s, err, sizeof(err));
	if (rc == 0 || strstr(err, "NOT_FOUND")) {
		/* Ended now, or gone already: the local record goes. */
		state_session_remove(conf.state_dir, s.session);
	}
	if (rc == 0) {
		printf("ended: session %s\n", s.session);
		note_ended(ctx, &s);
	} else {
		fail(rc, "%s", err);
	}
	state_wipe(&s, sizeof(s));
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- menu ---- */

static int cmd_menu(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "display", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct state_token t;
	const char *display;
	SSL_CTX *ctx;
	int o, rc;

	while ((o = next_opt(argc, argv, opts)) != -1) {
		if (o != 'D')
			return bad_opt("menu", o, argv);
		display_opt = optarg;
	}
	if (optind != argc)
		return usage_error("menu", "no arguments expected");
	if ((rc = load_conf()))
		return rc;
	if (!(display = need_display()))
		return TALK_USAGE;
	if ((rc = get_token(&t)))
		return rc;
	if (!(ctx = client_ctx()))
		return TALK_FAILED;
	catch_signals();
	rc = menu_main(&conf, ctx, &t, display, &stop_flag);
	state_wipe(&t, sizeof(t));
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- the table ---- */

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "login", cmd_login, "login [--user NAME] [--password-file FILE]",
	  "log in to the Auth/App server (the password is read from the "
	  "terminal without echo, or from FILE) and keep the token" },
	{ "logout", cmd_logout, "logout", "forget the saved token" },
	{ "apps", cmd_apps, "apps [--json]",
	  "list the apps you may run: name, id, level, OS, pools" },
	{ "pools", cmd_pools, "pools APP [--json]",
	  "ask every pool of APP for its load at once, as run does before "
	  "it picks, and show each answer: load (0.000-1.000), room, limit, "
	  "or why it was skipped; exit 1 when none answered" },
	{ "run", cmd_run,
	  "run APP [--wait SEC] [--detach] [--display HOST:N] [--json]",
	  "run APP on the least loaded of its pools and follow it until it "
	  "ends (--detach: return once it is ready); --wait SEC waits up to "
	  "SEC seconds for room when every pool is full" },
	{ "sessions", cmd_sessions, "sessions [--json]",
	  "the sessions started here, with their state from their pools" },
	{ "end", cmd_end, "end SESSION", "end a session started here" },
	{ "menu", cmd_menu, "menu [--display HOST:N]",
	  "a window listing your apps; click one to run it" },
	{ "help", cmd_help, "help [COMMAND]", "show a command's usage" },
};

static const struct cmd *find_cmd(const char *name)
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

static void usage(FILE *f)
{
	fprintf(f, "usage: mcd-client [--config FILE] [--display HOST:N] "
		   "COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nexit codes: 0 ok, 1 failed, 2 usage, 3 no room, "
		   "4 refused or denied, 5 not logged in or bad login\n"
		   "'mcd-client COMMAND --help' shows a command's usage.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return fail(TALK_USAGE, "unknown command '%s'", argv[1]);
	printf("usage: mcd-client %s\n%s\n", c->usage, c->help);
	return 0;
}

static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "display", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:hc:", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config_opt = optarg; break;
		case 'D': display_opt = optarg; break;
		case 'h': usage(stdout); return 0;
		case ':':
			return fail(TALK_USAGE, "option '%s' needs a value (see "
				    "mcd-client --help)", argv[optind - 1]);
		default:
			return fail(TALK_USAGE, "unknown option '%s' (see "
				    "mcd-client --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return fail(TALK_USAGE, "no command given (see mcd-client "
			    "--help)");
	c = find_cmd(argv[optind]);
	if (!c)
		return fail(TALK_USAGE, "unknown or ambiguous command '%s' "
			    "(see mcd-client help)", argv[optind]);
	if (want_help(argc - optind, argv + optind)) {
		printf("usage: mcd-client %s\n%s\n", c->usage, c->help);
		return 0;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* commands parse their own options from argv[0] */
	return c->fn(argc, argv);
}
