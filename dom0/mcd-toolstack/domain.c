/*
 * domain.c - create and destroy guest domains with libxl; see domain.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <libxl_uuid.h>

#include "domain.h"
#include "log.h"

struct mcd_xen {
	libxl_ctx		*ctx;
	xentoollog_logger	*lg;
};

/*
 * libxl keeps SIGCHLD for the whole life of the process and reaps only its
 * own children; the daemon reaps its own with waitpid(pid).  libxl keeps a
 * pointer to this, so it must outlive every context.
 */
static const libxl_childproc_hooks xen_childproc_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

static const char *
xl_strerror(int rc)
{
	const char *s = libxl_error_to_string(rc);

	return s ? s : "unknown libxl error";
}

int
xen_open(struct mcd_xen **xp)
{
	struct mcd_xen *x;
	int rc;

	*xp = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		log_warn("xen_open");
		return -1;
	}
	if ((x->lg = log_xtl()) == NULL) {
		log_warnx("xen_open: cannot create the libxl logger");
		free(x);
		return -1;
	}
	rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, x->lg);
	if (rc != 0 || x->ctx == NULL) {
		log_warnx("cannot open libxl (is this dom0 of a running "
		    "Xen, with xenstored up?): %s", xl_strerror(rc));
		xtl_logger_destroy(x->lg);
		free(x);
		return -1;
	}
	libxl_childproc_setmode(x->ctx, &xen_childproc_hooks, NULL);
	*xp = x;
	return 0;
}

void
xen_close(struct mcd_xen *x)
{
	if (x == NULL)
		return;
	libxl_ctx_free(x->ctx);
	xtl_logger_destroy(x->lg);
	free(x);
}

libxl_ctx *
xen_ctx(struct mcd_xen *x)
{
	return x->ctx;
}

/* Destroy domid after a failed create, if it was made at all. */
static void
domain_undo(struct mcd_xen *x, uint32_t domid, const char *name)
{
	if (!libxl_domid_valid_guest(domid))
		return;
	if (domain_destroy(x, domid) != 0)
		log_warnx("domain %s (%u): half-made domain could not be "
		    "destroyed; it needs `xl destroy %u`", name, domid,
		    domid);
}

int
domain_create(struct mcd_xen *x, libxl_domain_config *dc, const char *name,
    uint32_t *domid, char *err, size_t errlen)
{
	uint32_t id = INVALID_DOMID, other;
	size_t len;
	char *dup;
	int rc;

	*domid = INVALID_DOMID;
	len = name ? strnlen(name, DOMAIN_NAME_MAX + 1) : 0;
	if (len == 0 || len > DOMAIN_NAME_MAX) {
		seterr(err, errlen, "domain name must be 1..%d characters",
		    DOMAIN_NAME_MAX);
		return -1;
	}
	if (dc->c_info.type != LIBXL_DOMAIN_TYPE_PV) {
		seterr(err, errlen, "domain %s: only PV domains are "
		    "supported", name);
		return -1;
	}
	/* Best effort: names come from the daemon and are unique anyway. */
	if (libxl_name_to_domid(x->ctx, name, &other) == 0) {
		seterr(err, errlen, "domain %s: name already used by domain "
		    "%u", name, other);
		return -1;
	}
	if ((dup = strdup(name)) == NULL) {
		seterr(err, errlen, "domain %s: out of memory", name);
		return -1;
	}
	free(dc->c_info.name);
	dc->c_info.name = dup;
	libxl_uuid_generate(&dc->c_info.uuid);

	log_debug("domain %s: creating", name);
	rc = libxl_domain_create_new(x->ctx, dc, &id, NULL, NULL);
	if (rc != 0) {
		seterr(err, errlen, "domain %s: libxl_domain_create_new "
		    "failed: %s (see the libxl messages before this)", name,
		    xl_strerror(rc));
		log_warnx("%s", err ? err : "domain_create failed");
		domain_undo(x, id, name);
		return -1;
	}
	rc = libxl_domain_unpause(x->ctx, id, NULL);
	if (rc != 0) {
		seterr(err, errlen, "domain %s (%u): libxl_domain_unpause "
		    "failed: %s", name, id, xl_strerror(rc));
		log_warnx("%s", err ? err : "domain_create failed");
		domain_undo(x, id, name);
		return -1;
	}
	log_info("domain %s: created as domid %u", name, id);
	*domid = id;
	return 0;
}

int
domain_destroy(struct mcd_xen *x, uint32_t domid)
{
	int rc;

	if (!libxl_domid_valid_guest(domid)) {
		log_warnx("domain_destroy: refusing domid %u (not a guest)",
		    domid);
		return -1;
	}
	/* Ask first: libxl logs an error for a domain that is gone. */
	rc = libxl_domain_info(x->ctx, NULL, domid);
	if (rc == ERROR_DOMAIN_NOTFOUND)
		return 0;
	rc = libxl_domain_destroy(x->ctx, domid, NULL);
	if (rc == ERROR_DOMAIN_NOTFOUND)
		return 0;
	if (rc != 0) {
		log_warnx("domain %u: libxl_domain_destroy failed: %s", domid,
		    xl_strerror(rc));
		return -1;
	}
	log_debug("domain %u: destroyed", domid);
	return 0;
}

int
domain_state(struct mcd_xen *x, uint32_t domid)
{
	libxl_dominfo info;
	int rc, st;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(x->ctx, &info, domid);
	if (rc == ERROR_DOMAIN_NOTFOUND) {
		st = DOMAIN_GONE;
	} else if (rc != 0) {
		log_warnx("domain %u: libxl_domain_info failed: %s", domid,
		    xl_strerror(rc));
		st = -1;
	} else if (info.shutdown || info.dying) {
		st = DOMAIN_DEAD;
	} else {
		st = DOMAIN_ALIVE;
	}
	libxl_dominfo_dispose(&info);
	return st;
}

int
domain_exists(struct mcd_xen *x, uint32_t domid, char *name_out, size_t n)
{
	char *name;
	int st;

	if (name_out && n > 0)
		name_out[0] = '\0';
	st = domain_state(x, domid);
	if (st <= 0)
		return st;
	if (name_out && n > 0) {
		name = libxl_domid_to_name(x->ctx, domid);
		if (name)
			snprintf(name_out, n, "%s", name);
		free(name);
	}
	return 1;
}

int
domain_list_prefixed(struct mcd_xen *x, const char *prefix,
    void (*cb)(uint32_t domid, const char *name, void *arg), void *arg)
{
	libxl_dominfo *list;
	size_t plen = prefix ? strlen(prefix) : 0;
	char *name;
	int i, nb = 0, count = 0;

	list = libxl_list_domain(x->ctx, &nb);
	if (list == NULL) {
		log_warnx("libxl_list_domain failed");
		return -1;
	}
	for (i = 0; i < nb; i++) {
		if (!libxl_domid_valid_guest(list[i].domid))
			continue;
		name = libxl_domid_to_name(x->ctx, list[i].domid);
		if (name == NULL)
			continue;	/* not named yet, or just destroyed */
		if (plen == 0 || strncmp(name, prefix, plen) == 0) {
			count++;
			cb(list[i].domid, name, arg);
		}
		free(name);
	}
	libxl_dominfo_list_free(list, nb);
	return count;
}
