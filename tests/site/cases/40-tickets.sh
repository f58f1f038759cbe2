# Launch tickets: refused at the server for a level above the user's, and
# refused by the pool master when hand-made or changed (mcd-site-attack
# signs and sends them as an attacker with or without the key would).

# The client does not offer what the catalog does not list; the server
# refuses the ticket even when asked for it directly.
client bob run reader-2 >"$W/t.out" 2>&1
rc=$?
check "ticket: bob (level 1) has no level-2 app to run (exit $rc: $(tail -n 1 "$W/t.out"))" \
	test "$rc" -ne 0
out=$("$ATTACK" ticket --address "127.0.0.1:$BROKER_PORT" --name broker --ca "$W/pki/ca.pem" \
	--user bob --password-file "$W/bob.pw" --app reader-2 --pool pool-l2 \
	--display "10.0.2.2:$XN" 2>&1)
case "$out" in
*"ERROR denied"*) ok "ticket: the server refuses bob (level 1) a ticket for a level-2 app ($out)" ;;
*) not_ok "ticket: the server did not refuse bob a level-2 ticket: $out" ;;
esac
# attack WHAT: a LAUNCH to pool-a with a ticket made as WHAT says; prints
# the pool's answer.
attack() {
	"$ATTACK" launch --address "127.0.0.1:$PA" --name pool-a --ca "$W/pki/ca.pem" \
		--key "$W/ticket.key" --display "10.0.2.2:$XN" --template linux-demo \
		--program /usr/bin/xev --user bob --level 1 --pool pool-a "$@" 2>&1
}
refused() {
	local what=$1 out
	shift
	out=$(attack "$@")
	case "$out" in
	*"ERROR ticket"*) ok "ticket: pool-a refuses a ticket $what (${out:0:120})" ;;
	*) not_ok "ticket: pool-a did not refuse a ticket $what: $out" ;;
	esac
}
openssl genpkey -algorithm ed25519 -out "$W/other-ticket.key" 2>/dev/null
refused "signed with another key" --key "$W/other-ticket.key"
refused "whose body was changed after signing" --tamper
refused "that expired" --issued-ago 700 --life 60
refused "for another pool" --pool pool-b
refused "for another level" --level 2
refused "for another client address" --display "10.0.2.99:$XN"
# Replay: the same ticket twice (the first is for a template that does not
# exist, so it uses the ticket without starting a domain).
out=$(attack --template no-such-template --twice)
case "$out" in
*"2: ERROR ticket: ticket refused: already used"*)
	ok "ticket: pool-a refuses a ticket used before ($(echo "$out" | tr '\n' ' '))" ;;
*) not_ok "ticket: pool-a did not refuse a ticket used before: $(echo "$out" | tr '\n' ' ')" ;;
esac
# Through the real client: a display on another machine than the one the
# launch comes from.
client alice-elsewhere login --user alice --password-file "$W/alice.pw" >/dev/null 2>&1
client alice-elsewhere run xev-1 >"$W/t.out" 2>&1
rc=$?
check "ticket: a launch whose display is not the caller's address is refused (exit $rc: $(tail -n 1 "$W/t.out"))" \
	sh -c "[ $rc -ne 0 ] && grep -qi 'ticket\|address' \"$W/t.out\""
