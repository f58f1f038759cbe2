# What the site's admin sees on the Auth/App server: the sessions the
# clients reported (ready, then ended), and the users, apps and pools.

"$BROKER" --db "$DB" sessions >"$W/admin-sessions.out" 2>&1
check "admin: mcd-broker sessions lists bob's sessions on both pools" \
	sh -c "grep -q bob \"$W/admin-sessions.out\" && grep -q pool-a \"$W/admin-sessions.out\" && grep -q pool-b \"$W/admin-sessions.out\""
check "admin: ... and says they ended" grep -q ended "$W/admin-sessions.out"
"$BROKER" --db "$DB" user list --json >"$W/admin-users.json" 2>&1
check "admin: mcd-broker user list shows the users with their levels and no password hash" \
	sh -c "grep -q '\"alice\"' \"$W/admin-users.json\" && ! grep -q scrypt \"$W/admin-users.json\""
