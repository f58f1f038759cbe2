#!/bin/bash
# Runs in dom0 of the testbed (see scripts/mcd-demo): the demo's pool
# master.  Starts the dom0 service with its TLS face (port 7443, which QEMU
# forwards to the host), shows what an admin sees while the user's session
# runs, and ends when the host stops its Auth/App server.
set -u
. /payload/pool.env
step() { printf '\n=== [dom0] %s\n' "$*"; }
broker_up() { (exec 3<>"/dev/tcp/10.0.2.2/$BROKER_PORT") 2>/dev/null; }
sessions() { xenstore-list /mcd/sessions 2>/dev/null; }

cat >/payload/pool.conf <<CONF
name = $POOL_NAME
level = 1
listen = 0.0.0.0:7443
cert = /payload/pool.pem
key = /payload/pool.key
ca = /payload/ca.pem
ticket_key = /payload/ticket.pub
CONF
step "Xen $(xl info | awk '/^xen_version/ { print $3 }') is up; the pool master's service starts with its face:"
cat /payload/pool.conf
mcd-toolstack daemon --log /var/log/mcd-toolstack.log --face /payload/pool.conf || exit 1
echo "MCD-POOL-READY $POOL_NAME level 1"

# Show the session once the user's launch made one, then wait for the end.
shown=0 waited=0
while broker_up && [ $waited -lt 900 ]; do
	sid=$(sessions | head -n 1)
	if [ $shown -eq 0 ] && [ -n "$sid" ] &&
	   [ "$(xenstore-read "/mcd/sessions/$sid/state" 2>/dev/null)" = running ]; then
		step "xl list"
		xl list
		step "mcd-toolstack sessions"
		mcd-toolstack sessions
		step "xenstore-ls -p /mcd/sessions/$sid  (no cookie, ticket or key: those went over TLS and vchan only)"
		xenstore-ls -p "/mcd/sessions/$sid"
		shown=1
	fi
	sleep 2
	waited=$((waited + 2))
done
step "after the end: xl list and /mcd/sessions"
xl list
xenstore-ls /mcd/sessions 2>/dev/null || true
[ -z "$(sessions)" ] && echo "(no session left)"
grep -E 'face|ticket' /var/log/mcd-toolstack.log | tail -n 6 | sed 's/^/  log: /'
# The guests' consoles, for the log file on the host (the demo shows the
# terminal only what is above this mark).
echo "MCD-GUEST-CONSOLES"
for f in /var/log/xen/guest-*.log; do
	[ -f "$f" ] && sed "s|^|${f##*/}: |" "$f"
done
[ $shown -eq 1 ]
