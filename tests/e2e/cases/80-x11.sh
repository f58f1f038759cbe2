# X11 on the thin client (relay mode): the app in the guest is an X client
# of the thin client's X server, an Xvfb on the host (tests/e2e/run.sh
# starts it with tests/e2e/thin-client.sh: a cookie, and stunnel with a
# certificate from the test CA and one from another CA).  From dom0 the
# checks look at the thin client with xwininfo and type into it with
# xdotool, like the user in front of it would.

x11_env=/payload/x11.env
if [ ! -f $x11_env ]; then
	not_ok "X11: no thin client on the host (tests/e2e/run.sh starts it for 80-x11)"
else
	. $x11_env
	XD=10.0.2.2:$XN
	XA=/tmp/x11.auth
	COOKIE=/payload/x11-cookie
	# dom0's service checks the TLS leg against its default CA file.
	mkdir -p /etc/mcd
	cp /payload/x11-ca.pem /etc/mcd/x11-ca.pem
	rm -f $XA
	xauth -q -f $XA add "$XD" . "$(cat $COOKIE)" 2>/dev/null
	xwin() { XAUTHORITY=$XA xwininfo -display "$XD" "$@" 2>/dev/null; }
	xdo() { XAUTHORITY=$XA DISPLAY=$XD xdotool "$@"; }
	# viewable NAME: a window of that name is mapped on the thin client.
	viewable() { xwin -name "$1" | grep -q 'Map State: IsViewable'; }
	xlaunch() {
		$T launch --template linux-demo --user alice --display "$XD" \
			--xauth $COOKIE "$@"
	}
	xrec() { xenstore-read "/mcd/sessions/$1/$2" 2>/dev/null; }

	check "X11: the thin client answers dom0 (xwininfo -root on $XD)" \
		sh -c "XAUTHORITY=$XA xwininfo -display $XD -root >/dev/null 2>&1"

	# --- relay: launch returns once the window is up --------------------
	before=$(mcd_domain_count)
	if xlaunch -- /usr/bin/xev >/tmp/x11.out 2>/tmp/x11.err; then
		xsid=$(tail -n 1 /tmp/x11.out)
		# No waiting here: the launch was done only at READY.
		if viewable "Event Tester"; then
			ok "X11 relay: launch returned with xev's window mapped on the thin client"
		else
			not_ok "X11 relay: launch returned but xwininfo finds no mapped xev window"
		fi
		check "X11 relay: launch said it waited for the first window" \
			grep -q "waiting for its first window" /tmp/x11.err
		check "X11 relay: XenStore records x=relay and x-ready=1" \
			test "$(xrec "$xsid" x) $(xrec "$xsid" x-ready)" = "relay 1"
		check "X11 relay: the cookie is nowhere in XenStore" \
			sh -c "! xenstore-ls -p /mcd | grep -q '$(cat $COOKIE)'"

		# --- input from the thin client reaches the app ---------------
		wid=$(xwin -name "Event Tester" |
			sed -n 's/.*Window id: \(0x[0-9a-fA-F]*\).*/\1/p')
		echo "# xev's window on the thin client: $wid"
		# No window manager on the thin client: focus it directly.
		xdo windowfocus "$wid" 2>&1 | sed 's/^/#   /'
		sleep 1
		xdo mousemove --window "$wid" 20 20 2>&1 | sed 's/^/#   /'
		xdo key --clearmodifiers q 2>&1 | sed 's/^/#   /'
		xdo click 1 2>&1 | sed 's/^/#   /'
		# xev prints events to its stdout, the guest's console.
		wait_for 30 console_has "$xsid" "KeyPress event" || true
		got_key=0
		console_has "$xsid" "KeyPress event" && got_key=1

		# --- closing the window on the thin client ends the session ---
		xdo windowkill "$wid" 2>&1 | sed 's/^/#   /'
		wait_for 90 session_gone "$xsid"
		check "X11 relay: closing the app's window ended the session" session_gone "$xsid"
		if ! session_gone "$xsid"; then
			tail -n 5 "/var/log/xen/guest-mcd-$xsid.log" | sed 's/^/#   /'
			$T end "$xsid" >/dev/null 2>&1
		fi
		wait_for 30 domain_gone "$xsid"
		check "X11 relay: ... and destroyed its domain" domain_gone "$xsid"
		# stdout may only have been flushed when xev exited.
		[ $got_key = 1 ] || { console_has "$xsid" "KeyPress event" && got_key=1; }
		check "X11 relay: a key typed on the thin client reached the app (xev KeyPress)" \
			test $got_key = 1
		check "X11 relay: a click on the thin client reached the app (xev ButtonPress)" \
			console_has "$xsid" "ButtonPress event"
	else
		not_ok "X11 relay: launch of xev failed: $(tail -n 1 /tmp/x11.err)"
		sed 's/^/#   /' /tmp/x11.err
	fi
	wait_for 30 domains_at_most "$before"

	# --- TLS to the thin client: the right certificate -------------------
	if xlaunch --x-tls "$XTLS_OK" -- /usr/bin/xlogo >/tmp/x11.out 2>/tmp/x11.err; then
		tsid=$(tail -n 1 /tmp/x11.out)
		check "X11 TLS: xlogo's window is on the thin client (via stunnel)" viewable xlogo
		check "X11 TLS: XenStore records the TLS port" \
			test "$(xrec "$tsid" x-tls)" = "$XTLS_OK"
		$T end "$tsid" >/dev/null 2>&1
		wait_for 30 domain_gone "$tsid"
		check "X11 TLS: the session ends and its domain goes" domain_gone "$tsid"
		wait_for 10 sh -c "! XAUTHORITY=$XA xwininfo -display $XD -name xlogo >/dev/null 2>&1"
		check "X11 TLS: ... and the window left the thin client" \
			sh -c "! XAUTHORITY=$XA xwininfo -display $XD -name xlogo >/dev/null 2>&1"
	else
		not_ok "X11 TLS: launch over TLS failed: $(tail -n 1 /tmp/x11.err)"
		sed 's/^/#   /' /tmp/x11.err
	fi

	# --- failures: one clear line, nothing left behind --------------------
	# -q: only the error line on stderr.
	one_line() { test "$(wc -l </tmp/err)" -eq 1; }
	expect_fail "X11 TLS: a certificate from another CA is refused" \
		"display $XD: TLS: certificate verify failed" \
		$T -q launch --template linux-demo --user alice --display "$XD" \
		--xauth $COOKIE --x-tls "$XTLS_BAD" -- /usr/bin/xlogo
	check "X11 TLS: ... in one line" one_line

	expect_fail "X11: an unreachable display fails the launch" \
		"display 10.0.2.2:$XDEAD: cannot reach 10.0.2.2 port $((6000 + XDEAD))" \
		$T -q launch --template linux-demo --user alice \
		--display "10.0.2.2:$XDEAD" --xauth $COOKIE -- /usr/bin/xlogo
	check "X11: ... in one line" one_line

	# A cookie the thin client does not know.
	echo 0123456789abcdef0123456789abcdef >/tmp/x11-bad-cookie
	expect_fail "X11: a wrong cookie fails the launch" "display $XD: " \
		$T -q launch --template linux-demo --user alice --display "$XD" \
		--xauth /tmp/x11-bad-cookie -- /usr/bin/xlogo
	check "X11: ... in one line" one_line

	# --- READY: an app that never shows a window -------------------------
	expect_fail "X11: an app that exits before its first window fails the launch" \
		"exited (code 0) before its first window was shown on display $XD" \
		$T -q launch --template linux-demo --user alice --display "$XD" \
		--xauth $COOKIE -- /usr/bin/mcd-test-app --exit 0
	sed '/^mcd_ready_timeout/d' $TD/linux-demo.cfg >$TD/x11-ready.cfg
	echo "mcd_ready_timeout = 8" >>$TD/x11-ready.cfg
	expect_fail "X11: an app with no window within mcd_ready_timeout fails the launch" \
		"showed no window on display $XD within 8 s" \
		$T -q launch --template x11-ready --user alice --display "$XD" \
		--xauth $COOKIE -- /usr/bin/mcd-test-app
	check "X11: ... in one line" one_line
	rm -f $TD/x11-ready.cfg
fi
