# A template with mcd_keep_for_user = 1: when a session ends its domain and
# its disk clone are kept for that user, whose next launch reuses them;
# other users never get it; `end` of the kept domain discards it.

sed -e '/^mcd_keep_for_user/d' -e '/^mcd_pool_size/d' $TD/linux-disk.cfg >$TD/keeper.cfg
echo "mcd_keep_for_user = 1" >>$TD/keeper.cfg
kept_for() { $T pool | awk -v u="kept-for-$1" '$3 == "keeper" && $4 == u { print $1 }'; }
clone_of() { [ -n "$(find /var/lib/mcd/clones -mindepth 1 -maxdepth 1 -name "$1-*" -print -quit 2>/dev/null)" ]; }

if sid=$(launch keeper /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "launch of a keep-for-user template"
	kdom=$(xenstore-read /mcd/sessions/$sid/domid)
	if $T end "$sid" >/tmp/out 2>&1; then ok "end of it"; else not_ok "end: $(cat /tmp/out)"; fi
	check "its domain is kept after the end" xl domid "mcd-$sid"
	check "... listed by pool as kept for alice" test "$(kept_for alice)" = "$sid"
	check "... with its disk clone" clone_of "$sid"
	check "... and no session record" session_gone "$sid"
	xenstore-ls -fp / >/tmp/tree
	check "live tree with a kept domain passes mcd-schema-check" mcd-schema-check --domains /tmp/tree
	if bsid=$($T launch --x none --template keeper --user bob --display :0 -- /usr/bin/mcd-test-app 2>/tmp/launch.err); then
		check "another user does not get alice's kept domain" test "$bsid" != "$sid"
		$T end "$bsid" >/dev/null 2>&1
	else
		not_ok "launch for bob: $(cat /tmp/launch.err)"
	fi
	if sid2=$(launch keeper /usr/bin/mcd-test-app --again 2>/tmp/launch.err); then
		check "alice's next launch reuses her kept domain" test "$sid2" = "$sid"
		check "... the same domain id" test "$(xenstore-read /mcd/sessions/$sid2/domid)" = "$kdom"
		check "... and the app runs there again" \
			wait_for 20 console_has "$sid2" "MCD-TEST-APP uid=1000 user=alice display=$DISPLAY_ADDR args=--again"
		$T end "$sid2" >/dev/null 2>&1
	else
		not_ok "alice's second launch: $(cat /tmp/launch.err)"
	fi
	kept=$(kept_for alice)
	check "still kept after the second session" test "$kept" = "$sid"
	if $T end "$kept" >/tmp/out 2>&1; then ok "end of a kept domain discards it"; else not_ok "end of the kept domain: $(cat /tmp/out)"; fi
	check "discarded domain destroyed" wait_for 30 domain_gone "$sid"
	check "... and its clone removed" wait_for 10 sh -c "! ls /var/lib/mcd/clones 2>/dev/null | grep -q '^$sid-'"
	bk=$(kept_for bob)
	[ -n "$bk" ] && $T end "$bk" >/dev/null 2>&1
	check "bob's kept domain discarded too" wait_for 30 test -z "$(kept_for bob)"
else
	not_ok "launch of a keep-for-user template: $(cat /tmp/launch.err)"
fi
rm -f $TD/keeper.cfg
check "no MCD domain left after the keep tests" wait_for 30 domains_at_most 0
