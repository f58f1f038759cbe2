/*
 * mcd_site.h - the MCD site protocol: the thin client's program
 * (mcd-client), the Auth/App server (mcd-broker) and the pool masters'
 * network face (mcd-toolstack daemon --face) speak it over TLS.
 *
 * This header is the whole contract for those bytes; PROTOCOL.md beside it
 * says who sends what and when.  mcd_site.c holds the one validating decoder
 * and the encoder; it does no I/O (mcd_tls.h carries frames over TLS), so
 * the fuzz target feeds it bytes directly.
 *
 * Framing: an 8-byte header, then `len` payload bytes; integers are
 * little-endian.
 *
 *   u16 type   (enum mcd_site_type)
 *   u16 flags  (0; anything else is refused, room for later versions)
 *   u32 len    (0..the type's limit, never above MCD_SITE_MAX_PAYLOAD)
 *
 * The header is checked (known type, allowed direction, flags 0, length
 * within the type's limit) before any payload byte is read.  The payload is
 * a flat list of fields, each
 *
 *   u16 tag    (enum mcd_site_tag)
 *   u16 len
 *   len bytes
 *
 * checked against the message's table: which tags it may carry, how often
 * (min..max), and each tag's kind and size.  A U32 field is exactly 4
 * bytes; a STR field is 1..max bytes of printable UTF-8 without control
 * characters (so no NUL and no newline: a string can be logged and shown
 * as it is); HEX is a STR of lowercase hex digits of an exact length; BYTES
 * is 1..max opaque bytes.  Order of fields is free except that repeated
 * tags keep their order (ARG, POOL).  A frame that fails any check ends the
 * connection with one ERROR (BAD_REQUEST) and is never resynchronised.
 *
 * A connection carries one request: the client sends HELLO, the server
 * answers HELLO (the version both speak) or ERROR VERSION, then the client
 * sends one request and reads replies until a final one (see PROTOCOL.md).
 *
 * Versions:
 *   1  first version.
 */
#ifndef MCD_SITE_H
#define MCD_SITE_H

#include <stddef.h>
#include <stdint.h>

#define MCD_SITE_VERSION_MIN 1
#define MCD_SITE_VERSION_MAX 1

#define MCD_SITE_HDR_LEN 8
#define MCD_SITE_MAX_PAYLOAD 16384
#define MCD_SITE_MAX_FRAME (MCD_SITE_HDR_LEN + MCD_SITE_MAX_PAYLOAD)
#define MCD_SITE_MAX_FIELDS 96   /* fields in one message */

/* Sizes of the fields' values (bytes, without a NUL). */
#define MCD_SITE_USER_MAX     32   /* as mcd_valid_user(): [a-z_][a-z0-9_-]* */
#define MCD_SITE_PASSWORD_MAX 128
#define MCD_SITE_TOKEN_LEN    64   /* 32 random bytes in hex */
#define MCD_SITE_TEXT_MAX     256  /* ERROR, WAIT, FAILED, ENDED texts */
#define MCD_SITE_APP_MAX      64   /* app id: [a-z0-9][a-z0-9._-]* */
#define MCD_SITE_NAME_MAX     128  /* an app's display name */
#define MCD_SITE_OS_MAX       16   /* "linux", "windows" */
#define MCD_SITE_POOL_MAX     64   /* pool name: also its certificate's name */
#define MCD_SITE_ADDRESS_MAX  128  /* "host:port" */
#define MCD_SITE_DISPLAY_MAX  64   /* "host:N" or "host:N.M" */
#define MCD_SITE_TICKET_MAX   8192 /* an encoded ticket body */
#define MCD_SITE_SIG_LEN      64   /* Ed25519 */
#define MCD_SITE_COOKIE_LEN   32   /* MIT-MAGIC-COOKIE-1 in hex */
#define MCD_SITE_SESSION_LEN  16   /* as MCD_SESSION_ID_LEN */
#define MCD_SITE_END_KEY_LEN  32   /* 16 random bytes in hex */
#define MCD_SITE_NONCE_LEN    32   /* 16 random bytes in hex */
#define MCD_SITE_PROGRAM_MAX  1024 /* absolute path */
#define MCD_SITE_ARG_MAX      1024
#define MCD_SITE_ARGS_MAX     63   /* ARG fields besides PROGRAM */
#define MCD_SITE_TEMPLATE_MAX 64
#define MCD_SITE_STATE_MAX    32
#define MCD_SITE_POOLS_MAX    16   /* pools one app lists */
#define MCD_SITE_LEVEL_MAX    16   /* security levels are 1..16 */
#define MCD_SITE_WAIT_MAX     3600 /* seconds a launch may wait for room */

/* Who sends a frame: each type travels only in the directions listed for it
 * (a server never accepts a reply type, a client never a request type). */
enum mcd_site_dir {
	MCD_SITE_C2B = 1, /* thin client -> Auth/App server */
	MCD_SITE_B2C = 2, /* Auth/App server -> thin client */
	MCD_SITE_C2P = 4, /* thin client -> pool master */
	MCD_SITE_P2C = 8, /* pool master -> thin client */
	/* Not a direction: what a ticket's body is decoded as.  A TICKET_BODY
	 * never travels as a frame of its own. */
	MCD_SITE_TICKET = 16,
};

enum mcd_site_type {
	/* Every connection (HELLO: all four directions). */
	MCD_SITE_HELLO = 0x01,      /* VMIN, VMAX (client) / VERSION (server) */
	MCD_SITE_ERROR = 0x02,      /* B2C|P2C, final: CODE, TEXT */
	MCD_SITE_OK = 0x03,         /* B2C|P2C, final: nothing */

	/* Auth/App server. */
	MCD_SITE_LOGIN = 0x10,      /* C2B: USER, PASSWORD */
	MCD_SITE_LOGIN_OK = 0x11,   /* B2C, final: TOKEN, USER, LEVEL, EXPIRES */
	MCD_SITE_APPS = 0x12,       /* C2B: TOKEN */
	MCD_SITE_APP = 0x13,        /* B2C: APP, NAME, OS, LEVEL, POOL 1..16 */
	MCD_SITE_POOL = 0x14,       /* B2C: POOL, ADDRESS, LEVEL */
	MCD_SITE_LIST_END = 0x15,   /* B2C, final: ends an APP/POOL/SESSION list */
	MCD_SITE_TICKET_REQ = 0x16, /* C2B: TOKEN, APP, POOL, DISPLAY */
	MCD_SITE_TICKET_OK = 0x17,  /* B2C, final: TICKET, SIG, POOL, ADDRESS,
				     * EXPIRES */
	MCD_SITE_NOTE = 0x18,       /* C2B: TOKEN, SESSION, POOL, APP, STATE
				     * ("ready" or "ended"); answer OK */
	MCD_SITE_SESSIONS = 0x19,   /* C2B: TOKEN; answer SESSION_INFO... then
				     * LIST_END */

	/* Pool master. */
	MCD_SITE_LOAD = 0x20,       /* C2P: nothing */
	MCD_SITE_LOAD_OK = 0x21,    /* P2C, final: POOL, LEVEL, LOAD (0..1000,
				     * the coefficient in thousandths), ROOM
				     * (0/1), LIMIT ("memory", "cpu",
				     * "domains"), TEXT (why no room) 0..1 */
	MCD_SITE_LAUNCH = 0x22,     /* C2P: TICKET, SIG, COOKIE 0..1, WAIT */
	MCD_SITE_WAIT = 0x23,       /* P2C: STATE, TEXT (progress, repeated) */
	MCD_SITE_READY = 0x24,      /* P2C: SESSION, END_KEY (the app runs; its
				     * first window is up in X modes) */
	MCD_SITE_FAILED = 0x25,     /* P2C, final: CODE, TEXT */
	MCD_SITE_ENDED = 0x26,      /* P2C, final: SESSION, TEXT 0..1 */
	MCD_SITE_END = 0x27,        /* C2P: SESSION, END_KEY; answer OK/ERROR */
	MCD_SITE_STATUS = 0x28,     /* C2P: SESSION, END_KEY; answer
				     * SESSION_INFO (final) or ERROR */

	/* Both servers. */
	MCD_SITE_SESSION_INFO = 0x29, /* B2C|P2C: SESSION, POOL, APP 0..1,
				       * USER 0..1, STATE, ISSUED 0..1 */

	/* The signed part of a launch ticket (MCD_SITE_TICKET only). */
	MCD_SITE_TICKET_BODY = 0x80, /* NONCE, USER, APP, LEVEL, TEMPLATE,
				      * PROGRAM, ARG 0..63, POOL, DISPLAY,
				      * ISSUED, EXPIRES */
};

enum mcd_site_tag {
	MCD_ST_VMIN = 1,      /* U32 */
	MCD_ST_VMAX = 2,      /* U32 */
	MCD_ST_VERSION = 3,   /* U32 */
	MCD_ST_CODE = 4,      /* U32, enum mcd_site_err */
	MCD_ST_TEXT = 5,      /* STR, MCD_SITE_TEXT_MAX */
	MCD_ST_USER = 6,      /* STR, MCD_SITE_USER_MAX */
	MCD_ST_PASSWORD = 7,  /* BYTES, MCD_SITE_PASSWORD_MAX (a secret) */
	MCD_ST_TOKEN = 8,     /* HEX, MCD_SITE_TOKEN_LEN (a secret) */
	MCD_ST_LEVEL = 9,     /* U32, 1..MCD_SITE_LEVEL_MAX */
	MCD_ST_EXPIRES = 10,  /* U32, Unix time */
	MCD_ST_APP = 11,      /* STR, MCD_SITE_APP_MAX */
	MCD_ST_NAME = 12,     /* STR, MCD_SITE_NAME_MAX */
	MCD_ST_OS = 13,       /* STR, MCD_SITE_OS_MAX */
	MCD_ST_POOL = 14,     /* STR, MCD_SITE_POOL_MAX */
	MCD_ST_ADDRESS = 15,  /* STR, MCD_SITE_ADDRESS_MAX */
	MCD_ST_DISPLAY = 16,  /* STR, MCD_SITE_DISPLAY_MAX */
	MCD_ST_TICKET = 17,   /* BYTES, MCD_SITE_TICKET_MAX: an encoded
			       * TICKET_BODY frame (header included) */
	MCD_ST_SIG = 18,      /* BYTES, exactly MCD_SITE_SIG_LEN */
	MCD_ST_COOKIE = 19,   /* HEX, MCD_SITE_COOKIE_LEN (a secret) */
	MCD_ST_WAIT = 20,     /* U32, 0..MCD_SITE_WAIT_MAX seconds */
	MCD_ST_STATE = 21,    /* STR, MCD_SITE_STATE_MAX */
	MCD_ST_SESSION = 22,  /* HEX, MCD_SITE_SESSION_LEN */
	MCD_ST_END_KEY = 23,  /* HEX, MCD_SITE_END_KEY_LEN (a secret) */
	MCD_ST_LOAD = 24,     /* U32, 0..1000 */
	MCD_ST_ROOM = 25,     /* U32, 0 or 1 */
	MCD_ST_NONCE = 26,    /* HEX, MCD_SITE_NONCE_LEN */
	MCD_ST_PROGRAM = 27,  /* STR, MCD_SITE_PROGRAM_MAX, starts with '/' */
	MCD_ST_ARG = 28,      /* STR, MCD_SITE_ARG_MAX */
	MCD_ST_TEMPLATE = 29, /* STR, MCD_SITE_TEMPLATE_MAX */
	MCD_ST_ISSUED = 30,   /* U32, Unix time */
	MCD_ST_LIMIT = 31,    /* STR, 16 */
	MCD_ST_TAG_MAX = MCD_ST_LIMIT,
};

/* ERROR and FAILED codes; TEXT says the rest in one line. */
enum mcd_site_err {
	MCD_SITE_E_BAD_REQUEST = 1, /* a frame did not validate */
	MCD_SITE_E_VERSION = 2,     /* no common protocol version */
	MCD_SITE_E_AUTH = 3,        /* wrong user or password, or bad token */
	MCD_SITE_E_SLOWED = 4,      /* too many failed logins: try later */
	MCD_SITE_E_DENIED = 5,      /* not allowed (level, app, pool) */
	MCD_SITE_E_NO_ROOM = 6,     /* the pool has no room (and no --wait) */
	MCD_SITE_E_TICKET = 7,      /* ticket refused: signature, expired,
				     * replayed, other pool/level/address */
	MCD_SITE_E_NOT_FOUND = 8,   /* no such app, pool or session */
	MCD_SITE_E_LAUNCH = 9,      /* the launch itself failed */
	MCD_SITE_E_BUSY = 10,       /* the server is at its connection limit */
	MCD_SITE_E_INTERNAL = 11,
	MCD_SITE_E_MAX = MCD_SITE_E_INTERNAL,
};

/* One field of a decoded message.  val points into the message's own copy
 * and is followed by a NUL (so STR and HEX values are C strings). */
struct mcd_site_field {
	uint16_t tag;
	uint16_t len;
	const char *val;
};

/* A decoded message: owns a copy of the payload, NUL after each value. */
struct mcd_site_msg {
	uint16_t type;
	unsigned nfield;
	struct mcd_site_field f[MCD_SITE_MAX_FIELDS];
	char store[MCD_SITE_MAX_PAYLOAD + MCD_SITE_MAX_FIELDS];
};

/*
 * Check a header for a receiver expecting frames from direction dir (one
 * MCD_SITE_* direction bit).  0 with *type and *len set, or -1 with a
 * one-line reason (unknown type, wrong direction, flags set, too long).
 */
int mcd_site_check_hdr(const uint8_t hdr[MCD_SITE_HDR_LEN], unsigned dir,
		       uint16_t *type, uint32_t *len, char *err, size_t errlen);

/*
 * The one decoder: a whole frame (header + payload, exactly frame_len
 * bytes) from direction dir into m.  0, or -1 with a one-line reason.  On
 * failure m holds nothing usable (and no secret: it is wiped).
 */
int mcd_site_decode(const uint8_t *frame, size_t frame_len, unsigned dir,
		    struct mcd_site_msg *m, char *err, size_t errlen);

/* Accessors on a decoded message.  The value of the first field with tag,
 * or NULL / the default when the message has none. */
const char *mcd_site_str(const struct mcd_site_msg *m, uint16_t tag);
uint32_t mcd_site_u32(const struct mcd_site_msg *m, uint16_t tag,
		      uint32_t dflt);
/* BYTES: the value and its length (NULL, 0 when absent). */
const uint8_t *mcd_site_bytes(const struct mcd_site_msg *m, uint16_t tag,
			      size_t *len);
/* How many fields with tag; the i-th of them (0-based), or NULL. */
unsigned mcd_site_count(const struct mcd_site_msg *m, uint16_t tag);
const char *mcd_site_nth(const struct mcd_site_msg *m, uint16_t tag,
			 unsigned i);

/* Wipe a decoded message (it may hold a password, token, cookie or key). */
void mcd_site_wipe(struct mcd_site_msg *m);

/*
 * The encoder.  Begin, put fields, finish: mcd_site_finish() fills in the
 * header and then runs the frame through mcd_site_decode() for the
 * direction given, so nothing leaves that a peer would refuse.  A put that
 * does not fit marks the builder failed; finish then returns -1.
 */
struct mcd_site_out {
	uint8_t buf[MCD_SITE_MAX_FRAME];
	size_t len;   /* bytes used, header included */
	int failed;
};
void mcd_site_begin(struct mcd_site_out *o, uint16_t type);
void mcd_site_put_str(struct mcd_site_out *o, uint16_t tag, const char *s);
void mcd_site_put_u32(struct mcd_site_out *o, uint16_t tag, uint32_t v);
void mcd_site_put_bytes(struct mcd_site_out *o, uint16_t tag,
			const void *p, size_t n);
/* 0 with o->len the frame's length, or -1 with a one-line reason. */
int mcd_site_finish(struct mcd_site_out *o, unsigned dir, char *err,
		    size_t errlen);
/* Wipe the builder (it held a secret). */
void mcd_site_out_wipe(struct mcd_site_out *o);

/* Names for messages and logs. */
const char *mcd_site_type_name(uint16_t type);
const char *mcd_site_err_name(uint32_t code);

/* Shared checks for values that have a shape of their own (beyond the
 * field's kind): 1 if valid, else 0. */
int mcd_site_valid_user(const char *s);    /* [a-z_][a-z0-9_-]{0,31}, not root */
int mcd_site_valid_app(const char *s);     /* [a-z0-9][a-z0-9._-]{0,63} */
int mcd_site_valid_pool(const char *s);    /* [a-z0-9][a-z0-9.-]{0,63} */
int mcd_site_valid_address(const char *s); /* host:port, port 1..65535 */
int mcd_site_valid_display(const char *s); /* host:N or host:N.M */

#endif /* MCD_SITE_H */
