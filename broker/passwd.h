/*
 * passwd.h - password hashes: scrypt through OpenSSL's EVP_KDF "SCRYPT".
 *
 * A stored hash carries its own parameters and salt, so they can change
 * later without breaking old hashes:
 *
 *   scrypt$N$r$p$SALT$HASH   (SALT: 16 random bytes, HASH: 32 bytes, hex)
 *
 * New hashes use N = 2^15, r = 8, p = 1 (32 MiB, tens of ms).  The
 * environment variable MCD_BROKER_SCRYPT_N (a power of two, at most the
 * default) lowers N for new hashes and for the stand-in work of unknown
 * users; it exists so unit tests run fast and is not meant for a site.
 *
 * Callers wipe their password buffers; these functions wipe their own
 * copies of anything derived from a password.
 */
#ifndef BROKER_PASSWD_H
#define BROKER_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWD_N_DEFAULT 32768
#define PASSWD_R_DEFAULT 8
#define PASSWD_P_DEFAULT 1
#define PASSWD_N_ENV "MCD_BROKER_SCRYPT_N"
#define PASSWD_SALT_LEN 16
#define PASSWD_HASH_LEN 32
#define PASSWD_STR_MAX 160

struct passwd_params {
	uint64_t n;
	uint32_t r, p;
	uint8_t salt[PASSWD_SALT_LEN];
	uint8_t hash[PASSWD_HASH_LEN];
};

/* Hash pw (len bytes) with a fresh salt into out (PASSWD_STR_MAX).  0, or
 * -1 with a reason. */
int passwd_hash(const void *pw, size_t len, char *out, size_t outlen,
		char *err, size_t errlen);

/* Parse a stored hash.  0, or -1 with a reason (wrong scheme, N not a
 * power of two or out of range, r or p out of range, bad hex). */
int passwd_parse(const char *stored, struct passwd_params *pp, char *err,
		 size_t errlen);

/* 1: pw matches stored; 0: it does not; -1: stored does not parse (the
 * KDF work is still done, so a broken entry looks like any other). */
int passwd_verify(const void *pw, size_t len, const char *stored);

/* The same work as verifying against a new hash, with no result: for a
 * login by an unknown user, so its timing does not tell users apart. */
void passwd_dummy(const void *pw, size_t len);

#endif /* BROKER_PASSWD_H */
