/*
 * passwd.c - scrypt password hashes; see passwd.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "passwd.h"

#define PASSWD_N_MIN 2
#define PASSWD_N_MAX (1u << 20)
#define PASSWD_RP_MAX 64
/* Room for 128 * r * N bytes at the largest parameters we accept. */
#define PASSWD_MAXMEM ((uint64_t)1 << 31)

/* N for new hashes: the default, or the test knob when it is sane. */
static uint64_t
passwd_n(void)
{
	const char *v = getenv(PASSWD_N_ENV);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return PASSWD_N_DEFAULT;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < PASSWD_N_MIN || n > PASSWD_N_DEFAULT ||
	    (n & (n - 1)))
		return PASSWD_N_DEFAULT;
	return n;
}

static int
kdf(const void *pw, size_t len, const struct passwd_params *pp,
    uint8_t out[PASSWD_HASH_LEN])
{
	EVP_KDF *k = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
	uint64_t maxmem = PASSWD_MAXMEM;
	uint64_t n = pp->n;
	uint32_t r = pp->r, p = pp->p;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						  (void *)pw, len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						  (void *)pp->salt,
						  PASSWD_SALT_LEN),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
					    &maxmem),
		OSSL_PARAM_construct_end(),
	};
	int rc = -1;

	if (c && EVP_KDF_derive(c, out, PASSWD_HASH_LEN, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(k);
	return rc;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * n lowercase hex digits up to the next '$' or the end. */
static int
unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = unhex_digit(s[2 * i]), lo = unhex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
passwd_hash(const void *pw, size_t len, char *out, size_t outlen, char *err,
	    size_t errlen)
{
	struct passwd_params pp = { .n = passwd_n(), .r = PASSWD_R_DEFAULT,
				    .p = PASSWD_P_DEFAULT };
	char salt[2 * PASSWD_SALT_LEN + 1], hash[2 * PASSWD_HASH_LEN + 1];
	int n, rc = -1;

	if (RAND_bytes(pp.salt, sizeof(pp.salt)) != 1) {
		seterr(err, errlen, "no random bytes for a salt");
		return -1;
	}
	if (kdf(pw, len, &pp, pp.hash) < 0) {
		seterr(err, errlen, "scrypt failed");
		goto out;
	}
	hex(pp.salt, sizeof(pp.salt), salt);
	hex(pp.hash, sizeof(pp.hash), hash);
	n = snprintf(out, outlen, "scrypt$%" PRIu64 "$%" PRIu32 "$%" PRIu32
		     "$%s$%s", pp.n, pp.r, pp.p, salt, hash);
	if (n < 0 || (size_t)n >= outlen) {
		seterr(err, errlen, "hash string too long");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(&pp, sizeof(pp));
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/* A decimal number in [lo, hi] ending at '$'; *s moves past the '$'. */
static int
parse_num(const char **s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '$'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > hi / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '$' || n < lo || n > hi)
		return -1;
	*s = p + 1;
	*v = n;
	return 0;
}

int
passwd_parse(const char *stored, struct passwd_params *pp, char *err,
	     size_t errlen)
{
	const char *s = stored, *dollar;
	uint64_t r, p;

	if (strncmp(s, "scrypt$", 7) != 0) {
		seterr(err, errlen, "not an scrypt hash");
		return -1;
	}
	s += 7;
	if (parse_num(&s, PASSWD_N_MIN, PASSWD_N_MAX, &pp->n) < 0 ||
	    (pp->n & (pp->n - 1)) ||
	    parse_num(&s, 1, PASSWD_RP_MAX, &r) < 0 ||
	    parse_num(&s, 1, PASSWD_RP_MAX, &p) < 0) {
		seterr(err, errlen, "bad scrypt parameters");
		return -1;
	}
	pp->r = (uint32_t)r;
	pp->p = (uint32_t)p;
	dollar = strchr(s, '$');
	if (!dollar || unhex(s, (size_t)(dollar - s), pp->salt,
			     PASSWD_SALT_LEN) < 0 ||
	    unhex(dollar + 1, strlen(dollar + 1), pp->hash,
		  PASSWD_HASH_LEN) < 0) {
		seterr(err, errlen, "bad salt or hash");
		return -1;
	}
	return 0;
}

int
passwd_verify(const void *pw, size_t len, const char *stored)
{
	struct passwd_params pp;
	uint8_t got[PASSWD_HASH_LEN];
	int rc;

	if (passwd_parse(stored, &pp, NULL, 0) < 0) {
		passwd_dummy(pw, len);
		return -1;
	}
	rc = kdf(pw, len, &pp, got) == 0 &&
	     CRYPTO_memcmp(got, pp.hash, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(&pp, sizeof(pp));
	return rc;
}

void
passwd_dummy(const void *pw, size_t len)
{
	struct passwd_params pp = { .n = passwd_n(), .r = PASSWD_R_DEFAULT,
				    .p = PASSWD_P_DEFAULT };
	uint8_t got[PASSWD_HASH_LEN];

	/* A fixed salt is fine: the result is thrown away. */
	memset(pp.salt, 0x5a, sizeof(pp.salt));
	if (kdf(pw, len, &pp, got) == 0)
		OPENSSL_cleanse(got, sizeof(got));
}
