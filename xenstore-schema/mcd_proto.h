/*
 * mcd_proto.h - the MCD wire format between the dom0 toolstack and the
 * in-guest agents (Linux daemon and Windows service).
 *
 * This header is the whole contract for bytes on the vchan.  dom0, both
 * agents and the test tools compile the same mcd_proto.c; there is no second
 * copy of the format anywhere.
 *
 * Framing: every message is an 8-byte header followed by `len` payload bytes.
 * All integers are little-endian.  The header is checked against the message
 * table (type known, sent in the right direction, length within the type's
 * bounds) BEFORE any payload byte is read, so an oversized or unknown frame
 * never makes the receiver buffer more than MCD_MAX_PAYLOAD bytes.  A frame
 * that fails any check is a protocol error: the receiver drops the peer and
 * never tries to resynchronise.
 *
 * Session flow (the agent is the vchan server, dom0 the client):
 *
 *   dom0                          agent
 *    |--- HELLO ------------------->|   both send HELLO first; each side
 *    |<-------------------- HELLO --|   uses min(own max, peer max) and
 *    |<------------------- STATUS --|   refuses a peer without overlap.
 *    |--- LAUNCH ------------------>|   (only when the agent is idle)
 *    |<------------ STARTED / FAILED|
 *    |<-------------------- READY --|   (X modes: first window mapped)
 *    |--- STOP -------------------->|   (optional: end the app)
 *    |<------------------- EXITED --|
 *
 * X11 relay (version 2, LAUNCH2 with MCD_LAUNCH_X_RELAY): the agent offers
 * the app a local display and carries each X client connection over the
 * channel.  The agent opens a connection (X_OPEN with an id it chose); dom0
 * connects to the session's thin client (its own record of the display,
 * never an address from the guest) and both sides then exchange X_DATA.
 * Either side ends a connection with X_CLOSE.  Flow control is by credit:
 * a side may have at most MCD_X_WINDOW bytes of X_DATA on one connection
 * that the peer has not yet acknowledged with X_ACK (sent once the bytes
 * were written to the local socket); a peer that goes over is dropped.
 * That bounds every buffer without ever blocking the channel, so a slow
 * X server cannot stall control messages.
 *
 * Inside dom0 (never on a vchan): the service runs each session's
 * guest-facing side in an unprivileged worker process (dom0/mcd-toolstack/
 * worker.h).  The service and its worker speak this same format over a
 * socketpair: the worker passes the agent's frames on unchanged once they
 * decoded, keeps the X relay (X_*) to itself, and the two add two
 * frames of their own, W_XCONF and W_XNOTE, with directions of their own
 * (MCD_DIR_TO_WORKER, MCD_DIR_FROM_WORKER) that no guest can use.
 *
 * After a reconnect (dom0 service restarted) the agent's STATUS tells dom0
 * what happened while nobody was listening (still running, or exited).
 *
 * Versions:
 *   1  first version: HELLO, STATUS, LAUNCH, STOP, STARTED, EXITED, FAILED.
 *   2  LAUNCH2 (X mode and cookie, per-user volume, network shares), READY,
 *      X_OPEN, X_DATA, X_ACK, X_CLOSE; FAILED codes DISPLAY and STORAGE.
 *      A message of a later version than the one negotiated is a protocol
 *      error (mcd_msg_version()).
 */
#ifndef MCD_PROTO_H
#define MCD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MCD_PROTO_VERSION_MIN 1
#define MCD_PROTO_VERSION_MAX 2

/* Header: type and payload length, both u32 little-endian. */
#define MCD_HDR_LEN 8
struct mcd_hdr {
	uint32_t type;
	uint32_t len;
};
_Static_assert(sizeof(struct mcd_hdr) == MCD_HDR_LEN, "wire header is 8 bytes");

/*
 * Limits.  A LAUNCH is the largest message; 16 KiB holds a command line far
 * longer than any desktop application needs while keeping the per-channel
 * buffer small.  Each string limit is what the corresponding OS accepts.
 */
#define MCD_MAX_PAYLOAD   16384
#define MCD_MAX_ARGS      64     /* argv entries, including argv[0] */
#define MCD_MAX_ARG_LEN   1024   /* one argv entry, without the NUL */
#define MCD_MAX_ENV       32     /* extra KEY=VALUE entries */
#define MCD_MAX_ENV_LEN   1024
#define MCD_MAX_USER_LEN  32     /* POSIX useradd limit */
#define MCD_MAX_DISPLAY_LEN 64   /* host:display.screen */
#define MCD_MAX_REASON_LEN 256   /* FAILED reason text */
#define MCD_SESSION_ID_LEN 16    /* lowercase hex, 64 random bits */
#define MCD_XCOOKIE_LEN   32     /* MIT-MAGIC-COOKIE-1: 16 bytes in hex */
#define MCD_MAX_VDEV_LEN  8      /* "xvdb".."xvdz" */
#define MCD_MAX_SHARES    4      /* network shares per launch */
#define MCD_MAX_SHARE_SRC 255    /* "host:/export" or "//host/share/dir" */
#define MCD_MAX_MOUNT_NAME 64    /* directory under the user's home */
#define MCD_MAX_SHARE_USER 64    /* account on the share's server */
#define MCD_MAX_SECRET_LEN 128   /* share password */
#define MCD_MAX_X_CONNS   32     /* open relayed X connections per session */
#define MCD_X_WINDOW      (256 * 1024) /* unacknowledged X_DATA per conn */
/* A receiver may hold back X_ACK until this many written bytes are owed,
 * or until it sends X_DATA on the same connection (then the X_ACK goes
 * first): a round trip then wakes each side once, not twice.  The sender
 * can never stall on it: with less than this owed, at least three
 * quarters of its window are either free or still waiting to be written
 * by the receiver. */
#define MCD_X_ACK_BATCH   (MCD_X_WINDOW / 4)
#define MCD_MAX_X_DATA    (MCD_MAX_PAYLOAD - 4)

/* Who sent a frame; each type may only travel one way (or both). */
enum mcd_dir {
	MCD_DIR_TO_GUEST = 1, /* dom0 -> agent */
	MCD_DIR_TO_DOM0 = 2,  /* agent -> dom0 */
	/* Inside dom0 only.  TO_WORKER carries what dom0 sends the agent
	 * (but X_*) plus W_XCONF; FROM_WORKER what the agent sends dom0
	 * (but X_*) plus W_XNOTE. */
	MCD_DIR_TO_WORKER = 4,   /* service -> session worker */
	MCD_DIR_FROM_WORKER = 8, /* session worker -> service */
};

enum mcd_msg_type {
	/* Both directions. */
	MCD_MSG_HELLO = 0x01,   /* fixed 8 bytes: see struct mcd_hello */

	/* dom0 -> agent. */
	MCD_MSG_LAUNCH = 0x10,  /* u32 flags, u16 argc, u16 envc, then NUL-
				 * terminated: session id, user, display,
				 * argv[argc], env[envc] */
	MCD_MSG_STOP = 0x11,    /* u32 grace_ms, then NUL-terminated session id */
	MCD_MSG_LAUNCH2 = 0x12, /* v2: u32 flags, u16 argc, u16 envc, u16
				 * sharec, u16 zero, then NUL-terminated:
				 * session id, user, display, X cookie ("" for
				 * none), volume vdev ("" for none), argv[argc],
				 * env[envc], and per share: kind, source,
				 * mount name, user name, password */

	/* agent -> dom0. */
	MCD_MSG_STATUS = 0x20,  /* u32 state, i32 pid, i32 exit_code,
				 * u32 exit_signal, then NUL-terminated session
				 * id ("" when idle) */
	MCD_MSG_STARTED = 0x21, /* i32 pid, then NUL-terminated session id */
	MCD_MSG_EXITED = 0x22,  /* i32 exit_code, u32 exit_signal, then NUL-
				 * terminated session id */
	MCD_MSG_FAILED = 0x23,  /* u32 code (enum mcd_fail), then NUL-terminated
				 * session id and reason */
	MCD_MSG_READY = 0x24,   /* v2: NUL-terminated session id; the app's
				 * first window is mapped on the thin client */
	MCD_MSG_X_OPEN = 0x30,  /* v2, agent -> dom0: u32 conn */

	/* Both directions (v2). */
	MCD_MSG_X_DATA = 0x31,  /* u32 conn, then 1..MCD_MAX_X_DATA bytes */
	MCD_MSG_X_ACK = 0x32,   /* u32 conn, u32 bytes written (1..window) */
	MCD_MSG_X_CLOSE = 0x33, /* u32 conn, then NUL-terminated reason ("" for
				 * a normal close) */

	/* Inside dom0 only (service <-> session worker), never versioned. */
	MCD_MSG_W_XCONF = 0x40, /* service -> worker: u32 port, u32 tls (0/1),
				 * then NUL-terminated display, host (names the
				 * thin client for TLS and messages) and its
				 * numeric address: the relay's target, resolved
				 * by the service */
	MCD_MSG_W_XNOTE = 0x41, /* worker -> service: u32 kind (enum
				 * mcd_wx_kind), then NUL-terminated text */
};

/* What a W_XNOTE says. */
enum mcd_wx_kind {
	MCD_WX_LAST_ERROR = 1, /* the relay's latest reason for closing an X
				* connection it could not make (TLS refused,
				* say): names a display failure */
	MCD_WX_FAILED = 2,     /* the relay stopped: the guest broke its rules
				* or the channel failed; the worker exits */
	MCD_WX_LOG = 3,        /* a line for the service's log */
	MCD_WX_KIND_MAX = MCD_WX_LOG,
};
#define MCD_MAX_HOST_LEN 64      /* W_XCONF host and numeric address */

/* The agent's state as reported in STATUS. */
enum mcd_agent_state {
	MCD_AGENT_IDLE = 0,    /* no session; ready for LAUNCH */
	MCD_AGENT_RUNNING = 1, /* app of session id is running, pid valid */
	MCD_AGENT_EXITED = 2,  /* app exited while dom0 was away */
	MCD_AGENT_STATE_MAX = MCD_AGENT_EXITED,
};

/* Why a LAUNCH failed; the reason text gives the detail. */
enum mcd_fail {
	MCD_FAIL_BAD_REQUEST = 1, /* request did not validate */
	MCD_FAIL_NO_USER = 2,     /* unknown user and creation not allowed */
	MCD_FAIL_USER_DENIED = 3, /* user exists but may not run apps (uid 0) */
	MCD_FAIL_NO_PROGRAM = 4,  /* argv[0] missing or not executable */
	MCD_FAIL_EXEC = 5,        /* fork/setuid/exec failed */
	MCD_FAIL_BUSY = 6,        /* agent already runs a session */
	MCD_FAIL_INTERNAL = 7,
	MCD_FAIL_DISPLAY = 8,     /* v2: display unreachable or refused us */
	MCD_FAIL_STORAGE = 9,     /* v2: volume or share could not be mounted */
	MCD_FAIL_MAX = MCD_FAIL_STORAGE,
};

/* Roles in HELLO. */
enum mcd_role {
	MCD_ROLE_DOM0 = 1,
	MCD_ROLE_AGENT_LINUX = 2,
	MCD_ROLE_AGENT_WINDOWS = 3,
};

/* LAUNCH flags; none defined in version 1, so any set bit is refused. */
#define MCD_LAUNCH_FLAGS_KNOWN 0u
/*
 * LAUNCH2 flags.  With neither X flag the agent sets DISPLAY as given and
 * does nothing else about X (headless apps, tests).
 *  X_RELAY:  the agent serves a local display and relays it over the
 *            channel; the request's display is the thin client's, for
 *            dom0 (the agent does not use it).
 *  X_DIRECT: DISPLAY is the thin client itself, over the guest's network.
 * With either, the agent checks the display with libX11 before starting
 * the app and sends READY when the app's first window is mapped.
 */
#define MCD_LAUNCH_X_RELAY 0x1u
#define MCD_LAUNCH_X_DIRECT 0x2u
#define MCD_LAUNCH2_FLAGS_KNOWN (MCD_LAUNCH_X_RELAY | MCD_LAUNCH_X_DIRECT)

/*
 * Decoded messages.  Strings point into the receive buffer they were decoded
 * from and stay valid until the next frame is received on it.  Every string
 * has been validated by mcd_decode(): callers never re-check.
 */
struct mcd_hello {
	uint16_t version_min;
	uint16_t version_max;
	uint8_t role;         /* enum mcd_role */
	uint8_t reserved[3];  /* zero */
};

/* A network share for LAUNCH2.  kind "nfs": source "host:/export",
 * user and password empty.  kind "cifs": source "//host/share[/dir]";
 * user empty for a guest mount.  The agent mounts it on
 * $HOME/<mount_name>; the password travels only here. */
struct mcd_share {
	const char *kind;
	const char *source;
	const char *mount_name;
	const char *user;
	const char *password;
};

/* LAUNCH (v1) and LAUNCH2 decode into this; v1 leaves the v2 fields empty
 * ("" strings, no shares). */
struct mcd_launch {
	uint32_t flags;
	const char *session_id;
	const char *user;
	const char *display;
	const char *xcookie;  /* 32 lowercase hex digits, or "" */
	const char *volume;   /* guest disk name ("xvdc"), or "" */
	unsigned argc;
	const char *argv[MCD_MAX_ARGS + 1]; /* NULL-terminated */
	unsigned envc;
	const char *env[MCD_MAX_ENV + 1];   /* NULL-terminated */
	unsigned sharec;
	struct mcd_share share[MCD_MAX_SHARES];
};

struct mcd_ready {
	const char *session_id;
};

/* X_OPEN, X_DATA, X_ACK, X_CLOSE. */
struct mcd_x {
	uint32_t conn;
	uint32_t ack;         /* X_ACK: bytes acknowledged */
	const uint8_t *data;  /* X_DATA */
	uint32_t len;         /* X_DATA: 1..MCD_MAX_X_DATA */
	const char *reason;   /* X_CLOSE: printable, may be "" */
};

/* W_XCONF: where the session's relay goes (validated strings). */
struct mcd_wxconf {
	uint32_t port;
	uint32_t tls;
	const char *display;
	const char *host;
	const char *addr;     /* numeric IPv4 or IPv6 address */
};

/* W_XNOTE. */
struct mcd_wxnote {
	uint32_t kind;        /* enum mcd_wx_kind */
	const char *text;     /* printable, at most MCD_MAX_REASON_LEN */
};

struct mcd_stop {
	uint32_t grace_ms;
	const char *session_id;
};

struct mcd_status {
	uint32_t state;       /* enum mcd_agent_state */
	int32_t pid;
	int32_t exit_code;
	uint32_t exit_signal;
	const char *session_id; /* "" when idle */
};

struct mcd_started {
	int32_t pid;
	const char *session_id;
};

struct mcd_exited {
	int32_t exit_code;    /* -1 when killed by a signal */
	uint32_t exit_signal; /* 0 when it exited normally */
	const char *session_id;
};

struct mcd_failed {
	uint32_t code;        /* enum mcd_fail */
	const char *session_id;
	const char *reason;   /* printable ASCII */
};

struct mcd_msg {
	uint32_t type;        /* enum mcd_msg_type */
	union {
		struct mcd_hello hello;
		struct mcd_launch launch;
		struct mcd_stop stop;
		struct mcd_status status;
		struct mcd_started started;
		struct mcd_exited exited;
		struct mcd_failed failed;
		struct mcd_ready ready;
		struct mcd_x x;
		struct mcd_wxconf wxconf;
		struct mcd_wxnote wxnote;
	} u;
};

/*
 * Decode and validate one payload of the given type received from direction
 * `from`.  This is the single place where untrusted bytes become values.
 * Returns 0, or -1 with a one-line reason in err.
 */
int mcd_decode(uint32_t type, enum mcd_dir from, const uint8_t *payload,
	       size_t len, struct mcd_msg *out, char *err, size_t errlen);

/*
 * Check a header against the message table before its payload is read.
 * Returns 0, or -1 with a reason in err.
 */
int mcd_check_header(const struct mcd_hdr *h, enum mcd_dir from, char *err,
		     size_t errlen);

/* Parse 8 little-endian header bytes. */
void mcd_hdr_parse(const uint8_t raw[MCD_HDR_LEN], struct mcd_hdr *h);

/*
 * Encode msg (header and payload) into buf.  Returns the frame length, or -1
 * if msg would not pass mcd_decode() on the other side or does not fit.
 */
int mcd_encode(const struct mcd_msg *msg, uint8_t *buf, size_t cap);

/* The largest frame mcd_encode() can produce. */
#define MCD_MAX_FRAME (MCD_HDR_LEN + MCD_MAX_PAYLOAD)

/*
 * Receive state for one peer: feed it bytes, get whole validated messages.
 * Usage:
 *     size_t want; uint8_t *p = mcd_rx_space(&rx, &want);
 *     n = read(fd, p, want);          // never more than `want`
 *     r = mcd_rx_commit(&rx, n, from, &msg, err, sizeof err);
 *     // r == 1: msg valid (until the next mcd_rx_space), 0: need more,
 *     // -1: protocol error (drop the peer; the reader stays failed
 *     //     until mcd_rx_init())
 * `want` is never 0 and never crosses a frame boundary, so bytes of the next
 * frame are never consumed early.
 */
struct mcd_rx {
	size_t have;               /* bytes of the current frame so far */
	struct mcd_hdr hdr;        /* valid once have >= MCD_HDR_LEN */
	uint8_t buf[MCD_MAX_FRAME];
};

void mcd_rx_init(struct mcd_rx *rx);
uint8_t *mcd_rx_space(struct mcd_rx *rx, size_t *want);
int mcd_rx_commit(struct mcd_rx *rx, size_t n, enum mcd_dir from,
		  struct mcd_msg *out, char *err, size_t errlen);

/* The protocol version that introduced a message type (0 if unknown). */
unsigned mcd_msg_version(uint32_t type);

/* Version both peers speak, or -1 if their ranges do not overlap. */
int mcd_hello_negotiate(const struct mcd_hello *mine,
			const struct mcd_hello *peer);

/*
 * Validators shared by the decoder, the CLI and the agent so that a bad
 * value is refused with the same rule everywhere.  Each returns 1 if valid.
 */
int mcd_valid_session_id(const char *s);
int mcd_valid_user(const char *s);     /* [a-z_][a-z0-9_-]{0,31}, not root */
int mcd_valid_display(const char *s);  /* [host]:N[.M] */
int mcd_valid_program(const char *s);  /* absolute path, no "..", printable */
int mcd_valid_env(const char *s);      /* NAME=value, safe NAME */
int mcd_valid_reason(const char *s);   /* printable ASCII */
int mcd_valid_xcookie(const char *s);  /* 32 lowercase hex digits */
int mcd_valid_vdev(const char *s);     /* xvd[b-z] */
/* kind "nfs" or "cifs"; source by kind; mount name a plain file name;
 * user and password without control characters (and both empty for nfs).
 * Returns 1 if valid, else 0 with a reason in err. */
int mcd_valid_share(const struct mcd_share *sh, char *err, size_t errlen);

/* Names for logs and --json output. */
const char *mcd_msg_name(uint32_t type);
const char *mcd_fail_name(uint32_t code);
const char *mcd_agent_state_name(uint32_t state);

#endif /* MCD_PROTO_H */
