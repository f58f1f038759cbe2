# Network shares that really mount: the guest of the linux-net template has
# its own network and mounts a CIFS share from the host's smbd (started by
# tests/e2e/run.sh with tests/e2e/share-server.sh).  What one session saves
# there, the next one reads back; the password travels only in the vchan
# request.

if [ ! -f /payload/share.env ]; then
	not_ok "shares: no file server on the host (tests/e2e/run.sh starts it for 86-shares)"
else
	. /payload/share.env
	PW=/payload/share-password
	SH="cifs,//10.0.2.2/$SHARE_NAME,docs,$SHARE_USER,$PW"
	word="saved-on-the-share-$$"
	slaunch() {
		$T launch --x none --template linux-net --user alice --display 10.0.2.2:0 "$@"
	}

	if s1=$(slaunch --share "$SH" -- /usr/bin/mcd-test-app --write-home docs/note.txt "$word" 2>/tmp/sh.err); then
		check "CIFS share: the app wrote a file on the mounted share" \
			wait_for 30 console_has "$s1" "MCD-TEST-APP wrote docs/note.txt"
		check "CIFS share: the password is nowhere in XenStore" \
			sh -c "! xenstore-ls -p / | grep -qF '$(cat $PW)'"
		check "CIFS share: ... nor in the service log" \
			sh -c "! grep -qF '$(cat $PW)' $LOG"
		check "CIFS share: ... nor on the guest console" \
			sh -c "! grep -qF '$(cat $PW)' /var/log/xen/guest-mcd-$s1.log"
		$T end "$s1" >/dev/null 2>&1
		check "CIFS share: the agent unmounted the share before the end was reported" \
			console_has "$s1" "unmounted"
		wait_for 30 domain_gone "$s1"
	else
		not_ok "CIFS share: launch failed: $(tail -n 1 /tmp/sh.err)"
	fi

	if s2=$(slaunch --share "$SH" -- /usr/bin/mcd-test-app --read-home docs/note.txt 2>/tmp/sh.err); then
		check "CIFS share: a new session reads the file back from the share" \
			wait_for 30 console_has "$s2" "MCD-TEST-APP read docs/note.txt: $word"
		$T end "$s2" >/dev/null 2>&1
		wait_for 30 domain_gone "$s2"
	else
		not_ok "CIFS share: second launch failed: $(tail -n 1 /tmp/sh.err)"
	fi

	echo "not-the-password" >/tmp/wrong.pw
	chmod 600 /tmp/wrong.pw
	expect_fail "CIFS share: a wrong password fails the launch with the mount's reason" \
		"cannot mount cifs share //10.0.2.2/$SHARE_NAME on docs: mount error(13)" \
		slaunch --share "cifs,//10.0.2.2/$SHARE_NAME,docs,$SHARE_USER,/tmp/wrong.pw" \
		-- /usr/bin/mcd-test-app
	rm -f /tmp/wrong.pw
fi
