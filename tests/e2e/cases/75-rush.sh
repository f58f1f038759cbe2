# A morning rush: 8 cold launches of linux-demo at the same moment.  The
# service builds and boots at most --max-boots 2 domains at once and
# queues the other launches in arrival order (state "queued", each CLI told
# its place); every launch succeeds.  8 linux-demo guests (256 + 4 MiB
# each) do not fit in the testbed next to each other (about 1.2 GiB free
# for guests, 64 MiB held back), so the launches also wait for room
# (--wait) and each one ends its session as soon as it runs.

rush_restart() { # [DAEMON-ARG...]
	kill -9 "$(cat $PIDFILE)" 2>/dev/null
	sleep 1
	$T daemon "$@" >/dev/null 2>&1
	wait_for 10 daemon_alive
}
queued_in_store() { xenstore-ls /mcd/sessions 2>/dev/null | grep -q 'state = "queued"'; }

wait_for 60 domains_at_most 0
rush_restart --max-boots 2
check "the service runs with --max-boots 2" grep -q "at most 2 domains booting at once" $LOG
rm -f /tmp/rush.*
i=0
while [ $i -lt 8 ]; do
	i=$((i + 1))
	(
		if sid=$($T launch --x none --wait 900 --template linux-demo --user alice \
			--display $DISPLAY_ADDR -- /usr/bin/mcd-test-app 2>/tmp/rush.$i.err); then
			echo "$sid" >/tmp/rush.$i.sid
			$T end "$sid" >/tmp/rush.$i.end 2>&1 && touch /tmp/rush.$i.ended
		fi
	) &
done
if wait_for 60 queued_in_store; then
	ok "a launch waits in line, shown as queued in XenStore"
	xenstore-ls -fp / >/tmp/tree
	check "... and the live tree with it passes mcd-schema-check" \
		mcd-schema-check --domains /tmp/tree
else
	not_ok "no launch was seen queued in XenStore"
fi
wait
n_ok=$(ls /tmp/rush.*.sid 2>/dev/null | wc -l)
check "8 cold launches at once all succeeded ($n_ok)" test "$n_ok" -eq 8
for f in /tmp/rush.*.err; do
	[ -s "${f%.err}.sid" ] || { echo "# $f:"; tail -n 3 "$f" | sed 's/^/#   /'; }
done 2>/dev/null
n_q=$(grep -l "queued: [0-9]* ahead of you" /tmp/rush.*.err 2>/dev/null | wc -l)
check "launches were told their place in line ($n_q of 8)" test "$n_q" -ge 1
check "the log names queued launches" grep -q "queued for a boot slot" $LOG
n_end=$(ls /tmp/rush.*.ended 2>/dev/null | wc -l)
check "all 8 sessions ended ($n_end)" test "$n_end" -eq 8
check "no domain left by the rush" wait_for 60 domains_at_most 0
check "no session record left by the rush" wait_for 30 sessions_at_most 0
rush_restart
