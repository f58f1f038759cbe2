#!/bin/bash
# Install every Debian package that building MCD, its tests and the Xen
# testbed need. Safe to run again; apt skips what is already installed.
set -euo pipefail

PACKAGES=(
	# build
	build-essential
	pkg-config
	clang
	# libFuzzer and the sanitizer runtimes for clang (make fuzz)
	libclang-rt-dev
	libxen-dev
	libssl-dev
	libcmocka-dev
	# mcd-broker: its database and its --json output
	libsqlite3-dev
	libyajl-dev
	# the session worker's seccomp filter (dom0/mcd-toolstack/worker.c)
	libseccomp-dev
	# every shell script is checked (make shellcheck)
	shellcheck
	# the Linux agent's X display check and cookie file
	libx11-dev
	libxau-dev
	# mcd-client's --json output
	libyajl-dev
	# make deb and make debtest: Debian packages and their checks
	dpkg-dev
	lintian
	# the Windows agent: cross compiler, and Wine to test it
	gcc-mingw-w64-x86-64
	wine
	wine64
	# Xen hypervisor, its tools and a way to boot them without hardware
	xen-hypervisor-4.17-amd64
	xen-utils-4.17
	xenstore-utils
	qemu-system-x86
	# testbed images: guest and dom0 initramfs
	busybox-static
	cpio
	gzip
	xz-utils
	kmod
	e2fsprogs
	util-linux
	bsdutils
	coreutils
	passwd
	bash
	# benchmark plots (make bench)
	gnuplot-nox
	# the thin client of the demo and the X11 tests: an X server with a
	# cookie, real X programs for the guests (xlogo, xeyes, xev), X clients
	# dom0 looks at it with, a TLS front end, screenshots as PNG
	xvfb
	xauth
	x11-apps
	x11-utils
	xdotool
	stunnel4
	netpbm
	# users' network shares in the testbed guests (mount.nfs, mount.cifs)
	nfs-common
	cifs-utils
	# the file servers the network-share end-to-end cases mount from:
	# smbd on the host, the NFS server programs for dom0's kernel nfsd
	samba
	nfs-kernel-server
)

usage() {
	echo "usage: ${0##*/} [--print]   install (or with --print, list) the Debian packages MCD needs"
}

case "${1:-}" in
-h | --help)
	usage
	exit 0
	;;
--print)
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
	;;
"") ;;
*)
	usage >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "${0##*/}: error: must run as root (apt-get install)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"
