/*
 * serve.h - `mcd-broker serve`: the listening parent and its
 * per-connection children.
 *
 * The parent only accepts and forks; it never reads a client byte.  Each
 * child does the TLS handshake and HELLO with deadlines, serves one
 * request (request.h) and exits, so a slow, silent or hostile client
 * costs its own child and nothing else.  At most SERVE_CHILDREN_MAX
 * children run at once; connections beyond that are closed unanswered.
 * Children cannot dump core (they hold passwords in memory) and die after
 * SERVE_CHILD_MAX_S seconds whatever happens.  SIGTERM or SIGINT ends the
 * parent cleanly (children finish their request).
 */
#ifndef BROKER_SERVE_H
#define BROKER_SERVE_H

#define SERVE_CHILDREN_MAX 64
#define SERVE_CHILD_MAX_S 120

struct serve_opts {
	const char *db;
	const char *listen;     /* "ADDR:PORT", port 0: the kernel picks */
	const char *cert, *key; /* the server's certificate chain and key */
	const char *ticket_key; /* Ed25519 private key (PEM) */
	const char *log_file;   /* NULL: stderr, or syslog once detached */
	int foreground;
	unsigned max_children;  /* 0: SERVE_CHILDREN_MAX */
};

/* Run the server until SIGTERM.  Prints "listening on ADDR:PORT" on
 * stdout once it accepts.  Returns the exit status. */
int serve_main(const struct serve_opts *o);

#endif /* BROKER_SERVE_H */
