/*
 * mcd_ticket.h - launch tickets: what the Auth/App server allows one user
 * to start, signed with its Ed25519 key and checked by the pool master.
 *
 * A ticket is an encoded MCD_SITE_TICKET_BODY frame (mcd_site.h) and an
 * Ed25519 signature over MCD_TICKET_CONTEXT followed by those bytes; the
 * context keeps a ticket's signature from ever being valid for anything
 * else the key might sign.  Keys are PEM files (PKCS#8 private, SPKI
 * public) made by `mcd-broker keygen`.
 *
 * What the pool master checks (mcd_ticket_check), in this order, each with
 * its own one-line reason:
 *   signature with the site's public key; the body decodes as a
 *   TICKET_BODY; not expired (now <= EXPIRES, with MCD_TICKET_SKEW seconds
 *   of clock skew allowed) and not issued in the future; lifetime at most
 *   MCD_TICKET_LIFE_MAX; POOL is this pool; LEVEL is this pool's level;
 *   DISPLAY's host is the address the ticket came from; the nonce was not
 *   seen before (the caller's replay cache, mcd_ticket_seen).
 */
#ifndef MCD_TICKET_H
#define MCD_TICKET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mcd_site.h"

#define MCD_TICKET_CONTEXT "MCD launch ticket v1"
#define MCD_TICKET_LIFE_DEFAULT 60   /* seconds the broker makes them valid */
#define MCD_TICKET_LIFE_MAX 600      /* a pool refuses longer-lived ones */
#define MCD_TICKET_SKEW 30           /* seconds of clock difference allowed */

typedef struct evp_pkey_st EVP_PKEY;

/* What a ticket says, as plain strings (pointers into a decoded message
 * or the caller's own storage). */
struct mcd_ticket {
	const char *nonce;
	const char *user;
	const char *app;
	uint32_t level;
	const char *template_name;
	const char *program;
	unsigned nargs;
	const char *args[MCD_SITE_ARGS_MAX];
	const char *pool;
	const char *display;
	uint32_t issued, expires;
};

/* Make a new key pair and write it: private key 0600 (refusing to replace
 * an existing file), public key 0644.  0, or -1 with a reason. */
int mcd_ticket_keygen(const char *priv_path, const char *pub_path,
		      char *err, size_t errlen);
/* Load a PEM private / public key.  NULL with a reason on failure (and for
 * a key that is not Ed25519). */
EVP_PKEY *mcd_ticket_load_private(const char *path, char *err, size_t errlen);
EVP_PKEY *mcd_ticket_load_public(const char *path, char *err, size_t errlen);

/*
 * Encode t as a TICKET_BODY (a fresh nonce is made when t->nonce is NULL)
 * and sign it.  body gets the encoded frame (body_len its length), sig the
 * MCD_SITE_SIG_LEN-byte signature.  0, or -1 with a reason.
 */
int mcd_ticket_sign(EVP_PKEY *key, const struct mcd_ticket *t,
		    uint8_t *body, size_t body_max, size_t *body_len,
		    uint8_t sig[MCD_SITE_SIG_LEN], char *err, size_t errlen);

/* What the pool master expects of a ticket. */
struct mcd_ticket_expect {
	const char *pool;        /* this pool's name */
	uint32_t level;          /* the level it serves */
	const char *peer_addr;   /* numeric address the LAUNCH came from */
	time_t now;
	time_t not_before;       /* refuse tickets issued before this (the
				  * service's start: the replay cache is
				  * empty before it) minus MCD_TICKET_SKEW */
};

/*
 * Verify body+sig with pub and check it against e (see the top).  On
 * success 0, with *t pointing into *m (which the caller provides and
 * keeps while it uses t).  Else -1 with a one-line reason.  The replay
 * check is the caller's (mcd_ticket_seen), after this passes.
 */
int mcd_ticket_check(EVP_PKEY *pub, const uint8_t *body, size_t body_len,
		     const uint8_t *sig, size_t sig_len,
		     const struct mcd_ticket_expect *e, struct mcd_site_msg *m,
		     struct mcd_ticket *t, char *err, size_t errlen);

/*
 * The replay cache: nonces of tickets used and not yet expired.  Bounded:
 * MCD_TICKET_CACHE_MAX entries; when full, expired entries are dropped,
 * and if none are expired the new ticket is refused (never an old nonce
 * forgotten early).
 */
#define MCD_TICKET_CACHE_MAX 4096
struct mcd_ticket_cache;
struct mcd_ticket_cache *mcd_ticket_cache_new(void);
void mcd_ticket_cache_free(struct mcd_ticket_cache *c);
/* 0: first use (now recorded until expires + MCD_TICKET_SKEW); 1: seen
 * before; -1: cache full. */
int mcd_ticket_seen(struct mcd_ticket_cache *c, const char *nonce,
		    uint32_t expires, time_t now);

#endif /* MCD_TICKET_H */
