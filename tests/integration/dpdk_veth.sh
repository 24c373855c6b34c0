#!/usr/bin/env bash
# pop53d --io dpdk on a veth pair: the server end in the root namespace,
# the client end in a network namespace of its own. Run twice: with
# net_af_xdp (and our XDP steering program, dataplane/xdp_dns.c) and with
# net_af_packet. From the namespace, kdig asks over IPv4 and IPv6:
#   - UDP answers (answered by the DPDK lcore: pop53d runs no kernel UDP),
#     NXDOMAIN for a missing name; a geolocation policy answered by the
#     client's source address as the worker parsed it (the snapshot is
#     compiled with pop53-zonec --policy --geo-map);
#   - TCP answers (the kernel listener on the same service addresses) with
#     the same data as over UDP;
#   - ping over IPv4 and IPv6 to the service and link addresses, with the
#     neighbour cache flushed first (ARP and ND must reach the kernel);
# then SIGTERM: pop53d exits 0, reports its counters, and leaves no XDP
# program on the interface.
#
# Addresses: link 198.18.N.0/24 and fd00:53:N::/64, service addresses
# 198.19.N.53 and fd00:5353:N::53 on lo (as on an anycast host), N random
# per run; names carry the PID. Everything is removed on every exit path.
#
# Trap on veth: a kernel sender over veth leaves the UDP checksum to
# "offload" (CHECKSUM_PARTIAL), and no NIC ever fills it in: AF_XDP and
# AF_PACKET hand DPDK the frame with a pseudo-header sum only. A real NIC
# carries real checksums, so the client end turns tx checksumming off
# (ethtool -K B tx off) instead of pop53d trusting checksums.
#
# With af_packet the kernel also gets every frame (a packet socket is a
# tap) and, having no UDP socket on port 53, would answer with ICMP port
# unreachable; an nftables rule drops UDP/53 to the service addresses in
# the input hook for that run, as a host using af_packet must.
#
# Exit: 0 PASS, 1 FAIL, 77 SKIP (only when the kernel lacks veth or AF_XDP).
set -uo pipefail
# shellcheck source=tests/integration/lib.bash
. "$(dirname "$0")/lib.bash"

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
pop53d=$build/controlplane/pop53d
zonec=$build/tools/pop53-zonec
xdp_o=$build/dataplane/xdp_dns.o

id=$$
n=$((RANDOM % 250 + 1))
ns=p53dp$id
va=p53a$id
vb=p53b$id
link4a=198.18.$n.1 link4b=198.18.$n.2
link6a=fd00:53:$n::1 link6b=fd00:53:$n::2
svc4=198.19.$n.53 svc6=fd00:5353:$n::53
nftab=p53dpdk$id
tmp=$(mktemp -d /tmp/p53-dpdk-veth.XXXXXX)
pid=
veth_made=0 ns_made=0 svc_added=0 nft_made=0

say() { printf '[dpdk_veth] %s\n' "$*"; }

cleanup() {
	itest_stop "$pid"
	pid=
	if ((nft_made)); then nft delete table inet "$nftab" 2>/dev/null; nft_made=0; fi
	if ((veth_made)); then
		ip link set dev "$va" xdp off 2>/dev/null
		ip link del "$va" 2>/dev/null
		veth_made=0
	fi
	if ((ns_made)); then ip netns del "$ns" 2>/dev/null; ns_made=0; fi
	if ((svc_added)); then
		ip addr del "$svc4/32" dev lo 2>/dev/null
		ip -6 addr del "$svc6/128" dev lo 2>/dev/null
		svc_added=0
	fi
	rm -rf "$tmp" "/var/run/dpdk/p53dpdk$id"   # the EAL's runtime directory
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	say "$*"
	if [[ -s $tmp/pop53d.log ]]; then
		say "pop53d log:"
		sed 's/^/    /' "$tmp/pop53d.log"
	fi
	echo "FAIL dpdk_veth: $*"
	exit 1
}
skip() { echo "SKIP dpdk_veth: $*"; exit 77; }

# ---- what the test needs ----------------------------------------------------
[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, veth, XDP)"
[[ -x $pop53d ]] || fail "no $pop53d (build first)"
for t in ip kdig ping ethtool nft python3; do
	command -v "$t" >/dev/null || fail "'$t' not found (scripts/setup.sh installs it)"
done
out=$("$pop53d" --io dpdk --eal "--version" --listen 127.0.0.1@1 --zone /nonexistent 2>&1)
if grep -q "built without DPDK" <<<"$out"; then
	fail "pop53d was built without DPDK (libdpdk-dev/libbpf-dev missing or -Ddpdk=disabled)"
fi
[[ -f $xdp_o ]] || fail "no XDP program $xdp_o (clang and libbpf headers needed)"

# Kernel support: veth and AF_XDP. Only their absence makes this a SKIP.
if ! ip link add "$va" type veth peer name "$vb" 2>"$tmp/err"; then
	grep -qiE "not supported|unknown|no such" "$tmp/err" &&
		skip "the kernel has no veth support: $(cat "$tmp/err")"
	fail "cannot create a veth pair: $(cat "$tmp/err")"
fi
veth_made=1
if ! python3 -c 'import socket, errno, sys
try:
    socket.socket(44, socket.SOCK_RAW).close()
except OSError as e:
    sys.exit(3 if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT) else 0)' 2>/dev/null; then
	skip "the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"
fi

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
*.wild	TXT "wildcard"
EOF

# A traffic policy whose answer depends on the client's source address as
# the DPDK worker parsed it from the frame: the namespace's IPv4 address
# is in Europe, its IPv6 address nowhere (the default answer).
cat >"$tmp/policy.yaml" <<'EOF2'
records:
  - name: geo.example.com.
    type: A
    ttl: 30
    policy:
      routing: geolocation
      members:
        - { continent: EU, address: 192.0.2.90 }
        - { default: true, address: 192.0.2.99 }
EOF2
echo "$link4b/32 EU-DE" >"$tmp/geo.map"
"$zonec" compile -q -o "$tmp/example.snap" --policy "$tmp/policy.yaml" \
	--geo-map "$tmp/geo.map" "$tmp/example.com.zone" >"$tmp/zonec.log" 2>&1 ||
	fail "pop53-zonec: $(cat "$tmp/zonec.log")"

ip netns add "$ns" || fail "cannot create network namespace $ns"
ns_made=1
ip link set "$vb" netns "$ns" || fail "cannot move $vb into $ns"
ip addr add "$link4a/24" dev "$va" &&
	ip -6 addr add "$link6a/64" dev "$va" nodad &&
	ip link set "$va" up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$link4b/24" dev "$vb" &&
	ip -n "$ns" -6 addr add "$link6b/64" dev "$vb" nodad &&
	ip -n "$ns" link set "$vb" up || fail "cannot address the veth pair"
ip addr add "$svc4/32" dev lo && ip -6 addr add "$svc6/128" dev lo ||
	fail "cannot add the service addresses to lo"
svc_added=1
ip -n "$ns" route add "$svc4/32" via "$link4a" &&
	ip -n "$ns" -6 route add "$svc6/128" via "$link6a" || fail "cannot route to the service addresses"
# See the header: real checksums from the client, as from any real NIC.
ip netns exec "$ns" ethtool -K "$vb" tx off >/dev/null 2>&1 ||
	fail "cannot turn off tx checksum offload on $vb"
say "veth $va <-> $ns:$vb, link $link4a/$link6a, service $svc4 $svc6"

# ---- helpers -------------------------------------------------------------------
inns() { ip netns exec "$ns" "$@"; }

# dig ARGS...: kdig from the namespace, +short answer on stdout.
dig_short() { inns kdig +time=2 +retry=2 +short "$@" 2>&1 | sort; }
dig_status() {
	inns kdig +time=2 +retry=2 "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1
}

expect() {  # expect WHAT WANT GOT
	[[ $3 == "$2" ]] || fail "$1: expected '$2', got '$3'"
	say "ok: $1"
}

start_pop53d() {  # start_pop53d VDEV
	local vdev=$1 i
	ip link set dev "$va" xdp off 2>/dev/null   # a stale program blocks af_xdp
	: >"$tmp/pop53d.log"
	"$pop53d" --io dpdk \
		--eal "-l 0,1 --no-huge -m 256 --no-pci --file-prefix p53dpdk$id --vdev $vdev --log-level *:notice" \
		--listen "$svc4@53" --listen "$svc6@53" --snapshot "$tmp/example.snap" \
		>"$tmp/pop53d.log" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q "pop53d: ready" "$tmp/pop53d.log" && return 0
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; local rc=$?; pid=; fail "pop53d exited ($rc) before ready"; }
		sleep 0.1
	done
	fail "pop53d not ready after 20 s"
}

stop_pop53d() {
	local rc i
	kill -TERM "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "pop53d still running 10 s after SIGTERM"
	wait "$pid"
	rc=$?
	pid=
	((rc == 0)) || fail "pop53d exited $rc after SIGTERM"
}

run_mode() {  # run_mode NAME VDEV
	local mode=$1 vdev=$2 a udp tcp
	say "---- $mode: $vdev"
	start_pop53d "$vdev"
	grep "pop53d: port" "$tmp/pop53d.log" | sed 's/^/    /'
	if [[ $mode == af_xdp ]]; then
		ip link show dev "$va" | grep -q "prog/xdp.*name xdp_dns" ||
			fail "af_xdp: our XDP program is not on $va: $(ip link show dev "$va")"
		say "ok: xdp_dns attached to $va"
	fi

	# UDP (the DPDK lcore), IPv4 and IPv6
	expect "$mode UDP v4 www A" $'192.0.2.80\n192.0.2.81' "$(dig_short @"$svc4" www.example.com A)"
	expect "$mode UDP v6 www AAAA" "2001:db8::80" "$(dig_short @"$svc6" www.example.com AAAA)"
	expect "$mode UDP v6 www A" $'192.0.2.80\n192.0.2.81' "$(dig_short @"$svc6" www.example.com A)"
	expect "$mode UDP v4 wildcard TXT" '"wildcard"' "$(dig_short @"$svc4" x.wild.example.com TXT)"
	expect "$mode UDP v4 NXDOMAIN" NXDOMAIN "$(dig_status @"$svc4" nope.example.com A)"
	expect "$mode UDP v6 NXDOMAIN" NXDOMAIN "$(dig_status @"$svc6" nope.example.com A)"
	expect "$mode UDP v4 NOERROR" NOERROR "$(dig_status @"$svc4" www.example.com A)"
	expect "$mode UDP v4 policy (client in EU)" 192.0.2.90 "$(dig_short @"$svc4" geo.example.com A)"
	expect "$mode UDP v6 policy (client unknown)" 192.0.2.99 "$(dig_short @"$svc6" geo.example.com A)"
	expect "$mode TCP v4 policy (client in EU)" 192.0.2.90 "$(dig_short +tcp @"$svc4" geo.example.com A)"

	# TCP (kernel listener): the same data
	for q in "www.example.com A" "www.example.com AAAA" "alias.example.com A"; do
		udp=$(dig_short @"$svc4" $q)
		tcp=$(dig_short +tcp @"$svc4" $q)
		[[ -n $udp ]] || fail "$mode: empty UDP answer to $q"
		expect "$mode TCP v4 $q == UDP" "$udp" "$tcp"
		tcp=$(dig_short +tcp @"$svc6" $q)
		expect "$mode TCP v6 $q == UDP" "$udp" "$tcp"
	done
	expect "$mode TCP v6 NXDOMAIN" NXDOMAIN "$(dig_status +tcp @"$svc6" nope.example.com A)"

	# ARP / ND / ICMP reach the kernel
	ip -n "$ns" neigh flush dev "$vb" 2>/dev/null
	ip neigh flush dev "$va" 2>/dev/null
	for a in "$svc4" "$link4a" "$svc6" "$link6a"; do
		inns ping -c 2 -i 0.2 -W 2 "$a" >"$tmp/ping" 2>&1 ||
			fail "$mode: ping $a from the namespace failed: $(tail -n 3 "$tmp/ping")"
		say "ok: $mode ping $a"
	done

	stop_pop53d
	local line
	line=$(grep "pop53d: dpdk:" "$tmp/pop53d.log") || fail "$mode: no counters at exit"
	say "$line"
	# 9 UDP queries above plus one per TCP comparison, each answered on the lcore
	local answered
	answered=$(sed -n 's/.* received, \([0-9]*\) answered.*/\1/p' <<<"$line")
	((answered >= 10)) || fail "$mode: only ${answered:-0} UDP answers counted by the lcores"
	grep -q "tx failures, 0 dropped\|, 0 tx failures" <<<"$line" || fail "$mode: tx failures: $line"
	if grep -q "checksum [1-9]" <<<"$line"; then fail "$mode: checksum drops: $line"; fi
	if ip link show dev "$va" | grep -q "xdp"; then
		fail "$mode: an XDP program is still attached to $va after exit: $(ip link show dev "$va")"
	fi
	say "ok: $mode stopped cleanly, nothing attached to $va"
}

run_mode af_xdp "net_af_xdp0,iface=$va,xdp_prog=$xdp_o"

nft add table inet "$nftab" && nft_made=1 &&
	nft add chain inet "$nftab" input '{ type filter hook input priority 0; }' &&
	nft add rule inet "$nftab" input ip daddr "$svc4" udp dport 53 drop &&
	nft add rule inet "$nftab" input ip6 daddr "$svc6" udp dport 53 drop ||
	fail "cannot add the nftables rule for af_packet"
run_mode af_packet "net_af_packet0,iface=$va"

echo "PASS dpdk_veth"
exit 0
