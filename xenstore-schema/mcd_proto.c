/*
 * mcd_proto.c - encoder, the one validating decoder and the frame reader for
 * the MCD wire format (see mcd_proto.h).
 */
#include "mcd_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The message table: which way each type may travel and the bounds of its
 * payload.  `fixed` is the size of the fixed-width part before the strings.
 */
struct msg_rule {
	uint32_t type;
	const char *name;
	unsigned version; /* protocol version that introduced it */
	unsigned dirs;    /* bit mask of enum mcd_dir */
	uint32_t fixed;
	uint32_t min_len;
	uint32_t max_len;
};

#define BOTH (MCD_DIR_TO_GUEST | MCD_DIR_TO_DOM0)
#define SID_BYTES (MCD_SESSION_ID_LEN + 1)
/* The shortest valid LAUNCH strings: user "a", display ":0", argv[0] "/x". */
#define LAUNCH_MIN_STRS (SID_BYTES + 2 + 3 + 3)

static const struct msg_rule rules[] = {
	{ MCD_MSG_HELLO, "HELLO", 1, BOTH, 8, 8, 8 },
	{ MCD_MSG_LAUNCH, "LAUNCH", 1, MCD_DIR_TO_GUEST, 8, 8 + LAUNCH_MIN_STRS,
	  MCD_MAX_PAYLOAD },
	{ MCD_MSG_STOP, "STOP", 1, MCD_DIR_TO_GUEST, 4, 4 + SID_BYTES,
	  4 + SID_BYTES },
	{ MCD_MSG_LAUNCH2, "LAUNCH2", 2, MCD_DIR_TO_GUEST, 12,
	  12 + LAUNCH_MIN_STRS + 2, MCD_MAX_PAYLOAD },
	{ MCD_MSG_STATUS, "STATUS", 1, MCD_DIR_TO_DOM0, 16, 16 + 1,
	  16 + SID_BYTES },
	{ MCD_MSG_STARTED, "STARTED", 1, MCD_DIR_TO_DOM0, 4, 4 + SID_BYTES,
	  4 + SID_BYTES },
	{ MCD_MSG_EXITED, "EXITED", 1, MCD_DIR_TO_DOM0, 8, 8 + SID_BYTES,
	  8 + SID_BYTES },
	{ MCD_MSG_FAILED, "FAILED", 1, MCD_DIR_TO_DOM0, 4, 4 + SID_BYTES + 1,
	  4 + SID_BYTES + MCD_MAX_REASON_LEN + 1 },
	{ MCD_MSG_READY, "READY", 2, MCD_DIR_TO_DOM0, 0, SID_BYTES, SID_BYTES },
	{ MCD_MSG_X_OPEN, "X_OPEN", 2, MCD_DIR_TO_DOM0, 4, 4, 4 },
	{ MCD_MSG_X_DATA, "X_DATA", 2, BOTH, 4, 5, MCD_MAX_PAYLOAD },
	{ MCD_MSG_X_ACK, "X_ACK", 2, BOTH, 8, 8, 8 },
	{ MCD_MSG_X_CLOSE, "X_CLOSE", 2, BOTH, 4, 5,
	  4 + MCD_MAX_REASON_LEN + 1 },
	/* Version 0: inside dom0 only, never negotiated with a guest. */
	{ MCD_MSG_W_XCONF, "W_XCONF", 0, MCD_DIR_TO_WORKER, 8, 8 + 3 + 2 + 2,
	  8 + MCD_MAX_DISPLAY_LEN + 1 + 2 * (MCD_MAX_HOST_LEN + 1) },
	{ MCD_MSG_W_XNOTE, "W_XNOTE", 0, MCD_DIR_FROM_WORKER, 4, 5,
	  4 + MCD_MAX_REASON_LEN + 1 },
};

static int is_x(uint32_t type)
{
	return type >= MCD_MSG_X_OPEN && type <= MCD_MSG_X_CLOSE;
}

/* The worker's directions carry the guest's messages but X_*: which rule
 * direction a frame travelling `from` stands for. */
static unsigned rule_dir(uint32_t type, enum mcd_dir from)
{
	if (from == MCD_DIR_TO_WORKER && !is_x(type))
		return MCD_DIR_TO_GUEST | MCD_DIR_TO_WORKER;
	if (from == MCD_DIR_FROM_WORKER && !is_x(type))
		return MCD_DIR_TO_DOM0 | MCD_DIR_FROM_WORKER;
	return from;
}

/* Where the frame comes from as far as its payload rules go. */
static enum mcd_dir payload_dir(enum mcd_dir from)
{
	if (from == MCD_DIR_TO_WORKER)
		return MCD_DIR_TO_GUEST;
	if (from == MCD_DIR_FROM_WORKER)
		return MCD_DIR_TO_DOM0;
	return from;
}

static const struct msg_rule *rule_for(uint32_t type)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

unsigned mcd_msg_version(uint32_t type)
{
	const struct msg_rule *r = rule_for(type);

	return r ? r->version : 0;
}

const char *mcd_msg_name(uint32_t type)
{
	const struct msg_rule *r = rule_for(type);

	return r ? r->name : "UNKNOWN";
}

const char *mcd_fail_name(uint32_t code)
{
	static const char *const names[] = {
		[MCD_FAIL_BAD_REQUEST] = "bad-request",
		[MCD_FAIL_NO_USER] = "no-such-user",
		[MCD_FAIL_USER_DENIED] = "user-denied",
		[MCD_FAIL_NO_PROGRAM] = "no-such-program",
		[MCD_FAIL_EXEC] = "exec-failed",
		[MCD_FAIL_BUSY] = "busy",
		[MCD_FAIL_INTERNAL] = "internal",
		[MCD_FAIL_DISPLAY] = "display",
		[MCD_FAIL_STORAGE] = "storage",
	};

	if (code == 0 || code > MCD_FAIL_MAX)
		return "unknown";
	return names[code];
}

const char *mcd_agent_state_name(uint32_t state)
{
	switch (state) {
	case MCD_AGENT_IDLE: return "idle";
	case MCD_AGENT_RUNNING: return "running";
	case MCD_AGENT_EXITED: return "exited";
	}
	return "unknown";
}

/* ---- little-endian helpers ---- */

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

void mcd_hdr_parse(const uint8_t raw[MCD_HDR_LEN], struct mcd_hdr *h)
{
	h->type = get_u32(raw);
	h->len = get_u32(raw + 4);
}

/* ---- validators ---- */

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int mcd_valid_session_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= MCD_SESSION_ID_LEN || !is_lower_hex(s[i]))
			return 0;
	return i == MCD_SESSION_ID_LEN;
}

int mcd_valid_user(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (i >= MCD_MAX_USER_LEN)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	/* Apps never run as the superuser, whatever its uid check says. */
	return strcmp(s, "root") != 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1-5 decimal digits; returns the number of digits consumed, 0 if none. */
static size_t digits(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]) && n < 6)
		n++;
	return n <= 5 ? n : 0;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * The host part of a display, [s, end): empty (local), a host name or IPv4
 * address starting with a letter or digit, or a bracketed IPv6 address.  A
 * leading '-' is refused so that a display can never be read as an option.
 */
static int valid_display_host(const char *s, const char *end)
{
	if (s == end)
		return 1;
	if (*s == '[') {
		int colons = 0;

		if (end - s < 3 || end[-1] != ']')
			return 0;
		for (const char *p = s + 1; p < end - 1; p++) {
			if (*p == ':')
				colons++;
			else if (!is_hex(*p) && *p != '.')
				return 0;
		}
		return colons > 0;
	}
	if (!is_alnum(*s))
		return 0;
	for (const char *p = s; p < end; p++)
		if (!is_alnum(*p) && *p != '.' && *p != '-')
			return 0;
	return 1;
}

int mcd_valid_display(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon || strlen(s) > MCD_MAX_DISPLAY_LEN)
		return 0;
	if (!valid_display_host(s, colon))
		return 0;
	n = digits(colon + 1);
	if (n == 0)
		return 0;
	s = colon + 1 + n;
	if (*s == '\0')
		return 1;
	if (*s != '.')
		return 0;
	n = digits(s + 1);
	return n > 0 && s[1 + n] == '\0';
}

static int is_print(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

int mcd_valid_program(const char *s)
{
	size_t len = strlen(s);

	if (s[0] != '/' || len > MCD_MAX_ARG_LEN || len < 2)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_print((unsigned char)s[i]))
			return 0;
	/* No "." or ".." components: the path an admin reads is the path run. */
	for (const char *p = s; (p = strchr(p, '/')); p++) {
		if (p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 0;
		if (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0'))
			return 0;
		if (p[1] == '/')
			return 0;
	}
	return s[len - 1] != '/';
}

/* Environment names the app may not be given: they change how the dynamic
 * loader or the shell behave before the app's own code runs. */
static const char *const env_denied[] = {
	"LD_", "GCONV_PATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS",
	"TMPDIR", "BASH_ENV", "ENV", "IFS", "PATH", "HOME", "USER", "LOGNAME",
	"SHELL", "DISPLAY", "MALLOC_",
	/* Set by the agent from the request's X cookie, never from env. */
	"XAUTHORITY",
	/* The rest of glibc's list of variables it drops for setuid programs. */
	"GLIBC_TUNABLES", "GETCONF_DIR", "LOCPATH", "NIS_PATH", "NLSPATH",
	"RESOLV_HOST_CONF", "TZDIR",
};

int mcd_valid_env(const char *s)
{
	const char *eq = strchr(s, '=');
	size_t name_len;

	if (!eq || eq == s || strlen(s) > MCD_MAX_ENV_LEN)
		return 0;
	name_len = (size_t)(eq - s);
	for (size_t i = 0; i < name_len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '_' || (i > 0 && is_digit(c))))
			return 0;
	}
	for (size_t i = 0; i < sizeof(env_denied) / sizeof(env_denied[0]); i++) {
		size_t dl = strlen(env_denied[i]);
		int prefix = env_denied[i][dl - 1] == '_';

		if (prefix ? strncmp(s, env_denied[i], dl) == 0
			   : (name_len == dl && strncmp(s, env_denied[i], dl) == 0))
			return 0;
	}
	for (const char *p = eq + 1; *p; p++)
		if (!is_print((unsigned char)*p))
			return 0;
	return 1;
}

int mcd_valid_reason(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= MCD_MAX_REASON_LEN || !is_print((unsigned char)s[i]))
			return 0;
	return 1;
}

int mcd_valid_xcookie(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= MCD_XCOOKIE_LEN || !is_lower_hex(s[i]))
			return 0;
	return i == MCD_XCOOKIE_LEN;
}

int mcd_valid_vdev(const char *s)
{
	return strncmp(s, "xvd", 3) == 0 && s[3] >= 'b' && s[3] <= 'z' &&
	       s[4] == '\0';
}

/* Printable, at most max bytes, and none of the bytes in `deny`. */
static int plain_text(const char *s, size_t max, const char *deny)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || !is_print((unsigned char)s[i]) ||
		    strchr(deny, s[i]))
			return 0;
	return 1;
}

/* Characters that would let a share source, user or mount name change the
 * meaning of a mount option string or a path: separators and quoting. */
#define SHARE_DENY " ,=\"'\\;$`"

static int valid_nfs_source(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || colon == s || colon[1] != '/')
		return 0;
	if (!valid_display_host(s, colon) || strstr(colon, "/../") ||
	    strstr(colon, "/./"))
		return 0;
	return plain_text(colon + 1, MCD_MAX_SHARE_SRC, SHARE_DENY ":");
}

static int valid_cifs_source(const char *s)
{
	const char *host, *slash;

	if (strncmp(s, "//", 2) != 0)
		return 0;
	host = s + 2;
	slash = strchr(host, '/');
	if (!slash || slash == host || slash[1] == '\0' || slash[1] == '/')
		return 0;
	if (!valid_display_host(host, slash) || strstr(slash, "/../") ||
	    strstr(slash, "/./"))
		return 0;
	return plain_text(slash, MCD_MAX_SHARE_SRC, SHARE_DENY ":");
}

int mcd_valid_share(const struct mcd_share *sh, char *err, size_t errlen)
{
	int nfs = strcmp(sh->kind, "nfs") == 0;
	const char *n = sh->mount_name;

	if (!nfs && strcmp(sh->kind, "cifs") != 0) {
		fail(err, errlen, "share kind must be nfs or cifs");
		return 0;
	}
	if (strlen(sh->source) > MCD_MAX_SHARE_SRC ||
	    !(nfs ? valid_nfs_source(sh->source) : valid_cifs_source(sh->source))) {
		fail(err, errlen, nfs ? "NFS share source must be host:/path"
				      : "CIFS share source must be //host/share");
		return 0;
	}
	if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
	    n[0] == '-' || n[0] == '.' ||
	    !plain_text(n, MCD_MAX_MOUNT_NAME, SHARE_DENY "/:")) {
		fail(err, errlen, "share mount name must be a plain directory name");
		return 0;
	}
	if (!plain_text(sh->user, MCD_MAX_SHARE_USER, SHARE_DENY "/:") ||
	    sh->user[0] == '-') {
		fail(err, errlen, "bad share user name");
		return 0;
	}
	/* The password goes into a credentials file line: anything printable. */
	if (!plain_text(sh->password, MCD_MAX_SECRET_LEN, "")) {
		fail(err, errlen, "bad share password");
		return 0;
	}
	if (nfs && (sh->user[0] || sh->password[0])) {
		fail(err, errlen, "NFS shares take no user or password");
		return 0;
	}
	if (!nfs && !sh->user[0] && sh->password[0]) {
		fail(err, errlen, "CIFS password without a user");
		return 0;
	}
	return 1;
}

/* An exit is either normal (signal 0, code 0..255) or by a signal (signal
 * 1..128, code -1); anything else is a lie or a bug in the agent. */
static int valid_exit(int32_t code, uint32_t sig)
{
	if (sig == 0)
		return code >= 0 && code <= 255;
	return sig <= 128 && code == -1;
}

/* ---- decoding ---- */

/* Cursor over the NUL-terminated strings after the fixed part. */
struct strs {
	const char *p;
	const char *end;
};

/* Next string of at most max bytes (without NUL), or NULL if it is not
 * terminated inside the payload or is too long. */
static const char *next_str(struct strs *c, size_t max)
{
	const char *s = c->p;
	const char *nul;

	if (s >= c->end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(c->end - s));
	if (!nul || (size_t)(nul - s) > max)
		return NULL;
	c->p = nul + 1;
	return s;
}

static int decode_hello(const uint8_t *p, enum mcd_dir from,
			struct mcd_hello *h, char *err, size_t errlen)
{
	h->version_min = get_u16(p);
	h->version_max = get_u16(p + 2);
	h->role = p[4];
	memcpy(h->reserved, p + 5, 3);
	if (h->version_min == 0 || h->version_min > h->version_max)
		return fail(err, errlen, "HELLO: bad version range %u..%u",
			    h->version_min, h->version_max);
	if (h->role < MCD_ROLE_DOM0 || h->role > MCD_ROLE_AGENT_WINDOWS)
		return fail(err, errlen, "HELLO: unknown role %u", h->role);
	/* A guest cannot claim to be dom0, nor dom0 to be an agent. */
	if ((h->role == MCD_ROLE_DOM0) != (from == MCD_DIR_TO_GUEST))
		return fail(err, errlen, "HELLO: role %u may not be sent %s",
			    h->role, from == MCD_DIR_TO_DOM0 ? "by a guest"
							      : "by dom0");
	if (h->reserved[0] || h->reserved[1] || h->reserved[2])
		return fail(err, errlen, "HELLO: reserved bytes not zero");
	return 0;
}

static int decode_shares(struct strs *c, struct mcd_launch *l, char *err,
			 size_t errlen)
{
	for (unsigned i = 0; i < l->sharec; i++) {
		struct mcd_share *sh = &l->share[i];
		char why[96];

		sh->kind = next_str(c, 8);
		sh->source = next_str(c, MCD_MAX_SHARE_SRC);
		sh->mount_name = next_str(c, MCD_MAX_MOUNT_NAME);
		sh->user = next_str(c, MCD_MAX_SHARE_USER);
		sh->password = next_str(c, MCD_MAX_SECRET_LEN);
		if (!sh->kind || !sh->source || !sh->mount_name || !sh->user ||
		    !sh->password)
			return fail(err, errlen, "LAUNCH2: share %u missing or too long", i);
		if (!mcd_valid_share(sh, why, sizeof(why)))
			return fail(err, errlen, "LAUNCH2: share %u: %s", i, why);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(l->share[j].mount_name, sh->mount_name) == 0)
				return fail(err, errlen, "LAUNCH2: share %u: mount name used twice", i);
	}
	return 0;
}

static int decode_launch(const uint8_t *p, struct strs *c, int v2,
			 struct mcd_launch *l, char *err, size_t errlen)
{
	l->flags = get_u32(p);
	l->argc = get_u16(p + 4);
	l->envc = get_u16(p + 6);
	l->xcookie = "";
	l->volume = "";
	if (v2) {
		l->sharec = get_u16(p + 8);
		if (get_u16(p + 10) != 0)
			return fail(err, errlen, "LAUNCH2: reserved bytes not zero");
		if (l->flags & ~MCD_LAUNCH2_FLAGS_KNOWN)
			return fail(err, errlen, "LAUNCH2: unknown flags 0x%x", l->flags);
		if ((l->flags & MCD_LAUNCH_X_RELAY) && (l->flags & MCD_LAUNCH_X_DIRECT))
			return fail(err, errlen, "LAUNCH2: X relay and direct both set");
		if (l->sharec > MCD_MAX_SHARES)
			return fail(err, errlen, "LAUNCH2: %u shares over %d",
				    l->sharec, MCD_MAX_SHARES);
	} else if (l->flags & ~MCD_LAUNCH_FLAGS_KNOWN)
		return fail(err, errlen, "LAUNCH: unknown flags 0x%x", l->flags);
	if (l->argc < 1 || l->argc > MCD_MAX_ARGS)
		return fail(err, errlen, "LAUNCH: argc %u out of range 1..%d",
			    l->argc, MCD_MAX_ARGS);
	if (l->envc > MCD_MAX_ENV)
		return fail(err, errlen, "LAUNCH: envc %u over %d", l->envc,
			    MCD_MAX_ENV);
	l->session_id = next_str(c, MCD_SESSION_ID_LEN);
	if (!l->session_id || !mcd_valid_session_id(l->session_id))
		return fail(err, errlen, "LAUNCH: bad session id");
	l->user = next_str(c, MCD_MAX_USER_LEN);
	if (!l->user || !mcd_valid_user(l->user))
		return fail(err, errlen, "LAUNCH: bad user name");
	l->display = next_str(c, MCD_MAX_DISPLAY_LEN);
	if (!l->display || !mcd_valid_display(l->display))
		return fail(err, errlen, "LAUNCH: bad display");
	if (v2) {
		l->xcookie = next_str(c, MCD_XCOOKIE_LEN);
		if (!l->xcookie || (l->xcookie[0] && !mcd_valid_xcookie(l->xcookie)))
			return fail(err, errlen, "LAUNCH2: bad X cookie");
		if (l->xcookie[0] && !(l->flags & (MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT)))
			return fail(err, errlen, "LAUNCH2: X cookie without an X mode");
		l->volume = next_str(c, MCD_MAX_VDEV_LEN);
		if (!l->volume || (l->volume[0] && !mcd_valid_vdev(l->volume)))
			return fail(err, errlen, "LAUNCH2: bad volume device");
	}
	for (unsigned i = 0; i < l->argc; i++) {
		l->argv[i] = next_str(c, MCD_MAX_ARG_LEN);
		if (!l->argv[i])
			return fail(err, errlen, "LAUNCH: argv[%u] missing or too long", i);
	}
	l->argv[l->argc] = NULL;
	if (!mcd_valid_program(l->argv[0]))
		return fail(err, errlen, "LAUNCH: program must be an absolute path");
	for (unsigned i = 0; i < l->envc; i++) {
		l->env[i] = next_str(c, MCD_MAX_ENV_LEN);
		if (!l->env[i] || !mcd_valid_env(l->env[i]))
			return fail(err, errlen, "LAUNCH: env[%u] invalid", i);
	}
	l->env[l->envc] = NULL;
	return v2 ? decode_shares(c, l, err, errlen) : 0;
}

static const char *decode_sid(struct strs *c, int allow_empty)
{
	const char *s = next_str(c, MCD_SESSION_ID_LEN);

	if (!s)
		return NULL;
	if (allow_empty && s[0] == '\0')
		return s;
	return mcd_valid_session_id(s) ? s : NULL;
}

int mcd_check_header(const struct mcd_hdr *h, enum mcd_dir from, char *err,
		     size_t errlen)
{
	const struct msg_rule *r = rule_for(h->type);

	if (from != MCD_DIR_TO_GUEST && from != MCD_DIR_TO_DOM0 &&
	    from != MCD_DIR_TO_WORKER && from != MCD_DIR_FROM_WORKER)
		return fail(err, errlen, "bad direction %d", (int)from);
	if (!r)
		return fail(err, errlen, "unknown message type 0x%x", h->type);
	if (!(r->dirs & rule_dir(h->type, from)))
		return fail(err, errlen, "%s may not be sent %s", r->name,
			    from == MCD_DIR_TO_DOM0 ? "by a guest"
			    : from == MCD_DIR_TO_GUEST ? "by dom0"
			    : from == MCD_DIR_TO_WORKER ? "to a worker"
			    : "by a worker");
	if (h->len < r->min_len || h->len > r->max_len)
		return fail(err, errlen, "%s: length %u outside %u..%u", r->name,
			    h->len, r->min_len, r->max_len);
	return 0;
}

int mcd_decode(uint32_t type, enum mcd_dir from, const uint8_t *payload,
	       size_t len, struct mcd_msg *out, char *err, size_t errlen)
{
	struct mcd_hdr h = { .type = type, .len = (uint32_t)len };
	const struct msg_rule *r;
	struct strs c;
	int rc = 0;

	if (len > MCD_MAX_PAYLOAD)
		return fail(err, errlen, "payload of %zu bytes over limit", len);
	if (mcd_check_header(&h, from, err, errlen) < 0)
		return -1;
	r = rule_for(type);
	memset(out, 0, sizeof(*out));
	out->type = type;
	c.p = (const char *)payload + r->fixed;
	c.end = (const char *)payload + len;

	switch (type) {
	case MCD_MSG_HELLO:
		rc = decode_hello(payload, payload_dir(from), &out->u.hello,
				  err, errlen);
		break;
	case MCD_MSG_W_XCONF: {
		struct mcd_wxconf *w = &out->u.wxconf;

		w->port = get_u32(payload);
		w->tls = get_u32(payload + 4);
		w->display = next_str(&c, MCD_MAX_DISPLAY_LEN);
		w->host = next_str(&c, MCD_MAX_HOST_LEN);
		w->addr = next_str(&c, MCD_MAX_HOST_LEN);
		if (w->port == 0 || w->port > 65535 || w->tls > 1)
			rc = fail(err, errlen, "W_XCONF: bad port %u/%u", w->port,
				  w->tls);
		else if (!w->display || !mcd_valid_display(w->display))
			rc = fail(err, errlen, "W_XCONF: bad display");
		else if (!w->host || !w->host[0] || !mcd_valid_reason(w->host) ||
			 !w->addr || !w->addr[0] || !mcd_valid_reason(w->addr))
			rc = fail(err, errlen, "W_XCONF: bad host or address");
		break;
	}
	case MCD_MSG_W_XNOTE:
		out->u.wxnote.kind = get_u32(payload);
		out->u.wxnote.text = next_str(&c, MCD_MAX_REASON_LEN);
		if (out->u.wxnote.kind == 0 ||
		    out->u.wxnote.kind > MCD_WX_KIND_MAX)
			rc = fail(err, errlen, "W_XNOTE: unknown kind %u",
				  out->u.wxnote.kind);
		else if (!out->u.wxnote.text ||
			 !mcd_valid_reason(out->u.wxnote.text))
			rc = fail(err, errlen, "W_XNOTE: bad text");
		break;
	case MCD_MSG_LAUNCH:
	case MCD_MSG_LAUNCH2:
		rc = decode_launch(payload, &c, type == MCD_MSG_LAUNCH2,
				   &out->u.launch, err, errlen);
		break;
	case MCD_MSG_READY:
		out->u.ready.session_id = decode_sid(&c, 0);
		if (!out->u.ready.session_id)
			rc = fail(err, errlen, "READY: bad session id");
		break;
	case MCD_MSG_X_OPEN:
		out->u.x.conn = get_u32(payload);
		break;
	case MCD_MSG_X_DATA:
		out->u.x.conn = get_u32(payload);
		out->u.x.data = payload + 4;
		out->u.x.len = (uint32_t)(len - 4);
		c.p = c.end; /* raw bytes, not strings */
		break;
	case MCD_MSG_X_ACK:
		out->u.x.conn = get_u32(payload);
		out->u.x.ack = get_u32(payload + 4);
		if (out->u.x.ack == 0 || out->u.x.ack > MCD_X_WINDOW)
			rc = fail(err, errlen, "X_ACK: %u bytes outside 1..%d",
				  out->u.x.ack, MCD_X_WINDOW);
		break;
	case MCD_MSG_X_CLOSE:
		out->u.x.conn = get_u32(payload);
		out->u.x.reason = next_str(&c, MCD_MAX_REASON_LEN);
		if (!out->u.x.reason || !mcd_valid_reason(out->u.x.reason))
			rc = fail(err, errlen, "X_CLOSE: bad reason text");
		break;
	case MCD_MSG_STOP:
		out->u.stop.grace_ms = get_u32(payload);
		out->u.stop.session_id = decode_sid(&c, 0);
		if (!out->u.stop.session_id)
			rc = fail(err, errlen, "STOP: bad session id");
		break;
	case MCD_MSG_STATUS: {
		struct mcd_status *s = &out->u.status;

		s->state = get_u32(payload);
		s->pid = (int32_t)get_u32(payload + 4);
		s->exit_code = (int32_t)get_u32(payload + 8);
		s->exit_signal = get_u32(payload + 12);
		s->session_id = decode_sid(&c, 1);
		if (s->state > MCD_AGENT_STATE_MAX)
			rc = fail(err, errlen, "STATUS: unknown state %u", s->state);
		else if (!s->session_id)
			rc = fail(err, errlen, "STATUS: bad session id");
		else if ((s->state == MCD_AGENT_IDLE) != (s->session_id[0] == '\0'))
			rc = fail(err, errlen, "STATUS: session id does not match state");
		else if (s->state == MCD_AGENT_RUNNING && s->pid <= 0)
			rc = fail(err, errlen, "STATUS: running with pid %d", s->pid);
		else if (s->exit_signal > 128)
			rc = fail(err, errlen, "STATUS: bad signal %u", s->exit_signal);
		else if (s->state == MCD_AGENT_EXITED &&
			 !valid_exit(s->exit_code, s->exit_signal))
			rc = fail(err, errlen, "STATUS: bad exit status %d/%u",
				  s->exit_code, s->exit_signal);
		break;
	}
	case MCD_MSG_STARTED:
		out->u.started.pid = (int32_t)get_u32(payload);
		out->u.started.session_id = decode_sid(&c, 0);
		if (out->u.started.pid <= 0)
			rc = fail(err, errlen, "STARTED: bad pid %d", out->u.started.pid);
		else if (!out->u.started.session_id)
			rc = fail(err, errlen, "STARTED: bad session id");
		break;
	case MCD_MSG_EXITED:
		out->u.exited.exit_code = (int32_t)get_u32(payload);
		out->u.exited.exit_signal = get_u32(payload + 4);
		out->u.exited.session_id = decode_sid(&c, 0);
		if (!out->u.exited.session_id)
			rc = fail(err, errlen, "EXITED: bad session id");
		else if (!valid_exit(out->u.exited.exit_code,
				     out->u.exited.exit_signal))
			rc = fail(err, errlen, "EXITED: bad exit status %d/%u",
				  out->u.exited.exit_code,
				  out->u.exited.exit_signal);
		break;
	case MCD_MSG_FAILED:
		out->u.failed.code = get_u32(payload);
		out->u.failed.session_id = decode_sid(&c, 0);
		out->u.failed.reason = next_str(&c, MCD_MAX_REASON_LEN);
		if (out->u.failed.code == 0 || out->u.failed.code > MCD_FAIL_MAX)
			rc = fail(err, errlen, "FAILED: unknown code %u", out->u.failed.code);
		else if (!out->u.failed.session_id)
			rc = fail(err, errlen, "FAILED: bad session id");
		else if (!out->u.failed.reason || !mcd_valid_reason(out->u.failed.reason))
			rc = fail(err, errlen, "FAILED: bad reason text");
		break;
	}
	if (rc == 0 && c.p != c.end && type != MCD_MSG_HELLO)
		rc = fail(err, errlen, "%s: %zu trailing bytes", r->name,
			  (size_t)(c.end - c.p));
	return rc;
}

/* ---- encoding ---- */

struct out {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
};

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void out_u32(struct out *o, uint32_t v)
{
	uint8_t b[4];

	put_u32(b, v);
	out_bytes(o, b, 4);
}

static void out_u16(struct out *o, uint16_t v)
{
	uint8_t b[2];

	put_u16(b, v);
	out_bytes(o, b, 2);
}

static void out_str(struct out *o, const char *s)
{
	out_bytes(o, s ? s : "", strlen(s ? s : "") + 1);
}

static void encode_payload(const struct mcd_msg *m, struct out *o)
{
	switch (m->type) {
	case MCD_MSG_HELLO:
		out_u16(o, m->u.hello.version_min);
		out_u16(o, m->u.hello.version_max);
		out_bytes(o, &m->u.hello.role, 1);
		out_bytes(o, m->u.hello.reserved, 3);
		break;
	case MCD_MSG_LAUNCH:
	case MCD_MSG_LAUNCH2: {
		int v2 = m->type == MCD_MSG_LAUNCH2;

		/* Refuse rather than truncate a count or invent an empty string. */
		if (m->u.launch.argc > MCD_MAX_ARGS || m->u.launch.envc > MCD_MAX_ENV ||
		    m->u.launch.sharec > MCD_MAX_SHARES || (!v2 && m->u.launch.sharec)) {
			o->overflow = 1;
			return;
		}
		for (unsigned i = 0; i < m->u.launch.argc; i++)
			if (!m->u.launch.argv[i])
				o->overflow = 1;
		for (unsigned i = 0; i < m->u.launch.envc; i++)
			if (!m->u.launch.env[i])
				o->overflow = 1;
		out_u32(o, m->u.launch.flags);
		out_u16(o, (uint16_t)m->u.launch.argc);
		out_u16(o, (uint16_t)m->u.launch.envc);
		if (v2) {
			out_u16(o, (uint16_t)m->u.launch.sharec);
			out_u16(o, 0);
		}
		out_str(o, m->u.launch.session_id);
		out_str(o, m->u.launch.user);
		out_str(o, m->u.launch.display);
		if (v2) {
			out_str(o, m->u.launch.xcookie);
			out_str(o, m->u.launch.volume);
		}
		for (unsigned i = 0; i < m->u.launch.argc; i++)
			out_str(o, m->u.launch.argv[i]);
		for (unsigned i = 0; i < m->u.launch.envc; i++)
			out_str(o, m->u.launch.env[i]);
		for (unsigned i = 0; v2 && i < m->u.launch.sharec; i++) {
			const struct mcd_share *sh = &m->u.launch.share[i];

			out_str(o, sh->kind);
			out_str(o, sh->source);
			out_str(o, sh->mount_name);
			out_str(o, sh->user);
			out_str(o, sh->password);
		}
		break;
	}
	case MCD_MSG_STOP:
		out_u32(o, m->u.stop.grace_ms);
		out_str(o, m->u.stop.session_id);
		break;
	case MCD_MSG_STATUS:
		out_u32(o, m->u.status.state);
		out_u32(o, (uint32_t)m->u.status.pid);
		out_u32(o, (uint32_t)m->u.status.exit_code);
		out_u32(o, m->u.status.exit_signal);
		out_str(o, m->u.status.session_id);
		break;
	case MCD_MSG_STARTED:
		out_u32(o, (uint32_t)m->u.started.pid);
		out_str(o, m->u.started.session_id);
		break;
	case MCD_MSG_EXITED:
		out_u32(o, (uint32_t)m->u.exited.exit_code);
		out_u32(o, m->u.exited.exit_signal);
		out_str(o, m->u.exited.session_id);
		break;
	case MCD_MSG_FAILED:
		out_u32(o, m->u.failed.code);
		out_str(o, m->u.failed.session_id);
		out_str(o, m->u.failed.reason);
		break;
	case MCD_MSG_READY:
		out_str(o, m->u.ready.session_id);
		break;
	case MCD_MSG_X_OPEN:
		out_u32(o, m->u.x.conn);
		break;
	case MCD_MSG_X_DATA:
		out_u32(o, m->u.x.conn);
		if (!m->u.x.data || m->u.x.len == 0 || m->u.x.len > MCD_MAX_X_DATA)
			o->overflow = 1;
		else
			out_bytes(o, m->u.x.data, m->u.x.len);
		break;
	case MCD_MSG_X_ACK:
		out_u32(o, m->u.x.conn);
		out_u32(o, m->u.x.ack);
		break;
	case MCD_MSG_X_CLOSE:
		out_u32(o, m->u.x.conn);
		out_str(o, m->u.x.reason);
		break;
	case MCD_MSG_W_XCONF:
		out_u32(o, m->u.wxconf.port);
		out_u32(o, m->u.wxconf.tls);
		out_str(o, m->u.wxconf.display);
		out_str(o, m->u.wxconf.host);
		out_str(o, m->u.wxconf.addr);
		break;
	case MCD_MSG_W_XNOTE:
		out_u32(o, m->u.wxnote.kind);
		out_str(o, m->u.wxnote.text);
		break;
	default:
		o->overflow = 1;
	}
}

int mcd_encode(const struct mcd_msg *msg, uint8_t *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap, .len = MCD_HDR_LEN };
	struct mcd_msg check;
	enum mcd_dir from;
	size_t plen;

	if (cap < MCD_HDR_LEN)
		return -1;
	encode_payload(msg, &o);
	if (o.overflow)
		return -1;
	plen = o.len - MCD_HDR_LEN;
	/* Never send what the peer's decoder would refuse: it would drop us. */
	if (msg->type == MCD_MSG_HELLO)
		from = msg->u.hello.role == MCD_ROLE_DOM0 ? MCD_DIR_TO_GUEST
							  : MCD_DIR_TO_DOM0;
	else if (msg->type == MCD_MSG_W_XCONF)
		from = MCD_DIR_TO_WORKER;
	else if (msg->type == MCD_MSG_W_XNOTE)
		from = MCD_DIR_FROM_WORKER;
	else
		from = msg->type < MCD_MSG_STATUS ? MCD_DIR_TO_GUEST
						  : MCD_DIR_TO_DOM0;
	if (mcd_decode(msg->type, from, buf + MCD_HDR_LEN, plen, &check, NULL,
		       0) < 0)
		return -1;
	put_u32(buf, msg->type);
	put_u32(buf + 4, (uint32_t)plen);
	return (int)o.len;
}

/* ---- frame reader ---- */

/*
 * A reader that has reported a protocol error stays failed until
 * mcd_rx_init(): a caller that keeps reading after -1 neither resynchronises
 * on the peer's bytes nor gets a `want` computed from a refused header.
 */
#define RX_FAILED ((size_t)-1)

static int rx_fail(struct mcd_rx *rx)
{
	rx->have = RX_FAILED;
	return -1;
}

void mcd_rx_init(struct mcd_rx *rx)
{
	rx->have = 0;
	rx->hdr.type = 0;
	rx->hdr.len = 0;
}

uint8_t *mcd_rx_space(struct mcd_rx *rx, size_t *want)
{
	if (rx->have == RX_FAILED) {
		*want = MCD_HDR_LEN;
		return rx->buf;
	}
	/* A whole frame was handed out last time: start the next one. */
	if (rx->have >= MCD_HDR_LEN && rx->have == MCD_HDR_LEN + rx->hdr.len)
		rx->have = 0;
	if (rx->have < MCD_HDR_LEN)
		*want = MCD_HDR_LEN - rx->have;
	else
		*want = MCD_HDR_LEN + rx->hdr.len - rx->have;
	return rx->buf + rx->have;
}

int mcd_rx_commit(struct mcd_rx *rx, size_t n, enum mcd_dir from,
		  struct mcd_msg *out, char *err, size_t errlen)
{
	size_t want;

	if (rx->have == RX_FAILED)
		return fail(err, errlen, "reader already failed");
	mcd_rx_space(rx, &want);
	if (n > want) {
		fail(err, errlen, "reader overrun");
		return rx_fail(rx);
	}
	rx->have += n;
	if (rx->have < MCD_HDR_LEN)
		return 0;
	if (rx->have == MCD_HDR_LEN) {
		mcd_hdr_parse(rx->buf, &rx->hdr);
		if (mcd_check_header(&rx->hdr, from, err, errlen) < 0)
			return rx_fail(rx);
	}
	if (rx->have < MCD_HDR_LEN + rx->hdr.len)
		return 0;
	if (mcd_decode(rx->hdr.type, from, rx->buf + MCD_HDR_LEN, rx->hdr.len,
		       out, err, errlen) < 0)
		return rx_fail(rx);
	return 1;
}

int mcd_hello_negotiate(const struct mcd_hello *mine,
			const struct mcd_hello *peer)
{
	unsigned lo = mine->version_min > peer->version_min ? mine->version_min
							    : peer->version_min;
	unsigned hi = mine->version_max < peer->version_max ? mine->version_max
							    : peer->version_max;

	return lo <= hi ? (int)hi : -1;
}
