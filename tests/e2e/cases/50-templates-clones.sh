# Templates as a product (template list/show/check), the load coefficient,
# and per-launch disk clones: a launch of linux-disk gets its own clone of
# data.img, the guest sees and writes its disk, the write lands in the clone
# only, end removes the clone, and the template's image never changes.
CLONES=/var/lib/mcd/clones
DISK_IMG=/var/lib/mcd/templates/linux-disk/data.img

img_sum() { sha256sum "$DISK_IMG" | cut -d' ' -f1; }
clones_of() { find "$CLONES" -mindepth 1 -maxdepth 1 -name "$1-*" 2>/dev/null | wc -l; }
clone_count() { ls "$CLONES" 2>/dev/null | wc -l; }
# vbd_params DOMID: the image each of the domain's disks is backed by.
vbd_params() { xenstore-ls -f "/local/domain/0/backend/vbd/$1" 2>/dev/null | sed -n 's/.*\/params = "\(.*\)"$/\1/p'; }
# head_has FILE TEXT: the image starts with TEXT.  mark_has FILE TEXT: a
# guest wrote TEXT at 2 MiB into the image (guest-init's mcd.test.disk).
head_has() { dd if="$1" bs=64 count=1 2>/dev/null | tr -d '\000' | grep -q -- "$2"; }
mark_has() { dd if="$1" bs=512 skip=4096 count=1 2>/dev/null | tr -d '\000' | grep -q -- "$2"; }
no_mark() { ! mark_has "$1" MCD-GUEST-WROTE; }
vbd_connected() { xenstore-ls -f "/local/domain/0/backend/vbd/$1" 2>/dev/null | grep -q '/state = "4"'; }

# --- template list / show / check -------------------------------------------
if $T template list >/tmp/tl.out 2>/tmp/tl.err; then
	ok "template list"
else
	not_ok "template list: $(cat /tmp/tl.err)"
fi
sed 's/^/#   /' /tmp/tl.out
check "template list shows linux-demo and linux-disk as ok" \
	sh -c "grep -q '^linux-demo .* ok\$' /tmp/tl.out && grep -q '^linux-disk .* ok\$' /tmp/tl.out"
check "template list flags the broken template" grep -q '^broken .*broken' /tmp/tl.out
check "template list --json" sh -c "$T template list --json | grep -q '{\"name\":\"linux-disk\",\"ok\":true,'"

if $T template show linux-disk >/tmp/ts.out 2>/tmp/ts.err; then
	ok "template show linux-disk"
else
	not_ok "template show linux-disk: $(cat /tmp/ts.err)"
fi
sed 's/^/#   /' /tmp/ts.out
check "show names the template file" grep -q "^file: *$TD/linux-disk.cfg\$" /tmp/ts.out
check "show gives os, memory, pool size and keep-for-user" \
	sh -c "grep -q '^os: *linux' /tmp/ts.out && grep -q '^memory: *256 MiB' /tmp/ts.out &&
	       grep -q '^pool size: *[0-9]' /tmp/ts.out && grep -q '^keep for user: *\(yes\|no\)' /tmp/ts.out"
check "show says the writable xvdb is cloned" \
	grep -q "xvdb *rw *$DISK_IMG *clone: \(sparse copy\|reflink\)" /tmp/ts.out
check "template show --json lists the disk" \
	sh -c "$T template show linux-disk --json | grep -q '\"vdev\":\"xvdb\",\"target\":\"$DISK_IMG\",\"writable\":true'"

check "template check linux-demo: ok, exit 0" sh -c "$T template check linux-demo | grep -qx 'ok: linux-demo'"
check "template check linux-disk: ok, exit 0" sh -c "$T template check linux-disk | grep -qx 'ok: linux-disk'"
$T template check broken >/tmp/tc.out 2>/tmp/tc.err
rc=$?
sed 's/^/#   /' /tmp/tc.out /tmp/tc.err
check "template check broken exits 1" test "$rc" -eq 1
check "each problem is file:line: message" \
	sh -c "test -s /tmp/tc.out && ! grep -v '^$TD/broken.cfg:[0-9][0-9]*: ..*' /tmp/tc.out"
check "every syntax error is reported, not just the first" \
	test "$(grep -c "^$TD/broken.cfg:[0-9]*: " /tmp/tc.out)" -ge 3
check "template check --json lists the problems" \
	sh -c "$T template check broken --json 2>/dev/null | grep -q '\"ok\":false,\"problems\":\[\"$TD/broken.cfg:'"
expect_fail "show of a broken template" "broken.cfg:[0-9]" $T template show broken
expect_fail "check of an unknown template" "1 problem" $T template check nosuch
expect_fail "template without a subcommand" "usage" $T template
# A writable block device that is not an LVM thin volume cannot be cloned:
# check says so, and a launch is refused before any domain exists.
sed "s#target=$DISK_IMG#target=/dev/loop7#" $TD/linux-disk.cfg >$TD/disk-blk.cfg
$T template check disk-blk >/tmp/tc.out 2>&1
sed 's/^/#   /' /tmp/tc.out
check "check: a plain block device cannot be cloned" grep -q "disk xvdb cannot be cloned" /tmp/tc.out
expect_fail "launch with an uncloneable disk is refused" "cannot clone disk xvdb" \
	launch disk-blk /usr/bin/mcd-test-app
check "no clone left by the refused launch" test "$(clone_count)" -eq 0
rm -f $TD/disk-blk.cfg

# --- load coefficient ------------------------------------------------------------
if $T load >/tmp/load.out 2>/tmp/load.err; then ok "load"; else not_ok "load: $(cat /tmp/load.err)"; fi
sed 's/^/#   /' /tmp/load.out
check "load prints the coefficient" grep -q '^coefficient: *[01]\.[0-9]\{3\} ' /tmp/load.out
check "load --json" sh -c "$T load --json | grep -q '\"coefficient\":[01]\.[0-9]*,\"limit\":\"[a-z]*\"'"
# guests_match: load counts the guests xl lists (retried: domains of the
# earlier cases may still be going away).
guests_match() { $T load --json | grep -q "\"guests\":$(xl list | awk 'NR > 2' | wc -l),"; }
check "load counts the guests libxl sees" wait_for 10 guests_match
check "one more linux-demo fits (exit 0)" sh -c "$T load --template linux-demo | grep -q '^template: *linux-demo fits'"
MCD_LOAD_RESERVE_MB=1000000 $T load --template linux-demo >/tmp/load.out 2>&1
rc=$?
sed 's/^/#   /' /tmp/load.out
check "with all memory held back it does not fit (exit 1)" test "$rc" -eq 1
check "and says why" grep -q 'does not fit: not enough free memory: template linux-demo needs 260 MiB' /tmp/load.out
expect_fail "load of an unknown template" "unknown template" $T load --template nosuch

# --- a launch gets its own clone; the template's image never changes -----
# disk_session SID: the checks on a running linux-disk session, a second
# session beside it, then its end.
disk_session() {
	sid=$1
	clone=$CLONES/$sid-xvdb.img
	domid=$(xenstore-read "/mcd/sessions/$sid/domid" 2>/dev/null || echo none)
	ls -l $CLONES 2>/dev/null | sed 's/^/#   /'
	check "the session's clone exists while it runs" test -f "$clone"
	check "exactly one clone for the session" test "$(clones_of "$sid")" -eq 1
	check "clone directory is root-only (0700)" test "$(stat -c %a $CLONES 2>/dev/null)" = 700
	check "clone file is root-only (0600)" test "$(stat -c %a "$clone" 2>/dev/null)" = 600
	check "clone has the template's size" test "$(stat -c %s "$clone" 2>/dev/null)" = "$(stat -c %s $DISK_IMG)"
	echo "# vbd backend of domain $domid: $(vbd_params "$domid")"
	check "the domain's disk is backed by the clone, not the template" test "$(vbd_params "$domid")" = "$clone"
	check "the disk backend is connected" wait_for 20 vbd_connected "$domid"
	check "the guest sees the template's bytes on xvdb" \
		wait_for 30 console_has "$sid" "init: disk xvdb: MCD-TEMPLATE-DISK linux-disk"
	check "the guest wrote its disk" wait_for 30 console_has "$sid" "init: disk xvdb written"
	check "the guest's write landed in the clone" wait_for 10 mark_has "$clone" "MCD-GUEST-WROTE mcd-$sid"
	check "the clone kept the template's bytes" head_has "$clone" 'MCD-TEMPLATE-DISK linux-disk'
	check "the template's image has no guest write" no_mark $DISK_IMG
	check "template checksum unchanged while the session runs" test "$(img_sum)" = "$sum0"
	check "app runs in the disk guest" wait_for 20 console_has "$sid" "MCD-TEST-APP uid=1000 user=alice"

	# Two sessions at once: one clone each.
	if sid2=$(launch linux-disk /usr/bin/mcd-test-app 2>/tmp/launch.err); then
		ok "second linux-disk session $sid2 beside $sid"
		check "each session has its own clone" \
			sh -c "test -f $CLONES/$sid2-xvdb.img && test $CLONES/$sid2-xvdb.img != $clone"
		check "the second guest wrote its own clone" \
			wait_for 30 mark_has "$CLONES/$sid2-xvdb.img" "MCD-GUEST-WROTE mcd-$sid2"
		check "and not the first session's" mark_has "$clone" "MCD-GUEST-WROTE mcd-$sid\$"
		if $T end "$sid2" >/tmp/out 2>&1; then ok "end $sid2"; else not_ok "end $sid2: $(cat /tmp/out)"; fi
		check "its clone is removed, the other one stays" \
			sh -c "test ! -e $CLONES/$sid2-xvdb.img && test -f $clone"
	else
		not_ok "second linux-disk session: $(cat /tmp/launch.err)"
	fi

	# End removes the clone.
	if $T end "$sid" >/tmp/out 2>&1; then ok "end $sid"; else not_ok "end $sid: $(cat /tmp/out)"; fi
	check "domain destroyed after end" domain_gone "$sid"
	check "session nodes removed after end" session_gone "$sid"
	check "the clone is removed at end" wait_for 20 test ! -e "$clone"
	check "no clone of the session is left" test "$(clones_of "$sid")" -eq 0
}

sum0=$(img_sum)
echo "# $DISK_IMG sha256 $sum0"
check "the template image holds its known bytes" head_has $DISK_IMG 'MCD-TEMPLATE-DISK linux-disk'
nclones=$(clone_count)
if sid=$(launch linux-disk /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "launch of linux-disk: session $sid"
	disk_session "$sid"
else
	not_ok "launch of linux-disk: $(cat /tmp/launch.err)"
fi
check "no clone left at all" test "$(clone_count)" -eq "$nclones"
check "template checksum unchanged after the sessions" test "$(img_sum)" = "$sum0"

# --- an app that exits by itself: its clone goes too ---------------------------
if sid=$(launch linux-disk /usr/bin/mcd-test-app --exit 0 2>/tmp/launch.err); then
	ok "short-lived app on linux-disk"
	check "its session ends by itself" wait_for 60 session_gone "$sid"
	check "and its clone is removed" wait_for 30 test ! -e "$CLONES/$sid-xvdb.img"
else
	not_ok "short-lived app on linux-disk: $(cat /tmp/launch.err)"
fi
check "template checksum unchanged at the end" test "$(img_sum)" = "$sum0"
