#!/bin/bash
# Build (cached) everything the testbed boots: kernel, Xen, guest templates
# and the dom0 initramfs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${MCD_BUILD:-$REPO/build}
AGENT=${MCD_AGENT:-$BUILD/guest/mcd-agent}
AGENT_INIT=${MCD_AGENT_INIT:-$REPO/guest/linux-agent/mcd-agent.init}
AGENT_SERVICE=${MCD_AGENT_SERVICE:-$REPO/guest/linux-agent/mcd-agent.service}
TOOLSTACK=${MCD_TOOLSTACK:-$BUILD/bin/mcd-toolstack}
SCHEMA_CHECK=$BUILD/xenstore-schema/mcd-schema-check
HOSTILE_AGENT=$BUILD/tests/mcd-hostile-agent
TEST_APP=$REPO/tests/e2e/guest/mcd-test-app
XEN_BIN=/usr/lib/xen-4.17/bin

DOM0_MODULES=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback loop e1000 bridge nfsd)
XEN_TOOLS=(xl xenstored xenconsoled xen-init-dom0 xenconsole libxl-save-helper
	xenstore-control)
XS_TOOLS=(xenstore-read xenstore-write xenstore-ls xenstore-rm xenstore-list xenstore-exists
	xenstore-chmod xenstore-watch)
# Host programs dom0 needs beyond busybox: xl's hotplug scripts want bash,
# util-linux losetup and flock, coreutils stat and readlink, and logger.
HOST_PROGS=(/bin/bash /sbin/losetup /usr/bin/flock /usr/bin/stat /usr/bin/readlink /usr/bin/logger)
# Users' volumes are made with mkfs.ext4 (dom0/mcd-toolstack/volume.c).
HOST_PROGS+=(/sbin/mkfs.ext4)
# X clients for the X11 cases (tests/e2e/cases/80-x11.sh): from dom0 they
# look at and type into the thin client's X server; skipped if missing.
X_CLIENTS=(/usr/bin/xwininfo /usr/bin/xdotool /usr/bin/xauth)
# An NFS server for the share case (tests/e2e/cases/87-nfs.sh): dom0's
# kernel nfsd, exported to guests on its bridge; skipped if missing.
NFS_SERVER=(/usr/sbin/rpc.nfsd /usr/sbin/rpc.mountd /usr/sbin/exportfs)

usage() {
	cat <<EOF
usage: $PROG [--help]

Builds everything the testbed boots, each part only when its inputs changed:
  1. kernel and Xen image                (fetch-kernel.sh)
  2. guest root tree                     (mk-guest-rootfs.sh)
  3. guest templates, with mcd-bake-template:
       linux-demo  --allow-create-user, adds tests/e2e/guest/mcd-test-app
                   as /usr/bin/mcd-test-app if it exists
       silent      extra "mcd.test=silent", agent timeout 20
       hostile     extra "mcd.test=hostile:garbage", adds
                   build/tests/mcd-hostile-agent if it exists
       linux-disk  like linux-demo, plus extra "mcd.test.disk=xvdb" and a
                   writable 32 MiB sparse raw disk data.img (xvdb) that
                   starts with "MCD-TEMPLATE-DISK": each launch gets a clone
       linux-net   like linux-demo, plus a vif on dom0's bridge xenbr0 and
                   extra "mcd.net=10.0.2.16": the guest reaches the host
                   (10.0.2.2) itself, for X direct mode
       broken.cfg  a deliberately malformed template
  4. dom0 initramfs: busybox, bash, Xen tools, kernel modules, the
     templates (/etc/mcd/templates/*.cfg, /var/lib/mcd/templates/NAME/),
     build/bin/mcd-toolstack as /usr/sbin/mcd-toolstack and,
     if built,
     build/xenstore-schema/mcd-schema-check as /usr/bin/mcd-schema-check

Environment (defaults in brackets):
  MCD_CACHE          cache directory [$REPO/.cache/testbed]
  MCD_BUILD          build output directory [$REPO/build]
  MCD_AGENT          guest agent binary [\$MCD_BUILD/guest/mcd-agent]
  MCD_AGENT_INIT     agent init script [guest/linux-agent/mcd-agent.init]
  MCD_AGENT_SERVICE  agent systemd unit [guest/linux-agent/mcd-agent.service]
  MCD_TOOLSTACK      dom0 toolstack binary [\$MCD_BUILD/bin/mcd-toolstack]

Output:
  \$MCD_CACHE/xen/xen              multiboot Xen image
  \$MCD_CACHE/kernel/vmlinuz       dom0 (and guest) kernel
  \$MCD_CACHE/dom0/dom0.cpio.gz    dom0 initramfs
  \$MCD_CACHE/templates/           the baked templates
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

check_cache_path
# One build at a time per cache; a second caller waits, then finds it done.
mkdir -p "$MCD_CACHE"
exec 9>"$MCD_CACHE/.build.lock"
flock 9
"$TESTBED_DIR/fetch-kernel.sh" >/dev/null
"$TESTBED_DIR/mk-guest-rootfs.sh" >/dev/null
release=$(kernel_release)
kernel=$MCD_CACHE/kernel/vmlinux

# --- guest templates ----------------------------------------------------------

[ -f "$AGENT" ] || die "agent not found: $AGENT (run make, or set MCD_AGENT)"
[ -f "$AGENT_INIT" ] || die "agent init script not found: $AGENT_INIT (set MCD_AGENT_INIT)"
[ -f "$AGENT_SERVICE" ] || die "agent systemd unit not found: $AGENT_SERVICE (set MCD_AGENT_SERVICE)"

tpl=$MCD_CACHE/templates
tstamp=$(stamp_of "$0" "$TESTBED_DIR/lib.sh" "$REPO/scripts/mcd-bake-template" \
	"$MCD_CACHE/guest-rootfs/.stamp" "$kernel" "$AGENT" "$AGENT_INIT" "$AGENT_SERVICE" \
	"$HOSTILE_AGENT" "$REPO/tests/e2e/guest")
if ! stamp_ok "$tpl" "$tstamp"; then
	note "baking guest templates"
	rm -rf "$tpl"
	mkdir -p "$tpl/out"
	bake=("$REPO/scripts/mcd-bake-template" --kernel "$kernel"
		--rootfs "$MCD_CACHE/guest-rootfs/root" --agent "$AGENT"
		--init-script "$AGENT_INIT" --service-unit "$AGENT_SERVICE"
		--out "$tpl/out" --install-dir /var/lib/mcd/templates)
	demo_add=()
	[ -f "$TEST_APP" ] && demo_add=(--add "$TEST_APP:/usr/bin/mcd-test-app")
	hostile_add=()
	[ -f "$HOSTILE_AGENT" ] && hostile_add=(--add "$HOSTILE_AGENT:/usr/sbin/mcd-hostile-agent")
	"${bake[@]}" --name linux-demo --allow-create-user ${demo_add[@]+"${demo_add[@]}"} >/dev/null
	# 192 MB: the guest tree (with the storage modules and programs) no
	# longer unpacks in 128 MB.
	"${bake[@]}" --name silent --memory 192 --extra mcd.test=silent --agent-timeout 20 >/dev/null
	"${bake[@]}" --name linux-disk --allow-create-user --extra mcd.test.disk=xvdb \
		${demo_add[@]+"${demo_add[@]}"} >/dev/null
	# Its writable disk: sparse, with known bytes at 0 and 16 MiB.
	img=$tpl/out/linux-disk/data.img
	truncate -s 32M "$img"
	printf 'MCD-TEMPLATE-DISK linux-disk\n' | dd of="$img" conv=notrunc status=none
	printf 'MCD-TEMPLATE-DISK middle\n' | dd of="$img" bs=1M seek=16 conv=notrunc status=none
	cat >>"$tpl/out/linux-disk.cfg" <<'EOF'
disk = [ 'format=raw, vdev=xvdb, access=rw, target=/var/lib/mcd/templates/linux-disk/data.img' ]
EOF
	# A guest with its own network: a vif on dom0's bridge xenbr0, which
	# carries QEMU's user network (the host, the thin client, is 10.0.2.2).
	"${bake[@]}" --name linux-net --allow-create-user --extra mcd.net=10.0.2.16 \
		${demo_add[@]+"${demo_add[@]}"} >/dev/null
	cat >>"$tpl/out/linux-net.cfg" <<'EOF'
vif = [ 'bridge=xenbr0, mac=00:16:3e:4d:43:44' ]
EOF
	"${bake[@]}" --name hostile --memory 192 --extra mcd.test=hostile:garbage \
		${hostile_add[@]+"${hostile_add[@]}"} >/dev/null
	cat >"$tpl/out/broken.cfg" <<'EOF'
# Deliberately malformed MCD template: tests expect it to be refused.
type = "pv"
kernel = "/var/lib/mcd/templates/linux-demo/vmlinuz
memory = = 256
vcpus = [ 1,
EOF
	stamp_write "$tpl" "$tstamp"
fi

# --- dom0 initramfs -------------------------------------------------------------

xs_bin=$(command -v xenstore-read) || die "xenstore-read not found (install xenstore-utils)"
for t in "${XEN_TOOLS[@]}"; do
	[ -x "$XEN_BIN/$t" ] || die "$XEN_BIN/$t not found (install xen-utils-4.17)"
done
for p in "${HOST_PROGS[@]}"; do
	[ -x "$p" ] || die "$p not found (run scripts/install-deps.sh)"
done
libgcc=$(ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ && !found { print $NF; found = 1 }')
[ -n "$libgcc" ] || die "libgcc_s.so.1 not found"
if [ ! -f "$TOOLSTACK" ]; then
	note "warning: $TOOLSTACK not built; dom0 will have no mcd-toolstack"
fi

d0=$MCD_CACHE/dom0
dstamp=$(stamp_of "$0" "$TESTBED_DIR/lib.sh" "$TESTBED_DIR/dom0-init" "$tpl/.stamp" \
	"$MCD_CACHE/kernel/release" /bin/busybox "$xs_bin" /etc/xen/scripts "$libgcc" \
	"${XEN_TOOLS[@]/#/$XEN_BIN/}" "${HOST_PROGS[@]}" "$TOOLSTACK" "$SCHEMA_CHECK" \
	"$REPO/xenstore-schema/SCHEMA.md" "${X_CLIENTS[@]}" "${NFS_SERVER[@]}"; echo "${DOM0_MODULES[*]} $(id -u)")
if stamp_ok "$d0" "$dstamp" && [ -f "$d0/dom0.cpio.gz" ]; then
	echo "$d0/dom0.cpio.gz"
	exit 0
fi

note "building dom0 initramfs"
mkdir -p "$d0"
root=$d0/root
rm -rf "$root"
mkdir -p "$root"
(cd "$root" && mkdir -p bin sbin usr/bin usr/sbin lib lib64 etc proc sys dev run tmp root \
	var/log var/lib/xen var/lib/xenstored etc/xen etc/mcd/templates var/lib/mcd/templates)
ln -s ../run "$root/var/run"
ln -s ../run/lock "$root/var/lock"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

# Real programs first, so busybox fills in only what is left.
for p in "${HOST_PROGS[@]}"; do
	copy_file "$root" "$p"
done
copy_libs "$root" "${HOST_PROGS[@]}"
install_busybox "$root"

mkdir -p "$root$XEN_BIN"
for t in "${XEN_TOOLS[@]}"; do
	copy_file "$root" "$XEN_BIN/$t"
	ln -sfn "../lib/xen-4.17/bin/$t" "$root/usr/sbin/$t"
done
copy_libs "$root" "${XEN_TOOLS[@]/#/$XEN_BIN/}"
copy_file "$root" "$libgcc" "/lib/x86_64-linux-gnu/libgcc_s.so.1"
copy_file "$root" "$xs_bin" /usr/bin/xenstore
for t in "${XS_TOOLS[@]}"; do
	ln -sfn xenstore "$root/usr/bin/$t"
done
copy_libs "$root" "$xs_bin"
cp -a /etc/xen/scripts "$root/etc/xen/"

if [ -f "$TOOLSTACK" ]; then
	copy_file "$root" "$TOOLSTACK" /usr/sbin/mcd-toolstack
	copy_libs "$root" "$TOOLSTACK"
fi
if [ -f "$SCHEMA_CHECK" ]; then
	copy_file "$root" "$SCHEMA_CHECK" /usr/bin/mcd-schema-check
	copy_libs "$root" "$SCHEMA_CHECK"
fi
for p in "${X_CLIENTS[@]}" "${NFS_SERVER[@]}"; do
	[ -x "$p" ] || continue
	copy_file "$root" "$p"
	copy_libs "$root" "$p"
done
mkdir -p "$root/var/lib/nfs"
if [ -f "$REPO/xenstore-schema/SCHEMA.md" ]; then
	mkdir -p "$root/usr/share/doc/mcd"
	cp "$REPO/xenstore-schema/SCHEMA.md" "$root/usr/share/doc/mcd/"
fi

copy_modules "$MCD_CACHE/kernel/root" "$release" "$root" "${DOM0_MODULES[@]}"

# Templates: configs where the toolstack reads them, images where the
# configs say; identical kernels are stored once (hard links survive cpio).
cp "$tpl/out"/*.cfg "$root/etc/mcd/templates/"
first_kernel=''
for t in "$tpl/out"/*/; do
	t=${t%/}
	n=${t##*/}
	mkdir -p "$root/var/lib/mcd/templates/$n"
	cp "$t/initrd.gz" "$root/var/lib/mcd/templates/$n/"
	if [ -f "$t/data.img" ]; then
		cp --sparse=always "$t/data.img" "$root/var/lib/mcd/templates/$n/"
	fi
	if [ -n "$first_kernel" ] && cmp -s "$first_kernel" "$t/vmlinuz"; then
		ln "$first_kernel" "$root/var/lib/mcd/templates/$n/vmlinuz"
	else
		cp "$t/vmlinuz" "$root/var/lib/mcd/templates/$n/vmlinuz"
		first_kernel=$root/var/lib/mcd/templates/$n/vmlinuz
	fi
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$root/etc/hosts"
cat >"$root/etc/xen/xl.conf" <<'EOF'
# xl settings for the testbed's dom0 (its memory is fixed by dom0_mem).
autoballoon="off"
EOF
install -m 0755 "$TESTBED_DIR/dom0-init" "$root/init"
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 0600 "$root/dev/console" c 5 1
	mknod -m 0666 "$root/dev/null" c 1 3
fi

check_links "$root" || die "the dom0 tree has broken program links"
pack_cpio "$root" "$d0/dom0.cpio.gz"
stamp_write "$d0" "$dstamp"
echo "$d0/dom0.cpio.gz"
