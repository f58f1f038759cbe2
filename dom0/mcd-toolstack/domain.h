/*
 * domain.h - the daemon's thin wrapper over libxl: create, destroy, look up
 * and list guest domains.
 *
 * Threads.  One struct mcd_xen (one libxl_ctx) serves the whole process and
 * every function here may be called from any thread at the same time: libxl
 * locks its context itself, and synchronous libxl operations run their own
 * event loop on the calling thread.  So a worker thread may sit in
 * domain_create for seconds while the main thread polls other things.
 *
 * Child processes and signals.  libxl forks (hotplug scripts, bootloader,
 * device model).  xen_open puts the context in libxl's
 * "always_selective_reap" mode: libxl keeps a SIGCHLD handler installed for
 * the life of the process and reaps only its own children.  The rest of the
 * program therefore MUST:
 *   - not install a SIGCHLD handler, not set SIGCHLD to SIG_IGN, and not
 *     take SIGCHLD with signalfd/sigwait;
 *   - reap its own children only with waitpid(<that pid>, ...), never with
 *     wait() or waitpid(-1, ...);
 *   - keep SIGCHLD unblocked in at least one thread (blocking it in the
 *     worker threads is fine);
 *   - expect EINTR from poll() and other slow calls on any thread when
 *     one of libxl's children exits;
 *   - ignore SIGPIPE (libxl writes to sockets and pipes);
 *   - daemonize (fork) before xen_open; a child forked afterwards must exec
 *     at once or call libxl_postfork_child_noexec().
 *
 * Shutdown.  The on_poweroff/on_reboot/on_crash actions in a domain config
 * are carried out by a toolstack, not by Xen: nothing here runs them in the
 * background.  A guest that shuts down stays as a zombie until someone calls
 * domain_destroy; domain_state tells the daemon when that is needed.
 *
 * libxl's own messages go through the logger from log_xtl(); the functions
 * below add one line saying which operation failed.
 */
#ifndef MCD_DOMAIN_H
#define MCD_DOMAIN_H

#include <stddef.h>
#include <stdint.h>
#include <libxl.h>

#define DOMAIN_NAME_MAX	64	/* what MCD gives a domain, without NUL */

struct mcd_xen;		/* a libxl_ctx and its logger */

/* Open libxl.  0 and *x on success; -1 (logged) if Xen is not reachable. */
int xen_open(struct mcd_xen **x);
/* Free the context and logger.  NULL is fine. */
void xen_close(struct mcd_xen *x);
/* The underlying context, for libxl calls not wrapped here. */
libxl_ctx *xen_ctx(struct mcd_xen *x);

/*
 * Create a domain called name from dc (as filled by template_load) and
 * unpause it.  Synchronous: returns when the guest's kernel is running.
 * Sets dc->c_info.name and a fresh uuid; libxl also fills in defaults, so
 * load a new dc for every launch and dispose it afterwards.  name must be
 * 1..DOMAIN_NAME_MAX characters and not in use by another domain.
 * Returns 0 with *domid set; on failure -1, one line in err, *domid =
 * INVALID_DOMID, and any half-made domain has been destroyed.
 */
int domain_create(struct mcd_xen *x, libxl_domain_config *dc,
    const char *name, uint32_t *domid, char *err, size_t errlen);

/*
 * Destroy a guest domain and wait until it is gone.  0 on success or if it
 * was already gone; -1 (logged) on error.  Refuses dom0 and invalid domids.
 */
int domain_destroy(struct mcd_xen *x, uint32_t domid);

/*
 * 1 if domid exists (running, paused or shut down), with its name copied
 * to name_out ("" if it has none, truncated to n; name_out may be NULL);
 * 0 if it does not; -1 (logged) on error.
 */
int domain_exists(struct mcd_xen *x, uint32_t domid, char *name_out,
    size_t n);

enum domain_state {
	DOMAIN_GONE = 0,
	DOMAIN_ALIVE = 1,	/* running, blocked or paused */
	DOMAIN_DEAD = 2,	/* shut down or dying: call domain_destroy */
};

/* One of enum domain_state, or -1 (logged) on error. */
int domain_state(struct mcd_xen *x, uint32_t domid);

/*
 * Call cb(domid, name, arg) for every guest domain (never dom0) whose name
 * starts with prefix ("" or NULL: every named guest).  For reaping orphans
 * after a restart.  Returns the number of matches, or -1 (logged).
 */
int domain_list_prefixed(struct mcd_xen *x, const char *prefix,
    void (*cb)(uint32_t domid, const char *name, void *arg), void *arg);

#endif /* MCD_DOMAIN_H */
