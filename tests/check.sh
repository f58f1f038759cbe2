#!/bin/bash
# check.sh PART...: `make check`.  Runs each part (`make PART`) in turn,
# keeps its output in $O/check/PART.log as well as on the terminal, and ends
# with one line per part: passed or FAILED, what it counted, its minutes.
# Like make, it stops at the first part that fails; the summary still says
# what ran.  Called by the top Makefile with O and MAKE set.
set -uo pipefail

O=${O:-build}
MAKE=${MAKE:-make}
logs=$O/check
mkdir -p "$logs"

# sum PATTERN LOG: the sum of the numbers that PATTERN's first group
# captures (sed -E) in LOG.
sum() {
	tr -d '\r' <"$2" | sed -nE "s/$1/\\1/p" | awk '{ n += $1 } END { print n + 0 }'
}
count() { tr -d '\r' <"$2" | grep -cE "$1"; }

# what LOG: the counts a reader wants from one part's log.
what() {
	local log=$1 out=() n
	n=$(sum '.*\[  PASSED  \] ([0-9]+) test.*' "$log")
	[ "$n" -eq 0 ] || out+=("$n unit cases passed")
	n=$(sum '.*\[  FAILED  \] ([0-9]+) test.*' "$log")
	[ "$n" -eq 0 ] || out+=("$n unit cases failed")
	n=$(count '^== fuzz_' "$log")
	[ "$n" -eq 0 ] || out+=("$n fuzzers, $(sum '^stat::number_of_executed_units: ([0-9]+)' "$log") inputs")
	n=$(count '^ok ' "$log")
	[ "$n" -eq 0 ] || out+=("$n checks passed")
	n=$(count '^not ok ' "$log")
	[ "$n" -eq 0 ] || out+=("$n checks failed")
	n=$(count '^E: ' "$log")
	[ "$n" -eq 0 ] || out+=("$n lintian errors")
	# Nothing counted: the part's last line says how it ended.
	[ ${#out[@]} -gt 0 ] || out+=("$(tr -d '\r' <"$log" | grep -v '^\s*$' | tail -n 1 | cut -c 1-60)")
	local IFS=,
	echo "${out[*]}" | sed 's/,/, /g'
}

lines=()
rc=0
start_all=$SECONDS
for part in "$@"; do
	log=$logs/$part.log
	echo "=== make $part (log: $log)"
	t0=$SECONDS
	"$MAKE" --no-print-directory O="$O" "$part" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	mins=$(awk -v s=$((SECONDS - t0)) 'BEGIN { printf "%.1f", s / 60 }')
	result=passed
	[ "$status" -eq 0 ] || result=FAILED
	lines+=("$(printf '%-12s %-7s %5s min  %s' "$part" "$result" "$mins" "$(what "$log")")")
	if [ "$status" -ne 0 ]; then
		rc=$status
		break
	fi
done

echo
echo "=== make check: summary"
printf '%s\n' "${lines[@]}"
awk -v s=$((SECONDS - start_all)) 'BEGIN { printf "all parts: %.1f min\n", s / 60 }'
[ "$rc" -eq 0 ] || echo "make check FAILED in part: ${part}"
exit "$rc"
