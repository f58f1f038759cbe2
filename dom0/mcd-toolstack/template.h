/*
 * template.h - domain templates: <dir>/<name>.cfg files in xl.cfg syntax.
 *
 * A template describes one kind of disposable PV guest.  It is parsed with
 * libxlutil (so its syntax is exactly xl's) into a libxl_domain_config, then
 * checked much more strictly than xl does: a template is refused, with one
 * line naming the file (and the line where one is known), unless every key
 * is one MCD understands and every value is in range.
 *
 * Keys (all others are refused, so a typo never goes unnoticed):
 *   type        "pv" (the default; nothing else yet)
 *   memory      MiB, required, TEMPLATE_MEM_MIN..TEMPLATE_MEM_MAX
 *   maxmem      MiB, optional, memory..TEMPLATE_MEM_MAX
 *   vcpus       1..TEMPLATE_VCPUS_MAX, default 1
 *   maxvcpus    vcpus..TEMPLATE_VCPUS_MAX, default vcpus
 *   kernel      absolute path of an existing regular file, required
 *   ramdisk     the same, optional
 *   root, extra kernel command line "root=<root> <extra>"
 *   cmdline     the whole command line (instead of root/extra)
 *   disk        list of xl disk specs; only read-only disks for now, since a
 *               writable disk needs a per-launch clone
 *   on_poweroff, on_reboot, on_crash, on_watchdog
 *               tolerated only as "destroy": a disposable domain is never
 *               restarted, MCD sets all of them to destroy anyway
 *   mcd_os             "linux" (default) or "windows": which agent to expect
 *   mcd_agent_timeout  seconds to wait for the agent, 1..3600, default 60
 * Keys MCD sets per launch (name, uuid) are refused.  A key may be assigned
 * only once (disk += [...] is allowed).
 */
#ifndef MCD_TEMPLATE_H
#define MCD_TEMPLATE_H

#include <limits.h>
#include <stddef.h>
#include <libxl.h>

#define TEMPLATE_DIR_DEFAULT	"/etc/mcd/templates"
#define TEMPLATE_DIR_ENV	"MCD_TEMPLATE_DIR"
#define TEMPLATE_SUFFIX		".cfg"
#define TEMPLATE_NAME_MAX	64	/* characters, without the NUL */
#define TEMPLATE_FILE_MAX	65536	/* bytes; a template is a few lines */
#define TEMPLATE_MEM_MIN	16	/* MiB: less does not boot a PV kernel */
#define TEMPLATE_MEM_MAX	65536	/* MiB */
#define TEMPLATE_VCPUS_MAX	128
#define TEMPLATE_DISKS_MAX	16
#define TEMPLATE_TIMEOUT_DEFAULT 60	/* seconds */
#define TEMPLATE_TIMEOUT_MAX	3600
#define TEMPLATE_LIST_MAX	4096	/* names returned by template_list */

/* What MCD itself needs from a template; the rest is in the domain config. */
struct mcd_template {
	char		name[TEMPLATE_NAME_MAX + 1];
	char		path[PATH_MAX];		/* the file that was read */
	char		os[16];			/* "linux" or "windows" */
	unsigned	agent_timeout_s;	/* mcd_agent_timeout */
	unsigned	memory_mb;		/* target memory */
	unsigned	maxmem_mb;		/* = memory_mb unless maxmem */
	unsigned	vcpus;			/* online at boot */
	unsigned	max_vcpus;
	unsigned	num_disks;
};

/*
 * The template directory: $MCD_TEMPLATE_DIR if set and not empty, else
 * TEMPLATE_DIR_DEFAULT.  The string must not be freed.
 */
const char *template_dir(void);

/*
 * 1 if name matches [A-Za-z0-9][A-Za-z0-9_.-]{0,63} and holds no "..";
 * else 0 with a one-line reason in err.
 */
int template_name_valid(const char *name, char *err, size_t errlen);

/*
 * Read <dir>/<name>.cfg (dir NULL means template_dir()) into *t and *dc.
 * dc need not be initialised.  On success returns 0, dc holds a PV domain
 * config without name or uuid (see domain_create), and the caller must
 * libxl_domain_config_dispose(dc).  On failure returns -1, writes one line
 * into err (truncated to errlen) and leaves dc initialised and empty, so a
 * dispose is harmless but not needed.  Nothing is logged; warnings from
 * libxlutil are folded into err.  Thread-safe (no shared state).
 */
int template_load(const char *dir, const char *name, struct mcd_template *t,
    libxl_domain_config *dc, char *err, size_t errlen);

/*
 * Call cb(name, arg) for each <name>.cfg in dir (NULL: template_dir()) whose
 * name is valid and which is (or links to) a regular file, sorted by name.
 * The files are not parsed: use template_load for that.  Stops early if cb
 * returns non-zero.  Returns the number of names passed to cb, or -1 with
 * errno set (ENOENT if dir does not exist).
 */
int template_list(const char *dir, int (*cb)(const char *name, void *arg),
    void *arg);

#endif /* MCD_TEMPLATE_H */
