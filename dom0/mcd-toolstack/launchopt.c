/*
 * launchopt.c - launch options (see launchopt.h).
 */
#include "launchopt.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

void launchopt_init(struct launch_opt *o)
{
	memset(o, 0, sizeof(*o));
	o->xflags = MCD_LAUNCH_X_RELAY;
}

int launchopt_is_option(const char *s)
{
	const char *eq = strchr(s, '=');

	return s[0] != '/' && eq && eq != s;
}

static int copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* KIND|SOURCE|NAME|USER|PASSWORD; the password may contain '|'. */
static int apply_share(struct launch_opt *o, const char *v, char *err,
		       size_t errlen)
{
	struct launch_share *sh;
	struct mcd_share chk;
	const char *p = v;
	char *dst[4];
	size_t cap[4];
	char why[96];

	if (o->nshares >= MCD_MAX_SHARES) {
		snprintf(err, errlen, "at most %d shares", MCD_MAX_SHARES);
		return -1;
	}
	sh = &o->share[o->nshares];
	dst[0] = sh->kind; cap[0] = sizeof(sh->kind);
	dst[1] = sh->source; cap[1] = sizeof(sh->source);
	dst[2] = sh->name; cap[2] = sizeof(sh->name);
	dst[3] = sh->user; cap[3] = sizeof(sh->user);
	for (int i = 0; i < 4; i++) {
		const char *bar = strchr(p, '|');

		if (!bar || copy_field(dst[i], cap[i], p, (size_t)(bar - p)) < 0) {
			snprintf(err, errlen, "share: use KIND|SOURCE|NAME|USER|PASSWORD");
			return -1;
		}
		p = bar + 1;
	}
	if (copy_field(sh->password, sizeof(sh->password), p, strlen(p)) < 0) {
		snprintf(err, errlen, "share: password longer than %d bytes",
			 MCD_MAX_SECRET_LEN);
		return -1;
	}
	chk = (struct mcd_share){ sh->kind, sh->source, sh->name, sh->user,
				  sh->password };
	if (!mcd_valid_share(&chk, why, sizeof(why))) {
		snprintf(err, errlen, "share %s: %s", sh->name[0] ? sh->name : "?", why);
		OPENSSL_cleanse(sh, sizeof(*sh));
		return -1;
	}
	for (unsigned i = 0; i < o->nshares; i++)
		if (strcmp(o->share[i].name, sh->name) == 0) {
			snprintf(err, errlen, "share name %s used twice", sh->name);
			OPENSSL_cleanse(sh, sizeof(*sh));
			return -1;
		}
	o->nshares++;
	return 0;
}

int launchopt_apply(struct launch_opt *o, const char *kv, char *err,
		    size_t errlen)
{
	const char *eq = strchr(kv, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - kv) : 0;

#define KEY(k) (klen == sizeof(k) - 1 && strncmp(kv, k, klen) == 0)
	if (KEY("x")) {
		if (strcmp(v, "relay") == 0)
			o->xflags = MCD_LAUNCH_X_RELAY;
		else if (strcmp(v, "direct") == 0)
			o->xflags = MCD_LAUNCH_X_DIRECT;
		else if (strcmp(v, "none") == 0)
			o->xflags = 0;
		else {
			snprintf(err, errlen, "X mode must be relay, direct or none");
			return -1;
		}
		return 0;
	}
	if (KEY("xcookie")) {
		if (!mcd_valid_xcookie(v)) {
			snprintf(err, errlen, "X cookie must be %d lowercase hex digits",
				 MCD_XCOOKIE_LEN);
			return -1;
		}
		snprintf(o->xcookie, sizeof(o->xcookie), "%s", v);
		return 0;
	}
	if (KEY("xtls")) {
		char *end;
		unsigned long port = strtoul(v, &end, 10);

		if (!*v || *end || port == 0 || port > 65535) {
			snprintf(err, errlen, "TLS port must be 1..65535");
			return -1;
		}
		o->xtls_port = (unsigned)port;
		return 0;
	}
	if (KEY("volume")) {
		if (strcmp(v, "yes") && strcmp(v, "no")) {
			snprintf(err, errlen, "volume must be yes or no");
			return -1;
		}
		o->volume = strcmp(v, "yes") == 0;
		return 0;
	}
	if (KEY("share"))
		return apply_share(o, v, err, errlen);
#undef KEY
	snprintf(err, errlen, "unknown launch option '%.*s'", (int)(klen > 20 ? 20 : klen), kv);
	return -1;
}

void launchopt_to_launch(const struct launch_opt *o, struct mcd_launch *l)
{
	l->flags = o->xflags;
	l->xcookie = o->xcookie;
	l->volume = o->vdev;
	l->sharec = o->nshares;
	for (unsigned i = 0; i < o->nshares; i++) {
		const struct launch_share *sh = &o->share[i];

		l->share[i] = (struct mcd_share){ sh->kind, sh->source, sh->name,
						  sh->user, sh->password };
	}
}

const char *launchopt_xmode(const struct launch_opt *o)
{
	if (o->xflags & MCD_LAUNCH_X_RELAY)
		return "relay";
	if (o->xflags & MCD_LAUNCH_X_DIRECT)
		return "direct";
	return "none";
}

void launchopt_wipe_secrets(struct launch_opt *o)
{
	OPENSSL_cleanse(o->xcookie, sizeof(o->xcookie));
	for (unsigned i = 0; i < o->nshares; i++)
		OPENSSL_cleanse(o->share[i].password,
				sizeof(o->share[i].password));
}

void launchopt_forget(struct launch_opt *o)
{
	explicit_bzero(o, sizeof(*o));
	launchopt_init(o);
}

int launchopt_no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
	return setrlimit(RLIMIT_CORE, &none);
}

/* ---- CLI side ---- */

/* Read a small secret file whole into buf (NUL-terminated, trailing
 * newline removed).  0, or -1 with a reason. */
static int read_secret(const char *file, char *buf, size_t cap, char *err,
		       size_t errlen)
{
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap - 1, f);
	if (!feof(f)) {
		fclose(f);
		OPENSSL_cleanse(buf, cap);
		snprintf(err, errlen, "%s: longer than %zu bytes", file, cap - 2);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

int launchopt_cli_xauth(const char *file, char *out, size_t outlen,
			char *err, size_t errlen)
{
	char buf[512], *tok, *save = NULL, *hex = NULL;
	int rc = -1;

	if (read_secret(file, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	/* The last word of the first line that has a cookie: plain hex, or
	 * the third column of `xauth list`. */
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		for (char *p = tok; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (mcd_valid_xcookie(tok)) {
			hex = tok;
			break;
		}
	}
	if (!hex)
		snprintf(err, errlen, "%s: no MIT-MAGIC-COOKIE-1 (32 hex digits) in it", file);
	else if ((size_t)snprintf(out, outlen, "xcookie=%s", hex) < outlen)
		rc = 0;
	else
		snprintf(err, errlen, "internal: cookie buffer too small");
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int launchopt_cli_share(const char *spec, char *out, size_t outlen,
			char *err, size_t errlen)
{
	char copy[MCD_MAX_SHARE_SRC + 256], pw[MCD_MAX_SECRET_LEN + 2] = "";
	char *f[5] = { NULL }, *save = NULL, *tok;
	struct launch_opt chk;
	int n = 0, rc = -1;

	if (strlen(spec) >= sizeof(copy)) {
		snprintf(err, errlen, "--share: too long");
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", spec);
	for (tok = strtok_r(copy, ",", &save); tok && n < 5;
	     tok = strtok_r(NULL, ",", &save))
		f[n++] = tok;
	if (n < 3 || tok) {
		snprintf(err, errlen, "--share: use KIND,SOURCE,NAME[,USER[,PASSWORD-FILE]]");
		return -1;
	}
	if (n == 5 && read_secret(f[4], pw, sizeof(pw), err, errlen) < 0)
		return -1;
	if ((size_t)snprintf(out, outlen, "share=%s|%s|%s|%s|%s", f[0], f[1],
			     f[2], n >= 4 ? f[3] : "", pw) >= outlen) {
		snprintf(err, errlen, "--share: too long");
		goto out;
	}
	/* Check it here too, so a bad share is refused before any work. */
	launchopt_init(&chk);
	rc = launchopt_apply(&chk, out, err, errlen);
	launchopt_wipe_secrets(&chk);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}
