/*
 * jout.h - --json output through yajl: one generator, flushed to stdout.
 */
#ifndef CLIENT_JOUT_H
#define CLIENT_JOUT_H

#include <stdint.h>
#include <yajl/yajl_gen.h>

yajl_gen jout_new(void);
/* Print what g holds with a newline, and free it. */
void jout_done(yajl_gen g);
void jout_str(yajl_gen g, const char *key, const char *val);
void jout_int(yajl_gen g, const char *key, long long val);
void jout_key(yajl_gen g, const char *key);
void jout_sval(yajl_gen g, const char *val);
/* One flat object {"event": ev, k1: v1, ...} (NULL-ended string pairs) as
 * a line. */
void jout_event(const char *ev, ...);

#endif /* CLIENT_JOUT_H */
