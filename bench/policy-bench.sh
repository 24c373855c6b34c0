#!/usr/bin/env bash
# bench/policy-bench.sh — what traffic policies cost the answer engine
# (issue 8): answers per second per core for policy names against static
# names of the same snapshot, in process, one thread pinned to one core
# (bench/engine-bench.c, as bench/engine-bench.sh).
#
# bench/gen-zone.py makes a zone of --names static names, a policy file of
# --records records for it (a quarter each: weighted over three addresses
# with health checks, failover with checks and a last resort, geolocation
# with five locations, and issue 8's GDPR shape nested three deep:
# geolocation -> failover -> weighted with checks) and a CIDR map of
# locations (10.0.0.0/8 by /16). engine-bench compiles them into one
# snapshot (every check healthy: the health words are attached and read)
# and replays 65,536 queries, all with an EDNS Client Subnet option for a
# random /24 in 10.0.0.0/8 (ECS on), so geolocation sees clients in every
# place. The query sets:
#   static        A/AAAA at static names that have them (engine-bench's hit
#                 category: one or two records)
#   policy        the policy names, every kind
#   weighted, failover, geolocation, nested
#                 one kind each
# Every response is checked (RCODE, AA, an answer of the asked type);
# wrong answers fail the benchmark.
#
# Every set asks for the same number of distinct names, --records / 4 (the
# names of one kind), spread over its candidates (engine-bench --pool):
# the caches then favour none of them.
#
# The machine is noisy, so each round runs every set once, back to back,
# the order alternating between rounds, and each policy set is compared with
# the static run of its own round: the table gives the median and min-max
# of those paired ratios over --runs rounds (answers/s from the thread's CPU
# time, medians). Goal (issue 8): policy names under 10 % slower than
# static ones, i.e. a ratio of at least 0.90.
#
# Exit status: 0, or 1 when an answer was wrong or a step failed.
#
# Usage: bench/policy-bench.sh [-r RUNS] [-t SECONDS] [-c CPU] [-b BURST]
#                              [--names N] [--records N] [--all-kinds]
#                              [--no-build] [--keep]
#   -r RUNS        rounds (default 5)
#   -t SECONDS     measured time per run (default 2)
#   -c CPU         the core to pin to (default 1, or 0 on a 1-CPU machine)
#   --names N      static names in the zone (default 10000)
#   --records N    policy records (default 10000)
#   -b BURST       answer in bursts of BURST with the lookups interleaved
#                  (engine-bench -B), as the DPDK worker loop answers an rx
#                  burst: the policy tables are fetched in the pipeline too;
#                  0 (default): one query at a time, as the kernel threads
#   --all-kinds    also one row per kind of policy (4 more runs a round)
#   --no-build     do not run ninja first
#   --keep         keep the temporary directory (its path is printed)
# Environment: POP53_BUILD (build directory, default build).
#
# Files go to a temporary directory, never into the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=policy-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

RUNS=5
SECONDS_PER_RUN=2
NAMES=10000
RECORDS=10000
ALL_KINDS=0
BURST=0
BUILD_FIRST=1
KEEP=0
CPU=$((NCPU >= 2 ? 1 : 0))
while (($#)); do
	case $1 in
	-r|--runs) RUNS=$2; shift ;;
	-t|--time) SECONDS_PER_RUN=$2; shift ;;
	-c|--cpu) CPU=$2; shift ;;
	--names) NAMES=$2; shift ;;
	--records) RECORDS=$2; shift ;;
	--all-kinds) ALL_KINDS=1 ;;
	-b|--burst) BURST=$2; shift ;;
	--no-build) BUILD_FIRST=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "policy-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $CPU =~ ^[0-9]+$ && $NAMES =~ ^[0-9]+$ && $BURST =~ ^[0-9]+$ &&
   $RECORDS =~ ^[0-9]+$ && $SECONDS_PER_RUN =~ ^[0-9.]+$ ]] ||
	{ echo "policy-bench: bad -r, -t, -c, -b, --names or --records" >&2; exit 2; }
MODE_ARGS=()
MODE="one query at a time (engine_answer, as the kernel-socket threads)"
if ((BURST)); then
	MODE_ARGS=(-B "$BURST")
	MODE="bursts of $BURST, lookups interleaved (engine_answer_burst, as the DPDK worker loop)"
fi
BUILD=${POP53_BUILD:-build}
BENCH=$BUILD/bench/engine-bench

TMP=
cleanup() { bench_rm_tmp "$TMP" "$KEEP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((BUILD_FIRST)); then
	if [[ ! -f $BUILD/build.ninja ]]; then
		log "configuring $BUILD"
		meson setup "$BUILD" >&2
	fi
	ninja -C "$BUILD" bench/engine-bench >&2
fi
[[ -x $BENCH ]] || die "$BENCH not built"

PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "$CPU")
TMP=$(bench_tmp pop53-policy-bench)

log "zone of $NAMES names, $RECORDS policy records: generating"
"$PY" bench/gen-zone.py -n "$NAMES" -o "$TMP/bench.zone" --policy "$TMP/policy.yaml" \
	--policy-records "$RECORDS" --geo-map "$TMP/geo.map"

# query set name -> engine-bench arguments
declare -A SET_ARGS=(
	[static]="-m 100,0,0,0,0,0"
	[policy]="--query-policy"
	[weighted]="--query-policy=pw"
	[failover]="--query-policy=pf"
	[geolocation]="--query-policy=pg"
	[nested]="--query-policy=pn"
)
SETS=(static policy)
((ALL_KINDS)) && SETS+=(weighted failover geolocation nested)

# run SET ROUND: one engine-bench run; its CPU-time rate into RATE
SHARED=0
WRONG=0
RATE=
run() {
	local out=$TMP/run-$1-$2.txt res
	# shellcheck disable=SC2086  # the arguments split on purpose
	if ! "${PIN[@]}" "$BENCH" -c "$CPU" -t "$SECONDS_PER_RUN" -l "$1" \
		--policy "$TMP/policy.yaml" --geo-map "$TMP/geo.map" --ecs 100 \
		--pool $((RECORDS / 4)) "${MODE_ARGS[@]}" \
		${SET_ARGS[$1]} "$TMP/bench.zone" >"$out" 2>&1; then
		# exit status 1 is "wrong answers": still a result
		grep -q '^RESULT ' "$out" || { log "engine-bench failed:"; cat "$out" >&2; exit 1; }
	fi
	res=$(grep '^RESULT ' "$out")
	get() { sed -E "s/.* $1=([^ ]*).*/\1/" <<<"$res"; }
	WRONG=$((WRONG + $(get wrong)))
	# a run that did not have the core to itself is less sure
	if awk -v c="$(get cpu_s)" -v w="$(get wall_s)" 'BEGIN {exit !(c < 0.95 * w)}'; then
		SHARED=1
	fi
	RATE=$(get cpu_rate)
}

declare -A RATES RATIOS this
for r in $(seq "$RUNS"); do
	order=("${SETS[@]}")
	if ((r % 2 == 0)); then   # every other round backwards
		order=()
		for ((i = ${#SETS[@]} - 1; i >= 0; i--)); do order+=("${SETS[i]}"); done
	fi
	this=()
	for set in "${order[@]}"; do
		run "$set" "$r"
		this[$set]=$RATE
		RATES[$set]+="$RATE "
	done
	line="round $r:"
	for set in "${SETS[@]}"; do
		line+=" $set $(awk -v v="${this[$set]}" 'BEGIN {printf "%.2f M/s", v / 1e6}')"
		[[ $set == static ]] && continue
		RATIOS[$set]+="$(ratio "${this[$set]}" "${this[static]}" "%.4f") "
	done
	log "$line"
done

ROW_FMT='%-12s | %-26s | %-26s | %-22s | %s\n'
mcell() {   # "MEDIAN M/s (MIN-MAX)" of the rates given
	# shellcheck disable=SC2086  # one rate a word
	read -r m lo hi < <(printf '%s\n' $1 | med_min_max)
	awk -v m="$m" -v l="$lo" -v h="$hi" 'BEGIN {printf "%.2f M/s (%.2f-%.2f)", m / 1e6, l / 1e6, h / 1e6}'
}
echo
echo "pop53 answer engine, traffic policies against static names, in process, one thread pinned to"
echo "CPU $CPU of $NCPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "zone: $NAMES static names; $RECORDS policy records (weighted with checks, failover, geolocation,"
echo "nested GDPR shape), geo map of 256 prefixes; every query with ECS (a /24 in 10.0.0.0/8);"
echo "every set asks for $((RECORDS / 4)) distinct names; $MODE;"
echo "${SECONDS_PER_RUN} s per run, $RUNS rounds, sets alternating; median (min-max)"
echo
row "query set" "static answers/s" "policy answers/s" "ratio policy/static" "goal (>= 0.90)"
row "------------" "--------------------------" "--------------------------" "----------------------" "--------------"
FAILED_GOAL=0
for set in "${SETS[@]}"; do
	[[ $set == static ]] && continue
	# shellcheck disable=SC2086  # one ratio a word
	read -r m lo hi < <(printf '%s\n' ${RATIOS[$set]} | med_min_max)
	goal=$(awk -v m="$m" 'BEGIN {print (m >= 0.90) ? "met" : "missed"}')
	[[ $goal == missed ]] && FAILED_GOAL=1
	row "$set" "$(mcell "${RATES[static]}")" "$(mcell "${RATES[$set]}")" \
		"$(printf '%.3f (%.3f-%.3f)' "$m" "$lo" "$hi")" "$goal"
done
echo
echo "ratio: policy answers/s over the static run of the same round (CPU time of the thread)."
echo "Wrong answers: $WRONG (must be 0)."
if ((SHARED)); then
	echo "WARNING: in some runs another process shared CPU $CPU (CPU time < 95% of wall time):"
	echo "the figures are less reliable; run again on a quiet machine."
fi
((FAILED_GOAL)) && log "goal missed for some query set (see the table)"
((WRONG == 0))
