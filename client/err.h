/*
 * err.h - the client's one-line error messages: every module fills a
 * caller's err buffer the same way.
 */
#ifndef CLIENT_ERR_H
#define CLIENT_ERR_H

#include <stddef.h>

/* printf into err (errlen bytes, always terminated). */
void client_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* CLIENT_ERR_H */
