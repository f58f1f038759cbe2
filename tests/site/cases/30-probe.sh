# The load query: a pool that never answers is skipped in time, one whose
# certificate another CA signed is refused, and the user is told which.
# shellcheck disable=SC2154 # bg is set by run_bg (tests/site/lib.sh)

start=$SECONDS
run_bg alice "$W/p1.out" probe-1
p1=$bg
wait_ready "$W/p1.out"
took=$((SECONDS - start))
sp=$(ready_sid "$W/p1.out")
check "probe: the launch went to the pool that answered ($(ready_pool "$W/p1.out"))" \
	test "$(ready_pool "$W/p1.out")" = pool-a
check "probe: the silent pool was skipped and the user told" \
	grep -q 'pool-silent did not answer' "$W/p1.out"
check "probe: the pool with another CA's certificate was refused and the user told" \
	grep -Eq 'pool-x.*(certificate|verify)' "$W/p1.out"
echo "# probe launch took ${took}s"
[ -n "$sp" ] && client alice end "$sp" >/dev/null 2>&1
wait "$p1" 2>/dev/null
