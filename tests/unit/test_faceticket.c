/*
 * test_faceticket.c - the pool master's checks of a LAUNCH's ticket, with
 * real keys and signed tickets: one that passes, then each refusal (used
 * twice, another pool, another level, another address, expired, issued
 * before the service started, a bad signature).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "faceconf.h"
#include "faceticket.h"
#include "mcd_site.h"
#include "mcd_ticket.h"

#define PEER "10.0.2.2"

static char dir[] = "/tmp/test_faceticket.XXXXXX";
static char priv_path[300], pub_path[300];
static EVP_PKEY *priv;
static struct face_conf conf;
static struct face_ticket_ctx ctx;
static time_t now;

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(priv_path, sizeof(priv_path), "%s/ticket.key", dir);
	snprintf(pub_path, sizeof(pub_path), "%s/ticket.pub", dir);
	if (mcd_ticket_keygen(priv_path, pub_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "keygen: %s\n", err);
		return -1;
	}
	priv = mcd_ticket_load_private(priv_path, err, sizeof(err));
	ctx.pub = mcd_ticket_load_public(pub_path, err, sizeof(err));
	ctx.cache = mcd_ticket_cache_new();
	snprintf(conf.name, sizeof(conf.name), "pool-a.example");
	conf.level = 2;
	ctx.conf = &conf;
	now = time(NULL);
	ctx.started = now - 100;
	return priv && ctx.pub && ctx.cache ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(priv);
	EVP_PKEY_free(ctx.pub);
	mcd_ticket_cache_free(ctx.cache);
	unlink(priv_path);
	unlink(pub_path);
	rmdir(dir);
	return 0;
}

static void good_ticket(struct mcd_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->user = "alice";
	t->app = "writer";
	t->level = 2;
	t->template_name = "linux-demo";
	t->program = "/usr/bin/xterm";
	t->pool = "pool-a.example";
	t->display = PEER ":0";
	t->issued = (uint32_t)now - 5;
	t->expires = (uint32_t)now + 55;
}

/* Sign t and wrap it in a LAUNCH as the parent decodes it; flip a byte of
 * the signature when bad_sig. */
static void launch_req(const struct mcd_ticket *t, int bad_sig,
		       struct mcd_site_msg *req)
{
	static uint8_t body[MCD_SITE_TICKET_MAX];
	uint8_t sig[MCD_SITE_SIG_LEN];
	struct mcd_site_out *o = malloc(sizeof(*o));
	size_t blen;
	char err[256];

	assert_non_null(o);
	assert_int_equal(mcd_ticket_sign(priv, t, body, sizeof(body), &blen, sig,
					 err, sizeof(err)), 0);
	if (bad_sig)
		sig[7] ^= 1;
	mcd_site_begin(o, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(o, MCD_ST_TICKET, body, blen);
	mcd_site_put_bytes(o, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_u32(o, MCD_ST_WAIT, 0);
	assert_int_equal(mcd_site_finish(o, MCD_SITE_C2P, err, sizeof(err)), 0);
	assert_int_equal(mcd_site_decode(o->buf, o->len, MCD_SITE_C2P, req, err,
					 sizeof(err)), 0);
	free(o);
}

/* Run the parent's check on t from peer: the result, code and reason. */
static int check(const struct mcd_ticket *t, const char *peer, int bad_sig,
		 uint32_t *code, char *err, size_t errlen)
{
	struct mcd_site_msg *req = malloc(sizeof(*req));
	struct mcd_site_msg *tm = malloc(sizeof(*tm));
	struct mcd_ticket out;
	int rc;

	assert_non_null(req);
	assert_non_null(tm);
	launch_req(t, bad_sig, req);
	err[0] = '\0';
	rc = face_ticket_launch(&ctx, req, peer, now, tm, &out, code, err, errlen);
	if (rc == 0) {
		assert_string_equal(out.user, "alice");
		assert_string_equal(out.template_name, "linux-demo");
	}
	free(req);
	free(tm);
	return rc;
}

static void test_good_then_replay(void **state)
{
	struct mcd_ticket t;
	uint32_t code = 0;
	char err[300];

	(void)state;
	good_ticket(&t);
	t.nonce = "00112233445566778899aabbccddeeff";
	assert_int_equal(check(&t, PEER, 0, &code, err, sizeof(err)), 0);
	/* The same ticket again: a replay. */
	assert_int_equal(check(&t, PEER, 0, &code, err, sizeof(err)), -1);
	assert_int_equal(code, MCD_SITE_E_TICKET);
	assert_non_null(strstr(err, "already used"));
}

/* Each refusal, with a fresh nonce so the replay cache plays no part. */
static void refused(const struct mcd_ticket *t, const char *peer,
		    int bad_sig)
{
	uint32_t code = 0;
	char err[300];

	assert_int_equal(check(t, peer, bad_sig, &code, err, sizeof(err)), -1);
	assert_int_equal(code, MCD_SITE_E_TICKET);
	assert_non_null(strstr(err, "ticket refused"));
}

static void test_refusals(void **state)
{
	struct mcd_ticket t;

	(void)state;
	good_ticket(&t);
	t.pool = "pool-b.example";
	refused(&t, PEER, 0);
	good_ticket(&t);
	t.level = 3;
	refused(&t, PEER, 0);
	good_ticket(&t);
	refused(&t, "10.0.2.9", 0);            /* another address */
	good_ticket(&t);
	t.issued = (uint32_t)now - 200;
	t.expires = (uint32_t)now - 100;      /* expired */
	refused(&t, PEER, 0);
	good_ticket(&t);
	t.issued = (uint32_t)ctx.started - 300; /* before the service */
	t.expires = (uint32_t)now + 60;
	refused(&t, PEER, 0);
	good_ticket(&t);
	refused(&t, PEER, 1);                  /* signature */
	/* And a good one still passes after all of them. */
	good_ticket(&t);
	{
		uint32_t code;
		char err[300];

		assert_int_equal(check(&t, PEER, 0, &code, err, sizeof(err)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_then_replay),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
