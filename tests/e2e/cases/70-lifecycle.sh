# Lifecycle that leaks nothing: 20 launch/end cycles (with disk clones)
# leave exactly the domains, files and XenStore nodes that were there
# before; a service killed in the middle of a launch is restarted and reaps
# what the launch left (domain, clone, records).

# Everything a launch could leave behind, as one comparable text.
footprint() {
	echo "domains: $(xl list | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')"
	echo "clones: $(ls /var/lib/mcd/clones 2>/dev/null | tr '\n' ' ')"
	echo "mcd nodes: $(xenstore-ls -f /mcd 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')"
	echo "local/domain: $(xenstore-list /local/domain | sort | tr '\n' ' ')"
	echo "vm: $(xenstore-list /vm 2>/dev/null | wc -l)"
	echo "libxl: $(xenstore-list /libxl 2>/dev/null | sort | tr '\n' ' ')"
	echo "dom0 backends: $(xenstore-ls -f /local/domain/0/backend 2>/dev/null | wc -l)"
	echo "loop devices: $(losetup -a 2>/dev/null | wc -l)"
}
fp_same() { footprint >"$1"; cmp -s /tmp/fp.before "$1"; }

daemon_alive || $T daemon >/dev/null 2>&1
wait_for 60 domains_at_most 0
footprint >/tmp/fp.before
cycles_ok=0
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	if sid=$(launch linux-disk /usr/bin/mcd-test-app 2>/tmp/launch.err) &&
	   $T end "$sid" >/tmp/out 2>&1; then
		cycles_ok=$((cycles_ok + 1))
	else
		echo "# cycle $i: $(cat /tmp/launch.err /tmp/out 2>/dev/null | tail -n 1)"
	fi
done
check "20 launch/end cycles all succeeded ($cycles_ok)" test $cycles_ok -eq 20
footprint >/tmp/fp.after
if cmp -s /tmp/fp.before /tmp/fp.after; then
	ok "after 20 cycles: the same domains, clones and XenStore nodes as before"
else
	not_ok "after 20 cycles the footprint changed:"
	diff /tmp/fp.before /tmp/fp.after | sed 's/^/#   /'
fi

# The service dies while a launch is under way (domain being built, clone
# made), then comes back.
launch linux-disk /usr/bin/mcd-test-app >/tmp/kl.out 2>/tmp/kl.err &
lpid=$!
building() { [ -n "$(xenstore-list /mcd/sessions 2>/dev/null)" ] && [ -n "$(ls /var/lib/mcd/clones 2>/dev/null)" ]; }
check "a launch is under way with its clone made" wait_for 30 building
ksid=$(xenstore-list /mcd/sessions 2>/dev/null | head -n 1)
kill -9 "$(cat $PIDFILE)"
wait $lpid
check "the interrupted launch fails with one clear line" \
	sh -c "test \$(wc -l </tmp/kl.err) -ge 1 && grep -q 'service closed the connection' /tmp/kl.err"
$T daemon >/dev/null 2>&1
check "restarted service cleans up the interrupted session's domain" wait_for 60 domain_gone "$ksid"
check "... its records" wait_for 30 session_gone "$ksid"
check "... and its disk clone" wait_for 30 sh -c "! ls /var/lib/mcd/clones 2>/dev/null | grep -q '^$ksid-'"
if wait_for 90 fp_same /tmp/fp.after2; then
	ok "after the killed launch: nothing left behind"
else
	not_ok "after the killed launch the footprint changed:"
	diff /tmp/fp.before /tmp/fp.after2 | sed 's/^/#   /'
fi
