#!/bin/bash
# Testbed smoke payload (runs in dom0): proves Xen, the dom0 tools and a
# guest template work.
set -euo pipefail

case "${1:-}" in
-h | --help)
	echo "usage: scripts/testbed/run.sh scripts/testbed/smoke.sh   (a dom0 payload; prints SMOKE: PASS)"
	exit 0
	;;
esac
[ -e /proc/xen/privcmd ] || {
	echo "smoke.sh: error: not in a Xen dom0; run it as scripts/testbed/run.sh scripts/testbed/smoke.sh" >&2
	exit 1
}

step() { echo "SMOKE: $*"; }
fail() {
	echo "SMOKE: FAIL: $*"
	exit 1
}
now() { cut -d' ' -f1 /proc/uptime; }

t0=$(now)
step "xl info"
xl info | grep -E '^(host|release|xen_version|xen_caps|virt_caps|total_memory|free_memory|nr_cpus)' ||
	fail "xl info failed"
step "xl list"
xl list || fail "xl list failed"

step "broken.cfg must be refused"
if xl create -n /etc/mcd/templates/broken.cfg >/tmp/broken.out 2>&1; then
	cat /tmp/broken.out
	fail "xl accepted the malformed template"
fi
head -n 3 /tmp/broken.out

step "xl create linux-demo as smoke (at $(now)s)"
xl create /etc/mcd/templates/linux-demo.cfg 'name="smoke"' || fail "xl create failed"
domid=$(xl domid smoke) || fail "no domid for smoke"
step "domid $domid created (at $(now)s)"

# The test image's /init writes data/testbed once its userspace runs.
i=0
until up=$(xenstore-read "/local/domain/$domid/data/testbed" 2>/dev/null); do
	i=$((i + 1))
	[ "$i" -le 120 ] || {
		cat /var/log/xen/guest-smoke.log 2>/dev/null
		fail "guest did not come up within 120 s"
	}
	sleep 1
done
step "guest up: data/testbed = $up (at $(now)s)"

# The agent announces itself in data/mcd/agent; report it, do not require it.
i=0
agent=""
until agent=$(xenstore-read "/local/domain/$domid/data/mcd/agent" 2>/dev/null); do
	i=$((i + 1))
	[ "$i" -le 30 ] || break
	sleep 1
done
step "agent: ${agent:-none within 30 s}"

xenstore-ls -f "/local/domain/$domid" | grep -E '/(name|domid|data|memory/target|console/tty)' || true
step "xl list"
xl list
step "xl destroy"
xl destroy smoke || fail "xl destroy failed"
xl list
if xl domid smoke >/dev/null 2>&1; then
	fail "smoke still exists after destroy"
fi
step "guest console:"
tail -n 15 /var/log/xen/guest-smoke.log 2>/dev/null || true
step "PASS in $(awk "BEGIN { print $(now) - $t0 }") s"
