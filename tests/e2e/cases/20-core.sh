# Core launch path: CLI errors, launch/show/end, app exit, guest death,
# users, bad input, hostile guests, XenStore isolation, service restart.

# --- bad CLI input: refused before anything is created ------------------
expect_fail "no arguments" "usage" $T
expect_fail "unknown command" "unknown or ambiguous command" $T frobnicate
expect_fail "launch without a program" "no program given" \
	$T launch --x none --template linux-demo --user alice --display $DISPLAY_ADDR
expect_fail "end with a malformed id" "invalid session id" $T end xyz
expect_fail "show of an unknown session" "no session" $T show 0123456789abcdef

# --- the happy path ----------------------------------------------------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app --arg 'two words' 2>/tmp/launch.err); then
	ok "launch returned session $sid"
else
	not_ok "launch failed: $(cat /tmp/launch.err)"
	sid=none
fi
check "session id is 16 hex digits" sh -c "echo '$sid' | grep -qx '[0-9a-f]\{16\}'"
domid=$(xenstore-read /mcd/sessions/$sid/domid 2>/dev/null || echo none)
echo "# session $sid runs in domain $domid"
xl list
check "xl lists the session's domain mcd-$sid" xl domid "mcd-$sid"
check "xl domid matches the recorded domid" \
	test "$(xl domid "mcd-$sid" 2>/dev/null)" = "$domid"
check "state is running" state_is "$sid" running
check "app runs as alice (uid 1000) with DISPLAY from the request" \
	wait_for 20 console_has "$sid" "MCD-TEST-APP uid=1000 user=alice display=$DISPLAY_ADDR args=--arg two words"
check "app is not root" sh -c "! grep -q 'MCD-TEST-APP uid=0' /var/log/xen/guest-mcd-$sid.log"
check "recorded pid is positive" test "$(xenstore-read /mcd/sessions/$sid/pid 2>/dev/null || echo 0)" -gt 0
$T sessions
check "sessions lists it" sh -c "$T sessions | grep -q '^$sid'"
check "sessions --json lists it" sh -c "$T sessions --json | grep -q '\"session\":\"$sid\"'"
$T show "$sid"
check "show names user and template" sh -c "$T show $sid | grep -q 'user: *alice' && $T show $sid | grep -q 'template: *linux-demo'"
check "show --json has the domid" sh -c "$T show $sid --json | grep -q '\"domid\":$domid'"
echo "# xenstore-ls -p /mcd"
xenstore-ls -p /mcd
xenstore-ls -fp / >/tmp/tree
check "live tree passes mcd-schema-check" mcd-schema-check --domains /tmp/tree
check "no secret-looking node in XenStore" sh -c "! grep -qiE 'password|cookie|secret' /tmp/tree"
check "/mcd is dom0-only (n0)" sh -c "grep -E '^/mcd ' /tmp/tree | grep -q '(n0)'"
if $T end "$sid" >/tmp/out 2>&1; then ok "end $sid"; else not_ok "end: $(cat /tmp/out)"; fi
check "domain destroyed after end" domain_gone "$sid"
check "session nodes removed after end" session_gone "$sid"
check "no MCD domain left" test "$(mcd_domain_count)" -eq 0
check "end of an ended session fails" sh -c "! $T end $sid 2>/dev/null"

# --- the app exits by itself ----------------------------------------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app --exit 3 2>/tmp/launch.err); then
	ok "launch of a short-lived app"
	check "session ends by itself when the app exits" wait_for 60 session_gone "$sid"
	check "its domain is destroyed without anyone asking" wait_for 30 domain_gone "$sid"
	check "exit code 3 was reported" grep -q "session $sid: app exited (code 3)" $LOG
else
	not_ok "launch of a short-lived app: $(cat /tmp/launch.err)"
fi

# --- the guest dies under the session ------------------------------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	xl destroy "mcd-$sid"
	check "session of a destroyed domain ends" wait_for 30 session_gone "$sid"
	check "the service logged the domain's death" grep -q "session $sid.*domain died" $LOG
else
	not_ok "launch before xl destroy: $(cat /tmp/launch.err)"
fi
if sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	# The guest powers itself off: Xen keeps a shut-down domain around
	# until a toolstack destroys it, and that toolstack is MCD.
	xl shutdown "mcd-$sid" >/dev/null 2>&1
	check "session of a guest that powered off ends" wait_for 60 session_gone "$sid"
	check "the powered-off domain is destroyed" wait_for 30 domain_gone "$sid"
else
	not_ok "launch before shutdown: $(cat /tmp/launch.err)"
fi

# --- users ---------------------------------------------------------------------
if sid=$($T launch --x none --template linux-demo --user bob --display :0 -- /usr/bin/mcd-test-app --exit 0 2>/tmp/launch.err); then
	ok "a new user is created where the template allows it"
	check "app ran as the new user bob" wait_for 30 console_has "$sid" "MCD-TEST-APP uid=[0-9]* user=bob display=:0"
	wait_for 60 session_gone "$sid"
else
	not_ok "new user: $(cat /tmp/launch.err)"
fi

# --- bad input ------------------------------------------------------------------
expect_fail "unknown template" "unknown template" launch nosuch /usr/bin/mcd-test-app
expect_fail "malformed template names its file and line" "broken.cfg:[0-9]" launch broken /usr/bin/mcd-test-app
expect_fail "template name with a path" "template" launch ../etc/passwd /usr/bin/mcd-test-app
expect_fail "invalid user name" "invalid user name" \
	$T launch --x none --template linux-demo --user 'Bad User' --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
expect_fail "root is refused" "invalid user name" \
	$T launch --x none --template linux-demo --user root --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
expect_fail "bad display" "invalid display" \
	$T launch --x none --template linux-demo --user alice --display 'not a display' -- /usr/bin/mcd-test-app
expect_fail "relative program path" "invalid program" launch linux-demo usr/bin/mcd-test-app
expect_fail "unknown X mode" "relay, direct or none" \
	$T launch --x vnc --template linux-demo --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
expect_fail "X cookie file that does not exist" "/nonexistent/cookie" \
	$T launch --xauth /nonexistent/cookie --template linux-demo --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
expect_fail "share with an option smuggled into its source" "share" \
	$T launch --x none --share nfs,10.0.2.2:/x,exec,home --template linux-demo --user alice --display $DISPLAY_ADDR -- /usr/bin/mcd-test-app
expect_fail "program that does not exist in the guest" "no such program" launch linux-demo /usr/bin/nope
sed 's/^mcd_agent_timeout.*/mcd_agent_timeout = 15/' $TD/silent.cfg >$TD/silent15.cfg
expect_fail "guest whose agent never answers times out" "did not answer within 15 s" launch silent15 /usr/bin/mcd-test-app
check "service still up after the failures" daemon_alive

# --- hostile guests next to a healthy session ----------------------------
if good=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "healthy session $good beside the hostile guests"
else
	not_ok "healthy session: $(cat /tmp/launch.err)"
	good=none
fi
for mode in garbage oversized truncated wrongdir badxs; do
	sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:$mode/" \
	    -e 's/^mcd_agent_timeout.*/mcd_agent_timeout = 180/' \
	    $TD/hostile.cfg >$TD/hostile-$mode.cfg
	(launch hostile-$mode /usr/bin/mcd-test-app >/tmp/h-$mode.out 2>/tmp/h-$mode.err
	 echo $? >/tmp/h-$mode.rc) &
done
wait
for mode in garbage oversized truncated wrongdir badxs; do
	hsid=$(sid_from /tmp/h-$mode.err)
	check "hostile guest ($mode) fails its launch" test "$(cat /tmp/h-$mode.rc)" -ne 0
	echo "#   $mode: $(tail -n 1 /tmp/h-$mode.err)"
	case $mode in
	badxs) ;; # junk vchan nodes: the agent is never reachable
	*) check "the service logged the protocol error ($mode)" \
		grep -q "session $hsid.*guest protocol error\|session $hsid.*agent closed the channel" $LOG ;;
	esac
	grep "session $hsid" $LOG | tail -n 4 | sed 's/^/#     /'
	check "hostile guest's domain destroyed ($mode)" wait_for 30 domain_gone "$hsid"
	check "hostile guest's session removed ($mode)" wait_for 10 session_gone "$hsid"
done
# A guest whose kernel crashes during the launch (sysrq c).
sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:crash/" \
    -e 's/^mcd_agent_timeout.*/mcd_agent_timeout = 180/' \
    $TD/hostile.cfg >$TD/crash.cfg
expect_fail "a guest that crashes mid-launch fails the launch" "domain died\|agent closed the channel" \
	launch crash /usr/bin/mcd-test-app
csid=$(sid_from /tmp/err)
check "the crashed guest's kernel really crashed" \
	grep -q "MCD-HOSTILE crashing the guest kernel" /var/log/xen/guest-mcd-$csid.log
check "the crashed domain is destroyed" wait_for 30 domain_gone "$csid"
check "service survived the hostile guests" daemon_alive
check "healthy session still running" state_is "$good" running
check "healthy session's app still alive" xl domid "mcd-$good"

# --- a guest cannot read dom0's or another session's nodes ---------------
sed -e "s/mcd.test=hostile:[a-z]*/mcd.test=hostile:probe/" \
    -e 's/^mcd_agent_timeout.*/mcd_agent_timeout = 180/' \
    $TD/hostile.cfg >$TD/probe.cfg
launch probe /usr/bin/mcd-test-app >/dev/null 2>/tmp/probe.err
psid=$(sid_from /tmp/probe.err)
gdom=$(xenstore-read /mcd/sessions/$good/domid 2>/dev/null || echo none)
P=/var/log/xen/guest-mcd-$psid.log
sed -n 's/.*\(MCD-PROBE .*\)/#   \1/p' $P
check "guest probe ran" grep -q "MCD-PROBE" $P
check "probe can read its own nodes (so 'denied' means denied)" grep -q "MCD-HOSTILE own domid [0-9]" $P
check "guest cannot read /mcd" grep -q "MCD-PROBE /mcd denied" $P
check "guest cannot read /mcd/sessions" grep -q "MCD-PROBE /mcd/sessions denied" $P
check "guest cannot read dom0's nodes" grep -q "MCD-PROBE /local/domain/0 denied" $P
check "guest cannot read the other session's nodes" \
	grep -q "MCD-PROBE /local/domain/$gdom/data/mcd denied" $P
check "guest read nothing outside its own area" sh -c "! grep -q 'MCD-PROBE .* readable' $P"
check "probe guest destroyed" wait_for 30 domain_gone "$psid"

# --- the service is killed and restarted mid-session -------------------
if sid=$(launch linux-demo /usr/bin/mcd-test-app 2>/tmp/launch.err); then
	ok "launch before the restart"
else
	not_ok "launch before the restart: $(cat /tmp/launch.err)"
fi
kill -9 "$(cat $PIDFILE)"
sleep 1
check "service is gone after SIGKILL" sh -c "! kill -0 $(cat $PIDFILE) 2>/dev/null"
check "session still listed while the service is down" sh -c "$T sessions | grep -q '^$sid'"
check "its domain still runs" xl domid "mcd-$sid"
if $T end "$sid" >/tmp/out 2>&1; then ok "end after restart"; else not_ok "end after restart: $(cat /tmp/out)"; fi
check "restarted service recovered the session" grep -q "session $sid: recovered" $LOG
check "restarted service reconnected to the agent" grep -q "session $sid: reconnected" $LOG
check "domain destroyed after the restart" domain_gone "$sid"
check "session nodes removed after the restart" session_gone "$sid"
check "the healthy session survived the restart too" state_is "$good" running
$T end "$good" >/dev/null 2>&1
check "healthy session ended" wait_for 20 domain_gone "$good"

