# Shared helpers for the site test cases (sourced by tests/site/run.sh on
# the host).  Each check prints "ok - ..." or "not ok - ...".
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# wait_for SECONDS COMMAND...: poll once a second until it succeeds.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 1
		n=$((n - 1))
	done
	"$@"
}
# The thin client's display, as the user in front of it sees it.
xwin() { XAUTHORITY=$TC/xauth xwininfo -display ":$XN" "$@" 2>/dev/null; }
xdo() { XAUTHORITY=$TC/xauth DISPLAY=":$XN" xdotool "$@"; }
viewable() { xwin -name "$1" | grep -q IsViewable; }
window_gone() { ! xwin -name "$1" >/dev/null; }
window_id() { xwin -name "$1" | sed -n 's/.*Window id: \(0x[0-9a-fA-F]*\).*/\1/p'; }
# client AS ARGS...: mcd-client as one of the test users (each has its own
# configuration and state directory).
client() { local u=$1; shift; "$CLIENT" --config "$W/$u.conf" "$@"; }
# The session id in a "ready: session SID on pool NAME" line of FILE.
ready_sid() { sed -n 's/^ready: session \([0-9a-f]\{16\}\) on pool .*/\1/p' "$1" | head -n 1; }
ready_pool() { sed -n 's/^ready: session [0-9a-f]* on pool \([a-z0-9.-]*\).*/\1/p' "$1" | head -n 1; }
has_line() { grep -q -- "$2" "$1"; }
# run_bg USER LOG ARGS...: `mcd-client run` in the background; its pid in
# $bg.  wait_ready LOG: until it printed "ready:" (or ended).
run_bg() {
	local u=$1 log=$2
	shift 2
	client "$u" run "$@" >"$log" 2>&1 &
	bg=$!
}
# wait_ready LOG [SECONDS]: until the run in the background ($bg) printed
# "ready:" in LOG, or ended.
ready_or_gone() { grep -q '^ready:' "$1" || ! kill -0 "$bg" 2>/dev/null; }
wait_ready() { wait_for "${2:-240}" ready_or_gone "$1"; }
