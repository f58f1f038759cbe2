/*
 * token.c - login tokens; see token.h.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "token.h"

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
token_new(char out[MCD_SITE_TOKEN_LEN + 1])
{
	unsigned char b[MCD_SITE_TOKEN_LEN / 2];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	to_hex(b, sizeof(b), out);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

int
token_hash(const char *token, char out[TOKEN_HASH_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 ||
	    n != TOKEN_HASH_HEX / 2)
		return -1;
	to_hex(md, n, out);
	return 0;
}
