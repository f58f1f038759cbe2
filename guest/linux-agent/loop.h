/*
 * loop.h - the agent's event loop: the channel to dom0, child processes and
 * timers, all in one poll(2).
 *
 * The channel is a server (vchan in the own XenStore area, or the Unix
 * socket stand-in).  Whenever it closes - dom0's service stopped, crashed,
 * sent something that is not the protocol, or let too much pile up - the
 * loop closes it, removes the stale XenStore nodes and offers a new server
 * at once, so a restarted dom0 service can connect again.  Nothing dom0
 * does makes the agent exit; only SIGTERM/SIGINT do.
 */
#ifndef MCD_AGENT_LOOP_H
#define MCD_AGENT_LOOP_H

#include "conf.h"
#include "mcd_proto.h"

enum loop_transport {
	LOOP_VCHAN = 1,
	LOOP_SOCKET = 2,
};

struct loop_opts {
	enum loop_transport transport;
	const char *socket_path; /* LOOP_SOCKET */
	struct conf conf;
};

/* How long a connected client may take to send its HELLO. */
#define LOOP_HELLO_TIMEOUT_MS 30000
/* At most this many descriptors of the X side in one poll. */
#define LOOP_MAX_XFDS (2 * MCD_MAX_X_CONNS + 4)
/* Retry delays when the server cannot be created (no XenStore yet, ...). */
#define LOOP_RETRY_MIN_MS 100
#define LOOP_RETRY_MAX_MS 5000

/* Serve dom0 until SIGTERM or SIGINT; returns the process exit code. */
int loop_run(const struct loop_opts *o);

#endif /* MCD_AGENT_LOOP_H */
