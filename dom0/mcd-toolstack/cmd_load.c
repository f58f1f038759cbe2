/*
 * cmd_load.c - `mcd-toolstack load [--json] [--template NAME]`: this host's
 * load coefficient, its inputs, and whether one more domain fits.
 *
 * Asks libxl directly (like `xl info`), so it works without the service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>

#include "commands.h"
#include "domain.h"
#include "load.h"
#include "log.h"
#include "template.h"

static int
usage_error(const char *what)
{
	fprintf(stderr, "mcd-toolstack load: %s\nusage: mcd-toolstack %s\n",
	    what, CMD_LOAD_USAGE);
	return 2;
}

static double
mib(uint64_t kb)
{
	return (double)kb / 1024.0;
}

static void
print_text(const struct load_info *li)
{
	const struct load_sample *s = &li->in;

	printf("memory:       %.0f MiB total, %.0f MiB free, %.0f MiB held "
	    "back, %.0f MiB available (%.1f%% used)\n", mib(s->total_kb),
	    mib(s->free_kb), mib(s->reserve_kb), mib(li->avail_kb),
	    li->mem * 100);
	printf("cpu:          %u CPUs, %.1f%% busy over %.0f ms\n",
	    s->nr_cpus, li->cpu * 100, (double)s->interval_ns / 1e6);
	printf("domains:      %u guests, at most %u (%.1f%%)\n", s->guests,
	    s->max_guests, li->dom * 100);
	printf("coefficient:  %.3f (max of memory, cpu, domains: %s)%s\n",
	    li->coefficient, li->limit, li->full ? ", full" : "");
}

static void
print_json(const struct load_info *li)
{
	const struct load_sample *s = &li->in;

	printf("{\"memory_total_mib\":%.0f,\"memory_free_mib\":%.0f,"
	    "\"memory_reserved_mib\":%.0f,\"memory_available_mib\":%.0f,"
	    "\"nr_cpus\":%u,\"cpu_busy_ms\":%.1f,\"interval_ms\":%.1f,"
	    "\"guests\":%u,\"max_guests\":%u,\"memory\":%.4f,\"cpu\":%.4f,"
	    "\"domains\":%.4f,\"coefficient\":%.4f,\"limit\":\"%s\","
	    "\"full\":%s", mib(s->total_kb), mib(s->free_kb),
	    mib(s->reserve_kb), mib(li->avail_kb), s->nr_cpus,
	    (double)s->busy_ns / 1e6, (double)s->interval_ns / 1e6,
	    s->guests, s->max_guests, li->mem, li->cpu, li->dom,
	    li->coefficient, li->limit, li->full ? "true" : "false");
}

int
cmd_load(int argc, char **argv)
{
	const char *name = NULL;
	struct mcd_template *t = NULL;
	libxl_domain_config dc;
	struct mcd_xen *x = NULL;
	struct load_info li;
	char err[1024], why[512];
	uint64_t reserve;
	unsigned maxg;
	int json = 0, i, fits = 1, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: mcd-toolstack %s\n%s\n", CMD_LOAD_USAGE,
			    CMD_LOAD_HELP);
			return 0;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--template") == 0) {
			if (i + 1 >= argc)
				return usage_error("--template needs a name");
			name = argv[++i];
		} else if (strncmp(argv[i], "--template=", 11) == 0) {
			name = argv[i] + 11;
		} else if (argv[i][0] == '-') {
			return usage_error("unknown option");
		} else {
			return usage_error("unexpected argument");
		}
	}

	/* Everything that can be wrong without Xen is checked first. */
	if (load_limits(1, &reserve, &maxg, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}
	if (name) {
		if ((t = malloc(sizeof(*t))) == NULL) {
			log_warnx("out of memory");
			return 1;
		}
		if (template_load(NULL, name, t, &dc, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			free(t);
			return 1;
		}
		libxl_domain_config_dispose(&dc);
	}
	if (xen_open(&x) < 0)
		goto out;	/* xen_open said why */
	if (load_read(x, &li) < 0)
		goto out;
	if (t)
		fits = load_fits(&li, t, why, sizeof(why));
	if (json) {
		print_json(&li);
		if (t) {
			printf(",\"template\":{\"name\":");
			cmd_json_str(stdout, t->name);
			printf(",\"need_mib\":%.0f,\"fits\":%s,\"reason\":",
			    mib(load_need_kb(t)), fits ? "true" : "false");
			cmd_json_str(stdout, why);
			putchar('}');
		}
		printf("}\n");
	} else {
		print_text(&li);
		if (t)
			printf("template:     %s %s: %s\n", t->name,
			    fits ? "fits" : "does not fit", why);
	}
	rc = fits ? 0 : 1;
out:
	xen_close(x);
	free(t);
	return rc;
}
