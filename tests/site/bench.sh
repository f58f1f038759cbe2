# The control plane's timings on the two pools (sourced by
# tests/site/run.sh --bench instead of the cases, with its users, apps and
# helpers).  Each figure is the median over BENCH_SITE_RUNS runs (default
# 5; 1 when MCD_SITE_SHORT=1) of wall-clock milliseconds on the host
# (date +%s%N around mcd-client), written to $MCD_SITE_BENCH_OUT as lines
# "KEY VALUE_MS" ("-" when no run of it succeeded):
#
#   login_catalog            login, then the catalog (apps)
#   load_query_2             `pools xev-1`: pool-a and pool-b, both answer
#   load_query_3             `pools probe-1`: pool-a answers, pool-silent
#                            never does and pool-x shows another CA's
#                            certificate; so it is bounded by the client's
#                            load_timeout_ms (3000 in run.sh's configs),
#                            not by the pools: it measures the deadline
#   click_first_window_cold  `run xev-1 --detach` started until xwininfo
#                            sees "Event Tester" viewable on the thin client
#   run_ready_cold           the same start until the client printed ready:
#
# Between launches the session is ended and the bench waits until its pool
# has room again and the window is gone, so every launch starts with both
# pools idle.  Every wait has a deadline; a stall prints one line naming
# the step, that run counts as "-", and the bench goes on.
# shellcheck disable=SC2154 # bg is set by run_bg (tests/site/lib.sh)

bench_runs=${BENCH_SITE_RUNS:-5}
[ "${MCD_SITE_SHORT:-0}" = 1 ] && bench_runs=${BENCH_SITE_RUNS:-1}
# Deadlines (s): a TCG-emulated launch takes minutes; the rest, seconds.
bench_dl_cmd=${BENCH_SITE_DL_CMD:-60}
bench_dl_launch=${BENCH_SITE_DL_LAUNCH:-600}
bench_dl_free=${BENCH_SITE_DL_FREE:-300}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# A median of the numbers on stdin ("-" lines are runs that failed).
bench_median() {
	grep -v '^-$' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
bench_stall() { not_ok "bench: $*"; }
# poll_until SECONDS COMMAND...: every 50 ms until it succeeds (wait_for's
# one-second steps would swamp the figures).  1 at the deadline.
poll_until() {
	local until=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$until" ] || return 1
		sleep 0.05
	done
}
# bclient USER ARGS...: `client`, ended by timeout at its deadline so no
# step waits for ever.
bclient() {
	local u=$1
	shift
	timeout "$bench_dl_cmd" "$CLIENT" --config "$W/$u.conf" "$@"
}
# timed COMMAND...: the command's milliseconds on stdout, or "-" when it
# failed (its commands run under bclient's deadline).
timed() {
	local t0
	t0=$(now_ms)
	if ! "$@" >>"$W/bench-cmd.out" 2>&1; then
		echo "-"
		return 1
	fi
	echo $(($(now_ms) - t0))
}
# bench_record KEY FILE: the median of FILE's runs into the output.
bench_record() {
	local v
	v=$(bench_median <"$2")
	echo "$1 $v" >>"$MCD_SITE_BENCH_OUT"
	if [ "$v" = "-" ]; then
		bench_stall "$1: no run succeeded (see $W/bench-cmd.out)"
	else
		ok "bench: $1 $v ms (median of $(grep -vc '^-$' "$2") run(s))"
	fi
}

# --- login then catalog ------------------------------------------------------
login_catalog() {
	bclient bob login --user bob --password-file "$W/bob.pw" && bclient bob apps
}
bench_login() {
	local i v
	: >"$W/bench-login.runs"
	for i in $(seq "$bench_runs"); do
		v=$(timed login_catalog) ||
			bench_stall "login_catalog run $i: login or apps failed or took over ${bench_dl_cmd}s"
		echo "$v" >>"$W/bench-login.runs"
	done
	bench_record login_catalog "$W/bench-login.runs"
}

# --- the load query -------------------------------------------------------------
# pools_answered APP N: `pools APP` where N pools answered (a line with a
# load figure, not "skipped").
pools_answered() {
	bclient bob pools "$1" >"$W/bench-pools.out" 2>&1
	[ "$(awk 'NR > 1 && $3 ~ /^[0-9]\.[0-9]+$/' "$W/bench-pools.out" | wc -l)" -eq "$2" ]
}
bench_pools() {
	local key=$1 app=$2 want=$3 i v
	: >"$W/bench-$key.runs"
	for i in $(seq "$bench_runs"); do
		v=$(timed pools_answered "$app" "$want") ||
			bench_stall "$key run $i: pools $app did not show $want answering pool(s) (deadline ${bench_dl_cmd}s): $(tr '\n' ' ' <"$W/bench-pools.out")"
		echo "$v" >>"$W/bench-$key.runs"
	done
	bench_record "$key" "$W/bench-$key.runs"
}

# --- click to first window ----------------------------------------------------------
# pool_has_room POOL: the pool answers `pools xev-1` with room.
pool_has_room() {
	bclient bob pools xev-1 2>/dev/null | awk -v p="$1" '$1 == p && $4 == "yes" { f = 1 } END { exit !f }'
}
bg_gone() { ! kill -0 "$bg" 2>/dev/null; }
session_gone() { ! bclient bob sessions 2>/dev/null | grep -q "^$1 "; }
# bench_free SID POOL: end the session, then wait until it is gone from
# the client's list, its window is gone and its pool has room again.
bench_free() {
	local sid=$1 pool=$2
	[ -n "$sid" ] && bclient bob end "$sid" >>"$W/bench-cmd.out" 2>&1
	if [ -n "$sid" ] && ! poll_until "$bench_dl_free" session_gone "$sid"; then
		bench_stall "free: session $sid still listed after ${bench_dl_free}s"
	fi
	poll_until "$bench_dl_free" window_gone "Event Tester" ||
		bench_stall "free: the Event Tester window still shows after ${bench_dl_free}s"
	if [ -n "$pool" ] && ! poll_until "$bench_dl_free" pool_has_room "$pool"; then
		bench_stall "free: $pool has no room again after ${bench_dl_free}s"
	fi
}
# One cold launch: the ready and window times into the two run files.
bench_launch_once() {
	local i=$1 log=$W/bench-run$1.out t0 ready=- win=- sid pool now
	t0=$(now_ms)
	run_bg bob "$log" xev-1 --detach
	local until=$((t0 + bench_dl_launch * 1000))
	while [ "$ready" = - ] || [ "$win" = - ]; do
		now=$(now_ms)
		[ "$ready" = - ] && has_line "$log" '^ready:' && ready=$((now - t0))
		[ "$win" = - ] && viewable "Event Tester" && win=$((now - t0))
		# A client that exited without ready: (failed) never brings a
		# window: stop waiting.  The log is read once more for the
		# race of ready: printed just before it exited.
		if [ "$ready" = - ] && ! kill -0 "$bg" 2>/dev/null; then
			has_line "$log" '^ready:' || break
			ready=$(($(now_ms) - t0))
		fi
		[ "$now" -lt "$until" ] || break
		sleep 0.05
	done
	local why="within ${bench_dl_launch}s"
	[ "$ready" = - ] && bg_gone && why="(the client exited without ready:)"
	[ "$ready" != - ] ||
		bench_stall "run_ready_cold run $i: no ready: $why: $(tail -n 2 "$log" | tr '\n' ' ')"
	[ "$win" != - ] ||
		bench_stall "click_first_window_cold run $i: Event Tester not viewable $why"
	echo "$ready" >>"$W/bench-ready.runs"
	echo "$win" >>"$W/bench-window.runs"
	# --detach returns at ready; one still running is given up.
	poll_until 10 bg_gone || kill "$bg" 2>/dev/null
	wait "$bg" 2>/dev/null
	sid=$(ready_sid "$log") pool=$(ready_pool "$log")
	bench_free "$sid" "$pool"
}
bench_launch() {
	local i
	: >"$W/bench-ready.runs"
	: >"$W/bench-window.runs"
	poll_until "$bench_dl_free" window_gone "Event Tester" ||
		bench_stall "click_first_window_cold: an Event Tester window shows before the first launch"
	for i in $(seq "$bench_runs"); do
		bench_launch_once "$i"
	done
	bench_record click_first_window_cold "$W/bench-window.runs"
	bench_record run_ready_cold "$W/bench-ready.runs"
}

echo "# bench: $bench_runs run(s) per figure, into $MCD_SITE_BENCH_OUT"
bench_login
bench_pools load_query_2 xev-1 2
bench_pools load_query_3 probe-1 1
bench_launch
sed 's/^/# bench: /' "$MCD_SITE_BENCH_OUT"
