#!/usr/bin/env bash
# pop53d --io dpdk --exception tap: the exception path of a port the kernel
# does not see (as a NIC bound to vfio-pci), proven on a veth pair.
#
#   namespace "pop" (p53xp<PID>)             namespace "cli" (p53xc<PID>)
#     veth A: up, NO addresses, IPv6 off,      veth B: link 198.18.N.2/24,
#       nftables netdev ingress: drop all       fd00:53:N::2/64, routes to the
#       (counted) -> the kernel stack of        service addresses via the
#       "pop" never sees a frame from A         link addresses
#     pop53d: net_af_packet on A (a packet
#       socket sees frames before the
#       ingress hook drops them), creates
#       TAP p53x<PID> with A's MAC, the
#       service addresses and the link
#       addresses 198.18.N.1/24, fd00:53:N::1/64
#
# The only way into the kernel of "pop" is pop53d's exception path: frames
# that are not DNS for the lcore go to the TAP, what the kernel sends on the
# TAP goes out of A. From "cli", with the neighbour caches flushed:
#   - ping the link and service addresses over IPv4 (ARP + ICMP) and IPv6
#     (ND + ICMPv6): answered by the kernel of "pop" through the TAP; the
#     neighbour entry in "cli" carries A's MAC (= the TAP's);
#   - kdig +tcp: answered by pop53d's kernel TCP listener through the TAP;
#   - kdig over UDP: answered by the lcore (pop53d runs no kernel UDP);
# and the counters prove the path: the ingress rule on A dropped frames
# (the kernel saw them only there), pop53d counted frames to and from the
# kernel and TCP queries, the TAP interface counted traffic. SIGTERM:
# pop53d exits 0 and the TAP interface is gone.
#
# Trap (as in dpdk_veth.sh): B sends real checksums (ethtool -K B tx off);
# a veth sender leaves them to an offload nobody does, and the kernel of
# "pop" would drop such TCP segments arriving on the TAP.
#
# Exit: 0 PASS, 1 FAIL, 77 SKIP (only when the kernel lacks veth, tun or
# AF_PACKET). Everything is removed on every exit path.
set -uo pipefail
# shellcheck source=tests/integration/lib.bash
. "$(dirname "$0")/lib.bash"

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
pop53d=$build/controlplane/pop53d

id=$$
n=$((RANDOM % 250 + 1))
nspop=p53xp$id
nscli=p53xc$id
va=p53xa$id
vb=p53xb$id
tap=p53x$id
link4a=198.18.$n.1 link4b=198.18.$n.2
link6a=fd00:53:$n::1 link6b=fd00:53:$n::2
svc4=198.19.$n.53 svc6=fd00:5353:$n::53
tmp=$(mktemp -d /tmp/p53-dpdk-exc.XXXXXX)
pid=
pop_made=0 cli_made=0 veth_made=0

say() { printf '[dpdk_exception] %s\n' "$*"; }

cleanup() {
	itest_stop "$pid"
	pid=
	if ((veth_made)); then
		ip link del "$va" 2>/dev/null || ip -n "$nspop" link del "$va" 2>/dev/null
		veth_made=0
	fi
	# Deleting a namespace deletes what is left in it (TAP, veth end, nft).
	if ((pop_made)); then ip netns del "$nspop" 2>/dev/null; pop_made=0; fi
	if ((cli_made)); then ip netns del "$nscli" 2>/dev/null; cli_made=0; fi
	rm -rf "$tmp" "/var/run/dpdk/p53exc$id"   # the EAL's runtime directory
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	say "$*"
	if [[ -s $tmp/pop53d.log ]]; then
		say "pop53d log:"
		sed 's/^/    /' "$tmp/pop53d.log"
	fi
	echo "FAIL dpdk_exception: $*"
	exit 1
}
skip() { echo "SKIP dpdk_exception: $*"; exit 77; }

# ---- what the test needs ----------------------------------------------------
[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, veth, TAP)"
[[ -x $pop53d ]] || fail "no $pop53d (build first)"
for t in ip kdig ping ethtool nft python3; do
	command -v "$t" >/dev/null || fail "'$t' not found (scripts/setup.sh installs it)"
done
out=$("$pop53d" --io dpdk --eal "--version" --listen 127.0.0.1@1 --zone /nonexistent 2>&1)
if grep -q "built without DPDK" <<<"$out"; then
	fail "pop53d was built without DPDK (libdpdk-dev/libbpf-dev missing or -Ddpdk=disabled)"
fi

# Kernel support: veth, tun, AF_PACKET. Only their absence makes this a SKIP.
if ! ip link add "$va" type veth peer name "$vb" 2>"$tmp/err"; then
	grep -qiE "not supported|unknown|no such" "$tmp/err" &&
		skip "the kernel has no veth support: $(cat "$tmp/err")"
	fail "cannot create a veth pair: $(cat "$tmp/err")"
fi
veth_made=1
python3 -c 'import fcntl, os, struct, sys, errno
try:
    fd = os.open("/dev/net/tun", os.O_RDWR)
except OSError as e:
    sys.exit(3 if e.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO) else 4)
os.close(fd)' 2>/dev/null
case $? in
0) ;;
3) skip "the kernel has no TUN/TAP support (/dev/net/tun missing: CONFIG_TUN)" ;;
*) fail "cannot open /dev/net/tun" ;;
esac
python3 -c 'import socket, errno, sys
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
except OSError as e:
    sys.exit(3 if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT) else 0)' 2>/dev/null ||
	skip "the kernel has no AF_PACKET sockets (CONFIG_PACKET)"

# ---- the rig -----------------------------------------------------------------
cat >"$tmp/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@	IN SOA ns1 hostmaster 2024060101 7200 900 1209600 300
@	NS ns1
ns1	A 192.0.2.1
ns1	AAAA 2001:db8::1
www	A 192.0.2.80
www	A 192.0.2.81
www	AAAA 2001:db8::80
alias	CNAME www
EOF

ip netns add "$nspop" || fail "cannot create network namespace $nspop"
pop_made=1
ip netns add "$nscli" || fail "cannot create network namespace $nscli"
cli_made=1
ip link set "$va" netns "$nspop" && ip link set "$vb" netns "$nscli" ||
	fail "cannot move the veth ends into their namespaces"
veth_made=0   # the namespaces own them now
inpop() { ip netns exec "$nspop" "$@"; }
incli() { ip netns exec "$nscli" "$@"; }

# "pop": A without addresses and without IPv6 (no link-local, no ND/MLD of
# its own); everything arriving on A is dropped at ingress, after the packet
# sockets (pop53d's af_packet) have seen it.
inpop sysctl -qw "net.ipv6.conf.$va.disable_ipv6=1" &&
	inpop ip link set lo up &&
	inpop ip link set "$va" up || fail "cannot set up $va in $nspop"
inpop nft -f - <<EOF || fail "cannot add the nftables ingress rule on $va"
table netdev p53x {
	chain in {
		type filter hook ingress device "$va" priority 0; policy accept;
		counter drop
	}
}
EOF
mac_a=$(inpop cat "/sys/class/net/$va/address")

incli ip link set lo up &&
	incli ip addr add "$link4b/24" dev "$vb" &&
	incli ip -6 addr add "$link6b/64" dev "$vb" nodad &&
	incli ip link set "$vb" up &&
	incli ip route add "$svc4/32" via "$link4a" &&
	incli ip -6 route add "$svc6/128" via "$link6a" || fail "cannot set up $vb in $nscli"
incli ethtool -K "$vb" tx off >/dev/null 2>&1 || fail "cannot turn off tx checksum offload on $vb"
say "$nspop:$va ($mac_a, no addresses, ingress dropped) <-> $nscli:$vb; link $link4a $link6a, service $svc4 $svc6"

# ---- helpers -------------------------------------------------------------------
dig_short() { incli kdig +time=2 +retry=2 +short "$@" 2>&1 | sort; }
dig_status() {
	incli kdig +time=2 +retry=2 "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1
}
expect() {  # expect WHAT WANT GOT
	[[ $3 == "$2" ]] || fail "$1: expected '$2', got '$3'"
	say "ok: $1"
}
nft_drops() { inpop nft list table netdev p53x | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }

# ---- before pop53d: nothing answers ---------------------------------------------
if incli ping -c 1 -W 1 "$link4a" >/dev/null 2>&1; then
	fail "$link4a answers before pop53d runs: the rig leaks frames to the kernel"
fi
say "ok: without pop53d $link4a does not answer (ingress drops: $(nft_drops))"

# ---- pop53d with the exception path ------------------------------------------------
: >"$tmp/pop53d.log"
ip netns exec "$nspop" "$pop53d" --io dpdk \
	--eal "-l 0,1 --no-huge -m 256 --no-pci --file-prefix p53exc$id --vdev net_af_packet0,iface=$va --log-level *:notice" \
	--listen "$svc4@53" --listen "$svc6@53" --zone "$tmp/example.com.zone" \
	--exception "tap:$tap" --exception-addr "$link4a/24" --exception-addr "$link6a/64" \
	>"$tmp/pop53d.log" 2>&1 &
pid=$!
for i in $(seq 200); do
	grep -q "pop53d: ready" "$tmp/pop53d.log" && break
	kill -0 "$pid" 2>/dev/null || { wait "$pid"; rc=$?; pid=; fail "pop53d exited ($rc) before ready"; }
	sleep 0.1
done
grep -q "pop53d: ready" "$tmp/pop53d.log" || fail "pop53d not ready after 20 s"
grep "pop53d: port" "$tmp/pop53d.log" | sed 's/^/    /'

# The TAP: there, up, A's MAC, the node's addresses.
inpop ip link show dev "$tap" >"$tmp/tap" 2>&1 || fail "no TAP interface $tap in $nspop"
grep -q "state UP\|,UP" "$tmp/tap" || fail "TAP $tap is not up: $(cat "$tmp/tap")"
expect "TAP has the port's MAC" "$mac_a" "$(inpop cat "/sys/class/net/$tap/address")"
addrs=$(inpop ip -br addr show dev "$tap")
for a in "$svc4/32" "$svc6/128" "$link4a/24" "$link6a/64"; do
	grep -qF "$a" <<<"$addrs" || fail "TAP $tap lacks $a: $addrs"
done
say "ok: TAP $tap: $addrs"

# ARP / ND / ICMP only through the exception path.
incli ip neigh flush dev "$vb" 2>/dev/null
inpop ip neigh flush dev "$tap" 2>/dev/null
for a in "$link4a" "$svc4" "$link6a" "$svc6"; do
	incli ping -c 2 -i 0.2 -W 2 "$a" >"$tmp/ping" 2>&1 ||
		fail "ping $a from $nscli failed: $(tail -n 3 "$tmp/ping")"
	say "ok: ping $a"
done
expect "ARP entry for $link4a is the port's MAC" "$mac_a" \
	"$(incli ip neigh show "$link4a" dev "$vb" | awk '{print $3}')"
expect "ND entry for $link6a is the port's MAC" "$mac_a" \
	"$(incli ip -6 neigh show "$link6a" dev "$vb" | awk '{print $3}')"

# UDP (the lcore) and TCP (the kernel listener, through the TAP).
expect "UDP v4 www A" $'192.0.2.80\n192.0.2.81' "$(dig_short @"$svc4" www.example.com A)"
expect "UDP v6 www AAAA" "2001:db8::80" "$(dig_short @"$svc6" www.example.com AAAA)"
expect "UDP v4 NXDOMAIN" NXDOMAIN "$(dig_status @"$svc4" nope.example.com A)"
expect "TCP v4 www A" $'192.0.2.80\n192.0.2.81' "$(dig_short +tcp @"$svc4" www.example.com A)"
expect "TCP v6 www AAAA" "2001:db8::80" "$(dig_short +tcp @"$svc6" www.example.com AAAA)"
expect "TCP v6 alias A" $'192.0.2.80\n192.0.2.81\nwww.example.com.' "$(dig_short +tcp @"$svc6" alias.example.com A)"
expect "TCP v4 NXDOMAIN" NXDOMAIN "$(dig_status +tcp @"$svc4" nope.example.com A)"

tap_rx=$(inpop cat "/sys/class/net/$tap/statistics/rx_packets")
tap_tx=$(inpop cat "/sys/class/net/$tap/statistics/tx_packets")
drops=$(nft_drops)

# ---- stop, counters -------------------------------------------------------------
kill -TERM "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "pop53d still running 10 s after SIGTERM"
wait "$pid"
rc=$?
pid=
((rc == 0)) || fail "pop53d exited $rc after SIGTERM"
grep -E "pop53d: (dpdk|exception path|signal)" "$tmp/pop53d.log" | sed 's/^/    /'
say "TAP: kernel received $tap_rx frames, sent $tap_tx; ingress rule on $va dropped $drops"

dline=$(grep "pop53d: dpdk:" "$tmp/pop53d.log") || fail "no dpdk counters at exit"
answered=$(sed -n 's/.* received, \([0-9]*\) answered.*/\1/p' <<<"$dline")
((answered >= 3)) || fail "only ${answered:-0} UDP answers from the lcore: $dline"
if grep -q "checksum [1-9]" <<<"$dline"; then fail "checksum drops: $dline"; fi
eline=$(grep "pop53d: exception path:" "$tmp/pop53d.log") || fail "no exception counters at exit"
read -r exc_in exc_drop exc_out exc_sent < <(sed -n \
	's/.*: \([0-9]*\) frames to the kernel, \([0-9]*\) dropped.*, \([0-9]*\) from the kernel, \([0-9]*\) of them.*/\1 \2 \3 \4/p' \
	<<<"$eline")
((exc_in >= 20 && exc_out >= 20)) || fail "too few frames through the exception path: $eline"
((exc_drop == 0)) || fail "exception TX drops: $eline"
((exc_sent == exc_out)) || fail "frames from the kernel not sent on the port: $eline"
((tap_rx >= 20 && tap_tx >= 20)) || fail "TAP counters too low: rx $tap_rx tx $tap_tx"
((drops >= 20)) || fail "the ingress rule on $va dropped only ${drops:-0} frames: the kernel saw them elsewhere?"
tline=$(grep "pop53d: signal" "$tmp/pop53d.log")
tcpq=$(sed -n 's/.*tcp: \([0-9]*\) queries.*/\1/p' <<<"$tline")
((tcpq >= 4)) || fail "pop53d's TCP listener counted ${tcpq:-0} queries: $tline"
if inpop ip link show dev "$tap" >/dev/null 2>&1; then
	fail "TAP $tap still exists after pop53d exited"
fi
say "ok: stopped cleanly, TAP $tap removed"
echo "PASS dpdk_exception"
exit 0
