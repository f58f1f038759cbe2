#!/bin/sh
# Runs in dom0 of the testbed (see scripts/bench/mcd-bench): times cold and
# warm launches on real Xen, counts XenStore requests at xenstored and runs
# x11perf through the X relay, directly and over TLS.
# Prints "BENCH <metric> <value>" lines for the host side to summarise, and
# "BENCH-STALL step (X): ..." when a wait passed its deadline; then it goes
# on with the next measurement, so it always reaches "BENCH-DONE".
set -u
T=mcd-toolstack
TD=/etc/mcd/templates
TRACE=/var/log/xenstored-trace.log

# What to measure; /payload/bench.env (written by mcd-bench) overrides.
RUNS=5                  # runs per launch measurement
SESSIONS="1 5 10"       # (e): sessions running beside a warm launch
X11_TESTS="-pointer -noop -rect10 -rect100 -putimage100 -getimage10"
X11_RUNS=1              # x11perf sessions per X mode
# Deadlines, in seconds, of every wait (emulated Xen on a shared machine
# is slow: they are generous, and only a stall reaches them).
DL_AGENT=240            # xl create until the agent is up
DL_LAUNCH=360           # a launch returns (cold: build, boot, agent, app)
DL_POOL=480             # the warm pool has its members ready
DL_END=120              # an end returns and the domain is gone
DL_X11_TEST=150         # each x11perf test, once its window is up
[ -f /payload/bench.env ] && . /payload/bench.env

# Milliseconds since boot (10 ms steps): busybox date has no %N.
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# launch --json reports the time the user waited, measured by the CLI.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
stall() { echo "BENCH-STALL step $*"; }
# note TEXT: a step's heading, with the seconds since dom0 booted.
note() { echo "BENCH-NOTE [$(($(ms) / 1000)) s] $*"; }
# until_ok SECONDS INTERVAL COMMAND...: run COMMAND every INTERVAL seconds
# until it succeeds; false once SECONDS have passed.
until_ok() {
	_dl=$(($(ms) + $1 * 1000))
	_iv=$2
	shift 2
	while ! "$@"; do
		[ "$(ms)" -lt "$_dl" ] || return 1
		sleep "$_iv"
	done
}
agent_up() { xenstore-read "/local/domain/$1/data/mcd/agent" >/dev/null 2>&1; }
session_gone() { ! xenstore-read "/mcd/sessions/$1/domid" >/dev/null 2>&1; }
domain_gone() { ! xl domid "$1" >/dev/null 2>&1; }
# pool_ready N: the bench-warm pool has N members ready.
pool_ready() {
	[ "$($T pool 2>/dev/null | awk '$3 == "bench-warm" && $4 == "ready"' | wc -l)" -ge "$1" ]
}
pool_waiting() {
	$T pool 2>/dev/null | awk '$3 == "bench-warm" && $4 != "ready" { printf " mcd-%s", $1 }'
}

# end_session STEP SID: end it (if it has not ended by itself) and wait for
# its domain to go, each within DL_END.
end_session() {
	if ! session_gone "$2" &&
		! timeout "$DL_END" $T -q end "$2" >/dev/null 2>/tmp/end.err &&
		! session_gone "$2"; then
		stall "$1: session $2 (domain mcd-$2) did not end within $DL_END s: $(tail -n 1 /tmp/end.err)"
	fi
	if ! until_ok "$DL_END" 0.5 domain_gone "mcd-$2"; then
		stall "$1: domain mcd-$2 still there $DL_END s after its end; destroying it"
		timeout "$DL_END" xl destroy "mcd-$2" >/dev/null 2>&1
	fi
}

# do_launch STEP TAG LAUNCH-ARGS...: mcd-toolstack launch within
# DL_LAUNCH; its output in /tmp/launch-TAG.{out,err}, the session in
# /tmp/launch-TAG.sid.  On a failure or a stall: one line, the session (if
# one was made) ended, false.
do_launch() {
	_step=$1 _tag=$2
	shift 2
	timeout "$DL_LAUNCH" $T launch "$@" >/tmp/launch-$_tag.out 2>/tmp/launch-$_tag.err
	_rc=$?
	_sid=$(sed -n 's/.*session \([0-9a-f]\{16\}\).*/\1/p' /tmp/launch-$_tag.err | head -n 1)
	[ -n "$_sid" ] || _sid=$(json_field session </tmp/launch-$_tag.out)
	[ -n "$_sid" ] || _sid=$(tail -n 1 /tmp/launch-$_tag.out | grep -x '[0-9a-f]\{16\}')
	echo "$_sid" >/tmp/launch-$_tag.sid
	[ $_rc -eq 0 ] && [ -n "$_sid" ] && return 0
	if [ $_rc -eq 143 ] || [ $_rc -eq 124 ]; then
		if [ -n "$_sid" ]; then
			stall "$_step: session $_sid (domain mcd-$_sid) not running within $DL_LAUNCH s"
		else
			stall "$_step: launch made no session within $DL_LAUNCH s"
		fi
	else
		stall "$_step: launch failed${_sid:+ (domain mcd-$_sid)}: $(tail -n 1 /tmp/launch-$_tag.err)"
	fi
	[ -z "$_sid" ] || end_session "$_step" "$_sid"
	return 1
}

# Kernel messages (a vif joining the bridge, ...) stay in dmesg: on the
# console they could cut into a BENCH line.
dmesg -n 1 2>/dev/null

# Templates for the benchmark: the launch tests' linux-demo, as installed.
# Its agent deadline is the bench's own: with ten sessions running, an
# emulated guest's agent can take longer than linux-demo's 60 s to answer.
sed -e '/^mcd_pool_size/d' -e '/^mcd_agent_timeout/d' $TD/linux-demo.cfg >$TD/bench.cfg
echo "mcd_agent_timeout = $DL_AGENT" >>$TD/bench.cfg
echo "BENCH-NOTE template: $(grep -E '^(memory|vcpus)' $TD/bench.cfg | tr '\n' ' ')"
[ -f $TRACE ] || echo "BENCH-NOTE xenstored is not tracing: no request counts"

note "(a) xl create until the agent is ready"
for i in $(seq "$RUNS"); do
	name=bench-$i
	t0=$(ms)
	if ! timeout "$DL_AGENT" xl create -q $TD/bench.cfg "name=\"$name\"" >/tmp/xl.err 2>&1; then
		stall "(a): xl create of domain $name failed or took over $DL_AGENT s: $(tail -n 1 /tmp/xl.err)"
	elif ! d=$(xl domid "$name" 2>/dev/null); then
		stall "(a): domain $name vanished after xl create"
	elif until_ok "$DL_AGENT" 0.05 agent_up "$d"; then
		echo "BENCH xl_create_to_agent_ms $(($(ms) - t0))"
	else
		stall "(a): agent of domain $name not ready within $DL_AGENT s"
	fi
	timeout "$DL_END" xl destroy "$name" >/dev/null 2>&1
	until_ok "$DL_END" 0.5 domain_gone "$name" ||
		stall "(a): domain $name still there $DL_END s after xl destroy"
done

note "(b) cold launch until the app runs"
timeout 60 $T daemon >/dev/null 2>&1 || stall "(b): the service did not start within 60 s"
for i in $(seq "$RUNS"); do
	for _ in 1 2; do # a failed launch is tried once more
		if do_launch "(b)" cold --x none --json --template bench --user alice \
			--display 10.0.2.2:0 -- /usr/bin/mcd-test-app; then
			echo "BENCH cold_launch_ms $(json_field elapsed_ms </tmp/launch-cold.out)"
			end_session "(b)" "$(cat /tmp/launch-cold.sid)"
			break
		fi
	done
done

# --- (f) x11perf: relay, direct and relay over TLS --------------------------
# The thin client is the host's Xvfb (tests/e2e/thin-client.sh), its
# cookie, CA and ports in /payload.  Each x11perf session runs alone, on a
# cold launch, with no pool being built beside it.
x11_ok=0
if [ -f /payload/x11.env ]; then
	. /payload/x11.env
	XD=10.0.2.2:$XN
	COOKIE=/payload/x11-cookie
	mkdir -p /etc/mcd
	cp /payload/x11-ca.pem /etc/mcd/x11-ca.pem
	x11_ok=1
else
	stall "(f): no thin client (/payload/x11.env): no x11perf rows"
fi
X11PERF="/usr/bin/x11perf -repeat 1 -time 1 $X11_TESTS"
x11_deadline=$((DL_X11_TEST * $(echo $X11_TESTS | wc -w) + 60))
# x11_rates LABEL SID: the rate of each test from x11perf's
# "N reps @ T msec (RATE/sec): NAME" lines on the guest's console.
x11_rates() {
	_log=/var/log/xen/guest-mcd-$2.log
	tr -d '\r' <"$_log" | grep 'reps @' | sed "s/^/BENCH-NOTE x11perf $1: /"
	for _t in $X11_TESTS; do
		case $_t in
		-pointer) _n='QueryPointer' ;;
		-noop) _n='X protocol NoOperation' ;;
		-rect10) _n='10x10 rectangle' ;;
		-rect100) _n='100x100 rectangle' ;;
		-putimage100) _n='PutImage 100x100 square' ;;
		-getimage10) _n='GetImage 10x10 square' ;;
		*) continue ;;
		esac
		tr -d '\r' <"$_log" | sed -n "s|.*reps @ .*( *\([0-9.]*\)/sec): $_n\$|BENCH x11_$1_${_t#-} \1|p" | tail -n 1
	done
}
# x11_wait STEP LABEL SID: wait for x11perf (and with it the session) to
# end, then report its rates.
x11_wait() {
	if ! until_ok "$x11_deadline" 1 session_gone "$3"; then
		stall "$1: x11perf in domain mcd-$3 did not end within $x11_deadline s"
	fi
	end_session "$1" "$3"
	x11_rates "$2" "$3"
}
# x11_session STEP LABEL LAUNCH-ARGS...
x11_session() {
	_s=$1 _l=$2
	shift 2
	note "$_s"
	for _a in 1 2; do # a failed launch is tried once more
		if do_launch "$_s" "$_l" --user alice --display "$XD" --xauth $COOKIE "$@" -- $X11PERF; then
			x11_wait "$_s" "$_l" "$(cat /tmp/launch-$_l.sid)"
			return
		fi
	done
}
if [ $x11_ok = 1 ]; then
	note "(f) x11perf: relay, direct, relay over TLS"
	for i in $(seq "$X11_RUNS"); do
		x11_session "(f) relay" relay --template linux-demo
		x11_session "(f) direct" direct --x direct --template linux-net
		x11_session "(f) TLS" tls --template linux-demo --x-tls "$XTLS_OK"
	done
fi

note "(c, d) warm launch until the app runs, and its XenStore requests"
cp $TD/bench.cfg $TD/bench-warm.cfg
echo "mcd_pool_size = 2" >>$TD/bench-warm.cfg
# warm_launch STEP SUFFIX: one warm launch; its time, and its XenStore
# requests unless a domain build or teardown overlapped it.  False if no
# clean count came out of it.
warm_launch() {
	if ! until_ok "$DL_POOL" 1 pool_ready 2; then
		stall "$1: warm pool of bench-warm not ready within $DL_POOL s (waiting for:$(pool_waiting))"
		return 1
	fi
	sleep 6 # let the pool's periodic work pass, so the count is the launch's own
	l0=$(wc -l <$TRACE 2>/dev/null || echo 0)
	do_launch "$1" warm --x none --json --template bench-warm --user alice \
		--display 10.0.2.2:0 -- /usr/bin/mcd-test-app || return 1
	l1=$(wc -l <$TRACE 2>/dev/null || echo 0)
	echo "BENCH warm_launch_ms$2 $(json_field elapsed_ms </tmp/launch-warm.out)"
	# The requests xenstored received while the launch ran.  A domain
	# being built or torn down at the same time (the pool refilling
	# itself) adds its own hundreds: such a run is flagged by the
	# INTRODUCE or RELEASE it contains, and not counted as the launch's.
	_clean=1
	if [ -f $TRACE ]; then
		sed -n "$((l0 + 1)),${l1}p" $TRACE >/tmp/window
		if grep -q '^IN .* \(INTRODUCE\|RELEASE\) \|^IN .* RM (/local/domain/' /tmp/window; then
			echo "BENCH warm_launch_overlap$2 $(grep -c '^IN ' /tmp/window)"
			_clean=0
		else
			echo "BENCH warm_launch_xs_requests$2 $(grep -c '^IN ' /tmp/window)"
		fi
	fi
	end_session "$1" "$(cat /tmp/launch-warm.sid)"
	[ $_clean = 1 ]
}
# warm_rounds STEP SUFFIX: RUNS warm launches, and up to 3 more if every
# one of them overlapped a domain build (so there is a request count).
warm_rounds() {
	_got=0
	for i in $(seq "$RUNS"); do warm_launch "$1" "$2" && _got=1; done
	for i in 1 2 3; do
		[ $_got = 0 ] || break
		echo "BENCH-NOTE $1: every launch overlapped a domain build; one more"
		warm_launch "$1" "$2" && _got=1
	done
}
warm_rounds "(c)" ""

note "(e) warm launch with $SESSIONS sessions running"
# Each running session is a cold launch made once the pool is full again,
# so it boots alone (beside the pool's builds, under emulation, its agent
# can miss the template's deadline); a failed launch is tried twice more.
running=""
for k in $SESSIONS; do
	tries=0
	while [ "$(echo $running | wc -w)" -lt "$k" ] && [ $tries -lt 3 ]; do
		until_ok "$DL_POOL" 1 pool_ready 2 ||
			stall "(e) with $k: warm pool of bench-warm not ready within $DL_POOL s (waiting for:$(pool_waiting))"
		if do_launch "(e) with $k" busy --x none --template bench --user alice \
			--display 10.0.2.2:0 -- /usr/bin/mcd-test-app; then
			running="$running $(cat /tmp/launch-busy.sid)"
			tries=0
		else
			tries=$((tries + 1))
		fi
	done
	if [ "$(echo $running | wc -w)" -lt "$k" ]; then
		stall "(e): only $(echo $running | wc -w) of $k sessions running; no more rows"
		break
	fi
	note "(e) warm launch with $k sessions running"
	warm_rounds "(e) with $k" "_with_$k"
done
for s in $running; do end_session "(e)" "$s"; done

# --- (g) two relay sessions running x11perf at once -------------------------
# Both claim a warm member of bench-warm, so both start within a moment;
# the pool is emptied first, so no member is built beside them.
if [ $x11_ok = 1 ]; then
	note "(g) two relay sessions running x11perf at once"
	if until_ok "$DL_POOL" 1 pool_ready 2; then
		sed -i 's/^mcd_pool_size.*/mcd_pool_size = 0/' $TD/bench-warm.cfg
		x11_pair() { # N
			do_launch "(g) session $1" pair$1 --template bench-warm --user alice \
				--display "$XD" --xauth $COOKIE -- $X11PERF
		}
		x11_pair 1 &
		p1=$!
		x11_pair 2 &
		p2=$!
		wait $p1
		r1=$?
		wait $p2
		r2=$?
		s1=$(cat /tmp/launch-pair1.sid) s2=$(cat /tmp/launch-pair2.sid)
		if [ $r1 = 0 ] && [ $r2 = 0 ]; then
			# Both apps were running at once if neither had ended when
			# both launches had returned.
			if ! session_gone "$s1" && ! session_gone "$s2"; then
				echo "BENCH x11_pair_overlap yes"
			else
				echo "BENCH x11_pair_overlap no"
			fi
			x11_wait "(g) session 1" pair1 "$s1"
			x11_wait "(g) session 2" pair2 "$s2"
		fi
	else
		stall "(g): warm pool of bench-warm not ready within $DL_POOL s (waiting for:$(pool_waiting))"
	fi
fi

sed -i 's/^mcd_pool_size.*/mcd_pool_size = 0/' $TD/bench-warm.cfg
until_ok 60 1 sh -c "! $T pool | awk '\$3 == \"bench-warm\"' | grep -q ." ||
	stall "(end): the bench-warm pool still has members 60 s after it was emptied"
xl list
note "done"
echo "BENCH-DONE"
