/*
 * xs.h - the agent's XenStore area, /local/domain/<own domid>/data/mcd/.
 *
 * The agent writes two things there and nothing else: the vchan nodes
 * (libxenvchan writes them under MCD_XS_GUEST_VCHAN) and the informational
 * MCD_XS_GUEST_AGENT node ("<protocol version> linux").  No secret is ever
 * written.  Before a vchan server is (re-)created the stale vchan nodes are
 * removed, so dom0 never reads a ring reference of a server that is gone.
 */
#ifndef MCD_AGENT_XS_H
#define MCD_AGENT_XS_H

#include <stddef.h>

struct xs_handle;

/* "/local/domain/" + 5 digits + "/data/mcd/vchan" + NUL, with room. */
#define AXS_PATH_MAX 64

struct axs {
	struct xs_handle *h;
	int domid;
	char dir[AXS_PATH_MAX];   /* .../data/mcd */
	char vchan[AXS_PATH_MAX]; /* .../data/mcd/vchan */
	char agent[AXS_PATH_MAX]; /* .../data/mcd/agent */
	int announced;
};

/* Connect to XenStore and learn the own domid; 0, or -1 with err set.
 * Safe to call again after a failure. */
int axs_open(struct axs *x, char *err, size_t errlen);
/* Remove stale vchan nodes and (once) write the agent node. 0 or -1. */
int axs_prepare(struct axs *x);
/* Write len bytes, as given, to <dir>/rel (rel like "agent" or
 * "vchan/ring-ref"); only the hostile test agent writes junk this way. */
int axs_write_raw(struct axs *x, const char *rel, const void *val,
		  size_t len);
/* Remove the agent's nodes (clean shutdown) when remove, then disconnect. */
void axs_close(struct axs *x, int remove);
/* Parse a domid as XenStore gives it: decimal, no sign, below 0x7ff0. */
int axs_parse_domid(const char *s, size_t len);

#endif /* MCD_AGENT_XS_H */
