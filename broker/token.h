/*
 * token.h - login tokens: 32 random bytes in hex, handed to the client
 * once; the store keeps only their SHA-256, so a copy of the database
 * does not let anyone act as a logged-in user.
 */
#ifndef BROKER_TOKEN_H
#define BROKER_TOKEN_H

#include <stddef.h>

#include "mcd_site.h"

#define TOKEN_LIFE (8 * 60 * 60)
#define TOKEN_HASH_HEX 64

/* A fresh token (MCD_SITE_TOKEN_LEN hex digits and a NUL).  0, or -1. */
int token_new(char out[MCD_SITE_TOKEN_LEN + 1]);
/* SHA-256 of the token's text, in hex.  0, or -1. */
int token_hash(const char *token, char out[TOKEN_HASH_HEX + 1]);

#endif /* BROKER_TOKEN_H */
