#!/usr/bin/env bash
# The site end to end: the control plane on two real Xen pools at once.
#
# On the host: a test CA made for this run (scripts/mcd-site-certs), the
# Auth/App server (mcd-broker) with its users, apps and pools, the thin
# client (Xvfb with a cookie, tests/e2e/thin-client.sh) and the levels'
# file server (smbd, tests/e2e/share-server.sh).  Two testbed instances
# (Xen 4.17 in QEMU) boot side by side as pool-a and pool-b, each running
# tests/site/pool.sh in dom0: the dom0 service with its TLS face, which
# QEMU forwards to a port on the host.  The cases (tests/site/cases/*.sh)
# then run mcd-client as a user would.  Every leg is TLS with certificates
# from the test CA.  Prints "N passed, N failed"; exit status 0 only when
# nothing failed.
#
# MCD_SITE_CASES="10-login 20-choice" runs only those case files.
#
# --bench: instead of the cases, tests/site/bench.sh times the control
# plane (login and catalog, the load query, click to first window) and
# writes its figures to $MCD_SITE_BENCH_OUT (default
# $MCD_CACHE/site-bench.txt) as lines "KEY VALUE_MS"; scripts/bench/mcd-bench
# runs it.  BENCH_SITE_RUNS runs per figure (default 5; 1 with
# MCD_SITE_SHORT=1).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bench=0
case "${1:-}" in
--bench) bench=1 ;;
"") ;;
*) echo "usage: ${0##*/} [--bench]" >&2; exit 2 ;;
esac
O=${MCD_BUILD:-build}
BROKER=$top/$O/broker/mcd-broker
CLIENT=$top/$O/client/mcd-client
ATTACK=$top/$O/tests/site/mcd-site-attack
CERTS=$top/scripts/mcd-site-certs
cache=${MCD_CACHE:-$top/.cache/testbed}
timeout=${MCD_SITE_TIMEOUT:-2400}
export MCD_CACHE=$cache
if [ $bench = 1 ]; then
	# Five cold launches each way, and the waits between them, on top of
	# the boot (pool.sh still serves at most 3000 s after it).
	timeout=${MCD_SITE_TIMEOUT:-3600}
	export MCD_SITE_BENCH_OUT=${MCD_SITE_BENCH_OUT:-$cache/site-bench.txt}
	# Emptied now: a run that dies early must not leave the last run's
	# figures to be read as this one's.
	mkdir -p "$(dirname "$MCD_SITE_BENCH_OUT")"
	: >"$MCD_SITE_BENCH_OUT"
fi

for f in "$BROKER" "$CLIENT" "$ATTACK" "$O/bin/mcd-toolstack"; do
	[ -x "$f" ] || { echo "site: $f not built (make bins)" >&2; exit 1; }
done
cases=()
if [ -n "${MCD_SITE_CASES:-}" ]; then
	for c in $MCD_SITE_CASES; do cases+=(tests/site/cases/"$c"*.sh); done
else
	cases=(tests/site/cases/*.sh)
fi

. tests/site/lib.sh
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Free ports for: the server, the two pools' faces, the phase and done
# signals, a pool that never answers and one with a certificate from
# another CA.
ports=()
for p in $(seq 17400 17600); do
	port_free "$p" && ports+=("$p")
	[ ${#ports[@]} -lt 7 ] || break
done
[ ${#ports[@]} -eq 7 ] || { echo "site: no free ports" >&2; exit 1; }
BROKER_PORT=${ports[0]} PA=${ports[1]} PB=${ports[2]} PHASE_PORT=${ports[3]}
SILENT_PORT=${ports[4]} BADCA_PORT=${ports[5]} DONE_PORT=${ports[6]}

W=$(mktemp -d /tmp/mcd-site.XXXXXX)
chmod 0711 "$W"
TC=$W/tc SS=$W/ss
pids=()
cleanup() {
	local p
	# Keep the logs of the last run (pools, server, client outputs).
	rm -rf "$cache/site-logs"
	mkdir -p "$cache/site-logs"
	cp "$W"/*.log "$W"/*.out "$cache/site-logs/" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	tests/e2e/thin-client.sh stop "$TC" 2>/dev/null || true
	tests/e2e/share-server.sh stop "$SS" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/testbed/build.sh >/dev/null

# --- the site's keys and certificates, made for this run ---------------------
"$CERTS" "$W/pki" ca
"$CERTS" "$W/pki" cert broker --ip 127.0.0.1
"$CERTS" "$W/pki" cert pool-a
"$CERTS" "$W/pki" cert pool-b
# Another CA, and a pool certificate it signed: must be refused.
"$CERTS" "$W/other" ca
"$CERTS" "$W/other" cert pool-x

# --- the thin client and the levels' file server ------------------------------
tests/e2e/thin-client.sh start "$TC"
. "$TC/x11.env"
tests/e2e/share-server.sh start "$SS"
. "$SS/share.env"
for d in level1/alice level1/bob level2/alice; do
	mkdir -p "$SS/share/$d"
done
chown -R "$SHARE_USER" "$SS/share"

# --- the Auth/App server ---------------------------------------------------------
DB=$W/broker.db
broker() { "$BROKER" --db "$DB" "$@"; }
broker init
broker keygen --private "$W/ticket.key" --public "$W/ticket.pub"
# alice is cleared for level 2, bob for level 1 only.
printf 'alice-pw-%s\n' "$RANDOM$RANDOM" >"$W/alice.pw"
printf 'bob-pw-%s\n' "$RANDOM$RANDOM" >"$W/bob.pw"
chmod 0600 "$W"/*.pw
broker user add alice --level 2 --password-file "$W/alice.pw"
broker user add bob --level 1 --password-file "$W/bob.pw"
broker pool add pool-a --address "127.0.0.1:$PA" --level 1
broker pool add pool-b --address "127.0.0.1:$PB" --level 1
broker pool add pool-silent --address "127.0.0.1:$SILENT_PORT" --level 1
broker pool add pool-x --address "127.0.0.1:$BADCA_PORT" --level 1
# The level-2 pool until pool-b becomes one (60-storage): nobody serves it.
broker pool add pool-l2 --address "127.0.0.1:$SILENT_PORT" --level 2
# Every session of a pool gets its level's share, so every app runs in a
# template with a network (linux-net).  The same program at two levels:
# two apps.
broker app add xev-1 --name "Event tester (Linux, level 1)" --os linux --level 1 \
	--template linux-net --program /usr/bin/xev --pool pool-a --pool pool-b
broker app add notes-1 --name "Notes (Linux, level 1)" --os linux --level 1 \
	--template linux-net --program /usr/bin/mcd-test-app \
	--arg --x-write-home --arg store/note --arg "level-one-secret" --pool pool-b
broker app add reader-1 --name "Reader (Linux, level 1)" --os linux --level 1 \
	--template linux-net --program /usr/bin/mcd-test-app \
	--arg --x-copy-home --arg store/note --arg store/seen --pool pool-b
broker app add reader-2 --name "Reader (Linux, level 2)" --os linux --level 2 \
	--template linux-net --program /usr/bin/mcd-test-app \
	--arg --x-copy-home --arg store/note --arg store/seen --pool pool-l2
broker app add probe-1 --name "Probe (Linux, level 1)" --os linux --level 1 \
	--template linux-net --program /usr/bin/xev \
	--pool pool-a --pool pool-silent --pool pool-x
"$BROKER" serve --db "$DB" --listen "127.0.0.1:$BROKER_PORT" \
	--cert "$W/pki/broker.pem" --key "$W/pki/broker.key" \
	--ticket-key "$W/ticket.key" --foreground --log "$W/broker.log" \
	>"$W/broker.out" 2>&1 &
broker_pid=$!
pids+=("$broker_pid")
wait_for 20 grep -q 'listening on' "$W/broker.out" ||
	{ echo "site: the Auth/App server did not start: $(tail -n 3 "$W/broker.out")" >&2; exit 1; }

# A pool that accepts and never answers; one whose certificate another CA
# signed.
"$ATTACK" silent-server --port "$SILENT_PORT" >"$W/silent.out" 2>&1 &
pids+=("$!")
openssl s_server -quiet -accept "127.0.0.1:$BADCA_PORT" -cert "$W/other/pool-x.pem" \
	-key "$W/other/pool-x.key" >"$W/badca.out" 2>&1 </dev/null &
pids+=("$!")

# --- the thin client's users -------------------------------------------------------
mkconf() {
	local u=$1 ca=$2 display=$3
	mkdir -p "$W/state-$u"
	chmod 0700 "$W/state-$u"
	cat >"$W/$u.conf" <<CONF
server = 127.0.0.1:$BROKER_PORT
server_name = broker
ca = $ca
display = $display
xauthority = $TC/xauth
load_timeout_ms = 3000
state_dir = $W/state-$u
CONF
}
mkconf alice "$W/pki/ca.pem" "10.0.2.2:$XN"
mkconf bob "$W/pki/ca.pem" "10.0.2.2:$XN"
# The same user with the other CA, and one whose display names another
# machine than the one it connects from.
mkconf alice-otherca "$W/other/ca.pem" "10.0.2.2:$XN"
mkconf alice-elsewhere "$W/pki/ca.pem" "10.0.2.99:$XN"

# --- two pools at once ---------------------------------------------------------------
# Both instances run side by side: hold the testbed lock for both.
exec 8>"$cache/.run.lock"
flock 8
pool() {
	local name=$1 port=$2 extra=$3 d=$W/$1
	mkdir -p "$d"
	cp "$W/pki/$name.pem" "$d/pool.pem"
	cp "$W/pki/$name.key" "$d/pool.key"
	cp "$W/pki/ca.pem" "$d/ca.pem"
	cp "$W/ticket.pub" "$d/ticket.pub"
	cp "$SS/share-password" "$d/share-password"
	cat >"$d/pool.env" <<ENV
POOL_NAME=$name
LEVEL=1
BROKER_PORT=$BROKER_PORT
DONE_PORT=$DONE_PORT
SHARE_USER=$SHARE_USER
SHARE_NAME=$SHARE_NAME
MAX_DOMAINS=1
$extra
ENV
	MCD_TESTBED_LOCKED=1 MCD_QEMU_HOSTFWD="tcp:127.0.0.1:$port-:7443" \
		scripts/testbed/run.sh --no-build --timeout "$timeout" tests/site/pool.sh \
		"$d/pool.env" "$d/pool.pem" "$d/pool.key" "$d/ca.pem" "$d/ticket.pub" \
		"$d/share-password" >"$W/$name.log" 2>&1 &
	pids+=("$!")
	eval "${name//-/_}_pid=$!"
}
pool pool-a "$PA" ""
pool pool-b "$PB" "LEVEL2=2
PHASE_PORT=$PHASE_PORT"
pool_ready() { grep -aq "^MCD-POOL-READY $1 level $2" "$W/$1.log"; }
if ! wait_for 1200 pool_ready pool-a 1 || ! wait_for 300 pool_ready pool-b 1; then
	not_ok "site: the pools did not come up"
	tail -n 30 "$W/pool-a.log" "$W/pool-b.log" | tr -d '\r'
else
	ok "site: pool-a and pool-b (level 1) serve on ports $PA and $PB"
	# A case's commands fail on purpose; its checks say what counts.
	set +e
	if [ $bench = 1 ]; then
		echo "# === bench"
		. tests/site/bench.sh
	else
		for c in "${cases[@]}"; do
			echo "# === ${c##*/}"
			. "$c"
		done
	fi
fi

# --- the end: the pools check themselves and power off ---------------------------
# A TCP listener on DONE_PORT is the sign (any TLS server will do).
openssl s_server -quiet -accept "127.0.0.1:$DONE_PORT" -cert "$W/pki/broker.pem" \
	-key "$W/pki/broker.key" >/dev/null 2>&1 </dev/null &
pids+=("$!")
# shellcheck disable=SC2154 # set by the eval that started each pool
wait "$pool_a_pid" 2>/dev/null || true
# shellcheck disable=SC2154
wait "$pool_b_pid" 2>/dev/null || true
kill "$broker_pid" 2>/dev/null || true
for name in pool-a pool-b; do
	tr -d '\r' <"$W/$name.log" | grep -E '^(ok|not ok) - ' || true
	passed=$((passed + $(tr -d '\r' <"$W/$name.log" | grep -c '^ok - ' || true)))
	failed=$((failed + $(tr -d '\r' <"$W/$name.log" | grep -c '^not ok - ' || true)))
	tr -d '\r' <"$W/$name.log" | grep -q '^pool .*: [0-9]* passed' ||
		not_ok "site: $name ended without its own checks (log: $W/$name.log)"
done
# Checks that need what only dom0 saw (the guests' consoles): the cases
# define after_pools_* functions; guest_line SID PATTERN finds its lines.
guest_line() { cat "$W/pool-a.log" "$W/pool-b.log" 2>/dev/null | tr -d '\r' | grep -q "^# guest $1 $2"; }
for f in $(declare -F | awk '$3 ~ /^after_pools_/ { print $3 }'); do
	"$f"
done
echo "== the Auth/App server's log"
tail -n 40 "$W/broker.log" 2>/dev/null | sed 's/^/#   /'
if [ "$failed" -gt 0 ]; then
	echo "== failed checks"
	grep -h '^not ok - ' "$W"/pool-*.log 2>/dev/null | tr -d '\r'
	echo "(pool, server and client logs kept in $cache/site-logs)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
