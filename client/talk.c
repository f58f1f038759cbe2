/*
 * talk.c - requests to the broker and the pool masters (see talk.h).
 */
#include "talk.h"
#include "err.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mcd_tls.h"

int64_t talk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int talk_exit_for(uint32_t code)
{
	switch (code) {
	case MCD_SITE_E_AUTH:
	case MCD_SITE_E_SLOWED:
		return TALK_AUTH;
	case MCD_SITE_E_DENIED:
	case MCD_SITE_E_TICKET:
		return TALK_DENIED;
	case MCD_SITE_E_NO_ROOM:
		return TALK_NO_ROOM;
	default:
		return TALK_FAILED;
	}
}

/* An ERROR or FAILED reply as one line; its exit code. */
static int reply_error(const struct mcd_site_msg *m, const char *who,
		       char *err, size_t errlen)
{
	uint32_t code = mcd_site_u32(m, MCD_ST_CODE, MCD_SITE_E_INTERNAL);
	const char *text = mcd_site_str(m, MCD_ST_TEXT);

	client_seterr(err, errlen, "%s %s: %s (%s)", who,
	       m->type == MCD_SITE_FAILED ? "failed" : "refused",
	       text ? text : "no reason given", mcd_site_err_name(code));
	return talk_exit_for(code);
}

static int unexpected(const struct mcd_site_msg *m, const char *who,
		      char *err, size_t errlen)
{
	if (m->type == MCD_SITE_ERROR || m->type == MCD_SITE_FAILED)
		return reply_error(m, who, err, errlen);
	client_seterr(err, errlen, "%s answered with an unexpected %s", who,
	       mcd_site_type_name(m->type));
	return TALK_FAILED;
}

SSL *talk_open(SSL_CTX *ctx, const char *address, const char *name,
	       int timeout_ms, char *err, size_t errlen)
{
	char why[256];
	SSL *ssl = mcd_tls_connect(ctx, address, name, timeout_ms, why,
				   sizeof(why));

	if (!ssl) {
		client_seterr(err, errlen, "%s: %s", address, why);
		return NULL;
	}
	if (mcd_tls_hello_client(ssl, timeout_ms, why, sizeof(why)) < 0) {
		mcd_tls_close(ssl);
		client_seterr(err, errlen, "%s: %s", address, why);
		return NULL;
	}
	return ssl;
}

void talk_close(SSL *ssl)
{
	if (ssl)
		mcd_tls_close(ssl);
}

/* Finish o and send it on ssl; the builder is wiped (it may hold a
 * secret). */
static int send_msg(SSL *ssl, struct mcd_site_out *o, unsigned dir,
		    char *err, size_t errlen)
{
	char why[256];
	int rc = mcd_site_finish(o, dir, why, sizeof(why));

	if (rc == 0)
		rc = mcd_tls_send(ssl, o, MCD_TLS_IO_MS, why, sizeof(why));
	mcd_site_out_wipe(o);
	if (rc < 0)
		client_seterr(err, errlen, "cannot send the request: %s", why);
	return rc;
}

static int recv_msg(SSL *ssl, unsigned dir, struct mcd_site_msg *m,
		    int timeout_ms, const char *who, char *err, size_t errlen)
{
	char why[256];

	if (mcd_tls_recv(ssl, dir, m, timeout_ms, why, sizeof(why)) < 0) {
		client_seterr(err, errlen, "%s: %s", who, why);
		return -1;
	}
	return 0;
}

/* ---- the broker ---- */

static SSL *broker_open(const struct talk_broker *b, char *err,
			size_t errlen)
{
	return talk_open(b->ctx, b->address, b->name, MCD_TLS_HANDSHAKE_MS,
			 err, errlen);
}

/* Send o to the broker and read its one final answer into m. */
static int broker_call(const struct talk_broker *b, struct mcd_site_out *o,
		       struct mcd_site_msg *m, char *err, size_t errlen)
{
	SSL *ssl = broker_open(b, err, errlen);
	int rc = -1;

	if (!ssl) {
		mcd_site_out_wipe(o);
		return -1;
	}
	if (send_msg(ssl, o, MCD_SITE_C2B, err, errlen) == 0)
		rc = recv_msg(ssl, MCD_SITE_B2C, m, MCD_TLS_IO_MS,
			      "the server", err, errlen);
	mcd_tls_close(ssl);
	return rc;
}

int talk_login(const struct talk_broker *b, const char *user,
	       const char *password, struct state_token *out, char *err,
	       size_t errlen)
{
	static struct mcd_site_out o;
	static struct mcd_site_msg m;
	int rc = TALK_FAILED;

	mcd_site_begin(&o, MCD_SITE_LOGIN);
	mcd_site_put_str(&o, MCD_ST_USER, user);
	mcd_site_put_bytes(&o, MCD_ST_PASSWORD, password, strlen(password));
	if (broker_call(b, &o, &m, err, errlen) < 0)
		return TALK_FAILED;
	if (m.type != MCD_SITE_LOGIN_OK) {
		rc = unexpected(&m, "the server", err, errlen);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->token, sizeof(out->token), "%s",
		 mcd_site_str(&m, MCD_ST_TOKEN));
	snprintf(out->user, sizeof(out->user), "%s",
		 mcd_site_str(&m, MCD_ST_USER));
	out->level = mcd_site_u32(&m, MCD_ST_LEVEL, 0);
	out->expires = mcd_site_u32(&m, MCD_ST_EXPIRES, 0);
	rc = TALK_OK;
out:
	mcd_site_wipe(&m);
	return rc;
}

static void copy_str(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src ? src : "");
}

static int add_app(struct talk_apps *a, const struct mcd_site_msg *m)
{
	struct talk_app *p;

	if (a->napps == TALK_APPS_MAX)
		return -1;
	p = &a->apps[a->napps++];
	copy_str(p->app, sizeof(p->app), mcd_site_str(m, MCD_ST_APP));
	copy_str(p->name, sizeof(p->name), mcd_site_str(m, MCD_ST_NAME));
	copy_str(p->os, sizeof(p->os), mcd_site_str(m, MCD_ST_OS));
	p->level = mcd_site_u32(m, MCD_ST_LEVEL, 0);
	p->npools = mcd_site_count(m, MCD_ST_POOL);
	if (p->npools > MCD_SITE_POOLS_MAX)
		p->npools = MCD_SITE_POOLS_MAX;
	for (unsigned i = 0; i < p->npools; i++)
		copy_str(p->pools[i], sizeof(p->pools[i]),
			 mcd_site_nth(m, MCD_ST_POOL, i));
	return 0;
}

static int add_pool(struct talk_apps *a, const struct mcd_site_msg *m)
{
	struct talk_pool *p;

	if (a->npools == TALK_POOLS_MAX)
		return -1;
	p = &a->pools[a->npools++];
	copy_str(p->pool, sizeof(p->pool), mcd_site_str(m, MCD_ST_POOL));
	copy_str(p->address, sizeof(p->address),
		 mcd_site_str(m, MCD_ST_ADDRESS));
	p->level = mcd_site_u32(m, MCD_ST_LEVEL, 0);
	return 0;
}

/* APP and POOL frames until LIST_END. */
static int read_apps(SSL *ssl, struct talk_apps *out, char *err,
		     size_t errlen)
{
	static struct mcd_site_msg m;

	for (;;) {
		if (recv_msg(ssl, MCD_SITE_B2C, &m, MCD_TLS_IO_MS, "the server",
			     err, errlen) < 0)
			return TALK_FAILED;
		if (m.type == MCD_SITE_LIST_END)
			return TALK_OK;
		if ((m.type == MCD_SITE_APP && add_app(out, &m) < 0) ||
		    (m.type == MCD_SITE_POOL && add_pool(out, &m) < 0)) {
			client_seterr(err, errlen, "the server listed too many apps "
			       "or pools (at most %d)", TALK_APPS_MAX);
			return TALK_FAILED;
		}
		if (m.type != MCD_SITE_APP && m.type != MCD_SITE_POOL)
			return unexpected(&m, "the server", err, errlen);
	}
}

int talk_apps(const struct talk_broker *b, const char *token,
	      struct talk_apps *out, char *err, size_t errlen)
{
	static struct mcd_site_out o;
	SSL *ssl = broker_open(b, err, errlen);
	int rc;

	if (!ssl)
		return TALK_FAILED;
	memset(out, 0, sizeof(*out));
	mcd_site_begin(&o, MCD_SITE_APPS);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	rc = send_msg(ssl, &o, MCD_SITE_C2B, err, errlen) < 0 ? TALK_FAILED
		: read_apps(ssl, out, err, errlen);
	mcd_tls_close(ssl);
	return rc;
}

const struct talk_pool *talk_find_pool(const struct talk_apps *a,
				       const char *pool)
{
	for (unsigned i = 0; i < a->npools; i++)
		if (!strcmp(a->pools[i].pool, pool))
			return &a->pools[i];
	return NULL;
}

int talk_ticket_req(const struct talk_broker *b, const char *token,
		    const char *app, const char *pool, const char *display,
		    struct talk_ticket *out, char *err, size_t errlen)
{
	static struct mcd_site_out o;
	static struct mcd_site_msg m;
	const uint8_t *p;
	size_t n, sn;
	int rc = TALK_FAILED;

	mcd_site_begin(&o, MCD_SITE_TICKET_REQ);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	mcd_site_put_str(&o, MCD_ST_APP, app);
	mcd_site_put_str(&o, MCD_ST_POOL, pool);
	mcd_site_put_str(&o, MCD_ST_DISPLAY, display);
	if (broker_call(b, &o, &m, err, errlen) < 0)
		return TALK_FAILED;
	if (m.type != MCD_SITE_TICKET_OK) {
		rc = unexpected(&m, "the server", err, errlen);
		goto out;
	}
	p = mcd_site_bytes(&m, MCD_ST_TICKET, &n);
	memcpy(out->ticket, p, n);
	out->ticket_len = n;
	memcpy(out->sig, mcd_site_bytes(&m, MCD_ST_SIG, &sn), MCD_SITE_SIG_LEN);
	copy_str(out->pool, sizeof(out->pool), mcd_site_str(&m, MCD_ST_POOL));
	copy_str(out->address, sizeof(out->address),
		 mcd_site_str(&m, MCD_ST_ADDRESS));
	out->expires = mcd_site_u32(&m, MCD_ST_EXPIRES, 0);
	/* The ticket is good only for the pool asked for. */
	if (strcmp(out->pool, pool)) {
		client_seterr(err, errlen, "the server gave a ticket for pool %s, "
		       "not %s", out->pool, pool);
		goto out;
	}
	rc = TALK_OK;
out:
	mcd_site_wipe(&m);
	return rc;
}

int talk_note(const struct talk_broker *b, const char *token,
	      const char *sid, const char *pool, const char *app,
	      const char *state, char *err, size_t errlen)
{
	static struct mcd_site_out o;
	static struct mcd_site_msg m;
	int rc;

	mcd_site_begin(&o, MCD_SITE_NOTE);
	mcd_site_put_str(&o, MCD_ST_TOKEN, token);
	mcd_site_put_str(&o, MCD_ST_SESSION, sid);
	mcd_site_put_str(&o, MCD_ST_POOL, pool);
	mcd_site_put_str(&o, MCD_ST_APP, app);
	mcd_site_put_str(&o, MCD_ST_STATE, state);
	if (broker_call(b, &o, &m, err, errlen) < 0)
		return TALK_FAILED;
	rc = m.type == MCD_SITE_OK ? TALK_OK
		: unexpected(&m, "the server", err, errlen);
	mcd_site_wipe(&m);
	return rc;
}

/* ---- pool masters ---- */

static int left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - talk_now_ms();

	return left > 0 ? (int)left : 0;
}

static void load_answer(const struct mcd_site_msg *m, struct pick_load *out)
{
	out->answered = 1;
	out->load = mcd_site_u32(m, MCD_ST_LOAD, 1000);
	out->room = mcd_site_u32(m, MCD_ST_ROOM, 0) == 1;
	copy_str(out->limit, sizeof(out->limit), mcd_site_str(m, MCD_ST_LIMIT));
	copy_str(out->text, sizeof(out->text), mcd_site_str(m, MCD_ST_TEXT));
}

int talk_load(SSL_CTX *ctx, const char *pool, const char *address,
	      int64_t deadline_ms, struct pick_load *out)
{
	struct mcd_site_out o;
	struct mcd_site_msg m;
	SSL *ssl;

	memset(out, 0, sizeof(*out));
	copy_str(out->pool, sizeof(out->pool), pool);
	ssl = talk_open(ctx, address, pool, left_ms(deadline_ms), out->text,
			sizeof(out->text));
	if (!ssl)
		goto out;
	mcd_site_begin(&o, MCD_SITE_LOAD);
	if (send_msg(ssl, &o, MCD_SITE_C2P, out->text, sizeof(out->text)) < 0 ||
	    recv_msg(ssl, MCD_SITE_P2C, &m, left_ms(deadline_ms), address,
		     out->text, sizeof(out->text)) < 0)
		goto out;
	if (m.type == MCD_SITE_LOAD_OK)
		load_answer(&m, out);
	else
		unexpected(&m, "the pool", out->text, sizeof(out->text));
out:
	talk_close(ssl);
	return !out->answered && left_ms(deadline_ms) == 0;
}

SSL *talk_launch(SSL_CTX *ctx, const char *pool, const char *address,
		 const struct talk_ticket *t, const char *cookie_hex,
		 uint32_t wait, char *err, size_t errlen)
{
	static struct mcd_site_out o;
	SSL *ssl = talk_open(ctx, address, pool, MCD_TLS_HANDSHAKE_MS, err,
			     errlen);

	if (!ssl)
		return NULL;
	mcd_site_begin(&o, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&o, MCD_ST_TICKET, t->ticket, t->ticket_len);
	mcd_site_put_bytes(&o, MCD_ST_SIG, t->sig, MCD_SITE_SIG_LEN);
	if (cookie_hex && *cookie_hex)
		mcd_site_put_str(&o, MCD_ST_COOKIE, cookie_hex);
	mcd_site_put_u32(&o, MCD_ST_WAIT, wait);
	if (send_msg(ssl, &o, MCD_SITE_C2P, err, errlen) < 0) {
		mcd_tls_close(ssl);
		return NULL;
	}
	return ssl;
}

/* 1 when a whole TLS record of data (or the end of the stream) is there
 * to read: SSL_peek on the non-blocking socket also takes in records that
 * carry no data (such as TLS 1.3 session tickets). */
static int data_ready(SSL *ssl)
{
	char c;
	int n;

	if (SSL_pending(ssl) > 0)
		return 1;
	ERR_clear_error();
	n = SSL_peek(ssl, &c, 1);
	if (n > 0)
		return 1;
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		/* Closed or broken: mcd_tls_recv says which. */
		return 1;
	}
}

int talk_next(SSL *ssl, volatile sig_atomic_t *stop, struct mcd_site_msg *m,
	      char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = SSL_get_fd(ssl), .events = POLLIN };

	/* A short poll, so a signal's flag is seen within a moment whether
	 * or not the signal broke the poll. */
	while (!data_ready(ssl)) {
		if (stop && *stop)
			return 1;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR) {
			client_seterr(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
	if (stop && *stop)
		return 1;
	return recv_msg(ssl, MCD_SITE_P2C, m, MCD_TLS_IO_MS, "the pool", err,
			errlen);
}

/* One request to the pool that runs s, with its id and end key; the
 * final answer into m. */
static int session_call(SSL_CTX *ctx, const struct state_session *s,
			uint16_t type, struct mcd_site_msg *m, char *err,
			size_t errlen)
{
	struct mcd_site_out o;
	SSL *ssl = talk_open(ctx, s->address, s->pool, MCD_TLS_HANDSHAKE_MS,
			     err, errlen);
	int rc = -1;

	if (!ssl)
		return -1;
	mcd_site_begin(&o, type);
	mcd_site_put_str(&o, MCD_ST_SESSION, s->session);
	mcd_site_put_str(&o, MCD_ST_END_KEY, s->end_key);
	if (send_msg(ssl, &o, MCD_SITE_C2P, err, errlen) == 0)
		rc = recv_msg(ssl, MCD_SITE_P2C, m, MCD_TLS_IO_MS, "the pool",
			      err, errlen);
	mcd_tls_close(ssl);
	return rc;
}

int talk_end(SSL_CTX *ctx, const struct state_session *s, char *err,
	     size_t errlen)
{
	static struct mcd_site_msg m;

	if (session_call(ctx, s, MCD_SITE_END, &m, err, errlen) < 0)
		return TALK_FAILED;
	return m.type == MCD_SITE_OK ? TALK_OK
		: unexpected(&m, "the pool", err, errlen);
}

int talk_status(SSL_CTX *ctx, const struct state_session *s, char *state,
		char *err, size_t errlen)
{
	static struct mcd_site_msg m;

	if (session_call(ctx, s, MCD_SITE_STATUS, &m, err, errlen) < 0)
		return TALK_FAILED;
	if (m.type != MCD_SITE_SESSION_INFO)
		return unexpected(&m, "the pool", err, errlen);
	copy_str(state, MCD_SITE_STATE_MAX + 1, mcd_site_str(&m, MCD_ST_STATE));
	return TALK_OK;
}
