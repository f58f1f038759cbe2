/*
 * load.h - the load coefficient of this pool host, and whether one more
 * domain of a template fits.
 *
 * When several pools can run an app, each pool master reports a load
 * coefficient and the lowest wins; a pool without room for one more domain
 * says so (the original design, 4.2).  The coefficient is a number in 0..1:
 *
 *   avail = free + scrubbing - claimed - reserve          (at least 0)
 *   mem   = 1 - avail / total                memory used or held back
 *   cpu   = busy / (nr_cpus * interval)      CPU time all domains (dom0
 *                                            too) used in LOAD_SAMPLE_MS,
 *                                            capped at 1
 *   dom   = guests / max_guests              running guests (not dom0)
 *
 *   coefficient = max(mem, cpu, dom)
 *
 * Why the maximum and not a weighted sum: each term reaching 1 is a wall by
 * itself (no memory: no domain can be built; the domain cap: the admin's
 * limit; the CPUs: every app on the host slows down), and the next launch
 * hits the nearest wall first.  A sum hides a full resource behind idle
 * ones: with equal weights a host at 98% memory and idle CPUs scores 0.33
 * and would beat a host at 50% of everything, then refuse the domain.  The
 * maximum never ranks a nearly full host below a roomy one.  Equal maxima
 * (say, two idle hosts) are decided by the mean of the three terms
 * (load_cmp), so the host with more room overall wins.
 *
 * The inputs come from libxl alone: libxl_get_physinfo (total, free,
 * scrubbing and claimed pages; CPUs) and two libxl_list_domain samples
 * LOAD_SAMPLE_MS apart (the domains' cpu_time).  The reserve is memory
 * held back for Xen itself and for dom0's own use; max_guests is the most
 * guests the host should run.  Both are settings:
 *   MCD_LOAD_RESERVE_MB    0..1048576, default LOAD_RESERVE_MB_DEFAULT
 *   MCD_LOAD_MAX_DOMAINS   1..32752, default LOAD_GUESTS_PER_CPU per CPU
 *
 * One more domain of template t fits when both
 *   avail >= load_need_kb(t) = memory + LOAD_DOMAIN_OVERHEAD_MB, and
 *   guests + 1 <= max_guests.
 * The CPU term ranks hosts but never refuses a launch: a busy host is slow,
 * not full.
 */
#ifndef MCD_LOAD_H
#define MCD_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "template.h"

#define LOAD_SAMPLE_MS		200	/* between the two CPU samples */
#define LOAD_RESERVE_MB_DEFAULT	64	/* for Xen and dom0 */
#define LOAD_RESERVE_MB_MAX	1048576
#define LOAD_GUESTS_PER_CPU	16	/* default max_guests per CPU */
#define LOAD_GUESTS_MAX		32752	/* Xen's domid limit */
/* Per domain beyond `memory`: page tables, the p2m, grant and event
 * channel frames, rounding to 2 MiB. */
#define LOAD_DOMAIN_OVERHEAD_MB	4
#define LOAD_RESERVE_ENV	"MCD_LOAD_RESERVE_MB"
#define LOAD_MAX_DOMAINS_ENV	"MCD_LOAD_MAX_DOMAINS"

struct mcd_xen;

/* What the coefficient is computed from. */
struct load_sample {
	uint64_t	total_kb;	/* host memory */
	uint64_t	free_kb;	/* free + scrubbing - claimed */
	uint64_t	reserve_kb;	/* held back (not available) */
	unsigned	nr_cpus;
	unsigned	guests;		/* domains other than dom0 */
	unsigned	max_guests;
	uint64_t	busy_ns;	/* CPU time used in the interval */
	uint64_t	interval_ns;
};

struct load_info {
	struct load_sample in;
	uint64_t	avail_kb;	/* free - reserve, at least 0 */
	double		mem;		/* the three terms, each 0..1 */
	double		cpu;
	double		dom;
	double		coefficient;	/* max(mem, cpu, dom) */
	const char	*limit;		/* "memory", "cpu" or "domains": the max */
	int		full;		/* not even the smallest domain fits */
};

/* The formula above; pure, so out depends on in alone. */
void load_compute(const struct load_sample *in, struct load_info *out);

/*
 * Take a sample with libxl (sleeps LOAD_SAMPLE_MS) and compute.  0, or -1
 * (logged: Xen unreachable, or a bad setting in the environment).  Thread-
 * safe, but it blocks: keep it off a poll loop.
 */
int load_read(struct mcd_xen *x, struct load_info *out);

/*
 * The same with the CPU samples sample_ms apart.  sample_ms 0 takes one
 * sample and does not sleep: the CPU term is then 0 (interval_ns 0), which
 * is all a launch needs, since load_fits looks at memory and domains only.
 * A few hypercalls, so fine on a poll loop.
 */
int load_read_ms(struct mcd_xen *x, unsigned sample_ms, struct load_info *out);

/*
 * The settings: reserve and max_guests for a host with nr_cpus CPUs, from
 * the environment or the defaults.  0; or -1 with one line in err for a
 * malformed or out-of-range value.
 */
int load_limits(unsigned nr_cpus, uint64_t *reserve_kb, unsigned *max_guests,
    char *err, size_t errlen);

/* Memory one domain of t needs: memory + LOAD_DOMAIN_OVERHEAD_MB, in KiB. */
uint64_t load_need_kb(const struct mcd_template *t);

/*
 * 1 if one more domain of t fits (why gets a short "needs N MiB, M MiB
 * free" note); else 0 with the reason in why, e.g. "not enough free
 * memory: template linux-demo needs 260 MiB (memory 256 + 4 MiB overhead),
 * 180 MiB free".
 */
int load_fits(const struct load_info *li, const struct mcd_template *t,
    char *why, size_t whylen);

/* <0, 0, >0 as a is less loaded than, as loaded as, more loaded than b. */
int load_cmp(const struct load_info *a, const struct load_info *b);

#endif /* MCD_LOAD_H */
