#!/bin/bash
# A pool master for the site tests (tests/site/run.sh): runs in dom0 of one
# testbed instance.  It starts the dom0 service with its network face (TLS
# on port 7443, which QEMU forwards to a port on the host), says
# "MCD-POOL-READY <name>" on the console, serves the host's test cases
# until the host opens DONE_PORT (or its Auth/App server goes away), then
# checks that nothing was left behind and prints what the host
# needs from dom0 alone (the guests' consoles) as "# guest ..." lines.
#
# A pool given LEVEL2 in pool.env serves a second phase: when the host
# opens PHASE_PORT, it ends its sessions and restarts its service serving
# level LEVEL2 (the site then has a level-2 pool for the cases that need
# one), and says "MCD-POOL-READY <name> level <LEVEL2>".
#
# /payload holds: pool.env (POOL_NAME, LEVEL, BROKER_PORT, DONE_PORT, SHARE_USER,
# SHARE_NAME, MAX_DOMAINS, and LEVEL2 and PHASE_PORT or nothing), pool.pem and pool.key (its certificate from the
# site CA), ca.pem, ticket.pub (the Auth/App server's public key) and
# share-password (the level's file server account).
set -u
. /payload/pool.env
T=mcd-toolstack
LOG=/var/log/mcd-toolstack.log
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $POOL_NAME: $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $POOL_NAME: $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 1
		n=$((n - 1))
	done
	"$@"
}
mcd_domain_count() { xl list | awk 'NR > 1 && $1 ~ /^mcd-/' | wc -l; }
sessions_count() { xenstore-list /mcd/sessions 2>/dev/null | wc -l; }
no_domains() { [ "$(mcd_domain_count)" -eq 0 ]; }
no_sessions() { [ "$(sessions_count)" -eq 0 ]; }
host_port_open() { (exec 3<>"/dev/tcp/10.0.2.2/$1") 2>/dev/null; }
# The cases go on while the host's Auth/App server runs and it has not
# opened DONE_PORT.  (A probe of the server's port is a failed TLS handshake
# in its log: look only every 20 s.)
broker_checked=0
cases_running() {
	host_port_open "$DONE_PORT" && return 1
	[ $((SECONDS - broker_checked)) -lt 20 ] && return 0
	broker_checked=$SECONDS
	host_port_open "$BROKER_PORT"
}

echo "# Xen: $(xl info | awk '/^xen_version/ { print $3 }'), pool $POOL_NAME, level $LEVEL"
export MCD_LOAD_MAX_DOMAINS=$MAX_DOMAINS

# serve LEVEL: write the face's configuration and start the service.
serve() {
	local level=$1
	# The level's storage: the host's file server, one directory per user.
	cat >/payload/pool.conf <<CONF
# pool master face of $POOL_NAME (made by tests/site/pool.sh)
name = $POOL_NAME
level = $level
listen = 0.0.0.0:7443
cert = /payload/pool.pem
key = /payload/pool.key
ca = /payload/ca.pem
ticket_key = /payload/ticket.pub
share = cifs //10.0.2.2/$SHARE_NAME/level$level/{user} store $SHARE_USER /payload/share-password
CONF
	if ! $T daemon --log $LOG --face /payload/pool.conf; then
		not_ok "the service with its face (level $level) did not start"
		tail -n 20 $LOG
		exit 1
	fi
	echo "MCD-POOL-READY $POOL_NAME level $level"
}

end_all() {
	for s in $(xenstore-list /mcd/sessions 2>/dev/null); do
		echo "# ending leftover session $s"
		$T end "$s" >/dev/null 2>&1
	done
	wait_for 60 no_domains
}

serve "$LEVEL"
if [ -n "${LEVEL2:-}" ]; then
	waited=0
	while ! host_port_open "$PHASE_PORT" && cases_running && [ $waited -lt 3000 ]; do
		sleep 2
		waited=$((waited + 2))
	done
	if host_port_open "$PHASE_PORT"; then
		echo "# phase 2 after ${waited}s: serving level $LEVEL2"
		end_all
		pid=$(cat /run/mcd/control.sock.pid 2>/dev/null)
		kill "$pid" 2>/dev/null
		gone() { ! kill -0 "$pid" 2>/dev/null; }
		wait_for 30 gone
		check "the service stopped for phase 2" gone
		serve "$LEVEL2"
	fi
fi

# Serve until the host's cases are done.
waited=0
while cases_running && [ $waited -lt 3000 ]; do
	sleep 2
	waited=$((waited + 2))
done
echo "# the host's cases are done after ${waited}s"

# Ask the service to end what is left, as an admin would, then check.
left=$(sessions_count)
check "no session left running by the cases ($left)" test "$left" -eq 0
end_all
check "no MCD domain left" wait_for 60 no_domains
check "no session nodes left" wait_for 30 no_sessions
check "the service is still up" kill -0 "$(cat /run/mcd/control.sock.pid 2>/dev/null || echo 0)"
check "no face connection process died of a signal" \
	sh -c "! grep -q 'died of signal' $LOG"
check "the share's password is not in the service log" \
	sh -c "! grep -qF \"\$(cat /payload/share-password)\" $LOG"
check "no ticket signature or end key in XenStore" \
	sh -c "! xenstore-ls -p /mcd 2>/dev/null | grep -qiE 'end.?key|ticket'"
# What the host checks from the guests' consoles: per session, the lines the
# test app and xev printed that matter.
for f in /var/log/xen/guest-mcd-*.log; do
	[ -f "$f" ] || continue
	sid=${f##*guest-mcd-}
	sid=${sid%.log}
	keys=$(grep -c 'KeyPress event' "$f")
	clicks=$(grep -c 'ButtonPress event' "$f")
	echo "# guest $sid keys=$keys clicks=$clicks"
	grep -a 'MCD-TEST-APP' "$f" | tr -d '\r' | sed "s/^/# guest $sid /"
done
echo "# service log:"
sed 's/^/#   /' $LOG | tail -n 60
echo "pool $POOL_NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
