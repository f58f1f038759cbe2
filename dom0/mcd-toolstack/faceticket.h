/*
 * faceticket.h - what the pool master checks before a LAUNCH from its
 * network face becomes a launch (face.h): the ticket's signature, pool,
 * level, the address it came from, its age, and that it is used once.
 *
 * The parent runs this on the request it decoded itself; nothing a face
 * child says about the request is taken on trust.
 */
#ifndef MCD_FACETICKET_H
#define MCD_FACETICKET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "faceconf.h"
#include "mcd_site.h"
#include "mcd_ticket.h"

struct face_ticket_ctx {
	EVP_PKEY *pub;                  /* the Auth/App server's key */
	struct mcd_ticket_cache *cache; /* nonces already used */
	const struct face_conf *conf;   /* this pool's name and level */
	time_t started;                 /* the service's start */
};

/*
 * Check the LAUNCH request req that came from numeric address peer at
 * now.  0 with *t pointing into *tm; else -1 with *code (an
 * mcd_site_err: TICKET, BAD_REQUEST or BUSY) and a one-line reason.  A
 * ticket that passes is recorded as used.
 */
int face_ticket_launch(const struct face_ticket_ctx *x,
		       const struct mcd_site_msg *req, const char *peer,
		       time_t now, struct mcd_site_msg *tm, struct mcd_ticket *t,
		       uint32_t *code, char *err, size_t errlen);

#endif /* MCD_FACETICKET_H */
