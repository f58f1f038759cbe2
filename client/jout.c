/*
 * jout.c - --json output (see jout.h).
 */
#include "jout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

yajl_gen jout_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	/* Names and texts from servers are UTF-8 checked by the decoder;
	 * validation here keeps a bad byte from making invalid JSON. */
	if (g)
		yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

void jout_done(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	if (!g)
		return;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		fwrite(buf, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	yajl_gen_free(g);
}

void jout_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

void jout_sval(yajl_gen g, const char *val)
{
	yajl_gen_string(g, (const unsigned char *)val, strlen(val));
}

void jout_str(yajl_gen g, const char *key, const char *val)
{
	jout_key(g, key);
	if (val)
		jout_sval(g, val);
	else
		yajl_gen_null(g);
}

void jout_int(yajl_gen g, const char *key, long long val)
{
	jout_key(g, key);
	yajl_gen_integer(g, val);
}

void jout_event(const char *ev, ...)
{
	yajl_gen g = jout_new();
	const char *k, *v;
	va_list ap;

	if (!g)
		return;
	yajl_gen_map_open(g);
	jout_str(g, "event", ev);
	va_start(ap, ev);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		jout_str(g, k, v);
	}
	va_end(ap);
	yajl_gen_map_close(g);
	jout_done(g);
}
