/*
 * wloop.h - the Windows agent's event loop: the channel to dom0, the app
 * and the timers in one WaitForMultipleObjects().
 *
 * Like the Linux loop (guest/linux-agent/loop.h): the channel is a server;
 * whenever it closes - dom0's service stopped or restarted, sent something
 * that is not the protocol, or did not read in time - it is closed and a
 * new server is offered at once, so a restarted dom0 service connects
 * again.  Nothing dom0 does makes the agent exit; only stop_event (the
 * service's stop or shutdown control, or Ctrl-C in a console) does.  On
 * stop a running app is asked to close, ended after WLOOP_STOP_GRACE_MS,
 * and reported EXITED to dom0 if dom0 is connected.
 */
#ifndef MCD_WIN_LOOP_H
#define MCD_WIN_LOOP_H

#include "wincore.h"

#include <windows.h>

enum wloop_transport {
	WLOOP_VCHAN = 1,
	WLOOP_TCP = 2,
};

struct wloop_opts {
	enum wloop_transport transport;
	int tcp_port;
	struct wconf conf;
	HANDLE stop_event;
};

#define WLOOP_SEND_TIMEOUT_MS 5000
#define WLOOP_HELLO_TIMEOUT_MS 30000
#define WLOOP_RETRY_MIN_MS 100
#define WLOOP_RETRY_MAX_MS 5000
/* On stop: how long the app may take to close its windows. */
#define WLOOP_STOP_GRACE_MS 2000

/* Serve dom0 until stop_event; returns the exit code (0). */
int wloop_run(const struct wloop_opts *o);

#endif /* MCD_WIN_LOOP_H */
