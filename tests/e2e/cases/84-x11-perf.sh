# A real X client that draws a lot, through the relay: x11perf (from
# Debian's x11-apps, baked into linux-demo) runs a round-trip test and bulk
# tests against the thin client and must print a result for each: a stall
# of the relay leaves a test without its line.  PutImage 500x500 sends
# requests far bigger than the channel's ring, GetImage 500x500 brings a
# large reply stream back.  No timing is asserted here (make bench
# measures the rates, relay beside direct).

x11_env=/payload/x11.env
if [ ! -f $x11_env ]; then
	not_ok "X11 perf: no thin client on the host (tests/e2e/run.sh starts it for 8N-x11*)"
else
	. $x11_env
	XD=10.0.2.2:$XN
	COOKIE=/payload/x11-cookie
	mkdir -p /etc/mcd
	cp /payload/x11-ca.pem /etc/mcd/x11-ca.pem
	# perf_run NAME [launch options] -- TESTS...: launch x11perf, wait for
	# it to exit (the session ends with it), keep its console in /tmp.
	perf_run() {
		name=$1
		shift
		if ! $T launch --template linux-demo --user alice --display "$XD" \
			--xauth $COOKIE "$@" >/tmp/perf.out 2>/tmp/perf.err; then
			not_ok "X11 perf ($name): launch of x11perf failed: $(tail -n 1 /tmp/perf.err)"
			return 1
		fi
		psid=$(tail -n 1 /tmp/perf.out)
		wait_for 240 session_gone "$psid"
		check "X11 perf ($name): x11perf ran to its end and the session ended" \
			session_gone "$psid"
		session_gone "$psid" || $T end "$psid" >/dev/null 2>&1
		wait_for 30 domain_gone "$psid"
		cp "/var/log/xen/guest-mcd-$psid.log" "/tmp/perf-$name.log" 2>/dev/null
		grep 'reps @' "/tmp/perf-$name.log" | sed 's/^/#   /'
		return 0
	}
	# result NAME WHAT: x11perf printed its rate line for test WHAT.
	result() { grep 'reps @' "/tmp/perf-$1.log" | grep -q -- "$2"; }

	X11PERF="/usr/bin/x11perf -repeat 1 -time 1"
	if perf_run relay -- $X11PERF -pointer -noop -rect10 -putimage500 -getimage500; then
		check "X11 perf (relay): a round trip test completes (QueryPointer)" \
			result relay "QueryPointer"
		check "X11 perf (relay): a bulk request test completes (NoOperation)" \
			result relay "NoOperation"
		check "X11 perf (relay): 10x10 rectangles complete" \
			result relay "10x10 rectangle"
		check "X11 perf (relay): a request stream bigger than the ring completes (PutImage 500x500)" \
			result relay "PutImage 500x500"
		check "X11 perf (relay): a large reply stream completes (GetImage 500x500)" \
			result relay "GetImage 500x500"
	fi
	if perf_run tls --x-tls "$XTLS_OK" -- $X11PERF -noop -getimage500; then
		check "X11 perf (relay over TLS): bulk requests complete (NoOperation)" \
			result tls "NoOperation"
		check "X11 perf (relay over TLS): a large reply stream completes (GetImage 500x500)" \
			result tls "GetImage 500x500"
	fi
fi
