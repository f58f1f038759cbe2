/*
 * xs.c - announce the agent in its XenStore area (see xs.h).
 */
#include "xs.h"

#include "log.h"
#include "mcd_proto.h"
#include "mcd_xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

/* Domain ids from DOMID_FIRST_RESERVED (0x7ff0) up are not domains. */
#define AXS_DOMID_LIMIT 0x7ff0

int axs_parse_domid(const char *s, size_t len)
{
	long v = 0;

	if (!s || len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if ((len > 1 && s[0] == '0') || v >= AXS_DOMID_LIMIT)
		return -1;
	return (int)v;
}

int axs_open(struct axs *x, char *err, size_t errlen)
{
	unsigned int len = 0;
	char *v;

	if (x->h)
		return 0;
	x->h = xs_open(0);
	if (!x->h) {
		snprintf(err, errlen, "cannot connect to XenStore: %s",
			 strerror(errno));
		return -1;
	}
	/* A relative path is relative to the own domain's home. */
	v = xs_read(x->h, XBT_NULL, "domid", &len);
	x->domid = v ? axs_parse_domid(v, len) : -1;
	free(v);
	if (x->domid < 0) {
		snprintf(err, errlen, "cannot read own domid from XenStore");
		xs_close(x->h);
		x->h = NULL;
		return -1;
	}
	snprintf(x->dir, sizeof(x->dir), "/local/domain/%d/%s", x->domid,
		 MCD_XS_GUEST_DIR);
	snprintf(x->vchan, sizeof(x->vchan), "/local/domain/%d/%s", x->domid,
		 MCD_XS_GUEST_VCHAN);
	snprintf(x->agent, sizeof(x->agent), "/local/domain/%d/%s", x->domid,
		 MCD_XS_GUEST_AGENT);
	return 0;
}

int axs_prepare(struct axs *x)
{
	char val[16];

	if (!x->h)
		return -1;
	if (!xs_rm(x->h, XBT_NULL, x->vchan) && errno != ENOENT)
		log_warn("removing stale %s", x->vchan);
	if (x->announced)
		return 0;
	snprintf(val, sizeof(val), "%d linux", MCD_PROTO_VERSION_MAX);
	if (!xs_write(x->h, XBT_NULL, x->agent, val, strlen(val))) {
		log_warn("writing %s", x->agent);
		return -1;
	}
	x->announced = 1;
	return 0;
}

int axs_write_raw(struct axs *x, const char *rel, const void *val,
		  size_t len)
{
	char path[AXS_PATH_MAX * 2];

	if (!x->h)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", x->dir, rel);
	return xs_write(x->h, XBT_NULL, path, val, (unsigned)len) ? 0 : -1;
}

void axs_close(struct axs *x, int remove)
{
	if (!x->h)
		return;
	if (remove) {
		xs_rm(x->h, XBT_NULL, x->vchan);
		xs_rm(x->h, XBT_NULL, x->agent);
	}
	xs_close(x->h);
	x->h = NULL;
	x->announced = 0;
}
