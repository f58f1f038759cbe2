/*
 * xcookie.h - the thin client's X cookie, read from its Xauthority file,
 * so the app's X client in the pool can open this X server.
 */
#ifndef CLIENT_XCOOKIE_H
#define CLIENT_XCOOKIE_H

#include <stddef.h>

#define XCOOKIE_HEX_LEN 32 /* MIT-MAGIC-COOKIE-1: 16 bytes, as hex */

/*
 * The MIT-MAGIC-COOKIE-1 for display number `number` in the Xauthority
 * file at path, as lowercase hex into hex[XCOOKIE_HEX_LEN + 1].  An entry
 * for this host (FamilyLocal with its host name) wins over one for another
 * address, and a wildcard entry is taken last.  1 found, 0 none, -1 the
 * file could not be read (with a reason).
 */
int xcookie_find(const char *path, int number,
		 char hex[XCOOKIE_HEX_LEN + 1], char *err, size_t errlen);

#endif /* CLIENT_XCOOKIE_H */
