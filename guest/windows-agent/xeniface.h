/*
 * xeniface.h - the user-mode interface of the Xen Windows PV drivers'
 * XENIFACE device, as far as the agent uses it: XenStore, event channels
 * and grant tables.
 *
 * The IOCTL numbers and the input/output layouts below follow xeniface's
 * published interface (xeniface_ioctls.h in the win-xeniface project,
 * drivers 9.x).  They are an ABI between this program and a kernel driver:
 * every structure is checked against its expected size, because the driver
 * refuses any buffer whose length differs from what it expects.  The
 * device is found by its interface class GUID with SetupAPI.
 *
 * Grants: the _V2 IOCTLs (no request id; revoke by address) are tried
 * first; drivers that do not know them (ERROR_INVALID_FUNCTION or
 * ERROR_NOT_SUPPORTED) get the older request-id IOCTLs.  A grant request
 * stays pending in the driver for as long as the grant lives, and the
 * driver revokes it when the thread that issued it ends: grants must be
 * made and revoked on the one long-lived service thread.
 */
#ifndef MCD_WIN_XENIFACE_H
#define MCD_WIN_XENIFACE_H

#include <windows.h>
#include <winioctl.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* {b2cfb085-aa5e-47e1-8bf7-9793f3154565} */
#define XENIFACE_GUID_INIT \
	{ 0xb2cfb085, 0xaa5e, 0x47e1, \
	  { 0x8b, 0xf7, 0x97, 0x93, 0xf3, 0x15, 0x45, 0x65 } }

#define XI_CODE(fn, method) \
	CTL_CODE(FILE_DEVICE_UNKNOWN, (fn), (method), FILE_ANY_ACCESS)

#define XI_STORE_READ            XI_CODE(0x800, METHOD_BUFFERED)
#define XI_STORE_WRITE           XI_CODE(0x801, METHOD_BUFFERED)
#define XI_STORE_REMOVE          XI_CODE(0x803, METHOD_BUFFERED)
#define XI_STORE_SET_PERMISSIONS XI_CODE(0x804, METHOD_BUFFERED)
#define XI_EVTCHN_BIND_UNBOUND   XI_CODE(0x811, METHOD_BUFFERED)
#define XI_EVTCHN_CLOSE          XI_CODE(0x812, METHOD_BUFFERED)
#define XI_EVTCHN_NOTIFY         XI_CODE(0x813, METHOD_BUFFERED)
#define XI_EVTCHN_UNMASK         XI_CODE(0x814, METHOD_BUFFERED)
#define XI_GNTTAB_PERMIT         XI_CODE(0x820, METHOD_NEITHER)
#define XI_GNTTAB_REVOKE         XI_CODE(0x821, METHOD_BUFFERED)
#define XI_GNTTAB_PERMIT_V2      XI_CODE(0x824, METHOD_NEITHER)
#define XI_GNTTAB_REVOKE_V2      XI_CODE(0x825, METHOD_BUFFERED)

/* XenStore permission masks. */
#define XI_PERM_NONE  0
#define XI_PERM_READ  1
#define XI_PERM_WRITE 2

struct xi_store_perm {
	USHORT domain;
	int mask;              /* an enum in the driver: 4 bytes */
};

struct xi_store_set_perms_in {
	PCHAR path;
	ULONG path_len;        /* with the NUL */
	ULONG count;
	struct xi_store_perm perms[2];
};

struct xi_evtchn_bind_unbound_in {
	USHORT remote_domain;
	BOOLEAN mask;
	HANDLE event;
};

struct xi_evtchn_port {
	ULONG local_port;      /* bind output; close/notify/unmask input */
};

/* Grant flags. */
#define XI_GNT_READONLY          1
#define XI_GNT_USE_NOTIFY_OFFSET 2
#define XI_GNT_USE_NOTIFY_PORT   4

struct xi_gnttab_permit_in {      /* the request-id version */
	ULONG request_id;
	USHORT remote_domain;
	ULONG pages;
	int flags;
	ULONG notify_offset;
	ULONG notify_port;
};

struct xi_gnttab_permit_in_v2 {
	USHORT remote_domain;
	PVOID address;         /* NULL: the driver allocates the pages */
	ULONG pages;
	int flags;
	ULONG notify_offset;
	ULONG notify_port;
};

struct xi_gnttab_permit_out {
	PVOID address;         /* where the pages are mapped in this process */
	ULONG refs[1];         /* one grant reference per page */
};

struct xi_gnttab_revoke_in {
	ULONG request_id;
};

struct xi_gnttab_revoke_in_v2 {
	PVOID address;
};

/* The layouts the driver checks byte for byte (Windows x64). */
_Static_assert(sizeof(struct xi_store_perm) == 8, "XENIFACE_STORE_PERMISSION");
_Static_assert(offsetof(struct xi_store_set_perms_in, perms) == 16,
	       "XENIFACE_STORE_SET_PERMISSIONS_IN");
_Static_assert(sizeof(struct xi_evtchn_bind_unbound_in) == 16,
	       "XENIFACE_EVTCHN_BIND_UNBOUND_IN");
_Static_assert(sizeof(struct xi_evtchn_port) == 4, "XENIFACE_EVTCHN_*");
_Static_assert(sizeof(struct xi_gnttab_permit_in) == 24,
	       "XENIFACE_GNTTAB_PERMIT_FOREIGN_ACCESS_IN");
_Static_assert(sizeof(struct xi_gnttab_permit_in_v2) == 32,
	       "XENIFACE_GNTTAB_PERMIT_FOREIGN_ACCESS_IN_V2");
_Static_assert(offsetof(struct xi_gnttab_permit_out, refs) == 8,
	       "XENIFACE_GNTTAB_PERMIT_FOREIGN_ACCESS_OUT");

/* An open XENIFACE device. */
struct xeniface {
	HANDLE dev;            /* opened for overlapped I/O */
	HANDLE io_event;       /* for the synchronous calls */
	ULONG next_request_id;
};

/* A grant of driver-allocated pages to another domain. */
#define XI_MAX_GRANT_PAGES 16
struct xi_grant {
	void *addr;            /* NULL when not granted */
	ULONG pages;
	ULONG request_id;      /* 0 when made with the _V2 IOCTL */
	OVERLAPPED ov;         /* stays pending while the grant lives */
	union {
		struct xi_gnttab_permit_out out;
		uint8_t raw[offsetof(struct xi_gnttab_permit_out, refs) +
			    XI_MAX_GRANT_PAGES * sizeof(ULONG)];
	} u;
};

/* Grant reference of page i of g (read from the raw output buffer: the
 * driver writes one reference per page past the declared array). */
static inline ULONG xi_grant_ref(const struct xi_grant *g, unsigned i)
{
	ULONG ref;

	memcpy(&ref, g->u.raw + offsetof(struct xi_gnttab_permit_out, refs) +
		     (size_t)i * sizeof(ULONG), sizeof(ref));
	return ref;
}

/* Open the first XENIFACE device; 0, or -1 with err set. */
int xi_open(struct xeniface *xi, char *err, size_t errlen);
void xi_close(struct xeniface *xi);

/* XenStore.  Paths are absolute, or relative to /local/domain/<own id>.
 * Each returns 0, or -1 with the Windows error in GetLastError(). */
int xi_store_read(struct xeniface *xi, const char *path, char *val,
		  size_t vallen);
int xi_store_write(struct xeniface *xi, const char *path, const char *val);
int xi_store_remove(struct xeniface *xi, const char *path);
/* Owner domain `owner` (no access for others) and read access for
 * `reader`. */
int xi_store_set_owner_reader(struct xeniface *xi, const char *path,
			      USHORT owner, USHORT reader);

/* An unbound event channel for remote_domain, signalling event (an
 * auto-reset event) when the peer notifies; *port is the local port. */
int xi_evtchn_bind_unbound(struct xeniface *xi, USHORT remote_domain,
			   HANDLE event, ULONG *port);
int xi_evtchn_notify(struct xeniface *xi, ULONG port);
int xi_evtchn_close(struct xeniface *xi, ULONG port);

/* Grant `pages` zeroed pages to remote_domain (flags XI_GNT_*; with
 * XI_GNT_USE_NOTIFY_OFFSET the driver clears the byte at notify_offset and
 * notifies notify_port when the grant is revoked).  0, or -1. */
int xi_grant(struct xeniface *xi, struct xi_grant *g, USHORT remote_domain,
	     ULONG pages, int flags, ULONG notify_offset, ULONG notify_port);
/* Revoke and wait for the driver to finish the pending request. */
void xi_revoke(struct xeniface *xi, struct xi_grant *g);

#endif /* MCD_WIN_XENIFACE_H */
