/*
 * load.c - the load coefficient; see load.h for the formula and why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxl.h>

#include "domain.h"
#include "load.h"
#include "log.h"

#define XEN_PAGE_KB	4	/* physinfo counts 4 KiB pages (x86) */
#define EPS		1e-9

static double
clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

void
load_compute(const struct load_sample *in, struct load_info *out)
{
	const struct load_sample s = *in;	/* in and out may overlap */
	uint64_t smallest;

	memset(out, 0, sizeof(*out));
	out->in = s;
	out->avail_kb = s.free_kb > s.reserve_kb ? s.free_kb - s.reserve_kb : 0;
	if (out->avail_kb > s.total_kb)
		out->avail_kb = s.total_kb;
	/* Unknown totals count as full: never prefer a host we cannot see. */
	out->mem = s.total_kb ? clamp01(1.0 - (double)out->avail_kb /
	    (double)s.total_kb) : 1.0;
	out->cpu = (s.nr_cpus && s.interval_ns) ? clamp01((double)s.busy_ns /
	    ((double)s.nr_cpus * (double)s.interval_ns)) : 0.0;
	out->dom = s.max_guests ? clamp01((double)s.guests /
	    (double)s.max_guests) : 1.0;

	out->coefficient = out->mem;
	out->limit = "memory";
	if (out->cpu > out->coefficient + EPS) {
		out->coefficient = out->cpu;
		out->limit = "cpu";
	}
	if (out->dom > out->coefficient + EPS) {
		out->coefficient = out->dom;
		out->limit = "domains";
	}
	smallest = (uint64_t)(TEMPLATE_MEM_MIN + LOAD_DOMAIN_OVERHEAD_MB) *
	    1024;
	out->full = out->avail_kb < smallest || s.guests >= s.max_guests;
}

int
load_cmp(const struct load_info *a, const struct load_info *b)
{
	double ma, mb;

	if (a->coefficient < b->coefficient - EPS)
		return -1;
	if (a->coefficient > b->coefficient + EPS)
		return 1;
	ma = (a->mem + a->cpu + a->dom) / 3;
	mb = (b->mem + b->cpu + b->dom) / 3;
	if (ma < mb - EPS)
		return -1;
	if (ma > mb + EPS)
		return 1;
	return 0;
}

uint64_t
load_need_kb(const struct mcd_template *t)
{
	return ((uint64_t)t->memory_mb + LOAD_DOMAIN_OVERHEAD_MB) * 1024;
}

int
load_fits(const struct load_info *li, const struct mcd_template *t,
    char *why, size_t whylen)
{
	uint64_t need = load_need_kb(t);

	if (li->avail_kb < need) {
		seterr(why, whylen, "not enough free memory: template %s needs "
		    "%" PRIu64 " MiB (memory %u + %d MiB overhead), %" PRIu64
		    " MiB free", t->name, need / 1024, t->memory_mb,
		    LOAD_DOMAIN_OVERHEAD_MB, li->avail_kb / 1024);
		return 0;
	}
	if (li->in.guests >= li->in.max_guests) {
		seterr(why, whylen, "too many domains: %u guests running, at "
		    "most %u (%s)", li->in.guests, li->in.max_guests,
		    LOAD_MAX_DOMAINS_ENV);
		return 0;
	}
	seterr(why, whylen, "template %s needs %" PRIu64 " MiB, %" PRIu64
	    " MiB free", t->name, need / 1024, li->avail_kb / 1024);
	return 1;
}

/* A decimal setting in min..max; 0 if unset (*v = def), -1 if bad. */
static int
env_num(const char *name, unsigned long min, unsigned long max,
    unsigned long def, unsigned long *v, char *err, size_t errlen)
{
	const char *s = getenv(name);
	unsigned long x;
	char *end;

	*v = def;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end != '\0' || x < min ||
	    x > max) {
		seterr(err, errlen, "%s='%.20s': expected a number %lu..%lu",
		    name, s, min, max);
		return -1;
	}
	*v = x;
	return 0;
}

int
load_limits(unsigned nr_cpus, uint64_t *reserve_kb, unsigned *max_guests,
    char *err, size_t errlen)
{
	unsigned long r, m, def;

	def = (unsigned long)(nr_cpus ? nr_cpus : 1) * LOAD_GUESTS_PER_CPU;
	if (def > LOAD_GUESTS_MAX)
		def = LOAD_GUESTS_MAX;
	if (env_num(LOAD_RESERVE_ENV, 0, LOAD_RESERVE_MB_MAX,
	    LOAD_RESERVE_MB_DEFAULT, &r, err, errlen) < 0 ||
	    env_num(LOAD_MAX_DOMAINS_ENV, 1, LOAD_GUESTS_MAX, def, &m, err,
	    errlen) < 0)
		return -1;
	*reserve_kb = (uint64_t)r * 1024;
	*max_guests = (unsigned)m;
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	/* libxl's children make SIGCHLD interrupt us: sleep the rest. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
load_read(struct mcd_xen *x, struct load_info *out)
{
	return load_read_ms(x, LOAD_SAMPLE_MS, out);
}

int
load_read_ms(struct mcd_xen *x, unsigned sample_ms, struct load_info *out)
{
	libxl_ctx *ctx = xen_ctx(x);
	libxl_dominfo *l1 = NULL, *l2 = NULL;
	libxl_physinfo pi;
	struct load_sample s;
	uint64_t t1, t2, pages, claimed;
	char err[256];
	int n1 = 0, n2 = 0, i, j, rc = -1;

	memset(&s, 0, sizeof(s));
	libxl_physinfo_init(&pi);
	if (sample_ms > 0) {
		if ((l1 = libxl_list_domain(ctx, &n1)) == NULL) {
			log_warnx("load: libxl_list_domain failed");
			goto out;
		}
		t1 = now_ns();
		sleep_ms(sample_ms);
	}
	if ((l2 = libxl_list_domain(ctx, &n2)) == NULL) {
		log_warnx("load: libxl_list_domain failed");
		goto out;
	}
	t2 = now_ns();
	if (sample_ms == 0)
		t1 = t2;		/* no interval: the CPU term is 0 */
	if (libxl_get_physinfo(ctx, &pi) != 0) {
		log_warnx("load: libxl_get_physinfo failed");
		goto out;
	}

	s.total_kb = pi.total_pages * XEN_PAGE_KB;
	pages = pi.free_pages + pi.scrub_pages;
	claimed = pi.outstanding_pages;
	s.free_kb = (pages > claimed ? pages - claimed : 0) * XEN_PAGE_KB;
	s.nr_cpus = pi.nr_cpus;
	if (load_limits(s.nr_cpus, &s.reserve_kb, &s.max_guests, err,
	    sizeof(err)) < 0) {
		log_warnx("load: %s", err);
		goto out;
	}
	s.interval_ns = t2 - t1;
	for (i = 0; i < n2; i++) {
		if (l2[i].domid != 0)
			s.guests++;
		/* Only domains seen both times, by domid and uuid. */
		for (j = 0; j < n1; j++) {
			if (l1[j].domid != l2[i].domid ||
			    libxl_uuid_compare(&l1[j].uuid, &l2[i].uuid) != 0)
				continue;
			if (l2[i].cpu_time > l1[j].cpu_time)
				s.busy_ns += l2[i].cpu_time - l1[j].cpu_time;
			break;
		}
	}
	load_compute(&s, out);
	rc = 0;
out:
	if (l1)
		libxl_dominfo_list_free(l1, n1);
	if (l2)
		libxl_dominfo_list_free(l2, n2);
	libxl_physinfo_dispose(&pi);
	return rc;
}
