/*
 * menu.h - `mcd-client menu`: a small X window listing the user's apps; a
 * click on a row runs that app (in a child, as `run` does) and the row
 * follows its state.
 */
#ifndef CLIENT_MENU_H
#define CLIENT_MENU_H

#include "conf.h"
#include "state.h"
#include "talk.h"

/* display: the HOST:N the pools reach this X server at (the window itself
 * opens on $DISPLAY).  Returns the exit code. */
int menu_main(const struct conf *c, SSL_CTX *ctx,
	      const struct state_token *tok, const char *display);

#endif /* CLIENT_MENU_H */
