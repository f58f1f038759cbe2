/*
 * fuzz_site.c - libFuzzer harness for the site protocol's decoder.
 *
 * The input is one frame.  Its header goes through mcd_site_check_hdr()
 * and the whole of it through mcd_site_decode() for every direction and as
 * a ticket body.  The two must agree on the header, and every message the
 * decoder accepts is rebuilt field by field with the encoder: finish must
 * accept it, give back exactly the input's bytes, and those must decode to
 * the same fields.  The values also go through the shape checks.  Any
 * difference aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_site.h"

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                         \
			abort();                                          \
		}                                                         \
	} while (0)

static const unsigned dirs[] = {
	MCD_SITE_C2B, MCD_SITE_B2C, MCD_SITE_C2P, MCD_SITE_P2C, MCD_SITE_TICKET,
};

static int same(const struct mcd_site_msg *a, const struct mcd_site_msg *b)
{
	if (a->type != b->type || a->nfield != b->nfield)
		return 0;
	for (unsigned i = 0; i < a->nfield; i++)
		if (a->f[i].tag != b->f[i].tag || a->f[i].len != b->f[i].len ||
		    memcmp(a->f[i].val, b->f[i].val, a->f[i].len) != 0)
			return 0;
	return 1;
}

static int is_text(uint16_t tag)
{
	switch (tag) {
	case MCD_ST_VMIN: case MCD_ST_VMAX: case MCD_ST_VERSION:
	case MCD_ST_CODE: case MCD_ST_LEVEL: case MCD_ST_EXPIRES:
	case MCD_ST_WAIT: case MCD_ST_LOAD: case MCD_ST_ROOM:
	case MCD_ST_ISSUED: case MCD_ST_PASSWORD: case MCD_ST_TICKET:
	case MCD_ST_SIG:
		return 0;
	}
	return 1;
}

/* What the decoder promised: NUL after each value, no NUL inside a text. */
static void check_fields(const struct mcd_site_msg *m)
{
	CHECK(m->nfield <= MCD_SITE_MAX_FIELDS);
	for (unsigned i = 0; i < m->nfield; i++) {
		const struct mcd_site_field *f = &m->f[i];

		CHECK(f->val[f->len] == '\0');
		if (is_text(f->tag))
			CHECK(f->len > 0 && strlen(f->val) == f->len);
		(void)mcd_site_valid_user(f->val);
		(void)mcd_site_valid_app(f->val);
		(void)mcd_site_valid_pool(f->val);
		(void)mcd_site_valid_address(f->val);
		(void)mcd_site_valid_display(f->val);
	}
}

static void reencode(const struct mcd_site_msg *m, unsigned dir,
		     const uint8_t *frame, size_t len)
{
	static struct mcd_site_out o;
	static struct mcd_site_msg again;
	char err[160];

	mcd_site_begin(&o, m->type);
	for (unsigned i = 0; i < m->nfield; i++)
		mcd_site_put_bytes(&o, m->f[i].tag, m->f[i].val, m->f[i].len);
	CHECK(mcd_site_finish(&o, dir, err, sizeof(err)) == 0);
	CHECK(o.len == len);
	CHECK(memcmp(o.buf, frame, len) == 0);
	CHECK(mcd_site_decode(o.buf, o.len, dir, &again, err, sizeof(err)) == 0);
	CHECK(same(m, &again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mcd_site_msg m;
	char err[160];

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		uint16_t type = 0;
		uint32_t len = 0;
		int hdr = -1, r;

		if (size >= MCD_SITE_HDR_LEN)
			hdr = mcd_site_check_hdr(data, dirs[d], &type, &len, err,
						 sizeof(err));
		err[0] = '\0';
		r = mcd_site_decode(data, size, dirs[d], &m, err, sizeof(err));
		if (r != 0) {
			CHECK(r == -1 && err[0] && !strchr(err, '\n'));
			CHECK(m.nfield == 0);
			continue;
		}
		/* A frame the decoder takes has a header it takes. */
		CHECK(hdr == 0);
		CHECK(type == m.type && MCD_SITE_HDR_LEN + (size_t)len == size);
		check_fields(&m);
		reencode(&m, dirs[d], data, size);
	}
	return 0;
}
