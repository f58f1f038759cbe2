# Login and catalog: the Auth/App server over TLS with the site CA.

if client alice login --user alice --password-file "$W/alice.pw" >"$W/out" 2>&1; then
	ok "login: alice logs in with her password"
else
	not_ok "login: alice could not log in: $(tail -n 1 "$W/out")"
fi
check "login: the token is kept for alice alone (mode 0600)" \
	sh -c "[ \"\$(stat -c %a \"$W/state-alice/token\" 2>/dev/null)\" = 600 ]"
check "login: the password is in no file of the client's state" \
	sh -c "! grep -rqF \"\$(cat \"$W/alice.pw\")\" \"$W/state-alice\""

printf 'not-her-password\n' >"$W/wrong.pw"
if client bob login --user bob --password-file "$W/wrong.pw" >"$W/out" 2>&1; then
	not_ok "login: a wrong password was accepted"
else
	rc=$?
	check "login: a wrong password is refused with one line (exit $rc)" \
		test "$(wc -l <"$W/out")" -eq 1 -a "$rc" -ne 0
fi
client bob login --user bob --password-file "$W/bob.pw" >"$W/out" 2>&1 ||
	not_ok "login: bob could not log in: $(tail -n 1 "$W/out")"

# Repeated failures are slowed, per user.
printf 'guess\n' >"$W/guess.pw"
for _ in 1 2 3 4 5 6; do
	"$CLIENT" --config "$W/bob.conf" login --user mallory --password-file "$W/guess.pw" >"$W/out" 2>&1
done
check "login: repeated failures for one user are slowed ($(tail -n 1 "$W/out"))" \
	grep -qi 'too many' "$W/out"

# The catalog: what each user may see, with levels.
client alice apps --json >"$W/apps-alice.json" 2>"$W/out" ||
	not_ok "catalog: apps failed for alice: $(tail -n 1 "$W/out")"
client bob apps --json >"$W/apps-bob.json" 2>"$W/out" ||
	not_ok "catalog: apps failed for bob: $(tail -n 1 "$W/out")"
check "catalog: alice (level 2) sees the level-2 reader" grep -q '"reader-2"' "$W/apps-alice.json"
check "catalog: bob (level 1) sees the level-1 apps" grep -q '"xev-1"' "$W/apps-bob.json"
check "catalog: bob (level 1) does not see the level-2 reader" \
	sh -c "! grep -q '\"reader-2\"' \"$W/apps-bob.json\""
client alice apps >"$W/apps-alice.txt" 2>&1
check "catalog: the list names each app with its OS and level" \
	grep -q 'Event tester (Linux, level 1)' "$W/apps-alice.txt"

# The server's certificate must chain to the site CA.
if client alice-otherca login --user alice --password-file "$W/alice.pw" >"$W/out" 2>&1; then
	not_ok "TLS: a client trusting another CA logged in"
else
	check "TLS: a client trusting another CA refuses the server ($(tail -n 1 "$W/out"))" \
		grep -qi 'certificate\|verify' "$W/out"
fi
check "TLS: the server's log has no password" \
	sh -c "! grep -qF \"\$(cat \"$W/alice.pw\")\" \"$W/broker.log\""
