/*
 * store.c - session records in XenStore.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "log.h"
#include "mcd_proto.h"
#include "mcd_xs.h"

static void key_path(char *p, size_t n, const char *area, const char *sid,
		     const char *key)
{
	snprintf(p, n, "%s/%s/%s", area, sid, key);
}

int store_init(struct xs_handle *xs)
{
	/* Owner dom0, no access for anyone else; children inherit it. */
	struct xs_permissions perm = { .id = 0, .perms = XS_PERM_NONE };
	static const char *const dirs[] = { MCD_XS_ROOT, MCD_XS_SESSIONS,
					    MCD_XS_POOL };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!xs_mkdir(xs, XBT_NULL, dirs[i]) ||
		    !xs_set_permissions(xs, XBT_NULL, dirs[i], &perm, 1)) {
			log_warn("xenstore: cannot create %s", dirs[i]);
			return -1;
		}
	}
	return 0;
}

static int write_key(struct xs_handle *xs, xs_transaction_t t,
		     const char *area, const char *sid, const char *key,
		     const char *value)
{
	char p[128];

	key_path(p, sizeof(p), area, sid, key);
	return xs_write(xs, t, p, value, strlen(value)) ? 0 : -1;
}

/* The keys of a new record, written inside transaction t. */
static int write_rec(struct xs_handle *xs, xs_transaction_t t,
		     const char *area, const struct store_rec *r)
{
	int pool = strcmp(area, MCD_XS_POOL) == 0;
	char num[32];
	int bad = 0;

	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_DOMNAME, r->domain_name);
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_TEMPLATE, r->template);
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_STATE, r->state);
	snprintf(num, sizeof(num), "%lld", r->created);
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_CREATED, num);
	if (r->domid >= 0) {
		snprintf(num, sizeof(num), "%d", r->domid);
		bad |= write_key(xs, t, area, r->sid, MCD_XS_K_DOMID, num);
	}
	if (pool && r->user[0]) /* kept for its user */
		bad |= write_key(xs, t, area, r->sid, MCD_XS_K_USER, r->user);
	if (pool)
		return bad;
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_USER, r->user);
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_DISPLAY, r->display);
	bad |= write_key(xs, t, area, r->sid, MCD_XS_K_COMMAND, r->command);
	if (r->volume[0])
		bad |= write_key(xs, t, area, r->sid, MCD_XS_K_VOLUME, r->volume);
	if (r->xmode[0])
		bad |= write_key(xs, t, area, r->sid, MCD_XS_K_XMODE, r->xmode);
	if (r->xtls) {
		snprintf(num, sizeof(num), "%u", r->xtls);
		bad |= write_key(xs, t, area, r->sid, MCD_XS_K_XTLS, num);
	}
	return bad;
}

/* Run one transaction, retrying while XenStore says it raced: write the
 * record in area and, if move_from is set, remove it from there. */
static int in_transaction(struct xs_handle *xs, const char *area,
			  const struct store_rec *r, const char *move_from)
{
	for (int tries = 0; tries < 5; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		char p[128];
		int bad;

		if (t == XBT_NULL)
			break;
		bad = write_rec(xs, t, area, r);
		if (move_from) {
			snprintf(p, sizeof(p), "%s/%s", move_from, r->sid);
			bad |= !xs_rm(xs, t, p);
		}
		if (bad) {
			xs_transaction_end(xs, t, true);
			break;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			break;
	}
	log_warn("xenstore: cannot record %s in %s", r->sid, area);
	return -1;
}

int store_create(struct xs_handle *xs, const char *area,
		 const struct store_rec *r)
{
	return in_transaction(xs, area, r, NULL);
}

int store_claim(struct xs_handle *xs, const struct store_rec *r)
{
	return in_transaction(xs, MCD_XS_SESSIONS, r, MCD_XS_POOL);
}

int store_keep(struct xs_handle *xs, const struct store_rec *r)
{
	return in_transaction(xs, MCD_XS_POOL, r, MCD_XS_SESSIONS);
}

int store_set(struct xs_handle *xs, const char *area, const char *sid,
	      const char *key, const char *value)
{
	if (write_key(xs, XBT_NULL, area, sid, key, value) < 0) {
		log_warn("xenstore: cannot set %s of session %s", key, sid);
		return -1;
	}
	return 0;
}

int store_set_int(struct xs_handle *xs, const char *area, const char *sid,
		  const char *key, long long value)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", value);
	return store_set(xs, area, sid, key, v);
}

int store_remove(struct xs_handle *xs, const char *area, const char *sid)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", area, sid);
	if (!xs_rm(xs, XBT_NULL, p) && errno != ENOENT) {
		log_warn("xenstore: cannot remove %s", p);
		return -1;
	}
	return 0;
}

static void read_key(struct xs_handle *xs, const char *area, const char *sid,
		     const char *key, char *out, size_t outlen)
{
	char p[128];
	unsigned len;
	char *v;

	out[0] = '\0';
	key_path(p, sizeof(p), area, sid, key);
	v = xs_read(xs, XBT_NULL, p, &len);
	if (!v)
		return;
	snprintf(out, outlen, "%s", v);
	free(v);
}

static long long read_num(struct xs_handle *xs, const char *area,
			  const char *sid, const char *key, long long dflt)
{
	char v[32], *end;
	long long n;

	read_key(xs, area, sid, key, v, sizeof(v));
	if (!v[0])
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	return (errno || *end) ? dflt : n;
}

int store_read(struct xs_handle *xs, const char *area, const char *sid,
	       struct store_rec *r)
{
	char p[128];
	unsigned len;
	char *v;

	memset(r, 0, sizeof(*r));
	snprintf(p, sizeof(p), "%s/%s", area, sid);
	v = xs_read(xs, XBT_NULL, p, &len);
	if (!v)
		return -1;
	free(v);
	snprintf(r->sid, sizeof(r->sid), "%s", sid);
	r->domid = (int)read_num(xs, area, sid, MCD_XS_K_DOMID, -1);
	read_key(xs, area, sid, MCD_XS_K_DOMNAME, r->domain_name, sizeof(r->domain_name));
	read_key(xs, area, sid, MCD_XS_K_TEMPLATE, r->template, sizeof(r->template));
	read_key(xs, area, sid, MCD_XS_K_USER, r->user, sizeof(r->user));
	read_key(xs, area, sid, MCD_XS_K_DISPLAY, r->display, sizeof(r->display));
	read_key(xs, area, sid, MCD_XS_K_COMMAND, r->command, sizeof(r->command));
	read_key(xs, area, sid, MCD_XS_K_STATE, r->state, sizeof(r->state));
	r->created = read_num(xs, area, sid, MCD_XS_K_CREATED, 0);
	r->pid = (int)read_num(xs, area, sid, MCD_XS_K_PID, 0);
	read_key(xs, area, sid, MCD_XS_K_EXIT, r->exit_status, sizeof(r->exit_status));
	read_key(xs, area, sid, MCD_XS_K_ERROR, r->error, sizeof(r->error));
	read_key(xs, area, sid, MCD_XS_K_VOLUME, r->volume, sizeof(r->volume));
	read_key(xs, area, sid, MCD_XS_K_XMODE, r->xmode, sizeof(r->xmode));
	r->xtls = (unsigned)read_num(xs, area, sid, MCD_XS_K_XTLS, 0);
	r->xready = read_num(xs, area, sid, MCD_XS_K_XREADY, 0) == 1;
	return 0;
}

char **store_list(struct xs_handle *xs, const char *area, unsigned *n)
{
	char **names = xs_directory(xs, XBT_NULL, area, n);
	char **out;
	unsigned k = 0;

	if (!names) {
		*n = 0;
		return NULL;
	}
	/* xs_directory returns one allocation; hand out separate strings and
	 * drop anything that is not a session id. */
	out = calloc(*n + 1, sizeof(*out));
	for (unsigned i = 0; out && i < *n; i++)
		if (strlen(names[i]) == MCD_SESSION_ID_LEN)
			out[k++] = strdup(names[i]);
	free(names);
	*n = k;
	return out;
}

/* Characters that need no quoting in a POSIX shell word. */
static int shell_safe(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789@%+=:,./-_", *s))
			return 0;
	return 1;
}

void store_quote_argv(char *out, size_t outlen, const char *const *argv)
{
	size_t len = 0;
	int trunc = 0;

	out[0] = '\0';
	for (size_t i = 0; argv[i] && !trunc; i++) {
		char word[MCD_XS_MAX_VALUE];
		size_t w = 0;
		const char *s = argv[i];

		if (shell_safe(s)) {
			w = (size_t)snprintf(word, sizeof(word), "%s", s);
		} else {
			word[w++] = '\'';
			for (; *s && w < sizeof(word) - 6; s++) {
				if (*s == '\'') {
					memcpy(word + w, "'\\''", 4);
					w += 4;
				} else {
					word[w++] = *s;
				}
			}
			word[w++] = '\'';
			word[w] = '\0';
		}
		if (len + (i ? 1 : 0) + w + 4 > outlen) {
			trunc = 1;
			break;
		}
		len += (size_t)snprintf(out + len, outlen - len, "%s%s",
					i ? " " : "", word);
	}
	if (trunc)
		snprintf(out + len, outlen - len, "...");
}
