# One guest can only hurt itself: each hostile guest mode runs beside a
# healthy session.  Throughout each, the service's control socket answers
# within 1 s (the worst latency is printed), another user's relay session
# launches and shows its window, the hostile session is ended at its own
# deadline (domain and session node gone) and the service log grows by a
# bounded amount.  Before the channel queued what a guest had no room for,
# every send to a slow guest waited in the service's only loop: other
# users' relays froze and the CLI waited seconds.
#
# Modes: slowreader (large X replies, read and acked every 1.9 s),
# ringfull (dom0's ring to it kept full, one well-timed event),
# xopenflood (2000 refused X_OPENs) and nohello (connects, never speaks).

# hostile_start NAME MODE KEY SECS ON -- LAUNCH-ARGS...: a copy of the
# hostile template with MODE and a short deadline (KEY = SECS), launched
# in the background; waits until its console shows ON (the attack is on).
hostile_start() {
	hname=$1 hmode=$2 hkey=$3 hsecs=$4 hon=$5
	shift 6
	sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:$hmode/" \
	    -e "/^$hkey/d" $TD/hostile.cfg >$TD/hostile-$hname.cfg
	echo "$hkey = $hsecs" >>$TD/hostile-$hname.cfg
	# The log may not exist yet when this case runs first.
	hlog_before=$(cat $LOG 2>/dev/null | wc -c)
	($T launch --template hostile-$hname --user alice "$@" \
		-- /usr/bin/mcd-test-app >/tmp/$hname.out 2>/tmp/$hname.err
	 echo $? >/tmp/$hname.rc) &
	hpid=$!
	wait_for 120 hostile_on
	hsid=$(sid_from /tmp/$hname.err)
	check "hostile $hname: the attack is on ($hon)" hostile_on
}
hostile_on() {
	s=$(sid_from /tmp/$hname.err)
	[ -n "$s" ] && console_has "$s" "$hon"
}

# hostile_beside: another user's relay session launches under the attack
# (launch returns at READY: its first window shown), then the service's
# answers are timed for 15 s while both run, and the healthy window must
# still be on the thin client.  The healthy domain boots before the
# timing: a boot under emulation takes dom0's one CPU for seconds, which
# says nothing about the service's loop.
hostile_beside() {
	if ! $T launch --template linux-demo --user bob --display "$XD" \
		--xauth $COOKIE -- /usr/bin/xlogo >/tmp/good.out 2>/tmp/good.err; then
		not_ok "hostile $hname: a healthy relay launch failed meanwhile: $(tail -n 1 /tmp/good.err)"
		gsid=
	else
		gsid=$(tail -n 1 /tmp/good.out)
		ok "hostile $hname: a healthy relay session launches meanwhile (READY)"
	fi
	worst=$(cli_worst_ms 15)
	echo "# hostile $hname: worst control socket answer (end UNKNOWN, sessions) over 15 s: $worst ms"
	check "hostile $hname: the service answered the CLI within 1 s throughout (worst $worst ms)" \
		test "$worst" -lt 1000
	[ -n "$gsid" ] || return
	check "hostile $hname: the healthy session's window is still on the thin client" \
		sh -c "XAUTHORITY=$XA xwininfo -display $XD -name xlogo | grep -q IsViewable"
	$T end "$gsid" >/dev/null 2>&1
	wait_for 30 domain_gone "$gsid"
}

# hostile_finish FAILPAT: the hostile launch fails with FAILPAT (its
# deadline), leaves nothing behind, and the log stayed small.
hostile_finish() {
	wait $hpid
	check "hostile $hname: the launch fails at its deadline ('$1')" \
		grep -q -- "$1" /tmp/$hname.err
	echo "#   $(tail -n 1 /tmp/$hname.err)"
	check "hostile $hname: its domain is destroyed" wait_for 30 domain_gone "$hsid"
	check "hostile $hname: its session node is removed" wait_for 10 session_gone "$hsid"
	grown=$(($(cat $LOG 2>/dev/null | wc -c) - hlog_before))
	echo "# hostile $hname: the service log grew by $grown bytes"
	check "hostile $hname: the service log grew by a bounded amount ($grown bytes)" \
		test $grown -lt 20000
	check "hostile $hname: the service survived" daemon_alive
}

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

	# Reads every 1.9 s, acking everything: no protocol rule broken.
	hostile_start slow slowreader mcd_ready_timeout 60 "MCD-HOSTILE read [1-9]" \
		-- --display "$XD" --xauth $COOKIE
	hostile_beside
	check "hostile slow: its session is still there (its deadline, not the flood, ends it)" \
		xenstore-exists "/mcd/sessions/$hsid"
	hostile_finish "within 60 s"

	# dom0's ring to the guest full, then one byte read: an event that
	# frees no real room, when a sender waiting for room would block.
	hostile_start ring ringfull mcd_ready_timeout 60 "MCD-HOSTILE ring full: read one byte" \
		-- --display "$XD" --xauth $COOKIE
	hostile_beside
	check "hostile ring: its session is still there (its deadline ends it)" \
		xenstore-exists "/mcd/sessions/$hsid"
	hostile_finish "within 60 s"

	# X_OPEN after X_OPEN towards a display that refuses them: one
	# warning per refusal would be 2000 lines.
	hostile_start xopen xopenflood mcd_ready_timeout 90 "MCD-HOSTILE sent STARTED" \
		-- --display "10.0.2.2:$XDEAD" --xauth $COOKIE
	hostile_beside
	flooded() { console_has "$hsid" "MCD-HOSTILE opened 2000"; }
	check "hostile xopen: 2000 X_OPENs towards a refusing display were each refused" \
		wait_for 90 flooded
	check "hostile xopen: the service says how many log lines it dropped" \
		grep -q "session $hsid: [0-9]* log lines dropped" $LOG
	hostile_finish "within 90 s"

	# Connects and never says HELLO: the agent deadline ends it.
	hostile_start nohello nohello mcd_agent_timeout 40 "MCD-HOSTILE connected, saying nothing" \
		-- --x none --display $DISPLAY_ADDR
	hostile_beside
	hostile_finish "did not answer within 40 s"
fi
