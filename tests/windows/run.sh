#!/bin/bash
# make wintest: the Windows service under Wine.  Makes a fresh Wine prefix
# under BUILD/tests/windows/, copies mcd-agent.exe and the test app to
# C:\mcd\, installs the service with its own "install" verb (test stand-in
# transport tcp:PORT on 127.0.0.1, allow_current_user=1 in its
# configuration), starts it with Wine's "net start", and runs the Linux
# test driver against it.  Headless (no X display), bounded in time; the
# Wine server of the prefix is ended on every exit.
#
# usage: tests/windows/run.sh [BUILD_DIR]
set -euo pipefail

O=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $O in /*) ;; *) O=$ROOT/$O ;; esac
DIR=$O/tests/windows
export WINEPREFIX=$DIR/wineprefix
export WINEDEBUG=-all
# No Gecko or Mono installer prompts: nothing here needs them.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
PORT=$((47000 + $$ % 1000))
T0=$(date +%s)

for f in "$O/guest/mcd-agent.exe" "$O/tests/mcd-test-app.exe" \
	"$DIR/test_win_agent"; do
	[ -e "$f" ] || { echo "wintest: missing $f (run make first)" >&2; exit 1; }
done
command -v wine >/dev/null || {
	echo "wintest: wine is not installed (scripts/install-deps.sh)" >&2
	exit 1
}

cleanup() {
	timeout 30 wine net stop mcd-agent >/dev/null 2>&1 || true
	timeout 30 wineserver -k >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$WINEPREFIX"
mkdir -p "$DIR"
echo "wintest: creating the Wine prefix $WINEPREFIX"
if ! timeout 300 wine wineboot --init >"$DIR/wineboot.log" 2>&1; then
	echo "wintest: wineboot failed; see $DIR/wineboot.log" >&2
	exit 1
fi
timeout 60 wineserver -w || true
C=$WINEPREFIX/drive_c
mkdir -p "$C/mcd/out"
cp "$O/guest/mcd-agent.exe" "$O/tests/mcd-test-app.exe" "$C/mcd/"
printf 'allow_current_user=1\n' >"$C/mcd/agent.conf"

timeout 60 wine 'C:\mcd\mcd-agent.exe' \
	--transport "tcp:$PORT" --config 'C:\mcd\agent.conf' \
	--log 'C:\mcd\agent.log' -v install
timeout 60 wine net start mcd-agent
echo "wintest: service installed and started in $(($(date +%s) - T0)) s"

MCD_WIN_PORT=$PORT MCD_WIN_C=$C timeout 900 "$DIR/test_win_agent"
