/*
 * fuzz_schema.c - libFuzzer harness for mcd-schema-check's parser and
 * checks.  A listing can carry any bytes a guest wrote into its own
 * XenStore area, so the checker reads hostile text.
 *
 * Input: one control byte (which root and whether --domains), then the
 * listing.  Each reported problem must be one line of printable ASCII, and
 * the count in the result must match the reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_schema.h"

struct seen {
	unsigned n;
};

static void report(void *ctx, const char *path, const char *problem)
{
	struct seen *s = ctx;

	for (const char *p = problem; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			abort();
	if (!path[0] || strchr(path, '\n'))
		abort();
	s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roots[] = {
		NULL, "/mcd", "/mcd/sessions", "/mcd/sessions/0123456789abcdef",
		"/local/domain", "/local/domain/5/data/mcd", "/", "/mcd/",
	};
	struct mcd_schema_opts o = { .name = "fuzz" };
	struct mcd_schema_result res;
	struct seen s = { 0 };
	char err[200];

	if (size < 1)
		return 0;
	o.root = roots[data[0] & 7];
	o.domains = (data[0] >> 3) & 1;
	if (mcd_schema_check((const char *)data + 1, size - 1, &o, report, &s,
			     &res, err, sizeof(err)) < 0)
		abort(); /* every root above is valid and memory is plenty */
	if (res.problems != s.n)
		abort();
	return 0;
}
