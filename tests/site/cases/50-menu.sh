# The small X11 menu on the thin client: a click on an app's row launches it.

XAUTHORITY=$TC/xauth DISPLAY=":$XN" client bob menu >"$W/menu.out" 2>&1 &
menu=$!
wait_for 20 viewable "MCD apps"
check "menu: the window 'MCD apps' is on the thin client" viewable "MCD apps"
row=$(grep -m1 '^row [0-9]* xev-1 ' "$W/menu.out")
if [ -n "$row" ]; then
	read -r _ _ _ rx ry rw rh <<<"$row"
	mwid=$(window_id "MCD apps")
	xdo mousemove --window "$mwid" $((rx + rw / 2)) $((ry + rh / 2)) click 1 >/dev/null 2>&1
	check "menu: a click on xev-1's row launched it (its window is up)" \
		wait_for 240 viewable "Event Tester"
	wid=$(window_id "Event Tester")
	[ -n "$wid" ] && xdo windowkill "$wid" >/dev/null 2>&1
	check "menu: closing the app's window leaves no window behind" wait_for 60 window_gone "Event Tester"
else
	not_ok "menu: no row for xev-1 in its output: $(head -n 3 "$W/menu.out" | tr '\n' ' ')"
fi
mwid=$(window_id "MCD apps")
[ -n "$mwid" ] && xdo key --window "$mwid" Escape >/dev/null 2>&1
sleep 2
kill "$menu" 2>/dev/null
wait "$menu" 2>/dev/null
