#!/usr/bin/env bash
# bench/rrl-bench.sh — response rate limiting under a reflection attack
# (issue 7), on the veth rig of dpdk-bench.sh: pop53's DPDK dataplane with
# RRL on and off, against Knot DNS with its mod-rrl on and off.
#
# The rig: a veth pair, the server end A in the root namespace, the client
# end B in a namespace; the service address S (198.19.N.53) on lo, routed
# via A. The servers:
#   pop53-rrl     build/dataplane/rrl_server (the DPDK worker loop with
#                 RRL, configured like BIND's defaults: 5 responses/s,
#                 window 15, slip 2, /24; cookies on), net_af_xdp on A
#   pop53-off     the same with P53_RRL=0
#   knot-rrl      knotd, XDP on A and kernel UDP on S, mod-rrl with
#                 rate-limit 5, slip 2 (Knot's defaults otherwise)
#   knot-off      knotd without mod-rrl
# Servers on CPU 0 (the DPDK process: main and worker lcore both on CPU
# 0), clients on CPU 1.
#
# Figures, --runs times each (median [min-max]):
#   amplification  tests/integration/rrl_flood.py in the namespace: a
#                  spoofed flood (raw frames from ~250 addresses of
#                  203.0.113.0/24, big.example.com TXT: ~800 bytes of
#                  answer to an 86-byte query) at --rate for -t seconds;
#                  the answers to the flood's addresses are captured on B:
#                  bytes out / bytes in (Ethernet frames). Goal with RRL:
#                  below 1.
#   legit          the share of a resolver's queries (B's link address,
#                  another prefix, 1 retry) answered during the flood.
#                  Goal: 100 %.
#   full load      kxdpgun -Q 10M (as fast as it sends) for --load-seconds
#                  over 2000 names: answers/s. kxdpgun sends from few
#                  addresses, so with 5/s it would measure the limiting,
#                  not its cost: for these runs the server is restarted
#                  with a rate of 100000/s (pop53: P53_RRL_RESPONSES_PER_SECOND,
#                  Knot: rate-limit): every response is accounted (hash,
#                  probe, debit), none is limited. Goal: RRL on costs under
#                  5 % of answers against RRL off.
#
# Usage: bench/rrl-bench.sh [-t SECONDS] [--rate QPS] [--runs N]
#                           [--load-seconds S] [--systems LIST] [--quick] [--keep]
#   -t SECONDS        flood length (default 10)
#   --rate QPS        flood rate (default 5000; python sends it)
#   --runs N          runs of each figure per system (default 3)
#   --load-seconds S  length of each full-load kxdpgun run (default 5)
#   --systems LIST    of pop53-rrl,pop53-off,knot-rrl,knot-off (default all)
#   --quick           smoke run: -t 3, --runs 1, --load-seconds 2
#   --keep            keep the temporary directory
# Environment: POP53_BUILD (build directory, default build).
#
# Needs root. Everything it makes (processes by PID, the namespace, the
# veth pair, XDP programs, the service address, /var/run/dpdk/<ours>, the
# temporary directory) is removed on every exit path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=rrl-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

FLOOD_SECONDS=10
RATE=5000
RUNS=3
LOAD_SECONDS=5
SYSTEMS=pop53-rrl,pop53-off,knot-rrl,knot-off
KEEP=0
while (($#)); do
	case $1 in
	-t) FLOOD_SECONDS=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--load-seconds) LOAD_SECONDS=$2; shift ;;
	--systems) SYSTEMS=$2; shift ;;
	--quick) FLOOD_SECONDS=3 RUNS=1 LOAD_SECONDS=2 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "rrl-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
bad() { echo "rrl-bench: $*" >&2; exit 2; }
[[ $FLOOD_SECONDS =~ ^[1-9][0-9]*$ ]] || bad "-t wants whole seconds >= 1"
[[ $RATE =~ ^[1-9][0-9]*$ ]] || bad "--rate wants a number >= 1"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bad "--runs wants a number >= 1"
[[ $LOAD_SECONDS =~ ^[1-9][0-9]*$ ]] || bad "--load-seconds wants whole seconds >= 1"
IFS=, read -r -a SYSTEM_LIST <<<"$SYSTEMS"
for s in "${SYSTEM_LIST[@]}"; do
	[[ " pop53-rrl pop53-off knot-rrl knot-off " == *" $s "* ]] || bad "--systems: unknown system '$s'"
done

BUILD=${POP53_BUILD:-build}
SERVER=$BUILD/dataplane/rrl_server
ZONEC=$BUILD/tools/pop53-zonec
XDP_O=$BUILD/dataplane/xdp_dns.o
FLOOD_PY=$ROOT/tests/integration/rrl_flood.py
MAX_QPS=10000000

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, veth, XDP)"
for t in ip kxdpgun ethtool taskset timeout; do
	command -v "$t" >/dev/null || die "'$t' not found (scripts/setup.sh installs it)"
done

# ---- names, and the cleanup of everything they stand for -----------------------
ID=$$
NS=p53rn$ID
VA=p53rx$ID
VB=p53ry$ID
SUBNET=$((RANDOM % 200 + 20))
A4=198.18.$SUBNET.1
B4=198.18.$SUBNET.2
S4=198.19.$SUBNET.53
TMP=
SERVER_PID=
LOAD_PID=
EAL_PREFIXES=()
RIG=0
SVC=0

xdp_off() {
	ip link set dev "$VA" xdp off 2>/dev/null || true
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true
}

cleanup() {
	local p
	if [[ -n $LOAD_PID ]]; then stop_pid "$LOAD_PID"; LOAD_PID=; fi
	if [[ -n $SERVER_PID ]]; then stop_pid "$SERVER_PID"; SERVER_PID=; fi
	if ((RIG)); then
		xdp_off
		ip link del "$VA" 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
		RIG=0
	fi
	if ((SVC)); then ip addr del "$S4/32" dev lo 2>/dev/null || true; SVC=0; fi
	for p in "${EAL_PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	bench_rm_tmp "$TMP" "$KEEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

declare -A NA=()
if [[ ! -x $SERVER ]]; then
	NA[pop53-rrl]="$SERVER not built (DPDK dataplane)" NA[pop53-off]=${NA[pop53-rrl]}
fi
[[ -f $XDP_O ]] || { NA[pop53-rrl]="no $XDP_O"; NA[pop53-off]="no $XDP_O"; }
command -v knotd >/dev/null || { NA[knot-rrl]="knotd not found"; NA[knot-off]="knotd not found"; }
[[ -x $ZONEC ]] || die "no $ZONEC (build first)"

bench_pin "the clients"
TMP=$(bench_tmp pop53-rrl-bench)
mkdir -p "$TMP/zones"
ZONEFILE=$TMP/zones/example.com.zone
{
	echo '$ORIGIN example.com.'
	echo '$TTL 300'
	echo '@	IN SOA ns1 hostmaster 1 7200 900 1209600 300'
	echo '@	NS ns1'
	echo 'ns1	A 192.0.2.1'
	for c in a b c; do printf 'big\tTXT "%s"\n' "$(printf "$c%.0s" $(seq 250))"; done
	for i in $(seq 2000); do printf 'h%d\tA 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
} >"$ZONEFILE"
for i in $(seq 2000); do echo "h$i.example.com A"; done >"$TMP/queries.txt"
sed 's/\.com /.com. /' "$TMP/queries.txt" >"$TMP/mem-queries.txt"   # dpdk-mem-bench wants absolute names
"$ZONEC" compile -q -o "$TMP/zone.snap" "$ZONEFILE" >"$TMP/zonec.log" 2>&1 ||
	die "pop53-zonec compile: $(tail -n 2 "$TMP/zonec.log")"

# ---- the rig ----------------------------------------------------------------------
ip netns add "$NS" || die "cannot create namespace $NS"
RIG=1
ip link add "$VA" type veth peer name "$VB" netns "$NS" || die "cannot create veth $VA/$VB"
ip addr add "$A4/24" dev "$VA"
ip link set "$VA" up
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$B4/24" dev "$VB"
ip -n "$NS" link set "$VB" up
ip addr add "$S4/32" dev lo && SVC=1
ip -n "$NS" route add "$S4/32" via "$A4"
MAC_A=$(cat "/sys/class/net/$VA/address")
MAC_B=$(ip netns exec "$NS" cat "/sys/class/net/$VB/address")
ip neigh replace "$B4" lladdr "$MAC_B" dev "$VA" nud permanent
ip -n "$NS" neigh replace "$A4" lladdr "$MAC_A" dev "$VB" nud permanent
ip netns exec "$NS" ethtool -K "$VB" tx off >/dev/null 2>&1 || log "warning: cannot turn off tx checksum offload on $VB"
log "rig: $VA ($A4, $MAC_A) <-> $NS:$VB ($B4, $MAC_B), service $S4; load average $(loadavg)"

# ---- the systems ------------------------------------------------------------------
write_knot() {  # write_knot DIR RRL(0|1) RATE
	local dir=$1
	mkdir -p "$dir/run" "$dir/db"
	{
		echo "server:"
		echo "    rundir: \"$dir/run\""
		echo "    listen: $S4@53"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "xdp:"
		echo "    listen: $VA@53"
		echo "log:"
		echo "  - target: stderr"
		echo "    any: notice"
		echo "database:"
		echo "    storage: \"$dir/db\""
		if (($2)); then
			echo "mod-rrl:"
			echo "  - id: flood"
			echo "    rate-limit: $3"
			echo "    slip: 2"
		fi
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$(dirname "$ZONEFILE")\""
		echo "    zonefile-sync: -1"
		echo "    zonefile-load: whole"
		echo "    journal-content: none"
		(($2)) && echo "    global-module: mod-rrl/flood"
		echo "zone:"
		echo "  - domain: example.com."
		echo "    file: \"$(basename "$ZONEFILE")\""
	} >"$dir/knot.conf"
}

start_system() {  # start_system NAME flood|load: 1 (NA[NAME] set) when it cannot
	local name=$1 dir=$TMP/$1 prefix rrl=1 rate=5
	mkdir -p "$dir"
	[[ $2 == flood ]] || rate=100000
	xdp_off
	case $name in
	pop53-*)
		[[ $name == pop53-rrl ]] || rrl=0
		prefix=p53rb${ID}${name//-/}$2
		EAL_PREFIXES+=("$prefix")
		P53_RRL=$rrl P53_RRL_RESPONSES_PER_SECOND=$rate P53_COOKIE_SECRET=00112233445566778899aabbccddeeff taskset -c 0 "$SERVER" \
			--eal "--lcores 0@0,1@0 --no-huge -m 256 --no-pci --file-prefix $prefix --vdev net_af_xdp0,iface=$VA,xdp_prog=$XDP_O --log-level *:notice" \
			--listen "$S4@53" --snapshot "$TMP/zone.snap" >"$dir/server.$2.log" 2>&1 &
		SERVER_PID=$! ;;
	knot-*)
		[[ $name == knot-rrl ]] || rrl=0
		write_knot "$dir" "$rrl" "$rate"
		taskset -c 0 knotd -c "$dir/knot.conf" >"$dir/server.$2.log" 2>&1 &
		SERVER_PID=$! ;;
	esac
	if ! SOA_NETNS=$NS poll_soa "$S4" 53 example.com "$SERVER_PID" 60 "$(now_ns)" >/dev/null; then
		NA[$name]="no SOA answer: $(grep -v '^EAL' "$dir/server.$2.log" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	sleep 0.5
	log "$name (pid $SERVER_PID, $2 configuration) answers at $S4@53"
}

stop_system() {
	[[ -z $SERVER_PID ]] || stop_pid "$SERVER_PID"
	SERVER_PID=
	xdp_off
}

# flood_run NAME TAG: one flood + resolver run; JSON in $TMP/NAME.TAG.json
flood_run() {
	local out=$TMP/$1.flood.$2.json
	timeout -k 5 $((FLOOD_SECONDS + 90)) ip netns exec "$NS" taskset -c 1 "$PY" "$FLOOD_PY" \
		--iface "$VB" --src-mac "$MAC_B" --dst-mac "$MAC_A" --service "$S4" \
		--legit-addr "$B4" --names 200 --rate "$RATE" --seconds "$FLOOD_SECONDS" \
		>"$out" 2>"$TMP/$1.flood.$2.err" || { log "rrl_flood.py against $1 failed: $(tail -n 2 "$TMP/$1.flood.$2.err")"; : >"$out"; }
	log "$(printf '%-10s flood %s: %s' "$1" "$2" "$(cat "$out")")"
}

# load_run NAME TAG: one kxdpgun run at full speed; "sent recv rps" in .res
load_run() {
	local out=$TMP/$1.load.$2.out
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true
	timeout -k 5 $((LOAD_SECONDS + 30)) ip netns exec "$NS" taskset -c 1 kxdpgun -t "$LOAD_SECONDS" \
		-Q "$MAX_QPS" -b 10 -p 53 -i "$TMP/queries.txt" -F 1 -I "$VB" -R "$MAC_A" \
		-l 198.18.0.0/16 "$S4" >"$out" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID" || log "kxdpgun against $1 exited $? (output in $out)"
	LOAD_PID=
	ip -n "$NS" link set dev "$VB" xdp off 2>/dev/null || true
	awk -v secs="$LOAD_SECONDS" '
		/^total queries:/ {sent = $3}
		/^total replies:/ {recv = $3}
		/^duration:/ {d = $2}
		END {
			if (sent == "") { print "0 0 0"; exit }
			if (d + 0 <= 0) d = secs
			printf "%d %d %.0f\n", sent, recv, recv / d
		}' "$out" >"$TMP/$1.load.$2.res"
	log "$(printf '%-10s load %s: sent %s answered %s answers/s %s' "$1" "$2" $(cat "$TMP/$1.load.$2.res"))"
}

LOAD_BEFORE=$(loadavg)
for s in "${SYSTEM_LIST[@]}"; do
	for phase in flood load; do
		if [[ -n ${NA[$s]:-} ]]; then log "$s: n/a (${NA[$s]})"; break; fi
		if ! start_system "$s" "$phase"; then log "$s: n/a (${NA[$s]})"; stop_system; break; fi
		for r in $(seq "$RUNS"); do
			"${phase}_run" "$s" "$r"
			kill -0 "$SERVER_PID" 2>/dev/null || break
		done
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			NA[$s]="exited during the runs: $(tail -n 2 "$TMP/$s/server.$phase.log" | tr '\n' ' ')"
			SERVER_PID=
		fi
		stop_system
		sed -n "s/^rrl_server: rx/$phase: rx/p" "$TMP/$s/server.$phase.log" >>"$TMP/$s.counters" 2>/dev/null || true
	done
done

# ---- memory-fed: what RRL costs the worker loop itself --------------------------------
# The rig's full load is the generator's ceiling (see the note under the table), so
# the cost is measured where the loop is CPU-bound: bench/dpdk-mem-bench runs the DPDK
# worker loop on one lcore fed from memory (no kernel, no NIC), clients spread over
# 256 /24s, with RRL at 100000/s (every response accounted, none limited).
# dpdk-mem-bench gives each of the 2000 queries its own fixed client, so there are
# 2000 accounts, which the table holds: every response finds its account and debits
# it, as under a steady load of resolvers that repeat their questions (test_rrl's
# speed line measures the other case, every response a new account).
# Each run switches RRL on and off in turns of 0.2 s inside one process
# (dpdk-mem-bench -A, dp_rrl_suspend) and compares the answers per second of the
# two states: on this shared VM separate runs drift by more than the cost (pairs of
# runs gave -15 % to +15 %), turns a fifth of a second apart do not. --runs runs of
# 2 x --load-seconds (at least 6 s: 30 turns); the cost is their median.
MEMBENCH=$BUILD/bench/dpdk-mem-bench
MEM_SECONDS=$((LOAD_SECONDS * 2 > 6 ? LOAD_SECONDS * 2 : 6))
MEM_NA=
[[ -x $MEMBENCH ]] || MEM_NA="$MEMBENCH not built (DPDK off)"
if [[ -z $MEM_NA ]]; then
	for r in $(seq "$RUNS"); do
		prefix=p53rm$ID$r
		EAL_PREFIXES+=("$prefix")
		if ! timeout -k 5 $((MEM_SECONDS + 60)) "$MEMBENCH" -s "$TMP/zone.snap" \
			-i "$TMP/mem-queries.txt" -t "$MEM_SECONDS" -l 0,1 -p "$prefix" \
			-R 100000 -A 0.2 >"$TMP/mem.$r.res" 2>"$TMP/mem.$r.log"; then
			log "memory-fed run $r failed: $(tail -n 2 "$TMP/mem.$r.log" | tr '\n' ' ')"
			: >"$TMP/mem.$r.res"
		fi
		rm -rf "/var/run/dpdk/$prefix"
		log "memory-fed run $r: $(grep 'RRL costs' "$TMP/mem.$r.log" | sed 's/^dpdk-mem-bench: //')"
	done
fi
# The same loop's instructions, which the VM's noise does not touch: callgrind over
# dpdk-mem-bench -c (the loop driven on one thread until 100000 answers), RRL on and off;
# dp_poll's inclusive count over the answers is the loop's instructions per answer.
INSTR_ON=n/a INSTR_OFF=n/a INSTR_NA=
if [[ -n $MEM_NA ]]; then
	INSTR_NA=$MEM_NA
elif ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	INSTR_NA="valgrind not installed (scripts/setup.sh installs it)"
else
	for mode in on off; do
		prefix=p53ri$ID$mode
		EAL_PREFIXES+=("$prefix")
		rrl=()
		[[ $mode == on ]] && rrl=(-R 100000)
		if timeout -k 5 300 valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$mode" \
			"$MEMBENCH" -s "$TMP/zone.snap" -i "$TMP/mem-queries.txt" -l 0 -c 100000 -n 256 \
			-p "$prefix" "${rrl[@]}" >"$TMP/cg.$mode.res" 2>"$TMP/cg.$mode.log"; then
			v=$(callgrind_annotate --inclusive=yes "$TMP/cg.$mode" 2>/dev/null |
				awk '/dpdk\.c:dp_poll \[/ && !done {gsub(",", "", $1); printf "%.1f\n", $1 / 100000; done = 1}')
			[[ -n $v ]] && printf -v "INSTR_${mode^^}" '%s' "$v"
		else
			log "callgrind run ($mode) failed: $(tail -n 2 "$TMP/cg.$mode.log" | tr '\n' ' ')"
		fi
		rm -rf "/var/run/dpdk/$prefix"
	done
fi
LOAD_AFTER=$(loadavg)

# ---- the table ----------------------------------------------------------------------
jf() {  # jf NAME KEY: KEY of every flood run's JSON, one a line
	local f
	for f in "$TMP/$1".flood.*.json; do
		[[ -s $f ]] && "$PY" -c 'import json,sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print(v if v is not None else "")' "$f" "$2"
	done | grep -v '^$' || true
}
legit_pct() {
	local f
	for f in "$TMP/$1".flood.*.json; do
		[[ -s $f ]] && "$PY" -c 'import json,sys; r = json.load(open(sys.argv[1])); print("%.1f" % (100.0 * r["legit_answered"] / r["legit_asked"]))' "$f"
	done || true
}
loadv() { { cat "$TMP/$1".load.*.res 2>/dev/null || true; } | awk '$3 > 0 {print $3}'; }
loadpct() { { cat "$TMP/$1".load.*.res 2>/dev/null || true; } | awk '$1 > 0 {printf "%.1f\n", 100 * $2 / $1}'; }
cell() {  # cell: "MED [MIN-MAX]" of stdin, with FORMAT for the numbers
	local med lo hi
	read -r med lo hi < <(med_min_max)
	[[ $med != n/a ]] || { echo n/a; return; }
	echo "$med [$lo-$hi]"
}
ran() { [[ -z ${NA[$1]:-} ]] && compgen -G "$TMP/$1.flood.*.json" >/dev/null; }

echo
echo "rig: veth $VA <-> $NS:$VB, service $S4; servers on CPU 0, clients on CPU 1; $RUNS run(s) per figure"
echo "flood: ${RATE}/s for ${FLOOD_SECONDS} s from 203.0.113.0/24 (big.example.com TXT, ~10x amplification unlimited);"
echo "       resolver: 200 distinct names from $B4 during the flood; full load: kxdpgun -Q 10M -l 198.18.0.0/16, ${LOAD_SECONDS} s, 2000 names"
echo "machine: $NCPU CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel $(uname -r)"
echo "versions: pop53 $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'); $(knotd --version 2>/dev/null | head -n 1); $(kxdpgun -V 2>&1 | head -n 1)"
echo "load average: before $LOAD_BEFORE, after $LOAD_AFTER"
echo
ROW_FMT="%-10s | %-22s | %-12s | %-19s | %-24s | %-9s | %-9s\n"
row system "amplification (out/in)" "full answers" "resolver answered %" "full load answers/s" "% of sent" "/RRL off"
row ---------- ---------------------- ------------ ------------------- ------------------------ --------- ---------
REF_POP=$(loadv pop53-off | median)
REF_KNOT=$(loadv knot-off | median)
for s in "${SYSTEM_LIST[@]}"; do
	if ! ran "$s"; then row "$s" n/a n/a n/a n/a n/a n/a; continue; fi
	ref=$REF_POP
	[[ $s != knot-* ]] || ref=$REF_KNOT
	row "$s" "$(jf "$s" amplification | cell)" "$(jf "$s" flood_full | cell)" \
		"$(legit_pct "$s" | cell)" "$(loadv "$s" | cell)" "$(loadpct "$s" | median)" \
		"$(ratio "$(loadv "$s" | median)" "$ref" "%.3f\n")"
done
echo
memv() {  # memv KEY: KEY of every memory-fed run
	{ cat "$TMP"/mem.*.res 2>/dev/null || true; } |
		awk -v k="$1" '$1 == "rrl_on_per_s" {for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1)}'
}
MEM_COST=n/a
if [[ -z $MEM_NA ]]; then
	MEM_COST=$(memv rrl_cost_pct | median)
	echo "memory-fed DPDK worker loop, 1 core ($RUNS runs of $MEM_SECONDS s, RRL on and off in turns of 0.2 s" \
		"in each, answers/s): RRL off $(memv rrl_off_per_s | cell), RRL on $(memv rrl_on_per_s | cell);" \
		"RRL cost $(memv rrl_cost_pct | cell) % (median [min-max] of runs)"
else
	echo "memory-fed DPDK worker loop: n/a ($MEM_NA)"
fi
if [[ -z $INSTR_NA && $INSTR_ON != n/a && $INSTR_OFF != n/a ]]; then
	echo "the same loop's instructions per answer (callgrind, dpdk-mem-bench -c 100000): RRL off $INSTR_OFF," \
		"on $INSTR_ON: RRL adds $(awk -v a="$INSTR_ON" -v b="$INSTR_OFF" 'BEGIN {printf "%.1f (%.1f %%)", a - b, 100 * (a - b) / b}')"
else
	echo "the same loop's instructions per answer: n/a (${INSTR_NA:-callgrind failed, see the log})"
fi
POP_AMP=$(jf pop53-rrl amplification | median)
KNOT_AMP=$(jf knot-rrl amplification | median)
echo "knot-rrl / pop53-rrl: amplification $(ratio "$KNOT_AMP" "$POP_AMP"), full load $(ratio "$(loadv knot-rrl | median)" "$(loadv pop53-rrl | median)")"
echo "goals: amplification with RRL < 1.0: $(awk -v a="$POP_AMP" 'BEGIN {print (a != "n/a" && a < 1) ? "met" : "NOT met"}') ($POP_AMP);" \
	"resolver answered 100 %: $(legit_pct pop53-rrl | awk '$1 < 100 {bad = 1} END {print NR && !bad ? "met" : "NOT met"}');" \
	"RRL cost < 5 % (memory-fed, CPU-bound): $(awk -v c="$MEM_COST" 'BEGIN {print (c != "n/a" && c < 5) ? "met" : "NOT met"}') ($MEM_COST %);" \
	"at the rig's full load: $(ratio "$(loadv pop53-rrl | median)" "$REF_POP" "%.3f\n") of RRL off"
for s in "${SYSTEM_LIST[@]}"; do
	[[ -n ${NA[$s]:-} ]] && echo "$s: n/a: ${NA[$s]}"
	[[ -s $TMP/$s.counters ]] && { echo "$s counters at exit:"; sed 's/^/    /' "$TMP/$s.counters"; }
done
echo
echo "amplification: Ethernet bytes of the answers to the flood's addresses / bytes of the flood's queries (captured on $VB)."
echo "full answers: answers to the flood that were not truncated (slip sends every 2nd limited one with TC=1, about the query's size)."
echo "/RRL off: full-load answers/s against the same server with RRL off (pop53-off, knot-off); goal for pop53-rrl > 0.95."
echo "% of sent: answered / sent by kxdpgun at full load. Near 100 % the generator, not the server, set the pace: the ratio then"
echo "only shows that RRL cost no answers at that rate; the memory-fed line above is the loop's own cost (per response in"
echo "isolation: tests/unit/test_rrl's speed line)."
