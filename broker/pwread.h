/*
 * pwread.h - a new password for the admin CLI: from a file (its first
 * line) or typed twice on the terminal without echo.  Never from argv,
 * where every user of the host could read it.
 */
#ifndef BROKER_PWREAD_H
#define BROKER_PWREAD_H

#include <stddef.h>

#include "mcd_site.h"

#define PWREAD_MAX MCD_SITE_PASSWORD_MAX

/* Into buf (PWREAD_MAX + 2 bytes), *len its length (1..PWREAD_MAX).
 * file NULL: the terminal.  0, or -1 with a reason.  The caller wipes
 * buf. */
int pwread(const char *file, char *buf, size_t *len, char *err,
	   size_t errlen);

#endif /* BROKER_PWREAD_H */
