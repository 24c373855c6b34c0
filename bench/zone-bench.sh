#!/usr/bin/env bash
# bench/zone-bench.sh — zone compile and load figures, pop53 against Knot DNS
# and NSD, on one generated zone (bench/gen-zone.py: A, AAAA, MX, TXT mix).
#
# pop53:  compile time      `pop53-zonec compile` wall time (zone file -> snapshot)
#         snapshot size     bytes, and bytes per record of the zone file
#         load time         `pop53-zonec bench-load` (open + verify, ms)
# knot:   start -> SOA      knotd started on 127.0.0.1 with a temporary config,
#                           a UDP client polls its SOA every 20 ms until it
#                           answers (kdig then confirms the answer)
# nsd:    start -> SOA      the same with `nsd -d`
# Servers and pop53-zonec run pinned to core 0, the script and clients to core 1.
# Each figure is the median of --runs runs. Goal: pop53 compiles faster than
# either peer loads the zone, and loads its snapshot in under 100 ms.
#
# Usage: bench/zone-bench.sh [-n NAMES] [-r RUNS] [--zone FILE --origin NAME]
#                            [--no-setup] [--no-peers] [--keep]
#   -n NAMES      names in the generated zone (default 1000000; 10000 is quick)
#   -r RUNS       runs per measure (default 3)
#   --zone FILE   use this zone file instead of generating one (needs --origin)
#   --no-setup    do not run scripts/setup.sh (install + build) first
#   --no-peers    measure pop53 only
#   --keep        keep the temporary directory (its path is printed)
# Environment: POP53_BUILD (build directory, default build),
#              BENCH_TIMEOUT (seconds one server may take to answer, default 600)
#
# Everything goes to a temporary directory, never into the repository; every
# server started here is killed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

NAMES=1000000
RUNS=3
ZONE_IN=
ORIGIN=bench.example.
SETUP=1
PEERS=1
KEEP=0
while (($#)); do
	case $1 in
	-n|--names) NAMES=$2; shift ;;
	-r|--runs) RUNS=$2; shift ;;
	--zone) ZONE_IN=$2; shift ;;
	--origin) ORIGIN=$2; shift ;;
	--no-setup) SETUP=0 ;;
	--no-peers) PEERS=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "zone-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $NAMES =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "zone-bench: bad -n or -r" >&2; exit 2; }
[[ $ORIGIN == *. ]] || ORIGIN=$ORIGIN.
BUILD=${POP53_BUILD:-build}
ZONEC=$BUILD/tools/pop53-zonec
TIMEOUT=${BENCH_TIMEOUT:-600}

# ---- cleanup: kill what we started, remove the temporary directory --------
SERVER_PID=   # the one server running now (there is never more than one)
TMP=
cleanup() {
	if [[ -n $SERVER_PID ]]; then
		stop_server "$SERVER_PID"
		SERVER_PID=
	fi
	bench_rm_tmp "$TMP" "$KEEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((SETUP)); then
	bash scripts/setup.sh >&2
fi

# ---- CPU pinning: servers on core 0, this script and its clients on core 1
bench_pin clients

TMP=$(bench_tmp pop53-bench)
mkdir -p "$TMP/zones"
ZONEFILE=$TMP/zones/${ORIGIN%.}.zone

# ---- the zone ----------------------------------------------------------------
if [[ -n $ZONE_IN ]]; then
	cp "$ZONE_IN" "$ZONEFILE"
	RECORDS=$(grep -cvE '^[[:space:]]*($|;|\$)' "$ZONEFILE" || true)
	log "zone $ZONE_IN ($ORIGIN): ~$RECORDS records (lines)"
else
	log "generating $NAMES names into $ZONEFILE"
	"$PY" bench/gen-zone.py -n "$NAMES" --origin "$ORIGIN" -o "$ZONEFILE" --stats "$TMP/zone.json"
	RECORDS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/zone.json")
fi
ZONE_BYTES=$(stat -c %s "$ZONEFILE")

# ---- pop53 ----------------------------------------------------------------------
P_COMPILE=n/a P_SIZE=n/a P_BPR=n/a P_LOAD=n/a
SNAP=$TMP/bench.snap
if [[ -x $ZONEC ]]; then
	times=()
	for r in $(seq "$RUNS"); do
		rm -f "$SNAP"
		t0=$(now_ns)
		if ! "${ON_SERVER_CPU[@]}" "$ZONEC" compile -q -o "$SNAP" "$ZONEFILE" >"$TMP/compile.log" 2>&1; then
			log "pop53-zonec compile failed:"; tail -n 20 "$TMP/compile.log" >&2
			times=(); break
		fi
		t1=$(now_ns)
		times+=("$(( (t1 - t0) / 1000000 ))")
		log "pop53 compile run $r: ${times[-1]} ms"
	done
	if ((${#times[@]})); then
		P_COMPILE=$(printf '%s\n' "${times[@]}" | median)
		P_SIZE=$(stat -c %s "$SNAP")
		P_BPR=$(awk -v s="$P_SIZE" -v n="$RECORDS" 'BEGIN {printf "%.1f", s / n}')
		if "${ON_SERVER_CPU[@]}" "$ZONEC" bench-load "$SNAP" $((RUNS > 5 ? RUNS : 5)) >"$TMP/load.log" 2>&1; then
			# bench-load prints "load_ms MEDIAN min_ms ..."; failing that, take
			# the first number followed by "ms"
			P_LOAD=$(grep -oE 'load_ms[[:space:]:=]+[0-9]+(\.[0-9]+)?' "$TMP/load.log" | head -n 1 | grep -oE '[0-9.]+$' || true)
			[[ -n $P_LOAD ]] || P_LOAD=$(grep -oE '[0-9]+(\.[0-9]+)?[[:space:]]*ms' "$TMP/load.log" | head -n 1 | grep -oE '^[0-9.]+' || true)
			[[ -n $P_LOAD ]] || { log "bench-load printed no load time:"; cat "$TMP/load.log" >&2; P_LOAD=n/a; }
			log "pop53 bench-load: $(head -n 1 "$TMP/load.log")"
		else
			log "pop53-zonec bench-load not available or failed (load time n/a):"
			tail -n 5 "$TMP/load.log" >&2
		fi
	fi
else
	log "$ZONEC not built: pop53 figures are n/a"
fi

# ---- peers: start the server, poll its SOA, record the time -----------------------
# wait_soa PID PORT DIR: poll the server every 20 ms until it answers the
# zone's SOA (NOERROR, SOA in the answer section); print the ms elapsed
# since T_START (poll_soa in bench/lib.sh). kdig then asks once more, to
# show that a real client gets the SOA. On failure (server exited,
# BENCH_TIMEOUT passed) shows the logs in DIR.
wait_soa() {
	local pid=$1 port=$2 dir=$3 ns
	if ! ns=$(poll_soa 127.0.0.1 "$port" "$ORIGIN" "$pid" "$TIMEOUT" "$T_START"); then
		log "no answer from the server; its logs:"
		tail -n 20 "$dir"/*.log >&2
		return 1
	fi
	if ! kdig @127.0.0.1 -p "$port" +retry=1 +time=2 +norec +noall +answer SOA "$ORIGIN" >"$dir/kdig.txt" 2>&1 ||
		! grep -q 'SOA' "$dir/kdig.txt"; then
		log "kdig did not get the SOA:"; cat "$dir/kdig.txt" >&2
		return 1
	fi
	echo $((ns / 1000000))
}

# stop_server PID: TERM, wait up to 10 s, then KILL it and what it forked.
# shellcheck disable=SC2046  # the PIDs are words on purpose
stop_server() { stop_pid "$1" $(tree_pids "$1" 2>/dev/null || echo "$1"); }

# mem_kib PID: memory of PID and its descendants, as the sum of their PSS
# (shared pages split between the processes that share them), in KiB.
mem_kib() {
	local p total=0 pss
	for p in $(tree_pids "$1"); do
		pss=$(awk '/^Pss:/ {print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		[[ -n $pss ]] || pss=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + ${pss:-0}))
	done
	echo "$total"
}

# run_peer NAME: sets <NAME>_LOAD (median ms) and <NAME>_BPR (memory per record)
run_peer() {
	local name=$1 port times=() rsss=() r pid ms dir
	for r in $(seq "$RUNS"); do
		port=$(free_port 53530)
		dir=$TMP/$name.$r
		mkdir -p "$dir"
		case $name in
		knot) write_knot_conf "$dir" "127.0.0.1@$port" "$ZONEFILE" "$ORIGIN" ;;
		nsd) write_nsd_conf "$dir" 127.0.0.1 "$port" "$ZONEFILE" "$ORIGIN" ;;
		esac
		T_START=$(now_ns)
		case $name in
		knot) "${ON_SERVER_CPU[@]}" knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 & ;;
		nsd) "${ON_SERVER_CPU[@]}" nsd -d -c "$dir/nsd.conf" >"$dir/server.log" 2>&1 & ;;
		esac
		pid=$!
		SERVER_PID=$pid
		if ms=$(wait_soa "$pid" "$port" "$dir"); then
			times+=("$ms")
			rsss+=("$(mem_kib "$pid")")
			log "$name run $r: start -> SOA ${ms} ms, memory (PSS) $(( ${rsss[-1]} / 1024 )) MiB"
		else
			log "$name run $r failed"
		fi
		stop_server "$pid"
		SERVER_PID=
		rm -rf "$dir/db"
	done
	if ((${#times[@]})); then
		printf -v "${name^^}_LOAD" '%s' "$(printf '%s\n' "${times[@]}" | median)"
		printf -v "${name^^}_BPR" '%s' "$(printf '%s\n' "${rsss[@]}" | median |
			awk -v n="$RECORDS" '{printf "%.1f", $1 * 1024 / n}')"
	fi
}

KNOT_LOAD=n/a KNOT_BPR=n/a NSD_LOAD=n/a NSD_BPR=n/a
if ((PEERS)); then
	for tool in knotd nsd kdig; do
		command -v "$tool" >/dev/null || { log "$tool not found (run scripts/setup.sh)"; exit 1; }
	done
	run_peer knot
	run_peer nsd
fi

# ---- the table ------------------------------------------------------------------------
ratio1x() { ratio "$1" "$2" '%.1fx\n'; }  # PEER POP53 -> PEER/POP53 with an x, or n/a
ROW_FMT='%-40s | %12s | %12s | %12s | %10s | %10s\n'


echo
echo "zone: $ORIGIN, $RECORDS records, $ZONE_BYTES bytes of zone file ($NAMES generated names)"
echo "runs: median of $RUNS; $PINNING; $NCPU CPUs: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "versions: $(knotd --version 2>/dev/null | head -n 1); $(nsd -v 2>&1 | head -n 1)"
echo
row "measure" "pop53" "knot" "nsd" "knot/pop53" "nsd/pop53"
row "----------------------------------------" "------------" "------------" "------------" "----------" "----------"
row "zone file -> ready to answer (ms) [1]" "$P_COMPILE" "$KNOT_LOAD" "$NSD_LOAD" "$(ratio1x "$KNOT_LOAD" "$P_COMPILE")" "$(ratio1x "$NSD_LOAD" "$P_COMPILE")"
row "load: start -> ready to answer (ms) [2]" "$P_LOAD" "$KNOT_LOAD" "$NSD_LOAD" "$(ratio1x "$KNOT_LOAD" "$P_LOAD")" "$(ratio1x "$NSD_LOAD" "$P_LOAD")"
row "bytes per record [3]" "$P_BPR" "$KNOT_BPR" "$NSD_BPR" "$(ratio1x "$KNOT_BPR" "$P_BPR")" "$(ratio1x "$NSD_BPR" "$P_BPR")"
row "snapshot size (bytes)" "$P_SIZE" "-" "-" "-" "-"
echo
echo "[1] pop53: pop53-zonec compile (parse + check + compile + write); peers: server start until its SOA answers."
echo "[2] pop53: pop53-zonec bench-load (map + verify the snapshot); peers: the same start -> SOA as [1]."
echo "[3] pop53: snapshot file size / records; peers: server memory after load (PSS of its processes) / records: memory, not a file."
echo

goal() {  # goal TEXT OK(1/0/-)
	case $2 in 1) echo "goal: $1: MET" ;; 0) echo "goal: $1: NOT MET" ;; *) echo "goal: $1: n/a" ;; esac
}
g1=-
if [[ $P_COMPILE != n/a && ($KNOT_LOAD != n/a || $NSD_LOAD != n/a) ]]; then
	g1=$(awk -v p="$P_COMPILE" -v k="$KNOT_LOAD" -v n="$NSD_LOAD" 'BEGIN {
		ok = 1; if (k != "n/a" && p + 0 >= k + 0) ok = 0; if (n != "n/a" && p + 0 >= n + 0) ok = 0; print ok }')
fi
g2=-
[[ $P_LOAD == n/a ]] || g2=$(awk -v p="$P_LOAD" 'BEGIN {print (p + 0 < 100) ? 1 : 0}')
goal "compile faster than knot and nsd load the zone" "$g1"
goal "load the snapshot in under 100 ms" "$g2"
