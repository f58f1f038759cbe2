/*
 * test_schema_check.c - mcd-schema-check's core (mcd_schema.c) on sample
 * listings: a valid tree, then one kind of violation at a time.
 *
 * The listings are rendered here the way xenstore-ls prints them: one space
 * of indent per level, " = \"value\"" with \t \n \r \\ \ooo \xHH escapes,
 * dot padding to column 60 and "  (perms)" with -p, values cut to fit 80
 * columns with "\..." when not -f, and full paths with -f.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcd_schema.h"

#define SID "0123456789abcdef"
#define SID2 "fedcba9876543210"
#define S "/mcd/sessions/" SID

/* ---- a XenStore tree in depth-first order ---- */

#define MAX_NODES 96

struct tnode {
	char path[160];
	char value[4200];
	size_t vlen;
	char perms[48];
};

static struct tnode tree[MAX_NODES];
static size_t ntree;

static struct tnode *tfind(const char *path)
{
	for (size_t i = 0; i < ntree; i++)
		if (strcmp(tree[i].path, path) == 0)
			return &tree[i];
	return NULL;
}

/* Add a node as the first child of its parent (which must exist), or
 * change it if it exists.  Keeps depth-first order. */
static void tset(const char *path, const char *value, const char *perms)
{
	struct tnode *n = tfind(path);
	char parent[160];
	size_t at = ntree;

	if (!n) {
		const char *slash = strrchr(path, '/');

		assert_true(ntree < MAX_NODES);
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
		if (parent[0]) {
			struct tnode *p = tfind(parent);

			assert_non_null(p);
			at = (size_t)(p - tree) + 1;
		}
		memmove(&tree[at + 1], &tree[at], (ntree - at) * sizeof(tree[0]));
		ntree++;
		n = &tree[at];
		memset(n, 0, sizeof(*n));
		snprintf(n->path, sizeof(n->path), "%s", path);
		snprintf(n->perms, sizeof(n->perms), "%s", perms ? perms : "n0");
	}
	n->vlen = strlen(value);
	assert_true(n->vlen < sizeof(n->value));
	memcpy(n->value, value, n->vlen + 1);
	if (perms)
		snprintf(n->perms, sizeof(n->perms), "%s", perms);
}

/* A value with explicit length (may hold NUL bytes). */
static void tset_bytes(const char *path, const char *value, size_t len)
{
	struct tnode *n = tfind(path);

	if (!n)
		fail_msg("no node %s", path);
	else
		memcpy(n->value, value, len);
	if (n) {
		n->value[len] = '\0';
		n->vlen = len;
	}
}

/* Remove a node and everything below it. */
static void tdel(const char *path)
{
	size_t len = strlen(path), j = 0;

	for (size_t i = 0; i < ntree; i++) {
		const char *p = tree[i].path;

		if (strncmp(p, path, len) == 0 && (p[len] == '\0' || p[len] == '/'))
			continue;
		tree[j++] = tree[i];
	}
	ntree = j;
}

static void add_session(const char *sid, const char *domid, const char *state)
{
	char p[160], v[64];

	snprintf(p, sizeof(p), "/mcd/sessions/%s", sid);
	tset(p, "", "n0");
	/* Added as first child each time, so go in reverse. */
#define K(key, val) do { \
		snprintf(p, sizeof(p), "/mcd/sessions/%s/%s", sid, key); \
		tset(p, val, "n0"); \
	} while (0)
	if (domid)
		K("domid", domid);
	K("created", "1763770000");
	K("state", state);
	K("command", "/usr/bin/xterm -geometry 80x24");
	K("display", "10.0.2.2:0");
	K("user", "alice");
	K("template", "debian-12");
	snprintf(v, sizeof(v), "mcd-%s", sid);
	K("domain-name", v);
#undef K
}

static void add_domain(const char *domid, const char *name)
{
	char p[160], perms[32];

	snprintf(p, sizeof(p), "/local/domain/%s", domid);
	snprintf(perms, sizeof(perms), "n%s", domid);
	tset(p, "", perms);
	snprintf(p, sizeof(p), "/local/domain/%s/name", domid);
	snprintf(perms, sizeof(perms), "n0,r%s", domid);
	tset(p, name, perms);
}

static void add_guest_area(const char *domid)
{
	char p[160], perms[32], r0[32];

	snprintf(perms, sizeof(perms), "n%s", domid);
	snprintf(r0, sizeof(r0), "n%s,r0", domid);
	snprintf(p, sizeof(p), "/local/domain/%s/data", domid);
	tset(p, "", perms);
	snprintf(p, sizeof(p), "/local/domain/%s/data/mcd", domid);
	tset(p, "", perms);
	snprintf(p, sizeof(p), "/local/domain/%s/data/mcd/vchan", domid);
	tset(p, "", perms);
	snprintf(p, sizeof(p), "/local/domain/%s/data/mcd/vchan/event-channel",
		 domid);
	tset(p, "31", r0);
	snprintf(p, sizeof(p), "/local/domain/%s/data/mcd/vchan/ring-ref", domid);
	tset(p, "8", r0);
	snprintf(p, sizeof(p), "/local/domain/%s/data/mcd/agent", domid);
	tset(p, "1 linux", perms);
}

/* dom0, one running session in domain 5 with its guest area. */
static void base_tree(void)
{
	ntree = 0;
	tset("/tool", "", "n0");
	tset("/tool/xenstored", "", "n0");
	tset("/local", "", "n0");
	tset("/local/domain", "", "n0");
	add_domain("5", "mcd-" SID);
	add_guest_area("5");
	add_domain("0", "Domain-0");
	tset("/mcd", "", "n0");
	tset("/mcd/sessions", "", "n0");
	add_session(SID, "5", "running");
	tset(S "/pid", "1234", "n0");
}

/* ---- rendering like xenstore-ls ---- */

enum { LS_PERMS = 1, LS_FULL = 2 };

struct buf {
	char *p;
	size_t len, cap;
};

static void bput(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[20000];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	bput(b, tmp, (size_t)n);
}

static void escape(const char *v, size_t n, char *out)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= ' ' && c <= '~' && c != '\\') {
			out[j++] = (char)c;
			continue;
		}
		out[j++] = '\\';
		if (c == '\t')
			out[j++] = 't';
		else if (c == '\n')
			out[j++] = 'n';
		else if (c == '\r')
			out[j++] = 'r';
		else if (c == '\\')
			out[j++] = '\\';
		else if (c < 8)
			j += (size_t)sprintf(out + j, "%03o", c);
		else
			j += (size_t)sprintf(out + j, "x%02x", c);
	}
	out[j] = '\0';
}

/* The listing of `xenstore-ls [-f] [-p] root` for the tree. */
static char *render(const char *root, int flags, size_t *len)
{
	static char esc[20000];
	struct buf b = { 0 };
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	const int max_width = (flags & LS_FULL) ? 1 << 30 : 80;
	const int desired = (flags & LS_FULL) ? 0 : 60;

	bput(&b, "", 0);
	for (size_t i = 0; i < ntree; i++) {
		const struct tnode *n = &tree[i];
		const char *rel = n->path + rl;
		int w = 0;

		if (strncmp(n->path, root, rl) != 0 || rel[0] != '/' || !rel[1])
			continue;
		if (flags & LS_FULL) {
			bprintf(&b, "%s", n->path);
		} else {
			int depth = 0;

			for (const char *p = rel + 1; *p; p++)
				depth += *p == '/';
			for (; w < depth; w++)
				bput(&b, " ", 1);
			w += (int)strlen(strrchr(n->path, '/') + 1);
			bprintf(&b, "%s", strrchr(n->path, '/') + 1);
		}
		escape(n->value, n->vlen, esc);
		if (max_width < w + (int)n->vlen + 8) {
			bprintf(&b, " = \"%.*s\\...\"", max_width - 8 - w, esc);
		} else {
			int k = (int)strlen(esc) + 5;

			bprintf(&b, " = \"%s\"", esc);
			w += k;
			if (flags & LS_PERMS) {
				bput(&b, " ", 1);
				for (w++; w < desired; w++)
					bput(&b, (w & 1) ? "." : " ", 1);
			}
		}
		if (flags & LS_PERMS)
			bprintf(&b, "  (%s)", n->perms);
		bput(&b, "\n", 1);
	}
	*len = b.len;
	return b.p;
}

/* ---- running the checker ---- */

#define MAX_PROBLEMS 64

struct problems {
	unsigned n;
	char path[MAX_PROBLEMS][200];
	char msg[MAX_PROBLEMS][600];
};

static struct problems got;
static struct mcd_schema_result res;

static void collect(void *ctx, const char *path, const char *problem)
{
	struct problems *p = ctx;

	/* Every report is one clean line. */
	for (const char *s = problem; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			fail_msg("raw byte 0x%02x in problem text", (unsigned char)*s);
	if (p->n < MAX_PROBLEMS) {
		snprintf(p->path[p->n], sizeof(p->path[0]), "%s", path);
		snprintf(p->msg[p->n], sizeof(p->msg[0]), "%s", problem);
	}
	p->n++;
}

static void dump(void)
{
	for (unsigned i = 0; i < got.n && i < MAX_PROBLEMS; i++)
		print_message("  problem: %s: %s\n", got.path[i], got.msg[i]);
}

static void check_text(const char *text, size_t len, const char *root,
		       int domains)
{
	struct mcd_schema_opts o = { .root = root, .name = "test",
				     .domains = domains };
	char err[200];

	memset(&got, 0, sizeof(got));
	if (mcd_schema_check(text, len, &o, collect, &got, &res, err,
			     sizeof(err)) < 0)
		fail_msg("checker did not run: %s", err);
	assert_int_equal(res.problems, got.n);
}

static void check_tree(const char *root, int flags, int domains)
{
	size_t len;
	char *text = render(root, flags, &len);

	check_text(text, len, strcmp(root, "/") ? root : NULL, domains);
	free(text);
}

static void expect_ok(unsigned sessions)
{
	if (got.n) {
		dump();
		fail_msg("%u unexpected problems", got.n);
	}
	assert_int_equal(res.sessions, sessions);
}

/* Exactly one problem, at path, mentioning what. */
static void expect_one(const char *path, const char *what)
{
	if (got.n != 1 || strcmp(got.path[0], path) != 0 ||
	    !strstr(got.msg[0], what)) {
		dump();
		fail_msg("wanted one problem at %s mentioning \"%s\"", path, what);
	}
}

/* At least one problem at path mentioning what. */
static void expect_has(const char *path, const char *what)
{
	for (unsigned i = 0; i < got.n && i < MAX_PROBLEMS; i++)
		if (strcmp(got.path[i], path) == 0 && strstr(got.msg[i], what))
			return;
	dump();
	fail_msg("no problem at %s mentioning \"%s\"", path, what);
}

/* The tree rendered both ways must give exactly this one problem. */
static void expect_one_both(const char *path, const char *what)
{
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one(path, what);
	check_tree("/", LS_PERMS, 0);
	expect_one(path, what);
}

/* ---- valid trees ---- */

static void test_valid_tree(void **state)
{
	(void)state;
	base_tree();
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
	assert_int_equal(res.truncated, 0);
	check_tree("/", LS_PERMS, 1);
	expect_ok(1);
	check_tree("/", LS_PERMS | LS_FULL, 1);
	expect_ok(1);

	/* A second session still being created has no domid yet. */
	add_session(SID2, NULL, "creating");
	check_tree("/", LS_PERMS, 1);
	expect_ok(2);
	/* Nor has one waiting in line for a boot slot. */
	tset("/mcd/sessions/" SID2 "/state", "queued", NULL);
	check_tree("/", LS_PERMS, 1);
	expect_ok(2);
	tset("/mcd/sessions/" SID2 "/state", "creating", NULL);

	/* Every optional key with a valid value. */
	tset(S "/exit-status", "signal 9", NULL);
	tset(S "/error", "agent refused the launch: \"quoted\" (exec-failed)",
	     NULL);
	tset(S "/state", "ending", NULL);
	tset(S "/volume", "/var/lib/mcd/volumes/alice.img", NULL);
	tset(S "/x", "relay", NULL);
	tset(S "/x-tls", "6443", NULL);
	tset(S "/x-ready", "1", NULL);
	check_tree("/", LS_PERMS | LS_FULL, 1);
	expect_ok(2);
	check_tree("/", LS_PERMS, 1);
	expect_ok(2);
}

static void test_valid_values(void **state)
{
	static const char *const exits[] = { "code 0", "code 1", "code 255",
					     "signal 1", "signal 128" };
	static const char *const displays[] = { ":0", "[::1]:0", "host:0.1",
						"thin-7.example.org:12" };

	(void)state;
	base_tree();
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		tset(S "/exit-status", exits[i], NULL);
		check_tree("/", LS_PERMS | LS_FULL, 0);
		expect_ok(1);
	}
	for (size_t i = 0; i < sizeof(displays) / sizeof(displays[0]); i++) {
		tset(S "/display", displays[i], NULL);
		check_tree("/", LS_PERMS | LS_FULL, 0);
		expect_ok(1);
	}
	/* A command may hold any byte but NUL; xenstore-ls escapes them. */
	tset(S "/command", "/bin/a 'tab\there' 'nl\nx' '\x01\x7f\xff' \\ end", NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_ok(1);
	tset(S "/state", "connecting", NULL);
	tset(S "/template", "win10.office_2-x", NULL);
	tset(S "/user", "_svc-01", NULL);
	tset(S "/domid", "32751", NULL);
	tset(S "/created", "9223372036854775807", NULL);
	tset(S "/pid", "2147483647", NULL);
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
}

/* Listings of a subtree, with --root. */
static void test_roots(void **state)
{
	(void)state;
	base_tree();
	check_tree("/mcd", LS_PERMS, 0);
	expect_ok(1);
	check_tree("/mcd/sessions", LS_PERMS, 0);
	expect_ok(1);
	check_tree(S, LS_PERMS, 0);
	expect_ok(1);
	/* Full paths need no root. */
	check_tree("/mcd", LS_PERMS | LS_FULL, 0);
	expect_ok(1);

	/* A trailing slash on the root is fine. */
	{
		size_t len;
		char *text = render("/mcd", LS_PERMS, &len);

		check_text(text, len, "/mcd/", 0);
		expect_ok(1);
		/* The same listing read as one of "/" is caught, not passed. */
		check_text(text, len, NULL, 0);
		expect_one("test", "--root");
		free(text);
	}

	/* Required keys are checked only for sessions the listing covers. */
	tset(S "/user/extra", "x", "n0");
	check_tree(S "/user", LS_PERMS, 0);
	expect_one(S "/user/extra", "unknown node");
	assert_int_equal(res.sessions, 1);
	tdel(S "/user");
	check_tree(S "/domid", LS_PERMS, 0);
	expect_ok(0);
	check_tree(S, LS_PERMS, 0);
	expect_one(S "/user", "missing");
}

static void test_empty(void **state)
{
	(void)state;
	check_text("", 0, NULL, 0);
	expect_ok(0);
	check_text("\n\n", 2, "/mcd", 0);
	expect_ok(0);

	/* A tree without /mcd has no sessions and nothing wrong. */
	base_tree();
	tdel("/mcd");
	tdel("/local/domain/5");
	check_tree("/", LS_PERMS, 1);
	expect_ok(0);
}

static void test_bad_root(void **state)
{
	struct mcd_schema_opts o = { .root = "mcd" };
	char err[200];

	(void)state;
	assert_int_equal(mcd_schema_check("", 0, &o, collect, &got, &res, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "root"));
	o.root = "/mcd//sessions";
	assert_int_equal(mcd_schema_check("", 0, &o, collect, &got, &res, err,
					  sizeof(err)), -1);
	o.root = "/mcd/a b";
	assert_int_equal(mcd_schema_check("", 0, &o, collect, &got, &res, err,
					  sizeof(err)), -1);
}

/* ---- one violation at a time ---- */

static void test_unknown_nodes(void **state)
{
	(void)state;
	base_tree();
	tset(S "/password", "hunter2", "n0");
	expect_one_both(S "/password", "unknown node");

	base_tree();
	tset("/mcd/spare", "", "n0");
	expect_one_both("/mcd/spare", "unknown node");

	base_tree();
	tset(S "/user/extra", "x", "n0");
	expect_one_both(S "/user/extra", "unknown node");

	base_tree();
	tset("/local/domain/5/data/mcd/secret", "x", "n5");
	expect_one_both("/local/domain/5/data/mcd/secret",
			"unknown node (written by the guest)");
}

#define MEMBER "00112233445566aa"

/* A warm-pool member owns its domain as a session does. */
static void add_pool_member(const char *state)
{
	tset("/mcd/pool", "", "n0");
	tset("/mcd/pool/" MEMBER, "", "n0");
	tset("/mcd/pool/" MEMBER "/state", state, "n0");
	tset("/mcd/pool/" MEMBER "/template", "debian-12", "n0");
	tset("/mcd/pool/" MEMBER "/domain-name", "mcd-" MEMBER, "n0");
	tset("/mcd/pool/" MEMBER "/domid", "7", "n0");
	tset("/mcd/pool/" MEMBER "/created", "1763770000", "n0");
	add_domain("7", "mcd-" MEMBER);
}

static void test_pool_member(void **state)
{
	(void)state;
	base_tree();
	add_pool_member("ready");
	check_tree("/", LS_PERMS, 1);
	expect_ok(1);

	base_tree();
	add_pool_member("idle");
	check_tree("/", LS_PERMS, 1);
	expect_one("/mcd/pool/" MEMBER "/state", "booting or ready");

	/* Kept for its user: the user is named, and must be a valid one. */
	base_tree();
	add_pool_member("ready");
	tset("/mcd/pool/" MEMBER "/user", "alice", "n0");
	check_tree("/", LS_PERMS, 1);
	expect_ok(1);

	base_tree();
	add_pool_member("ready");
	tset("/mcd/pool/" MEMBER "/user", "root", "n0");
	check_tree("/", LS_PERMS, 1);
	expect_one("/mcd/pool/" MEMBER "/user", "other than root");

	base_tree();
	add_pool_member("ready");
	tset("/mcd/pool/" MEMBER "/display", ":0", "n0");
	check_tree("/", LS_PERMS, 1);
	expect_one("/mcd/pool/" MEMBER "/display", "unknown node");

	/* Without its pool record the domain is a leak. */
	base_tree();
	add_domain("7", "mcd-" MEMBER);
	check_tree("/", LS_PERMS, 1);
	expect_one("/local/domain/7/name", "no session");
}

static void test_bad_session_id(void **state)
{
	(void)state;
	base_tree();
	add_session("0123456789ABCDEF", "6", "running");
	add_domain("6", "mcd-0123456789ABCDEF");
	check_tree("/", LS_PERMS, 0);
	expect_has("/mcd/sessions/0123456789ABCDEF", "session id");
	/* Its domain-name cannot be valid either. */
	expect_has("/mcd/sessions/0123456789ABCDEF/domain-name", "is not");

	base_tree();
	add_session("0123456789abcde", "6", "running");
	check_tree("/", LS_PERMS, 0);
	expect_has("/mcd/sessions/0123456789abcde", "session id");
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *key, *value, *what;
	} bad[] = {
		{ "domid", "0", "domain id" },
		{ "domid", "05", "domain id" },
		{ "domid", "abc", "domain id" },
		{ "domid", "32752", "domain id" },
		{ "domid", "-1", "domain id" },
		{ "domid", "123456", "longer than 5" },
		{ "domain-name", "foo", "mcd-<session id>" },
		{ "template", "../etc", "template name" },
		{ "template", "-x", "template name" },
		{ "template", "a..b", "template name" },
		{ "user", "root", "root" },
		{ "user", "Alice", "user name" },
		{ "user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer than 32" },
		{ "display", "-evil:0", "X display" },
		{ "display", "nocolon", "X display" },
		{ "state", "started", "creating, connecting" },
		{ "state", "RUNNING", "creating, connecting" },
		{ "state", "", "creating, connecting" },
		{ "created", "0", "unix seconds" },
		{ "created", "-5", "unix seconds" },
		{ "created", "12a", "unix seconds" },
		{ "created", "9223372036854775808", "unix seconds" },
		{ "pid", "0", "process id" },
		{ "pid", "2147483648", "process id" },
		{ "exit-status", "code 256", "code N" },
		{ "exit-status", "code -1", "code N" },
		{ "exit-status", "code 01", "code N" },
		{ "exit-status", "signal 0", "code N" },
		{ "exit-status", "signal 129", "code N" },
		{ "exit-status", "killed", "code N" },
		{ "error", "two\nlines", "printable" },
		{ "error", "", "printable" },
		{ "command", "", "command line" },
		{ "volume", "alice.img", "absolute path" },
		{ "volume", "/var/lib/mcd/../../etc/shadow", "absolute path" },
		{ "volume", "/var/lib/mcd/volumes/a b.img", "absolute path" },
		{ "volume", "", "absolute path" },
		{ "x", "tcp", "relay, direct or none" },
		{ "x", "", "relay, direct or none" },
		{ "x-tls", "0", "TCP port" },
		{ "x-tls", "65536", "TCP port" },
		{ "x-tls", "06443", "TCP port" },
		{ "x-ready", "0", "READY came" },
		{ "x-ready", "2", "READY came" },
	};
	char path[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		base_tree();
		snprintf(path, sizeof(path), S "/%s", bad[i].key);
		tset(path, bad[i].value, "n0");
		check_tree("/", LS_PERMS | LS_FULL, 0);
		if (got.n != 1 || strcmp(got.path[0], path) ||
		    !strstr(got.msg[0], bad[i].what)) {
			dump();
			fail_msg("%s = \"%s\": wanted one problem mentioning \"%s\"",
				 bad[i].key, bad[i].value, bad[i].what);
		}
	}
}

static void test_lengths(void **state)
{
	static char big[4100];

	(void)state;
	/* A command of exactly 1024 bytes is fine, 1025 is not. */
	base_tree();
	memset(big, 'c', 1024);
	big[0] = '/';
	big[1024] = '\0';
	tset(S "/command", big, NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_ok(1);
	big[1024] = 'c';
	big[1025] = '\0';
	tset(S "/command", big, NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one(S "/command", "1025 bytes is longer than 1024");

	/* Error text: 256 bytes at most. */
	base_tree();
	memset(big, 'e', 257);
	big[257] = '\0';
	tset(S "/error", big, NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one(S "/error", "longer than 256");

	/* Template: 64 at most. */
	base_tree();
	memset(big, 't', 65);
	big[65] = '\0';
	tset(S "/template", big, NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one(S "/template", "longer than 64");

	/* The guest's agent node: 64 at most. */
	base_tree();
	memset(big, 'a', 65);
	memcpy(big, "1 ", 2);
	big[65] = '\0';
	tset("/local/domain/5/data/mcd/agent", big, NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one("/local/domain/5/data/mcd/agent", "longer than 64");
}

/* A value xenstore-ls cut to 80 columns is counted, not misjudged. */
static void test_truncated_values(void **state)
{
	static char big[2000];

	(void)state;
	base_tree();
	memset(big, 'c', 1500);
	big[0] = '/';
	big[1500] = '\0';
	tset(S "/command", big, NULL);
	/* Cut by xenstore-ls: the length cannot be judged. */
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
	assert_int_equal(res.truncated, 1);
	/* In full (-f) it can. */
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one(S "/command", "longer than 1024");
	assert_int_equal(res.truncated, 0);

	/* A cut in the middle of an escape sequence. */
	base_tree();
	memset(big, '\x1b', 200);
	big[0] = '/';
	big[200] = '\0';
	tset(S "/command", big, NULL);
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
	assert_int_equal(res.truncated, 1);

	/* A whole value that merely ends in a backslash and dots. */
	base_tree();
	tset(S "/command", "/bin/echo \\...", NULL);
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
	assert_int_equal(res.truncated, 0);
}

static void test_permissions(void **state)
{
	(void)state;
	base_tree();
	tset(S "/user", "alice", "n0,r5");
	expect_one_both(S "/user", "give domain 5 access");

	base_tree();
	tset(S "/display", "10.0.2.2:0", "n0,n5,b7");
	expect_one_both(S "/display", "give domain 7 access");

	base_tree();
	tset(S, "", "b0");
	expect_one_both(S, "do not start with n0");

	base_tree();
	tset("/mcd", "", "r0");
	expect_one_both("/mcd", "do not start with n0");

	base_tree();
	tset("/mcd/sessions", "", "n5");
	expect_one_both("/mcd/sessions", "do not start with n0");

	base_tree();
	tset(S "/state", "running", "n01");
	expect_one_both(S "/state", "do not start with n0");

	/* Extra entries for dom0 itself, or with no access, are harmless. */
	base_tree();
	tset(S "/state", "running", "n0,r0,n5");
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);

	/* Guests' own nodes carry guests' permissions. */
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "1 linux", "b5");
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
}

static void test_no_permissions(void **state)
{
	(void)state;
	base_tree();
	check_tree("/", 0, 0);
	expect_one("/mcd", "run xenstore-ls with -p");
	check_tree("/", LS_FULL, 0);
	expect_one("/mcd", "run xenstore-ls with -p");
	/* Outside /mcd, permissions are not needed. */
	tdel("/mcd");
	check_tree("/", 0, 0);
	expect_ok(0);
}

static void test_missing_keys(void **state)
{
	static const char *const keys[] = {
		"domain-name", "template", "user", "display", "command",
		"state", "created", "domid",
	};
	char path[160];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		base_tree();
		snprintf(path, sizeof(path), S "/%s", keys[i]);
		tdel(path);
		check_tree("/", LS_PERMS, 0);
		expect_one(path, "missing");
	}

	/* domid may be missing only while the domain is being created. */
	base_tree();
	tdel(S "/domid");
	tset(S "/state", "creating", NULL);
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);
	tset(S "/state", "connecting", NULL);
	check_tree("/", LS_PERMS, 0);
	expect_one(S "/domid", "required once the domain exists");

	/* A session directory with nothing in it. */
	base_tree();
	tdel(S);
	tset(S, "", "n0");
	check_tree("/", LS_PERMS, 0);
	assert_int_equal(got.n, 8);
	expect_has(S "/user", "missing");
}

static void test_domain_name(void **state)
{
	(void)state;
	base_tree();
	tset(S "/domain-name", "mcd-" SID2, NULL);
	expect_one_both(S "/domain-name", "not mcd-" SID);
}

static void test_directory_values(void **state)
{
	(void)state;
	base_tree();
	tset(S, "x", NULL);
	expect_one_both(S, "want empty");
	base_tree();
	tset("/mcd", "1", NULL);
	expect_one_both("/mcd", "want empty");
	base_tree();
	tset("/local/domain/5/data/mcd/vchan", "x", NULL);
	expect_one_both("/local/domain/5/data/mcd/vchan", "want empty");
}

static void test_guest_values(void **state)
{
	(void)state;
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "linux", NULL);
	expect_one_both("/local/domain/5/data/mcd/agent", "<version> <os>");
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "1 Linux", NULL);
	expect_one_both("/local/domain/5/data/mcd/agent", "<version> <os>");
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "0 linux", NULL);
	expect_one_both("/local/domain/5/data/mcd/agent", "<version> <os>");
	base_tree();
	tset("/local/domain/5/data/mcd/vchan/ring-ref", "x8", NULL);
	expect_one_both("/local/domain/5/data/mcd/vchan/ring-ref",
			"grant reference");
	base_tree();
	tset("/local/domain/5/data/mcd/vchan/event-channel", "4294967296", NULL);
	expect_one_both("/local/domain/5/data/mcd/vchan/event-channel",
			"event channel");

	/* Hostile bytes from a guest come back escaped, never raw (collect()
	 * fails on a raw control byte). */
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "1 \x1b]0;pwned\x07\n", NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one("/local/domain/5/data/mcd/agent", "\\x1b");
	/* Quotes and fake permissions inside a value do not confuse parsing. */
	base_tree();
	tset("/local/domain/5/data/mcd/agent", "1 \"  (n0)", NULL);
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_one("/local/domain/5/data/mcd/agent", "<version> <os>");
	check_tree("/", LS_PERMS, 0);
	expect_one("/local/domain/5/data/mcd/agent", "<version> <os>");
}

static void test_nul_byte(void **state)
{
	(void)state;
	base_tree();
	tset_bytes(S "/user", "alice\0x", 7);
	expect_one_both(S "/user", "NUL");
}

static void test_duplicate_domid(void **state)
{
	(void)state;
	base_tree();
	add_session(SID2, "5", "running");
	check_tree("/", LS_PERMS, 0);
	expect_one("/mcd/sessions/" SID2 "/domid", "also recorded by session " SID);
}

static void test_domains(void **state)
{
	(void)state;
	/* The session's domain is gone. */
	base_tree();
	tdel("/local/domain/5");
	check_tree("/", LS_PERMS, 1);
	expect_one(S "/domid", "domain 5 does not exist");
	/* Without --domains that is not checked. */
	check_tree("/", LS_PERMS, 0);
	expect_ok(1);

	/* The domain has another name. */
	base_tree();
	tset("/local/domain/5/name", "someone-else", NULL);
	check_tree("/", LS_PERMS, 1);
	expect_one(S "/domid", "named \"someone-else\"");

	/* A leaked MCD domain without a session. */
	base_tree();
	add_domain("9", "mcd-" SID2);
	check_tree("/", LS_PERMS | LS_FULL, 1);
	expect_one("/local/domain/9/name", "has no session");
	check_tree("/", LS_PERMS | LS_FULL, 0);
	expect_ok(1);

	/* --domains needs the whole tree. */
	base_tree();
	check_tree("/mcd", LS_PERMS, 1);
	expect_one("/local/domain", "whole tree");
	check_tree("/mcd", LS_PERMS | LS_FULL, 1);
	expect_has("/local/domain", "whole tree");
}

static void test_unreadable(void **state)
{
	static const char text[] =
		"local = \"\"  (n0)\n"
		" domain = \"\"  (n0)\n"
		"mcd = \"\"  (n0)\n"
		" sessions:\n"
		"  (n0)\n"
		" stray:\n";

	(void)state;
	check_text(text, sizeof(text) - 1, NULL, 0);
	expect_has("/mcd/sessions", "cannot be read");
	expect_has("/mcd/stray", "unknown node");
	expect_has("/mcd/stray", "run xenstore-ls with -p");
	assert_int_equal(got.n, 3);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"garbage\n",
		"key = \"unterminated\n",
		"mcd = \"\"  (x0)\n",
		"mcd = \"\"  (n0,)\n",
		"mcd = \"\"  (n)\n",
		"mcd = \"\"  (n0\n",
		"mcd = \"\" junk (n0)\n",
		"bad key = \"\"  (n0)\n",
		"/mcd//x = \"\"  (n0)\n",
		"/mcd/ = \"\"  (n0)\n",
		"mcd = \"\"  (n0)\n   deep = \"\"  (n0)\n",
		"  (n0)\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_text(bad[i], strlen(bad[i]), "/mcd", 0);
		if (got.n < 1 || strncmp(got.path[0], "test:", 5) != 0) {
			dump();
			fail_msg("listing %zu: no line problem", i);
		}
	}
	/* A NUL byte in the input. */
	check_text("mcd = \"\0\"  (n0)\n", 16, "/", 0);
	expect_has("test:1", "NUL");
}

static void test_crlf_and_escapes(void **state)
{
	static const char text[] =
		"sessions = \"\"  (n0)\r\n"
		" " SID " = \"\"  (n0)\r\n"
		"  domain-name = \"mcd-" SID "\"  (n0)\r\n"
		"  template = \"t\"  (n0)\r\n"
		"  user = \"\\x61lice\"  (n0)\r\n"
		"  display = \"\\07210.0.2.2:0\"  (n0)\r\n"
		"  command = \"\\\\x \\t\\n\\r\\001\\xff\"  (n0)\r\n"
		"  state = \"running\"  (n0)\r\n"
		"  created = \"1\"  (n0)\r\n"
		"  domid = \"1\"  (n0)\r\n";

	(void)state;
	check_text(text, sizeof(text) - 1, "/mcd", 0);
	/* "\072" is ':', so display is ":10.0.2.2:0": not a valid display. */
	expect_one(S "/display", "X display");
}

static void test_listed_twice(void **state)
{
	static const char text[] =
		"/mcd = \"\"  (n0)\n"
		"/mcd = \"\"  (n0)\n";

	(void)state;
	check_text(text, sizeof(text) - 1, NULL, 0);
	expect_one("/mcd", "listed twice");
}

/*
 * Listings captured from xenstore-ls -p / and -fp / of Xen 4.17 (dom0 in
 * the testbed), after writing a session and a guest area by hand, plus one
 * guest node the schema does not know.  (Xen drops permissions that name
 * domains which do not exist, hence n0 everywhere.)
 */
static const char real_p[] =
	"tool = \"\"  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	" xenstored = \"\"  . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"local = \"\" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	" domain = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  0 = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   control = \"\"  . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"    feature-poweroff = \"1\" . . . . . . . . . . . . . . . . .  (n0)\n"
	"    feature-reboot = \"1\" . . . . . . . . . . . . . . . . . .  (n0)\n"
	"    feature-suspend = \"1\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   domid = \"0\" . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   name = \"Domain-0\" . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  5 = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   name = \"mcd-0123456789abcdef\" . . . . . . . . . . . . . .  (n0)\n"
	"   data = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"    mcd = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"     agent = \"1 linux\" . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"     vchan = \"\"  . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"      ring-ref = \"8\" . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"      event-channel = \"31\" . . . . . . . . . . . . . . . . .  (n0)\n"
	"     junk = \"a\\x1b[2J\"q\"\\\\b\\t\\001end\"  . . . . . . . . . . .  (n0)\n"
	" pool = \"\" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  0 = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   name = \"Pool-0\" . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"mcd = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	" sessions = \"\" . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  0123456789abcdef = \"\"  . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   domain-name = \"mcd-0123456789abcdef\"  . . . . . . . . . .  (n0)\n"
	"   template = \"debian-12\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   user = \"alice\"  . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   display = \"10.0.2.2:0\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   command = \"/usr/bin/xterm -e 'long argument number one' 'long argument tw\\...\"  (n0)\n"
	"   state = \"running\" . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   created = \"1763770000\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   domid = \"5\" . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   pid = \"1234\"  . . . . . . . . . . . . . . . . . . . . . .  (n0)\n";

static const char real_fp[] =
	"/tool = \"\"   (n0)\n"
	"/tool/xenstored = \"\"   (n0)\n"
	"/local = \"\"   (n0)\n"
	"/local/domain = \"\"   (n0)\n"
	"/local/domain/0 = \"\"   (n0)\n"
	"/local/domain/0/control = \"\"   (n0)\n"
	"/local/domain/0/control/feature-poweroff = \"1\"   (n0)\n"
	"/local/domain/0/control/feature-reboot = \"1\"   (n0)\n"
	"/local/domain/0/control/feature-suspend = \"1\"   (n0)\n"
	"/local/domain/0/domid = \"0\"   (n0)\n"
	"/local/domain/0/name = \"Domain-0\"   (n0)\n"
	"/local/domain/5 = \"\"   (n0)\n"
	"/local/domain/5/name = \"mcd-0123456789abcdef\"   (n0)\n"
	"/local/domain/5/data = \"\"   (n0)\n"
	"/local/domain/5/data/mcd = \"\"   (n0)\n"
	"/local/domain/5/data/mcd/agent = \"1 linux\"   (n0)\n"
	"/local/domain/5/data/mcd/vchan = \"\"   (n0)\n"
	"/local/domain/5/data/mcd/vchan/ring-ref = \"8\"   (n0)\n"
	"/local/domain/5/data/mcd/vchan/event-channel = \"31\"   (n0)\n"
	"/local/domain/5/data/mcd/junk = \"a\\x1b[2J\"q\"\\\\b\\t\\001end\"   (n0)\n"
	"/local/pool = \"\"   (n0)\n"
	"/local/pool/0 = \"\"   (n0)\n"
	"/local/pool/0/name = \"Pool-0\"   (n0)\n"
	"/mcd = \"\"   (n0)\n"
	"/mcd/sessions = \"\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef = \"\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/domain-name = \"mcd-0123456789abcdef\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/template = \"debian-12\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/user = \"alice\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/display = \"10.0.2.2:0\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/command = \"/usr/bin/xterm -e 'long argument number one' 'long argument two' three four\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/state = \"running\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/created = \"1763770000\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/domid = \"5\"   (n0)\n"
	"/mcd/sessions/0123456789abcdef/pid = \"1234\"   (n0)\n";

static void test_real_listings(void **state)
{
	(void)state;
	check_text(real_p, sizeof(real_p) - 1, NULL, 1);
	expect_one("/local/domain/5/data/mcd/junk",
		   "unknown node (written by the guest)");
	assert_int_equal(res.sessions, 1);
	assert_int_equal(res.truncated, 1); /* the command, cut at 80 columns */
	check_text(real_fp, sizeof(real_fp) - 1, NULL, 1);
	expect_one("/local/domain/5/data/mcd/junk",
		   "unknown node (written by the guest)");
	assert_int_equal(res.truncated, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_tree),
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_root),
		cmocka_unit_test(test_unknown_nodes),
		cmocka_unit_test(test_pool_member),
		cmocka_unit_test(test_bad_session_id),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_truncated_values),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_no_permissions),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_domain_name),
		cmocka_unit_test(test_directory_values),
		cmocka_unit_test(test_guest_values),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_duplicate_domid),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_crlf_and_escapes),
		cmocka_unit_test(test_listed_twice),
		cmocka_unit_test(test_real_listings),
	};

	return cmocka_run_group_tests_name("mcd_schema", tests, NULL, NULL);
}
