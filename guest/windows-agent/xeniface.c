/*
 * xeniface.c - XenStore, event channels and grants through the XENIFACE
 * device of the Xen Windows PV drivers (see xeniface.h).
 */
#include "xeniface.h"

#include <setupapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const GUID xeniface_guid = XENIFACE_GUID_INIT;

int xi_open(struct xeniface *xi, char *err, size_t errlen)
{
	SP_DEVICE_INTERFACE_DETAIL_DATA_W *detail = NULL;
	SP_DEVICE_INTERFACE_DATA ifd;
	HDEVINFO set;
	DWORD size = 0;
	int rc = -1;

	memset(xi, 0, sizeof(*xi));
	xi->dev = INVALID_HANDLE_VALUE;
	set = SetupDiGetClassDevsW(&xeniface_guid, NULL, NULL,
				   DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
	if (set == INVALID_HANDLE_VALUE) {
		snprintf(err, errlen, "no XENIFACE device class (error %lu): "
			 "are the Xen PV drivers installed?", GetLastError());
		return -1;
	}
	ifd.cbSize = sizeof(ifd);
	if (!SetupDiEnumDeviceInterfaces(set, NULL, &xeniface_guid, 0, &ifd)) {
		snprintf(err, errlen, "no XENIFACE device (error %lu): are "
			 "xenbus and xeniface installed?", GetLastError());
		goto out;
	}
	SetupDiGetDeviceInterfaceDetailW(set, &ifd, NULL, 0, &size, NULL);
	if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || size == 0 ||
	    !(detail = malloc(size))) {
		snprintf(err, errlen, "XENIFACE device path: error %lu",
			 GetLastError());
		goto out;
	}
	detail->cbSize = sizeof(*detail);
	if (!SetupDiGetDeviceInterfaceDetailW(set, &ifd, detail, size, NULL,
					      NULL)) {
		snprintf(err, errlen, "XENIFACE device path: error %lu",
			 GetLastError());
		goto out;
	}
	xi->dev = CreateFileW(detail->DevicePath, GENERIC_READ | GENERIC_WRITE,
			      FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
			      OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	if (xi->dev == INVALID_HANDLE_VALUE) {
		snprintf(err, errlen, "cannot open the XENIFACE device: error "
			 "%lu", GetLastError());
		goto out;
	}
	xi->io_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!xi->io_event) {
		snprintf(err, errlen, "CreateEvent: error %lu", GetLastError());
		CloseHandle(xi->dev);
		xi->dev = INVALID_HANDLE_VALUE;
		goto out;
	}
	xi->next_request_id = 1;
	rc = 0;
out:
	free(detail);
	SetupDiDestroyDeviceInfoList(set);
	return rc;
}

void xi_close(struct xeniface *xi)
{
	if (xi->dev != INVALID_HANDLE_VALUE && xi->dev)
		CloseHandle(xi->dev);
	if (xi->io_event)
		CloseHandle(xi->io_event);
	xi->dev = INVALID_HANDLE_VALUE;
	xi->io_event = NULL;
}

/*
 * One synchronous request.  The device is opened for overlapped I/O, so
 * even requests the driver completes at once get an OVERLAPPED, and we wait
 * for them.  Returns the bytes returned, or -1 (GetLastError() set).
 */
static long xi_ioctl(struct xeniface *xi, DWORD code, void *in, DWORD inlen,
		     void *out, DWORD outlen)
{
	OVERLAPPED ov;
	DWORD got = 0;

	memset(&ov, 0, sizeof(ov));
	ResetEvent(xi->io_event);
	ov.hEvent = xi->io_event;
	if (!DeviceIoControl(xi->dev, code, in, inlen, out, outlen, NULL, &ov)
	    && GetLastError() != ERROR_IO_PENDING)
		return -1;
	if (!GetOverlappedResult(xi->dev, &ov, &got, TRUE))
		return -1;
	return (long)got;
}

int xi_store_read(struct xeniface *xi, const char *path, char *val,
		  size_t vallen)
{
	long n;

	if (vallen < 2 || vallen > 65536)
		return -1;
	n = xi_ioctl(xi, XI_STORE_READ, (void *)path, (DWORD)strlen(path) + 1,
		     val, (DWORD)vallen);
	if (n <= 0)
		return -1;
	/* The driver NUL-terminates; never trust that blindly. */
	val[(size_t)n < vallen ? (size_t)n - 1 : vallen - 1] = '\0';
	return 0;
}

int xi_store_write(struct xeniface *xi, const char *path, const char *val)
{
	size_t pl = strlen(path) + 1, vl = strlen(val) + 1;
	char buf[512];

	/* path NUL value NUL NUL */
	if (pl + vl + 1 > sizeof(buf))
		return -1;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	buf[pl + vl] = '\0';
	return xi_ioctl(xi, XI_STORE_WRITE, buf, (DWORD)(pl + vl + 1), NULL,
			0) < 0 ? -1 : 0;
}

int xi_store_remove(struct xeniface *xi, const char *path)
{
	return xi_ioctl(xi, XI_STORE_REMOVE, (void *)path,
			(DWORD)strlen(path) + 1, NULL, 0) < 0 ? -1 : 0;
}

int xi_store_set_owner_reader(struct xeniface *xi, const char *path,
			      USHORT owner, USHORT reader)
{
	struct xi_store_set_perms_in in;

	memset(&in, 0, sizeof(in));
	in.path = (PCHAR)path;
	in.path_len = (ULONG)strlen(path) + 1;
	in.count = 2;
	in.perms[0].domain = owner;
	in.perms[0].mask = XI_PERM_NONE;
	in.perms[1].domain = reader;
	in.perms[1].mask = XI_PERM_READ;
	return xi_ioctl(xi, XI_STORE_SET_PERMISSIONS, &in,
			(DWORD)(offsetof(struct xi_store_set_perms_in, perms) +
				2 * sizeof(struct xi_store_perm)),
			NULL, 0) < 0 ? -1 : 0;
}

int xi_evtchn_bind_unbound(struct xeniface *xi, USHORT remote_domain,
			   HANDLE event, ULONG *port)
{
	struct xi_evtchn_bind_unbound_in in;
	struct xi_evtchn_port out = { 0 };

	memset(&in, 0, sizeof(in));
	in.remote_domain = remote_domain;
	in.mask = FALSE;
	in.event = event;
	if (xi_ioctl(xi, XI_EVTCHN_BIND_UNBOUND, &in, sizeof(in), &out,
		     sizeof(out)) != (long)sizeof(out))
		return -1;
	*port = out.local_port;
	return 0;
}

static int port_ioctl(struct xeniface *xi, DWORD code, ULONG port)
{
	struct xi_evtchn_port in = { port };

	return xi_ioctl(xi, code, &in, sizeof(in), NULL, 0) < 0 ? -1 : 0;
}

int xi_evtchn_notify(struct xeniface *xi, ULONG port)
{
	return port_ioctl(xi, XI_EVTCHN_NOTIFY, port);
}

int xi_evtchn_close(struct xeniface *xi, ULONG port)
{
	return port_ioctl(xi, XI_EVTCHN_CLOSE, port);
}

/* Start a grant request; it must stay pending (the grant lives until it
 * is revoked).  1 pending, 0 refused (error in GetLastError()). */
static int grant_start(struct xeniface *xi, struct xi_grant *g, DWORD code,
		       void *in, DWORD inlen)
{
	DWORD outlen = (DWORD)(offsetof(struct xi_gnttab_permit_out, refs) +
			       g->pages * sizeof(ULONG));

	memset(&g->ov, 0, sizeof(g->ov));
	g->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!g->ov.hEvent)
		return 0;
	if (DeviceIoControl(xi->dev, code, in, inlen, &g->u.out, outlen, NULL,
			    &g->ov)) {
		/* Completed at once: the driver did not keep the grant. */
		CloseHandle(g->ov.hEvent);
		g->ov.hEvent = NULL;
		SetLastError(ERROR_INVALID_FUNCTION);
		return 0;
	}
	if (GetLastError() != ERROR_IO_PENDING) {
		DWORD e = GetLastError();

		CloseHandle(g->ov.hEvent);
		g->ov.hEvent = NULL;
		SetLastError(e);
		return 0;
	}
	return 1;
}

int xi_grant(struct xeniface *xi, struct xi_grant *g, USHORT remote_domain,
	     ULONG pages, int flags, ULONG notify_offset, ULONG notify_port)
{
	struct xi_gnttab_permit_in_v2 in2;
	struct xi_gnttab_permit_in in1;

	if (pages == 0 || pages > XI_MAX_GRANT_PAGES)
		return -1;
	memset(g, 0, sizeof(*g));
	g->pages = pages;
	memset(&in2, 0, sizeof(in2));
	in2.remote_domain = remote_domain;
	in2.address = NULL;
	in2.pages = pages;
	in2.flags = flags;
	in2.notify_offset = notify_offset;
	in2.notify_port = notify_port;
	if (!grant_start(xi, g, XI_GNTTAB_PERMIT_V2, &in2, sizeof(in2))) {
		DWORD e = GetLastError();

		if (e != ERROR_INVALID_FUNCTION && e != ERROR_NOT_SUPPORTED &&
		    e != ERROR_INVALID_PARAMETER)
			return -1;
		/* An older driver: the request-id IOCTL. */
		memset(&in1, 0, sizeof(in1));
		in1.request_id = xi->next_request_id++;
		in1.remote_domain = remote_domain;
		in1.pages = pages;
		in1.flags = flags;
		in1.notify_offset = notify_offset;
		in1.notify_port = notify_port;
		if (!grant_start(xi, g, XI_GNTTAB_PERMIT, &in1, sizeof(in1)))
			return -1;
		g->request_id = in1.request_id;
	}
	g->addr = g->u.out.address;
	if (!g->addr) {
		xi_revoke(xi, g);
		return -1;
	}
	/* Nothing of a previous user of these pages may reach dom0. */
	memset(g->addr, 0, (size_t)pages * 4096);
	return 0;
}

void xi_revoke(struct xeniface *xi, struct xi_grant *g)
{
	DWORD got;

	if (!g->ov.hEvent)
		return;
	if (g->request_id) {
		struct xi_gnttab_revoke_in in = { g->request_id };

		xi_ioctl(xi, XI_GNTTAB_REVOKE, &in, sizeof(in), NULL, 0);
	} else {
		struct xi_gnttab_revoke_in_v2 in = { g->u.out.address };

		xi_ioctl(xi, XI_GNTTAB_REVOKE_V2, &in, sizeof(in), NULL, 0);
	}
	/* The pending request completes (cancelled) once the driver has
	 * unmapped the pages; wait for it, but never forever. */
	if (WaitForSingleObject(g->ov.hEvent, 5000) != WAIT_OBJECT_0)
		CancelIoEx(xi->dev, &g->ov);
	/* g->ov must outlive the request: wait until it has completed. */
	GetOverlappedResult(xi->dev, &g->ov, &got, TRUE);
	CloseHandle(g->ov.hEvent);
	g->ov.hEvent = NULL;
	g->addr = NULL;
}
