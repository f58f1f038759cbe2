/*
 * test_ticket.c - launch tickets: keys made into a temporary directory,
 * a ticket signed and checked, each reason a pool master refuses one, and
 * the replay cache's bound.
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
#include <openssl/evp.h>

#include "mcd_ticket.h"

#define NOW 1800000000
#define NONCE "00112233445566778899aabbccddeeff"

static char dir[] = "/tmp/mcd-ticket-XXXXXX";
static char priv_path[64], pub_path[64], priv2_path[64], pub2_path[64];
static EVP_PKEY *priv, *pub, *pub2;
static char err[256];

static uint8_t body[MCD_SITE_TICKET_MAX];
static size_t body_len;
static uint8_t sig[MCD_SITE_SIG_LEN];
static struct mcd_site_msg m;
static struct mcd_ticket got;

static const char *const args[] = { "--private-window", "https://x.example/" };

static struct mcd_ticket ticket(void)
{
	struct mcd_ticket t = {
		.user = "alice",
		.app = "firefox",
		.level = 2,
		.template_name = "debian12",
		.program = "/usr/bin/firefox",
		.nargs = 2,
		.pool = "pool0",
		.display = "10.0.2.2:0",
		.issued = NOW,
		.expires = NOW + MCD_TICKET_LIFE_DEFAULT,
	};

	t.args[0] = args[0];
	t.args[1] = args[1];
	return t;
}

static struct mcd_ticket_expect expect(void)
{
	struct mcd_ticket_expect e = {
		.pool = "pool0",
		.level = 2,
		.peer_addr = "10.0.2.2",
		.now = NOW + 5,
		.not_before = NOW - 100,
	};

	return e;
}

static void sign(const struct mcd_ticket *t)
{
	assert_int_equal(mcd_ticket_sign(priv, t, body, sizeof(body), &body_len,
					 sig, err, sizeof(err)), 0);
}

static int check(const struct mcd_ticket_expect *e)
{
	err[0] = '\0';
	return mcd_ticket_check(pub, body, body_len, sig, sizeof(sig), e, &m,
				&got, err, sizeof(err));
}

/* A ticket t signed, then checked against e, is refused for want. */
static void refused_for(const struct mcd_ticket *t,
			const struct mcd_ticket_expect *e, const char *want)
{
	sign(t);
	assert_int_equal(check(e), -1);
	if (!strstr(err, want))
		print_message("reason \"%s\", wanted \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(priv_path, sizeof(priv_path), "%s/site.key", dir);
	snprintf(pub_path, sizeof(pub_path), "%s/site.pub", dir);
	snprintf(priv2_path, sizeof(priv2_path), "%s/other.key", dir);
	snprintf(pub2_path, sizeof(pub2_path), "%s/other.pub", dir);
	if (mcd_ticket_keygen(priv_path, pub_path, err, sizeof(err)) < 0 ||
	    mcd_ticket_keygen(priv2_path, pub2_path, err, sizeof(err)) < 0)
		return -1;
	priv = mcd_ticket_load_private(priv_path, err, sizeof(err));
	pub = mcd_ticket_load_public(pub_path, err, sizeof(err));
	pub2 = mcd_ticket_load_public(pub2_path, err, sizeof(err));
	return priv && pub && pub2 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_keys(void **state)
{
	struct stat st;
	char p[80];
	FILE *f;

	(void)state;
	assert_int_equal(stat(priv_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* Never replaces a private key. */
	assert_int_equal(mcd_ticket_keygen(priv_path, pub2_path, err,
					   sizeof(err)), -1);
	assert_non_null(strstr(err, "File exists"));
	/* A public key is no private key, an RSA key no Ed25519 key. */
	assert_null(mcd_ticket_load_private(pub_path, err, sizeof(err)));
	assert_null(mcd_ticket_load_public(dir, err, sizeof(err)));
	snprintf(p, sizeof(p), "%s/junk", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);
	assert_null(mcd_ticket_load_public(p, err, sizeof(err)));
	assert_non_null(strstr(err, "not a PEM public key"));
	assert_null(mcd_ticket_load_private("/nonexistent/k", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

static void test_sign_check(void **state)
{
	struct mcd_ticket t = ticket();
	struct mcd_ticket_expect e = expect();

	(void)state;
	sign(&t);
	assert_true(body_len > MCD_SITE_HDR_LEN);
	assert_int_equal(check(&e), 0);
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.app, "firefox");
	assert_int_equal(got.level, 2);
	assert_string_equal(got.template_name, "debian12");
	assert_string_equal(got.program, "/usr/bin/firefox");
	assert_int_equal(got.nargs, 2);
	assert_string_equal(got.args[1], "https://x.example/");
	assert_string_equal(got.pool, "pool0");
	assert_string_equal(got.display, "10.0.2.2:0");
	assert_int_equal(got.issued, NOW);
	assert_int_equal(got.expires, NOW + MCD_TICKET_LIFE_DEFAULT);
	/* A fresh nonce each time. */
	assert_int_equal(strlen(got.nonce), MCD_SITE_NONCE_LEN);
	{
		char first[MCD_SITE_NONCE_LEN + 1];

		strcpy(first, got.nonce);
		sign(&t);
		assert_int_equal(check(&e), 0);
		assert_string_not_equal(first, got.nonce);
	}
	/* The caller's nonce is kept. */
	t.nonce = NONCE;
	sign(&t);
	assert_int_equal(check(&e), 0);
	assert_string_equal(got.nonce, NONCE);
	/* IPv6: the display's host is bracketed, the peer's is not. */
	t.display = "[fd00::2]:1.0";
	e.peer_addr = "fd00::2";
	sign(&t);
	assert_int_equal(check(&e), 0);
}

static void test_signature(void **state)
{
	struct mcd_ticket t = ticket();
	struct mcd_ticket_expect e = expect();

	(void)state;
	sign(&t);
	sig[10] ^= 1;
	assert_int_equal(check(&e), -1);
	assert_non_null(strstr(err, "signature does not verify"));
	sign(&t);
	body[body_len - 1] ^= 1;
	assert_int_equal(check(&e), -1);
	assert_non_null(strstr(err, "signature does not verify"));
	sign(&t);
	assert_int_equal(mcd_ticket_check(pub2, body, body_len, sig, sizeof(sig),
					  &e, &m, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signature does not verify"));
	assert_int_equal(mcd_ticket_check(pub, body, body_len, sig,
					  sizeof(sig) - 1, &e, &m, &got, err,
					  sizeof(err)), -1);
	/* Not valid without the context: a bare signature over the body. */
	{
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t n = sizeof(sig);

		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &n, body, body_len), 1);
		EVP_MD_CTX_free(ctx);
		assert_int_equal(check(&e), -1);
	}
	/* A bad ticket: the signer refuses to make it. */
	t.program = "relative";
	assert_int_equal(mcd_ticket_sign(priv, &t, body, sizeof(body), &body_len,
					 sig, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PROGRAM"));
	t = ticket();
	assert_int_equal(mcd_ticket_sign(priv, &t, body, 20, &body_len, sig,
					 err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
}

static void test_times(void **state)
{
	struct mcd_ticket t = ticket();
	struct mcd_ticket_expect e = expect();

	(void)state;
	e.now = t.expires + MCD_TICKET_SKEW;
	sign(&t);
	assert_int_equal(check(&e), 0);
	e.now++;
	refused_for(&t, &e, "expired");
	e = expect();
	t.issued = NOW + 200;
	t.expires = NOW + 260;
	refused_for(&t, &e, "issued 195 s in the future");
	t = ticket();
	t.expires = t.issued + MCD_TICKET_LIFE_MAX + 1;
	refused_for(&t, &e, "lifetime of 601 s");
	t.expires = t.issued + MCD_TICKET_LIFE_MAX;
	sign(&t);
	assert_int_equal(check(&e), 0);
	t.expires = t.issued - 1;
	e.now = t.issued - 1;
	refused_for(&t, &e, "lifetime");
	t = ticket();
	e = expect();
	e.not_before = NOW + MCD_TICKET_SKEW + 1;
	refused_for(&t, &e, "before this service started");
}

static void test_place(void **state)
{
	struct mcd_ticket t = ticket();
	struct mcd_ticket_expect e = expect();

	(void)state;
	e.pool = "pool1";
	refused_for(&t, &e, "pool pool0, not this one");
	e = expect();
	e.level = 3;
	refused_for(&t, &e, "level 2, this pool serves 3");
	e = expect();
	e.peer_addr = "10.0.2.20";
	refused_for(&t, &e, "not on 10.0.2.20");
	e.peer_addr = "10.0.2";
	refused_for(&t, &e, "not on 10.0.2");
	e.peer_addr = "10.0.2.2";
	t.display = "myhost:0";
	refused_for(&t, &e, "display myhost:0");
	t.display = "[::1]:0";
	e.peer_addr = "::2";
	refused_for(&t, &e, "not on ::2");
}

static void test_replay(void **state)
{
	struct mcd_ticket_cache *c = mcd_ticket_cache_new();
	struct mcd_ticket t = ticket();
	struct mcd_ticket_expect e = expect();

	(void)state;
	assert_non_null(c);
	sign(&t);
	assert_int_equal(check(&e), 0);
	assert_int_equal(mcd_ticket_seen(c, got.nonce, got.expires, e.now), 0);
	/* The same ticket again: refused by the cache. */
	assert_int_equal(check(&e), 0);
	assert_int_equal(mcd_ticket_seen(c, got.nonce, got.expires, e.now), 1);
	assert_int_equal(mcd_ticket_seen(c, "short", got.expires, e.now), -1);
	mcd_ticket_cache_free(c);
}

static void nonce_of(unsigned i, char out[MCD_SITE_NONCE_LEN + 1])
{
	snprintf(out, MCD_SITE_NONCE_LEN + 1, "%032x", i);
}

static void test_cache_full(void **state)
{
	struct mcd_ticket_cache *c = mcd_ticket_cache_new();
	char n[MCD_SITE_NONCE_LEN + 1];
	unsigned i;

	(void)state;
	/* Half expire at NOW + 10, half at NOW + 1000. */
	for (i = 0; i < MCD_TICKET_CACHE_MAX; i++) {
		nonce_of(i, n);
		assert_int_equal(mcd_ticket_seen(c, n, i % 2 ? NOW + 1000 : NOW + 10,
						 NOW), 0);
	}
	/* Full, nothing expired: the new ticket is refused, the old nonces are
	 * all still known. */
	nonce_of(i, n);
	assert_int_equal(mcd_ticket_seen(c, n, NOW + 1000, NOW), -1);
	for (unsigned k = 0; k < MCD_TICKET_CACHE_MAX; k += 511) {
		nonce_of(k, n);
		assert_int_equal(mcd_ticket_seen(c, n, NOW + 1000, NOW), 1);
	}
	/* Past the first half's expiry and skew: their room is reused, the
	 * second half is still remembered. */
	nonce_of(i, n);
	assert_int_equal(mcd_ticket_seen(c, n, NOW + 1000,
					 NOW + 10 + MCD_TICKET_SKEW + 1), 0);
	nonce_of(1, n);
	assert_int_equal(mcd_ticket_seen(c, n, NOW + 1000, NOW + 50), 1);
	nonce_of(0, n);
	assert_int_equal(mcd_ticket_seen(c, n, NOW + 1000, NOW + 50), 0);
	mcd_ticket_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sign_check),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_cache_full),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
