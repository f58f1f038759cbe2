# Storage per level: a file saved in a level-1 session is there in the
# user's next level-1 session and absent from their level-2 session.  Last
# case: pool-b ends it by turning into a level-2 pool.
# shellcheck disable=SC2154 # bg is set by run_bg (tests/site/lib.sh)

word="level-one-note-$RANDOM"
runx() {
	local app=$1 log=$2
	shift 2
	run_bg alice "$log" "$app" "$@"
	wait_ready "$log"
	sid=$(ready_sid "$log")
	if [ -z "$sid" ]; then
		not_ok "storage: $app did not start: $(tail -n 2 "$log" | tr '\n' ' ')"
		return 1
	fi
	wait_for 60 viewable "Event Tester"
	wid=$(window_id "Event Tester")
	[ -n "$wid" ] && xdo windowkill "$wid" >/dev/null 2>&1
	wait_for 120 has_line "$log" '^ended'
	wait "$bg" 2>/dev/null
}
"$BROKER" --db "$DB" app del notes-1 >/dev/null
"$BROKER" --db "$DB" app add notes-1 --name "Notes (Linux, level 1)" --os linux --level 1 \
	--template linux-net --program /usr/bin/mcd-test-app \
	--arg --x-write-home --arg store/note --arg "$word" --pool pool-b
if runx notes-1 "$W/n1.out"; then
	check "storage: the level-1 session saved its note on the level's share" \
		grep -qx "$word" "$SS/share/level1/alice/note"
fi
if runx reader-1 "$W/n2.out"; then
	check "storage: the next level-1 session found the note" \
		grep -qx "$word" "$SS/share/level1/alice/seen"
fi

# Phase 2: pool-b serves level 2.
openssl s_server -quiet -accept "127.0.0.1:$PHASE_PORT" -cert "$W/pki/broker.pem" \
	-key "$W/pki/broker.key" >/dev/null 2>&1 </dev/null &
phase=$!
pids+=("$phase")
if wait_for 300 pool_ready pool-b 2; then
	kill "$phase" 2>/dev/null
	# The admin moves pool-b to level 2 and offers the level-2 reader there.
	{ "$BROKER" --db "$DB" app del reader-2 &&
	  "$BROKER" --db "$DB" pool del pool-b &&
	  "$BROKER" --db "$DB" pool add pool-b --address "127.0.0.1:$PB" --level 2 &&
	  "$BROKER" --db "$DB" app add reader-2 --name "Reader (Linux, level 2)" --os linux \
		--level 2 --template linux-net --program /usr/bin/mcd-test-app \
		--arg --x-copy-home --arg store/note --arg store/seen --pool pool-b
	} >"$W/out" 2>&1 ||
		not_ok "storage: could not move pool-b to level 2: $(tail -n 1 "$W/out")"
	if runx reader-2 "$W/n3.out"; then
		check "storage: the level-2 session of the same user did not see the level-1 note" \
			grep -qx none "$SS/share/level2/alice/seen"
		check "storage: nothing of level 1 reached level 2's share" \
			sh -c "! grep -rqF '$word' \"$SS/share/level2\""
	fi
else
	not_ok "storage: pool-b did not come back as a level-2 pool"
fi
