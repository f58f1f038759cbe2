/*
 * test_agent_storage.c - the agent's storage pieces that need no root, no
 * disk and no server: reasons from helper output, mount option strings,
 * CIFS credentials files, and requests without storage; as root also the
 * end of a session, which must leave no process of its user behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A uid nobody on the test machine uses: its processes are ours. */
#define TEST_UID 64997

#include "mcd_proto.h"
#include "storage.h"

static void test_sanitize(void **state)
{
	char out[64];

	(void)state;
	storage_sanitize("mount.nfs: timeout\nmount.nfs: Network is unreachable\n\n",
			 out, sizeof(out));
	assert_string_equal(out, "mount.nfs: Network is unreachable");
	/* mount.cifs puts a hint after its error. */
	storage_sanitize("mount error(101): Network is unreachable\nRefer to the mount.cifs(8) manual page\n",
			 out, sizeof(out));
	assert_string_equal(out, "mount error(101): Network is unreachable");
	storage_sanitize("bad\tbyte \x1b[31mred\x7f\r\n", out, sizeof(out));
	assert_string_equal(out, "bad?byte ?[31mred?");
	storage_sanitize("caf\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "caf??");
	assert_true(mcd_valid_reason(out));
	storage_sanitize("", out, sizeof(out));
	assert_string_equal(out, "");
	storage_sanitize("\n \n\t\n", out, sizeof(out));
	assert_string_equal(out, "");
	/* Cut to fit, still a valid reason. */
	storage_sanitize("0123456789012345678901234567890123456789", out, 11);
	assert_string_equal(out, "0123456789");
}

static const struct mcd_share nfs = { "nfs", "files.example:/export/home",
				      "docs", "", "" };
static const struct mcd_share cifs = { "cifs", "//fs.example/team", "team",
				       "bob", "s3cret,uid=0" };

static void test_options(void **state)
{
	char o[STORAGE_OPTS_MAX];

	(void)state;
	assert_int_equal(storage_share_options(&nfs, 1000, 1000, "", o, sizeof(o)), 0);
	assert_string_equal(o, "nosuid,nodev,soft,timeo=50,retrans=2,retry=0");

	assert_int_equal(storage_share_options(&cifs, 1000, 100,
					       "/run/mcd-agent/creds/cifs-Ab12Cd",
					       o, sizeof(o)), 0);
	assert_string_equal(o, "nosuid,nodev,credentials=/run/mcd-agent/creds/cifs-Ab12Cd,"
			       "uid=1000,forceuid,gid=100,forcegid,file_mode=0600,dir_mode=0700");
	/* Neither the password nor the user name is ever in the options. */
	assert_null(strstr(o, "s3cret"));
	assert_null(strstr(o, "bob"));
	assert_null(strstr(o, "uid=0,"));

	assert_int_equal(storage_share_options(&cifs, 1000, 1000, "", o, sizeof(o)), 0);
	assert_non_null(strstr(o, ",guest,"));

	/* A credentials path that would add options is refused. */
	assert_int_equal(storage_share_options(&cifs, 1000, 1000,
					       "/tmp/x,uid=0", o, sizeof(o)), -1);
	assert_int_equal(storage_share_options(&cifs, 1000, 1000, "/tmp/a b", o,
					       sizeof(o)), -1);
	assert_int_equal(storage_share_options(&cifs, 1000, 1000, "relative", o,
					       sizeof(o)), -1);
	/* Unknown kinds and short buffers too. */
	assert_int_equal(storage_share_options(&(struct mcd_share){ "smb", "//a/b",
		"x", "", "" }, 1000, 1000, "", o, sizeof(o)), -1);
	assert_int_equal(storage_share_options(&nfs, 1000, 1000, "", o, 10), -1);
}

static void test_creds(void **state)
{
	char base[64], dir[96], path[256], err[256], buf[256], cmd[128];
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/mcd-test-creds-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/agent/creds", base);
	assert_int_equal(storage_write_creds(dir, &cifs, path, sizeof(path), err,
					     sizeof(err)), 0);
	assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	/* One line each: the password's comma cannot become an option. */
	assert_string_equal(buf, "username=bob\npassword=s3cret,uid=0\n");
	/* Removed once the mount returned. */
	storage_drop_creds(path);
	assert_int_equal(access(path, F_OK), -1);
	/* The parent (/run/mcd-agent) also holds the user's X cookie
	 * directory: root's, but others may enter it. */
	snprintf(buf, sizeof(buf), "%s/agent", base);
	assert_int_equal(lstat(buf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	if (geteuid() == 0) {
		pid_t pid;
		int status;

		assert_int_equal(chmod(base, 0755), 0);
		assert_int_equal(mkdir(strcat(buf, "/x"), 0755), 0);
		pid = fork();
		if (pid == 0)
			_exit(setresuid(TEST_UID, TEST_UID, TEST_UID) < 0 ||
			      access(buf, X_OK) < 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* A directory others can enter is not used. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(storage_write_creds(dir, &cifs, path, sizeof(path), err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "not a private directory"));
	/* Nor a link to a directory. */
	snprintf(dir, sizeof(dir), "%s/link", base);
	assert_int_equal(symlink("/tmp", dir), 0);
	assert_int_equal(storage_write_creds(dir, &cifs, path, sizeof(path), err,
					     sizeof(err)), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

/* Without a volume or shares there is nothing to do and nothing to undo. */
static void test_no_storage(void **state)
{
	struct storage st;
	struct mcd_launch req = { .volume = "", .sharec = 0 };
	struct launch_user u = { .uid = TEST_UID, .gid = TEST_UID };
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	uint32_t code = 0;

	(void)state;
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(storage_mount(&st, &req, &u, &code, reason,
				       sizeof(reason)), 0);
	assert_int_equal(st.nmounts, 0);
	assert_int_equal(code, 0);
	storage_unmount(&st);
	assert_int_equal(st.nmounts, 0);
}

/* A bad volume name fails with STORAGE and wipes the request's passwords. */
static void test_bad_volume(void **state)
{
	char pw[] = "topsecret";
	struct storage st;
	struct mcd_launch req = { .volume = "sda", .sharec = 1 };
	struct launch_user u = { .uid = 1000, .gid = 1000, .home = "/home/x" };
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	uint32_t code = 0;

	(void)state;
	req.share[0] = (struct mcd_share){ "cifs", "//a/b", "b", "bob", pw };
	assert_int_equal(storage_mount(&st, &req, &u, &code, reason,
				       sizeof(reason)), -1);
	assert_int_equal(code, MCD_FAIL_STORAGE);
	assert_string_equal(reason, "bad volume name");
	assert_int_equal(st.nmounts, 0);
	assert_int_equal(pw[0], '\0');
	assert_int_equal(pw[8], '\0');
}

/* Live (not zombie) processes with TEST_UID as their real uid. */
static int live_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[2048], *p;
		unsigned long uid;
		FILE *f;
		size_t len;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		p = strstr(buf, "\nUid:");
		if (p && sscanf(p, "\nUid: %lu", &uid) == 1 && uid == TEST_UID &&
		    !strstr(buf, "State:\tZ"))
			n++;
	}
	closedir(d);
	return n;
}

/* The attack on a kept domain: the user's processes leave the app's
 * session with setsid() and keep forking.  The end of the session, even
 * one without storage, must leave none of them. */
static void test_end_kills_user(void **state)
{
	struct mcd_launch req = { .volume = "", .sharec = 0 };
	struct launch_user u = { .uid = TEST_UID, .gid = TEST_UID };
	char reason[MCD_MAX_REASON_LEN + 1] = "";
	struct timespec ms5 = { 0, 5 * 1000 * 1000 };
	struct storage st;
	uint32_t code = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setresgid(TEST_UID, TEST_UID, TEST_UID) < 0 ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0)
			_exit(1);
		/* A new process every 5 ms, each in a session of its own. */
		for (int i = 0; i < 2000; i++) {
			if (fork() == 0) {
				setsid();
				sleep(60);
				_exit(0);
			}
			nanosleep(&ms5, NULL);
		}
		_exit(0);
	}
	usleep(200000);
	assert_true(live_procs() > 5);
	assert_int_equal(storage_mount(&st, &req, &u, &code, reason,
				       sizeof(reason)), 0);
	storage_unmount(&st);
	assert_int_equal(live_procs(), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* Nothing more to kill: a second end is quiet. */
	assert_int_equal(launch_kill_user(TEST_UID, 1000), 0);
}

/* The attack on a share's mount point: checked as a directory of the
 * user's, then swapped for a symlink to a system directory before the
 * mount.  The mount must land on the directory that was checked. */
static void test_mountpoint_swap(void **state)
{
	char base[64], home[96], stage[96], victim[96], path[128], moved[128];
	char reason[MCD_MAX_REASON_LEN + 1] = "", cmd[128];
	struct launch_user u = { .uid = TEST_UID, .gid = TEST_UID };
	struct stat b, v, m;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(base, sizeof(base), "/tmp/mcd-test-mnt-XXXXXX");
	assert_non_null(mkdtemp(base));
	/* A private tmpfs of our own: moves need a non-shared parent. */
	if (mount("t", base, "tmpfs", 0, "mode=0755") < 0)
		skip();
	assert_int_equal(mount(NULL, base, NULL, MS_PRIVATE, NULL), 0);
	snprintf(home, sizeof(home), "%s/home", base);
	snprintf(stage, sizeof(stage), "%s/stage", base);
	snprintf(victim, sizeof(victim), "%s/sbin", base);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(chown(home, TEST_UID, TEST_UID), 0);
	assert_int_equal(mkdir(stage, 0700), 0);
	assert_int_equal(mkdir(victim, 0755), 0);
	snprintf(u.home, sizeof(u.home), "%s", home);
	snprintf(u.name, sizeof(u.name), "tester");

	/* A symlink or somebody else's directory is refused outright. */
	snprintf(path, sizeof(path), "%s/docs", home);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(storage_mountpoint(&u, "docs", reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "not a directory"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(storage_mountpoint(&u, "docs", reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "is not tester's"));
	assert_int_equal(rmdir(path), 0);

	/* Made by root for the user, then swapped after the check. */
	fd = storage_mountpoint(&u, "docs", reason, sizeof(reason));
	assert_true(fd >= 0);
	snprintf(moved, sizeof(moved), "%s/docs.real", home);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(mount("share", stage, "tmpfs", 0, "mode=0700"), 0);
	assert_int_equal(storage_move_mount(stage, fd), 0);
	close(fd);
	assert_int_equal(stat(base, &b), 0);
	assert_int_equal(stat(victim, &v), 0);
	assert_int_equal(stat(moved, &m), 0);
	assert_true(v.st_dev == b.st_dev); /* nothing landed on the target */
	assert_true(m.st_dev != b.st_dev); /* the checked directory got it */
	assert_int_equal(umount2(moved, 0), 0);
	assert_int_equal(umount2(base, MNT_DETACH), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_creds),
		cmocka_unit_test(test_no_storage),
		cmocka_unit_test(test_bad_volume),
		cmocka_unit_test(test_end_kills_user),
		cmocka_unit_test(test_mountpoint_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
