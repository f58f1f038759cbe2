# Shared helpers for the end-to-end cases (sourced by dom0-tests.sh).
# Each case file in cases/ uses these; every check prints "ok - ..." or
# "not ok - ...".
T="mcd-toolstack"
# shellcheck disable=SC2034 # the case files use them
TD=/etc/mcd/templates
# shellcheck disable=SC2034
LOG=/var/log/mcd-toolstack.log
PIDFILE=/run/mcd/control.sock.pid
DISPLAY_ADDR=10.0.2.2:0
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: the command's status decides.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# wait_for SECONDS COMMAND...: poll once a second until it succeeds.
wait_for() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 1
		n=$((n - 1))
	done
	"$@"
}
mcd_domains() { xl list | awk 'NR > 1 && $1 ~ /^mcd-/ { print $1 }' | sort; }
mcd_domain_count() { mcd_domains | wc -l; }
sessions_count() { xenstore-list /mcd/sessions 2>/dev/null | wc -l; }
# For wait_for, which runs its command again each second (a "$(...)" in
# its arguments would be counted only once).
domains_at_most() { [ "$(mcd_domain_count)" -le "$1" ]; }
sessions_at_most() { [ "$(sessions_count)" -le "$1" ]; }
session_gone() { ! xenstore-read "/mcd/sessions/$1/domid" >/dev/null 2>&1; }
domain_gone() { ! xl domid "mcd-$1" >/dev/null 2>&1; }
console_has() { grep -q -- "$2" "/var/log/xen/guest-mcd-$1.log" 2>/dev/null; }
state_is() { [ "$(xenstore-read "/mcd/sessions/$1/state" 2>/dev/null)" = "$2" ]; }
daemon_alive() { [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; }
# sid_from FILE: the session id named in a launch's progress output.
sid_from() { sed -n 's/.*session \([0-9a-f]\{16\}\).*/\1/p' "$1" | head -n 1; }
# expect_fail DESC PATTERN COMMAND...: must exit non-zero with one line
# matching PATTERN on stderr and leave no new domain or session behind.
expect_fail() {
	d=$1
	pat=$2
	shift 2
	before=$(mcd_domain_count)
	sbefore=$(sessions_count)
	if "$@" >/tmp/out 2>/tmp/err; then
		not_ok "$d: succeeded"
		return
	fi
	if ! grep -q -- "$pat" /tmp/err; then
		not_ok "$d: error does not match '$pat':"
		sed 's/^/#   /' /tmp/err
		return
	fi
	wait_for 20 domains_at_most "$before"
	if [ "$(mcd_domain_count)" -gt "$before" ]; then
		not_ok "$d: leaked a domain"
		return
	fi
	wait_for 10 sessions_at_most "$sbefore"
	if [ "$(sessions_count)" -gt "$sbefore" ]; then
		not_ok "$d: leaked session nodes"
		return
	fi
	ok "$d ($(grep -- "$pat" /tmp/err | tail -n 1))"
}
# cli_worst_ms SECONDS: the slowest answer, in ms, of the service's
# control socket, asked once a second for about SECONDS s.  Each round
# asks twice: `end` of an id nobody has (through the socket and the
# service's loop) and `sessions` (the CLI an operator runs).
now_ms() { awk '{ print int($1 * 1000) }' /proc/uptime; }
cli_worst_ms() {
	w=0
	end_at=$(($(now_ms) + $1 * 1000))
	while [ "$(now_ms)" -lt $end_at ]; do
		for q in "end 0000000000000000" sessions; do
			t0=$(now_ms)
			$T $q >/dev/null 2>&1
			t=$(($(now_ms) - t0))
			[ $t -gt $w ] && w=$t
		done
		sleep 1
	done
	echo $w
}
launch() {
	tmpl=$1
	shift
	$T launch --x none --template "$tmpl" --user alice --display $DISPLAY_ADDR -- "$@"
}

# nfs_up: dom0's kernel nfsd exports /srv/nfs/alice (owned by uid 1000)
# to the guests on its bridge, NFSv4 only; once per testbed run.
nfs_up() {
	pidof rpc.mountd >/dev/null && return 0
	mkdir -p /proc/fs/nfsd /srv/nfs/alice &&
	{ grep -q nfsd /proc/mounts || mount -t nfsd nfsd /proc/fs/nfsd; } &&
	chown 1000:1000 /srv/nfs/alice &&
	echo "/srv/nfs/alice 10.0.2.0/24(rw,sync,no_subtree_check,sec=sys)" >/etc/exports &&
	mkdir -p /var/lib/nfs/v4recovery &&
	# A fresh server refuses new opens for its grace period (90 s by
	# default): keep it at the 10 s minimum and let it pass.
	echo 10 >/proc/fs/nfsd/nfsv4leasetime && echo 10 >/proc/fs/nfsd/nfsv4gracetime &&
	exportfs -ra && rpc.mountd -N 3 --no-udp && rpc.nfsd -N 3 --no-udp -p 2049 4 &&
	echo "# nfsd versions: $(cat /proc/fs/nfsd/versions)" && sleep 12
}
