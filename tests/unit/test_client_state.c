/*
 * test_client_state.c - mcd-client's saved token and sessions: private
 * 0600 files read back as written; a world-readable token, a symbolic
 * link and a bad session id are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "state.h"

static char dir[64];

static int setup(void **state)
{
	char tmpl[] = "/tmp/mcd-client-state-XXXXXX";

	(void)state;
	if (!mkdtemp(tmpl))
		return -1;
	snprintf(dir, sizeof(dir), "%s/mcd", tmpl);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strrchr(dir, '/') - dir),
		 dir);
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void token_path(char *out, size_t len)
{
	snprintf(out, len, "%s/token", dir);
}

static void test_prepare(void **state)
{
	char err[256], sub[128];

	(void)state;
	assert_int_equal(state_prepare(dir, err, sizeof(err)), 0);
	assert_int_equal(mode_of(dir), 0700);
	snprintf(sub, sizeof(sub), "%s/sessions", dir);
	assert_int_equal(mode_of(sub), 0700);
	/* Opened up by someone: closed again. */
	chmod(dir, 0755);
	assert_int_equal(state_prepare(dir, err, sizeof(err)), 0);
	assert_int_equal(mode_of(dir), 0700);
}

static void test_token(void **state)
{
	struct state_token t = { .level = 2, .expires = 1900000000 }, back;
	char err[256], path[128];

	(void)state;
	assert_int_equal(state_prepare(dir, err, sizeof(err)), 0);
	assert_int_equal(state_token_load(dir, &back, err, sizeof(err)), 1);
	memset(t.token, 'a', STATE_TOKEN_LEN);
	strcpy(t.user, "alice");
	assert_int_equal(state_token_save(dir, &t, err, sizeof(err)), 0);
	token_path(path, sizeof(path));
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(state_token_load(dir, &back, err, sizeof(err)), 0);
	assert_string_equal(back.token, t.token);
	assert_string_equal(back.user, "alice");
	assert_int_equal(back.level, 2);
	assert_int_equal(back.expires, 1900000000);
	assert_int_equal(state_token_remove(dir, err, sizeof(err)), 0);
	assert_int_equal(state_token_remove(dir, err, sizeof(err)), 1);
}

static void test_token_refused(void **state)
{
	struct state_token t = { .level = 1, .expires = 1 }, back;
	char err[256], path[128], other[128];

	(void)state;
	assert_int_equal(state_prepare(dir, err, sizeof(err)), 0);
	memset(t.token, 'b', STATE_TOKEN_LEN);
	strcpy(t.user, "bob");
	assert_int_equal(state_token_save(dir, &t, err, sizeof(err)), 0);
	token_path(path, sizeof(path));
	chmod(path, 0644);
	assert_int_equal(state_token_load(dir, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0600"));
	/* A symbolic link, even to a private file: refused. */
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	chmod(path, 0600);
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(state_token_load(dir, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	unlink(path);
	/* Damaged contents. */
	FILE *f = fopen(path, "w");
	fputs("token=xyz\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(state_token_load(dir, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	unlink(path);
}

static void test_sessions(void **state)
{
	struct state_session s = { 0 }, back;
	char ids[4][STATE_SESSION_LEN + 1], err[256], path[160];

	(void)state;
	assert_int_equal(state_prepare(dir, err, sizeof(err)), 0);
	strcpy(s.session, "00112233445566ff");
	strcpy(s.pool, "pool-a");
	strcpy(s.address, "10.0.0.1:7444");
	memset(s.end_key, 'c', STATE_END_KEY_LEN);
	strcpy(s.app, "xterm");
	assert_int_equal(state_session_save(dir, &s, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/sessions/%s", dir, s.session);
	assert_int_equal(mode_of(path), 0600);
	strcpy(s.session, "0000000000000001");
	assert_int_equal(state_session_save(dir, &s, err, sizeof(err)), 0);
	assert_int_equal(state_session_list(dir, ids, 4, err, sizeof(err)), 2);
	assert_string_equal(ids[0], "0000000000000001");
	assert_string_equal(ids[1], "00112233445566ff");
	assert_int_equal(state_session_load(dir, ids[1], &back, err,
					    sizeof(err)), 0);
	assert_string_equal(back.pool, "pool-a");
	assert_string_equal(back.address, "10.0.0.1:7444");
	assert_string_equal(back.end_key, s.end_key);
	assert_string_equal(back.app, "xterm");
	/* Not an id: never a path. */
	assert_int_equal(state_session_load(dir, "../token", &back, err,
					    sizeof(err)), -1);
	assert_int_equal(state_session_load(dir, "00000000000000ab", &back,
					    err, sizeof(err)), 1);
	assert_int_equal(state_session_remove(dir, ids[0]), 0);
	assert_int_equal(state_session_remove(dir, ids[1]), 0);
	assert_int_equal(state_session_list(dir, ids, 4, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_refused),
		cmocka_unit_test(test_sessions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
