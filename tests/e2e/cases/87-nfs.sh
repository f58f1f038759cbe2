# An NFS share that really mounts: dom0 exports a directory with its kernel
# nfsd (NFSv4 only) to the guests on its bridge, and the linux-net guest
# mounts it under the user's home.  What one session saves there, the next
# one reads back.

if ! command -v rpc.nfsd >/dev/null; then
	not_ok "NFS share: dom0 has no NFS server (install nfs-kernel-server, rebuild the testbed)"
elif ! nfs_up >/tmp/nfs.log 2>&1; then
	not_ok "NFS share: dom0's nfsd did not start: $(tail -n 1 /tmp/nfs.log)"
	sed 's/^/#   /' /tmp/nfs.log
else
	cat /tmp/nfs.log
	NSH=nfs,10.0.2.15:/srv/nfs/alice,home
	word="saved-over-nfs-$$"
	nlaunch() {
		$T launch --x none --template linux-net --user alice --display 10.0.2.2:0 "$@"
	}
	if n1=$(nlaunch --share $NSH -- /usr/bin/mcd-test-app --write-home home/note.txt "$word" 2>/tmp/nfs.err); then
		check "NFS share: the app wrote a file on the mounted export" \
			wait_for 60 console_has "$n1" "MCD-TEST-APP wrote home/note.txt"
		check "NFS share: ... and it is in dom0's export, owned by alice" \
			sh -c "grep -qx '$word' /srv/nfs/alice/note.txt && test \$(stat -c %u /srv/nfs/alice/note.txt) = 1000"
		$T end "$n1" >/dev/null 2>&1
		wait_for 30 domain_gone "$n1"
	else
		not_ok "NFS share: launch failed: $(tail -n 1 /tmp/nfs.err)"
	fi
	if n2=$(nlaunch --share $NSH -- /usr/bin/mcd-test-app --read-home home/note.txt 2>/tmp/nfs.err); then
		check "NFS share: a new session reads the file back" \
			wait_for 30 console_has "$n2" "MCD-TEST-APP read home/note.txt: $word"
		$T end "$n2" >/dev/null 2>&1
		wait_for 30 domain_gone "$n2"
	else
		not_ok "NFS share: second launch failed: $(tail -n 1 /tmp/nfs.err)"
	fi
	expect_fail "NFS share: an export that does not exist fails the launch with the mount's reason" \
		"cannot mount nfs share 10.0.2.15:/srv/nfs/nobody on home" \
		nlaunch --share nfs,10.0.2.15:/srv/nfs/nobody,home -- /usr/bin/mcd-test-app
fi
