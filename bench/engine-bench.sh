#!/usr/bin/env bash
# bench/engine-bench.sh — answers per second of the answer engine alone: in
# process, one thread pinned to one core, no I/O (bench/engine-bench.c).
#
# Two generated zones (bench/gen-zone.py --mix: A, AAAA, MX, TXT, plus
# CNAMEs, wildcards and delegations), 1,000 and 1,000,000 names, compiled
# with pop53-zonec. For each, engine-bench replays a set of 65,536 queries
# made from the zone's own names: 50 % A/AAAA hits, 15 % NXDOMAIN, 10 %
# NODATA, 10 % CNAME, 10 % wildcard, 5 % referral, 90 % with EDNS, half with
# mixed case. Every response is checked against the expected answer class
# (RCODE, AA, answer count, the engine's kind); wrong answers are counted.
#
# Two ways to answer are measured:
#   single   engine_answer() one query at a time (the TCP door)
#   burst    engine_answer_burst() over bursts of 32, as the DPDK worker
#            loop answers an rx burst (and the kernel UDP door a
#            recvmmsg batch): when snap_burst_useful() says the
#            snapshot is too big for the caches, the burst's lookups run
#            interleaved (snap_lookup_burst) so their misses overlap;
#            otherwise the queries are answered one by one.
#
# answers/s is from the thread's CPU time (the engine's own cost: time when
# another process has the core does not count, though one that shares the
# caches still slows it); wall is from the clock. Each figure is the median
# of --runs runs, with min-max. No peer can be measured in process: the
# table compares with the goal (issue 3) instead.
#
# With --dnssec it measures DNSSEC instead (issue 9): a signed zone (the
# root zone from ../shared/zones/root.zone unless --zone says otherwise)
# with the same query set at DO=0 and at DO=1 (engine-bench --do), runs
# alternating, and prints both with their ratio (goal: DO=1 at most 10 %
# slower). The root has no addresses outside glue, so its mix is 50 %
# NXDOMAIN, 5 % NODATA and 45 % referrals unless --mix says otherwise.
#
# Exit status: 0, or 1 when any answer was wrong (or a step failed).
#
# Usage: bench/engine-bench.sh [-r RUNS] [-t SECONDS] [-c CPU] [-b BURST]
#                              [--sizes "1000 1000000"] [--no-build] [--keep]
#                              [--dnssec [--zone FILE] [--mix MIX]]
#   -r RUNS        runs per figure (default 3)
#   -t SECONDS     measured time per run (default 3)
#   -c CPU         the core to pin to (default 1, or 0 on a 1-CPU machine)
#   -b BURST       burst size for the burst rows, 0 = leave them out (default 32)
#   --sizes LIST   zone sizes in names (default "1000 1000000")
#   --no-build     do not run ninja first
#   --keep         keep the temporary directory (its path is printed)
#   --dnssec       DO=1 against DO=0 on a signed zone (see above)
#   --zone FILE    the signed zone for --dnssec
#   --mix MIX      engine-bench's -m for --dnssec (default 0,50,5,0,0,45)
# Environment: POP53_BUILD (build directory, default build).
#
# Zones and snapshots go to a temporary directory, never into the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=3
SECONDS_PER_RUN=3
BURST=32
SIZES="1000 1000000"
BUILD_FIRST=1
KEEP=0
DNSSEC=0
DZONE=$ROOT/../shared/zones/root.zone
DMIX=0,50,5,0,0,45
NCPU=$(nproc)
CPU=$((NCPU >= 2 ? 1 : 0))
while (($#)); do
	case $1 in
	-r|--runs) RUNS=$2; shift ;;
	-t|--time) SECONDS_PER_RUN=$2; shift ;;
	-c|--cpu) CPU=$2; shift ;;
	-b|--burst) BURST=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--no-build) BUILD_FIRST=0 ;;
	--keep) KEEP=1 ;;
	--dnssec) DNSSEC=1 ;;
	--zone) DZONE=$2; shift ;;
	--mix) DMIX=$2; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
	*) echo "engine-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $BURST =~ ^[0-9]+$ && $CPU =~ ^[0-9]+$ ]] ||
	{ echo "engine-bench: bad -r, -b or -c" >&2; exit 2; }
BUILD=${POP53_BUILD:-build}
BENCH=$BUILD/bench/engine-bench
ZONEC=$BUILD/tools/pop53-zonec
# Debian's python3 (a python3 earlier in PATH may be a slow wrapper, e.g. pyenv)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

log() { printf '[bench] %s\n' "$*" >&2; }

TMP=
cleanup() {
	if [[ -n $TMP && -d $TMP ]]; then
		if ((KEEP)); then log "kept $TMP"; else rm -rf "$TMP"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((BUILD_FIRST)); then
	if [[ ! -f $BUILD/build.ninja ]]; then
		log "configuring $BUILD"
		meson setup "$BUILD" >&2
	fi
	ninja -C "$BUILD" bench/engine-bench tools/pop53-zonec >&2
fi
[[ -x $BENCH && -x $ZONEC ]] || { echo "engine-bench: $BENCH or $ZONEC not built" >&2; exit 1; }

PIN=()
if command -v taskset >/dev/null; then
	PIN=(taskset -c "$CPU")
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pop53-engine-bench.XXXXXX")

# goal NAMES: answers/s the issue asks for on a zone of that size
goal() { if (($1 >= 100000)); then echo 5000000; else echo 10000000; fi; }

# stats: median, min and max of the numbers on stdin
stats() { sort -n | awk '{v[NR] = $1} END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'; }

# busy_ticks: busy and total jiffies of every CPU but ours, from /proc/stat
busy_ticks() {
	awk -v me="cpu$CPU" '/^cpu[0-9]+ / && $1 != me {
		idle += $5 + $6; for (i = 2; i <= 9; i++) total += $i }
		END {print total - idle, total}' /proc/stat
}

# mps N: N per second as millions with two decimals
mps() { awk -v n="$1" 'BEGIN {printf "%.2f M", n / 1e6}'; }

# dnssec_bench: the --dnssec table. One run of engine-bench per mode and
# DO value, alternating so that a change in the machine's load falls on
# both alike.
dnssec_bench() {
	local snap=$TMP/signed.snap mode do r out res cpu0 cpu1 wrong=0
	[[ -f $DZONE ]] || { echo "engine-bench: $DZONE not found (--zone)" >&2; exit 1; }
	log "compiling $DZONE"
	"$ZONEC" compile -q -o "$snap" "$DZONE"
	local modes=(single)
	((BURST)) && modes+=(burst)
	echo
	echo "pop53 answer engine, DO=1 against DO=0: $(basename "$DZONE"), mix $DMIX (hit,nxdomain,nodata,"
	echo "cname,wildcard,referral), 90% EDNS, DO on every EDNS query; CPU $CPU of $NCPU; ${SECONDS_PER_RUN} s per run,"
	echo "median of $RUNS (min-max)"
	echo
	printf '%-8s | %-24s | %-24s | %s\n' mode "DO=0 answers/s" "DO=1 answers/s" "DO=1 / DO=0"
	printf '%-8s | %-24s | %-24s | %s\n' -------- ------------------------ ------------------------ -----------
	for mode in "${modes[@]}"; do
		local args=() r0=() r1=()
		[[ $mode == burst ]] && args=(-b "$BURST")
		for r in $(seq "$RUNS"); do
			for do in 0 100; do
				out=$TMP/dnssec-$mode-$do-$r.txt
				if ! "${PIN[@]}" "$BENCH" -c "$CPU" -t "$SECONDS_PER_RUN" -m "$DMIX" \
					--do "$do" "${args[@]}" "$snap" >"$out" 2>&1; then
					grep -q '^RESULT ' "$out" || { log "engine-bench failed:"; cat "$out" >&2; exit 1; }
				fi
				res=$(grep '^RESULT ' "$out")
				wrong=$((wrong + $(sed -E 's/.* wrong=([^ ]*).*/\1/' <<<"$res")))
				if ((do)); then
					r1+=("$(sed -E 's/.* cpu_rate=([^ ]*).*/\1/' <<<"$res")")
				else
					r0+=("$(sed -E 's/.* cpu_rate=([^ ]*).*/\1/' <<<"$res")")
				fi
			done
		done
		read -r cpu0 min0 max0 < <(printf '%s\n' "${r0[@]}" | stats)
		read -r cpu1 min1 max1 < <(printf '%s\n' "${r1[@]}" | stats)
		printf '%-8s | %-24s | %-24s | %s\n' "$mode" \
			"$(mps "$cpu0")/s ($(mps "$min0" | sed 's/ M//')-$(mps "$max0" | sed 's/ M//'))" \
			"$(mps "$cpu1")/s ($(mps "$min1" | sed 's/ M//')-$(mps "$max1" | sed 's/ M//'))" \
			"$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN {printf "%.2f", a / b}')"
	done
	echo
	echo "Wrong answers: $wrong (a referral truncated for its glue counts as right, RFC 9471)."
	((wrong == 0))
}

if ((DNSSEC)); then
	dnssec_bench
	exit
fi

ROWS=()
SHARED=0
BUSY=0
TOTAL_WRONG=0
for n in $SIZES; do
	zone=$TMP/bench-$n.zone snap=$TMP/bench-$n.snap
	log "zone of $n names: generating"
	"$PY" bench/gen-zone.py -n "$n" --mix -o "$zone" --stats "$TMP/zone-$n.json"
	log "zone of $n names: compiling"
	"$ZONEC" compile -q -o "$snap" "$zone"
	modes=(single)
	((BURST)) && modes+=(burst)
	for mode in "${modes[@]}"; do
		args=()
		[[ $mode == burst ]] && args=(-b "$BURST")
		cpu_rates=() wall_rates=() wrong=0 nodes=0 warmed=0
		for r in $(seq "$RUNS"); do
			out=$TMP/run-$n-$mode-$r.txt
			read -r b0 t0 < <(busy_ticks)
			if ! "${PIN[@]}" "$BENCH" -c "$CPU" -t "$SECONDS_PER_RUN" -l "$n" \
				"${args[@]}" "$snap" >"$out" 2>&1; then
				# exit status 1 is "wrong answers": still a result
				grep -q '^RESULT ' "$out" || { log "engine-bench failed:"; cat "$out" >&2; exit 1; }
			fi
			read -r b1 t1 < <(busy_ticks)
			# The other CPUs may share caches, memory bandwidth or (in
			# a VM) a physical core with ours: load there slows us.
			other=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", t ? 100 * b / t : 0}')
			((other > 10)) && BUSY=1
			res=$(grep '^RESULT ' "$out")
			get() { sed -E "s/.* $1=([^ ]*).*/\1/" <<<"$res"; }
			cpu_rates+=("$(get cpu_rate)")
			wall_rates+=("$(get wall_rate)")
			wrong=$((wrong + $(get wrong)))
			nodes=$(get nodes)
			warmed=$(get warmed)
			# a run that did not have the core to itself (another
			# process on it) is flagged: its figures are less sure
			if awk -v c="$(get cpu_s)" -v w="$(get wall_s)" 'BEGIN {exit !(c < 0.95 * w)}'; then
				SHARED=1
			fi
			log "zone of $n names, $mode, run $r: $(mps "$(get cpu_rate)")/s CPU time," \
				"$(mps "$(get wall_rate)")/s wall, $(get wrong) wrong; other CPUs ${other}% busy"
		done
		TOTAL_WRONG=$((TOTAL_WRONG + wrong))
		read -r cm cmin cmax < <(printf '%s\n' "${cpu_rates[@]}" | stats)
		read -r wm _ _ < <(printf '%s\n' "${wall_rates[@]}" | stats)
		g=$(goal "$n")
		label=$mode
		[[ $mode == burst ]] && { ((warmed)) && label="burst, interl." || label="burst, plain"; }
		ROWS+=("$(printf '%s names (%s nodes)|%s|%s/s (%s-%s)|%s/s|%s/s|%s|%s' \
			"$n" "$nodes" "$label" "$(mps "$cm")" "$(mps "$cmin" | sed 's/ M//')" \
			"$(mps "$cmax" | sed 's/ M//')" "$(mps "$wm")" "$(mps "$g")" \
			"$(awk -v a="$cm" -v b="$g" 'BEGIN {printf "%.2fx", a / b}')" "$wrong")")
	done
done

row() { printf '%-30s | %-13s | %-24s | %-10s | %-9s | %-6s | %s\n' "$@"; }
echo
echo "pop53 answer engine, in process, one thread pinned to CPU $CPU of $NCPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "query set: 65536 queries from the zone's names, 50% hit / 15% NXDOMAIN / 10% NODATA /"
echo "10% CNAME / 10% wildcard / 5% referral, 90% EDNS, 50% mixed case; ${SECONDS_PER_RUN} s per run, median of $RUNS (min-max)"
echo
row "zone" "mode" "answers/s (CPU time)" "wall" "goal" "ratio" "wrong answers"
row "------------------------------" "-------------" "------------------------" "----------" "---------" "------" "-------------"
for line in "${ROWS[@]}"; do
	IFS='|' read -r a b c d e f g <<<"$line"
	row "$a" "$b" "$c" "$d" "$e" "$f" "$g"
done
echo
echo "single: engine_answer() one query at a time."
if ((BURST)); then
	echo "burst: engine_answer_burst() over bursts of $BURST, as the DPDK loop answers an rx burst;"
	echo "\"interl.\": lookups interleaved (snapshot bigger than the caches), \"plain\": one by one."
fi
echo "ratio = answers/s (CPU time) / goal. Wrong answers must be 0."
if ((SHARED)); then
	echo "WARNING: in some runs another process shared CPU $CPU (CPU time < 95% of wall time): the"
	echo "figures are less reliable; run again on a quiet machine."
fi
if ((BUSY)); then
	echo "WARNING: in some runs the other CPUs were more than 10% busy; they share caches and memory"
	echo "bandwidth (in a VM perhaps a physical core) with CPU $CPU: figures may be low (see the log above)."
fi
# wrong answers make the benchmark fail, however fast it was
((TOTAL_WRONG == 0))
