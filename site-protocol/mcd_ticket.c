/*
 * mcd_ticket.c - launch tickets: Ed25519 keys, signing and the pool
 * master's checks, and the replay cache (see mcd_ticket.h).
 */
#include "mcd_ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "site_err.h"

/* The context is signed with its NUL so that no other string that merely
 * starts with it can ever be a prefix of the same signed bytes. */
#define CONTEXT_LEN sizeof(MCD_TICKET_CONTEXT)

/* ---- keys ---- */

/* Open path for writing with mode; excl: refuse an existing file. */
static FILE *open_out(const char *path, mode_t mode, int excl, char *err,
		      size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC);
	int fd = open(path, flags, mode);
	FILE *f;

	if (fd < 0) {
		mcd_site_fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* The umask must not make a public key unreadable or a private one
	 * readable: the mode is exactly what was asked. */
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		mcd_site_fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

static int write_private(EVP_PKEY *k, const char *path, char *err,
			 size_t errlen)
{
	FILE *f = open_out(path, 0600, 1, err, errlen);
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return mcd_site_fail(err, errlen, "%s: cannot write the key", path);
	}
	return 0;
}

static int write_public(EVP_PKEY *k, const char *path, char *err,
			size_t errlen)
{
	FILE *f = open_out(path, 0644, 0, err, errlen);
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_PUBKEY(f, k) == 1;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		return mcd_site_fail(err, errlen, "%s: cannot write the key", path);
	return 0;
}

int mcd_ticket_keygen(const char *priv_path, const char *pub_path, char *err,
		      size_t errlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int r = -1;

	if (!k)
		return mcd_site_fail(err, errlen, "Ed25519 key generation: %s",
			    mcd_site_ssl_reason());
	if (write_private(k, priv_path, err, errlen) < 0)
		goto out;
	if (write_public(k, pub_path, err, errlen) < 0) {
		/* Half a key pair is worse than none: allow a clean retry. */
		unlink(priv_path);
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_free(k);
	return r;
}

static EVP_PKEY *load_key(const char *path, int private, char *err,
			  size_t errlen)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f) {
		mcd_site_fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
		    : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		mcd_site_fail(err, errlen, "%s: not a PEM %s key: %s", path,
		     private ? "private" : "public", mcd_site_ssl_reason());
		return NULL;
	}
	if (!EVP_PKEY_is_a(k, "ED25519")) {
		EVP_PKEY_free(k);
		mcd_site_fail(err, errlen, "%s: not an Ed25519 key", path);
		return NULL;
	}
	return k;
}

EVP_PKEY *mcd_ticket_load_private(const char *path, char *err, size_t errlen)
{
	return load_key(path, 1, err, errlen);
}

EVP_PKEY *mcd_ticket_load_public(const char *path, char *err, size_t errlen)
{
	return load_key(path, 0, err, errlen);
}

/* ---- signing ---- */

/* context || body into buf (at least CONTEXT_LEN + MCD_SITE_TICKET_MAX). */
static size_t signed_bytes(uint8_t *buf, const uint8_t *body, size_t len)
{
	memcpy(buf, MCD_TICKET_CONTEXT, CONTEXT_LEN);
	memcpy(buf + CONTEXT_LEN, body, len);
	return CONTEXT_LEN + len;
}

static int make_nonce(char out[MCD_SITE_NONCE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[MCD_SITE_NONCE_LEN / 2];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[MCD_SITE_NONCE_LEN] = '\0';
	return 0;
}

static void encode_body(struct mcd_site_out *o, const struct mcd_ticket *t,
			const char *nonce)
{
	mcd_site_begin(o, MCD_SITE_TICKET_BODY);
	mcd_site_put_str(o, MCD_ST_NONCE, nonce);
	mcd_site_put_str(o, MCD_ST_USER, t->user);
	mcd_site_put_str(o, MCD_ST_APP, t->app);
	mcd_site_put_u32(o, MCD_ST_LEVEL, t->level);
	mcd_site_put_str(o, MCD_ST_TEMPLATE, t->template_name);
	mcd_site_put_str(o, MCD_ST_PROGRAM, t->program);
	if (t->nargs > MCD_SITE_ARGS_MAX)
		o->failed = 1;
	for (unsigned i = 0; i < t->nargs && !o->failed; i++)
		mcd_site_put_str(o, MCD_ST_ARG, t->args[i]);
	mcd_site_put_str(o, MCD_ST_POOL, t->pool);
	mcd_site_put_str(o, MCD_ST_DISPLAY, t->display);
	mcd_site_put_u32(o, MCD_ST_ISSUED, t->issued);
	mcd_site_put_u32(o, MCD_ST_EXPIRES, t->expires);
}

static int ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
			uint8_t sig[MCD_SITE_SIG_LEN], char *err, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = MCD_SITE_SIG_LEN;
	int ok;

	/* Ed25519 hashes internally: no digest, and one shot only. */
	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 &&
	     siglen == MCD_SITE_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return mcd_site_fail(err, errlen, "signing the ticket: %s", mcd_site_ssl_reason());
	return 0;
}

int mcd_ticket_sign(EVP_PKEY *key, const struct mcd_ticket *t, uint8_t *body,
		    size_t body_max, size_t *body_len,
		    uint8_t sig[MCD_SITE_SIG_LEN], char *err, size_t errlen)
{
	uint8_t buf[CONTEXT_LEN + MCD_SITE_TICKET_MAX];
	struct mcd_site_out o;
	char nonce[MCD_SITE_NONCE_LEN + 1];
	int r = -1;

	if (!t->nonce && make_nonce(nonce) < 0)
		return mcd_site_fail(err, errlen, "no random bytes for the nonce");
	encode_body(&o, t, t->nonce ? t->nonce : nonce);
	if (mcd_site_finish(&o, MCD_SITE_TICKET, err, errlen) < 0)
		goto out;
	if (o.len > MCD_SITE_TICKET_MAX || o.len > body_max) {
		mcd_site_fail(err, errlen, "ticket of %zu bytes does not fit", o.len);
		goto out;
	}
	if (ed25519_sign(key, buf, signed_bytes(buf, o.buf, o.len), sig, err,
			 errlen) < 0)
		goto out;
	memcpy(body, o.buf, o.len);
	*body_len = o.len;
	r = 0;
out:
	mcd_site_out_wipe(&o);
	return r;
}

/* ---- checking ---- */

static int ed25519_verify(EVP_PKEY *pub, const uint8_t *body, size_t len,
			  const uint8_t *sig, size_t sig_len)
{
	uint8_t buf[CONTEXT_LEN + MCD_SITE_TICKET_MAX];
	EVP_MD_CTX *ctx;
	int ok;

	if (sig_len != MCD_SITE_SIG_LEN || len > MCD_SITE_TICKET_MAX)
		return 0;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, sig, sig_len, buf,
			      signed_bytes(buf, body, len)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* The times: valid now, not from the future, not from before this service
 * started (its replay cache would not know it), not too long-lived. */
static int check_times(const struct mcd_site_msg *m,
		       const struct mcd_ticket_expect *e, char *err,
		       size_t errlen)
{
	long long now = e->now;
	long long issued = mcd_site_u32(m, MCD_ST_ISSUED, 0);
	long long expires = mcd_site_u32(m, MCD_ST_EXPIRES, 0);

	if (now > expires + MCD_TICKET_SKEW)
		return mcd_site_fail(err, errlen, "ticket expired %lld s ago",
			    now - expires);
	if (issued > now + MCD_TICKET_SKEW)
		return mcd_site_fail(err, errlen, "ticket issued %lld s in the future",
			    issued - now);
	if (issued < (long long)e->not_before - MCD_TICKET_SKEW)
		return mcd_site_fail(err, errlen,
			    "ticket issued before this service started");
	if (expires < issued || expires - issued > MCD_TICKET_LIFE_MAX)
		return mcd_site_fail(err, errlen,
			    "ticket lifetime of %lld s (at most %d)",
			    expires - issued, MCD_TICKET_LIFE_MAX);
	return 0;
}

/* Does DISPLAY ("host:N[.M]", host an IPv4 address or a bracketed IPv6
 * one) name exactly the host peer? */
static int display_host_is(const char *display, const char *peer)
{
	const char *h = display, *end;

	if (!mcd_site_valid_display(display))
		return 0;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = strchr(h, ':');
	}
	return end && strlen(peer) == (size_t)(end - h) &&
	       memcmp(h, peer, (size_t)(end - h)) == 0;
}

static int check_place(const struct mcd_site_msg *m,
		       const struct mcd_ticket_expect *e, char *err,
		       size_t errlen)
{
	const char *pool = mcd_site_str(m, MCD_ST_POOL);
	const char *display = mcd_site_str(m, MCD_ST_DISPLAY);
	uint32_t level = mcd_site_u32(m, MCD_ST_LEVEL, 0);

	if (strcmp(pool, e->pool) != 0)
		return mcd_site_fail(err, errlen, "ticket for pool %s, not this one",
			    pool);
	if (level != e->level)
		return mcd_site_fail(err, errlen, "ticket for level %u, this pool serves %u",
			    level, e->level);
	if (!display_host_is(display, e->peer_addr))
		return mcd_site_fail(err, errlen,
			    "ticket's display %s is not on %s, where it came from",
			    display, e->peer_addr);
	return 0;
}

static void fill(const struct mcd_site_msg *m, struct mcd_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->nonce = mcd_site_str(m, MCD_ST_NONCE);
	t->user = mcd_site_str(m, MCD_ST_USER);
	t->app = mcd_site_str(m, MCD_ST_APP);
	t->level = mcd_site_u32(m, MCD_ST_LEVEL, 0);
	t->template_name = mcd_site_str(m, MCD_ST_TEMPLATE);
	t->program = mcd_site_str(m, MCD_ST_PROGRAM);
	t->nargs = mcd_site_count(m, MCD_ST_ARG);
	for (unsigned i = 0; i < t->nargs; i++)
		t->args[i] = mcd_site_nth(m, MCD_ST_ARG, i);
	t->pool = mcd_site_str(m, MCD_ST_POOL);
	t->display = mcd_site_str(m, MCD_ST_DISPLAY);
	t->issued = mcd_site_u32(m, MCD_ST_ISSUED, 0);
	t->expires = mcd_site_u32(m, MCD_ST_EXPIRES, 0);
}

int mcd_ticket_check(EVP_PKEY *pub, const uint8_t *body, size_t body_len,
		     const uint8_t *sig, size_t sig_len,
		     const struct mcd_ticket_expect *e, struct mcd_site_msg *m,
		     struct mcd_ticket *t, char *err, size_t errlen)
{
	char why[160];

	memset(t, 0, sizeof(*t));
	if (!ed25519_verify(pub, body, body_len, sig, sig_len))
		return mcd_site_fail(err, errlen, "ticket signature does not verify");
	if (mcd_site_decode(body, body_len, MCD_SITE_TICKET, m, why,
			    sizeof(why)) < 0)
		return mcd_site_fail(err, errlen, "ticket body: %s", why);
	if (check_times(m, e, err, errlen) < 0 ||
	    check_place(m, e, err, errlen) < 0) {
		mcd_site_wipe(m);
		return -1;
	}
	fill(m, t);
	return 0;
}

/* ---- replay cache ---- */

struct seen_nonce {
	char nonce[MCD_SITE_NONCE_LEN + 1];
	time_t until;
};

struct mcd_ticket_cache {
	unsigned n;
	struct seen_nonce e[MCD_TICKET_CACHE_MAX];
};

struct mcd_ticket_cache *mcd_ticket_cache_new(void)
{
	return calloc(1, sizeof(struct mcd_ticket_cache));
}

void mcd_ticket_cache_free(struct mcd_ticket_cache *c)
{
	free(c);
}

/* Drop the entries whose tickets can no longer pass the expiry check. */
static void cache_expire(struct mcd_ticket_cache *c, time_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].until >= now)
			c->e[j++] = c->e[i];
	c->n = j;
}

int mcd_ticket_seen(struct mcd_ticket_cache *c, const char *nonce,
		    uint32_t expires, time_t now)
{
	size_t len = strnlen(nonce, MCD_SITE_NONCE_LEN + 1);

	/* The decoder only lets exact-length nonces through; anything else
	 * cannot be recorded faithfully, so it is not accepted either. */
	if (len != MCD_SITE_NONCE_LEN)
		return -1;
	for (unsigned i = 0; i < c->n; i++)
		if (strcmp(c->e[i].nonce, nonce) == 0)
			return 1;
	if (c->n == MCD_TICKET_CACHE_MAX)
		cache_expire(c, now);
	if (c->n == MCD_TICKET_CACHE_MAX)
		return -1;
	memcpy(c->e[c->n].nonce, nonce, len + 1);
	c->e[c->n].until = (time_t)expires + MCD_TICKET_SKEW;
	c->n++;
	return 0;
}
