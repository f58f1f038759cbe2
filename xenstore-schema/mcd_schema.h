/*
 * mcd_schema.h - check a `xenstore-ls -p` listing against MCD's XenStore
 * layout (mcd_xs.h, SCHEMA.md).  The core of mcd-schema-check, kept free of
 * I/O so that unit tests can feed it sample listings.
 *
 * Both listing forms are understood:
 *   xenstore-ls -p [PATH]    one space of indent per level, names relative
 *                            to PATH (the caller passes PATH as root)
 *   xenstore-ls -fp [PATH]   full paths (root is then not needed); values
 *                            are never cut, so this form checks everything
 * Values are unescaped the way xenstore-ls escapes them (\t \n \r \\ \ooo
 * \xHH); a value xenstore-ls cut to fit 80 columns ends in "\..." and is
 * counted in `truncated` instead of being checked.
 */
#ifndef MCD_SCHEMA_H
#define MCD_SCHEMA_H

#include <stddef.h>

struct mcd_schema_opts {
	const char *root;   /* path the listing was taken at; NULL means "/" */
	const char *name;   /* input name for unparsable lines ("stdin") */
	int domains;        /* cross-check sessions against /local/domain */
};

struct mcd_schema_result {
	unsigned sessions;  /* sessions seen under /mcd/sessions */
	unsigned problems;  /* problems reported */
	unsigned truncated; /* values cut by xenstore-ls and not checked */
};

/*
 * Called once per problem: unparsable lines first, then nodes in path
 * order, then whole sessions.  `path` is the XenStore path (or
 * "<name>:<line>" for a line that cannot be parsed); `problem` is one line
 * of printable ASCII without a newline (guest bytes come escaped).
 */
typedef void mcd_schema_report_fn(void *ctx, const char *path,
				  const char *problem);

/*
 * Check the listing text[0..len).  Returns 0 with *res filled (problems may
 * be non-zero), or -1 with a reason in err when it could not run at all
 * (bad root, out of memory).
 */
int mcd_schema_check(const char *text, size_t len,
		     const struct mcd_schema_opts *opts,
		     mcd_schema_report_fn *report, void *ctx,
		     struct mcd_schema_result *res, char *err, size_t errlen);

#endif /* MCD_SCHEMA_H */
