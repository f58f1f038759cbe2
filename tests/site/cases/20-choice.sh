# Pool choice by load, no room, --wait; the window on the thin client, input,
# and closing it ends the session.  Each pool runs at most one domain
# (MAX_DOMAINS=1): a pool with a session is full.
# shellcheck disable=SC2154 # bg is set by run_bg (tests/site/lib.sh)

run_bg bob "$W/r1.out" xev-1
r1=$bg
wait_ready "$W/r1.out"
s1=$(ready_sid "$W/r1.out") p1=$(ready_pool "$W/r1.out")
if [ -n "$s1" ]; then
	ok "choice: the first launch is ready on $p1 (session $s1)"
else
	not_ok "choice: the first launch failed: $(tail -n 2 "$W/r1.out" | tr '\n' ' ')"
fi
check "window: xev's window is on the thin client" wait_for 30 viewable "Event Tester"
check "choice: the client printed what it waited for" grep -q '^waiting' "$W/r1.out"

# Input from the thin client reaches the app (its console, checked from dom0
# at the end), then the user closes the window.
wid=$(window_id "Event Tester")
# No window manager on the thin client: focus the window directly, and check
# that it has the focus before typing (a key typed while the focus is still
# elsewhere goes to the root window and never reaches the app).
focused() { [ "$(xdo getwindowfocus 2>/dev/null)" = "$(($1))" ]; }
if [ -n "$wid" ]; then
	for _ in 1 2 3 4 5; do
		xdo windowfocus --sync "$wid" >/dev/null 2>&1
		focused "$wid" && break
		sleep 1
	done
	focused "$wid" || echo "# the thin client's focus is $(xdo getwindowfocus 2>&1), not $wid"
	xdo mousemove --window "$wid" 20 20 >/dev/null 2>&1
	xdo key --clearmodifiers q >/dev/null 2>&1
	sleep 1
	xdo key --clearmodifiers w >/dev/null 2>&1
	xdo click 1 >/dev/null 2>&1
	sleep 2
fi
input_sid=$s1
after_pools_input() {
	check "input: a key typed on the thin client reached the app (session $input_sid)" \
		guest_line "$input_sid" 'keys=[1-9]'
	check "input: a click on the thin client reached the app" \
		guest_line "$input_sid" 'keys=[0-9]* clicks=[1-9]'
}

# With that pool loaded, the next launch goes to the other one.
run_bg bob "$W/r2.out" xev-1
r2=$bg
wait_ready "$W/r2.out"
s2=$(ready_sid "$W/r2.out") p2=$(ready_pool "$W/r2.out")
check "choice: with $p1 loaded the client picked the other pool ($p2)" \
	test -n "$p2" -a "$p2" != "$p1"

# Both full: one clear line, exit 3.
client bob run xev-1 >"$W/r3.out" 2>&1
rc=$?
check "no room: both pools full gives exit 3 and says so ($(tail -n 1 "$W/r3.out"))" \
	sh -c "[ $rc -eq 3 ] && grep -qi 'no room' \"$W/r3.out\""

# --wait: the launch goes ahead once a session ends.
run_bg bob "$W/r4.out" xev-1 --wait 300
r4=$bg
sleep 5
check "wait: the waiting launch is not ready while both pools are full" \
	sh -c "! grep -q '^ready' \"$W/r4.out\""
# The user closes the first window: its session ends, the client says so.
xdo windowkill "$wid" >/dev/null 2>&1
wait_for 120 has_line "$W/r1.out" '^ended'
check "close: closing the window ended the session and the client printed it" \
	grep -q "^ended: session $s1" "$W/r1.out"
wait "$r1"
check "close: mcd-client run exited 0 after the end" test $? -eq 0
wait_ready "$W/r4.out" 300
s4=$(ready_sid "$W/r4.out") p4=$(ready_pool "$W/r4.out")
check "wait: the waiting launch became ready on $p1 once its session ended ($p4)" \
	test -n "$s4" -a "$p4" = "$p1"

# The reverse: with the other pool loaded (s2), a launch after ending s4 goes
# to p1 again, never to p2.
client bob end "$s4" >"$W/out" 2>&1
check "end: mcd-client end ends a session ($(tail -n 1 "$W/out"))" grep -q "^ended" "$W/out"
wait_for 120 has_line "$W/r4.out" '^ended'
run_bg bob "$W/r5.out" xev-1
r5=$bg
wait_ready "$W/r5.out"
p5=$(ready_pool "$W/r5.out")
check "choice: with $p2 loaded the client picked $p1 ($p5)" test "$p5" = "$p1"
s5=$(ready_sid "$W/r5.out")
client bob sessions >"$W/sessions.out" 2>&1
check "sessions: the client lists its running sessions" \
	sh -c "grep -q '$s2' \"$W/sessions.out\" && grep -q '$s5' \"$W/sessions.out\""
for s in "$s2" "$s5"; do
	[ -n "$s" ] && client bob end "$s" >/dev/null 2>&1
done
for p in $r2 $r4 $r5; do wait "$p" 2>/dev/null; done
check "end: every run of this case printed that its session ended" \
	sh -c "grep -q '^ended' \"$W/r2.out\" && grep -q '^ended' \"$W/r5.out\""
