#!/bin/sh
# End-to-end tests, run inside dom0 of the real-Xen testbed (Xen 4.17 in
# QEMU) by tests/e2e/run.sh.  Sources lib.sh, then every case file
# (NN-name.sh, in order); the host side counts the "ok - " and
# "not ok - " lines.
#
# Templates used (installed by scripts/testbed/build.sh):
#   linux-demo  the agent, mcd-test-app, users may be created
#   linux-disk  linux-demo plus a writable disk xvdb (data.img), cloned
#               for each launch; its guest writes a marker into the disk
#   silent      a guest whose agent never starts
#   hostile     a guest running mcd-hostile-agent (mode on the kernel line)
#   broken      a template with a syntax error
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

echo "# Xen: $(xl info | awk '/^xen_version/ { print $3 }'), dom0 kernel $(uname -r)"
xl list
for case in "$here"/[0-9][0-9]-*.sh; do
	echo "# === ${case##*/}"
	. "$case"
done

# --- nothing left ------------------------------------------------------------
xl list
# A case's last failed launch may still be tearing its domain down.
no_domains() { [ "$(mcd_domain_count)" -eq 0 ]; }
no_sessions() { [ "$(sessions_count)" -eq 0 ]; }
check "no MCD domain left" wait_for 60 no_domains
check "no session nodes left" wait_for 30 no_sessions
# A worker its seccomp filter killed (SIGSYS) or that crashed is logged.
check "no session worker died of a signal in the whole run" \
	sh -c "! grep -q 'its worker (pid [0-9]*) died of signal' $LOG"
grep 'its worker (pid' $LOG | sed 's/^/#   /'
echo "# service log:"
sed 's/^/#   /' $LOG | tail -n 80
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
