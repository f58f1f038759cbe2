# One guest can only hurt itself: a guest that makes dom0 relay large X
# replies to it and then reads its ring only every 1.9 s (acknowledging
# everything, breaking no protocol rule) must not hold up the service.
# Before the channel queued what a guest had no room for, every send to it
# waited in the service's only loop: other users' relays froze and the
# CLI waited seconds.  Throughout the flood: the CLI
# answers quickly (the worst latency is printed), a healthy relay session
# launches and shows its window, the service log grows by a bounded
# amount, and the hostile session is ended at its READY deadline.

x11_env=/payload/x11.env
if [ ! -f $x11_env ]; then
	not_ok "hostile X: no thin client on the host (tests/e2e/run.sh starts it for 8N-x11*)"
else
	. $x11_env
	XD=10.0.2.2:$XN
	XA=/tmp/x11.auth
	COOKIE=/payload/x11-cookie
	rm -f $XA
	xauth -q -f $XA add "$XD" . "$(cat $COOKIE)" 2>/dev/null
	sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:slowreader/" \
	    -e '/^mcd_ready_timeout/d' $TD/hostile.cfg >$TD/hostile-slow.cfg
	echo "mcd_ready_timeout = 60" >>$TD/hostile-slow.cfg
	log_before=$(wc -c <$LOG)
	($T launch --template hostile-slow --user alice --display "$XD" \
		--xauth $COOKIE -- /usr/bin/mcd-test-app >/tmp/slow.out 2>/tmp/slow.err
	 echo $? >/tmp/slow.rc) &
	slow_pid=$!
	# The flood is on once the guest says it is reading slowly.
	flooding() {
		s=$(sid_from /tmp/slow.err)
		[ -n "$s" ] && console_has "$s" "MCD-HOSTILE read [1-9]"
	}
	wait_for 120 flooding
	ssid=$(sid_from /tmp/slow.err)
	check "hostile X: the slow reader gets X replies and reads them slowly" flooding

	# The service's own answer, twenty times over 20 s: `end` of an id
	# nobody has goes through the control socket and the service's loop
	# (`sessions` reads XenStore itself).  The worst latency in ms.
	worst=0
	i=0
	while [ $i -lt 20 ]; do
		t0=$(awk '{ print int($1 * 1000) }' /proc/uptime)
		$T end 0000000000000000 >/dev/null 2>&1
		t1=$(awk '{ print int($1 * 1000) }' /proc/uptime)
		[ $((t1 - t0)) -gt $worst ] && worst=$((t1 - t0))
		sleep 1
		i=$((i + 1))
	done
	echo "# hostile X: worst service answer ('mcd-toolstack end UNKNOWN') during the flood: $worst ms"
	check "hostile X: the service answered the CLI within 1 s throughout (worst $worst ms)" \
		test $worst -lt 1000

	# Another user's relay works meanwhile: launch returns at READY.
	if $T launch --template linux-demo --user bob --display "$XD" \
		--xauth $COOKIE -- /usr/bin/xlogo >/tmp/good.out 2>/tmp/good.err; then
		gsid=$(tail -n 1 /tmp/good.out)
		check "hostile X: a healthy relay session's window is on the thin client meanwhile" \
			sh -c "XAUTHORITY=$XA xwininfo -display $XD -name xlogo | grep -q IsViewable"
		$T end "$gsid" >/dev/null 2>&1
		wait_for 30 domain_gone "$gsid"
	else
		not_ok "hostile X: a healthy relay launch failed during the flood: $(tail -n 1 /tmp/good.err)"
	fi
	check "hostile X: the slow reader's session is still there (its deadline, not the flood, ends it)" \
		xenstore-exists "/mcd/sessions/$ssid"

	# The hostile session ends at its deadline, nothing left.
	wait $slow_pid
	check "hostile X: the slow reader's launch fails at its READY deadline" \
		grep -q "within 60 s" /tmp/slow.err
	echo "#   $(tail -n 1 /tmp/slow.err)"
	check "hostile X: its domain is destroyed" wait_for 30 domain_gone "$ssid"
	check "hostile X: its session node is removed" wait_for 10 session_gone "$ssid"
	grown=$(($(wc -c <$LOG) - log_before))
	echo "# hostile X: the service log grew by $grown bytes"
	check "hostile X: the service log grew by a bounded amount ($grown bytes)" \
		test $grown -lt 20000
	check "hostile X: the service survived" daemon_alive

	# X_OPEN after X_OPEN towards a display that refuses them: one
	# warning per refusal would be 2000 lines; the log stays bounded.
	sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:xopenflood/" \
	    -e '/^mcd_ready_timeout/d' $TD/hostile.cfg >$TD/hostile-xopen.cfg
	echo "mcd_ready_timeout = 90" >>$TD/hostile-xopen.cfg
	log_before=$(wc -c <$LOG)
	($T launch --template hostile-xopen --user alice --display "10.0.2.2:$XDEAD" \
		--xauth $COOKIE -- /usr/bin/mcd-test-app >/tmp/xopen.out 2>/tmp/xopen.err
	 echo $? >/tmp/xopen.rc) &
	xopen_pid=$!
	flooded() {
		s=$(sid_from /tmp/xopen.err)
		[ -n "$s" ] && console_has "$s" "MCD-HOSTILE opened 2000"
	}
	wait_for 150 flooded
	xsid=$(sid_from /tmp/xopen.err)
	check "hostile X: 2000 X_OPENs towards a refusing display were each refused" flooded
	grown=$(($(wc -c <$LOG) - log_before))
	echo "# hostile X: the service log grew by $grown bytes during the X_OPEN flood"
	check "hostile X: ... and the service log grew by a bounded amount ($grown bytes)" \
		test $grown -lt 20000
	check "hostile X: ... and says how many lines it dropped" \
		grep -q "session $xsid: [0-9]* log lines dropped" $LOG
	$T end "$xsid" >/dev/null 2>&1
	wait $xopen_pid
	check "hostile X: the flooding session's domain is destroyed" wait_for 30 domain_gone "$xsid"

	# A guest that connects and never says HELLO: its own deadline ends it.
	sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:nohello/" \
	    -e 's/^mcd_agent_timeout.*/mcd_agent_timeout = 30/' \
	    $TD/hostile.cfg >$TD/hostile-nohello.cfg
	expect_fail "hostile: a guest that never says HELLO fails at its deadline" \
		"did not answer within 30 s" \
		$T launch --x none --template hostile-nohello --user alice \
		--display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
	check "hostile: the service survived" daemon_alive
fi
