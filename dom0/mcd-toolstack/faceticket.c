/*
 * faceticket.c - a LAUNCH's ticket, checked by the pool master (see
 * faceticket.h).
 */
#include "faceticket.h"

#include <stdio.h>

int face_ticket_launch(const struct face_ticket_ctx *x,
		       const struct mcd_site_msg *req, const char *peer,
		       time_t now, struct mcd_site_msg *tm, struct mcd_ticket *t,
		       uint32_t *code, char *err, size_t errlen)
{
	struct mcd_ticket_expect e = {
		.pool = x->conf->name, .level = x->conf->level,
		.peer_addr = peer, .now = now, .not_before = x->started,
	};
	const uint8_t *body, *sig;
	size_t blen, slen;
	char why[200];
	int seen;

	*code = MCD_SITE_E_BAD_REQUEST;
	body = mcd_site_bytes(req, MCD_ST_TICKET, &blen);
	sig = mcd_site_bytes(req, MCD_ST_SIG, &slen);
	if (req->type != MCD_SITE_LAUNCH || !body || !sig) {
		snprintf(err, errlen, "launch: a ticket and its signature are required");
		return -1;
	}
	*code = MCD_SITE_E_TICKET;
	if (mcd_ticket_check(x->pub, body, blen, sig, slen, &e, tm, t, why,
			     sizeof(why)) < 0) {
		snprintf(err, errlen, "ticket refused: %s", why);
		return -1;
	}
	/* Last, so a ticket refused for another reason stays usable where
	 * it belongs. */
	seen = mcd_ticket_seen(x->cache, t->nonce, t->expires, now);
	if (seen > 0) {
		snprintf(err, errlen, "ticket refused: already used");
		return -1;
	}
	if (seen < 0) {
		*code = MCD_SITE_E_BUSY;
		snprintf(err, errlen, "too many tickets in use: try again later");
		return -1;
	}
	return 0;
}
