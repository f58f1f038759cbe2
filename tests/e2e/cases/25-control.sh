# The service against stuck clients and behind-its-back changes: a
# control client that never reads its replies, the relay's display
# resolved once at launch, no core dumps of the service's secrets, a
# session record removed with xenstore-rm, and MCD domains no record owns.

no_session_answer() { timeout 10 $T end 0000000000000000; }
stuck_sid() { xenstore-list /mcd/sessions 2>/dev/null | head -n 1; }

# --- a display that does not resolve fails the launch at once ------------
expect_fail "relay launch to a display name that does not resolve" "cannot resolve" \
	$T launch --template linux-demo --user alice --display no-such-host.invalid:0 \
	-- /usr/bin/mcd-test-app

# --- a client that never reads its replies -------------------------------
# A small send buffer for the service's end of the next connection, so a
# few progress lines fill it; then the launch must go on regardless.
wmem=$(cat /proc/sys/net/core/wmem_default)
echo 4608 >/proc/sys/net/core/wmem_default
/payload/mcd-stuck-client /run/mcd/control.sock 300 1 linux-disk alice $DISPLAY_ADDR 0 \
	x=none /usr/bin/mcd-test-app >/tmp/stuck.out 2>&1 &
stuck=$!
wait_for 10 grep -q sent /tmp/stuck.out
echo "$wmem" >/proc/sys/net/core/wmem_default
check "stuck client sent its launch" grep -q sent /tmp/stuck.out
wait_for 30 sh -c '[ -n "$(xenstore-list /mcd/sessions 2>/dev/null)" ]'
ssid=$(stuck_sid)
echo "# the stuck client's session: ${ssid:-none}"
check "the launch of a client that reads nothing still reaches running" \
	wait_for 120 state_is "$ssid" running
expect_fail "another client is answered meanwhile" "no session" no_session_answer
check "the service is alive" daemon_alive
kill "$stuck" 2>/dev/null
wait "$stuck" 2>/dev/null
if [ -n "$ssid" ]; then
	check "the stuck client's session ends by id" $T end "$ssid"
fi

# --- no core dumps of the cookie and passwords ---------------------------
svc=$(cat $PIDFILE 2>/dev/null || echo 0)
grep -i core /proc/$svc/limits | sed 's/^/# /'
check "service's RLIMIT_CORE is 0" grep -qE '^Max core file size +0 +0 ' /proc/$svc/limits

# --- a session record removed behind the service's back -----------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "launch for the record removal ($sid)"
	xenstore-rm "/mcd/sessions/$sid"
	check "its domain is destroyed once the record is gone" wait_for 60 domain_gone "$sid"
	check "the log says why" \
		grep -q "session $sid: its record /mcd/sessions/$sid was removed from XenStore" $LOG
	check "no record comes back" session_gone "$sid"
else
	not_ok "launch for the record removal: $(cat /tmp/launch.err)"
fi

# --- an MCD domain that no record owns -----------------------------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "launch for the orphan ($sid)"
	kill -9 "$(cat $PIDFILE)"
	sleep 1
	xenstore-rm "/mcd/sessions/$sid"
	$T sessions --all
	check "sessions --all lists the orphan" \
		sh -c "$T sessions --all | grep -qE '^$sid +[0-9]+ .* orphan '"
	check "sessions --all --json lists the orphan" \
		sh -c "$T sessions --all --json | grep -q '\"session\":\"$sid\",[^}]*\"state\":\"orphan\"'"
	check "sessions without --all does not" sh -c "! $T sessions | grep -q '^$sid'"
	# A starting service destroys MCD domains that no record owns.
	$T end 0000000000000000 >/dev/null 2>&1
	check "the restarted service destroys the orphan" wait_for 60 domain_gone "$sid"
	check "and says so" grep -q "mcd-$sid) has no session: destroying it" $LOG
else
	not_ok "launch for the orphan: $(cat /tmp/launch.err)"
fi
