#!/usr/bin/env bash
# bench/dpdk-bench.sh — answered queries per second on the veth rig (issue 4):
# pop53d --io dpdk (net_af_xdp with our XDP program, and net_af_packet)
# against Knot DNS in XDP mode, Knot DNS on kernel UDP, NSD, and testpmd
# echoing the queries back with no DNS work (the ceiling of the rig); plus
# the same DPDK worker loop fed from memory (bench/dpdk-mem-bench.c), the
# per-core figure without the kernel in the way.
#
# The rig: a veth pair, the server end A in the root namespace (address
# 198.18.N.1), the generator end B in a namespace of its own (198.18.N.2),
# static neighbour entries both ways, N random. The generator is kxdpgun
# (knot-dnsutils: AF_XDP on B, it builds the frames itself), pinned to CPU 1:
#   ip netns exec NS taskset -c 1 kxdpgun -t SECONDS -Q RATE -b 10 -p 53
#      -i QUERIES -F 1 -I B -R <A's MAC> 198.18.N.1
# at each offered rate (--rates; "max" = -Q 10000000: as fast as kxdpgun
# can send), --runs times; kxdpgun's sent and received counts and its RCODE
# breakdown are parsed. XDP is detached from A and B before every start and
# after every kxdpgun and server.
#
# Pinning: every server on CPU 0 (taskset -c 0; the DPDK processes get
# `--lcores 0@0,1@0`: the main lcore, idle in its event loop, and the
# worker lcore both on CPU 0, so that the worker does not share CPU 1 with
# the generator). On veth the kernel's work of delivering a frame runs on
# the core that sent it: the queries' delivery into A's XDP program / socket
# is paid on CPU 1 (the generator's), the answers' delivery into kxdpgun's
# ring on CPU 0. Compare systems on this rig only.
#
# The zone: bench/gen-zone.py -n NAMES; the queries: bench/udp-bench-queries.py
# (~60 % A/AAAA hits, 10 % MX/TXT, 14 % NODATA, 12 % NXDOMAIN, 4 % apex).
#   pop53-xdp     pop53d --io dpdk, net_af_xdp0,iface=A,xdp_prog=xdp_dns.o
#   pop53-packet  pop53d --io dpdk, net_af_packet0,iface=A (with an nftables
#                 rule dropping UDP/53 to A in the input hook: the kernel
#                 sees every frame of a packet socket too)
#   knot-xdp      knotd, xdp: listen: A@53 (and kernel UDP on A's address)
#   knot-udp      knotd, udp-workers: 1, listen on A's address
#   nsd           nsd -d, server-count: 1, rrl-ratelimit: 0, minimal-responses
#   testpmd       dpdk-testpmd --forward-mode=5tswap on net_af_xdp0,iface=A:
#                 no DNS work at all. 5tswap, not macswap: a macswapped frame
#                 still goes to port 53, and kxdpgun only receives frames to
#                 its own source ports (2000-65535); 5tswap also swaps the IP
#                 addresses and ports (checksums stay valid), nothing else.
#                 Its "answers" are the queries themselves (RCODE 0).
# Wrong answers: RCODEs other than NOERROR/NXDOMAIN, summed over the runs;
# the NXDOMAIN share of all answers must be within 1 point of the mix's.
# For pop53 its own counters at exit (answered, RCODEs, tx failures) are
# printed too.
#
# Memory-fed: build/bench/dpdk-mem-bench (the worker loop on one lcore over
# two rings; the main lcore refills answered mbufs with the next query and
# checks every answer), --runs runs of --mem-seconds: answers per CPU second
# of the worker thread (what one core does, even when other processes take
# part of it; its empty polls count, so a lower bound), and per wall second,
# against the goal of 10 million per core.
#
# Usage: bench/dpdk-bench.sh [-t SECONDS] [--rates LIST] [--runs N] [-n NAMES]
#                            [--systems LIST] [--mem-seconds S] [--no-mem]
#                            [--quick] [--keep]
#   -t SECONDS      length of each kxdpgun run (default 5)
#   --rates LIST    offered rates, comma-separated, "max" allowed
#                   (default 100000,200000,400000,600000,max)
#   --runs N        runs per rate and system, and memory-fed runs (default 3)
#   -n NAMES        names in the generated zone (default 100000)
#   --systems LIST  of pop53-xdp,pop53-packet,knot-xdp,knot-udp,nsd,testpmd
#                   (default all)
#   --mem-seconds S measured seconds per memory-fed run (default 5)
#   --no-mem        leave out the memory-fed figure
#   --quick         smoke run (< 2 min): -t 2, rates 100000,400000,max,
#                   --runs 1, -n 20000, --mem-seconds 2
#   --keep          keep the temporary directory (its path is printed)
# Environment: POP53_BUILD (build directory, default build).
#
# Needs root (namespaces, veth, XDP). Only the veth pair and its namespace
# are used. Everything (processes by PID, namespace, veth, XDP programs,
# the nftables table, /var/run/dpdk/<our prefixes>, the temporary
# directory) is removed on every exit path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=dpdk-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

SECONDS_RUN=5
RATES=100000,200000,400000,600000,max
RUNS=3
NAMES=100000
SYSTEMS=pop53-xdp,pop53-packet,knot-xdp,knot-udp,nsd,testpmd
MEM_SECONDS=5
MEM=1
KEEP=0
MAX_QPS=10000000
GOAL_PER_CORE=10000000
while (($#)); do
	case $1 in
	-t) SECONDS_RUN=$2; shift ;;
	--rates) RATES=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	-n|--names) NAMES=$2; shift ;;
	--systems) SYSTEMS=$2; shift ;;
	--mem-seconds) MEM_SECONDS=$2; shift ;;
	--no-mem) MEM=0 ;;
	--quick) SECONDS_RUN=2 RATES=100000,400000,max RUNS=1 NAMES=20000 MEM_SECONDS=2 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "dpdk-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
bad() { echo "dpdk-bench: $*" >&2; exit 2; }
[[ $SECONDS_RUN =~ ^[1-9][0-9]*$ ]] || bad "-t wants whole seconds >= 1"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bad "--runs wants a number >= 1"
[[ $NAMES =~ ^[1-9][0-9]*$ ]] || bad "-n wants a number >= 1"
[[ $MEM_SECONDS =~ ^[1-9][0-9]*$ ]] || bad "--mem-seconds wants whole seconds >= 1"
[[ $RATES =~ ^([1-9][0-9]*|max)(,([1-9][0-9]*|max))*$ ]] || bad "--rates wants N,N,...,max"
IFS=, read -r -a RATE_LIST <<<"$RATES"
IFS=, read -r -a SYSTEM_LIST <<<"$SYSTEMS"
ALL_SYSTEMS=(pop53-xdp pop53-packet knot-xdp knot-udp nsd testpmd)
for s in "${SYSTEM_LIST[@]}"; do
	[[ " ${ALL_SYSTEMS[*]} " == *" $s "* ]] || bad "--systems: unknown system '$s'"
done

BUILD=${POP53_BUILD:-build}
POP53D=$BUILD/controlplane/pop53d
ZONEC=$BUILD/tools/pop53-zonec
XDP_O=$BUILD/dataplane/xdp_dns.o
MEMBENCH=$BUILD/bench/dpdk-mem-bench
ORIGIN=bench.example.

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, veth, XDP)"
for t in ip kxdpgun kdig ethtool nft taskset timeout; do
	command -v "$t" >/dev/null || die "'$t' not found (scripts/setup.sh installs it)"
done

# ---- names, and the cleanup of everything they stand for -----------------------
ID=$$
NS=p53bn$ID
VA=p53ba$ID
VB=p53bb$ID
NFT=p53bench$ID
SUBNET=$((RANDOM % 200 + 20))
A4=198.18.$SUBNET.1
B4=198.18.$SUBNET.2
TMP=
SERVER_PID=
SERVER_TREE=
LOAD_PID=
EAL_PREFIXES=()   # every --file-prefix we gave (/var/run/dpdk/<prefix>)
RIG=0
NFT_MADE=0

xdp_off() {
	ip link set dev "$VA" xdp off 2>/dev/null || true
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true
}

cleanup() {
	local p
	if [[ -n $LOAD_PID ]]; then
		stop_pid "$LOAD_PID"
		LOAD_PID=
	fi
	if [[ -n $SERVER_PID ]]; then
		# shellcheck disable=SC2086  # the PIDs are words on purpose
		stop_pid "$SERVER_PID" $SERVER_TREE
		SERVER_PID=
	fi
	if ((NFT_MADE)); then nft delete table inet "$NFT" 2>/dev/null || true; NFT_MADE=0; fi
	if ((RIG)); then
		xdp_off
		ip link del "$VA" 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
		RIG=0
	fi
	for p in "${EAL_PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	bench_rm_tmp "$TMP" "$KEEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- what is there --------------------------------------------------------------
declare -A NA=()   # system -> why it cannot run
if [[ ! -x $POP53D ]]; then
	NA[pop53-xdp]="$POP53D not built" NA[pop53-packet]="$POP53D not built"
elif "$POP53D" --io dpdk --eal --version --listen 127.0.0.1@1 --zone /nonexistent 2>&1 |
	grep -q "built without DPDK"; then
	NA[pop53-xdp]="pop53d built without DPDK" NA[pop53-packet]="pop53d built without DPDK"
fi
[[ -f $XDP_O ]] || NA[pop53-xdp]="no $XDP_O (clang, libbpf headers)"
command -v knotd >/dev/null || { NA[knot-xdp]="knotd not found"; NA[knot-udp]="knotd not found"; }
command -v nsd >/dev/null || NA[nsd]="nsd not found"
command -v dpdk-testpmd >/dev/null || NA[testpmd]="dpdk-testpmd not found"
if ((MEM)) && [[ ! -x $MEMBENCH ]]; then
	MEM_NA="$MEMBENCH not built (needs the DPDK dataplane and librte_net_ring)"
else
	MEM_NA=
fi

bench_pin kxdpgun
# this shell is on CPU 1 now; the generator is pinned explicitly below
TMP=$(bench_tmp pop53-dpdk-bench)
mkdir -p "$TMP/zones"
ZONEFILE=$TMP/zones/${ORIGIN%.}.zone
QUERIES=$TMP/queries.txt

log "generating $NAMES names and the query file"
"$PY" bench/gen-zone.py -n "$NAMES" --origin "$ORIGIN" -o "$ZONEFILE" --stats "$TMP/zone.json"
RECORDS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/zone.json")
"$PY" bench/udp-bench-queries.py "$ZONEFILE" -n 100000 -o "$QUERIES" --expect "$TMP/expect.txt"
EXPECT_NX=$(awk '$1 == "nxdomain" {print $2}' "$TMP/expect.txt")

# ---- the rig ----------------------------------------------------------------------
ip netns add "$NS" || die "cannot create namespace $NS"
RIG=1
ip link add "$VA" type veth peer name "$VB" netns "$NS" || die "cannot create veth $VA/$VB"
ip addr add "$A4/24" dev "$VA"
ip link set "$VA" up
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$B4/24" dev "$VB"
ip -n "$NS" link set "$VB" up
MAC_A=$(cat "/sys/class/net/$VA/address")
MAC_B=$(ip netns exec "$NS" cat "/sys/class/net/$VB/address")
ip neigh replace "$B4" lladdr "$MAC_B" dev "$VA" nud permanent
ip -n "$NS" neigh replace "$A4" lladdr "$MAC_A" dev "$VB" nud permanent
# real checksums from the namespace's kernel (kdig probes), as from a real NIC
ip netns exec "$NS" ethtool -K "$VB" tx off >/dev/null 2>&1 || log "warning: cannot turn off tx checksum offload on $VB"
log "rig: $VA ($A4, $MAC_A) <-> $NS:$VB ($B4, $MAC_B); load average $(loadavg)"

inns() { ip netns exec "$NS" "$@"; }

# ---- the systems ------------------------------------------------------------------
NSD_EXTRA_SERVER='    reuseport: no
    minimal-responses: yes
    round-robin: no'
KNOT_EXTRA_SERVER=

# nft_drop_udp53 on|off: the af_packet run's input-hook rule
nft_drop_udp53() {
	if [[ $1 == on ]]; then
		nft add table inet "$NFT" && NFT_MADE=1 &&
			nft add chain inet "$NFT" input '{ type filter hook input priority 0; }' &&
			nft add rule inet "$NFT" input ip daddr "$A4" udp dport 53 drop
	elif ((NFT_MADE)); then
		nft delete table inet "$NFT" 2>/dev/null || true
		NFT_MADE=0
	fi
}

# wait_log FILE PATTERN SECONDS: until FILE has PATTERN (and the server lives)
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_system NAME: start it, wait until it answers; 1 (with NA[NAME]
# set) when it cannot
start_system() {
	local name=$1 dir=$TMP/$1 prefix eal
	mkdir -p "$dir"
	xdp_off
	prefix=p53bx${ID}${name//-/}
	eal="--lcores 0@0,1@0 --no-huge -m 256 --no-pci --file-prefix $prefix --log-level *:notice"
	case $name in
	pop53-xdp|pop53-packet)
		EAL_PREFIXES+=("$prefix")
		if [[ $name == pop53-xdp ]]; then
			eal+=" --vdev net_af_xdp0,iface=$VA,xdp_prog=$XDP_O"
		else
			eal+=" --vdev net_af_packet0,iface=$VA"
			nft_drop_udp53 on || { NA[$name]="cannot add the nftables rule"; return 1; }
		fi
		taskset -c 0 "$POP53D" --io dpdk --eal "$eal" --listen "$A4@53" --zone "$ZONEFILE" \
			>"$dir/server.log" 2>&1 &
		SERVER_PID=$!
		if ! wait_log "$dir/server.log" "pop53d: ready" 60; then
			NA[$name]="pop53d did not start: $(grep -v '^EAL' "$dir/server.log" | tail -n 2 | tr '\n' ' ')"
			return 1
		fi ;;
	knot-xdp|knot-udp)
		if [[ $name == knot-xdp ]]; then KNOT_XDP_LISTEN="$VA@53"; else KNOT_XDP_LISTEN=; fi
		KNOT_UDP_WORKERS=1 KNOT_TCP_WORKERS=1 KNOT_BG_WORKERS=1
		write_knot_conf "$dir" "$A4@53" "$ZONEFILE" "$ORIGIN"
		taskset -c 0 knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 &
		SERVER_PID=$! ;;
	nsd)
		write_nsd_conf "$dir" "$A4" 53 "$ZONEFILE" "$ORIGIN"
		taskset -c 0 nsd -d -c "$dir/nsd.conf" >"$dir/server.log" 2>&1 &
		SERVER_PID=$! ;;
	testpmd)
		EAL_PREFIXES+=("$prefix")
		# shellcheck disable=SC2086  # the EAL words
		taskset -c 0 dpdk-testpmd $eal --vdev "net_af_xdp0,iface=$VA" -- \
			--forward-mode=5tswap --auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
			</dev/null >"$dir/server.log" 2>&1 &
		SERVER_PID=$!
		if ! wait_log "$dir/server.log" "Port statistics" 30; then
			NA[$name]="testpmd did not start: $(grep -iv '^EAL' "$dir/server.log" | tail -n 2 | tr '\n' ' ')"
			return 1
		fi
		SERVER_TREE=$SERVER_PID
		return 0 ;;
	esac
	local ns
	if ! ns=$(SOA_NETNS=$NS poll_soa "$A4" 53 "$ORIGIN" "$SERVER_PID" 60 "$(now_ns)"); then
		NA[$name]="no SOA answer from the namespace: $(grep -v '^EAL' "$dir/server.log" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	sleep 0.3
	SERVER_TREE=$(tree_pids "$SERVER_PID")
	log "$name (pid $SERVER_TREE) answers at $A4@53 after $(awk -v n="$ns" 'BEGIN {printf "%.1f", n / 1e9}') s"
}

stop_system() {
	local name=$1
	# shellcheck disable=SC2086  # the PIDs are words on purpose
	[[ -z $SERVER_PID ]] || stop_pid "$SERVER_PID" $SERVER_TREE
	SERVER_PID=''
	SERVER_TREE=''
	[[ $name != pop53-packet ]] || nft_drop_udp53 off
	xdp_off
}

# run_gen NAME RATE TAG: one kxdpgun run; its output in $TMP/NAME.TAG.out,
# one line "sent recv sent_per_s recv_per_s noerror nxdomain other" in .res
run_gen() {
	local name=$1 rate=$2 tag=$3 out=$TMP/$1.$3.out q
	q=$rate
	[[ $rate != max ]] || q=$MAX_QPS
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true   # not A's: the server's
	timeout -k 5 $((SECONDS_RUN + 30)) ip netns exec "$NS" taskset -c 1 kxdpgun -t "$SECONDS_RUN" \
		-Q "$q" -b 10 -p 53 -i "$QUERIES" -F 1 -I "$VB" -R "$MAC_A" "$A4" >"$out" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID" || log "kxdpgun against $name exited $? (output in $out)"
	LOAD_PID=
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true
	awk -v secs="$SECONDS_RUN" '
		/^total queries:/ {sent = $3}
		/^total replies:/ {recv = $3}
		/^responded / {
			code = $2; sub(/:$/, "", code)
			if (code == "NOERROR") ne += $3
			else if (code == "NXDOMAIN") nx += $3
			else other += $3
		}
		/^duration:/ {d = $2}
		END {
			if (sent == "") { print "parse-error"; exit 1 }
			if (d + 0 <= 0) d = secs
			printf "%d %d %.0f %.0f %d %d %d\n", sent, recv, sent / d, recv / d, ne, nx, other
		}' "$out" >"$TMP/$name.$tag.res" || {
		log "cannot parse kxdpgun's output against $name:"; tail -n 20 "$out" >&2
		echo "0 0 0 0 0 0 0" >"$TMP/$name.$tag.res"
	}
	local sent recv sps rps ne nx ot
	read -r sent recv sps rps ne nx ot <"$TMP/$name.$tag.res"
	log "$(printf '%-12s %-10s sent %8s/s  answered %8s/s (%5s %%)  NOERROR %s NXDOMAIN %s other %s  load %s' \
		"$name" "$tag" "$sps" "$rps" "$(awk -v r="$recv" -v s="$sent" 'BEGIN {printf "%.1f", s ? 100 * r / s : 0}')" \
		"$ne" "$nx" "$ot" "$(loadavg)")"
}

LOAD_BEFORE=$(loadavg)
for s in "${SYSTEM_LIST[@]}"; do
	if [[ -n ${NA[$s]:-} ]]; then log "$s: n/a (${NA[$s]})"; continue; fi
	if ! start_system "$s"; then
		log "$s: n/a (${NA[$s]})"
		stop_system "$s"
		continue
	fi
	SECONDS_SAVE=$SECONDS_RUN SECONDS_RUN=1
	run_gen "$s" 100000 warmup >/dev/null 2>&1 || true
	SECONDS_RUN=$SECONDS_SAVE
	for r in $(seq "$RUNS"); do
		for rate in "${RATE_LIST[@]}"; do
			run_gen "$s" "$rate" "r$rate.$r"
			kill -0 "$SERVER_PID" 2>/dev/null || break 2
		done
	done
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		NA[$s]="exited during the runs: $(tail -n 2 "$TMP/$s/server.log" | tr '\n' ' ')"
		log "$s: ${NA[$s]}"
		SERVER_PID=
	fi
	stop_system "$s"
	if [[ $s == pop53-* ]]; then
		grep -E "pop53d: (dpdk|port)" "$TMP/$s/server.log" >"$TMP/$s.counters" || true
	fi
done
LOAD_RIG=$(loadavg)

# ---- memory-fed -------------------------------------------------------------------
# memf KEY: KEY's value from every memory-fed run's result line, one a line
memf() {
	cat "$TMP"/mem.*.res 2>/dev/null | awk -v k="$1" '$1 == "answers_per_s" {
		for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }'
}
MEM_CELL="n/a" MEM_MED=n/a MEM_WRONG=n/a MEM_WALL_CELL=
if ((MEM)) && [[ -z $MEM_NA ]]; then
	if "$ZONEC" compile -q -o "$TMP/zone.snap" "$ZONEFILE" >"$TMP/compile.log" 2>&1; then
		for r in $(seq "$RUNS"); do
			prefix=p53bm${ID}r$r
			EAL_PREFIXES+=("$prefix")
			if timeout -k 5 $((MEM_SECONDS + 60)) "$MEMBENCH" -s "$TMP/zone.snap" -i "$QUERIES" \
				-t "$MEM_SECONDS" -l 0,1 -p "$prefix" >"$TMP/mem.$r.res" 2>"$TMP/mem.$r.log" ||
				[[ $? == 1 ]]; then
				log "memory-fed run $r: $(grep 'answers/s over' "$TMP/mem.$r.log" | sed 's/^dpdk-mem-bench: //')"
				log "    $(grep 'avg burst' "$TMP/mem.$r.log" | sed 's/^dpdk-mem-bench: //')"
			else
				log "memory-fed run $r failed:"; tail -n 5 "$TMP/mem.$r.log" >&2
				: >"$TMP/mem.$r.res"
			fi
			rm -rf "/var/run/dpdk/$prefix"
		done
		read -r MEM_MED MEM_MIN MEM_MAX < <(memf answers_per_cpu_s | med_min_max)
		read -r MEM_WALL MEM_WMIN MEM_WMAX < <(memf answers_per_s | med_min_max)
		if [[ $MEM_MED != n/a ]]; then
			MEM_CELL="$(short "$MEM_MED") [$(short "$MEM_MIN" | tr -d k)-$(short "$MEM_MAX")]"
			MEM_WALL_CELL="$(short "$MEM_WALL") [$(short "$MEM_WMIN" | tr -d k)-$(short "$MEM_WMAX")]"
			MEM_WRONG="$(memf wrong | awk '{w += $1} END {print w + 0}') of $(memf checked | awk '{c += $1} END {print c + 0}') checked"
			MEM_NX=$(memf nxdomain_pct | median)
			MEM_BURST=$(memf avg_burst | median)
			MEM_CPU=$(paste <(memf worker_cpu_s) <(memf seconds) | awk '{c += $1; s += $2} END {if (s > 0) printf "%.0f\n", 100 * c / s; else print "n/a"}')
		fi
	else
		MEM_NA="pop53-zonec compile failed: $(tail -n 1 "$TMP/compile.log")"
	fi
fi
LOAD_AFTER=$(loadavg)

# ---- the table ----------------------------------------------------------------------
# vals NAME FIELD RATE: the field of every run at RATE, one a line
vals() {
	local r
	for r in $(seq "$RUNS"); do
		if [[ -s $TMP/$1.r$3.$r.res ]]; then awk -v f="$2" '{print $f}' "$TMP/$1.r$3.$r.res"; fi
	done
}
ran() { [[ -z ${NA[$1]:-} && -s $TMP/$1.r${RATE_LIST[0]}.1.res ]]; }
cellq() {  # cellq NAME RATE: "123.4k [120-125k]"
	local med lo hi
	read -r med lo hi < <(vals "$1" 4 "$2" | med_min_max)
	[[ $med != n/a ]] || { echo n/a; return; }
	echo "$(short "$med") [$(short "$lo" | tr -d k)-$(short "$hi")]"
}
TOP=${RATE_LIST[-1]}
pct_at_top() {  # median of answered/sent at the last rate
	local r
	for r in $(seq "$RUNS"); do
		if [[ -s $TMP/$1.r$TOP.$r.res ]]; then
			awk '{if ($1 > 0) printf "%.2f\n", 100 * $2 / $1}' "$TMP/$1.r$TOP.$r.res"
		fi
	done | median
}
wrong() {  # other RCODEs over all runs, and the NXDOMAIN share check
	cat "$TMP/$1".r*.res | awk -v want="$EXPECT_NX" -v echo="$2" '
		{ne += $5; nx += $6; ot += $7}
		END {
			t = ne + nx + ot
			if (t == 0) { print "n/a"; exit }
			if (echo) { printf "- (echo)\n"; exit }
			nxp = 100 * nx / t
			printf "%d (NX %.1f%% %s)\n", ot, nxp, (nxp - want < 1 && want - nxp < 1) ? "ok" : "MISMATCH" }'
}

hdr=(system)
for rate in "${RATE_LIST[@]}"; do
	if [[ $rate == max ]]; then hdr+=("max (-Q $(short "$MAX_QPS"))"); else hdr+=("$(short "$rate")"); fi
done
hdr+=("% at $TOP" "wrong answers" "/pop53-xdp")
ROW_FMT="%-14s"
for _ in "${RATE_LIST[@]}"; do ROW_FMT+=" | %-22s"; done
ROW_FMT+=" | %8s | %-22s | %10s\n"

echo
echo "rig: veth $VA <-> $NS:$VB, kxdpgun -t $SECONDS_RUN -b 10 -F 1 on CPU 1, servers on CPU 0; $RUNS run(s) per point"
echo "zone: $ORIGIN, $RECORDS records ($NAMES names); queries: $(wc -l <"$QUERIES") lines, $EXPECT_NX % NXDOMAIN"
echo "machine: $NCPU CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel $(uname -r)"
echo "versions: pop53 $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'); $(knotd --version 2>/dev/null | head -n 1); $(nsd -v 2>&1 | head -n 1); $(kxdpgun -V 2>&1 | head -n 1)"
echo "load average: before $LOAD_BEFORE, after the rig $LOAD_RIG, after memory-fed $LOAD_AFTER"
echo
echo "answered queries/s at each offered rate: median [min-max] of the runs"
row "${hdr[@]}"
sep=(--------------)
for _ in "${RATE_LIST[@]}"; do sep+=(----------------------); done
sep+=(-------- ---------------------- ----------)
row "${sep[@]}"
REF=
ran pop53-xdp && REF=$(vals pop53-xdp 4 "$TOP" | median)
for s in "${SYSTEM_LIST[@]}"; do
	if ! ran "$s"; then
		cells=()
		for _ in "${RATE_LIST[@]}"; do cells+=(n/a); done
		row "$s" "${cells[@]}" n/a n/a n/a
		continue
	fi
	cells=()
	for rate in "${RATE_LIST[@]}"; do cells+=("$(cellq "$s" "$rate")"); done
	echo_mode=0
	[[ $s != testpmd ]] || echo_mode=1
	row "$s" "${cells[@]}" "$(pct_at_top "$s")" "$(wrong "$s" "$echo_mode")" \
		"$(ratio "$(vals "$s" 4 "$TOP" | median)" "${REF:-n/a}")"
done
sent_cells=()
for rate in "${RATE_LIST[@]}"; do
	v=$(for s in "${SYSTEM_LIST[@]}"; do if ran "$s"; then vals "$s" 3 "$rate"; fi; done | median)
	sent_cells+=("$(short "$v")")
done
row "(kxdpgun sent)" "${sent_cells[@]}" "" "" ""
echo
if [[ -n $MEM_NA ]]; then
	echo "memory-fed (worker loop over net_ring, one lcore): n/a ($MEM_NA)"
elif ((MEM)); then
	echo "memory-fed (the worker loop over net_ring on one lcore, fed and checked by the main lcore; $RUNS x ${MEM_SECONDS} s):"
	echo "    per core: $MEM_CELL answers per CPU second of the worker; goal 10.0M: $(ratio "$MEM_MED" "$GOAL_PER_CORE") of it"
	echo "    wall:     ${MEM_WALL_CELL:-n/a} answers/s (the worker had ${MEM_CPU:-?} % of its core: the rest went to other processes)"
	echo "    wrong: $MEM_WRONG; NXDOMAIN ${MEM_NX:-?} % (want $EXPECT_NX %); worker avg burst ${MEM_BURST:-?} of 32"
	if awk -v b="${MEM_BURST:-0}" 'BEGIN {exit !(b < 28)}'; then
		echo "    (avg burst < 28: the worker often found its ring empty: the feeder on the main lcore, not the"
		echo "    worker, set the pace, and the worker's empty polls count as busy: the per-core figure is a lower bound)"
	fi
fi
for s in "${SYSTEM_LIST[@]}"; do
	[[ -n ${NA[$s]:-} ]] && echo "$s: n/a: ${NA[$s]}"
done
for s in pop53-xdp pop53-packet; do
	if [[ -s $TMP/$s.counters ]]; then
		echo "$s counters at exit:"
		sed 's/^/    /' "$TMP/$s.counters"
	fi
done
echo
echo "% at $TOP: answered / sent by kxdpgun at the last offered rate (median of runs); goal: pop53 >= 99 % with 0 wrong."
echo "wrong answers: RCODEs other than NOERROR and NXDOMAIN over all runs; NX: NXDOMAIN share of the answers (want $EXPECT_NX %)."
echo "/pop53-xdp: answered q/s at $TOP against pop53 on net_af_xdp (above 1: more than pop53)."
echo "testpmd echoes the queries (5tswap): no DNS work; its row is the rig's ceiling, and its 'answers' are RCODE 0."
echo "On veth the kernel's delivery work runs on the sending core: queries' delivery on CPU 1 (kxdpgun's), answers' on CPU 0."
