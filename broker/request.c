/*
 * request.c - one request of the Auth/App server; see request.h.
 */
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "limit.h"
#include "log.h"
#include "mcd_ticket.h"
#include "passwd.h"
#include "request.h"
#include "store.h"
#include "token.h"

struct req {
	SSL *ssl;
	const char *peer;
	const struct request_ctx *ctx;
	struct store *s;
	int64_t now;
	char user[MCD_SITE_USER_MAX + 1];   /* once known: for the log */
	uint32_t level;
	char result[MCD_SITE_TEXT_MAX + 32];
};

static int
send_frame(struct req *r, struct mcd_site_out *o)
{
	char err[256];

	if (mcd_site_finish(o, MCD_SITE_B2C, err, sizeof(err)) < 0) {
		log_warnx("%s: cannot encode %s: %s", r->peer,
			  mcd_site_type_name(o->buf[0] | o->buf[1] << 8), err);
		return -1;
	}
	if (mcd_tls_send(r->ssl, o, MCD_TLS_IO_MS, err, sizeof(err)) < 0) {
		snprintf(r->result, sizeof(r->result), "send failed: %s", err);
		return -1;
	}
	return 0;
}

/* The one way to refuse: an ERROR frame, and the same words in the log. */
static int
refuse(struct req *r, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
refuse(struct req *r, uint32_t code, const char *fmt, ...)
{
	char text[MCD_SITE_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(r->result, sizeof(r->result), "%s: %s",
		 mcd_site_err_name(code), text);
	mcd_tls_send_error(r->ssl, code, MCD_TLS_IO_MS, "%s", text);
	return 0;
}

static int
internal(struct req *r, const char *why)
{
	log_warnx("%s: %s", r->peer, why);
	return refuse(r, MCD_SITE_E_INTERNAL, "internal error");
}

/* The request's TOKEN names a logged-in user: fill r->user and r->level.
 * 0, or 1 after refusing. */
static int
auth_token(struct req *r, const struct mcd_site_msg *m)
{
	const char *token = mcd_site_str(m, MCD_ST_TOKEN);
	char hash[TOKEN_HASH_HEX + 1], err[256];
	struct store_user u;
	int rc;

	if (!token || token_hash(token, hash) < 0) {
		refuse(r, MCD_SITE_E_AUTH, "not logged in");
		return 1;
	}
	rc = store_token_user(r->s, hash, r->now, r->user, err, sizeof(err));
	if (rc == 0)
		rc = store_user_get(r->s, r->user, &u, err, sizeof(err));
	if (rc < 0) {
		internal(r, err);
		return 1;
	}
	if (rc) {
		refuse(r, MCD_SITE_E_AUTH, "login expired or unknown; log in again");
		return 1;
	}
	r->level = u.level;
	OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
	return 0;
}

/* --- LOGIN --- */

/* 1 when name and password match a user; the KDF runs in every case. */
static int
check_password(struct req *r, const char *name, const uint8_t *pw,
	       size_t pwlen, struct store_user *u, char *err, size_t errlen)
{
	int rc = mcd_site_valid_user(name) ?
		 store_user_get(r->s, name, u, err, errlen) : STORE_NOT_FOUND;

	if (rc < 0)
		return -1;
	if (rc == STORE_NOT_FOUND) {
		passwd_dummy(pw, pwlen);
		return 0;
	}
	rc = passwd_verify(pw, pwlen, u->pw_hash);
	OPENSSL_cleanse(u->pw_hash, sizeof(u->pw_hash));
	if (rc < 0)
		log_warnx("user %s: stored password hash does not parse", name);
	return rc == 1;
}

static int
login_ok(struct req *r, const struct store_user *u)
{
	char token[MCD_SITE_TOKEN_LEN + 1], hash[TOKEN_HASH_HEX + 1], err[256];
	struct mcd_site_out *o = malloc(sizeof(*o));
	int64_t expires = r->now + TOKEN_LIFE;
	int rc = -1;

	if (!o)
		return internal(r, "out of memory");
	if (token_new(token) < 0 || token_hash(token, hash) < 0) {
		free(o);
		return internal(r, "no random bytes for a token");
	}
	if (store_token_add(r->s, hash, u->name, expires, err, sizeof(err)) < 0) {
		internal(r, err);
		goto out;
	}
	mcd_site_begin(o, MCD_SITE_LOGIN_OK);
	mcd_site_put_str(o, MCD_ST_TOKEN, token);
	mcd_site_put_str(o, MCD_ST_USER, u->name);
	mcd_site_put_u32(o, MCD_ST_LEVEL, u->level);
	mcd_site_put_u32(o, MCD_ST_EXPIRES, (uint32_t)expires);
	rc = send_frame(r, o);
	if (rc == 0)
		snprintf(r->result, sizeof(r->result), "ok, level %u", u->level);
out:
	OPENSSL_cleanse(token, sizeof(token));
	mcd_site_out_wipe(o);
	free(o);
	return rc;
}

static int
do_login(struct req *r, const struct mcd_site_msg *m)
{
	const char *name = mcd_site_str(m, MCD_ST_USER);
	size_t pwlen = 0;
	const uint8_t *pw = mcd_site_bytes(m, MCD_ST_PASSWORD, &pwlen);
	struct store_user u;
	char err[MCD_SITE_TEXT_MAX + 1];
	int64_t wait;
	int rc;

	if (!name || !pw)
		return refuse(r, MCD_SITE_E_BAD_REQUEST, "LOGIN needs USER and PASSWORD");
	snprintf(r->user, sizeof(r->user), "%s", name);
	rc = limit_check(r->s, name, r->peer, r->now, &wait, err, sizeof(err));
	if (rc < 0)
		return internal(r, err);
	if (rc == 1)
		return refuse(r, MCD_SITE_E_SLOWED, "%s", err);
	rc = check_password(r, name, pw, pwlen, &u, err, sizeof(err));
	if (rc < 0)
		return internal(r, err);
	if (rc == 0) {
		if (limit_failed(r->s, name, r->peer, r->now, err, sizeof(err)) < 0)
			log_warnx("cannot count a failed login: %s", err);
		return refuse(r, MCD_SITE_E_AUTH, "wrong user or password");
	}
	if (limit_succeeded(r->s, name, err, sizeof(err)) < 0)
		log_warnx("cannot clear failed logins: %s", err);
	return login_ok(r, &u);
}

/* --- APPS --- */

struct apps_walk {
	struct req *r;
	struct mcd_site_out o;
	unsigned napps, npools;
};

static int
send_app(const struct store_app *a, const struct store_pool *pools,
	 unsigned npools, void *arg)
{
	struct apps_walk *w = arg;

	mcd_site_begin(&w->o, MCD_SITE_APP);
	mcd_site_put_str(&w->o, MCD_ST_APP, a->id);
	mcd_site_put_str(&w->o, MCD_ST_NAME, a->name);
	mcd_site_put_str(&w->o, MCD_ST_OS, a->os);
	mcd_site_put_u32(&w->o, MCD_ST_LEVEL, a->level);
	for (unsigned i = 0; i < npools; i++)
		mcd_site_put_str(&w->o, MCD_ST_POOL, pools[i].name);
	w->napps++;
	return send_frame(w->r, &w->o) < 0 ? -1 : 0;
}

static int
send_pool(const struct store_pool *p, void *arg)
{
	struct apps_walk *w = arg;

	mcd_site_begin(&w->o, MCD_SITE_POOL);
	mcd_site_put_str(&w->o, MCD_ST_POOL, p->name);
	mcd_site_put_str(&w->o, MCD_ST_ADDRESS, p->address);
	mcd_site_put_u32(&w->o, MCD_ST_LEVEL, p->level);
	w->npools++;
	return send_frame(w->r, &w->o) < 0 ? -1 : 0;
}

static int
do_apps(struct req *r, const struct mcd_site_msg *m)
{
	struct apps_walk *w;
	struct catalog_visit v = { send_app, send_pool, NULL };
	char err[256];
	int rc;

	if (auth_token(r, m))
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return internal(r, "out of memory");
	w->r = r;
	v.arg = w;
	rc = catalog_walk(r->s, r->level, &v, err, sizeof(err));
	if (rc == 0) {
		mcd_site_begin(&w->o, MCD_SITE_LIST_END);
		rc = send_frame(r, &w->o);
	} else if (w->napps == 0 && w->npools == 0) {
		/* Nothing sent yet: the client can still get an ERROR. */
		rc = internal(r, err);
	}
	if (rc == 0 && !r->result[0])
		snprintf(r->result, sizeof(r->result), "%u apps, %u pools",
			 w->napps, w->npools);
	free(w);
	return rc;
}

/* --- TICKET_REQ --- */

static int
send_ticket(struct req *r, const struct store_app *a,
	    const struct store_pool *p, const char *display)
{
	struct mcd_ticket t = {
		.user = r->user, .app = a->id, .level = a->level,
		.template_name = a->template_name, .program = a->program,
		.nargs = a->nargs, .pool = p->name, .display = display,
		.issued = (uint32_t)r->now,
		.expires = (uint32_t)(r->now + MCD_TICKET_LIFE_DEFAULT),
	};
	static uint8_t body[MCD_SITE_TICKET_MAX];
	uint8_t sig[MCD_SITE_SIG_LEN];
	struct mcd_site_out *o;
	size_t body_len;
	char err[256];
	int rc;

	for (unsigned i = 0; i < a->nargs; i++)
		t.args[i] = a->args[i];
	if (mcd_ticket_sign(r->ctx->ticket_key, &t, body, sizeof(body),
			    &body_len, sig, err, sizeof(err)) < 0)
		return internal(r, err);
	o = malloc(sizeof(*o));
	if (!o)
		return internal(r, "out of memory");
	mcd_site_begin(o, MCD_SITE_TICKET_OK);
	mcd_site_put_bytes(o, MCD_ST_TICKET, body, body_len);
	mcd_site_put_bytes(o, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_str(o, MCD_ST_POOL, p->name);
	mcd_site_put_str(o, MCD_ST_ADDRESS, p->address);
	mcd_site_put_u32(o, MCD_ST_EXPIRES, t.expires);
	rc = send_frame(r, o);
	free(o);
	if (rc == 0)
		snprintf(r->result, sizeof(r->result), "ok, app %s on pool %s "
			 "for %s", a->id, p->name, display);
	return rc;
}

/* The app and pool a request names, for r->user: 0, or 1 after refusing. */
static int
app_and_pool(struct req *r, const char *app, const char *pool,
	     struct store_app *a, struct store_pool *p)
{
	char err[MCD_SITE_TEXT_MAX + 1];
	int rc;

	rc = catalog_app_for(r->s, r->level, app, a, err, sizeof(err));
	if (rc == 0)
		rc = catalog_pool_for(r->s, a, pool, p, err, sizeof(err));
	if (rc == CATALOG_NOT_FOUND)
		refuse(r, MCD_SITE_E_NOT_FOUND, "%s", err);
	else if (rc == CATALOG_DENIED)
		refuse(r, MCD_SITE_E_DENIED, "%s", err);
	else if (rc < 0)
		internal(r, err);
	return rc ? 1 : 0;
}

static int
do_ticket(struct req *r, const struct mcd_site_msg *m)
{
	const char *app = mcd_site_str(m, MCD_ST_APP);
	const char *pool = mcd_site_str(m, MCD_ST_POOL);
	const char *display = mcd_site_str(m, MCD_ST_DISPLAY);
	struct store_app *a;
	struct store_pool p;
	int rc;

	if (auth_token(r, m))
		return 0;
	if (!app || !pool || !display)
		return refuse(r, MCD_SITE_E_BAD_REQUEST,
			      "TICKET_REQ needs APP, POOL and DISPLAY");
	if (!mcd_site_valid_display(display))
		return refuse(r, MCD_SITE_E_BAD_REQUEST,
			      "display %s is not HOST:N or HOST:N.M", display);
	a = calloc(1, sizeof(*a));
	if (!a)
		return internal(r, "out of memory");
	rc = app_and_pool(r, app, pool, a, &p) ? 0 :
	     send_ticket(r, a, &p, display);
	free(a);
	return rc;
}

/* --- NOTE and SESSIONS --- */

/* A session is its first reporter's: another user may not change it. */
static int
note_allowed(struct req *r, const struct store_session *ss)
{
	struct store_session old;
	struct store_app *a;
	struct store_pool p;
	char err[256];
	int rc = store_session_get(r->s, ss->sid, &old, err, sizeof(err));

	if (rc < 0) {
		internal(r, err);
		return 0;
	}
	if (rc == 0 && strcmp(old.user, r->user) != 0) {
		refuse(r, MCD_SITE_E_DENIED, "session %s is not yours", ss->sid);
		return 0;
	}
	if (rc == 0)
		return 1;
	a = calloc(1, sizeof(*a));
	if (!a) {
		internal(r, "out of memory");
		return 0;
	}
	rc = app_and_pool(r, ss->app, ss->pool, a, &p);
	free(a);
	return rc == 0;
}

static int
do_note(struct req *r, const struct mcd_site_msg *m)
{
	const char *sid = mcd_site_str(m, MCD_ST_SESSION);
	const char *pool = mcd_site_str(m, MCD_ST_POOL);
	const char *app = mcd_site_str(m, MCD_ST_APP);
	const char *state = mcd_site_str(m, MCD_ST_STATE);
	struct store_session ss = { .updated = r->now };
	struct mcd_site_out *o;
	char err[256];
	int rc;

	if (auth_token(r, m))
		return 0;
	if (!sid || !pool || !app || !state ||
	    (strcmp(state, "ready") && strcmp(state, "ended")))
		return refuse(r, MCD_SITE_E_BAD_REQUEST,
			      "NOTE needs SESSION, POOL, APP and STATE ready or ended");
	snprintf(ss.sid, sizeof(ss.sid), "%s", sid);
	snprintf(ss.user, sizeof(ss.user), "%s", r->user);
	snprintf(ss.app, sizeof(ss.app), "%s", app);
	snprintf(ss.pool, sizeof(ss.pool), "%s", pool);
	snprintf(ss.state, sizeof(ss.state), "%s", state);
	if (!note_allowed(r, &ss))
		return 0;
	if (store_session_note(r->s, &ss, err, sizeof(err)) < 0)
		return internal(r, err);
	o = malloc(sizeof(*o));
	if (!o)
		return internal(r, "out of memory");
	mcd_site_begin(o, MCD_SITE_OK);
	rc = send_frame(r, o);
	free(o);
	if (rc == 0)
		snprintf(r->result, sizeof(r->result), "ok, session %s %s", sid,
			 state);
	return rc;
}

struct sess_walk {
	struct req *r;
	struct mcd_site_out o;
	unsigned n;
};

static int
send_session(const struct store_session *ss, void *arg)
{
	struct sess_walk *w = arg;

	mcd_site_begin(&w->o, MCD_SITE_SESSION_INFO);
	mcd_site_put_str(&w->o, MCD_ST_SESSION, ss->sid);
	mcd_site_put_str(&w->o, MCD_ST_POOL, ss->pool);
	mcd_site_put_str(&w->o, MCD_ST_APP, ss->app);
	mcd_site_put_str(&w->o, MCD_ST_USER, ss->user);
	mcd_site_put_str(&w->o, MCD_ST_STATE, ss->state);
	w->n++;
	return send_frame(w->r, &w->o) < 0 ? -1 : 0;
}

static int
do_sessions(struct req *r, const struct mcd_site_msg *m)
{
	struct sess_walk *w;
	char err[256];
	int rc;

	if (auth_token(r, m))
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return internal(r, "out of memory");
	w->r = r;
	rc = store_session_each(r->s, r->user, send_session, w, err,
				sizeof(err));
	if (rc == 0) {
		mcd_site_begin(&w->o, MCD_SITE_LIST_END);
		rc = send_frame(r, &w->o);
	} else if (w->n == 0) {
		rc = internal(r, err);
	}
	if (rc == 0)
		snprintf(r->result, sizeof(r->result), "%u sessions", w->n);
	free(w);
	return rc;
}

/* --- the connection --- */

static int
dispatch(struct req *r, const struct mcd_site_msg *m)
{
	switch (m->type) {
	case MCD_SITE_LOGIN:
		return do_login(r, m);
	case MCD_SITE_APPS:
		return do_apps(r, m);
	case MCD_SITE_TICKET_REQ:
		return do_ticket(r, m);
	case MCD_SITE_NOTE:
		return do_note(r, m);
	case MCD_SITE_SESSIONS:
		return do_sessions(r, m);
	default:
		return refuse(r, MCD_SITE_E_BAD_REQUEST, "%s is not a request",
			      mcd_site_type_name(m->type));
	}
}

/* Read the one request; a frame that does not validate earns an ERROR. */
static int
read_request(struct req *r, struct mcd_site_msg *m)
{
	char err[256];

	if (mcd_tls_recv(r->ssl, MCD_SITE_C2B, m, MCD_TLS_IO_MS, err,
			 sizeof(err)) == 0)
		return 0;
	if (!strstr(err, "closed") && !strstr(err, "timed out"))
		refuse(r, MCD_SITE_E_BAD_REQUEST, "%s", err);
	else
		snprintf(r->result, sizeof(r->result), "%s", err);
	return -1;
}

int
request_serve(SSL *ssl, const char *peer, const struct request_ctx *ctx)
{
	struct req r = { .ssl = ssl, .peer = peer, .ctx = ctx };
	struct mcd_site_msg *m = malloc(sizeof(*m));
	char err[256];
	int rc = -1;

	if (!m) {
		log_warnx("%s: out of memory", peer);
		return -1;
	}
	if (mcd_tls_hello_server(ssl, MCD_SITE_C2B, MCD_TLS_IO_MS, err,
				 sizeof(err)) < 0) {
		log_info("%s: HELLO failed: %s", peer, err);
		goto out;
	}
	if (read_request(&r, m) < 0) {
		log_info("%s: no request: %s", peer, r.result);
		goto out;
	}
	r.now = time(NULL);
	r.s = store_open(ctx->db_path, err, sizeof(err));
	if (!r.s)
		rc = internal(&r, err);
	else
		rc = dispatch(&r, m);
	log_info("%s: user %s: %s: %s", peer, r.user[0] ? r.user : "-",
		 mcd_site_type_name(m->type), r.result[0] ? r.result : "?");
out:
	store_close(r.s);
	mcd_site_wipe(m);
	free(m);
	return rc;
}
