# The agent's root boundary, tried as an attacker would: a process the user
# left behind in a kept domain, a mount point swapped for a symlink during
# the launch, an app started as a system account, and a CIFS share with a
# password next to an X cookie (their directories under /run/mcd-agent
# once made the cookie unreadable for the user).

# --- kept domain: nothing of the last session survives ------------------
# Session 1 leaves, in sessions of their own, a process that keeps forking
# and one that swaps ~/docs between a directory and a symlink to /usr/sbin.
# Session 2, in the same kept domain, mounts an NFS export on ~/docs.
sed -e '/^mcd_keep_for_user/d' -e '/^mcd_pool_size/d' $TD/linux-net.cfg >$TD/keep88.cfg
echo "mcd_keep_for_user = 1" >>$TD/keep88.cfg
klaunch() {
	$T launch --x none --template keep88 --user alice --display 10.0.2.2:0 "$@"
}
if ! nfs_up >/tmp/nfs88.log 2>&1; then
	not_ok "boundary: dom0's nfsd did not start: $(tail -n 1 /tmp/nfs88.log)"
elif k1=$(klaunch -- /usr/bin/mcd-test-app --survivor docs 2>/tmp/k88.err); then
	check "boundary: session 1 left a setsid() survivor and a mount point swapper" \
		wait_for 30 console_has "$k1" "MCD-TEST-APP survivor started"
	$T end "$k1" >/dev/null 2>&1
	check "boundary: session 1's domain is kept for alice" xl domid "mcd-$k1"
	# Session 2, in the same kept domain: nothing of session 1 is left.
	if k2=$(klaunch -- /usr/bin/mcd-test-app --check-survivor 2>/tmp/k88.err); then
		check "boundary: session 2 runs in the kept domain" test "$k2" = "$k1"
		check "boundary: session 2 ran its check" \
			wait_for 30 console_has "$k2" "MCD-TEST-APP survivor \(alive\|gone\)"
		check "boundary: no process of session 1 is left in session 2 (gone)" \
			console_has "$k2" "MCD-TEST-APP survivor gone"
		check "boundary: ... (none alive)" \
			sh -c "! grep -q 'MCD-TEST-APP survivor alive' /var/log/xen/guest-mcd-$k2.log"
		$T end "$k2" >/dev/null 2>&1
	else
		not_ok "boundary: session 2 in the kept domain: $(tail -n 1 /tmp/k88.err)"
	fi
	# Session 3 mounts an NFS share on ~/docs, which the swapper left as
	# a directory or as a symlink to /usr/sbin: root mounts it on the
	# user's directory or refuses, never on the link's target.
	if k3=$(klaunch --share nfs,10.0.2.15:/srv/nfs/alice,docs -- /usr/bin/mcd-test-app --check-survivor 2>/tmp/k88.err); then
		wait_for 30 console_has "$k3" "MCD-TEST-APP mount "
		check "boundary: root never mounted the user's share on the symlink's target /usr/sbin" \
			sh -c "! grep -q 'MCD-TEST-APP mount .* /usr/sbin' /var/log/xen/guest-mcd-$k3.log"
		check "boundary: the share is on ~/docs" \
			console_has "$k3" "MCD-TEST-APP mount 10.0.2.15:/srv/nfs/alice /home/alice/docs"
		$T end "$k3" >/dev/null 2>&1
	elif grep -q "mount point /home/alice/docs: not a directory" /tmp/k88.err; then
		ok "boundary: ~/docs left as a symlink: the share was refused, not mounted on its target ($(tail -n 1 /tmp/k88.err))"
	else
		not_ok "boundary: session 3 in the kept domain: $(tail -n 1 /tmp/k88.err)"
		echo "# guest console:"; sed 's/^/#   /' "/var/log/xen/guest-mcd-$k1.log" | tail -n 40
	fi
	kept=$($T pool | awk '$3 == "keep88" { print $1 }')
	for k in $kept; do $T end "$k" >/dev/null 2>&1; done
	wait_for 30 domain_gone "$k1"
else
	not_ok "boundary: session 1: $(tail -n 1 /tmp/k88.err)"
fi
rm -f $TD/keep88.cfg

# --- the app's output is its own ---------------------------------------
# An app that prints a line looking like the agent's: on the console it
# is marked as the app's, never at the start of a line.
if o88=$(launch linux-demo /usr/bin/mcd-test-app --say "mcd-agent: session 0000000000000000: FORGED" 2>/tmp/o88.err); then
	wait_for 30 console_has "$o88" "FORGED"
	check "boundary: the app's output reaches the console, marked as the app's" \
		console_has "$o88" "^app: mcd-agent: session 0000000000000000: FORGED"
	check "boundary: ... and never as a line of the agent's" \
		sh -c "! grep -q '^mcd-agent: session 0000000000000000: FORGED' /var/log/xen/guest-mcd-$o88.log"
	$T end "$o88" >/dev/null 2>&1
	wait_for 30 domain_gone "$o88"
else
	not_ok "boundary: launch of the app that forges a line: $(tail -n 1 /tmp/o88.err)"
fi

# --- only regular accounts ----------------------------------------------
expect_fail "boundary: --user daemon (uid 1) is refused as a system account" \
	"daemon is a system account" \
	$T launch --x none --template linux-demo --user daemon --display :0 -- /usr/bin/mcd-test-app

# --- a CIFS share with a password and an X cookie, relay mode -----------
if [ ! -f /payload/share.env ] || [ ! -f /payload/x11.env ]; then
	not_ok "boundary: CIFS with a cookie needs the host's smbd and thin client (run with 86-shares and 82-x11)"
else
	. /payload/share.env
	. /payload/x11.env
	if c88=$($T launch --template linux-net --user alice --display "10.0.2.2:$XN" \
		--xauth /payload/x11-cookie \
		--share "cifs,//10.0.2.2/$SHARE_NAME,docs,$SHARE_USER,/payload/share-password" \
		-- /usr/bin/xlogo 2>/tmp/c88.err); then
		c88=$(echo "$c88" | tail -n 1)
		ok "boundary: CIFS share with a password plus a cookie launches in relay mode"
		check "boundary: ... with the share mounted" console_has "$c88" "cifs share .* mounted on /home/alice/docs"
		check "boundary: ... and the relay used" console_has "$c88" "relay mode"
		$T end "$c88" >/dev/null 2>&1
		wait_for 30 domain_gone "$c88"
	else
		not_ok "boundary: CIFS share with a password plus a cookie: $(tail -n 1 /tmp/c88.err)"
	fi
fi
check "boundary: no MCD domain left" wait_for 30 domains_at_most 0
