# Warm pool: pre-booted idle members with connected agents; a launch claims
# one without a boot, a replacement boots behind it, members survive a
# restart of the service, stale members are never used, and a pool shrunk
# to zero leaves nothing behind.

pool_count() { # TEMPLATE STATE
	$T pool 2>/dev/null | awk -v t="$1" -v s="$2" 'NF == 4 && $3 == t && $4 == s' | wc -l
}
pool_ready_ge() { [ "$(pool_count "$1" ready)" -ge "$2" ]; }
pool_empty() { [ -z "$(xenstore-list /mcd/pool 2>/dev/null)" ]; }
set_pool_size() { # TEMPLATE SIZE
	sed -e '/^mcd_pool_size/d' $TD/linux-demo.cfg >$TD/$1.cfg.new
	echo "mcd_pool_size = $2" >>$TD/$1.cfg.new
	mv $TD/$1.cfg.new $TD/$1.cfg
}

daemon_alive || $T daemon >/dev/null 2>&1
set_pool_size warm 2
check "pool of 'warm' fills to 2 ready members" wait_for 180 pool_ready_ge warm 2
$T pool
check "pool --json names the pool and its size" \
	sh -c "$T pool --json | grep -q '\"template\":\"warm\",\"size\":2,\"ready\":2'"
xenstore-ls -fp / >/tmp/tree
check "live tree with a pool passes mcd-schema-check" mcd-schema-check --domains /tmp/tree
members=$(xenstore-list /mcd/pool | tr '\n' ' ')

if out=$($T launch --x none --json --template warm --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	sid=$(echo "$out" | sed -n 's/.*"session":"\([0-9a-f]*\)".*/\1/p')
	ok "warm launch returned $sid"
	echo "# warm launch: $out"
else
	not_ok "warm launch: $(cat /tmp/launch.err)"
fi
check "the launch claimed a pool member" grep -q "warm domain .* claimed" /tmp/launch.err
check "the session kept the member's id and domain" \
	sh -c "echo ' $members ' | grep -q ' $sid '"
check "claimed member left /mcd/pool" test -z "$(xenstore-read /mcd/pool/$sid/state 2>/dev/null)"
check "claimed session is running" state_is "$sid" running
check "app runs as alice in the warm domain" \
	wait_for 20 console_has "$sid" "MCD-TEST-APP uid=1000 user=alice display=$DISPLAY_ADDR"
check "a replacement boots and the pool is full again" wait_for 180 pool_ready_ge warm 2

# The service is killed: members and the session are recovered.
kill -9 "$(cat $PIDFILE)"
sleep 1
$T daemon >/dev/null 2>&1
check "restarted service recovered the pool members" \
	wait_for 30 sh -c "[ \$(grep -c 'pool member .*: recovered' $LOG) -ge 2 ]"
check "recovered members are ready again" wait_for 60 pool_ready_ge warm 2
if $T end "$sid" >/tmp/out 2>&1; then ok "end of the warm session"; else not_ok "end: $(cat /tmp/out)"; fi
check "warm session's domain destroyed" domain_gone "$sid"

# A changed template makes the members stale: they are retired, not used.
stale=$(xenstore-list /mcd/pool | tr '\n' ' ')
sleep 1
set_pool_size warm 1
if sid=$(launch warm /usr/bin/mcd-test-app --exit 0 2>/tmp/launch.err); then
	ok "launch after the template changed"
	check "no stale member was claimed" sh -c "! grep -q 'warm domain .* claimed' /tmp/launch.err"
	wait_for 60 session_gone "$sid"
else
	not_ok "launch after the template changed: $(cat /tmp/launch.err)"
fi
for m in $stale; do
	check "stale member $m retired" wait_for 30 domain_gone "$m"
done

# Shrunk to zero: every member goes, nothing leaks.
set_pool_size warm 0
check "a pool set to 0 empties" wait_for 60 pool_empty
check "no pool domain left" wait_for 30 domains_at_most 0
rm -f $TD/warm.cfg
