# Shared helpers for the testbed scripts. Source it; do not run it.
# Sets REPO, MCD_CACHE and TESTBED_DIR, and defines die/note/stamp/copy helpers.

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TESTBED_DIR/../.." && pwd)
MCD_CACHE=${MCD_CACHE:-$REPO/.cache/testbed}
export MCD_CACHE

PROG=${PROG:-${0##*/}}

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

note() {
	echo "$PROG: $*" >&2
}

# The multiboot module list QEMU takes is comma separated and the module
# command line starts at the first space, so cache paths must avoid both.
check_cache_path() {
	case "$MCD_CACHE" in
	*,* | *' '*) die "MCD_CACHE must not contain commas or spaces: $MCD_CACHE" ;;
	/*) ;;
	*) die "MCD_CACHE must be an absolute path: $MCD_CACHE" ;;
	esac
}

# stamp_of FILE-OR-DIR...: one hash over the contents of the given paths
# (directories recursively, with names relative to the directory; a missing
# path counts as absent). Where the paths live does not matter.
stamp_of() {
	local p
	for p in "$@"; do
		if [ -d "$p" ]; then
			echo D
			(cd "$p" && find . -type f -o -type l | LC_ALL=C sort | while IFS= read -r f; do
				if [ -L "$f" ]; then
					printf 'L %s %s\n' "$f" "$(readlink "$f")"
				else
					printf 'F %s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"
				fi
			done)
		elif [ -e "$p" ]; then
			printf 'F %s\n' "$(sha256sum <"$p" | cut -d' ' -f1)"
		else
			printf 'A %s\n' "${p##*/}"
		fi
	done | sha256sum | cut -d' ' -f1
}

# stamp_ok DIR HASH: true if DIR was last built from inputs hashing to HASH.
stamp_ok() {
	[ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]
}

stamp_write() {
	printf '%s\n' "$2" >"$1/.stamp"
}

# copy_file ROOT SRC [DST]: copy SRC (symlinks followed) to ROOT/DST,
# DST defaulting to SRC's own path.
copy_file() {
	local root=$1 src=$2 dst=${3:-$2}
	mkdir -p "$root$(dirname "$dst")"
	cp -L --preserve=mode "$src" "$root$dst"
}

# copy_libs ROOT BINARY...: copy the shared libraries each binary needs
# (as ldd resolves them on this host) and the dynamic loader into ROOT.
copy_libs() {
	local root=$1 bin lib
	shift
	for bin in "$@"; do
		# ldd exits non-zero for static binaries and scripts: nothing to copy.
		ldd "$bin" 2>/dev/null | awk '
			$2 == "=>" && $3 ~ /^\// { print $3; next }
			$1 ~ /^\// { print $1 }' | while IFS= read -r lib; do
			[ -e "$root$lib" ] || copy_file "$root" "$lib"
		done
	done
}

# kernel_release: the version of the kernel fetch-kernel.sh unpacked.
kernel_release() {
	[ -f "$MCD_CACHE/kernel/release" ] || die "no kernel in $MCD_CACHE/kernel; run scripts/testbed/fetch-kernel.sh"
	cat "$MCD_CACHE/kernel/release"
}

# resolve_modules KROOT RELEASE NAME...: print the .ko paths (relative to
# the module directory) for NAME and everything it depends on, dependencies
# first, each once. Built-in modules print nothing.
resolve_modules() {
	local kroot=$1 rel=$2
	shift 2
	local mdir=$kroot/lib/modules/$rel
	[ -f "$mdir/modules.dep" ] || die "missing $mdir/modules.dep"
	awk -v want="$*" '
		function norm(s) { gsub(/-/, "_", s); return s }
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); return norm(p) }
		FILENAME ~ /modules\.builtin$/ { builtin[base($1)] = 1; next }
		{
			key = $1; sub(/:$/, "", key)
			path[base(key)] = key
			deps[base(key)] = ""
			for (i = 2; i <= NF; i++) deps[base(key)] = deps[base(key)] " " base($i)
		}
		function visit(m,    n, d, i) {
			if (m in done) return
			done[m] = 1
			if (m in builtin) return
			if (!(m in path)) { print "unknown module: " m > "/dev/stderr"; bad = 1; return }
			n = split(deps[m], d, " ")
			for (i = n; i >= 1; i--) visit(d[i])
			print path[m]
		}
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) visit(norm(w[i]))
			exit bad
		}' "$mdir/modules.builtin" "$mdir/modules.dep"
}

# copy_modules KROOT RELEASE ROOT NAME...: copy NAME and its dependencies
# into ROOT/lib/modules/RELEASE (decompressed) and write the load order
# into ROOT/etc/modules.order as plain .ko paths.
copy_modules() {
	local kroot=$1 rel=$2 root=$3
	shift 3
	local mods m dst
	mods=$(resolve_modules "$kroot" "$rel" "$@") || die "cannot resolve kernel modules: $*"
	mkdir -p "$root/etc" "$root/lib/modules/$rel"
	: >"$root/etc/modules.order"
	for m in $mods; do
		dst=$root/lib/modules/$rel/${m%.ko*}.ko
		mkdir -p "$(dirname "$dst")"
		case "$m" in
		*.ko.xz) xz -dc "$kroot/lib/modules/$rel/$m" >"$dst" ;;
		*.ko.zst) zstd -qdc "$kroot/lib/modules/$rel/$m" >"$dst" ;;
		*.ko.gz) gzip -dc "$kroot/lib/modules/$rel/$m" >"$dst" ;;
		*) cp "$kroot/lib/modules/$rel/$m" "$dst" ;;
		esac
		echo "/lib/modules/$rel/${m%.ko*}.ko" >>"$root/etc/modules.order"
	done
}

# install_busybox ROOT: the static busybox at /bin/busybox and a symlink
# for every applet that does not already exist in ROOT.
install_busybox() {
	local root=$1 applet dir
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list-full); do
		# busybox lists itself too; never turn the binary into a link to itself.
		[ "$applet" = bin/busybox ] && continue
		[ -e "$root/$applet" ] || [ -L "$root/$applet" ] && continue
		dir=${applet%/*}
		ln -s "$(realpath -m -s --relative-to="/$dir" /bin/busybox)" "$root/$applet"
	done
}

# pack_cpio ROOT OUT: a gzip'd newc archive of ROOT, all files owned by root
# unless the tree says otherwise and we run as root.
pack_cpio() {
	local root=$1 out=$2
	local owner=()
	[ "$(id -u)" -eq 0 ] || owner=(-R 0:0)
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc "${owner[@]}") | gzip -1 -n >"$out.tmp"
	mv "$out.tmp" "$out"
}

# check_links ROOT: every program link in ROOT's bin and sbin directories
# must point at a file inside ROOT; print the broken ones and fail.
check_links() {
	local root=$1 link target bad=0
	while IFS= read -r link; do
		target=$(readlink "$link")
		case "$target" in
		/*) target=$root$target ;;
		*) target=$(dirname "$link")/$target ;;
		esac
		if [ ! -f "$target" ]; then
			echo "broken link in image: ${link#"$root"} -> $(readlink "$link")" >&2
			bad=1
		fi
	done < <(find "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" -type l 2>/dev/null)
	return "$bad"
}
