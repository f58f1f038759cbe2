#!/bin/bash
# Boot Xen + dom0 in QEMU, run a payload script in dom0, exit with its status.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MARKER=MCD-PAYLOAD-EXIT
timeout=${MCD_TESTBED_TIMEOUT:-900}

usage() {
	cat <<EOF
usage: $PROG [--timeout SEC] [--no-build] PAYLOAD [FILES...]
       $PROG [--no-build] --shell

Boots Xen 4.17 with a Debian PV dom0 in QEMU (TCG) and runs PAYLOAD, a
shell script for dom0 (busybox sh, or whatever its #! line names, e.g.
/bin/bash), as /payload/run.sh with /payload as its working directory.
FILES are copied to /payload/<basename>. When the payload ends, dom0 prints
"$MARKER=<rc>" and powers off; on failure it also prints the tails of
/var/log/xen/*.log and /var/log/messages.

Before it runs, dom0 has: xenstored, xen-init-dom0, xenconsoled (guest
consoles in /var/log/xen/guest-<name>.log), eth0 10.0.2.15/24 via 10.0.2.2
(QEMU user network), templates in /etc/mcd/templates/ and
/var/lib/mcd/templates/, and mcd-toolstack if it was built.

The console is streamed to stdout (carriage returns removed) and saved in
\$MCD_CACHE/logs/run-<time>-<pid>.log (\$MCD_CACHE/logs/last.log links to
the newest; the newest 20 are kept).

Options:
  --timeout SEC  kill QEMU after SEC seconds (default \$MCD_TESTBED_TIMEOUT
                 or 900)
  --no-build     do not run build.sh first (it is cached, so it is cheap)
  --shell        no payload: an interactive dom0 shell (Ctrl-A x quits QEMU)

Exit status: the payload's; 124 on timeout; 125 if QEMU ended without the
$MARKER line; 1 if the testbed could not be started; 2 on bad usage.
Environment: MCD_CACHE [$MCD_CACHE], MCD_TESTBED_TIMEOUT,
MCD_DOM0_CMDLINE (added to dom0's kernel command line), MCD_QEMU_MEM (MiB, default 2048), MCD_XEN_CMDLINE
(added to Xen's), MCD_QEMU_HOSTFWD (host ports forwarded to dom0, QEMU's
"tcp:127.0.0.1:HOSTPORT-:DOM0PORT", comma-separated), MCD_TESTBED_LOCKED=1
(the caller holds the testbed lock: it runs pools side by side), and those of
build.sh (MCD_AGENT, MCD_TOOLSTACK, ...).
EOF
}

usage_error() {
	echo "$PROG: error: $*" >&2
	echo "usage: $PROG [--timeout SEC] [--no-build] PAYLOAD [FILES...] | --shell (see --help)" >&2
	exit 2
}

build=1 shell=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--timeout)
		[ $# -ge 2 ] || usage_error "--timeout needs a number of seconds"
		timeout=$2
		shift 2
		;;
	--no-build) build=0; shift ;;
	--shell) shell=1; shift ;;
	--) shift; break ;;
	-*) usage_error "unknown option '$1'" ;;
	*) break ;;
	esac
done
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || usage_error "bad timeout '$timeout'"
if [ "$shell" -eq 1 ]; then
	[ $# -eq 0 ] || usage_error "--shell takes no payload"
else
	[ $# -ge 1 ] || usage_error "no payload given"
	payload=$1
	shift
	[ -f "$payload" ] || die "payload not found: $payload"
fi

check_cache_path
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (install qemu-system-x86)"
# One testbed at a time on a machine: two QEMU/TCG runs side by side are
# each slower than both in turn, and time out.
# The lock is taken before the build: with one cache shared by several
# checkouts, another checkout's build must not replace dom0's image between
# this one's build and its boot.
# A caller that runs two pools at once (tests/site) holds the lock itself.
mkdir -p "$MCD_CACHE"
if [ "${MCD_TESTBED_LOCKED:-0}" != 1 ]; then
	exec 8>"$MCD_CACHE/.run.lock"
	flock 8
fi
if [ "$build" -eq 1 ]; then
	"$TESTBED_DIR/build.sh" >/dev/null || die "build.sh failed"
fi
xen=$MCD_CACHE/xen/xen
kernel=$MCD_CACHE/kernel/vmlinuz
dom0=$MCD_CACHE/dom0/dom0.cpio.gz
for f in "$xen" "$kernel" "$dom0"; do
	[ -f "$f" ] || die "$f missing; run scripts/testbed/build.sh"
done


rundir=$MCD_CACHE/run/$$
rm -rf "$rundir"
mkdir -p "$rundir/tree/payload" "$MCD_CACHE/logs"
qpid='' tpid=''
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	[ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
	rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The payload rides in a second cpio appended to the cached dom0 image:
# the kernel unpacks concatenated archives one after the other.
append=0
if [ "$shell" -eq 0 ]; then
	cp "$payload" "$rundir/tree/payload/run.sh"
	chmod 0755 "$rundir/tree/payload/run.sh"
	for f in "$@"; do
		[ -f "$f" ] || die "file not found: $f"
		b=${f##*/}
		[ ! -e "$rundir/tree/payload/$b" ] || die "two payload files named $b (or one named run.sh)"
		cp -p "$f" "$rundir/tree/payload/$b"
	done
	append=1
fi
if [ "$append" -eq 1 ]; then
	pack_cpio "$rundir/tree" "$rundir/payload.cpio.gz"
	cat "$dom0" "$rundir/payload.cpio.gz" >"$rundir/initrd.gz"
else
	cp "$dom0" "$rundir/initrd.gz"
fi

dom0_cmdline="console=hvc0 earlyprintk=xen${MCD_DOM0_CMDLINE:+ $MCD_DOM0_CMDLINE}"
xen_cmdline="dom0_mem=768M,max:768M dom0_max_vcpus=1 console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot${MCD_XEN_CMDLINE:+ $MCD_XEN_CMDLINE}"
[ "$shell" -eq 0 ] || dom0_cmdline="$dom0_cmdline mcd.shell"
fwd=''
if [ -n "${MCD_QEMU_HOSTFWD:-}" ]; then
	IFS=, read -ra fw <<<"$MCD_QEMU_HOSTFWD"
	for f in "${fw[@]}"; do
		[[ "$f" =~ ^tcp:127\.0\.0\.1:[0-9]+-:[0-9]+$ ]] || die "bad MCD_QEMU_HOSTFWD entry '$f'"
		fwd="$fwd,hostfwd=$f"
	done
fi
# shellcheck disable=SC2054 # commas inside QEMU arguments
qemu=(qemu-system-x86_64 -machine q35 -cpu qemu64,+svm -m "${MCD_QEMU_MEM:-2048}" -smp 2
	-nographic -no-reboot
	-netdev "user,id=n0$fwd" -device e1000,netdev=n0
	-kernel "$xen"
	-append "$xen_cmdline"
	-initrd "$kernel $dom0_cmdline,$rundir/initrd.gz")

if [ "$shell" -eq 1 ]; then
	"${qemu[@]}"
	exit $?
fi

# Keep the newest 20 console logs; never one written to in the last half
# hour, which may belong to a run still going on beside this one.
(cd "$MCD_CACHE/logs" && ls -1t run-*.log 2>/dev/null | tail -n +21 |
	xargs -r -I{} find {} -mmin +30 -delete) || true
log=$MCD_CACHE/logs/run-$(date +%Y%m%d-%H%M%S)-$$.log
ln -sfn "${log##*/}" "$MCD_CACHE/logs/last.log"
echo "$PROG: booting; timeout ${timeout}s; log $log" >&2

start=$SECONDS
# Create the log first: tail must find it even if QEMU's redirection has
# not happened yet.
: >"$log"
"${qemu[@]}" </dev/null >>"$log" 2>&1 &
qpid=$!
# The console ends lines with CR LF; consumers get plain lines.
tail -n +1 -f --pid="$qpid" "$log" | stdbuf -oL tr -d '\r' &
tpid=$!

timed_out=0 marker_at='' ready=0
while kill -0 "$qpid" 2>/dev/null; do
	if [ "$ready" -eq 0 ] && grep -aq '^MCD-DOM0-READY' "$log"; then
		ready=1
		echo "$PROG: dom0 ready after $((SECONDS - start))s" >&2
	fi
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		timed_out=1
		break
	fi
	# Once the payload is done, dom0 powers off; do not wait long for it.
	if [ -z "$marker_at" ] && grep -aq "^$MARKER=" "$log"; then
		marker_at=$SECONDS
	fi
	if [ -n "$marker_at" ] && [ $((SECONDS - marker_at)) -ge 30 ]; then
		break
	fi
	sleep 1
done
if kill -0 "$qpid" 2>/dev/null; then
	kill "$qpid" 2>/dev/null || true
	sleep 1
	kill -9 "$qpid" 2>/dev/null || true
fi
wait "$qpid" 2>/dev/null || true
qpid=''
wait "$tpid" 2>/dev/null || true
tpid=''
elapsed=$((SECONDS - start))

rc=$(grep -a -o "^$MARKER=[0-9]*" "$log" | tail -n1 | cut -d= -f2) || true
if [ "$timed_out" -eq 1 ] && [ -z "$rc" ]; then
	echo "$PROG: error: timed out after ${timeout}s; QEMU killed (log: $log)" >&2
	exit 124
fi
if [ -z "$rc" ]; then
	echo "$PROG: error: QEMU ended after ${elapsed}s without a $MARKER line (log: $log)" >&2
	exit 125
fi
echo "$PROG: payload exited with $rc after ${elapsed}s (log: $log)" >&2
exit "$rc"
