/*
 * cmd_template.c - `mcd-toolstack template list|show|check`.
 *
 * Only reads template files (and asks lvm about LVM disks): no Xen, no
 * service needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl.h>

#include "clone.h"
#include "commands.h"
#include "log.h"
#include "template.h"

void
cmd_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int
usage_error(const char *what)
{
	fprintf(stderr, "mcd-toolstack template: %s\nusage: mcd-toolstack %s\n",
	    what, CMD_TEMPLATE_USAGE);
	return 2;
}

static const char *
yes_no(int b)
{
	return b ? "yes" : "no";
}

static const char *
json_bool(int b)
{
	return b ? "true" : "false";
}

/* Loaded template and its config, on the heap (struct mcd_template is big). */
struct loaded {
	struct mcd_template	t;
	libxl_domain_config	dc;
	char			err[1024];
};

/* --- list ------------------------------------------------------------------ */

struct list_ctx {
	int		json;
	int		n;
	struct loaded	*l;
};

static int
list_one(const char *name, void *arg)
{
	struct list_ctx *c = arg;
	struct loaded *l = c->l;
	int ok;

	ok = template_load(NULL, name, &l->t, &l->dc, l->err,
	    sizeof(l->err)) == 0;
	if (c->json) {
		printf("%s{\"name\":", c->n ? "," : "");
		cmd_json_str(stdout, name);
		if (ok)
			printf(",\"ok\":true,\"os\":\"%s\",\"memory_mib\":%u,"
			    "\"vcpus\":%u,\"disks\":%u,\"writable_disks\":%u,"
			    "\"pool_size\":%u,\"keep_for_user\":%s}", l->t.os,
			    l->t.memory_mb, l->t.vcpus, l->t.num_disks,
			    l->t.num_writable, l->t.pool_size,
			    json_bool(l->t.keep_for_user));
		else {
			printf(",\"ok\":false,\"error\":");
			cmd_json_str(stdout, l->err);
			putchar('}');
		}
	} else if (ok) {
		printf("%-20s %-8s %6u %5u %5u %3u %4u %-4s %s\n", name,
		    l->t.os, l->t.memory_mb, l->t.vcpus, l->t.num_disks,
		    l->t.num_writable, l->t.pool_size,
		    yes_no(l->t.keep_for_user), "ok");
	} else {
		printf("%-20s %-8s %6s %5s %5s %3s %4s %-4s %s\n", name, "-",
		    "-", "-", "-", "-", "-", "-", "broken (see: mcd-toolstack "
		    "template check)");
	}
	libxl_domain_config_dispose(&l->dc);
	c->n++;
	return 0;
}

static int
tpl_list(int json)
{
	struct list_ctx c = { json, 0, NULL };
	int n;

	if ((c.l = malloc(sizeof(*c.l))) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if (json)
		putchar('[');
	else
		printf("%-20s %-8s %6s %5s %5s %3s %4s %-4s %s\n", "NAME", "OS",
		    "MEMORY", "VCPUS", "DISKS", "RW", "POOL", "KEEP", "STATUS");
	n = template_list(NULL, list_one, &c);
	free(c.l);
	if (n < 0) {
		if (json)
			printf("]\n");
		log_warn("cannot read the template directory %s",
		    template_dir());
		return 1;
	}
	if (json)
		printf("]\n");
	return 0;
}

/* --- show ------------------------------------------------------------------ */

static void
show_text(const struct loaded *l)
{
	const struct mcd_template *t = &l->t;
	const libxl_domain_build_info *b = &l->dc.b_info;
	char why[512];
	unsigned i;
	int m;

	printf("template:       %s\n", t->name);
	printf("file:           %s\n", t->path);
	printf("os:             %s\n", t->os);
	printf("memory:         %u MiB", t->memory_mb);
	if (t->maxmem_mb != t->memory_mb)
		printf(" (up to %u MiB)", t->maxmem_mb);
	printf("\nvcpus:          %u", t->vcpus);
	if (t->max_vcpus != t->vcpus)
		printf(" (up to %u)", t->max_vcpus);
	printf("\nkernel:         %s\n", b->kernel ? b->kernel : "");
	printf("ramdisk:        %s\n", b->ramdisk ? b->ramdisk : "(none)");
	printf("cmdline:        %s\n", b->cmdline ? b->cmdline : "");
	printf("agent timeout:  %u s\n", t->agent_timeout_s);
	printf("ready timeout:  %u s\n", t->ready_timeout_s);
	printf("pool size:      %u\n", t->pool_size);
	printf("keep for user:  %s\n", yes_no(t->keep_for_user));
	printf("disks:          %u", t->num_disks);
	if (t->num_disks)
		printf(" (%u writable, cloned for each launch)",
		    t->num_writable);
	putchar('\n');
	for (i = 0; i < t->num_disks; i++) {
		const struct template_disk *d = &t->disks[i];

		m = clone_plan(d, NULL, why, sizeof(why));
		printf("  %-6s %s  %-40s ", d->vdev, d->writable ? "rw" : "ro",
		    d->target[0] ? d->target : "(empty)");
		if (m < 0)
			printf("cannot be cloned: %s\n", why);
		else if (m == CLONE_NONE)
			printf("attached as it is%s\n", d->is_cdrom ?
			    " (cdrom)" : "");
		else
			printf("clone: %s\n", clone_method_name(m));
	}
}

static void
show_json(const struct loaded *l)
{
	const struct mcd_template *t = &l->t;
	const libxl_domain_build_info *b = &l->dc.b_info;
	char why[512];
	unsigned i;
	int m;

	printf("{\"name\":");
	cmd_json_str(stdout, t->name);
	printf(",\"path\":");
	cmd_json_str(stdout, t->path);
	printf(",\"os\":\"%s\",\"memory_mib\":%u,\"maxmem_mib\":%u,"
	    "\"vcpus\":%u,\"max_vcpus\":%u,\"kernel\":", t->os, t->memory_mb,
	    t->maxmem_mb, t->vcpus, t->max_vcpus);
	cmd_json_str(stdout, b->kernel);
	printf(",\"ramdisk\":");
	cmd_json_str(stdout, b->ramdisk);
	printf(",\"cmdline\":");
	cmd_json_str(stdout, b->cmdline);
	printf(",\"agent_timeout_s\":%u,\"pool_size\":%u,\"keep_for_user\":%s,"
	    "\"disks\":[", t->agent_timeout_s, t->pool_size,
	    json_bool(t->keep_for_user));
	for (i = 0; i < t->num_disks; i++) {
		const struct template_disk *d = &t->disks[i];

		m = clone_plan(d, NULL, why, sizeof(why));
		printf("%s{\"vdev\":\"%s\",\"target\":", i ? "," : "", d->vdev);
		cmd_json_str(stdout, d->target);
		printf(",\"writable\":%s,\"block\":%s,\"cdrom\":%s,\"clone\":",
		    json_bool(d->writable), json_bool(d->is_block),
		    json_bool(d->is_cdrom));
		if (m < 0) {
			printf("null,\"clone_error\":");
			cmd_json_str(stdout, why);
		} else {
			cmd_json_str(stdout, clone_method_name(m));
		}
		putchar('}');
	}
	printf("]}\n");
}

static int
tpl_show(const char *name, int json)
{
	struct loaded *l = malloc(sizeof(*l));

	if (l == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if (template_load(NULL, name, &l->t, &l->dc, l->err,
	    sizeof(l->err)) < 0) {
		if (l->t.path[0] && access(l->t.path, F_OK) == 0)
			log_warnx("%s (mcd-toolstack template check %.64s "
			    "lists every problem)", l->err, name);
		else
			log_warnx("%s", l->err);
		free(l);
		return 1;
	}
	if (json)
		show_json(l);
	else
		show_text(l);
	libxl_domain_config_dispose(&l->dc);
	free(l);
	return 0;
}

/* --- check ----------------------------------------------------------------- */

static int
tpl_check(const char *name, int json)
{
	struct loaded *l = NULL;
	char *buf = NULL, *line, *nl;
	size_t len = 0;
	FILE *out;
	int n, k = 0;

	/* Problems are collected first, so --json can quote each one. */
	if ((out = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return 1;
	}
	n = template_check(NULL, name, out);
	if (n == 0 && (l = malloc(sizeof(*l))) != NULL) {
		/* Sound as a file: can its writable disks be cloned here? */
		if (template_load(NULL, name, &l->t, &l->dc, l->err,
		    sizeof(l->err)) == 0) {
			n += clone_check(&l->t, NULL, out);
			libxl_domain_config_dispose(&l->dc);
		} else {
			fprintf(out, "%s\n", l->err);	/* changed meanwhile */
			n++;
		}
	}
	free(l);
	if (fclose(out) != 0 || buf == NULL) {
		free(buf);
		log_warnx("out of memory");
		return 1;
	}
	if (json) {
		printf("{\"template\":");
		cmd_json_str(stdout, name);
		printf(",\"ok\":%s,\"problems\":[", json_bool(n == 0));
		for (line = buf; *line; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			else
				nl = line + strlen(line);
			printf("%s", k++ ? "," : "");
			cmd_json_str(stdout, line);
		}
		printf("]}\n");
	} else if (n == 0) {
		printf("ok: %s\n", name);
	} else {
		fputs(buf, stdout);
	}
	free(buf);
	if (n > 0) {
		fflush(stdout);
		log_warnx("template %.64s: %d problem%s", name, n,
		    n == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* --- the command --------------------------------------------------------------- */

int
cmd_template(int argc, char **argv)
{
	const char *sub = NULL, *name = NULL;
	int json = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: mcd-toolstack %s\n%s\n",
			    CMD_TEMPLATE_USAGE, CMD_TEMPLATE_HELP);
			return 0;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-')
			return usage_error("unknown option");
		else if (sub == NULL)
			sub = argv[i];
		else if (name == NULL)
			name = argv[i];
		else
			return usage_error("too many arguments");
	}
	if (sub == NULL)
		return usage_error("list, show or check is required");
	if (strcmp(sub, "list") == 0) {
		if (name)
			return usage_error("list takes no template name");
		return tpl_list(json);
	}
	if (strcmp(sub, "show") == 0 || strcmp(sub, "check") == 0) {
		if (name == NULL)
			return usage_error("a template name is required");
		return sub[0] == 's' ? tpl_show(name, json) :
		    tpl_check(name, json);
	}
	return usage_error("unknown subcommand (list, show or check)");
}
