# Room for one more domain: a launch that does not fit is refused with the
# reason, --wait shows that it waits and gives up after its time, and a
# waiting launch starts as soon as room frees up.  The limits come from the
# service's environment, so the service is restarted with them set.

restart_service() { # [VAR=VALUE...]
	kill -9 "$(cat $PIDFILE)" 2>/dev/null
	sleep 1
	env "$@" $T daemon >/dev/null 2>&1
	wait_for 10 daemon_alive
}

restart_service MCD_LOAD_MAX_DOMAINS=1
if a=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "the first domain fits under a limit of one"
else
	not_ok "first launch under a limit of one: $(cat /tmp/launch.err)"
	a=none
fi
expect_fail "a launch that does not fit is refused with the reason" \
	"no room for one more domain: .*domain" launch linux-demo /usr/bin/mcd-test-app
expect_fail "--wait gives up after its time, saying why" \
	"still no room for one more domain after waiting" \
	$T launch --x none --wait 5 --template linux-demo --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
check "... and showed that it was waiting" grep -q "waiting for room" /tmp/err

$T launch --x none --wait 300 --template linux-demo --user alice --display $DISPLAY_ADDR \
	-- /usr/bin/mcd-test-app >/tmp/w.out 2>/tmp/w.err &
wpid=$!
check "a launch with --wait waits while there is no room" wait_for 20 grep -q "waiting for room" /tmp/w.err
$T end "$a" >/dev/null 2>&1
if wait $wpid; then ok "... and starts once the other session ended"; else not_ok "waiting launch: $(cat /tmp/w.err)"; fi
b=$(cat /tmp/w.out)
check "the waiting launch's app runs" wait_for 20 state_is "$b" running
$T end "$b" >/dev/null 2>&1

expect_fail "a bad --wait value" "invalid wait" \
	$T launch --x none --wait soon --template linux-demo --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
restart_service
check "no domain left by the load tests" wait_for 30 domains_at_most 0
