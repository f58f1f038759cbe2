/*
 * run.h - running one app, as `mcd-client run` and each row of the menu
 * do: the app's pools from the broker, their loads at once, the choice,
 * a ticket, the launch, and then the session until it ends.
 */
#ifndef CLIENT_RUN_H
#define CLIENT_RUN_H

#include <signal.h>

#include "conf.h"
#include "state.h"

typedef struct ssl_ctx_st SSL_CTX;

struct run_opts {
	const char *app;        /* app id (or its exact display name) */
	const char *display;    /* host:N the pool reaches this X server at */
	int wait_sec;           /* -1: do not wait for room; else while every
				 * pool is full, ask them again every few
				 * seconds for up to wait_sec seconds */
	int detach;             /* return at READY */
	int json;               /* events as JSON lines */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

/* The whole run; prints its progress lines on stdout and one line on
 * stderr on failure.  Returns the exit code (enum talk_exit). */
int run_app(const struct conf *c, SSL_CTX *ctx, const struct state_token *tok,
	    const struct run_opts *o);

#endif /* CLIENT_RUN_H */
