/*
 * main.c - mcd-toolstack: the command table and the CLI commands.
 *
 * launch and end are requests to the dom0 service (started on demand);
 * sessions and show read XenStore directly, so they work even while the
 * service is down.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "clone.h"
#include "commands.h"
#include "launchopt.h"
#include "ctl.h"
#include "daemon.h"
#include "domain.h"
#include "face.h"
#include "faceconf.h"
#include "worker.h"
#include "xfwd.h"
#include "log.h"
#include "mcd_proto.h"
#include "mcd_xs.h"
#include "store.h"
#include "template.h"

#define LOG_FILE_DEFAULT "/var/log/mcd-toolstack.log"
/* daemon --max-boots: domains built and booted at once. */
#define MAX_BOOTS_MAX 1024

static const char *socket_path = CTL_SOCKET_DEFAULT;
static const char *tmpl_dir;
static int verbose;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct cmd *find_cmd(const char *name);

static int usage_error(const struct cmd *c, const char *what)
{
	fprintf(stderr, "mcd-toolstack %s: %s\nusage: mcd-toolstack %s\n",
		c->name, what, c->usage);
	return 2;
}

static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* ---- talking to the service ---- */

static int start_service(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *args[] = { "mcd-toolstack", "--socket", (char *)socket_path,
				 "--template-dir", (char *)tmpl_dir, "daemon", NULL };

		execv("/proc/self/exe", args);
		_exit(127);
	}
	/* The service detaches itself; this child exits once it has. */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

/* Connect to the service, starting it if nobody listens. */
static int service_connect(void)
{
	int fd = ctl_connect(socket_path);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		log_warn("cannot reach the service at %s", socket_path);
		return -1;
	}
	if (start_service() < 0) {
		log_warnx("cannot start the service (see %s)", LOG_FILE_DEFAULT);
		return -1;
	}
	for (int i = 0; i < 100; i++) {
		fd = ctl_connect(socket_path);
		if (fd >= 0)
			return fd;
		usleep(100000);
	}
	log_warnx("the service did not come up at %s (see %s)", socket_path,
		  LOG_FILE_DEFAULT);
	return -1;
}

/* A progress line from the service: disk clone progress becomes a bar on
 * a terminal (and one line elsewhere), the rest is printed as it is. */
static void show_progress(const char *line)
{
	char vdev[TEMPLATE_VDEV_MAX + 1], label[64];
	uint64_t done, total;

	if (clone_progress_parse(line, vdev, &done, &total) < 0) {
		fprintf(stderr, "mcd-toolstack: %s\n", line);
		return;
	}
	snprintf(label, sizeof(label), "cloning %s", vdev);
	if (isatty(STDERR_FILENO))
		progress_bar(stderr, label, done, total);
	else if (done == 0)
		fprintf(stderr, "mcd-toolstack: %s (%llu MiB)\n", label,
			(unsigned long long)(total >> 20));
}

/* Send one request, print progress, return the final reply in *m. */
static int service_request(uint32_t type, const char *const *strs, unsigned n,
			   struct ctl_msg *m)
{
	int fd = service_connect();

	if (fd < 0)
		return -1;
	if (ctl_send(fd, type, strs, n) < 0) {
		log_warn("cannot send the request");
		close(fd);
		return -1;
	}
	for (;;) {
		if (ctl_recv(fd, m) < 0) {
			log_warnx("the service closed the connection (see %s)",
				  LOG_FILE_DEFAULT);
			close(fd);
			return -1;
		}
		if (m->type == CTL_PROGRESS && m->nstr == 1) {
			if (verbose >= 0)
				show_progress(m->str[0]);
			continue;
		}
		break;
	}
	close(fd);
	if (m->type == CTL_ERROR) {
		log_warnx("%s", m->nstr ? m->str[0] : "unknown error");
		return -1;
	}
	return m->type == CTL_DONE ? 0 : -1;
}

/* ---- JSON output ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_rec(const struct store_rec *r)
{
	printf("{\"session\":");
	json_str(r->sid);
	printf(",\"domid\":%d,\"domain_name\":", r->domid);
	json_str(r->domain_name);
	printf(",\"template\":");
	json_str(r->template);
	printf(",\"user\":");
	json_str(r->user);
	printf(",\"display\":");
	json_str(r->display);
	printf(",\"command\":");
	json_str(r->command);
	printf(",\"state\":");
	json_str(r->state);
	printf(",\"created\":%lld,\"pid\":%d,\"exit_status\":", r->created, r->pid);
	json_str(r->exit_status);
	printf(",\"error\":");
	json_str(r->error);
	printf(",\"volume\":");
	json_str(r->volume);
	putchar('}');
}

/* ---- commands ---- */

static int cmd_launch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "display", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait", required_argument, NULL, 'w' },
		{ "x", required_argument, NULL, 'x' },
		{ "xauth", required_argument, NULL, 'a' },
		{ "x-tls", required_argument, NULL, 'T' },
		{ "volume", no_argument, NULL, 'V' },
		{ "share", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c = find_cmd("launch");
	const char *tmpl = NULL, *user = NULL, *display = NULL, *wait = "0";
	struct timespec t0, t1;
	const char *req[CTL_MAX_STRS];
	char xmode[16] = "", cookie[64] = "", tls[16] = "", err[256];
	char shares[MCD_MAX_SHARES][LAUNCHOPT_SHARE_MAX];
	unsigned nshares = 0;
	struct ctl_msg *m;
	int json = 0, volume = 0, o, rc;
	unsigned n = 0;

	/* The cookie and passwords are read below: no core file of them. */
	if (launchopt_no_core_dumps() < 0)
		log_warn("cannot turn off core dumps");
	optind = 1;
	while ((o = getopt_long(argc, argv, "+t:u:d:", opts, NULL)) != -1) {
		switch (o) {
		case 't': tmpl = optarg; break;
		case 'u': user = optarg; break;
		case 'd': display = optarg; break;
		case 'j': json = 1; break;
		case 'w': wait = optarg; break;
		case 'x': snprintf(xmode, sizeof(xmode), "x=%.8s", optarg); break;
		case 'T': snprintf(tls, sizeof(tls), "xtls=%.6s", optarg); break;
		case 'V': volume = 1; break;
		case 'a':
			if (launchopt_cli_xauth(optarg, cookie, sizeof(cookie), err,
						sizeof(err)) < 0)
				return usage_error(c, err);
			break;
		case 's':
			if (nshares >= MCD_MAX_SHARES)
				return usage_error(c, "too many --share");
			if (launchopt_cli_share(optarg, shares[nshares],
						sizeof(shares[0]), err, sizeof(err)) < 0) {
				OPENSSL_cleanse(shares, sizeof(shares));
				return usage_error(c, err);
			}
			nshares++;
			break;
		default: return usage_error(c, "unknown option");
		}
	}
	if (!tmpl || !user || !display)
		return usage_error(c, "--template, --user and --display are required");
	if (optind >= argc)
		return usage_error(c, "no program given after --");
	if (argc - optind > MCD_MAX_ARGS)
		return usage_error(c, "too many arguments");
	req[n++] = tmpl;
	req[n++] = user;
	req[n++] = display;
	req[n++] = wait;
	if (xmode[0])
		req[n++] = xmode;
	if (cookie[0])
		req[n++] = cookie;
	if (tls[0])
		req[n++] = tls;
	if (volume)
		req[n++] = "volume=yes";
	for (unsigned i = 0; i < nshares; i++)
		req[n++] = shares[i];
	for (int i = optind; i < argc; i++)
		req[n++] = argv[i];

	m = malloc(sizeof(*m));
	if (!m)
		fatal("out of memory");
	/* The time the user waits, from the request to the app running. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = service_request(CTL_LAUNCH, req, n, m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	OPENSSL_cleanse(shares, sizeof(shares));
	if (rc == 0 && m->nstr == 3) {
		if (json)
			printf("{\"session\":\"%s\",\"domid\":%s,\"pid\":%s,"
			       "\"elapsed_ms\":%ld}\n", m->str[0], m->str[1], m->str[2],
			       (t1.tv_sec - t0.tv_sec) * 1000L +
			       (t1.tv_nsec - t0.tv_nsec) / 1000000L);
		else
			printf("%s\n", m->str[0]);
	}
	free(m);
	return rc == 0 ? 0 : 1;
}

static int cmd_end(int argc, char **argv)
{
	const struct cmd *c = find_cmd("end");
	const char *sid;
	struct ctl_msg *m;
	int rc;

	if (argc != 2)
		return usage_error(c, "exactly one session id is required");
	sid = argv[1];
	if (!mcd_valid_session_id(sid)) {
		log_warnx("invalid session id '%.40s' (16 lowercase hex digits)", sid);
		return 1;
	}
	m = malloc(sizeof(*m));
	if (!m)
		fatal("out of memory");
	rc = service_request(CTL_END, &sid, 1, m);
	free(m);
	if (rc == 0)
		printf("session %s ended\n", sid);
	return rc == 0 ? 0 : 1;
}

static struct xs_handle *open_store(void)
{
	struct xs_handle *xs = xs_open(XS_OPEN_READONLY);

	if (!xs)
		log_warn("cannot open XenStore (run as root in dom0)");
	return xs;
}

static int parse_json_flag(const struct cmd *c, int argc, char **argv,
			   int *json, int npos, char **pos)
{
	int k = 0;

	*json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = 1;
		else if (argv[i][0] == '-')
			return usage_error(c, "unknown option");
		else if (k < npos)
			pos[k++] = argv[i];
		else
			return usage_error(c, "too many arguments");
	}
	if (k != npos)
		return usage_error(c, "a session id is required");
	return 0;
}

/* sessions --all: MCD domains that no record owns. */
struct orphans {
	struct xs_handle *xs;
	int json;
	unsigned k;            /* JSON objects printed so far */
};

static void list_orphan(uint32_t domid, const char *name, void *arg)
{
	struct orphans *o = arg;
	const char *sid = name + strlen(MCD_DOMAIN_PREFIX);
	struct store_rec r;

	if ((store_read(o->xs, MCD_XS_SESSIONS, sid, &r) == 0 ||
	     store_read(o->xs, MCD_XS_POOL, sid, &r) == 0) &&
	    (r.domid < 0 || r.domid == (int)domid))
		return;
	if (o->json) {
		printf("%s{\"session\":", o->k++ ? "," : "");
		json_str(mcd_valid_session_id(sid) ? sid : "");
		printf(",\"domid\":%u,\"domain_name\":", domid);
		json_str(name);
		printf(",\"state\":\"orphan\"}");
	} else {
		printf("%-16s %5u %-12s %-10s %-16s %-10s %s\n",
		       mcd_valid_session_id(sid) ? sid : "-", domid, "-", "-", "-",
		       "orphan", name);
	}
}

static int cmd_sessions(int argc, char **argv)
{
	struct xs_handle *xs;
	struct mcd_xen *xen = NULL;
	unsigned n;
	char **ids;
	char *av[4] = { argv[0] };
	int json, all = 0, rc, ac = 1;
	unsigned printed = 0;

	/* --all is this command's own flag; the rest as for every listing. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (ac < 3)
			av[ac++] = argv[i];
		else
			return usage_error(find_cmd("sessions"), "too many arguments");
	}
	rc = parse_json_flag(find_cmd("sessions"), ac, av, &json, 0, NULL);
	if (rc)
		return rc;
	if (all && xen_open(&xen) < 0)
		return 1; /* xen_open said why */
	xs = open_store();
	if (!xs) {
		if (xen)
			xen_close(xen);
		return 1;
	}
	ids = store_list(xs, MCD_XS_SESSIONS, &n);
	if (json)
		putchar('[');
	else
		printf("%-16s %5s %-12s %-10s %-16s %-10s %s\n", "SESSION", "DOMID",
		       "TEMPLATE", "USER", "DISPLAY", "STATE", "COMMAND");
	for (unsigned i = 0; i < n; i++) {
		struct store_rec r;

		if (store_read(xs, MCD_XS_SESSIONS, ids[i], &r) == 0) {
			if (json) {
				if (printed++)
					putchar(',');
				json_rec(&r);
			} else {
				printf("%-16s %5d %-12s %-10s %-16s %-10s %s\n", r.sid,
				       r.domid, r.template, r.user, r.display,
				       r.state, r.command);
			}
		}
		free(ids[i]);
	}
	if (all) {
		struct orphans o = { xs, json, printed };

		domain_list_prefixed(xen, MCD_DOMAIN_PREFIX, list_orphan, &o);
		xen_close(xen);
	}
	if (json)
		printf("]\n");
	free(ids);
	xs_close(xs);
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	char *sid;
	struct xs_handle *xs;
	struct store_rec r;
	int json, rc = parse_json_flag(find_cmd("show"), argc, argv, &json, 1, &sid);

	if (rc)
		return rc;
	if (!mcd_valid_session_id(sid)) {
		log_warnx("invalid session id '%.40s' (16 lowercase hex digits)", sid);
		return 1;
	}
	xs = open_store();
	if (!xs)
		return 1;
	rc = store_read(xs, MCD_XS_SESSIONS, sid, &r);
	xs_close(xs);
	if (rc < 0) {
		log_warnx("no session %s", sid);
		return 1;
	}
	if (json) {
		json_rec(&r);
		putchar('\n');
		return 0;
	}
	printf("session:     %s\ndomain:      %s (domid %d)\ntemplate:    %s\n"
	       "user:        %s\ndisplay:     %s\ncommand:     %s\nstate:       %s\n"
	       "created:     %lld\n",
	       r.sid, r.domain_name, r.domid, r.template, r.user, r.display,
	       r.command, r.state, r.created);
	if (r.pid)
		printf("pid:         %d\n", r.pid);
	if (r.exit_status[0])
		printf("exit-status: %s\n", r.exit_status);
	if (r.error[0])
		printf("error:       %s\n", r.error);
	if (r.volume[0])
		printf("volume:      %s\n", r.volume);
	return 0;
}

struct pool_row {
	char name[TEMPLATE_NAME_MAX + 1];
	unsigned size, ready, booting;
};

struct pool_rows {
	struct pool_row row[256];
	unsigned n;
};

static struct pool_row *pool_row(struct pool_rows *p, const char *name)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!strcmp(p->row[i].name, name))
			return &p->row[i];
	if (p->n == sizeof(p->row) / sizeof(p->row[0]))
		return NULL;
	snprintf(p->row[p->n].name, sizeof(p->row[0].name), "%s", name);
	return &p->row[p->n++];
}

static int pool_size_of(const char *name, void *arg)
{
	struct mcd_template t;
	libxl_domain_config dc;
	struct pool_row *r;
	char err[256];

	if (template_load(tmpl_dir, name, &t, &dc, err, sizeof(err)) < 0)
		return 0;
	libxl_domain_config_dispose(&dc);
	if (t.pool_size && (r = pool_row(arg, name)))
		r->size = t.pool_size;
	return 0;
}

static int cmd_pool(int argc, char **argv)
{
	struct pool_rows *p = calloc(1, sizeof(*p));
	struct xs_handle *xs;
	unsigned n;
	char **ids;
	int json, rc = parse_json_flag(find_cmd("pool"), argc, argv, &json, 0, NULL);

	if (!p)
		fatal("out of memory");
	if (rc || !(xs = open_store())) {
		free(p);
		return rc ? rc : 1;
	}
	template_list(tmpl_dir, pool_size_of, p);
	ids = store_list(xs, MCD_XS_POOL, &n);
	if (json)
		printf("{\"members\":[");
	else
		printf("%-16s %5s %-16s %s\n", "MEMBER", "DOMID", "TEMPLATE", "STATE");
	for (unsigned i = 0, k = 0; i < n; i++) {
		struct store_rec r;
		struct pool_row *row;

		if (store_read(xs, MCD_XS_POOL, ids[i], &r) == 0) {
			char state[64];

			/* A domain kept for its user is not part of the pool. */
			if (r.user[0])
				snprintf(state, sizeof(state), "kept-for-%s", r.user);
			else
				snprintf(state, sizeof(state), "%s", r.state);
			if (!r.user[0] && (row = pool_row(p, r.template))) {
				if (!strcmp(r.state, MCD_POOL_STATE_READY))
					row->ready++;
				else
					row->booting++;
			}
			if (json) {
				printf("%s{\"member\":", k++ ? "," : "");
				json_str(r.sid);
				printf(",\"domid\":%d,\"template\":", r.domid);
				json_str(r.template);
				printf(",\"state\":");
				json_str(state);
				putchar('}');
			} else {
				printf("%-16s %5d %-16s %s\n", r.sid, r.domid,
				       r.template, state);
			}
		}
		free(ids[i]);
	}
	free(ids);
	if (json)
		printf("],\"pools\":[");
	else
		printf("\n%-16s %5s %5s %7s\n", "TEMPLATE", "SIZE", "READY", "BOOTING");
	for (unsigned i = 0; i < p->n; i++) {
		struct pool_row *r = &p->row[i];

		if (json) {
			printf("%s{\"template\":", i ? "," : "");
			json_str(r->name);
			printf(",\"size\":%u,\"ready\":%u,\"booting\":%u}",
			       r->size, r->ready, r->booting);
		} else {
			printf("%-16s %5u %5u %7u\n", r->name, r->size, r->ready,
			       r->booting);
		}
	}
	if (json)
		printf("]}\n");
	free(p);
	xs_close(xs);
	return 0;
}

static int cmd_daemon(int argc, char **argv)
{
	const struct cmd *c = find_cmd("daemon");
	const char *log_file = LOG_FILE_DEFAULT, *face_file = NULL;
	static struct face_conf face;
	unsigned max_boots = 0;
	int foreground = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground") || !strcmp(argv[i], "-f")) {
			foreground = 1;
		} else if (!strcmp(argv[i], "--max-boots") && i + 1 < argc) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || n < 1 || n > MAX_BOOTS_MAX)
				return usage_error(c, "--max-boots: a number from 1 to 1024");
			max_boots = (unsigned)n;
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			log_file = argv[++i];
		} else if (!strcmp(argv[i], "--x11-ca") && i + 1 < argc) {
			xfwd_set_ca(argv[++i]);
		} else if (!strcmp(argv[i], "--face") && i + 1 < argc) {
			face_file = argv[++i];
		} else {
			return usage_error(c, "unknown argument");
		}
	}
	log_init("mcd-toolstack", 0, verbose);
	/* A bad face file stops the service here, before it detaches, so
	 * the admin sees file:line. */
	if (face_file) {
		char err[512];
		unsigned nerr;

		if (faceconf_load(face_file, &face, err, sizeof(err), &nerr) < 0) {
			log_warnx("%s%s", err, nerr > 1 ? " (and more problems)" : "");
			return 1;
		}
	}
	rc = daemon_main(socket_path, tmpl_dir, foreground, log_file, max_boots,
			 face_file ? &face : NULL);
	faceconf_wipe(&face);
	return rc;
}

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "launch", cmd_launch,
	  "launch --template NAME --user USER --display HOST:N [--x relay|direct|none]\n"
	  "         [--xauth FILE] [--x-tls PORT] [--volume]\n"
	  "         [--share KIND,SOURCE,NAME[,USER[,PASSWORD-FILE]]]... [--wait SEC] [--json]\n"
	  "         -- PROGRAM [ARG...]",
	  "start PROGRAM as USER in a disposable domain (a warm one if the "
	  "template's pool has one ready); prints the session id.  The app's X "
	  "display is relayed over the channel to HOST:N (--x relay, the "
	  "default; the service resolves HOST once, when it accepts the launch), "
	  "reached by the guest itself (direct) or left alone (none); "
	  "--xauth names a file with the thin client's cookie; --x-tls PORT "
	  "reaches the thin client's X server over TLS; --volume attaches the "
	  "user's persistent volume as their home; --share mounts an nfs or "
	  "cifs share under it (the password from a file)" },
	{ "sessions", cmd_sessions, "sessions [--all] [--json]",
	  "list the sessions recorded in XenStore; --all adds MCD domains "
	  "(mcd-*) that no record owns, as state orphan: left by a service "
	  "that died before recording them or whose record was removed while "
	  "it was down (a starting service destroys them; so does xl destroy)" },
	{ "show", cmd_show, "show SESSION [--json]", "show one session" },
	{ "end", cmd_end, "end SESSION",
	  "stop the session's app, destroy its domain and remove its records" },
	{ "template", cmd_template, CMD_TEMPLATE_USAGE, CMD_TEMPLATE_HELP },
	{ "load", cmd_load, CMD_LOAD_USAGE, CMD_LOAD_HELP },
	{ "pool", cmd_pool, "pool [--json]",
	  "show the warm pools: idle pre-booted domains per template" },
	{ "daemon", cmd_daemon, "daemon [--foreground] [--log FILE] [--x11-ca FILE] [--max-boots N]\n"
	  "         [--face FILE]",
	  "run the dom0 service (started on demand by launch and end); "
	  "--x11-ca names the CA certificates that thin clients' X11 TLS "
	  "certificates must chain to (default " XFWD_CA_DEFAULT "); "
	  "--max-boots limits the domains built and booted at once, the "
	  "other launches wait in line (default: one per host CPU); "
	  "--face FILE opens the pool master's network face for thin "
	  "clients (TLS, launch tickets; see faceconf.h for the file)" },
	{ "help", cmd_help, "help [COMMAND]", "show help" },
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
	fprintf(f, "usage: mcd-toolstack [-v] [--socket PATH] [--template-dir DIR] COMMAND [ARGS]\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'mcd-toolstack COMMAND --help' shows a command's usage.\n");
}

static int cmd_help(int argc, char **argv)
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
	printf("usage: mcd-toolstack %s\n%s\n", c->usage, c->help);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "template-dir", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c;
	int o;

	/* The service's own helper, a session's worker: not a command. */
	if (argc > 1 && !strcmp(argv[1], "worker"))
		return worker_main(argc - 1, argv + 1);
	/* And one connection of the network face: not a command either. */
	if (argc > 1 && !strcmp(argv[1], "face-conn"))
		return faceconn_main(argc - 1, argv + 1);
	log_init("mcd-toolstack", 0, 0);
	while ((o = getopt_long(argc, argv, "+vqhs:T:", opts, NULL)) != -1) {
		switch (o) {
		case 's': socket_path = optarg; break;
		case 'T': tmpl_dir = optarg; break;
		case 'v': verbose++; break;
		case 'q': verbose = -1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!tmpl_dir)
		tmpl_dir = template_dir();
	/* One template directory for every command, --template-dir or not. */
	setenv(TEMPLATE_DIR_ENV, tmpl_dir, 1);
	log_init("mcd-toolstack", 0, verbose > 0 ? verbose : 0);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	c = find_cmd(argv[optind]);
	if (!c) {
		log_warnx("unknown or ambiguous command '%s' (see mcd-toolstack help)",
			  argv[optind]);
		return 2;
	}
	if (want_help(argc - optind, argv + optind)) {
		printf("usage: mcd-toolstack %s\n%s\n", c->usage, c->help);
		return 0;
	}
	return c->fn(argc - optind, argv + optind);
}
