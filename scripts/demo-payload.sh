#!/bin/sh
# Runs in dom0 of the testbed (see scripts/mcd-demo).
set -eu
step() { printf '\n=== %s\n' "$*"; }

step "Xen $(xl info | awk '/^xen_version/ { print $3 }') is up; domains:"
xl list
step "mcd-toolstack launch --x none --template linux-demo --user alice --display 10.0.2.2:0 -- /usr/bin/mcd-test-app --arg"
sid=$(mcd-toolstack launch --x none --template linux-demo --user alice --display 10.0.2.2:0 -- /usr/bin/mcd-test-app --arg)
echo "session id: $sid"
step "xl list"
xl list
step "mcd-toolstack sessions"
mcd-toolstack sessions
step "mcd-toolstack show $sid"
mcd-toolstack show "$sid"
step "xenstore-ls -p /mcd/sessions/$sid"
xenstore-ls -p "/mcd/sessions/$sid"
step "the app's own output, from the guest console"
sleep 2
grep MCD-TEST-APP "/var/log/xen/guest-mcd-$sid.log" || true
step "mcd-toolstack end $sid"
mcd-toolstack end "$sid"
step "after the end: xl list and /mcd/sessions"
xl list
xenstore-ls /mcd/sessions || true
echo "(no session left)"
