#!/bin/sh
# Runs in dom0 of the testbed (see scripts/mcd-demo).  The thin client is
# the host's Xvfb at 10.0.2.2:42; its cookie came along as a payload file.
set -eu
step() { printf '\n=== %s\n' "$*"; }
thin=10.0.2.2:42

step "Xen $(xl info | awk '/^xen_version/ { print $3 }') is up; domains:"
xl list
step "mcd-toolstack launch --template linux-demo --user alice --display $thin --xauth thin-client.cookie -- /usr/bin/xlogo -geometry 320x320+240+140"
sid=$(mcd-toolstack launch --template linux-demo --user alice --display $thin \
	--xauth /payload/thin-client.cookie -- /usr/bin/xlogo -geometry 320x320+240+140)
echo "session id: $sid (xlogo's window is mapped on the thin client)"
step "xl list"
xl list
step "mcd-toolstack sessions"
mcd-toolstack sessions
step "mcd-toolstack show $sid"
mcd-toolstack show "$sid"
step "xenstore-ls -p /mcd/sessions/$sid  (no cookie, no password: those went over vchan only)"
xenstore-ls -p "/mcd/sessions/$sid"
step "the agent's own lines, from the guest console"
grep 'mcd-agent' "/var/log/xen/guest-mcd-$sid.log" | tail -n 8 || true
sleep 5 # the host takes its screenshot of the thin client now
step "mcd-toolstack end $sid"
mcd-toolstack end "$sid"
step "after the end: xl list and /mcd/sessions"
xl list
xenstore-ls /mcd/sessions || true
echo "(no session left)"
