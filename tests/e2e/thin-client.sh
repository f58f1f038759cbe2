#!/usr/bin/env bash
# The thin client for the X11 end-to-end cases, on the host (dom0 in QEMU
# reaches the host at 10.0.2.2):
#   - Xvfb :N listening on TCP 6000+N, with a cookie (MIT-MAGIC-COOKIE-1);
#   - stunnel in front of it with a certificate for 10.0.2.2 signed by a
#     test CA made here with openssl (the CA dom0 is given), and a second
#     stunnel whose certificate comes from another CA (dom0 must refuse it).
#
# usage: thin-client.sh start DIR   writes DIR/x11.env (XN, XTLS_OK,
#                                   XTLS_BAD, XDEAD: a display nobody
#                                   serves), DIR/x11-cookie (32 hex) and
#                                   DIR/x11-ca.pem, for dom0's /payload
#        thin-client.sh stop DIR    kills what start started
# Keys and certificates are made for each run and never kept.
set -euo pipefail

die() { echo "thin-client: $*" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A certificate for the thin client's address, signed by CA $2.
make_cert() {
	local dir=$1 ca=$2 name=$3
	printf 'subjectAltName=IP:10.0.2.2\n' >"$dir/$name.ext"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=10.0.2.2" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" \
		-CAkey "$dir/$ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$3" \
		-keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}

# stunnel as a TLS server on 127.0.0.1:$3 in front of Xvfb's port $4.
start_stunnel() {
	local dir=$1 name=$2 accept=$3 xport=$4
	cat >"$dir/$name.conf" <<EOF
pid = $dir/$name.pid
foreground = no
output = $dir/$name.log
[x11]
accept = 127.0.0.1:$accept
connect = 127.0.0.1:$xport
cert = $dir/$name.pem
key = $dir/$name.key
EOF
	stunnel4 "$dir/$name.conf" || die "stunnel $name did not start"
}

start() {
	local dir=$1 n='' cookie p ok='' bad='' dead=''
	mkdir -p "$dir"
	for c in Xvfb xauth mcookie openssl stunnel4; do
		command -v "$c" >/dev/null || die "$c not found (scripts/install-deps.sh)"
	done
	for i in $(seq 42 99); do
		if [ ! -e "/tmp/.X$i-lock" ] && port_free $((6000 + i)); then
			n=$i
			break
		fi
	done
	[ -n "$n" ] || die "no free X display number"
	for p in $(seq 16443 16600); do
		port_free "$p" || continue
		if [ -z "$ok" ]; then ok=$p; else bad=$p; break; fi
	done
	[ -n "$bad" ] || die "no free ports for stunnel"
	# A display nobody serves, for the "unreachable" case.
	for i in $(seq 5900 5999); do
		if port_free $((6000 + i)); then dead=$i; break; fi
	done
	[ -n "$dead" ] || die "no unused display number"

	cookie=$(mcookie)
	printf '%s\n' "$cookie" >"$dir/x11-cookie"
	xauth -q -f "$dir/xauth" add ":$n" . "$cookie" 2>/dev/null
	Xvfb ":$n" -listen tcp -auth "$dir/xauth" -screen 0 1024x768x24 \
		>"$dir/xvfb.log" 2>&1 &
	echo $! >"$dir/xvfb.pid"
	for _ in $(seq 50); do
		port_free $((6000 + n)) || break
		sleep 0.1
	done
	port_free $((6000 + n)) && die "Xvfb :$n did not start ($(tail -n 3 "$dir/xvfb.log"))"

	make_ca "$dir" x11-ca "MCD test thin-client CA"
	make_ca "$dir" other-ca "Some other CA"
	make_cert "$dir" x11-ca stunnel-ok
	make_cert "$dir" other-ca stunnel-bad
	start_stunnel "$dir" stunnel-ok "$ok" $((6000 + n))
	start_stunnel "$dir" stunnel-bad "$bad" $((6000 + n))
	printf 'XN=%s\nXTLS_OK=%s\nXTLS_BAD=%s\nXDEAD=%s\n' "$n" "$ok" "$bad" \
		"$dead" >"$dir/x11.env"
	echo "thin client: Xvfb :$n, TLS on $ok (right CA) and $bad (other CA)" >&2
}

stop() {
	local dir=$1 f
	for f in "$dir"/stunnel-ok.pid "$dir"/stunnel-bad.pid "$dir"/xvfb.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start|stop DIR" ;;
esac
