/*
 * mcd_xs.h - MCD's XenStore layout, as C constants.
 *
 * SCHEMA.md beside this file documents every node for administrators (who
 * writes it, permissions, maximum length, lifetime); this header is the same
 * layout for the code, and mcd-schema-check enforces it on a live tree.
 *
 * Two areas:
 *   /mcd/...                          dom0 only.  Guests can neither read nor
 *                                     write it (permission "n0").
 *   /local/domain/<domid>/data/mcd/   the guest's own area.  Everything here is
 *                                     UNTRUSTED: dom0 reads it only through
 *                                     the validating helpers and never uses it
 *                                     for identity.
 * No secret (password, X cookie, share credential) is ever written to
 * XenStore; secrets travel in vchan messages only.
 */
#ifndef MCD_XS_H
#define MCD_XS_H

/* dom0 area. */
#define MCD_XS_ROOT          "/mcd"
#define MCD_XS_SESSIONS      "/mcd/sessions"
/* Warm pool: pre-booted idle domains, /mcd/pool/<sid>/<key>.  Keys: domid,
 * domain-name, template, state (see MCD_POOL_STATE_*), created.  A claimed
 * member's record moves to /mcd/sessions/<sid> in one transaction; the sid
 * and the domain name stay the same. */
#define MCD_XS_POOL          "/mcd/pool"
#define MCD_POOL_STATE_BOOTING "booting" /* domain being built, or its agent
					  * not connected yet */
#define MCD_POOL_STATE_READY   "ready"   /* agent connected and idle */
/* /mcd/sessions/<sid>/<key>; keys: */
#define MCD_XS_K_DOMID       "domid"       /* decimal domid */
#define MCD_XS_K_DOMNAME     "domain-name" /* mcd-<sid> */
#define MCD_XS_K_TEMPLATE    "template"    /* template name */
#define MCD_XS_K_USER        "user"
#define MCD_XS_K_DISPLAY     "display"
#define MCD_XS_K_COMMAND     "command"     /* argv, shell-quoted, for admins */
#define MCD_XS_K_STATE       "state"       /* see MCD_SESSION_STATE_* */
#define MCD_XS_K_CREATED     "created"     /* unix seconds */
#define MCD_XS_K_PID         "pid"         /* app pid in the guest */
#define MCD_XS_K_EXIT        "exit-status" /* "code N" or "signal N" */
#define MCD_XS_K_ERROR       "error"       /* one-line reason of a failure */
#define MCD_XS_K_VOLUME      "volume"      /* dom0 path of the user's volume
					    * the session holds (launch
					    * --volume); not a secret */
#define MCD_XS_K_XMODE       "x"           /* X mode: relay, direct or none */
#define MCD_XS_K_XTLS        "x-tls"       /* relay over TLS: thin client port */
#define MCD_XS_K_XREADY      "x-ready"     /* "1": first window shown */

/* Value limits in bytes (SCHEMA.md; mcd-schema-check enforces them). */
#define MCD_XS_MAX_TEMPLATE  64    /* [A-Za-z0-9][A-Za-z0-9_.-]*, no ".." */
#define MCD_XS_MAX_COMMAND   1024  /* a longer quoted argv ends in "..." */
#define MCD_XS_MAX_ERROR     256   /* printable ASCII, one line */
#define MCD_XS_MAX_VOLUME    255   /* absolute path, [A-Za-z0-9/._-] */

/* Session states, in the order a session goes through them. */
#define MCD_SESSION_STATE_QUEUED     "queued"     /* waiting for a boot slot
						   * or (launch --wait) for
						   * room: nothing built */
#define MCD_SESSION_STATE_CREATING   "creating"   /* domain being built */
#define MCD_SESSION_STATE_CONNECTING "connecting" /* waiting for the agent */
#define MCD_SESSION_STATE_RUNNING    "running"    /* app started */
#define MCD_SESSION_STATE_ENDING     "ending"     /* app stopping, domain
						   * being destroyed */

/* Guest area, relative to /local/domain/<domid>. */
#define MCD_XS_GUEST_DIR     "data/mcd"
#define MCD_XS_GUEST_VCHAN   "data/mcd/vchan"   /* libxenvchan ring-ref and
						 * event-channel */
#define MCD_XS_GUEST_AGENT   "data/mcd/agent"   /* "<version> <os>" hint */
#define MCD_XS_GUEST_MAX_VALUE 64 /* dom0 reads no more than this from a
				   * guest node */

/* Domains MCD creates are named with this prefix and the session id. */
#define MCD_DOMAIN_PREFIX    "mcd-"

/* XenStore's own limit on one value. */
#define MCD_XS_MAX_VALUE     4096

#endif /* MCD_XS_H */
