#!/usr/bin/env bash
# Response rate limiting and DNS cookies on the DPDK path (issue 7), on the
# veth rig of dpdk_veth.sh: the server end A in the root namespace with
# net_af_xdp and our XDP program, the client end B in a namespace.
#
# The server is build/dataplane/rrl_server (the DPDK dataplane, RRL and
# cookies configured from P53_RRL_* / P53_COOKIE_SECRET: pop53d's
# configuration does not carry them yet), with BIND's defaults: 5
# responses per second, window 15, slip 2, /24. From the namespace,
# tests/integration/rrl_flood.py runs, all at once and bounded in time:
#   - a spoofed flood: raw frames (AF_PACKET) from ~250 addresses of
#     203.0.113.0/24 asking big.example.com TXT (about 800 bytes of answer
#     for an 86-byte query) at 2000/s for 6 s; the answers to the flood's
#     addresses are captured on B: bytes out / bytes in must stay below 1,
#     and at most two seconds of credit (10) may be full answers;
#   - a legitimate resolver on B's link address (another prefix) asking 200
#     distinct names during the flood: every one answered;
#   - a cookie client on 203.0.113.200 (inside the flooded /24) asking the
#     flooded name: it learns a server cookie (a slipped response to a
#     query with a cookie is BADCOOKIE with a fresh cookie, as BIND), then
#     20 queries with it are all answered in full (a valid server cookie
#     exempts from RRL);
#   - the control: the same client without a cookie gets no full answer.
# At exit the server's counters must show the limiting, and its periodic
# report (the control plane's log hook) must name 203.0.113.0/24.
#
# Traps of the rig (see dpdk_veth.sh): real UDP checksums from B (tx
# checksum offload off), XDP detached before and after.
#
# Exit: 0 PASS, 1 FAIL, 77 SKIP (only when the kernel lacks veth or AF_XDP).
set -uo pipefail
# shellcheck source=tests/integration/lib.bash
. "$(dirname "$0")/lib.bash"

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
server=$build/dataplane/rrl_server
zonec=${POP53_ZONEC:-$build/tools/pop53-zonec}
xdp_o=$build/dataplane/xdp_dns.o
py=/usr/bin/python3

id=$$
n=$((RANDOM % 250 + 1))
ns=p53rl$id
va=p53ra$id
vb=p53rb$id
link4a=198.18.$n.1 link4b=198.18.$n.2
svc4=198.19.$n.53
cookie_addr=203.0.113.200
tmp=$(mktemp -d /tmp/p53-rrl-flood.XXXXXX)
pid=
veth_made=0 ns_made=0 svc_added=0

say() { printf '[rrl_flood] %s\n' "$*"; }

cleanup() {
	itest_stop "$pid"
	pid=
	if ((veth_made)); then
		ip link set dev "$va" xdp off 2>/dev/null
		ip link del "$va" 2>/dev/null
		veth_made=0
	fi
	if ((ns_made)); then ip netns del "$ns" 2>/dev/null; ns_made=0; fi
	if ((svc_added)); then ip addr del "$svc4/32" dev lo 2>/dev/null; svc_added=0; fi
	rm -rf "$tmp" "/var/run/dpdk/p53rrl$id"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	say "$*"
	if [[ -s $tmp/server.log ]]; then
		say "server log:"
		grep -v '^EAL' "$tmp/server.log" | tail -n 30 | sed 's/^/    /'
	fi
	echo "FAIL rrl_flood: $*"
	exit 1
}
skip() { echo "SKIP rrl_flood: $*"; exit 77; }

# ---- what the test needs ----------------------------------------------------
[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, veth, XDP)"
[[ -x $server ]] || fail "no $server (the DPDK dataplane is needed: libdpdk-dev, libbpf-dev)"
[[ -x $zonec ]] || fail "no $zonec (build first)"
[[ -f $xdp_o ]] || fail "no XDP program $xdp_o (clang and libbpf headers needed)"
for t in ip ethtool; do
	command -v "$t" >/dev/null || fail "'$t' not found (scripts/setup.sh installs it)"
done
[[ -x $py ]] || fail "no $py"

if ! ip link add "$va" type veth peer name "$vb" 2>"$tmp/err"; then
	grep -qiE "not supported|unknown|no such" "$tmp/err" &&
		skip "the kernel has no veth support: $(cat "$tmp/err")"
	fail "cannot create a veth pair: $(cat "$tmp/err")"
fi
veth_made=1
if ! "$py" -c 'import socket, errno, sys
try:
    socket.socket(44, socket.SOCK_RAW).close()
except OSError as e:
    sys.exit(3 if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT) else 0)' 2>/dev/null; then
	skip "the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"
fi

# ---- the zone: a large TXT answer to reflect, and 200 names to resolve ------
{
	echo '$ORIGIN example.com.'
	echo '$TTL 300'
	echo '@	IN SOA ns1 hostmaster 1 7200 900 1209600 300'
	echo '@	NS ns1'
	echo 'ns1	A 192.0.2.1'
	for c in a b c; do
		printf 'big\tTXT "%s"\n' "$(printf "$c%.0s" $(seq 250))"
	done
	for i in $(seq 200); do printf 'h%d\tA 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
} >"$tmp/example.com.zone"
"$zonec" compile -q -o "$tmp/zone.snap" "$tmp/example.com.zone" >"$tmp/zonec.log" 2>&1 ||
	fail "pop53-zonec compile: $(tail -n 3 "$tmp/zonec.log")"

# ---- the rig -------------------------------------------------------------------
ip netns add "$ns" || fail "cannot create network namespace $ns"
ns_made=1
ip link set "$vb" netns "$ns" || fail "cannot move $vb into $ns"
ip addr add "$link4a/24" dev "$va" &&
	ip link set "$va" up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$link4b/24" dev "$vb" &&
	ip -n "$ns" addr add "$cookie_addr/32" dev "$vb" &&
	ip -n "$ns" link set "$vb" up || fail "cannot address the veth pair"
ip addr add "$svc4/32" dev lo || fail "cannot add the service address to lo"
svc_added=1
ip -n "$ns" route add "$svc4/32" via "$link4a" || fail "cannot route to the service address"
ip netns exec "$ns" ethtool -K "$vb" tx off >/dev/null 2>&1 ||
	fail "cannot turn off tx checksum offload on $vb"
mac_a=$(cat "/sys/class/net/$va/address")
mac_b=$(ip netns exec "$ns" cat "/sys/class/net/$vb/address")
say "veth $va ($mac_a) <-> $ns:$vb ($mac_b), service $svc4"

# ---- the server -------------------------------------------------------------------
ip link set dev "$va" xdp off 2>/dev/null
P53_RRL=1 P53_COOKIE_SECRET=000102030405060708090a0b0c0d0e0f \
	"$server" --eal "-l 0,1 --no-huge -m 256 --no-pci --file-prefix p53rrl$id --vdev net_af_xdp0,iface=$va,xdp_prog=$xdp_o --log-level *:notice" \
	--listen "$svc4@53" --snapshot "$tmp/zone.snap" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
	grep -q "rrl_server: ready" "$tmp/server.log" && break
	kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=; fail "rrl_server exited before ready"; }
	sleep 0.1
done
grep -q "rrl_server: ready" "$tmp/server.log" || fail "rrl_server not ready after 20 s"
grep "pop53d: rrl:" "$tmp/server.log" | sed 's/^/    /'

# ---- the flood, the resolver, the cookie client ------------------------------------
timeout -k 5 90 ip netns exec "$ns" "$py" "$here/rrl_flood.py" --iface "$vb" \
	--src-mac "$mac_b" --dst-mac "$mac_a" --service "$svc4" --legit-addr "$link4b" \
	--cookie-addr "$cookie_addr" --rate 2000 --seconds 6 >"$tmp/result.json" 2>"$tmp/client.err" ||
	fail "rrl_flood.py failed: $(tail -n 5 "$tmp/client.err")"
say "clients: $(cat "$tmp/result.json")"

# RRL suspended at run time (dp_rrl_suspend): the same flood is answered in full.
kill -USR1 "$pid"
for _ in $(seq 50); do grep -q "rrl_server: rrl suspended" "$tmp/server.log" && break; sleep 0.1; done
grep -q "rrl_server: rrl suspended" "$tmp/server.log" || fail "rrl_server did not say it suspended RRL"
timeout -k 5 90 ip netns exec "$ns" "$py" "$here/rrl_flood.py" --iface "$vb" \
	--src-mac "$mac_b" --dst-mac "$mac_a" --service "$svc4" --legit-addr "$link4b" \
	--cookie-addr "$cookie_addr" --rate 2000 --seconds 2 >"$tmp/suspended.json" 2>"$tmp/client2.err" ||
	fail "rrl_flood.py (RRL suspended) failed: $(tail -n 5 "$tmp/client2.err")"
"$py" -c 'import json,sys; r = json.load(open(sys.argv[1])); sys.exit(0 if r["flood_sent"] >= 3000 and r["flood_full"] >= 0.95 * r["flood_sent"] else 1)' \
	"$tmp/suspended.json" || fail "RRL suspended, yet the flood was not answered in full: $(cat "$tmp/suspended.json")"
say "ok: RRL suspended: the flood answered in full ($("$py" -c 'import json,sys; r = json.load(open(sys.argv[1])); print(r["flood_full"], "of", r["flood_sent"])' "$tmp/suspended.json"))"
kill -USR2 "$pid"

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "rrl_server still running 10 s after SIGTERM"
wait "$pid"
rc=$?
pid=
((rc == 0)) || fail "rrl_server exited $rc"
counters=$(grep "rrl_server: rx" "$tmp/server.log") || fail "no counters at exit"
say "$counters"

# ---- the verdicts -------------------------------------------------------------------
get() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/result.json" "$1"; }
check() {  # check WHAT PYTHON-EXPRESSION
	if "$py" -c "import json,sys; r = json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$tmp/result.json"; then
		say "ok: $1"
	else
		fail "$1 (clients: $(cat "$tmp/result.json"))"
	fi
}
check "the flood was sent (>= 10000 queries)" 'r["flood_sent"] >= 10000'
check "amplification for the flood prefix below 1 ($(get amplification))" 'r["amplification"] < 1.0'
check "at most 10 full answers to the flood ($(get flood_full))" 'r["flood_full"] <= 10'
check "slipped answers went out (TC=1: $(get flood_tc))" 'r["flood_tc"] > 0'
check "the resolver got all its answers ($(get legit_answered)/$(get legit_asked))" \
	'r["legit_answered"] == r["legit_asked"]'
check "the cookie client learned a server cookie" 'r["cookie_learned"]'
check "the cookie client was never limited ($(get cookie_answered)/$(get cookie_asked))" \
	'r["cookie_answered"] == r["cookie_asked"]'
check "without its cookie it is limited ($(get control_full_answers) full answers)" \
	'r["control_full_answers"] == 0'
limited=$(sed -n 's/.* rrl limited \([0-9]*\) .*/\1/p' <<<"$counters")
cookie_ex=$(sed -n 's/.* cookie_exempt \([0-9]*\) .*/\1/p' <<<"$counters")
((${limited:-0} >= 10000)) || fail "the server counted only ${limited:-0} limited responses"
((${cookie_ex:-0} >= 20)) || fail "the server counted only ${cookie_ex:-0} cookie-exempt responses"
say "ok: the server counted $limited limited, $cookie_ex exempt by cookie"
grep -q "rrl_server: limited 203.0.113.0/24" "$tmp/server.log" ||
	fail "the periodic report never named 203.0.113.0/24"
say "ok: reported: $(grep -m1 'rrl_server: limited 203.0.113.0/24' "$tmp/server.log")"
echo "PASS rrl_flood"
exit 0
