/*
 * test_wincore.c - the Windows agent's OS-independent core, natively on
 * Linux: program path mapping, command-line quoting, the environment
 * rules, exit-code mapping, tcp:PORT and the configuration parser.  The
 * same code runs in mcd-agent.exe; the Wine tests (make wintest) check the
 * quoting end to end against the real Windows argument parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xen/io/libxenvchan.h>

#include "../../guest/windows-agent/vchan_ring.h"
#include "../../guest/windows-agent/wait_compat.h"
#include "../../guest/windows-agent/wincore.h"

static void path_ok(const char *wire, const char *want)
{
	char out[WINCORE_PATH_MAX], reason[300] = "";

	if (wincore_program_path(wire, out, sizeof(out), reason,
				 sizeof(reason)) != 0)
		fail_msg("%s refused: %s", wire, reason);
	assert_string_equal(out, want);
}

static void path_bad(const char *wire, const char *want_reason)
{
	char out[WINCORE_PATH_MAX], reason[300] = "";

	if (wincore_program_path(wire, out, sizeof(out), reason,
				 sizeof(reason)) == 0)
		fail_msg("%s accepted as %s", wire, out);
	if (want_reason)
		assert_string_equal(reason, want_reason);
}

static void test_program_path(void **state)
{
	(void)state;
	path_ok("/c/Windows/notepad.exe", "C:\\Windows\\notepad.exe");
	path_ok("/D/Program Files/App 1/app.EXE",
		"D:\\Program Files\\App 1\\app.EXE");
	path_ok("/c/a.exe", "C:\\a.exe");
	path_bad("/usr/bin/xterm", "no such program: /usr/bin/xterm (name "
		 "Windows programs as /c/path/app.exe)");
	path_bad("/cc/a.exe", NULL);
	path_bad("/1/a.exe", NULL);
	path_bad("/c/x/run.bat", "not a Windows program (.exe): /c/x/run.bat");
	path_bad("/c/x/run.cmd", NULL);
	path_bad("/c/x/app", NULL);
	path_bad("/c/x/.exe", NULL);
	path_bad("/c/x\\y/app.exe", NULL);
	path_bad("/c/x/app.exe:stream.exe", NULL);
	path_bad("/c/C:/app.exe", NULL);
	path_bad("/c/x*/app.exe", NULL);
	path_bad("/c/x?/app.exe", NULL);
	path_bad("/c/\"x/app.exe", NULL);
	path_bad("/c/x|y/app.exe", NULL);
	path_bad("/c/x./app.exe", NULL);
	path_bad("/c/x /app.exe", NULL);
	path_bad("/c/ x/app.exe", NULL);
	path_bad("/c/app.exe ", NULL);
	path_bad("/c/nul.exe", NULL);
	path_bad("/c/CON/app.exe", NULL);
	path_bad("/c/x/com1.exe", NULL);
	path_bad("/c/x/LPT9.txt/a.exe", NULL);
	path_ok("/c/x/com10.exe", "C:\\x\\com10.exe");
	path_ok("/c/console/nul1.exe", "C:\\console\\nul1.exe");
}

/*
 * The Microsoft C runtime's splitting of a command line (argv[1] on), as
 * documented ("Parsing C command-line arguments"), to check the quoting
 * against.
 */
static int split(const char *cmd, char out[][256], int max)
{
	const char *p = cmd;
	int n = 0;

	/* argv[0]: up to the closing quote, no escapes. */
	if (*p != '"')
		return -1;
	p = strchr(p + 1, '"');
	if (!p)
		return -1;
	p++;
	for (;;) {
		size_t o = 0;
		int inq = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n >= max)
			return -1;
		for (;;) {
			size_t bs = 0;

			while (*p == '\\') {
				bs++;
				p++;
			}
			if (*p == '"') {
				for (size_t i = 0; i < bs / 2; i++)
					out[n][o++] = '\\';
				if (bs % 2) {
					out[n][o++] = '"';
					p++;
					continue;
				}
				p++;
				if (inq && *p == '"') {
					out[n][o++] = '"';
					p++;
					continue;
				}
				inq = !inq;
				continue;
			}
			for (size_t i = 0; i < bs; i++)
				out[n][o++] = '\\';
			if (!*p || (!inq && (*p == ' ' || *p == '\t')))
				break;
			out[n][o++] = *p++;
		}
		out[n][o] = '\0';
		n++;
	}
	return n;
}

static void roundtrip(const char *const *argv)
{
	char cmd[4096], back[16][256];
	int n, argc = 0;

	while (argv[argc])
		argc++;
	assert_true(wincore_cmdline(argv, cmd, sizeof(cmd)) > 0);
	n = split(cmd, back, 16);
	if (n != argc - 1)
		fail_msg("%s: split into %d, expected %d", cmd, n, argc - 1);
	for (int i = 1; i < argc; i++)
		if (strcmp(back[i - 1], argv[i]) != 0)
			fail_msg("%s: argv[%d] '%s', expected '%s'", cmd, i,
				 back[i - 1], argv[i]);
}

static void test_cmdline(void **state)
{
	const char *plain[] = { "C:\\a b\\app.exe", "x", "-y", NULL };
	const char *hard[] = {
		"C:\\app.exe", "", "two words", "q\"uote", "\"", "\\", "\\\\",
		"trail\\", "a\\\\b", "back\\\\\"q", "tab\there", "new\nline",
		"\\\"", "end\\\\", NULL,
	};
	const char *quote0[] = { "C:\\a\"b.exe", NULL };
	const char *big[] = { "C:\\a.exe", "0123456789", NULL };
	char cmd[4096];

	(void)state;
	assert_int_equal(wincore_cmdline(plain, cmd, sizeof(cmd)),
			 (int)strlen("\"C:\\a b\\app.exe\" x -y"));
	assert_string_equal(cmd, "\"C:\\a b\\app.exe\" x -y");
	roundtrip(plain);
	roundtrip(hard);
	assert_int_equal(wincore_cmdline(quote0, cmd, sizeof(cmd)), -1);
	/* Exactly fits with the NUL, and one byte less does not. */
	assert_int_equal(wincore_cmdline(big, cmd, 22), 21);
	assert_int_equal(wincore_cmdline(big, cmd, 21), -1);
}

static void test_env_allowed(void **state)
{
	(void)state;
	assert_true(wincore_env_allowed("MCD_TEST=1"));
	assert_true(wincore_env_allowed("LANG=de_DE.UTF-8"));
	assert_true(wincore_env_allowed("PATHWAY=1"));
	assert_false(wincore_env_allowed("Path=C:\\evil"));
	assert_false(wincore_env_allowed("PATH=x"));
	assert_false(wincore_env_allowed("pathext=.exe"));
	assert_false(wincore_env_allowed("ComSpec=x"));
	assert_false(wincore_env_allowed("SystemRoot=x"));
	assert_false(wincore_env_allowed("windir=x"));
	assert_false(wincore_env_allowed("TEMP=x"));
	assert_false(wincore_env_allowed("UserProfile=x"));
	assert_false(wincore_env_allowed("__COMPAT_LAYER=RunAsInvoker"));
	assert_false(wincore_env_allowed("COR_PROFILER_PATH=x"));
	assert_false(wincore_env_allowed("COMPlus_x=1"));
	assert_false(wincore_env_allowed("DOTNET_STARTUP_HOOKS=x"));
	assert_false(wincore_env_allowed("ProgramFiles(x86)=x"));
	assert_false(wincore_env_allowed("display=:1"));
	assert_false(wincore_env_allowed("ld_preload=x"));
	assert_false(wincore_env_allowed("=x"));
	assert_false(wincore_env_allowed("NOEQUALS"));
}

static void test_env_build(void **state)
{
	const char *base[] = {
		"Path=C:\\Windows", "=C:=C:\\", "USERNAME=alice",
		"display=:9", "MCD_X=old", "zeta=1",
	};
	const char *extras[] = { "MCD_X=new", "ALPHA=1", "mcd_x=newer" };
	const char *out[16];
	char disp[80];
	int n;

	(void)state;
	n = wincore_env_build(base, 6, "host:0.1", extras, 3, disp,
			      sizeof(disp), out, 16);
	assert_int_equal(n, 7);
	assert_string_equal(out[0], "=C:=C:\\");
	assert_string_equal(out[1], "ALPHA=1");
	assert_string_equal(out[2], "DISPLAY=host:0.1");
	assert_string_equal(out[3], "mcd_x=newer");
	assert_string_equal(out[4], "Path=C:\\Windows");
	assert_string_equal(out[5], "USERNAME=alice");
	assert_string_equal(out[6], "zeta=1");
	/* Too small an array. */
	assert_int_equal(wincore_env_build(base, 6, ":0", extras, 3, disp,
					   sizeof(disp), out, 5), -1);
}

static void test_exit_status(void **state)
{
	int st;

	(void)state;
	st = wincore_exit_status(0, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = wincore_exit_status(7, 1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	st = wincore_exit_status(255, 0);
	assert_int_equal(WEXITSTATUS(st), 255);
	st = wincore_exit_status(256, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 255);
	st = wincore_exit_status(0xC0000005u, 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), 11);
	st = wincore_exit_status(0xC0000094u, 0);
	assert_int_equal(WTERMSIG(st), 8);
	st = wincore_exit_status(0xC000013Au, 0);
	assert_int_equal(WTERMSIG(st), 2);
	st = wincore_exit_status(WINCORE_KILL_CODE(9), 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), 9);
	/* The app itself may exit with that code: not a kill then. */
	st = wincore_exit_status(WINCORE_KILL_CODE(9), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 255);
}

static void test_parse_tcp(void **state)
{
	(void)state;
	assert_int_equal(wincore_parse_tcp("tcp:47000"), 47000);
	assert_int_equal(wincore_parse_tcp("tcp:1"), 1);
	assert_int_equal(wincore_parse_tcp("tcp:65535"), 65535);
	assert_int_equal(wincore_parse_tcp("tcp:65536"), -1);
	assert_int_equal(wincore_parse_tcp("tcp:0"), -1);
	assert_int_equal(wincore_parse_tcp("tcp:"), -1);
	assert_int_equal(wincore_parse_tcp("tcp:10.0.0.1:80"), -1);
	assert_int_equal(wincore_parse_tcp("tcp:80x"), -1);
	assert_int_equal(wincore_parse_tcp("vchan"), -1);
}

static int parse(const char *text, struct wconf *c, char *err, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n;

	assert_non_null(f);
	n = wconf_parse("agent.conf", f, c, NULL, err, len);
	fclose(f);
	return n;
}

static void test_config(void **state)
{
	struct wconf c;
	char err[300], share[300];

	(void)state;
	wconf_defaults(&c);
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_int_equal(c.allow_current_user, 0);
	assert_string_equal(c.share, "");
	assert_int_equal(parse("# comment\n\n share = \\\\files\\home\\%u \r\n"
			       "share_drive=h:\nallow_current_user=0\n", &c,
			       err, sizeof(err)), 0);
	assert_string_equal(c.share, "\\\\files\\home\\%u");
	assert_string_equal(c.share_drive, "H:");
	assert_int_equal(wconf_share_for(&c, "alice", share, sizeof(share)), 0);
	assert_string_equal(share, "\\\\files\\home\\alice");
	assert_int_equal(wconf_share_for(&c, "alice", share, 10), -1);

	c.allow_current_user = 1;
	assert_int_equal(parse("allow_current_user=yes\n", &c, err,
			       sizeof(err)), 1);
	assert_string_equal(err, "agent.conf:1: allow_current_user must be "
			    "0 or 1, not 'yes'");
	/* Unchanged after a refused file. */
	assert_int_equal(c.allow_current_user, 1);
	assert_int_equal(parse("a=1\n", &c, err, sizeof(err)), 1);
	assert_string_equal(err, "agent.conf:1: unknown key 'a'");
	assert_int_equal(parse("\nshare_drive=HH\n", &c, err, sizeof(err)), 1);
	assert_string_equal(err, "agent.conf:2: share_drive must be a drive "
			    "like H:, not 'HH'");
	assert_int_equal(parse("share_drive=H:\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("share=files\\x\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("share=\\\\f\\%u\\%u\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("share=\\\\f\\%d\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("share=\\\\f\\x\\\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("allow_current_user=1\nallow_current_user=1\n",
			       &c, err, sizeof(err)), 1);
	assert_string_equal(err, "agent.conf:2: allow_current_user given twice");
	assert_int_equal(parse("noequals\n", &c, err, sizeof(err)), 1);
	assert_int_equal(parse("allow_current_user=1\x01\n", &c, err,
			       sizeof(err)), 1);
	{
		char longline[400];

		memset(longline, 'x', sizeof(longline) - 2);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		assert_int_equal(parse(longline, &c, err, sizeof(err)), 1);
		assert_string_equal(err, "agent.conf:1: line longer than 256 "
				    "bytes");
	}
}

/* The agent's vchan page is libxenvchan's, byte for byte: dom0 maps it
 * with the unchanged libxenvchan_client_init(). */
static void test_vchan_layout(void **state)
{
	(void)state;
#define SAME(f)                                                          \
	assert_int_equal(offsetof(struct vchan_page, f),                 \
			 offsetof(struct vchan_interface, f));            \
	assert_int_equal(sizeof(((struct vchan_page *)0)->f),            \
			 sizeof(((struct vchan_interface *)0)->f))
	SAME(left);
	SAME(right);
	SAME(left_order);
	SAME(right_order);
	SAME(cli_live);
	SAME(srv_live);
	SAME(cli_notify);
	SAME(srv_notify);
#undef SAME
	assert_int_equal(offsetof(struct vchan_page, left.cons),
			 offsetof(struct vchan_interface, left.cons));
	assert_int_equal(offsetof(struct vchan_page, left.prod),
			 offsetof(struct vchan_interface, left.prod));
	assert_int_equal(offsetof(struct vchan_page, grants),
			 offsetof(struct vchan_interface, grants));
	assert_int_equal(VCHAN_RING_NOTIFY_WRITE, VCHAN_NOTIFY_WRITE);
	assert_int_equal(VCHAN_RING_NOTIFY_READ, VCHAN_NOTIFY_READ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_path),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_env_allowed),
		cmocka_unit_test(test_env_build),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_parse_tcp),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_vchan_layout),
	};

	return cmocka_run_group_tests_name("Windows agent core (native)",
					   tests, NULL, NULL);
}
