/*
 * face.c - the pool master's network face, the service's side (see
 * face.h): listen, accept, start a child per connection, and serve the
 * requests the children pass on, as control clients of their own kind.
 */
#include "face.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "faceconf.h"
#include "faceticket.h"
#include "load.h"
#include "log.h"
#include "mcd_site.h"
#include "mcd_ticket.h"
#include "mcd_tls.h"

#define FACE_LOAD_EVERY_MS 1000
#define FACE_TEMPLATE_SCAN_S 10 /* how often the smallest template is sought */
#define FACE_PEER_MAX 64        /* a numeric address */

/* The load as the thread last measured it. */
struct face_load {
	int have;
	unsigned load;          /* thousandths */
	int room;
	char limit[16];
	char text[MCD_SITE_TEXT_MAX + 1];
};

/* A slot is free again only once its child is reaped and its client
 * closed, so no two live children ever share a uid. */
struct face_kid {
	pid_t pid;              /* 0: the slot is free */
	int reaped;
	int open;               /* its client is open */
	long kill_at;           /* ms: kill it if it is still there */
};

struct face {
	struct face_conf conf;
	int listen_fd;
	struct face_ticket_ctx tctx;
	struct mcd_xen *xen;
	const char *template_dir;
	struct face_kid *kids;  /* conf.max_connections slots */
	struct log_limit busy_lim;
	pthread_mutex_t lock;
	struct face_load load;  /* under lock */
};

/* What the service knows of one face child. */
struct face_peer {
	struct face *f;
	unsigned slot;
	char addr[FACE_PEER_MAX];
	uint16_t req;           /* the request it passed on, 0 before */
	size_t have;            /* bytes of the frame being read */
	uint32_t len;           /* its payload's length, once the header is in */
	uint8_t buf[MCD_SITE_MAX_FRAME];
};

/* ---- the load, measured off the loop ---- */

struct smallest {
	struct face *f;
	struct mcd_template *best, *t;
};

static int consider(const char *name, void *arg)
{
	struct smallest *sm = arg;
	libxl_domain_config dc;
	char err[256];

	if (template_load(sm->f->template_dir, name, sm->t, &dc, err,
			  sizeof(err)) < 0)
		return 0;
	libxl_domain_config_dispose(&dc);
	if (!sm->best->name[0] || sm->t->memory_mb < sm->best->memory_mb)
		*sm->best = *sm->t;
	return 0;
}

/* ROOM is whether the smallest template fits: any launch would need at
 * least that. */
static void measure(struct face *f, struct mcd_template *small,
		    struct face_load *out)
{
	struct load_info li;
	char why[256];
	double c;

	memset(out, 0, sizeof(*out));
	if (load_read(f->xen, &li) < 0)
		return;
	c = li.coefficient < 0 ? 0 : li.coefficient > 1 ? 1 : li.coefficient;
	out->have = 1;
	out->load = (unsigned)(c * 1000 + 0.5);
	snprintf(out->limit, sizeof(out->limit), "%s", li.limit ? li.limit : "memory");
	if (!small->name[0]) {
		snprintf(out->text, sizeof(out->text), "no template to launch");
		return;
	}
	out->room = load_fits(&li, small, why, sizeof(why));
	if (!out->room)
		snprintf(out->text, sizeof(out->text), "%.*s",
			 MCD_SITE_TEXT_MAX, why);
}

static void *load_thread(void *arg)
{
	struct face *f = arg;
	struct mcd_template *t = calloc(2, sizeof(*t));
	time_t scanned = 0;

	if (!t)
		fatal("out of memory");
	for (;;) {
		struct face_load fl;

		if (time(NULL) - scanned >= FACE_TEMPLATE_SCAN_S) {
			struct smallest sm = { f, &t[0], &t[1] };

			memset(&t[0], 0, sizeof(t[0]));
			template_list(f->template_dir, consider, &sm);
			scanned = time(NULL);
		}
		measure(f, &t[0], &fl);
		pthread_mutex_lock(&f->lock);
		f->load = fl;
		pthread_mutex_unlock(&f->lock);
		usleep((FACE_LOAD_EVERY_MS - LOAD_SAMPLE_MS) * 1000);
	}
	return NULL;
}

/* ---- start ---- */

static int listen_on(const struct face_conf *c, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	snprintf(port, sizeof(port), "%u", c->listen_port);
	rc = getaddrinfo(c->listen_host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "listen %s: %s", c->listen_host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "listen %s:%s: %s", c->listen_host, port,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int face_start(struct daemon *d, const struct face_conf *c, char *err,
	       size_t errlen)
{
	struct face *f = calloc(1, sizeof(*f));
	char why[256];
	pthread_t th;

	if (!f || !(f->kids = calloc(c->max_connections, sizeof(*f->kids)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->conf = *c;
	f->xen = d->xen;
	f->template_dir = d->template_dir;
	f->tctx.conf = &f->conf;
	f->tctx.started = time(NULL);
	f->tctx.pub = mcd_ticket_load_public(c->ticket_key, why, sizeof(why));
	f->tctx.cache = mcd_ticket_cache_new();
	log_limit_init(&f->busy_lim, "face");
	pthread_mutex_init(&f->lock, NULL);
	if (!f->tctx.pub) {
		snprintf(err, errlen, "ticket_key %s: %s", c->ticket_key, why);
		return -1;
	}
	if (!f->tctx.cache) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->listen_fd = listen_on(c, err, errlen);
	if (f->listen_fd < 0)
		return -1;
	if (pthread_create(&th, NULL, load_thread, f) != 0) {
		snprintf(err, errlen, "cannot start the load thread");
		return -1;
	}
	pthread_detach(th);
	d->face = f;
	log_info("face: pool %s (level %u) on %s:%u, at most %u connections",
		 c->name, c->level, c->listen_host, c->listen_port,
		 c->max_connections);
	return 0;
}

int face_listen_fd(const struct daemon *d)
{
	return d->face ? d->face->listen_fd : -1;
}

/* ---- children ---- */

static int free_slot(struct face *f)
{
	for (unsigned i = 0; i < f->conf.max_connections; i++)
		if (!f->kids[i].pid)
			return (int)i;
	return -1;
}

/* fork + exec `face-conn` with the socket and the channel as its only
 * fds (the service has threads: only async-signal-safe calls until exec).
 * The child's pid, or -1. */
static pid_t spawn(struct face *f, int tcp, int chan, unsigned slot)
{
	char sl[16], vb[8];
	char *argv[] = { "mcd-toolstack", "face-conn", "--cert", f->conf.cert,
			 "--key", f->conf.key, "--slot", sl, vb, NULL };
	pid_t p;

	snprintf(sl, sizeof(sl), "%u", slot);
	snprintf(vb, sizeof(vb), "-v%d", log_verbosity());
	p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		/* Out of the way of 3 and 4 first, whichever they are now. */
		int t = fcntl(tcp, F_DUPFD_CLOEXEC, 10);
		int c = fcntl(chan, F_DUPFD_CLOEXEC, 10);

		if (null < 0 || t < 0 || c < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(t, FACE_TCP_FD) < 0 || dup2(c, FACE_PARENT_FD) < 0)
			_exit(127);
		closefrom(FACE_PARENT_FD + 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return p;
}

static void new_client(struct daemon *d, int fd, struct face_peer *fp)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c)
		fatal("out of memory");
	c->fd = fd;
	c->face = fp;
	c->next = d->clients;
	d->clients = c;
}

/* Start the child of an accepted connection; it owns tcp from now on. */
static void start_child(struct daemon *d, int tcp, const char *addr)
{
	struct face *f = d->face;
	struct face_peer *fp;
	int sv[2], slot = free_slot(f);
	pid_t p;

	if (slot < 0) {
		log_limit_warnx(&f->busy_lim, "face: %u connections open: refusing %s",
				f->conf.max_connections, addr);
		close(tcp);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("face: socketpair");
		close(tcp);
		return;
	}
	p = spawn(f, tcp, sv[1], (unsigned)slot);
	close(tcp);
	close(sv[1]);
	fp = p > 0 ? calloc(1, sizeof(*fp)) : NULL;
	if (!fp) {
		log_warn("face: cannot start a child for %s", addr);
		if (p > 0)
			kill(p, SIGKILL), waitpid(p, NULL, 0);
		close(sv[0]);
		return;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->kids[slot] = (struct face_kid){ .pid = p, .open = 1 };
	fp->f = f;
	fp->slot = (unsigned)slot;
	snprintf(fp->addr, sizeof(fp->addr), "%s", addr);
	new_client(d, sv[0], fp);
	log_debug("face: connection from %s (child %d)", addr, (int)p);
}

void face_accept(struct daemon *d)
{
	char addr[FACE_PEER_MAX];
	int fd;

	if (!d->face)
		return;
	fd = accept4(d->face->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (mcd_tls_peer_addr(fd, addr, sizeof(addr)) < 0) {
		close(fd);
		return;
	}
	start_child(d, fd, addr);
}

void face_client_closed(struct client *c)
{
	struct face_peer *fp = c->face;

	struct face_kid *k = &fp->f->kids[fp->slot];

	/* It relays its last frame and leaves; if not, it is killed. */
	k->open = 0;
	k->kill_at = now_ms() + FACE_CHILD_GRACE_MS;
	OPENSSL_cleanse(fp, sizeof(*fp));
	free(fp);
	c->face = NULL;
}

void face_tick(struct daemon *d, long now)
{
	struct face *f = d->face;

	for (unsigned i = 0; f && i < f->conf.max_connections; i++) {
		struct face_kid *k = &f->kids[i];
		int status;

		if (!k->pid)
			continue;
		if (!k->reaped && waitpid(k->pid, &status, WNOHANG) == k->pid) {
			k->reaped = 1;
			if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
				log_warnx("face: child %d died of signal %d (%s)",
					  (int)k->pid, WTERMSIG(status),
					  strsignal(WTERMSIG(status)));
		}
		if (!k->reaped && !k->open && now >= k->kill_at)
			kill(k->pid, SIGKILL);
		if (k->reaped && !k->open)
			k->pid = 0;
	}
}

/* ---- replies ---- */

/* TEXT fields are printable ASCII here, and never longer than allowed:
 * the texts come from sessions, some from what a guest said. */
static void clean_text(char *out, size_t outlen, const char *in)
{
	size_t i, max = outlen - 1 < MCD_SITE_TEXT_MAX ? outlen - 1
						       : MCD_SITE_TEXT_MAX;

	for (i = 0; in[i] && i < max; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
	if (!out[0])
		snprintf(out, outlen, "-");
}

static int is_final(uint16_t type)
{
	return type == MCD_SITE_ERROR || type == MCD_SITE_OK ||
	       type == MCD_SITE_LOAD_OK || type == MCD_SITE_FAILED ||
	       type == MCD_SITE_ENDED || type == MCD_SITE_SESSION_INFO;
}

/* Finish o and queue it for c; a frame that does not encode becomes an
 * INTERNAL error (it never should). */
static void send_frame(struct client *c, struct mcd_site_out *o)
{
	char err[160];
	uint16_t type;

	if (mcd_site_finish(o, MCD_SITE_P2C, err, sizeof(err)) < 0) {
		log_warnx("face: cannot encode a reply: %s", err);
		mcd_site_begin(o, MCD_SITE_ERROR);
		mcd_site_put_u32(o, MCD_ST_CODE, MCD_SITE_E_INTERNAL);
		mcd_site_put_str(o, MCD_ST_TEXT, "internal error");
		if (mcd_site_finish(o, MCD_SITE_P2C, err, sizeof(err)) < 0)
			return;
	}
	/* The header is little-endian, filled in by finish. */
	type = (uint16_t)(o->buf[0] | o->buf[1] << 8);
	client_frame(c, o->buf, o->len, is_final(type));
	mcd_site_out_wipe(o);
}

static void send_code(struct client *c, uint16_t type, uint32_t code,
		      const char *text)
{
	struct mcd_site_out *o = malloc(sizeof(*o));
	char t[MCD_SITE_TEXT_MAX + 1];

	if (!o)
		fatal("out of memory");
	clean_text(t, sizeof(t), text);
	mcd_site_begin(o, type);
	mcd_site_put_u32(o, MCD_ST_CODE, code);
	mcd_site_put_str(o, MCD_ST_TEXT, t);
	send_frame(c, o);
	free(o);
}

static const char *state_name(const struct session *s)
{
	switch (s->st) {
	case S_QUEUED: return "queued";
	case S_WAITING: return "waiting";
	case S_CREATING: return "creating";
	case S_CONNECTING: case S_HELLO: return "connecting";
	case S_LAUNCHING: return "launching";
	case S_RUNNING: return s->awaiting_ready ? "starting" : "running";
	case S_STOPPING: case S_DESTROYING: return "ending";
	case S_IDLE: return "ended";
	}
	return "unknown";
}

/* The launch is done: READY with a fresh END_KEY, and the client stays
 * to hear ENDED. */
static void ready(struct client *c, const char *sid)
{
	struct session *s = c->s;
	struct mcd_site_out *o;
	unsigned char r[MCD_SITE_END_KEY_LEN / 2];

	if (!s || strcmp(s->sid, sid) || RAND_bytes(r, sizeof(r)) != 1)
		return send_code(c, MCD_SITE_FAILED, MCD_SITE_E_INTERNAL,
				 "cannot make an end key");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(s->end_key + 2 * i, 3, "%02x", r[i]);
	OPENSSL_cleanse(r, sizeof(r));
	s->waiter = NULL;
	s->face_client = c;
	if (!(o = malloc(sizeof(*o))))
		fatal("out of memory");
	mcd_site_begin(o, MCD_SITE_READY);
	mcd_site_put_str(o, MCD_ST_SESSION, s->sid);
	mcd_site_put_str(o, MCD_ST_END_KEY, s->end_key);
	send_frame(c, o);
	free(o);
	log_info("session %s: launched through the face for %s", s->sid,
		 c->face->addr);
}

static void wait_frame(struct client *c, const char *text)
{
	struct mcd_site_out *o = malloc(sizeof(*o));
	char t[MCD_SITE_TEXT_MAX + 1];

	if (!o)
		fatal("out of memory");
	clean_text(t, sizeof(t), text);
	mcd_site_begin(o, MCD_SITE_WAIT);
	mcd_site_put_str(o, MCD_ST_STATE, c->s ? state_name(c->s) : "starting");
	mcd_site_put_str(o, MCD_ST_TEXT, t);
	send_frame(c, o);
	free(o);
}

/* The service's "no room" errors (place.c) are the ones a client may
 * answer by trying another pool or later. */
static uint32_t launch_code(const char *text)
{
	return strstr(text, "no room") ? MCD_SITE_E_NO_ROOM : MCD_SITE_E_LAUNCH;
}

void face_reply(struct client *c, uint32_t type, const char *const *strs,
		unsigned n)
{
	uint16_t req = c->face->req;
	const char *text = n > 0 ? strs[0] : "";

	if (c->dead || c->closing)
		return;
	if (type == CTL_PROGRESS)
		return wait_frame(c, text);
	if (type == CTL_ERROR && req == MCD_SITE_LAUNCH)
		return send_code(c, MCD_SITE_FAILED, launch_code(text), text);
	if (type == CTL_ERROR)
		return send_code(c, MCD_SITE_ERROR, MCD_SITE_E_NOT_FOUND, text);
	if (type == CTL_DONE && req == MCD_SITE_LAUNCH && n > 0)
		return ready(c, strs[0]);
	if (type == CTL_DONE && req == MCD_SITE_END) {
		struct mcd_site_out o;

		mcd_site_begin(&o, MCD_SITE_OK);
		return send_frame(c, &o);
	}
	send_code(c, MCD_SITE_ERROR, MCD_SITE_E_INTERNAL, "unexpected reply");
}

void face_session_gone(struct daemon *d, struct session *s)
{
	struct client *c = s->face_client;
	struct mcd_site_out *o;
	char t[MCD_SITE_TEXT_MAX + 1];

	(void)d;
	OPENSSL_cleanse(s->end_key, sizeof(s->end_key));
	if (!c)
		return;
	s->face_client = NULL;
	if (c->s == s)
		c->s = NULL;
	if (!(o = malloc(sizeof(*o))))
		fatal("out of memory");
	mcd_site_begin(o, MCD_SITE_ENDED);
	mcd_site_put_str(o, MCD_ST_SESSION, s->sid);
	if (s->error[0]) {
		clean_text(t, sizeof(t), s->error);
		mcd_site_put_str(o, MCD_ST_TEXT, t);
	}
	send_frame(c, o);
	free(o);
}

/* ---- requests ---- */

static void on_load(struct face *f, struct client *c)
{
	struct mcd_site_out *o = malloc(sizeof(*o));
	struct face_load fl;

	if (!o)
		fatal("out of memory");
	pthread_mutex_lock(&f->lock);
	fl = f->load;
	pthread_mutex_unlock(&f->lock);
	if (!fl.have) {
		fl.load = 1000;
		snprintf(fl.limit, sizeof(fl.limit), "memory");
		snprintf(fl.text, sizeof(fl.text), "load not measured yet");
	}
	mcd_site_begin(o, MCD_SITE_LOAD_OK);
	mcd_site_put_str(o, MCD_ST_POOL, f->conf.name);
	mcd_site_put_u32(o, MCD_ST_LEVEL, f->conf.level);
	mcd_site_put_u32(o, MCD_ST_LOAD, fl.load);
	mcd_site_put_u32(o, MCD_ST_ROOM, fl.room ? 1 : 0);
	mcd_site_put_str(o, MCD_ST_LIMIT, fl.limit);
	if (!fl.room)
		mcd_site_put_str(o, MCD_ST_TEXT, fl.text[0] ? fl.text : "no room");
	send_frame(c, o);
	free(o);
}

/* Check the ticket, then hand the launch to place.c as a CTL_LAUNCH. */
static void on_launch(struct daemon *d, struct face *f, struct client *c,
		      const struct mcd_site_msg *req)
{
	struct mcd_site_msg *tm = malloc(sizeof(*tm));
	struct ctl_msg *m = malloc(sizeof(*m));
	struct mcd_ticket t;
	char err[300];
	uint32_t code;

	if (!tm || !m)
		fatal("out of memory");
	if (face_ticket_launch(&f->tctx, req, c->face->addr, time(NULL), tm, &t,
			       &code, err, sizeof(err)) < 0) {
		log_info("face: launch from %s refused: %s", c->face->addr, err);
		send_code(c, MCD_SITE_ERROR, code, err);
	} else if (face_launch_msg(&t, &f->conf,
				   mcd_site_str(req, MCD_ST_COOKIE),
				   mcd_site_u32(req, MCD_ST_WAIT, 0), m, err,
				   sizeof(err)) < 0) {
		send_code(c, MCD_SITE_FAILED, MCD_SITE_E_LAUNCH, err);
	} else {
		log_info("face: launch of %s for %s on %s from %s", t.app, t.user,
			 t.display, c->face->addr);
		place_launch(d, c, m);
	}
	/* The cookie and the share passwords are in the session now. */
	OPENSSL_cleanse(m, sizeof(*m));
	mcd_site_wipe(tm);
	free(m);
	free(tm);
}

/* The session req names, if its END_KEY is right.  The key is compared in
 * constant time; a wrong key and no such session read the same. */
static struct session *keyed_session(struct daemon *d,
				     const struct mcd_site_msg *req)
{
	const char *sid = mcd_site_str(req, MCD_ST_SESSION);
	const char *key = mcd_site_str(req, MCD_ST_END_KEY);

	if (!sid || !key || strlen(key) != MCD_SITE_END_KEY_LEN)
		return NULL;
	for (struct session *s = d->sessions; s; s = s->next) {
		if (strcmp(s->sid, sid) || s->pool ||
		    strlen(s->end_key) != MCD_SITE_END_KEY_LEN)
			continue;
		return CRYPTO_memcmp(s->end_key, key, MCD_SITE_END_KEY_LEN)
		       ? NULL : s;
	}
	return NULL;
}

/* END runs the path of `mcd-toolstack end`. */
static void on_end(struct daemon *d, struct client *c,
		   const struct mcd_site_msg *req)
{
	struct session *s = keyed_session(d, req);

	if (!s)
		return send_code(c, MCD_SITE_ERROR, MCD_SITE_E_NOT_FOUND,
				 "no such session, or a wrong end key");
	if (s->end_waiter)
		return send_code(c, MCD_SITE_ERROR, MCD_SITE_E_BUSY,
				 "the session is already being ended");
	s->end_waiter = c;
	c->s = s;
	log_info("session %s: end requested through the face from %s", s->sid,
		 c->face->addr);
	session_end(d, s);
}

static void on_status(struct face *f, struct daemon *d, struct client *c,
		      const struct mcd_site_msg *req)
{
	struct session *s = keyed_session(d, req);
	struct mcd_site_out *o;

	if (!s)
		return send_code(c, MCD_SITE_ERROR, MCD_SITE_E_NOT_FOUND,
				 "no such session, or a wrong end key");
	if (!(o = malloc(sizeof(*o))))
		fatal("out of memory");
	mcd_site_begin(o, MCD_SITE_SESSION_INFO);
	mcd_site_put_str(o, MCD_ST_SESSION, s->sid);
	mcd_site_put_str(o, MCD_ST_POOL, f->conf.name);
	mcd_site_put_str(o, MCD_ST_USER, s->user);
	mcd_site_put_str(o, MCD_ST_STATE, state_name(s));
	send_frame(c, o);
	free(o);
}

static void dispatch(struct daemon *d, struct client *c,
		     const struct mcd_site_msg *req)
{
	struct face *f = c->face->f;

	c->face->req = req->type;
	switch (req->type) {
	case MCD_SITE_LOAD: on_load(f, c); break;
	case MCD_SITE_LAUNCH: on_launch(d, f, c, req); break;
	case MCD_SITE_END: on_end(d, c, req); break;
	case MCD_SITE_STATUS: on_status(f, d, c, req); break;
	default:
		send_code(c, MCD_SITE_ERROR, MCD_SITE_E_BAD_REQUEST,
			  "not a request");
	}
}

/* Read what the child sent, never more than one frame: 1 with a whole
 * frame in fp->buf, 0 for more later, -1 when it went or broke the
 * framing. */
static int read_frame(int fd, struct face_peer *fp)
{
	char err[160];
	uint16_t type;

	for (;;) {
		size_t want = fp->have < MCD_SITE_HDR_LEN
			      ? MCD_SITE_HDR_LEN - fp->have
			      : MCD_SITE_HDR_LEN + fp->len - fp->have;
		ssize_t r;

		if (want == 0)
			return 1;
		r = recv(fd, fp->buf + fp->have, want, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return -1;
		fp->have += (size_t)r;
		/* The header is checked once, before any payload byte. */
		if (fp->have != MCD_SITE_HDR_LEN)
			continue;
		if (mcd_site_check_hdr(fp->buf, MCD_SITE_C2P, &type, &fp->len, err,
				       sizeof(err)) < 0) {
			log_warnx("face: child for %s: %s", fp->addr, err);
			return -1;
		}
	}
}

int face_readable(struct daemon *d, struct client *c)
{
	struct face_peer *fp = c->face;
	struct mcd_site_msg *m;
	char err[160];
	int r;

	if (c->closing)
		return 0;
	r = read_frame(c->fd, fp);
	if (r <= 0)
		return r;
	/* One request per connection: a second is a broken child. */
	if (fp->req || c->s)
		return -1;
	if (!(m = malloc(sizeof(*m))))
		fatal("out of memory");
	r = mcd_site_decode(fp->buf, fp->have, MCD_SITE_C2P, m, err, sizeof(err));
	OPENSSL_cleanse(fp->buf, fp->have);
	fp->have = 0;
	fp->len = 0;
	if (r < 0 || m->type == MCD_SITE_HELLO) {
		log_warnx("face: child for %s sent a bad request: %s", fp->addr,
			  r < 0 ? err : "HELLO");
		free(m);
		return -1;
	}
	dispatch(d, c, m);
	mcd_site_wipe(m);
	free(m);
	return 0;
}
