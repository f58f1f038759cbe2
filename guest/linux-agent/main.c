/*
 * main.c - mcd-agent: the MCD guest agent for Linux.
 *
 * Runs in every disposable MCD guest.  It offers a vchan to dom0 in its own
 * XenStore area, and on dom0's LAUNCH runs one app as an unprivileged user
 * toward the requesting thin client's X display; it reports when the app
 * started and how it ended.  See README.md beside this file.
 */
#include "conf.h"
#include "launch.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "mcd-agent"

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [--transport vchan|socket:PATH] [--config FILE]\n"
"                 [--foreground] [-v] [--help]\n"
"\n"
"The MCD guest agent: serves dom0's launch requests in this domain.\n"
"\n"
"  --transport vchan        libxenvchan server at\n"
"                           /local/domain/<own domid>/data/mcd/vchan (default)\n"
"  --transport socket:PATH  Unix socket stand-in at PATH, for tests\n"
"  --config FILE            configuration (default " CONF_DEFAULT_PATH ";\n"
"                           a missing default file means create_users=0)\n"
"  --foreground             do not detach; without it the agent forks into\n"
"                           the background, keeping its output on the console\n"
"  -v, --verbose            more log lines (twice: libxenvchan's too)\n"
"  -h, --help               show this help\n"
"\n"
"Logs one line per event on stderr.  Exits only on SIGTERM or SIGINT.\n");
}

/* fds 0-2 must be open before anything else is: otherwise the channel or
 * the signalfd could land on them and leak into the app's stdout. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(1);
	}
}

/* The agent holds X cookies and share passwords: no core file, and no
 * ptrace or /proc/PID/mem by anything but root. */
static void no_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0)
		fatalx("cannot turn off core dumps: %s", strerror(errno));
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return -1;
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

/* Regular accounts: UID_MIN of the guest's login.defs, else 1000; agent.conf's
 * uid_min overrides both. */
static void set_uid_range(const struct conf *c)
{
	uid_t min = LAUNCH_UID_MIN_DEFAULT;

	launch_read_login_defs(LAUNCH_LOGIN_DEFS, &min);
	if (c->uid_min > 0)
		min = (uid_t)c->uid_min;
	if (min == 0)
		min = 1; /* never root */
	launch_set_uid_min(min);
}

static int parse_transport(const char *s, struct loop_opts *o)
{
	if (strcmp(s, "vchan") == 0) {
		o->transport = LOOP_VCHAN;
		return 0;
	}
	if (strncmp(s, "socket:", 7) == 0 && s[7] != '\0') {
		o->transport = LOOP_SOCKET;
		o->socket_path = s + 7;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct loop_opts o = { .transport = LOOP_VCHAN };
	const char *config = NULL;
	int foreground = 0, verbose = 0, c;

	ensure_std_fds();
	/* Started in the background from a console shell: outlive it. */
	signal(SIGHUP, SIG_IGN);
	umask(022);
	log_init(PROG, 0);
	no_dumps();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_transport(optarg, &o) < 0)
				fatalx("bad --transport '%s': use vchan or "
				       "socket:PATH", optarg);
			break;
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fatalx("unknown or incomplete option '%s' (see --help)",
			       argv[optind - 1]);
		}
	}
	if (optind < argc)
		fatalx("unexpected argument '%s' (see --help)", argv[optind]);
	log_init(PROG, verbose);

	if (conf_load(config ? config : CONF_DEFAULT_PATH, config == NULL,
		      &o.conf) < 0)
		fatalx("bad configuration, not starting");
	set_uid_range(&o.conf);
	if (geteuid() != 0)
		log_warnx("not running as root: launches will fail");
	if (!foreground && daemonize() < 0)
		fatalx("cannot detach from the terminal");
	log_info("started (pid %d, create_users=%d, x_display=%d, uid_min=%u, "
		 "transport %s%s)", (int)getpid(), o.conf.create_users,
		 o.conf.x_display, (unsigned)launch_get_uid_min(),
		 o.transport == LOOP_VCHAN ? "vchan" : "socket:",
		 o.transport == LOOP_VCHAN ? "" : o.socket_path);
	return loop_run(&o);
}
