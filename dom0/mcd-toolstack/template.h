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
 *   disk        list of xl disk specs.  Read-only disks are attached as they
 *               are (never written).  Each writable disk (xl's default
 *               access is rw) is cloned for every launch (clone.h) and the
 *               domain gets the clone, so the template's image is never
 *               written either; its target must be a regular file or, for
 *               an LVM thin snapshot, a thin logical volume /dev/VG/LV.
 *   on_poweroff, on_reboot, on_crash, on_watchdog
 *               tolerated only as "destroy": a disposable domain is never
 *               restarted, MCD sets all of them to destroy anyway
 *   mcd_os             "linux" (default) or "windows": which agent to expect
 *   mcd_agent_timeout  seconds to wait for the agent, 1..3600, default 60
 *   mcd_ready_timeout  X modes: seconds from the app's start to its first
 *                      window on the thin client, 1..3600, default 60
 *   mcd_pool_size      warm-pool size: idle domains of this template kept
 *                      booted with their agent connected, 0..32, default 0
 *   mcd_keep_for_user  0 (default) or 1: whether a user's domain (and its
 *                      disk clones) may be kept when the app ends, for that
 *                      user's next launch of this template
 *   mcd_user_volume_size  size of a user's persistent volume when it is
 *                      made (volume.h), e.g. "256M": a number and K, M, G
 *                      or T (binary units), 16M..16T, default 256M; an
 *                      existing volume keeps its size
 * The memory a domain of the template needs is `memory` (plus a small
 * per-domain overhead; see load.h).
 * Keys MCD sets per launch (name, uuid) are refused.  A key may be assigned
 * only once (disk += [...] is allowed).
 */
#ifndef MCD_TEMPLATE_H
#define MCD_TEMPLATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
#define TEMPLATE_POOL_MAX	32	/* mcd_pool_size */
#define TEMPLATE_VDEV_MAX	15	/* vdev name, without the NUL */
#define TEMPLATE_VOLUME_DEFAULT	(256ULL << 20)	/* mcd_user_volume_size */
#define TEMPLATE_VOLUME_MIN	(16ULL << 20)	/* room for ext4's journal */
#define TEMPLATE_VOLUME_MAX	(16ULL << 40)

/*
 * One disk of a template, in the order of the disk list (the same order as
 * libxl_domain_config.disks).  vdev is [a-z0-9]+ (it names clone files);
 * target is the image's path ("" for an empty cdrom drive).
 */
struct template_disk {
	char		vdev[TEMPLATE_VDEV_MAX + 1];
	char		target[PATH_MAX];
	int		writable;		/* cloned per launch */
	int		is_block;		/* target is a block device */
	int		is_cdrom;
};

/* What MCD itself needs from a template; the rest is in the domain config. */
struct mcd_template {
	char		name[TEMPLATE_NAME_MAX + 1];
	char		path[PATH_MAX];		/* the file that was read */
	char		os[16];			/* "linux" or "windows" */
	unsigned	agent_timeout_s;	/* mcd_agent_timeout */
	unsigned	ready_timeout_s;	/* mcd_ready_timeout */
	unsigned	memory_mb;		/* target memory */
	unsigned	maxmem_mb;		/* = memory_mb unless maxmem */
	unsigned	vcpus;			/* online at boot */
	unsigned	max_vcpus;
	unsigned	pool_size;		/* mcd_pool_size */
	int		keep_for_user;		/* mcd_keep_for_user */
	uint64_t	user_volume_size;	/* mcd_user_volume_size, bytes */
	unsigned	num_disks;
	unsigned	num_writable;		/* disks[] with writable set */
	struct template_disk disks[TEMPLATE_DISKS_MAX];
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
 * libxl_domain_config_dispose(dc); t->disks[i] describes dc->disks[i].  On
 * failure returns -1, writes one line into err (truncated to errlen: the
 * first problem template_check would print) and leaves dc initialised and
 * empty, so a dispose is harmless but not needed.  Nothing is logged;
 * warnings from libxlutil are folded into err.  Thread-safe (no shared
 * state).  struct mcd_template is large (its disks' paths): keep it off
 * small thread stacks.
 */
int template_load(const char *dir, const char *name, struct mcd_template *t,
    libxl_domain_config *dc, char *err, size_t errlen);

/*
 * Check <dir>/<name>.cfg (dir NULL: template_dir()) as template_load would,
 * but go on after a problem: print EVERY problem found to out (NULL: print
 * nothing), one line each, "file:line: message" where the line is known,
 * else "file: message" (or just the message when there is no file, e.g. a
 * bad name).  Returns the number of problems: 0 means template_load will
 * accept the file (as long as the files it names do not change).  After a
 * syntax error the values are not checked (libxlutil drops them), but every
 * syntax error and every unknown, reserved or repeated key is reported.
 */
int template_check(const char *dir, const char *name, FILE *out);

/*
 * Call cb(name, arg) for each <name>.cfg in dir (NULL: template_dir()) whose
 * name is valid and which is (or links to) a regular file, sorted by name.
 * The files are not parsed: use template_load for that.  Stops early if cb
 * returns non-zero.  Returns the number of names passed to cb, or -1 with
 * errno set (ENOENT if dir does not exist).
 */
/*
 * "256M", "1G"...: a number and one of K, M, G, T (either case, binary
 * units) into *bytes; 0, or -1 if malformed or outside
 * TEMPLATE_VOLUME_MIN..TEMPLATE_VOLUME_MAX.
 */
int template_parse_size(const char *s, uint64_t *bytes);

int template_list(const char *dir, int (*cb)(const char *name, void *arg),
    void *arg);

#endif /* MCD_TEMPLATE_H */
