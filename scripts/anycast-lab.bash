# scripts/anycast-lab.bash — a virtual anycast network on one machine, for
# scripts/demo.sh and tests/integration/anycast.sh. Sourced, not run.
#
#   client ns  --veth--  router ns (BIRD AS 65000)  --veth--  pop ns 1..N
#   10.53.100.2           10.53.100.1 / 10.53.I.2               10.53.I.1
#                         learns 192.0.2.53/32 and               BIRD AS 6510I + pop53d
#                         2001:db8:53::53/128 over eBGP          (the service address
#                         (BFD), installs the best in its FIB     on lo)
#
# The PoPs' BIRD configuration is bgp/examples/pop-bird.conf and the
# router's is made in the same spirit (RFC 8326 honoured, exported to the
# kernel); pop53d drives the part of pop-bird.conf marked for it. Every
# namespace, process and file made here is removed by lab_cleanup, which
# the caller runs from its EXIT trap. Processes are stopped by PID.
#
# Functions: lab_init TAG; lab_router NPOPS; lab_pop I [pop53d args...];
# lab_client; lab_pop53d_kill I [SIGNAL]; lab_pop53d_start I; lab_route4
# (the router's route to the service address: "via 10.53.I.1" or "");
# lab_best_pop (I of the PoP the router uses, 0 = none); lab_cleanup.

LAB_SVC4=192.0.2.53
LAB_SVC6=2001:db8:53::53
LAB_ROOT=${LAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LAB_BUILD=${LAB_BUILD:-$LAB_ROOT/build}

lab_init() {   # TAG: short, unique per run (namespace names are TAG + role)
	LAB_TAG=$1
	LAB_DIR=$(mktemp -d /tmp/p53-lab.XXXXXX)
	LAB_NS=()
	LAB_BIRDS=()
	declare -gA LAB_POP_PID=() LAB_POP_ARGS=()
}

lab_ns() { ip netns exec "$LAB_TAG$1" "${@:2}"; }

lab_mkns() {
	ip netns add "$LAB_TAG$1" || return 1
	LAB_NS+=("$LAB_TAG$1")
	lab_ns "$1" ip link set lo up
	lab_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# veth A(ns1, name1, addr1) <-> B(ns2, name2, addr2) with /30 and /64.
lab_link() {
	local ns1=$1 if1=$2 a1=$3 b1=$4 ns2=$5 if2=$6 a2=$7 b2=$8 tmpif=p53l$RANDOM
	ip link add "$tmpif" type veth peer name "${tmpif}b" || return 1
	ip link set "$tmpif" netns "$LAB_TAG$ns1" && ip link set "${tmpif}b" netns "$LAB_TAG$ns2" || return 1
	lab_ns "$ns1" ip link set "$tmpif" name "$if1"
	lab_ns "$ns2" ip link set "${tmpif}b" name "$if2"
	lab_ns "$ns1" ip addr add "$a1" dev "$if1"
	lab_ns "$ns1" ip -6 addr add "$b1" dev "$if1" nodad
	lab_ns "$ns2" ip addr add "$a2" dev "$if2"
	lab_ns "$ns2" ip -6 addr add "$b2" dev "$if2" nodad
	lab_ns "$ns1" ip link set "$if1" up
	lab_ns "$ns2" ip link set "$if2" up
}

lab_bird() {   # NS CONF: start BIRD in NS with its own socket and pid file
	local ns=$1 conf=$2
	bird -p -c "$conf" || return 1
	lab_ns "$ns" bird -c "$conf" -s "$LAB_DIR/$ns.ctl" -P "$LAB_DIR/$ns.pid" || return 1
	LAB_BIRDS+=("$LAB_DIR/$ns.pid")
}

lab_router() {   # NPOPS
	local n=$1 i
	lab_mkns rtr || return 1
	lab_ns rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	{
		printf 'log "%s/rtr.log" all;\nrouter id 10.53.0.1;\n' "$LAB_DIR"
		cat <<'CONF'
protocol device { scan time 2; }
protocol bfd { interface "pop*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
protocol kernel kern4 { ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel kern6 { ipv6 { import none; export where source = RTS_BGP; }; }
filter from_pop4 {
	if !(net ~ [ 192.0.2.0/24{32,32} ]) then reject;
	if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
	accept;
}
filter from_pop6 {
	if !(net ~ [ 2001:db8:53::/48{128,128} ]) then reject;
	if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
	accept;
}
template bgp pop { local as 65000; bfd on; hold time 90; connect retry time 1;
	error wait time 1, 5; graceful restart off; }
CONF
		for ((i = 1; i <= n; i++)); do
			printf 'protocol bgp pop%d_4 from pop { local 10.53.%d.2 as 65000; neighbor 10.53.%d.1 as %d; ipv4 { import filter from_pop4; export none; }; }\n' "$i" "$i" "$i" $((65100 + i))
			printf 'protocol bgp pop%d_6 from pop { local fd53:%d::2 as 65000; neighbor fd53:%d::1 as %d; ipv6 { import filter from_pop6; export none; }; }\n' "$i" "$i" "$i" $((65100 + i))
		done
	} >"$LAB_DIR/rtr.conf"
	LAB_NPOPS=$n
	for ((i = 1; i <= n; i++)); do
		lab_mkns "pop$i" || return 1
		lab_link rtr "pop$i" "10.53.$i.2/30" "fd53:$i::2/64" "pop$i" eth0 "10.53.$i.1/30" "fd53:$i::1/64" || return 1
		lab_ns "pop$i" ip route add default via "10.53.$i.2"
		lab_ns "pop$i" ip -6 route add default via "fd53:$i::2"
		# Real UDP checksums towards the PoP, as from a NIC: a DPDK PoP
		# (AF_XDP) checks them itself (see tests/integration/dpdk_veth.sh).
		lab_ns rtr ethtool -K "pop$i" tx off >/dev/null 2>&1 || true
	done
	lab_bird rtr "$LAB_DIR/rtr.conf"
}

lab_client() {
	lab_mkns cli || return 1
	lab_link rtr cli0 10.53.100.1/24 fd53:100::1/64 cli eth0 10.53.100.2/24 fd53:100::2/64 || return 1
	lab_ns cli ip route add default via 10.53.100.1
	lab_ns cli ip -6 route add default via fd53:100::1
}

# The PoP's BIRD: bgp/examples/pop-bird.conf with this PoP's addresses,
# AS, state file and log; then pop53d (started by lab_pop53d_start).
lab_pop() {   # I [extra pop53d args]
	local i=$1; shift
	local d=$LAB_DIR/pop$i
	mkdir -p "$d/state"
	lab_ns "pop$i" ip addr add "$LAB_SVC4/32" dev lo
	lab_ns "pop$i" ip -6 addr add "$LAB_SVC6/128" dev lo nodad
	printf 'define P53_SVC_DISABLED = 1;\ndefine P53_GSHUT_DISABLED = 1;\n' >"$d/bird-anycast.conf"
	sed -e "s|^log syslog all;|log \"$d/bird.log\" all;|" \
	    -e "s|/var/lib/pop53/bird-anycast.conf|$d/bird-anycast.conf|" \
	    -e "s|router id 198.51.100.1;|router id 10.53.$i.1;|" \
	    -e "s|local as 65001;|local as $((65100 + i));|" \
	    -e "s|local 198.51.100.1 as 65001;|local 10.53.$i.1 as $((65100 + i));|" \
	    -e "s|neighbor 198.51.100.2 as 65000;|neighbor 10.53.$i.2 as 65000;|" \
	    -e "s|local 2001:db8:ffff::1 as 65001;|local fd53:$i::1 as $((65100 + i));|" \
	    -e "s|neighbor 2001:db8:ffff::2 as 65000;|neighbor fd53:$i::2 as 65000;|" \
	    "$LAB_ROOT/bgp/examples/pop-bird.conf" >"$d/bird.conf"
	lab_bird "pop$i" "$d/bird.conf" || return 1
	LAB_POP_ARGS[$i]=$(printf '%q ' "$@")   # arguments may hold blanks (--eal)
	lab_pop53d_start "$i"
}

lab_pop53d_start() {   # I: pop53d in pop I's namespace; waits for "ready"
	local i=$1 d=$LAB_DIR/pop$1 args
	eval "args=(${LAB_POP_ARGS[$i]})"
	# ip netns exec execs the command: $! is pop53d's own PID.
	ip netns exec "${LAB_TAG}pop$i" "$LAB_BUILD/controlplane/pop53d" --listen "$LAB_SVC4@53" --listen "$LAB_SVC6@53" \
		--zone "$LAB_ROOT/zones/examples/example.com.zone" --nsid "pop$i" --identity "pop$i" \
		--udp-threads 1 --state-dir "$d/state" --control-socket "$d/ctl.sock" \
		--bird-socket "$LAB_DIR/pop$i.ctl" --bgp-state-file "$d/bird-anycast.conf" \
		--fault-injection 1 "${args[@]}" >>"$d/pop53d.log" 2>&1 &
	LAB_POP_PID[$i]=$!
	# Not a job of this shell: killing it must not print "Killed".
	disown "$!"
	for _ in $(seq 100); do
		grep -q "pop53d: ready" "$d/pop53d.log" 2>/dev/null && return 0
		kill -0 "${LAB_POP_PID[$i]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

lab_pop53d_kill() {   # I [SIGNAL]: stop pop I's pop53d, wait for it
	local i=$1 sig=${2:-TERM} pid=${LAB_POP_PID[$1]:-}
	[[ -n $pid ]] || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	LAB_POP_PID[$i]=
}

lab_ctl() { "$LAB_BUILD/tools/pop53ctl" -s "$LAB_DIR/pop$1/ctl.sock" "${@:2}"; }

lab_route4() { lab_ns rtr ip -4 route show "$LAB_SVC4/32" 2>/dev/null; }

lab_best_pop() {   # the PoP the router's FIB sends the service address to
	local r
	r=$(lab_route4)
	[[ $r =~ via\ 10\.53\.([0-9]+)\.1 ]] && echo "${BASH_REMATCH[1]}" || echo 0
}

# Wait up to $2 s (default 30) for the router's best route to satisfy
# test $1 ("any", "none", or a PoP number). 0 when it did.
lab_wait_route() {
	local want=$1 limit=${2:-30} best
	for _ in $(seq $((limit * 20))); do
		best=$(lab_best_pop)
		case $want in
		any) ((best != 0)) && return 0 ;;
		none) ((best == 0)) && return 0 ;;
		*) ((best == want)) && return 0 ;;
		esac
		sleep 0.05
	done
	return 1
}

# ---- for the tests --------------------------------------------------------

lab_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# lab_time_until CMD...: ms until CMD succeeds (polled every 10 ms, 15 s at
# most), or "never" and non-zero
lab_time_until() {
	local t0 i
	t0=$(lab_now_ms)
	for ((i = 0; i < 1500; i++)); do
		"$@" && { echo $(( $(lab_now_ms) - t0 )); return 0; }
		sleep 0.01
	done
	echo never
	return 1
}
lab_announced() { [[ $(lab_best_pop) == "${1:-1}" ]]; }
lab_withdrawn() { [[ $(lab_best_pop) == 0 ]]; }

# The preamble of a test: root, namespaces and TUN/TAP, or exit 77.
lab_need() {   # NAME
	[[ $(id -u) -eq 0 ]] || { echo "SKIP $1: needs root (namespaces, BIRD, TAP)"; exit 77; }
	command -v bird >/dev/null || { echo "FAIL $1: bird not installed (bird2)"; exit 1; }
	ip netns add "p53probe$$" 2>/dev/null || { echo "SKIP $1: no network namespaces"; exit 77; }
	ip netns del "p53probe$$"
	[[ -c /dev/net/tun ]] || { echo "SKIP $1: no /dev/net/tun (the fail-safe interface)"; exit 77; }
}

lab_cleanup() {
	local i p
	set +e      # from an EXIT trap under set -e: every step must run
	for i in "${!LAB_POP_PID[@]}"; do lab_pop53d_kill "$i" KILL; done
	for p in "${LAB_BIRDS[@]}"; do
		i=$(cat "$p" 2>/dev/null) || continue
		kill -TERM "$i" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$i" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$i" 2>/dev/null
	done
	for p in "${LAB_NS[@]}"; do ip netns del "$p" 2>/dev/null; done
	[[ -n ${LAB_KEEP:-} ]] || rm -rf "$LAB_DIR"
}
