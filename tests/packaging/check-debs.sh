#!/bin/bash
# check-debs.sh [OUT]: build the Debian packages (make deb) into OUT
# (default build/deb), run lintian on them (any E: fails), check each
# package's file list, and unpack mcd-client and run its --help.
# Run from the top of the tree; `make debtest` runs it.
set -euo pipefail

PROG=${0##*/}
out=${1:-build/deb}
fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

packaging/mkdeb.sh "$out"
version=$(cat VERSION)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb() { echo "$out/${1}_${version}_${arch}.deb"; }

echo "== lintian"
lint=$(lintian --tag-display-limit 0 "$out"/*_"${version}"_"${arch}".deb 2>&1 | grep -v 'running with root privileges' || true)
[ -z "$lint" ] || printf '%s\n' "$lint"
if printf '%s\n' "$lint" | grep -q '^E: '; then
	bad "lintian reports errors"
fi

expect() { # PKG PATH...: each PATH is in PKG's file list
	local pkg=$1 list p
	shift
	list=$(dpkg-deb -c "$(deb "$pkg")" | awk '{print $6}' | sed 's|^\./|/|')
	for p in "$@"; do
		grep -qxF "$p" <<<"$list" || bad "$pkg lacks $p"
	done
	echo "$pkg: $# paths present"
}

echo "== file lists"
expect mcd-toolstack /usr/sbin/mcd-toolstack /usr/bin/mcd-schema-check \
	/usr/sbin/mcd-bake-template /lib/systemd/system/mcd-toolstack.service \
	/etc/logrotate.d/mcd-toolstack /usr/share/man/man8/mcd-toolstack.8.gz \
	/usr/share/man/man1/mcd-schema-check.1.gz /usr/share/doc/mcd-toolstack/SCHEMA.md \
	/usr/share/mcd/mcd-agent.init /usr/share/mcd/mcd-agent.service \
	/usr/share/doc/mcd-toolstack/copyright
expect mcd-agent /usr/sbin/mcd-agent /lib/systemd/system/mcd-agent.service \
	/lib/systemd/system/proc-xen.mount /etc/modules-load.d/mcd-agent.conf \
	/usr/share/man/man8/mcd-agent.8.gz /usr/share/doc/mcd-agent/copyright
expect mcd-broker /usr/sbin/mcd-broker /usr/sbin/mcd-site-certs \
	/lib/systemd/system/mcd-broker.service /etc/mcd/broker.conf \
	/usr/share/man/man8/mcd-broker.8.gz /usr/share/man/man8/mcd-site-certs.8.gz
expect mcd-client /usr/bin/mcd-client /usr/share/man/man1/mcd-client.1.gz

echo "== control fields"
dpkg-deb -f "$(deb mcd-agent)" Recommends | grep -q 'e2fsprogs, nfs-common, cifs-utils' ||
	bad "mcd-agent's Recommends"
for lib in libxenstore4 libxenmisc4.17 libx11-6; do
	dpkg-deb -f "$(deb mcd-agent)" Depends | grep -q "$lib" || bad "mcd-agent does not depend on $lib"
done
grep -qx 'xen-gntalloc' <(dpkg-deb --fsys-tarfile "$(deb mcd-agent)" |
	tar -xO ./etc/modules-load.d/mcd-agent.conf) || bad "modules-load.d lacks xen-gntalloc"
dpkg-deb -I "$(deb mcd-agent)" postinst | grep -q 'deb-systemd-helper enable' ||
	bad "mcd-agent's postinst does not enable its unit"

if command -v systemd-analyze >/dev/null; then
	echo "== systemd-analyze verify (unit syntax only)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for p in mcd-toolstack mcd-agent mcd-broker; do
		dpkg-deb -x "$(deb "$p")" "$tmp/$p"
	done
	# Only this file's own problems: the programs it names are not
	# installed here, so those lines are left out.
	for u in "$tmp"/*/lib/systemd/system/*; do
		msg=$(systemd-analyze verify --man=no "$u" 2>&1 | grep -F "$(basename "$u"):" |
			grep -v 'Command .* is not executable\|not found\|Failed to prepare' || true)
		[ -z "$msg" ] || bad "$(basename "$u"): $msg"
	done
fi

echo "== mcd-client unpacked runs"
root=$(mktemp -d)
trap 'rm -rf "$root" ${tmp:+"$tmp"}' EXIT
dpkg-deb -x "$(deb mcd-client)" "$root"
"$root/usr/bin/mcd-client" --help | grep -q '^usage: mcd-client' || bad "mcd-client --help"

if [ "$fail" -ne 0 ]; then
	echo "$PROG: FAILED" >&2
	exit 1
fi
echo "$PROG: ok"
