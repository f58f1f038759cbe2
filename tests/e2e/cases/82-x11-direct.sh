# X11 direct mode: the guest of the linux-net template has its own network
# (a vif on dom0's bridge, QEMU's user network behind it) and its app talks
# to the thin client's X server itself; nothing is relayed through dom0.
# Uses the thin client that tests/e2e/run.sh starts for the X11 cases.

if [ ! -f /payload/x11.env ]; then
	not_ok "X11 direct: no thin client on the host (tests/e2e/run.sh starts it for 8x-x11)"
else
	. /payload/x11.env
	XD=10.0.2.2:$XN
	XA=/tmp/x11-direct.auth
	rm -f $XA
	xauth -q -f $XA add "$XD" . "$(cat /payload/x11-cookie)" 2>/dev/null
	dviewable() { XAUTHORITY=$XA xwininfo -display "$XD" -name "$1" 2>/dev/null |
		grep -q 'Map State: IsViewable'; }
	dlaunch() {
		$T launch --x direct --template linux-net --user alice \
			--xauth /payload/x11-cookie "$@"
	}

	before=$(mcd_domain_count)
	if dlaunch --display "$XD" -- /usr/bin/xeyes >/tmp/xd.out 2>/tmp/xd.err; then
		dsid=$(tail -n 1 /tmp/xd.out)
		check "X11 direct: launch returned with xeyes' window mapped on the thin client" \
			dviewable xeyes
		check "X11 direct: XenStore records x=direct" \
			test "$(xenstore-read "/mcd/sessions/$dsid/x" 2>/dev/null)" = direct
		check "X11 direct: the guest reached the thin client over its own network (10.0.2.16)" \
			console_has "$dsid" "network 10.0.2.16 on eth0"
		$T end "$dsid" >/dev/null 2>&1
		wait_for 30 domain_gone "$dsid"
		check "X11 direct: end destroys the domain" domain_gone "$dsid"
		wait_for 10 sh -c "! XAUTHORITY=$XA xwininfo -display $XD -name xeyes >/dev/null 2>&1"
		check "X11 direct: ... and the window left the thin client" \
			sh -c "! XAUTHORITY=$XA xwininfo -display $XD -name xeyes >/dev/null 2>&1"
	else
		not_ok "X11 direct: launch of xeyes failed: $(tail -n 1 /tmp/xd.err)"
		sed 's/^/#   /' /tmp/xd.err
	fi
	wait_for 30 domains_at_most "$before"

	expect_fail "X11 direct: a display the guest cannot reach fails the launch" \
		"cannot connect to display 10.0.2.2:$((XN + 1))" \
		dlaunch --display "10.0.2.2:$((XN + 1))" -- /usr/bin/xeyes
fi
