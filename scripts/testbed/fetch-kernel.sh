#!/bin/bash
# Put a Debian kernel (PV dom0 and domU alike) and the Xen hypervisor image
# into the testbed cache. Idempotent: does nothing when both are current.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: $PROG [--help]

Downloads the current Debian linux-image-6.1.0-N-amd64 package (N from
'apt-cache depends linux-image-amd64', or MCD_KERNEL_RELEASE=6.1.0-N-amd64)
with 'apt-get download', unpacks it with 'dpkg -x' (never installs it),
runs depmod on the unpacked tree, and gunzips /boot/xen-4.17-amd64.gz.

Output (MCD_CACHE=$MCD_CACHE):
  \$MCD_CACHE/kernel/release   kernel release, e.g. 6.1.0-56-amd64
  \$MCD_CACHE/kernel/vmlinuz   the kernel image (bzImage; dom0 boots it)
  \$MCD_CACHE/kernel/vmlinux   the same kernel as a plain ELF: guests built
                              from it skip the xz step in 'xl create', which
                              costs seconds under emulation
  \$MCD_CACHE/kernel/root/     the unpacked package (lib/modules/RELEASE/...)
  \$MCD_CACHE/xen/xen          the multiboot Xen image
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

check_cache_path
XEN_GZ=${MCD_XEN_GZ:-/boot/xen-4.17-amd64.gz}
kdir=$MCD_CACHE/kernel
xdir=$MCD_CACHE/xen
mkdir -p "$kdir" "$xdir"

# Which kernel: asked for, else what linux-image-amd64 points at, else
# whatever is already cached (so an offline rerun still works).
release=${MCD_KERNEL_RELEASE:-}
if [ -z "$release" ]; then
	release=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1) || true
fi
if [ -z "$release" ] && [ -f "$kdir/release" ]; then
	release=$(cat "$kdir/release")
	note "apt-cache named no kernel; using cached $release"
fi
[ -n "$release" ] || die "cannot find the kernel version: 'apt-cache depends linux-image-amd64' names none (run apt-get update?)"

if [ -f "$kdir/release" ] && [ "$(cat "$kdir/release")" = "$release" ] &&
	[ -f "$kdir/vmlinuz" ] && [ -f "$kdir/root/lib/modules/$release/modules.dep" ]; then
	:
else
	note "fetching linux-image-$release"
	tmp=$(mktemp -d "$kdir/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt drops privileges to _apt for downloads; give it a directory it may write.
	chmod 0777 "$tmp"
	(cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>"$tmp/apt.err") ||
		die "apt-get download linux-image-$release failed: $(tail -n1 "$tmp/apt.err")"
	deb=$(ls "$tmp"/linux-image-"$release"_*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || die "apt-get download left no linux-image-$release .deb"
	mkdir "$tmp/root"
	dpkg -x "$deb" "$tmp/root"
	[ -f "$tmp/root/boot/vmlinuz-$release" ] || die "package has no boot/vmlinuz-$release"
	# The package leaves modules.dep to its postinst; make it here.
	depmod -b "$tmp/root" "$release" || die "depmod failed for $release"
	rm -rf "$kdir/root" "$kdir"/*.deb
	mv "$tmp/root" "$kdir/root"
	mv "$deb" "$kdir/"
	cp "$kdir/root/boot/vmlinuz-$release" "$kdir/vmlinuz.tmp"
	mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
	echo "$release" >"$kdir/release"
	rm -rf "$tmp"
	trap - EXIT
fi

# vmlinux: the bzImage's payload, decompressed. The boot header gives
# setup_sects (0x1f1) and payload_offset (0x248), see the kernel's boot.rst.
bz_sum=$(sha256sum <"$kdir/vmlinuz" | cut -d' ' -f1)
if [ ! -f "$kdir/vmlinux" ] || [ "$(cat "$kdir/vmlinux.src" 2>/dev/null)" != "$bz_sum" ]; then
	hdr_u() { od -An -tu"$2" -j "$1" -N "$2" "$kdir/vmlinuz" | tr -d ' '; }
	[ "$(od -An -c -j 514 -N 4 "$kdir/vmlinuz" | tr -d ' ')" = HdrS ] || die "$kdir/vmlinuz is not a bzImage"
	setup=$(hdr_u $((0x1f1)) 1)
	[ "$setup" -ne 0 ] || setup=4
	off=$(((setup + 1) * 512 + $(hdr_u $((0x248)) 4)))
	case "$(od -An -tx1 -j "$off" -N 6 "$kdir/vmlinuz" | tr -d ' \n')" in
	fd377a585a00) unpack=(xz -dc --single-stream) ;;
	1f8b*) unpack=(gzip -dc) ;;
	28b52ffd*) unpack=(zstd -qdc) ;;
	*) die "unknown compression of the kernel payload in $kdir/vmlinuz" ;;
	esac
	# gzip and zstd warn about the trailing size word; the ELF check decides.
	tail -c +$((off + 1)) "$kdir/vmlinuz" | "${unpack[@]}" >"$kdir/vmlinux.tmp" 2>/dev/null || true
	[ "$(head -c 4 "$kdir/vmlinux.tmp")" = $'\x7fELF' ] || die "cannot unpack the ELF kernel from $kdir/vmlinuz"
	mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
	echo "$bz_sum" >"$kdir/vmlinux.src"
fi

[ -f "$XEN_GZ" ] || die "$XEN_GZ is missing (install xen-hypervisor-4.17-amd64)"
want=$(sha256sum <"$XEN_GZ" | cut -d' ' -f1)
if [ ! -f "$xdir/xen" ] || [ "$(cat "$xdir/xen.src" 2>/dev/null)" != "$want" ]; then
	gzip -dc "$XEN_GZ" >"$xdir/xen.tmp"
	mv "$xdir/xen.tmp" "$xdir/xen"
	echo "$want" >"$xdir/xen.src"
fi

echo "kernel $release: $kdir/vmlinuz"
echo "xen: $xdir/xen"
