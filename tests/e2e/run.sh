#!/usr/bin/env bash
# End-to-end tests on the real-Xen testbed: builds (or reuses) the cached
# testbed images, boots Xen 4.17 in QEMU, runs tests/e2e/dom0-tests.sh in
# dom0 and reports "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cache=${MCD_CACHE:-$top/.cache/testbed}
log=$cache/e2e.log
timeout=${MCD_E2E_TIMEOUT:-3600}
# MCD_E2E_CASES="20-core 80-x11" runs only those case files (for work on
# one feature); the default, and the test command, runs them all.
cases=()
if [ -n "${MCD_E2E_CASES:-}" ]; then
	for c in $MCD_E2E_CASES; do
		cases+=(tests/e2e/cases/"$c"*.sh)
	done
else
	cases=(tests/e2e/cases/*.sh)
fi

scripts/testbed/build.sh
mkdir -p "$cache"

# The X11 cases need a thin client on the host (tests/e2e/thin-client.sh):
# its cookie, CA and ports ride into dom0 as payload files.
extra=()
case " ${cases[*]} " in
*/8[0-9]-x11* | */88-agent*)
	tc=$(mktemp -d /tmp/mcd-thin-client.XXXXXX)
	trap 'tests/e2e/thin-client.sh stop "$tc"' EXIT
	tests/e2e/thin-client.sh start "$tc"
	extra=("$tc/x11.env" "$tc/x11-cookie" "$tc/x11-ca.pem")
	;;
esac
# The share case needs a file server on the host (tests/e2e/share-server.sh).
case " ${cases[*]} " in
*/86-shares* | */88-agent*)
	ss=$(mktemp -d /tmp/mcd-share-server.XXXXXX)
	trap '[ -z "${tc:-}" ] || tests/e2e/thin-client.sh stop "$tc"; tests/e2e/share-server.sh stop "$ss"' EXIT
	tests/e2e/share-server.sh start "$ss"
	extra+=("$ss/share.env" "$ss/share-password")
	;;
esac

# The control case needs a client that never reads its replies.
case " ${cases[*]} " in
*/25-control*)
	extra+=("${MCD_BUILD:-build}/tests/mcd-stuck-client")
	;;
esac

set +e
scripts/testbed/run.sh --timeout "$timeout" tests/e2e/dom0-tests.sh tests/e2e/lib.sh "${cases[@]}" "${extra[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

passed=$(grep -c '^ok - ' "$log" || true)
failed=$(grep -c '^not ok - ' "$log" || true)
echo
echo "== end-to-end evidence (from $log)"
grep -E '^\(XEN\) Xen version|^# Xen:|^Domain-0|^mcd-' "$log" | head -n 12 || true
if [ "$failed" -gt 0 ]; then
	echo "== failed checks"
	grep '^not ok - ' "$log"
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "e2e: the testbed run ended with status $rc before the tests finished"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
