/*
 * xcookie.c - the X cookie of a display from an Xauthority file (see
 * xcookie.h).  libXau reads the file's records; the choice among them is
 * ours because the pools reach this X server by another address than the
 * one the file names.
 */
#include "xcookie.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <X11/Xauth.h>

#define COOKIE_NAME "MIT-MAGIC-COOKIE-1"
#define COOKIE_BYTES 16

/* How well a record fits: 0 not at all, 1 wildcard, 2 another address,
 * 3 this host. */
static int rank(const Xauth *a, int number, const char *host)
{
	char num[16];
	int n = snprintf(num, sizeof(num), "%d", number);

	if (a->name_length != sizeof(COOKIE_NAME) - 1 ||
	    memcmp(a->name, COOKIE_NAME, a->name_length) ||
	    a->data_length != COOKIE_BYTES)
		return 0;
	if (a->family == FamilyWild)
		return 1;
	if (a->number_length != n || memcmp(a->number, num, (size_t)n))
		return 0;
	if (a->family == FamilyLocal && a->address_length == strlen(host) &&
	    !memcmp(a->address, host, a->address_length))
		return 3;
	return 2;
}

static void to_hex(const char *data, char hex[XCOOKIE_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < COOKIE_BYTES; i++) {
		hex[2 * i] = digits[(unsigned char)data[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)data[i] & 15];
	}
	hex[XCOOKIE_HEX_LEN] = '\0';
}

static void free_auth(Xauth *a)
{
	if (a->data)
		explicit_bzero(a->data, a->data_length);
	XauDisposeAuth(a);
}

int xcookie_find(const char *path, int number,
		 char hex[XCOOKIE_HEX_LEN + 1], char *err, size_t errlen)
{
	char host[256] = "";
	int best = 0, r;
	Xauth *a;
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	while ((a = XauReadAuth(f))) {
		r = rank(a, number, host);
		if (r > best) {
			best = r;
			to_hex(a->data, hex);
		}
		free_auth(a);
	}
	fclose(f);
	return best > 0;
}
