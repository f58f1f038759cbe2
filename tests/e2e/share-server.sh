#!/usr/bin/env bash
# The file server for the network-share end-to-end case, on the host
# (guests with their own network reach the host as 10.0.2.2): smbd with
# one share, "mcdtest", for the account mcd-share-test, whose password is
# made here for each run.
#
# usage: share-server.sh start DIR   writes DIR/share.env (SHARE_USER,
#                                    SHARE_NAME) and DIR/share-password,
#                                    for dom0's /payload
#        share-server.sh stop DIR    stops smbd, removes DIR (and the
#                                    account, if start created it)
# The account exists because Samba maps its users onto Unix accounts; it
# has no home and no login shell.
set -euo pipefail

die() { echo "share-server: $*" >&2; exit 1; }
USER_NAME=mcd-share-test

start() {
	local dir=$1 pw
	mkdir -p "$dir"/{share,private,lock,state,cache,pid,ncalrpc}
	# The account must reach its share: DIR is passed through, not listed.
	chmod 0711 "$dir"
	command -v smbd >/dev/null || die "smbd not found (scripts/install-deps.sh)"
	command -v smbpasswd >/dev/null || die "smbpasswd not found (scripts/install-deps.sh)"
	if (exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null; then
		die "port 445 is taken on this machine; the share case needs it"
	fi
	if ! getent passwd "$USER_NAME" >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$USER_NAME"
		touch "$dir/created-user"
	fi
	chown "$USER_NAME" "$dir/share"
	chmod 0700 "$dir/share"
	cat >"$dir/smb.conf" <<CONF
[global]
	server role = standalone server
	security = user
	map to guest = never
	server min protocol = SMB2
	smb ports = 445
	disable netbios = yes
	load printers = no
	disable spoolss = yes
	passdb backend = tdbsam:$dir/private/passdb.tdb
	private dir = $dir/private
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	pid directory = $dir/pid
	ncalrpc dir = $dir/ncalrpc
	log file = $dir/smbd.log
[mcdtest]
	path = $dir/share
	read only = no
	valid users = $USER_NAME
CONF
	pw=$(openssl rand -hex 12)
	printf '%s\n' "$pw" >"$dir/share-password"
	chmod 0600 "$dir/share-password"
	printf '%s\n%s\n' "$pw" "$pw" |
		smbpasswd -c "$dir/smb.conf" -s -a "$USER_NAME" >/dev/null
	# smbd makes its own session (it ends by signalling its whole process
	# group, which must never be the test run's: no --no-process-group).
	smbd -F -s "$dir/smb.conf" >"$dir/smbd.out" 2>&1 &
	echo $! >"$dir/smbd.pid"
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null && break
		sleep 0.1
	done
	(exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null ||
		die "smbd did not start ($(tail -n 3 "$dir/smbd.out"))"
	printf 'SHARE_USER=%s\nSHARE_NAME=mcdtest\n' "$USER_NAME" >"$dir/share.env"
	echo "share server: smbd on port 445, share mcdtest for $USER_NAME" >&2
}

stop() {
	local dir=$1
	[ -f "$dir/smbd.pid" ] && kill "$(cat "$dir/smbd.pid")" 2>/dev/null || true
	[ -f "$dir/created-user" ] && userdel "$USER_NAME" 2>/dev/null || true
	rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start|stop DIR" ;;
esac
