/*
 * mcd_site.c - the site protocol's one validating decoder, its encoder and
 * the shared value checks (see mcd_site.h).  No I/O here.
 */
#include "mcd_site.h"
#include "site_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the tables ---- */

enum kind { K_U32 = 1, K_STR, K_HEX, K_BYTES };

/* A tag: its kind and the bounds of its value's length. */
struct tag_rule {
	const char *name;
	enum kind kind;
	uint16_t min, max;
};

#define U32(n) { n, K_U32, 4, 4 }
#define STR(n, m) { n, K_STR, 1, m }
#define HEX(n, m) { n, K_HEX, m, m }
#define BYTES(n, lo, hi) { n, K_BYTES, lo, hi }

static const struct tag_rule tags[MCD_ST_TAG_MAX + 1] = {
	[MCD_ST_VMIN] = U32("VMIN"),
	[MCD_ST_VMAX] = U32("VMAX"),
	[MCD_ST_VERSION] = U32("VERSION"),
	[MCD_ST_CODE] = U32("CODE"),
	[MCD_ST_TEXT] = STR("TEXT", MCD_SITE_TEXT_MAX),
	[MCD_ST_USER] = STR("USER", MCD_SITE_USER_MAX),
	[MCD_ST_PASSWORD] = BYTES("PASSWORD", 1, MCD_SITE_PASSWORD_MAX),
	[MCD_ST_TOKEN] = HEX("TOKEN", MCD_SITE_TOKEN_LEN),
	[MCD_ST_LEVEL] = U32("LEVEL"),
	[MCD_ST_EXPIRES] = U32("EXPIRES"),
	[MCD_ST_APP] = STR("APP", MCD_SITE_APP_MAX),
	[MCD_ST_NAME] = STR("NAME", MCD_SITE_NAME_MAX),
	[MCD_ST_OS] = STR("OS", MCD_SITE_OS_MAX),
	[MCD_ST_POOL] = STR("POOL", MCD_SITE_POOL_MAX),
	[MCD_ST_ADDRESS] = STR("ADDRESS", MCD_SITE_ADDRESS_MAX),
	[MCD_ST_DISPLAY] = STR("DISPLAY", MCD_SITE_DISPLAY_MAX),
	[MCD_ST_TICKET] = BYTES("TICKET", MCD_SITE_HDR_LEN, MCD_SITE_TICKET_MAX),
	[MCD_ST_SIG] = BYTES("SIG", MCD_SITE_SIG_LEN, MCD_SITE_SIG_LEN),
	[MCD_ST_COOKIE] = HEX("COOKIE", MCD_SITE_COOKIE_LEN),
	[MCD_ST_WAIT] = U32("WAIT"),
	[MCD_ST_STATE] = STR("STATE", MCD_SITE_STATE_MAX),
	[MCD_ST_SESSION] = HEX("SESSION", MCD_SITE_SESSION_LEN),
	[MCD_ST_END_KEY] = HEX("END_KEY", MCD_SITE_END_KEY_LEN),
	[MCD_ST_LOAD] = U32("LOAD"),
	[MCD_ST_ROOM] = U32("ROOM"),
	[MCD_ST_NONCE] = HEX("NONCE", MCD_SITE_NONCE_LEN),
	[MCD_ST_PROGRAM] = STR("PROGRAM", MCD_SITE_PROGRAM_MAX),
	[MCD_ST_ARG] = STR("ARG", MCD_SITE_ARG_MAX),
	[MCD_ST_TEMPLATE] = STR("TEMPLATE", MCD_SITE_TEMPLATE_MAX),
	[MCD_ST_ISSUED] = U32("ISSUED"),
	[MCD_ST_LIMIT] = STR("LIMIT", 16),
};

/* How often a message carries a tag. */
struct occurs {
	uint16_t tag;
	uint8_t min, max;
};

#define MSG_TAGS_MAX 12

/* A message: who may send it, its payload's bound, its fields.  A type may
 * have one row per set of directions (HELLO differs by side). */
struct msg_rule {
	uint16_t type;
	const char *name;
	unsigned dirs;
	uint32_t max_len;
	struct occurs f[MSG_TAGS_MAX]; /* ends at tag 0 */
};

/* The wire size of one field holding n value bytes; the payload bounds
 * below are sums of these for the most a message may carry. */
#define F(n) (4 + (n))
#define C2S (MCD_SITE_C2B | MCD_SITE_C2P)
#define S2C (MCD_SITE_B2C | MCD_SITE_P2C)
#define ONE(t) { t, 1, 1 }
#define OPT(t) { t, 0, 1 }

static const struct msg_rule msgs[] = {
	{ MCD_SITE_HELLO, "HELLO", C2S, 2 * F(4),
	  { ONE(MCD_ST_VMIN), ONE(MCD_ST_VMAX) } },
	{ MCD_SITE_HELLO, "HELLO", S2C, F(4), { ONE(MCD_ST_VERSION) } },
	{ MCD_SITE_ERROR, "ERROR", S2C, F(4) + F(MCD_SITE_TEXT_MAX),
	  { ONE(MCD_ST_CODE), ONE(MCD_ST_TEXT) } },
	{ MCD_SITE_OK, "OK", S2C, 0, { { 0, 0, 0 } } },
	{ MCD_SITE_LOGIN, "LOGIN", MCD_SITE_C2B,
	  F(MCD_SITE_USER_MAX) + F(MCD_SITE_PASSWORD_MAX),
	  { ONE(MCD_ST_USER), ONE(MCD_ST_PASSWORD) } },
	{ MCD_SITE_LOGIN_OK, "LOGIN_OK", MCD_SITE_B2C,
	  F(MCD_SITE_TOKEN_LEN) + F(MCD_SITE_USER_MAX) + 2 * F(4),
	  { ONE(MCD_ST_TOKEN), ONE(MCD_ST_USER), ONE(MCD_ST_LEVEL),
	    ONE(MCD_ST_EXPIRES) } },
	{ MCD_SITE_APPS, "APPS", MCD_SITE_C2B, F(MCD_SITE_TOKEN_LEN),
	  { ONE(MCD_ST_TOKEN) } },
	{ MCD_SITE_APP, "APP", MCD_SITE_B2C,
	  F(MCD_SITE_APP_MAX) + F(MCD_SITE_NAME_MAX) + F(MCD_SITE_OS_MAX) +
		  F(4) + MCD_SITE_POOLS_MAX * F(MCD_SITE_POOL_MAX),
	  { ONE(MCD_ST_APP), ONE(MCD_ST_NAME), ONE(MCD_ST_OS),
	    ONE(MCD_ST_LEVEL), { MCD_ST_POOL, 1, MCD_SITE_POOLS_MAX } } },
	{ MCD_SITE_POOL, "POOL", MCD_SITE_B2C,
	  F(MCD_SITE_POOL_MAX) + F(MCD_SITE_ADDRESS_MAX) + F(4),
	  { ONE(MCD_ST_POOL), ONE(MCD_ST_ADDRESS), ONE(MCD_ST_LEVEL) } },
	{ MCD_SITE_LIST_END, "LIST_END", MCD_SITE_B2C, 0, { { 0, 0, 0 } } },
	{ MCD_SITE_TICKET_REQ, "TICKET_REQ", MCD_SITE_C2B,
	  F(MCD_SITE_TOKEN_LEN) + F(MCD_SITE_APP_MAX) + F(MCD_SITE_POOL_MAX) +
		  F(MCD_SITE_DISPLAY_MAX),
	  { ONE(MCD_ST_TOKEN), ONE(MCD_ST_APP), ONE(MCD_ST_POOL),
	    ONE(MCD_ST_DISPLAY) } },
	{ MCD_SITE_TICKET_OK, "TICKET_OK", MCD_SITE_B2C,
	  F(MCD_SITE_TICKET_MAX) + F(MCD_SITE_SIG_LEN) + F(MCD_SITE_POOL_MAX) +
		  F(MCD_SITE_ADDRESS_MAX) + F(4),
	  { ONE(MCD_ST_TICKET), ONE(MCD_ST_SIG), ONE(MCD_ST_POOL),
	    ONE(MCD_ST_ADDRESS), ONE(MCD_ST_EXPIRES) } },
	{ MCD_SITE_NOTE, "NOTE", MCD_SITE_C2B,
	  F(MCD_SITE_TOKEN_LEN) + F(MCD_SITE_SESSION_LEN) +
		  F(MCD_SITE_POOL_MAX) + F(MCD_SITE_APP_MAX) +
		  F(MCD_SITE_STATE_MAX),
	  { ONE(MCD_ST_TOKEN), ONE(MCD_ST_SESSION), ONE(MCD_ST_POOL),
	    ONE(MCD_ST_APP), ONE(MCD_ST_STATE) } },
	{ MCD_SITE_SESSIONS, "SESSIONS", MCD_SITE_C2B, F(MCD_SITE_TOKEN_LEN),
	  { ONE(MCD_ST_TOKEN) } },
	{ MCD_SITE_LOAD, "LOAD", MCD_SITE_C2P, 0, { { 0, 0, 0 } } },
	{ MCD_SITE_LOAD_OK, "LOAD_OK", MCD_SITE_P2C,
	  F(MCD_SITE_POOL_MAX) + 3 * F(4) + F(16) + F(MCD_SITE_TEXT_MAX),
	  { ONE(MCD_ST_POOL), ONE(MCD_ST_LEVEL), ONE(MCD_ST_LOAD),
	    ONE(MCD_ST_ROOM), ONE(MCD_ST_LIMIT), OPT(MCD_ST_TEXT) } },
	{ MCD_SITE_LAUNCH, "LAUNCH", MCD_SITE_C2P,
	  F(MCD_SITE_TICKET_MAX) + F(MCD_SITE_SIG_LEN) +
		  F(MCD_SITE_COOKIE_LEN) + F(4),
	  { ONE(MCD_ST_TICKET), ONE(MCD_ST_SIG), OPT(MCD_ST_COOKIE),
	    ONE(MCD_ST_WAIT) } },
	{ MCD_SITE_WAIT, "WAIT", MCD_SITE_P2C,
	  F(MCD_SITE_STATE_MAX) + F(MCD_SITE_TEXT_MAX),
	  { ONE(MCD_ST_STATE), ONE(MCD_ST_TEXT) } },
	{ MCD_SITE_READY, "READY", MCD_SITE_P2C,
	  F(MCD_SITE_SESSION_LEN) + F(MCD_SITE_END_KEY_LEN),
	  { ONE(MCD_ST_SESSION), ONE(MCD_ST_END_KEY) } },
	{ MCD_SITE_FAILED, "FAILED", MCD_SITE_P2C,
	  F(4) + F(MCD_SITE_TEXT_MAX), { ONE(MCD_ST_CODE), ONE(MCD_ST_TEXT) } },
	{ MCD_SITE_ENDED, "ENDED", MCD_SITE_P2C,
	  F(MCD_SITE_SESSION_LEN) + F(MCD_SITE_TEXT_MAX),
	  { ONE(MCD_ST_SESSION), OPT(MCD_ST_TEXT) } },
	{ MCD_SITE_END, "END", MCD_SITE_C2P,
	  F(MCD_SITE_SESSION_LEN) + F(MCD_SITE_END_KEY_LEN),
	  { ONE(MCD_ST_SESSION), ONE(MCD_ST_END_KEY) } },
	{ MCD_SITE_STATUS, "STATUS", MCD_SITE_C2P,
	  F(MCD_SITE_SESSION_LEN) + F(MCD_SITE_END_KEY_LEN),
	  { ONE(MCD_ST_SESSION), ONE(MCD_ST_END_KEY) } },
	{ MCD_SITE_SESSION_INFO, "SESSION_INFO", S2C,
	  F(MCD_SITE_SESSION_LEN) + F(MCD_SITE_POOL_MAX) + F(MCD_SITE_APP_MAX) +
		  F(MCD_SITE_USER_MAX) + F(MCD_SITE_STATE_MAX) + F(4),
	  { ONE(MCD_ST_SESSION), ONE(MCD_ST_POOL), OPT(MCD_ST_APP),
	    OPT(MCD_ST_USER), ONE(MCD_ST_STATE), OPT(MCD_ST_ISSUED) } },
	/* A body must fit the TICKET field, header included. */
	{ MCD_SITE_TICKET_BODY, "TICKET_BODY", MCD_SITE_TICKET,
	  MCD_SITE_TICKET_MAX - MCD_SITE_HDR_LEN,
	  { ONE(MCD_ST_NONCE), ONE(MCD_ST_USER), ONE(MCD_ST_APP),
	    ONE(MCD_ST_LEVEL), ONE(MCD_ST_TEMPLATE), ONE(MCD_ST_PROGRAM),
	    { MCD_ST_ARG, 0, MCD_SITE_ARGS_MAX }, ONE(MCD_ST_POOL),
	    ONE(MCD_ST_DISPLAY), ONE(MCD_ST_ISSUED), ONE(MCD_ST_EXPIRES) } },
};

#define NMSGS (sizeof(msgs) / sizeof(msgs[0]))

_Static_assert(MCD_SITE_ARGS_MAX + 10 <= MCD_SITE_MAX_FIELDS,
	       "a full ticket body must fit the field array");
_Static_assert(MCD_SITE_TICKET_MAX + 512 < MCD_SITE_MAX_PAYLOAD,
	       "a LAUNCH or TICKET_OK with a full ticket must fit a frame");

static const struct msg_rule *rule_for(uint16_t type, unsigned dir)
{
	for (size_t i = 0; i < NMSGS; i++)
		if (msgs[i].type == type && (msgs[i].dirs & dir))
			return &msgs[i];
	return NULL;
}

static int type_known(uint16_t type)
{
	for (size_t i = 0; i < NMSGS; i++)
		if (msgs[i].type == type)
			return 1;
	return 0;
}

static const struct occurs *occurs_for(const struct msg_rule *r, uint16_t tag)
{
	for (size_t i = 0; i < MSG_TAGS_MAX && r->f[i].tag; i++)
		if (r->f[i].tag == tag)
			return &r->f[i];
	return NULL;
}

static const char *tag_name(uint16_t tag)
{
	if (tag == 0 || tag > MCD_ST_TAG_MAX)
		return "unknown";
	return tags[tag].name;
}

const char *mcd_site_type_name(uint16_t type)
{
	for (size_t i = 0; i < NMSGS; i++)
		if (msgs[i].type == type)
			return msgs[i].name;
	return "UNKNOWN";
}

const char *mcd_site_err_name(uint32_t code)
{
	static const char *const names[] = {
		[MCD_SITE_E_BAD_REQUEST] = "bad-request",
		[MCD_SITE_E_VERSION] = "version",
		[MCD_SITE_E_AUTH] = "auth",
		[MCD_SITE_E_SLOWED] = "slowed",
		[MCD_SITE_E_DENIED] = "denied",
		[MCD_SITE_E_NO_ROOM] = "no-room",
		[MCD_SITE_E_TICKET] = "ticket",
		[MCD_SITE_E_NOT_FOUND] = "not-found",
		[MCD_SITE_E_LAUNCH] = "launch",
		[MCD_SITE_E_BUSY] = "busy",
		[MCD_SITE_E_INTERNAL] = "internal",
	};

	if (code == 0 || code > MCD_SITE_E_MAX)
		return "unknown";
	return names[code];
}

int mcd_site_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- little-endian helpers ---- */

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* ---- value checks ---- */

/* Length of the UTF-8 sequence at p (at most n bytes) that encodes one
 * scalar value other than a control character (C0, DEL, C1), or 0.
 * Overlong forms and surrogates are refused so a string has one spelling. */
static size_t utf8_char(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return p[0] >= 0x20 && p[0] != 0x7f;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

static int valid_text(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_char(p + i, n - i);

		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int valid_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* The bounds some U32 tags have beyond their kind. */
static int u32_in_range(uint16_t tag, uint32_t v)
{
	switch (tag) {
	case MCD_ST_LEVEL:
		return v >= 1 && v <= MCD_SITE_LEVEL_MAX;
	case MCD_ST_WAIT:
		return v <= MCD_SITE_WAIT_MAX;
	case MCD_ST_LOAD:
		return v <= 1000;
	case MCD_ST_ROOM:
		return v <= 1;
	case MCD_ST_CODE:
		return v >= 1 && v <= MCD_SITE_E_MAX;
	}
	return 1;
}

/* One field's value against its tag's rule. */
static int check_value(uint16_t tag, const uint8_t *p, size_t n, char *err,
		       size_t errlen)
{
	const struct tag_rule *t = &tags[tag];

	if (n < t->min || n > t->max)
		return mcd_site_fail(err, errlen, "%s: %zu bytes (allowed %u..%u)",
			    t->name, n, t->min, t->max);
	switch (t->kind) {
	case K_U32:
		if (!u32_in_range(tag, get_u32(p)))
			return mcd_site_fail(err, errlen, "%s: %u out of range", t->name,
				    get_u32(p));
		break;
	case K_STR:
		if (!valid_text(p, n))
			return mcd_site_fail(err, errlen,
				    "%s: not UTF-8 text without control characters",
				    t->name);
		if (tag == MCD_ST_PROGRAM && p[0] != '/')
			return mcd_site_fail(err, errlen, "PROGRAM: not an absolute path");
		break;
	case K_HEX:
		if (!valid_hex(p, n))
			return mcd_site_fail(err, errlen, "%s: not lowercase hex", t->name);
		break;
	case K_BYTES:
		break;
	}
	return 0;
}

/* ---- decoder ---- */

int mcd_site_check_hdr(const uint8_t hdr[MCD_SITE_HDR_LEN], unsigned dir,
		       uint16_t *type, uint32_t *len, char *err, size_t errlen)
{
	uint16_t t = get_u16(hdr), flags = get_u16(hdr + 2);
	uint32_t n = get_u32(hdr + 4);
	const struct msg_rule *r;

	if (!type_known(t))
		return mcd_site_fail(err, errlen, "unknown message type 0x%x", t);
	r = rule_for(t, dir);
	if (!r)
		return mcd_site_fail(err, errlen, "%s not allowed in this direction",
			    mcd_site_type_name(t));
	if (flags != 0)
		return mcd_site_fail(err, errlen, "%s: flags 0x%x set", r->name, flags);
	if (n > r->max_len || n > MCD_SITE_MAX_PAYLOAD)
		return mcd_site_fail(err, errlen, "%s: payload of %u bytes (at most %u)",
			    r->name, n, r->max_len);
	*type = t;
	*len = n;
	return 0;
}

/* Walk the payload's fields into m, counting each tag in seen[]. */
static int decode_fields(const struct msg_rule *r, const uint8_t *p,
			 size_t n, struct mcd_site_msg *m, unsigned *seen,
			 char *err, size_t errlen)
{
	size_t off = 0, used = 0;

	while (off < n) {
		const struct occurs *o;
		uint16_t tag, flen;

		if (n - off < 4)
			return mcd_site_fail(err, errlen, "%s: %zu trailing bytes",
				    r->name, n - off);
		tag = get_u16(p + off);
		flen = get_u16(p + off + 2);
		off += 4;
		if (flen > n - off)
			return mcd_site_fail(err, errlen, "%s: truncated %s field", r->name,
				    tag_name(tag));
		if (tag == 0 || tag > MCD_ST_TAG_MAX)
			return mcd_site_fail(err, errlen, "%s: unknown tag %u", r->name, tag);
		o = occurs_for(r, tag);
		if (!o)
			return mcd_site_fail(err, errlen, "%s: tag %s not allowed", r->name,
				    tags[tag].name);
		if (++seen[tag] > o->max)
			return mcd_site_fail(err, errlen, "%s: more than %u %s", r->name,
				    o->max, tags[tag].name);
		if (m->nfield >= MCD_SITE_MAX_FIELDS)
			return mcd_site_fail(err, errlen, "%s: too many fields", r->name);
		if (check_value(tag, p + off, flen, err, errlen) < 0)
			return -1;
		memcpy(m->store + used, p + off, flen);
		m->store[used + flen] = '\0';
		m->f[m->nfield].tag = tag;
		m->f[m->nfield].len = flen;
		m->f[m->nfield].val = m->store + used;
		m->nfield++;
		used += (size_t)flen + 1;
		off += flen;
	}
	return 0;
}

static int check_counts(const struct msg_rule *r, const unsigned *seen,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < MSG_TAGS_MAX && r->f[i].tag; i++)
		if (seen[r->f[i].tag] < r->f[i].min)
			return mcd_site_fail(err, errlen, "%s: missing %s", r->name,
				    tags[r->f[i].tag].name);
	return 0;
}

static int decode(const uint8_t *frame, size_t frame_len, unsigned dir,
		  struct mcd_site_msg *m, char *err, size_t errlen)
{
	unsigned seen[MCD_ST_TAG_MAX + 1] = { 0 };
	const struct msg_rule *r;
	uint16_t type;
	uint32_t len;

	if (frame_len < MCD_SITE_HDR_LEN)
		return mcd_site_fail(err, errlen, "truncated header (%zu bytes)",
			    frame_len);
	if (mcd_site_check_hdr(frame, dir, &type, &len, err, errlen) < 0)
		return -1;
	r = rule_for(type, dir);
	if (frame_len - MCD_SITE_HDR_LEN < len)
		return mcd_site_fail(err, errlen, "%s: truncated payload (%zu of %u bytes)",
			    r->name, frame_len - MCD_SITE_HDR_LEN, len);
	if (frame_len - MCD_SITE_HDR_LEN > len)
		return mcd_site_fail(err, errlen, "%s: %zu trailing bytes after the payload",
			    r->name, frame_len - MCD_SITE_HDR_LEN - len);
	m->type = type;
	m->nfield = 0;
	if (decode_fields(r, frame + MCD_SITE_HDR_LEN, len, m, seen, err,
			  errlen) < 0)
		return -1;
	return check_counts(r, seen, err, errlen);
}

int mcd_site_decode(const uint8_t *frame, size_t frame_len, unsigned dir,
		    struct mcd_site_msg *m, char *err, size_t errlen)
{
	if (decode(frame, frame_len, dir, m, err, errlen) == 0)
		return 0;
	mcd_site_wipe(m);
	return -1;
}

void mcd_site_wipe(struct mcd_site_msg *m)
{
	explicit_bzero(m, sizeof(*m));
}

/* ---- accessors ---- */

static const struct mcd_site_field *field(const struct mcd_site_msg *m,
					  uint16_t tag, unsigned nth)
{
	for (unsigned i = 0; i < m->nfield; i++)
		if (m->f[i].tag == tag && nth-- == 0)
			return &m->f[i];
	return NULL;
}

const char *mcd_site_str(const struct mcd_site_msg *m, uint16_t tag)
{
	const struct mcd_site_field *f = field(m, tag, 0);

	return f ? f->val : NULL;
}

uint32_t mcd_site_u32(const struct mcd_site_msg *m, uint16_t tag,
		      uint32_t dflt)
{
	const struct mcd_site_field *f = field(m, tag, 0);

	if (!f || f->len != 4)
		return dflt;
	return get_u32((const uint8_t *)f->val);
}

const uint8_t *mcd_site_bytes(const struct mcd_site_msg *m, uint16_t tag,
			      size_t *len)
{
	const struct mcd_site_field *f = field(m, tag, 0);

	*len = f ? f->len : 0;
	return f ? (const uint8_t *)f->val : NULL;
}

unsigned mcd_site_count(const struct mcd_site_msg *m, uint16_t tag)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nfield; i++)
		n += m->f[i].tag == tag;
	return n;
}

const char *mcd_site_nth(const struct mcd_site_msg *m, uint16_t tag,
			 unsigned i)
{
	const struct mcd_site_field *f = field(m, tag, i);

	return f ? f->val : NULL;
}

/* ---- encoder ---- */

void mcd_site_begin(struct mcd_site_out *o, uint16_t type)
{
	memset(o->buf, 0, MCD_SITE_HDR_LEN);
	put_u16(o->buf, type);
	o->len = MCD_SITE_HDR_LEN;
	o->failed = 0;
}

void mcd_site_put_bytes(struct mcd_site_out *o, uint16_t tag, const void *p,
			size_t n)
{
	if (o->failed || n > UINT16_MAX || n + 4 > sizeof(o->buf) - o->len) {
		o->failed = 1;
		return;
	}
	put_u16(o->buf + o->len, tag);
	put_u16(o->buf + o->len + 2, (uint16_t)n);
	if (n)
		memcpy(o->buf + o->len + 4, p, n);
	o->len += 4 + n;
}

void mcd_site_put_str(struct mcd_site_out *o, uint16_t tag, const char *s)
{
	if (!s) {
		o->failed = 1;
		return;
	}
	mcd_site_put_bytes(o, tag, s, strlen(s));
}

void mcd_site_put_u32(struct mcd_site_out *o, uint16_t tag, uint32_t v)
{
	uint8_t b[4];

	put_u32(b, v);
	mcd_site_put_bytes(o, tag, b, sizeof(b));
}

int mcd_site_finish(struct mcd_site_out *o, unsigned dir, char *err,
		    size_t errlen)
{
	struct mcd_site_msg m;
	int r;

	if (o->failed)
		return mcd_site_fail(err, errlen, "%s: a field does not fit",
			    mcd_site_type_name(get_u16(o->buf)));
	put_u32(o->buf + 4, (uint32_t)(o->len - MCD_SITE_HDR_LEN));
	/* What a peer would refuse never leaves. */
	r = mcd_site_decode(o->buf, o->len, dir, &m, err, errlen);
	mcd_site_wipe(&m);
	if (r < 0)
		o->failed = 1;
	return r;
}

void mcd_site_out_wipe(struct mcd_site_out *o)
{
	explicit_bzero(o, sizeof(*o));
}

/* ---- shared shape checks ---- */

static int is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int mcd_site_valid_user(const char *s)
{
	size_t i;

	if (!(is_lower(s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; s[i]; i++)
		if (i >= MCD_SITE_USER_MAX ||
		    !(is_lower(s[i]) || is_digit(s[i]) || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	/* Apps never run as the superuser. */
	return strcmp(s, "root") != 0;
}

/* [a-z0-9] then up to max-1 of [a-z0-9] or a char of `extra`. */
static int valid_id(const char *s, size_t max, const char *extra)
{
	size_t i;

	if (!(is_lower(s[0]) || is_digit(s[0])))
		return 0;
	for (i = 1; s[i]; i++)
		if (i >= max || !(is_lower(s[i]) || is_digit(s[i]) ||
				  strchr(extra, s[i])))
			return 0;
	return 1;
}

int mcd_site_valid_app(const char *s)
{
	return valid_id(s, MCD_SITE_APP_MAX, "._-");
}

int mcd_site_valid_pool(const char *s)
{
	return valid_id(s, MCD_SITE_POOL_MAX, ".-");
}

/* The host part of "host:rest": a name or IPv4 address of [A-Za-z0-9.-],
 * or an IPv6 address in brackets.  Returns where the ':' is, or NULL. */
static const char *host_end(const char *s)
{
	const char *p = s;

	if (*p == '[') {
		for (p++; is_digit(*p) || (*p >= 'a' && *p <= 'f') ||
			  (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.';
		     p++)
			;
		if (*p != ']' || p == s + 1)
			return NULL;
		p++;
	} else {
		for (; is_lower(*p) || (*p >= 'A' && *p <= 'Z') ||
		       is_digit(*p) || *p == '.' || *p == '-';
		     p++)
			;
		if (p == s)
			return NULL;
	}
	return *p == ':' ? p : NULL;
}

/* 1..max_digits decimal digits without a leading zero (but "0"); the
 * count consumed, 0 if none. */
static size_t number(const char *s, size_t max_digits, unsigned long *v)
{
	size_t n = 0;

	*v = 0;
	while (is_digit(s[n]) && n < max_digits) {
		*v = *v * 10 + (unsigned long)(s[n] - '0');
		n++;
	}
	if (n == 0 || is_digit(s[n]) || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

int mcd_site_valid_address(const char *s)
{
	const char *colon;
	unsigned long port;
	size_t n;

	if (strlen(s) > MCD_SITE_ADDRESS_MAX)
		return 0;
	colon = host_end(s);
	if (!colon)
		return 0;
	n = number(colon + 1, 5, &port);
	return n && colon[1 + n] == '\0' && port >= 1 && port <= 65535;
}

int mcd_site_valid_display(const char *s)
{
	const char *colon, *p;
	unsigned long v;
	size_t n;

	if (strlen(s) > MCD_SITE_DISPLAY_MAX)
		return 0;
	colon = host_end(s);
	if (!colon)
		return 0;
	n = number(colon + 1, 5, &v);
	if (!n)
		return 0;
	p = colon + 1 + n;
	if (*p == '\0')
		return 1;
	if (*p != '.')
		return 0;
	n = number(p + 1, 5, &v);
	return n && p[1 + n] == '\0';
}
