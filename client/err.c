/*
 * err.c - the client's one-line error messages (see err.h).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

void client_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
