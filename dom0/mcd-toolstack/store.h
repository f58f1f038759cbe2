/*
 * store.h - session records in XenStore (/mcd/sessions/<sid>/...).
 *
 * XenStore is the durable state of the dom0 service: a restarted service
 * rebuilds its sessions from here, and admins read it with xenstore-ls.  Only
 * dom0 can read or write /mcd (permission "n0"); the layout is documented in
 * xenstore-schema/SCHEMA.md.  Each launch costs one transaction with a fixed
 * number of writes, whatever the number of running sessions.
 */
#ifndef MCD_STORE_H
#define MCD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct xs_handle;

/* One session as recorded in XenStore.  Missing keys read as "". */
struct store_rec {
	char sid[17];
	int domid;              /* -1 until the domain exists */
	char domain_name[32];
	char template[65];
	char user[33];
	char display[65];
	char command[1025];
	char state[16];
	long long created;
	int pid;                /* 0 until started */
	char exit_status[32];
	char error[257];
	char volume[256];       /* "" unless the session holds a volume */
	char xmode[8];          /* "relay", "direct", "none"; "" if unknown */
	unsigned xtls;          /* TLS port of the X relay, 0 for none */
	int xready;             /* READY came */
};

/*
 * Records live in one of two areas, passed as `area`: MCD_XS_SESSIONS for
 * sessions, MCD_XS_POOL for warm-pool members (see mcd_xs.h).
 */

/* Create /mcd, /mcd/sessions and /mcd/pool with dom0-only permissions. */
int store_init(struct xs_handle *xs);
/* Write a new record in one transaction.  A pool record uses only sid,
 * domid, domain_name, template, state, created and (when kept for a user)
 * user. */
int store_create(struct xs_handle *xs, const char *area,
		 const struct store_rec *r);
/* Turn pool member r->sid into session r in one transaction: the session
 * record appears and the pool record disappears together. */
int store_claim(struct xs_handle *xs, const struct store_rec *r);
/* The reverse, for a domain kept for its user: session r->sid becomes a
 * pool record with r->user set, in one transaction. */
int store_keep(struct xs_handle *xs, const struct store_rec *r);
/* Set one key of a record. */
int store_set(struct xs_handle *xs, const char *area, const char *sid,
	      const char *key, const char *value);
int store_set_int(struct xs_handle *xs, const char *area, const char *sid,
		  const char *key, long long value);
/* Remove a record's whole subtree; ok if it is already gone. */
int store_remove(struct xs_handle *xs, const char *area, const char *sid);
/* Read one record; returns 0, or -1 if it does not exist. */
int store_read(struct xs_handle *xs, const char *area, const char *sid,
	       struct store_rec *r);
/* List record ids; returns a malloc'd array (free each and the array) and
 * sets *n, or NULL with *n = 0. */
char **store_list(struct xs_handle *xs, const char *area, unsigned *n);
/* Shell-quote argv into out (for the `command` node), truncating with
 * "..." so it never exceeds outlen - 1 bytes. */
void store_quote_argv(char *out, size_t outlen, const char *const *argv);

#endif /* MCD_STORE_H */
