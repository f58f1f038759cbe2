/*
 * mcd_schema_check.c - mcd-schema-check: hold a live XenStore tree to MCD's
 * layout.  Reads `xenstore-ls -p` output (or `-fp`) from a file or stdin;
 * the checks themselves are in mcd_schema.c.
 *
 *   xenstore-ls -fp / | mcd-schema-check --domains
 *   xenstore-ls -p /mcd | mcd-schema-check --root /mcd
 *
 * Exit status: 0 no problem, 1 problems found (one line each), 2 usage or
 * input error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_schema.h"

#define PROG "mcd-schema-check"
#define MAX_INPUT (256u << 20) /* far more than any XenStore holds */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--root PATH] [--domains] [--json] [FILE]\n"
		"Check a `xenstore-ls -p` listing (FILE, or stdin) against MCD's\n"
		"XenStore layout (xenstore-schema/SCHEMA.md).\n"
		"  --root PATH  the path given to xenstore-ls (default /); not\n"
		"               needed for full-path listings (xenstore-ls -fp)\n"
		"  --domains    also check each session's domain in /local/domain\n"
		"               and look for MCD domains without a session; needs\n"
		"               a listing of the whole tree\n"
		"  --json       print {\"ok\",\"sessions\",\"truncated\",\"problems\"}\n"
		"Recommended: xenstore-ls -fp / | " PROG " --domains\n"
		"Exit status: 0 no problem, 1 problems found, 2 usage or input error.\n");
}

struct out {
	int json;
	unsigned n;
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void report(void *ctx, const char *path, const char *problem)
{
	struct out *o = ctx;

	if (o->json) {
		printf("%s{\"path\":", o->n ? "," : "");
		json_str(path);
		printf(",\"problem\":");
		json_str(problem);
		putchar('}');
	} else {
		printf(PROG ": %s: %s\n", path, problem);
	}
	o->n++;
}

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got;

		if (n == cap) {
			char *nb = cap < MAX_INPUT ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				errno = cap < MAX_INPUT ? ENOMEM : EFBIG;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			*len = n;
			return buf;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "domains", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mcd_schema_opts opts = { .root = "/", .name = "stdin" };
	struct mcd_schema_result res;
	struct out o = { 0 };
	const char *file = NULL;
	char err[256];
	FILE *f = stdin;
	char *text;
	size_t len = 0;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "r:djh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			opts.root = optarg;
			break;
		case 'd':
			opts.domains = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, PROG ": bad option or missing argument: %s "
				"(see " PROG " --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, PROG ": one listing at most (see " PROG
			" --help)\n");
		return 2;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		file = argv[optind];
		f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, PROG ": %s: %s\n", file, strerror(errno));
			return 2;
		}
		opts.name = file;
	}
	text = slurp(f, &len);
	if (!text) {
		fprintf(stderr, PROG ": %s: %s\n", opts.name, strerror(errno));
		return 2;
	}
	if (f != stdin)
		fclose(f);

	if (o.json)
		printf("{\"problems\":[");
	if (mcd_schema_check(text, len, &opts, report, &o, &res, err,
			     sizeof(err)) < 0) {
		if (o.json)
			printf("]}\n");
		fprintf(stderr, PROG ": %s\n", err);
		free(text);
		return 2;
	}
	free(text);
	if (o.json)
		printf("],\"ok\":%s,\"sessions\":%u,\"truncated\":%u}\n",
		       res.problems ? "false" : "true", res.sessions,
		       res.truncated);
	else if (!res.problems)
		printf("ok: %u sessions checked\n", res.sessions);
	if (res.truncated)
		fprintf(stderr, PROG ": note: %u values were cut by xenstore-ls "
			"and not checked; list with -f to check them\n",
			res.truncated);
	return res.problems ? 1 : 0;
}
