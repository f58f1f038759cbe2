/*
 * site_err.h - the one-line error helpers the site protocol's own files
 * share (mcd_site.c, mcd_ticket.c, mcd_tls.c); not part of the contract.
 */
#ifndef MCD_SITE_ERR_H
#define MCD_SITE_ERR_H

#include <stddef.h>

/* printf into err (when given), then -1: `return mcd_site_fail(...)`.
 * Defined in mcd_site.c, which every user of the others links. */
int mcd_site_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef OPENSSL_ERR_H /* <openssl/err.h> was included */
/* OpenSSL's reason for the oldest queued error; the queue is emptied so
 * that the next call on this thread starts clean. */
static inline const char *mcd_site_ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown error";
}
#endif

#endif /* MCD_SITE_ERR_H */
