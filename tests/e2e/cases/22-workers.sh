# Each session's guest-facing side runs in a worker process of its own
# (dom0/mcd-toolstack/worker.h), checked the way an auditor would, from
# /proc: its own uid and gid (0x4d430000 + domid), no groups, no
# capabilities, no-new-privileges, a seccomp filter, not dumpable.  A
# worker that dies takes nothing else with it: its session reconnects
# through a new worker, the other session's worker is untouched.

# worker_of DOMID: the pid of the worker serving that domain.
worker_of() {
	for p in /proc/[0-9]*; do
		case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
		"mcd-toolstack worker --domid $1 "*) echo "${p#/proc/}"; return 0 ;;
		esac
	done
	return 1
}
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
new_worker() { w=$(worker_of "$1") && [ "$w" != "$2" ]; }

if wa_sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/w.err) &&
	wb_sid=$(launch linux-demo /usr/bin/mcd-test-app 2>>/tmp/w.err); then
	da=$(xenstore-read "/mcd/sessions/$wa_sid/domid")
	db=$(xenstore-read "/mcd/sessions/$wb_sid/domid")
	wa=$(worker_of "$da")
	wb=$(worker_of "$db")
	echo "# workers: domain $da -> pid $wa, domain $db -> pid $wb"
	check "workers: each session has a worker process of its own" \
		test -n "$wa" -a -n "$wb" -a "$wa" != "$wb"
	ida=$((0x4d430000 + da))
	echo "#   $(grep -E '^(Uid|Gid|Groups|CapEff|NoNewPrivs|Seccomp):' /proc/$wa/status | tr '\t\n' '  ')"
	check "workers: runs as uid $ida (0x4d430000 + domid; real, effective, saved, fs)" \
		test "$(field "$wa" Uid | tr -s '\t ' ' ')" = "$ida $ida $ida $ida"
	check "workers: ... and gid $ida, with no supplementary groups" \
		test "$(field "$wa" Gid | tr -s '\t ' ' ')" = "$ida $ida $ida $ida" -a -z "$(field "$wa" Groups)"
	check "workers: no capabilities (effective and permitted sets empty)" \
		test "$(field "$wa" CapEff) $(field "$wa" CapPrm)" = "0000000000000000 0000000000000000"
	check "workers: no-new-privileges is on" test "$(field "$wa" NoNewPrivs)" = 1
	check "workers: a seccomp filter is on (mode 2)" test "$(field "$wa" Seccomp)" = 2
	check "workers: no core file possible (RLIMIT_CORE 0)" \
		sh -c "grep -q '^Max core file size  *0  *0 ' /proc/$wa/limits"
	# A process that is not dumpable has its /proc files owned by root,
	# not by its own uid: no core file, no ptrace by a same-uid process.
	check "workers: not dumpable (/proc/PID/status owned by root, not uid $ida)" \
		test "$(stat -c %u /proc/$wa/status)" = 0
	check "workers: the two sessions' workers run as different users" \
		test "$(field "$wa" Uid)" != "$(field "$wb" Uid)"

	# A worker that dies affects its own session only.
	kill -9 "$wa"
	wait_for 60 new_worker "$da" "$wa"
	check "workers: a killed worker is replaced by a new one" new_worker "$da" "$wa"
	wait_for 30 grep -q "session $wa_sid.*reconnected" $LOG
	check "workers: ... its session reconnects to the agent and still runs" \
		sh -c "grep -q 'session $wa_sid.*reconnected' $LOG && [ \"\$(xenstore-read /mcd/sessions/$wa_sid/state)\" = running ]"
	check "workers: ... the other session's worker was not touched" \
		test "$(worker_of "$db")" = "$wb"
	check "workers: the service log names the dead worker's signal" \
		grep -q "session $wa_sid: its worker (pid $wa) died of signal 9\|session $wa_sid: agent channel closed" $LOG
	$T end "$wa_sid" >/dev/null 2>&1
	$T end "$wb_sid" >/dev/null 2>&1
	no_workers() { ! worker_of "$da" >/dev/null && ! worker_of "$db" >/dev/null; }
	wait_for 30 no_workers
	check "workers: ending the sessions ends their workers" no_workers
else
	not_ok "workers: launch failed: $(tail -n 1 /tmp/w.err)"
fi
