# The user's persistent storage: a per-user ext4 volume attached to each
# session with --volume and mounted on the home, kept across sessions,
# clean after a guest dies mid-write, never in two sessions at once; and
# network shares that fail the launch with the mount's reason, with a CIFS
# password that never reaches XenStore or the service log.

VOLDIR=/var/lib/mcd/volumes
sed -e '/^mcd_pool_size/d' -e '/^mcd_keep_for_user/d' $TD/linux-demo.cfg >$TD/vol.cfg
echo 'mcd_user_volume_size = "64M"' >>$TD/vol.cfg
vlaunch() {
	$T launch --x none --volume --template vol --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app "$@"
}
mode_of() { stat -c %a "$1" 2>/dev/null; }
not_attached() { ! losetup -a 2>/dev/null | grep -q "$VOLDIR/alice.img"; }
marker="kept-$(date +%s)"

# 1. First session: the volume is made, attached, mounted on the home.
if sid1=$(vlaunch --write-home notes.txt "$marker" 2>/tmp/launch.err); then
	ok "launch with --volume"
	check "... the volume was made ($VOLDIR/alice.img, 0600)" test "$(mode_of $VOLDIR/alice.img)" = 600
	check "... in a 0700 directory" test "$(mode_of $VOLDIR)" = 700
	check "... sparse" test "$(du -k $VOLDIR/alice.img | cut -f1)" -lt 32768
	check "... recorded in the session's XenStore node" \
		test "$(xenstore-read /mcd/sessions/$sid1/volume 2>/dev/null)" = "$VOLDIR/alice.img"
	check "... and shown by show" sh -c "$T show $sid1 | grep -q '^volume: *$VOLDIR/alice.img'"
	check "... and shown by show" sh -c "$T show $sid1 | grep -q '^volume: *$VOLDIR/alice.img'"
	check "... mounted on the home after e2fsck" wait_for 20 console_has "$sid1" "storage: volume /dev/xvd[b-z] mounted on /home/alice"
	check "... the app wrote its file there" wait_for 20 console_has "$sid1" "MCD-TEST-APP wrote notes.txt"
	xenstore-ls -fp / >/tmp/tree
	check "live tree with a volume passes mcd-schema-check" mcd-schema-check --domains /tmp/tree
	before=$(mcd_domain_count)
	expect_fail "a second session of alice's volume is refused" \
		"volume of alice is in use by session $sid1" vlaunch
	check "... and made no domain" test "$(mcd_domain_count)" -eq "$before"
	# The holder is known from XenStore after a restart too.
	kill -9 "$(cat $PIDFILE)"
	$T daemon >/dev/null 2>&1
	check "after a service restart the session is back" wait_for 60 state_is "$sid1" running
	expect_fail "... and a second session of the volume is still refused" \
		"volume of alice is in use by session $sid1" vlaunch
	if $T end "$sid1" >/tmp/out 2>&1; then ok "end of the volume session"; else not_ok "end: $(cat /tmp/out)"; fi
	check "... the agent synced and unmounted the home before the end" \
		console_has "$sid1" "storage: synced and unmounted /home/alice"
	check "... its domain is gone" wait_for 30 domain_gone "$sid1"
	check "... and the volume is detached" wait_for 10 not_attached
else
	not_ok "launch with --volume: $(cat /tmp/launch.err)"
fi

# 2. A new session of the same user finds the file.
if sid2=$(vlaunch --read-home notes.txt 2>/tmp/launch.err); then
	check "a new session reads back the file of the previous one" \
		wait_for 20 console_has "$sid2" "MCD-TEST-APP read notes.txt: $marker"
	$T end "$sid2" >/dev/null 2>&1
	wait_for 30 domain_gone "$sid2"
else
	not_ok "second volume session: $(cat /tmp/launch.err)"
fi

# 3. The guest dies while the app writes: the next mount is clean.
if sid3=$(vlaunch --write-loop big.dat 2>/tmp/launch.err); then
	# Its first lines are synced, the rest is being written: then it dies.
	wait_for 60 console_has "$sid3" "MCD-TEST-APP synced big.dat"
	sleep 2
	xl destroy "mcd-$sid3" 2>/dev/null
	check "a session destroyed mid-write ends" wait_for 30 session_gone "$sid3"
	check "... and frees its volume" wait_for 20 not_attached
	if sid4=$(vlaunch --read-home notes.txt big.dat 2>/tmp/launch.err); then
		ok "the next session's volume mounts after the crash"
		check "... after e2fsck checked it" wait_for 20 console_has "$sid4" "storage: e2fsck /dev/xvd"
		grep "storage: e2fsck" "/var/log/xen/guest-mcd-$sid4.log" | sed 's/^/#   /' | head -n 4
		check "... and the earlier file is still there" \
			wait_for 20 console_has "$sid4" "MCD-TEST-APP read notes.txt: $marker"
		check "... and so is what was synced of the file being written" \
			wait_for 20 console_has "$sid4" "MCD-TEST-APP read big.dat: line 1 of a file"
		$T end "$sid4" >/dev/null 2>&1
		wait_for 30 domain_gone "$sid4"
	else
		not_ok "launch after the crash: $(cat /tmp/launch.err)"
	fi
else
	not_ok "write-loop session: $(cat /tmp/launch.err)"
fi

# 4. A domain kept for its user: the volume is detached when the session
# ends (free for another session meanwhile) and attached again when the
# user's next launch claims the kept domain (the warm path).
sed -e '/^mcd_keep_for_user/d' $TD/vol.cfg >$TD/volkeep.cfg
echo "mcd_keep_for_user = 1" >>$TD/volkeep.cfg
klaunch() {
	$T launch --x none --volume --template volkeep --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app "$@"
}
if ks=$(klaunch --write-home kept.txt "$marker-k" 2>/tmp/launch.err); then
	wait_for 20 console_has "$ks" "MCD-TEST-APP wrote kept.txt"
	if $T end "$ks" >/tmp/out 2>&1; then ok "end of a kept-for-user volume session"; else not_ok "end: $(cat /tmp/out)"; fi
	check "... its domain is kept" xl domid "mcd-$ks"
	check "... without the volume" wait_for 20 not_attached
	if s5=$(vlaunch --read-home kept.txt 2>/tmp/launch.err); then
		check "... which another session of alice can have meanwhile" \
			wait_for 20 console_has "$s5" "MCD-TEST-APP read kept.txt: $marker-k"
		$T end "$s5" >/dev/null 2>&1
		wait_for 30 domain_gone "$s5"
		wait_for 20 not_attached
	else
		not_ok "a volume session beside a kept domain: $(cat /tmp/launch.err)"
	fi
	if ks2=$(klaunch --read-home kept.txt notes.txt 2>/tmp/launch.err); then
		check "alice's next launch claims her kept domain" test "$ks2" = "$ks"
		check "... and gets her volume attached there again" \
			wait_for 20 console_has "$ks" "MCD-TEST-APP read notes.txt: $marker"
		$T end "$ks2" >/dev/null 2>&1
	else
		not_ok "launch on the kept domain: $(cat /tmp/launch.err)"
	fi
	wait_for 20 not_attached
	kept=$($T pool | awk '$3 == "volkeep" { print $1 }')
	for k in $kept; do $T end "$k" >/dev/null 2>&1; done
	check "the kept domain is discarded" wait_for 30 domain_gone "$ks"
else
	not_ok "launch of a kept-for-user volume session: $(cat /tmp/launch.err)"
fi
rm -f $TD/volkeep.cfg

# 5. A warm pool member claimed by a --volume launch gets the volume too.
volwarm_cfg() {
	sed -e '/^mcd_pool_size/d' $TD/vol.cfg >$TD/volwarm.cfg.new
	echo "mcd_pool_size = $1" >>$TD/volwarm.cfg.new
	mv $TD/volwarm.cfg.new $TD/volwarm.cfg
}
volwarm_ready() { $T pool 2>/dev/null | awk '$3 == "volwarm" && $4 == "ready"' | grep -q .; }
volwarm_none() { ! $T pool 2>/dev/null | awk '$3 == "volwarm"' | grep -q .; }
daemon_alive || $T daemon >/dev/null 2>&1
volwarm_cfg 1
if wait_for 180 volwarm_ready; then
	if ws=$($T launch --x none --volume --template volwarm --user alice --display $DISPLAY_ADDR \
		-- /usr/bin/mcd-test-app --read-home notes.txt 2>/tmp/launch.err); then
		check "a warm launch with --volume claims a pool member" grep -q "warm domain .* claimed" /tmp/launch.err
		check "... and mounts the volume there" wait_for 20 console_has "$ws" "MCD-TEST-APP read notes.txt: $marker"
		$T end "$ws" >/dev/null 2>&1
		wait_for 30 domain_gone "$ws"
	else
		not_ok "warm launch with --volume: $(cat /tmp/launch.err)"
	fi
else
	not_ok "the volwarm pool did not get a ready member"
fi
volwarm_cfg 0
check "the volwarm pool empties" wait_for 60 volwarm_none
rm -f $TD/volwarm.cfg

# 6. Shares: guests have no network here, so a share cannot be mounted and
# the launch fails with the mount's own reason.
expect_fail "an NFS share that cannot be mounted fails the launch" "cannot mount nfs share 10.9.9.9:/nothing on docs" \
	$T launch --x none --template linux-demo --user alice --display $DISPLAY_ADDR \
	--share nfs,10.9.9.9:/nothing,docs -- /usr/bin/mcd-test-app
grep -- "cannot mount" /tmp/err | sed 's/^/#   /'
check "... reported as a storage failure" grep -q "(storage)" /tmp/err

secret="Pw-$(date +%s)-never-shown"
printf '%s\n' "$secret" >/tmp/share.pw
chmod 600 /tmp/share.pw
$T launch --x none --template linux-demo --user alice --display $DISPLAY_ADDR \
	--share cifs,//10.9.9.9/docs,docs,bob,/tmp/share.pw -- /usr/bin/mcd-test-app >/tmp/out 2>/tmp/err &
cli=$!
: >/tmp/xs-during
for _ in 1 2 3 4 5 6 7 8 9 10; do
	xenstore-ls -f / >>/tmp/xs-during 2>/dev/null
	ps -o args >>/tmp/xs-during 2>/dev/null || ps >>/tmp/xs-during
	kill -0 $cli 2>/dev/null || break
	sleep 1
done
wait $cli
cifs_rc=$?
check "a CIFS share that cannot be mounted fails the launch" test "$cifs_rc" -ne 0
check "... with the mount's reason" grep -q "cannot mount cifs share //10.9.9.9/docs on docs" /tmp/err
grep -- "cannot mount" /tmp/err | sed 's/^/#   /'
check "... its password never in xenstore-ls nor ps during the launch" sh -c "! grep -q -- '$secret' /tmp/xs-during"
check "... nor in XenStore after it" sh -c "! xenstore-ls -f / | grep -q -- '$secret'"
check "... nor in the service log" sh -c "! grep -q -- '$secret' $LOG"
rm -f /tmp/share.pw $TD/vol.cfg
check "no MCD domain left after the storage tests" wait_for 30 test "$(mcd_domain_count)" -eq 0
check "... and alice's volume is not attached" not_attached
