#!/bin/bash
# mkdeb.sh OUT: build the Debian packages mcd-toolstack, mcd-agent,
# mcd-broker and mcd-client into OUT/ with dpkg-deb.  The binaries are
# built in OUT/obj with Debian's hardening flags, each package's tree is
# what `make install-PART DESTDIR=... PREFIX=/usr` installs, plus the
# Debian files from packaging/debian/.  Run from the top of the tree.
set -euo pipefail

PROG=${0##*/}
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $PROG OUT"
out=$1
[ -f VERSION ] && [ -d packaging/debian ] || die "run from the top of the MCD tree"
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags dpkg-architecture; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install dpkg-dev)"
done

version=$(cat VERSION)
# lintian refuses localhost mail hosts; example.org is reserved for examples.
maintainer=${MCD_MAINTAINER:-MCD developers <mcd@example.org>}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
pkgdir=packaging/debian
obj=$out/obj
mkdir -p "$out"
out=$(cd "$out" && pwd)

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# A fixed date for the changelog and the files' times: the same tree gives
# the same packages.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

jobs=$(nproc 2>/dev/null || echo 1)
stage=$out/stage
rm -rf "$stage"
for part in toolstack agent broker client; do
	make -s -j"$jobs" O="$obj" CFLAGS="$cflags" LDFLAGS="$ldflags" \
		DESTDIR="$stage/mcd-$part" PREFIX=/usr "install-$part" >/dev/null
done

# dpkg-shlibdeps wants a debian/control; a minimal one in a scratch dir.
shl=$out/shlibdeps
rm -rf "$shl"
mkdir -p "$shl/debian"
printf 'Source: mcd\n\nPackage: mcd\nArchitecture: any\n' >"$shl/debian/control"

changelog() { # PKG: the package's changelog, gzipped
	local date
	date=$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")
	{
		echo "$1 ($version) unstable; urgency=medium"
		echo
		echo "  * Release $version."
		echo
		echo " -- $maintainer  $date"
	} | gzip -9n
}

build() { # PKG SECTION DEPENDS RECOMMENDS SYNOPSIS DESCRIPTION
	local pkg=$1 section=$2 depends=$3 recommends=$4 synopsis=$5 desc=$6
	local root=$stage/$pkg f elves=() shdeps size
	[ -d "$root" ] || die "nothing staged for $pkg"

	# Binaries stripped, manual pages compressed, the Debian docs.
	while IFS= read -r -d '' f; do
		if [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			strip --remove-section=.comment --remove-section=.note "$f"
			elves+=("$f")
		fi
	done < <(find "$root" -type f -perm -u+x -print0)
	find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
	install -d "$root/usr/share/doc/$pkg"
	install -m 0644 "$pkgdir/copyright" "$root/usr/share/doc/$pkg/copyright"
	changelog "$pkg" >"$root/usr/share/doc/$pkg/changelog.gz"
	chmod 0644 "$root/usr/share/doc/$pkg/changelog.gz"

	install -d -m 0755 "$root/DEBIAN"
	shdeps=''
	if [ ${#elves[@]} -gt 0 ]; then
		shdeps=$(cd "$shl" && dpkg-shlibdeps -O "${elves[@]}" 2>/dev/null |
			sed -n 's/^shlibs:Depends=//p')
	fi
	depends=$(printf '%s\n' "$shdeps" "$depends" | grep -v '^$' | paste -sd, | sed 's/,/, /g')
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	{
		echo "Package: $pkg"
		echo "Version: $version"
		echo "Architecture: $arch"
		echo "Maintainer: $maintainer"
		echo "Installed-Size: $size"
		[ -z "$depends" ] || echo "Depends: $depends"
		[ -z "$recommends" ] || echo "Recommends: $recommends"
		echo "Section: $section"
		echo "Priority: optional"
		echo "Description: $synopsis"
		printf '%s\n' "$desc" | fold -s -w 72 | sed -e 's/ *$//' -e 's/^/ /'
	} >"$root/DEBIAN/control"
	if [ -d "$root/etc" ]; then
		(cd "$root" && find etc -type f | LC_ALL=C sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
	fi
	for f in postinst prerm postrm; do
		if [ -f "$pkgdir/$pkg.$f" ]; then
			install -m 0755 "$pkgdir/$pkg.$f" "$root/DEBIAN/$f"
		fi
	done
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | LC_ALL=C sort -z |
		xargs -0 md5sum | sed 's|  \./|  |') >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	rm -f "$out/${pkg}_"*.deb
	dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
	echo "$out/${pkg}_${version}_${arch}.deb"
}

build mcd-toolstack admin "init-system-helpers (>= 1.54~)" "logrotate, cpio, xen-utils-common" \
	"MCD dom0 toolstack: apps in disposable Xen domains" \
	"The dom0 side of MCD (Multi-Cloud Desktop): mcd-toolstack creates a disposable Xen domain from a template for each application a thin client launches, records the session in XenStore, talks to the MCD guest agent over vchan and destroys the domain when the application ends. This package holds the CLI and its service (mcd-toolstack.service), mcd-schema-check, which checks XenStore against MCD's layout, and mcd-bake-template, which makes guest templates."
build mcd-agent admin "init-system-helpers (>= 1.54~)" "e2fsprogs, nfs-common, cifs-utils" \
	"MCD guest agent for Linux domains" \
	"The agent MCD (Multi-Cloud Desktop) runs inside each disposable Linux domain: it serves the dom0 toolstack over vchan, mounts the user's volume and shares, installs the thin client's X cookie and runs the application as the user. Its service is enabled on installation; the package also mounts /proc/xen and loads the Xen drivers the agent needs."
build mcd-broker admin "adduser, init-system-helpers (>= 1.54~), openssl" "" \
	"MCD Auth/App server" \
	"The site's control plane of MCD (Multi-Cloud Desktop): mcd-broker keeps users, applications and pools in an SQLite database, logs thin clients in and signs the launch tickets pool masters accept. This package holds the server and its admin commands, its service (mcd-broker.service, user mcd-broker) and mcd-site-certs, which makes the site's TLS certificates."
build mcd-client x11 "" "" \
	"MCD thin client program" \
	"The thin client's program of MCD (Multi-Cloud Desktop): mcd-client logs in to the site's Auth/App server, lists the applications the user may run and runs one on the least loaded of its pools, its X11 windows shown on this display."
rm -rf "$shl"
