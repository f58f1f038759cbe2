#!/bin/bash
# Build the testbed's minimal guest root tree (cached).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# xen-netfront: the linux-net template's guest network (mcd.net=IP).
# xen-blkfront: templates with disks (the testbed's linux-disk) see them as /dev/xvd*.
GUEST_MODULES=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkfront xen-netfront)
# The user's storage (guest/linux-agent/storage.c): ext4 (and the crc32c
# it asks for without depending on it) for the volume,
# NFS and CIFS for shares (with the crypto SMB2/3 signing and key
# derivation load on demand: the guest has no modprobe); e2fsck,
# util-linux mount/umount and the helpers.
STORAGE_MODULES=(crc32c_generic ext4 nfs nfsv3 nfsv4 cifs
	cmac sha512_generic ecb ctr ccm gcm ghash_generic seqiv)
STORAGE_PROGS=(/sbin/e2fsck /bin/mount /bin/umount /sbin/mount.nfs /sbin/mount.cifs)
XS_TOOLS=(xenstore-read xenstore-write xenstore-ls xenstore-rm xenstore-list xenstore-exists)
# Real X programs for the demo and the X end-to-end tests (x11-apps, x11-utils).
X_APPS=(/usr/bin/xlogo /usr/bin/xeyes /usr/bin/xev /usr/bin/x11perf)
X_APP_DEFAULTS=(/etc/X11/app-defaults/XLogo /etc/X11/app-defaults/XLogo-color)

usage() {
	cat <<EOF
usage: $PROG [--help]

Builds a minimal guest root tree for the testbed's PV guests: static
busybox, the Xen guest modules (${GUEST_MODULES[*]}) with their
dependencies, the xenstore-* clients and useradd with their libraries, /etc/passwd with
root, daemon (uid 1, a system account), alice (uid 1000) and nobody, and
scripts/testbed/guest-init as /init. The
tree has no agent: mcd-bake-template adds it.

Kernel test hooks understood by /init: mcd.test=silent (start no agent),
mcd.test=hostile:MODE (run /usr/sbin/mcd-hostile-agent MODE instead),
mcd.test.disk=VDEV (print the start of /dev/VDEV, then write a marker
into it).

Needs the kernel from fetch-kernel.sh. Rebuilt only when its inputs change.
Output: \$MCD_CACHE/guest-rootfs/root/  (MCD_CACHE=$MCD_CACHE)
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

check_cache_path
release=$(kernel_release)
kroot=$MCD_CACHE/kernel/root
out=$MCD_CACHE/guest-rootfs
xs_bin=$(command -v xenstore-read) || die "xenstore-read not found (install xenstore-utils)"
USERADD=/usr/sbin/useradd
[ -x "$USERADD" ] || die "$USERADD not found (install passwd)"
[ -x /bin/busybox ] || die "/bin/busybox not found (install busybox-static)"
for x in "${X_APPS[@]}"; do
	[ -x "$x" ] || die "$x not found (install x11-apps and x11-utils)"
done

stamp=$(stamp_of "$0" "$TESTBED_DIR/lib.sh" "$TESTBED_DIR/guest-init" /bin/busybox \
	"$xs_bin" "$USERADD" /etc/login.defs "$MCD_CACHE/kernel/release" "${STORAGE_PROGS[@]}" \
	"${X_APPS[@]}" "${X_APP_DEFAULTS[@]}"; echo "$release ${GUEST_MODULES[*]} ${STORAGE_MODULES[*]} $(id -u)")
if stamp_ok "$out" "$stamp" && [ -d "$out/root" ]; then
	echo "$out/root"
	exit 0
fi

note "building guest root tree"
mkdir -p "$out"
root=$out/root.new
rm -rf "$root"
mkdir -p "$root"
(cd "$root" && mkdir -p bin sbin usr/bin usr/sbin lib lib64 etc proc sys dev run tmp \
	root home/alice var/log var/lib etc/init.d etc/mcd)
ln -s ../run "$root/var/run"
ln -s ../run/lock "$root/var/lock"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

install_busybox "$root"

# The xenstore clients are one program that looks at its own name.
copy_file "$root" "$xs_bin" /usr/bin/xenstore
for t in "${XS_TOOLS[@]}"; do
	ln -sfn xenstore "$root/usr/bin/$t"
done
copy_libs "$root" "$xs_bin"

copy_modules "$kroot" "$release" "$root" "${GUEST_MODULES[@]}" "${STORAGE_MODULES[@]}"

# Storage programs replace busybox's links of the same name (never copy
# through such a link: it would overwrite busybox).
for p in "${STORAGE_PROGS[@]}"; do
	[ -x "$p" ] || die "$p not found (install e2fsprogs, mount, nfs-common, cifs-utils)"
	rm -f "$root$p"
	copy_file "$root" "$p"
	chmod u-s "$root$p" # only root (the agent) mounts in a guest
	copy_libs "$root" "$p"
done
ln -sfn ../proc/self/mounts "$root/etc/mtab"

# Debian's busybox has no adduser; the agent creates users with useradd.
copy_file "$root" "$USERADD"
copy_libs "$root" "$USERADD"
[ ! -f /etc/login.defs ] || copy_file "$root" /etc/login.defs
mkdir -p "$root/etc/skel"

# X programs with their libraries (the agent's own X libraries come with it
# in mcd-bake-template) and xlogo's resources.
for x in "${X_APPS[@]}"; do
	copy_file "$root" "$x"
	copy_libs "$root" "$x"
done
for f in "${X_APP_DEFAULTS[@]}"; do
	[ ! -f "$f" ] || copy_file "$root" "$f"
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:
alice:x:1000:
nogroup:x:65534:
EOF
cat >"$root/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
alice:!:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
cat >"$root/etc/gshadow" <<'EOF'
root:*::
daemon:*::
tty:*::
users:*::
alice:!::
nogroup:*::
EOF
chmod 0600 "$root/etc/shadow" "$root/etc/gshadow"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$root/etc/hosts"
echo "mcd-guest" >"$root/etc/hostname"
install -m 0755 "$TESTBED_DIR/guest-init" "$root/init"

if [ "$(id -u)" -eq 0 ]; then
	chown 1000:1000 "$root/home/alice"
	mknod -m 0600 "$root/dev/console" c 5 1
	mknod -m 0666 "$root/dev/null" c 1 3
fi
chmod 0750 "$root/home/alice"

check_links "$root" || die "the guest tree has broken program links"
rm -rf "$out/root"
mv "$root" "$out/root"
stamp_write "$out" "$stamp"
echo "$out/root"
