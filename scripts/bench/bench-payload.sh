#!/bin/sh
# Runs in dom0 of the testbed (see scripts/bench/mcd-bench): times cold and
# warm launches on real Xen and counts XenStore requests at xenstored.
# Prints "BENCH <metric> <value>" lines for the host side to summarise.
set -u
T=mcd-toolstack
TD=/etc/mcd/templates
RUNS=${BENCH_RUNS:-5}
TRACE=/var/log/xenstored-trace.log
# Milliseconds since boot (10 ms steps): busybox date has no %N.
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# launch --json reports the time the user waited, measured by the CLI.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
pool_ready() { $T pool 2>/dev/null | awk '$3 == "bench-warm" && $4 == "ready"' | wc -l; }
wait_ready() { # N
	n=0
	while [ "$(pool_ready)" -lt "$1" ] && [ $n -lt 300 ]; do sleep 1; n=$((n + 1)); done
}
launch_json() { # TEMPLATE
	$T -q launch --x none --json --template "$1" --user alice --display 10.0.2.2:0 -- /usr/bin/mcd-test-app
}
launch() { launch_json "$1" | json_field session; }
# Templates for the benchmark: small guests, so ten fit beside the pool.
sed -e 's/^memory.*/memory = 128/' -e '/^mcd_pool_size/d' $TD/linux-demo.cfg >$TD/bench.cfg
cp $TD/bench.cfg $TD/bench-warm.cfg
echo "mcd_pool_size = 2" >>$TD/bench-warm.cfg
[ -f $TRACE ] || echo "BENCH-NOTE xenstored is not tracing: no request counts"

echo "BENCH-NOTE (a) xl create until the agent is ready"
for i in $(seq "$RUNS"); do
	t0=$(ms)
	xl create -q $TD/bench.cfg "name=\"bench-$i\"" >/dev/null 2>&1
	d=$(xl domid "bench-$i")
	while ! xenstore-read "/local/domain/$d/data/mcd/agent" >/dev/null 2>&1; do sleep 0.05; done
	echo "BENCH xl_create_to_agent_ms $(($(ms) - t0))"
	xl destroy "bench-$i"
done

echo "BENCH-NOTE (b) cold launch until the app runs"
$T daemon >/dev/null 2>&1
for i in $(seq "$RUNS"); do
	out=$(launch_json bench)
	echo "BENCH cold_launch_ms $(echo "$out" | json_field elapsed_ms)"
	$T -q end "$(echo "$out" | json_field session)" >/dev/null
done

echo "BENCH-NOTE (c, d) warm launch until the app runs, and its XenStore requests"
warm_round() { # LABEL
	wait_ready 2
	sleep 6 # let the pool's periodic work pass, so the count is the launch's own
	l0=$(wc -l <$TRACE)
	out=$(launch_json bench-warm)
	l1=$(wc -l <$TRACE)
	echo "BENCH warm_launch_ms$1 $(echo "$out" | json_field elapsed_ms)"
	# The requests xenstored received while the launch ran.  A domain
	# being built or torn down at the same time (the pool refilling
	# itself) adds its own hundreds: such a run is flagged by the
	# INTRODUCE or RELEASE it contains, and not counted as the launch's.
	sed -n "$((l0 + 1)),${l1}p" $TRACE >/tmp/window
	if grep -q '^IN .* \(INTRODUCE\|RELEASE\) \|^IN .* RM (/local/domain/' /tmp/window; then
		echo "BENCH warm_launch_overlap$1 $(grep -c '^IN ' /tmp/window)"
	else
		echo "BENCH warm_launch_xs_requests$1 $(grep -c '^IN ' /tmp/window)"
	fi
	$T -q end "$(echo "$out" | json_field session)" >/dev/null
}
for i in $(seq "$RUNS"); do warm_round ""; done

echo "BENCH-NOTE (e) warm launch with 1, 5 and 10 sessions running"
running=""
for k in 1 5 10; do
	while [ "$(echo $running | wc -w)" -lt $k ]; do
		running="$running $(launch bench)"
	done
	for i in $(seq "$RUNS"); do warm_round "_with_$k"; done
done
for s in $running; do $T -q end "$s" >/dev/null; done
sed -i 's/^mcd_pool_size.*/mcd_pool_size = 0/' $TD/bench-warm.cfg
sleep 8
xl list
echo "BENCH-DONE"
