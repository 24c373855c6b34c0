#!/usr/bin/env bash
# bench/udp-bench.sh — UDP query throughput on loopback: pop53d's kernel-socket
# server against Knot DNS and NSD (kernel UDP), measured with dnsperf.
#
# One zone (bench/gen-zone.py -n NAMES) is served by all three servers, each
# with one UDP worker (pop53d --udp-threads 1, knotd udp-workers: 1, nsd
# server-count: 1), each pinned to CPU 0 with taskset. dnsperf runs pinned to
# CPU 1 with a query file made from the zone by bench/udp-bench-queries.py:
# ~60 % A/AAAA hits, 10 % MX/TXT hits, 14 % NODATA, 12 % NXDOMAIN, 4 % apex.
#   rated runs   dnsperf -l SECONDS -c CLIENTS -q OUTSTANDING -t TIMEOUT -Q RATE
#                once per rate and server
#   peak runs    the same without -Q, --runs times per server: median, min-max
# All three servers stay up for the whole benchmark (idle ones sleep), and
# the runs are interleaved (each rate, and each peak round, visits every
# server, in a rotating order), so a background load that comes and goes
# hits all three alike. Before the measured runs every server gets a
# 1-second warm-up run. Printed: completed queries/s and lost % per rate and
# server, peer/pop53 ratios, the peak line, drops at the server's socket,
# the CPU use of server, dnsperf and everything else (the disturbance) at the
# peak; the server's CPU time per query at each rate (the figure that still
# compares the servers when dnsperf, not the server, is the bottleneck, as it
# is on a 2-CPU machine); and the answer check: each server's RCODE shares
# (dnsperf's "Response codes") against the query file's NXDOMAIN share, and
# the average response size. Exit status 1 if the answer check fails.
#
# Usage: bench/udp-bench.sh [-l SECONDS] [--rates LIST] [--runs N] [-c CLIENTS]
#                           [-q OUTSTANDING] [-t TIMEOUT] [-n NAMES]
#                           [--servers LIST] [--quick] [--wait-load LOAD]
#                           [--no-setup] [--keep]
#   -l SECONDS      length of each dnsperf run (default 10)
#   --rates LIST    offered rates, comma-separated queries/s
#                   (default 50000,100000,200000,400000)
#   --runs N        peak runs per server (default 3)
#   -c CLIENTS      dnsperf clients, i.e. sockets (default 8)
#   -q OUTSTANDING  dnsperf's limit of queries in flight (default 500)
#   -t TIMEOUT      dnsperf's query timeout in seconds (default 1)
#   -n NAMES        names in the generated zone (default 100000)
#   --servers LIST  which of pop53,knot,nsd to run (default all three)
#   --quick         smoke test: -l 3, rates 50000,200000, --runs 1 (< 1 min)
#   --wait-load L   before measuring, wait (at most BENCH_WAIT_MAX seconds,
#                   default 600) until the 1-minute load average is below L
#   --no-setup      do not run scripts/setup.sh (install + build) first
#   --keep          keep the temporary directory (its path is printed)
# Environment: POP53_BUILD (build directory, default build),
#              BENCH_TIMEOUT (seconds a server may take to answer its SOA
#              after start, default 120)
#
# Only 127.0.0.1 is used. Everything goes to a temporary directory, never
# into the repository; every process started here is killed by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=udp-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

SECONDS_RUN=10
RATES=50000,100000,200000,400000
RUNS=3
CLIENTS=8
OUTSTANDING=500
QTIMEOUT=1
NAMES=100000
SERVERS=pop53,knot,nsd
WAIT_LOAD=
SETUP=1
KEEP=0
while (($#)); do
	case $1 in
	-l) SECONDS_RUN=$2; shift ;;
	--rates) RATES=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	-c) CLIENTS=$2; shift ;;
	-q) OUTSTANDING=$2; shift ;;
	-t) QTIMEOUT=$2; shift ;;
	-n|--names) NAMES=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	--quick) SECONDS_RUN=3 RATES=50000,200000 RUNS=1 ;;
	--wait-load) WAIT_LOAD=$2; shift ;;
	--no-setup) SETUP=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "udp-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
bad() { echo "udp-bench: $*" >&2; exit 2; }
[[ $SECONDS_RUN =~ ^[1-9][0-9]*$ ]] || bad "-l wants whole seconds >= 1"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bad "--runs wants a number >= 1"
[[ $CLIENTS =~ ^[1-9][0-9]*$ ]] || bad "-c wants a number >= 1"
[[ $OUTSTANDING =~ ^[1-9][0-9]*$ ]] || bad "-q wants a number >= 1"
[[ $QTIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "-t wants seconds"
[[ $NAMES =~ ^[1-9][0-9]*$ ]] || bad "-n wants a number >= 1"
[[ -z $WAIT_LOAD || $WAIT_LOAD =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "--wait-load wants a load average"
[[ -z $RATES || $RATES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || bad "--rates wants N,N,..."
IFS=, read -r -a RATE_LIST <<<"$RATES"
IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
for s in "${SERVER_LIST[@]}"; do
	[[ $s == pop53 || $s == knot || $s == nsd ]] || bad "--servers: unknown server '$s' (pop53, knot, nsd)"
done
((${#SERVER_LIST[@]})) || bad "--servers is empty"

BUILD=${POP53_BUILD:-build}
POP53D=$BUILD/controlplane/pop53d
START_TIMEOUT=${BENCH_TIMEOUT:-120}
WAIT_MAX=${BENCH_WAIT_MAX:-600}
ORIGIN=bench.example.
HZ=$(getconf CLK_TCK)

# ---- cleanup: kill by PID what we started, remove the temporary directory --
declare -A SERVER_PID=()   # server name -> PID (the process we started)
declare -A SERVER_TREE=()  # server name -> its PID and those it forked
LOAD_PID=                  # the dnsperf running now, if any
TMP=
cleanup() {
	local name
	if [[ -n $LOAD_PID ]]; then
		kill "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
		LOAD_PID=
	fi
	for name in "${!SERVER_PID[@]}"; do
		stop_server "$name"
	done
	bench_rm_tmp "$TMP" "$KEEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((SETUP)); then
	bash scripts/setup.sh >&2
fi
for tool in dnsperf taskset timeout; do
	command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
done
for s in "${SERVER_LIST[@]}"; do
	case $s in
	pop53) [[ -x $POP53D ]] || die "$POP53D not built (run scripts/setup.sh or ninja -C $BUILD)" ;;
	knot) command -v knotd >/dev/null || die "knotd not found (run scripts/setup.sh)" ;;
	nsd) command -v nsd >/dev/null || die "nsd not found (run scripts/setup.sh)" ;;
	esac
done

# ---- CPU pinning: servers on CPU 0, this script and dnsperf on CPU 1 ----------
bench_pin dnsperf

TMP=$(bench_tmp pop53-udp-bench)
mkdir -p "$TMP/zones"
ZONEFILE=$TMP/zones/${ORIGIN%.}.zone
QUERIES=$TMP/queries.txt

# ---- the zone and the query file -----------------------------------------------
log "generating $NAMES names into $ZONEFILE"
"$PY" bench/gen-zone.py -n "$NAMES" --origin "$ORIGIN" -o "$ZONEFILE" --stats "$TMP/zone.json"
RECORDS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/zone.json")
"$PY" bench/udp-bench-queries.py "$ZONEFILE" -n 200000 -o "$QUERIES" --expect "$TMP/expect.txt"
EXPECT_NX=$(awk '$1 == "nxdomain" {print $2}' "$TMP/expect.txt")

# wait_soa PID PORT: poll 127.0.0.1@PORT every 20 ms until it answers the
# zone's SOA (poll_soa in bench/lib.sh); print the seconds it took. Gives up
# when PID exits or after BENCH_TIMEOUT seconds.
wait_soa() {
	local ns
	ns=$(poll_soa 127.0.0.1 "$2" "$ORIGIN" "$1" "$START_TIMEOUT" "$(now_ns)") || return 1
	awk -v ns="$ns" 'BEGIN {printf "%.2f\n", ns / 1e9}'
}

# cpu_ticks NAME: user + system clock ticks of the server's processes (all
# threads), from /proc/PID/stat.
# shellcheck disable=SC2086  # the PIDs are words on purpose
cpu_ticks() { proc_ticks ${SERVER_TREE[$1]}; }

# stop_server NAME: TERM, wait up to 10 s, then KILL it and what it forked.
# shellcheck disable=SC2086  # the PIDs are words on purpose
stop_server() {
	stop_pid "${SERVER_PID[$1]}" ${SERVER_TREE[$1]:-}
	unset "SERVER_PID[$1]"
}

# The peers as the table compares them: equal reply sizes, one socket
KNOT_UDP_WORKERS=1 KNOT_TCP_WORKERS=1 KNOT_BG_WORKERS=1
NSD_EXTRA_SERVER='    reuseport: no
    minimal-responses: yes
    round-robin: no'

declare -A PORT=()
start_server() {
	local name=$1 dir=$TMP/$1 port pid secs
	mkdir -p "$dir"
	port=$(free_port 53600 "${PORT[*]:-}")
	PORT[$name]=$port
	case $name in
	pop53)
		"${ON_SERVER_CPU[@]}" "$POP53D" --io kernel --listen "127.0.0.1@$port" \
			--zone "$ZONEFILE" --udp-threads 1 >"$dir/server.log" 2>&1 & ;;
	knot)
		write_knot_conf "$dir" "127.0.0.1@$port" "$ZONEFILE" "$ORIGIN"
		"${ON_SERVER_CPU[@]}" knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 & ;;
	nsd)
		write_nsd_conf "$dir" 127.0.0.1 "$port" "$ZONEFILE" "$ORIGIN"
		"${ON_SERVER_CPU[@]}" nsd -d -c "$dir/nsd.conf" >"$dir/server.log" 2>&1 & ;;
	esac
	pid=$!
	SERVER_PID[$name]=$pid
	SERVER_TREE[$name]=$pid
	if ! secs=$(wait_soa "$pid" "$port"); then
		log "$name did not answer its SOA on 127.0.0.1@$port; its logs:"
		tail -n 20 "$dir"/*.log >&2
		exit 1
	fi
	sleep 0.5   # let nsd fork its server child before we list the tree
	SERVER_TREE[$name]=$(tree_pids "$pid")
	log "$name (pid ${SERVER_TREE[$name]}) answers on 127.0.0.1@$port after ${secs} s"
}

# udp_rcvbuf_errors: the kernel's count of UDP datagrams dropped because a
# socket's receive buffer was full (all sockets: the servers' and dnsperf's).
udp_rcvbuf_errors() {
	awk '$1 == "Udp:" && !h {for (i = 1; i <= NF; i++) col[$i] = i; h = 1; next}
	     $1 == "Udp:" && h {print $col["RcvbufErrors"]; exit}' /proc/net/snmp
}

# socket_drops PORT: datagrams dropped by the UDP sockets bound to 127.0.0.1@PORT
socket_drops() {
	awk -v want="$(printf '0100007F:%04X' "$1")" '
		$2 == want {d += $NF} END {print d + 0}' /proc/net/udp
}

# run_load NAME RATE TAG: one dnsperf run against server NAME at RATE
# queries/s (0 = no -Q); its output goes to $TMP/NAME.TAG.out and one line
#   sent_per_s completed_per_s lost_pct noerror nxdomain other resp_bytes cpu_pct
#   server_socket_drops other_socket_drops dnsperf_cpu_pct others_cpu_pct
# to $TMP/NAME.TAG.res (CPU in % of one CPU; "others": every process but the
# server, dnsperf and ksoftirqd, i.e. whatever else runs on the machine).
run_load() {
	local name=$1 rate=$2 tag=$3 out=$TMP/$1.$3.out qopt=() t0 t1 c0 c1 d0 d1 s0 s1 b0 b1 k0 k1 g0 g1
	((rate > 0)) && qopt=(-Q "$rate")
	d0=$(udp_rcvbuf_errors)
	s0=$(socket_drops "${PORT[$name]}")
	c0=$(cpu_ticks "$name")
	k0=$(ksoftirqd_ticks)
	b0=$(cpu_busy)
	g0=$(child_ticks)
	t0=$(date +%s%N)
	timeout -k 5 $((SECONDS_RUN + 30)) "${ON_LOAD_CPU[@]}" dnsperf -s 127.0.0.1 -p "${PORT[$name]}" \
		-d "$QUERIES" -l "$SECONDS_RUN" -c "$CLIENTS" -q "$OUTSTANDING" -t "$QTIMEOUT" "${qopt[@]}" \
		>"$out" 2>&1 &
	LOAD_PID=$!
	if ! wait "$LOAD_PID"; then
		LOAD_PID=
		log "dnsperf against $name failed:"; tail -n 20 "$out" >&2
		exit 1
	fi
	LOAD_PID=
	g1=$(child_ticks)
	b1=$(cpu_busy)
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$name")
	k1=$(ksoftirqd_ticks)
	d1=$(udp_rcvbuf_errors)
	s1=$(socket_drops "${PORT[$name]}")
	kill -0 "${SERVER_PID[$name]}" 2>/dev/null || die "$name exited during the run (see $TMP/$name/server.log)"
	awk -v ticks=$((c1 - c0)) -v hz="$HZ" -v ns=$((t1 - t0)) -v sdrops=$((s1 - s0)) -v odrops=$((d1 - d0 - (s1 - s0))) \
		-v gticks=$((g1 - g0)) -v oticks=$((b1 - b0 - (c1 - c0) - (g1 - g0) - (k1 - k0))) '
		/Queries sent:/ {sent = $3}
		/Queries completed:/ {done = $3}
		/Queries lost:/ {lost = $3}
		/Run time \(s\):/ {rt = $4}
		/Response codes:/ {
			sub(/.*Response codes: */, "")
			n = split($0, parts, /, */)
			for (i = 1; i <= n; i++) {
				split(parts[i], f, " ")
				if (f[1] == "NOERROR") noerr = f[2]
				else if (f[1] == "NXDOMAIN") nx = f[2]
				else other += f[2]
			}
		}
		/Average packet size:/ {resp = $NF}
		END {
			if (rt + 0 <= 0 || sent == "") { print "parse-error"; exit 1 }
			if (oticks < 0) oticks = 0
			printf "%.0f %.0f %.3f %d %d %d %s %.1f %d %d %.1f %.1f\n", sent / rt, done / rt,
				sent ? 100 * lost / sent : 0, noerr, nx, other, resp,
				100 * ticks / hz / (ns / 1e9), sdrops, odrops,
				100 * gticks / hz / (ns / 1e9), 100 * oticks / hz / (ns / 1e9)
		}' "$out" >"$TMP/$name.$tag.res" || { log "cannot read dnsperf output:"; cat "$out" >&2; exit 1; }
	read -r sps cps lpct _ _ _ _ cpu sdrops odrops gcpu ocpu <"$TMP/$name.$tag.res"
	log "$(printf '%-5s %-9s sent %7s/s  done %7s/s  lost %6s%%  CPU: server %5s%% dnsperf %5s%% others %5s%%  drops: server %s, others %s  load %s' \
		"$name" "$tag" "$sps" "$cps" "$lpct" "$cpu" "$gcpu" "$ocpu" "$sdrops" "$odrops" "$(loadavg)")"
}

# ---- wait for a quiet machine (bounded) ------------------------------------------
[[ -z $WAIT_LOAD ]] || wait_load "$WAIT_LOAD" "$WAIT_MAX"

# ---- the servers -----------------------------------------------------------------------
LOAD_BEFORE=$(loadavg)
for s in "${SERVER_LIST[@]}"; do
	start_server "$s"
done

# rotate K: the server list rotated left by K (the order of one round)
rotate() {
	local k=$(($1 % ${#SERVER_LIST[@]}))
	echo "${SERVER_LIST[@]:k}" "${SERVER_LIST[@]:0:k}"
}

for s in "${SERVER_LIST[@]}"; do
	SECONDS_SAVE=$SECONDS_RUN SECONDS_RUN=1
	run_load "$s" 0 warmup
	SECONDS_RUN=$SECONDS_SAVE
done
round=0
for rate in "${RATE_LIST[@]}"; do
	for s in $(rotate $round); do run_load "$s" "$rate" "q$rate"; done
	round=$((round + 1))
done
for r in $(seq "$RUNS"); do
	for s in $(rotate $round); do run_load "$s" 0 "peak$r"; done
	round=$((round + 1))
done
LOAD_AFTER=$(loadavg)

# ---- the table -------------------------------------------------------------------------
field() { awk -v i="$2" '{print $i}' "$TMP/$1.res"; }   # field TAG-FILE N
has() { [[ " ${SERVER_LIST[*]} " == *" $1 "* ]]; }
ROW_FMT='%-24s | %-22s | %-22s | %-22s | %10s | %9s\n'  # row (bench/lib.sh)

# cell NAME TAG RATE: "123.4k (0.00%)", with "*" when dnsperf sent less than
# 95 % of RATE (the generator, not the server, set the pace)
cell() {
	local name=$1 tag=$2 rate=$3
	has "$name" || { echo "-"; return; }
	read -r sps cps lpct _ <"$TMP/$name.$tag.res"
	local mark=
	((rate > 0)) && awk -v s="$sps" -v r="$rate" 'BEGIN {exit !(s < 0.95 * r)}' && mark="*"
	printf '%s (%.2f%%)%s\n' "$(short "$cps")" "$lpct" "$mark"
}
qps() { has "$1" && field "$1.$2" 2 || echo n/a; }

# median_of NAME FIELD: median over the peak runs; also sets MIN and MAX
stats_of() {
	local name=$1 f=$2 r
	for r in $(seq "$RUNS"); do field "$name.peak$r" "$f"; done | med_min_max
}

echo
echo "zone: $ORIGIN, $RECORDS records ($NAMES generated names); queries: $(wc -l <"$QUERIES") lines, $EXPECT_NX % NXDOMAIN"
echo "dnsperf: -l $SECONDS_RUN -c $CLIENTS -q $OUTSTANDING -t $QTIMEOUT [-Q RATE]; $PINNING"
echo "machine: $NCPU CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel $(uname -r)"
echo "versions: pop53 $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'); $(knotd --version 2>/dev/null | head -n 1); $(nsd -v 2>&1 | head -n 1); $(dnsperf -h 2>&1 | awk '/^Version/ {print "dnsperf " $2}')"
echo "load average: before $LOAD_BEFORE, after $LOAD_AFTER"
echo
row "offered q/s" "pop53 q/s (lost)" "knot q/s (lost)" "nsd q/s (lost)" "knot/pop53" "nsd/pop53"
row "------------------------" "----------------------" "----------------------" "----------------------" "----------" "---------"
for rate in "${RATE_LIST[@]}"; do
	row "$(short "$rate")" "$(cell pop53 "q$rate" "$rate")" "$(cell knot "q$rate" "$rate")" \
		"$(cell nsd "q$rate" "$rate")" "$(ratio "$(qps knot "q$rate")" "$(qps pop53 "q$rate")")" \
		"$(ratio "$(qps nsd "q$rate")" "$(qps pop53 "q$rate")")"
done
# answered99 NAME: the highest offered rate at which NAME completed >= 99 %
# of the offered queries per second (and at every lower rate), or "<LOWEST";
# "*" when the next rate failed because dnsperf sent < 99 % of it (then the
# limit found is the generator's, not the server's)
answered99() {
	local name=$1 rate best='' mark='' sps cps
	for rate in $(printf '%s\n' "${RATE_LIST[@]}" | sort -n); do
		read -r sps cps _ <"$TMP/$name.q$rate.res"
		if ! awk -v c="$cps" -v r="$rate" 'BEGIN {exit !(c >= 0.99 * r)}'; then
			awk -v s="$sps" -v r="$rate" 'BEGIN {exit !(s < 0.99 * r)}' && mark="*"
			break
		fi
		best=$rate
	done
	if [[ -n $best ]]; then echo "$(short "$best")$mark"
	else echo "<$(short "$(printf '%s\n' "${RATE_LIST[@]}" | sort -n | head -n 1)")$mark"; fi
}
if ((${#RATE_LIST[@]})); then
	declare -A A99=()
	for s in pop53 knot nsd; do if has "$s"; then A99[$s]=$(answered99 "$s"); else A99[$s]=-; fi; done
	row ">= 99 % answered up to" "${A99[pop53]}" "${A99[knot]}" "${A99[nsd]}" "" ""
fi
declare -A PEAK=() PEAKCELL=() LOSTCELL=() DROPCELL=() CPUCELL=() GENCELL=() OTHCELL=()
for s in pop53 knot nsd; do
	if ! has "$s"; then
		PEAK[$s]=n/a PEAKCELL[$s]=- LOSTCELL[$s]=- DROPCELL[$s]=- GENCELL[$s]=- OTHCELL[$s]=- CPUCELL[$s]=-
		continue
	fi
	read -r med lo hi < <(stats_of "$s" 2)
	PEAK[$s]=$med
	PEAKCELL[$s]="$(short "$med") [$(short "$lo" | tr -d k)-$(short "$hi")]"
	read -r lmed llo lhi < <(stats_of "$s" 3)
	LOSTCELL[$s]=$(printf '%.2f%% [%.2f-%.2f]' "$lmed" "$llo" "$lhi")
	read -r dmed dlo dhi < <(stats_of "$s" 9)
	DROPCELL[$s]="$dmed [$dlo-$dhi]"
	read -r gmed _ _ < <(stats_of "$s" 11)
	GENCELL[$s]="$(printf '%.0f' "$gmed") %"
	read -r omed olo ohi < <(stats_of "$s" 12)
	OTHCELL[$s]="$(printf '%.0f %% [%.0f-%.0f]' "$omed" "$olo" "$ohi")"
	read -r cmed _ _ < <(stats_of "$s" 8)
	CPUCELL[$s]="$(printf '%.0f' "$cmed") %"
done
row "peak (no -Q), $RUNS run(s)" "${PEAKCELL[pop53]}" "${PEAKCELL[knot]}" "${PEAKCELL[nsd]}" \
	"$(ratio "${PEAK[knot]}" "${PEAK[pop53]}")" "$(ratio "${PEAK[nsd]}" "${PEAK[pop53]}")"
row "lost at peak" "${LOSTCELL[pop53]}" "${LOSTCELL[knot]}" "${LOSTCELL[nsd]}" "" ""
row "server socket drops/run" "${DROPCELL[pop53]}" "${DROPCELL[knot]}" "${DROPCELL[nsd]}" "" ""
row "server CPU at peak" "${CPUCELL[pop53]}" "${CPUCELL[knot]}" "${CPUCELL[nsd]}" "" ""
row "dnsperf CPU at peak" "${GENCELL[pop53]}" "${GENCELL[knot]}" "${GENCELL[nsd]}" "" ""
row "others' CPU at peak" "${OTHCELL[pop53]}" "${OTHCELL[knot]}" "${OTHCELL[nsd]}" "" ""
echo
echo "peak: median completed q/s of the runs without -Q [min-max]; the ratios are peer/pop53 (above 1: the peer did more)."
echo "*: dnsperf sent less than 95 % of the offered rate (the generator or its -q limit set the pace, not the server)."
echo ">= 99 % answered up to: the highest offered rate (of those run) up to which the server completed >= 99 % of it;"
echo "     * there: at the next rate dnsperf itself sent < 99 % of the offered rate (the generator's limit, not the server's)."
echo "lost: dnsperf's lost % (no answer within -t s); with -q above what the server's socket buffer holds, dnsperf's"
echo "     refill bursts overflow it: see the server socket drops."
echo "server socket drops: datagrams the server's socket dropped (receive buffer full) in one peak run, median [min-max]."
echo "CPU: user+system time / wall time, 100 % = one whole CPU; server = its processes (on CPU 0), dnsperf (on CPU 1),"
echo "     others = all busy CPU time of the machine minus server, dnsperf and ksoftirqd: other people's load, the disturbance."
echo

# ---- server CPU per query at each offered rate ------------------------------------------
# While dnsperf keeps up with the offered rate, every server does the same
# work, and its CPU time is a comparison that does not depend on how fast
# the generator is.
if ((${#RATE_LIST[@]})); then
	cpucell() {   # cpucell NAME TAG -> "34 % (6.8 us/q)"
		has "$1" || { echo "-"; return; }
		awk '{ if ($2 > 0) printf "%.0f %% (%.1f us/q)\n", $8, $8 / 100 * 1e6 / $2; else print "n/a" }' "$TMP/$1.$2.res"
	}
	usq() { has "$1" && awk '{ if ($2 > 0) printf "%.3f\n", $8 / 100 * 1e6 / $2; else print "n/a" }' "$TMP/$1.$2.res" || echo n/a; }
	row "server CPU at rate" "pop53" "knot" "nsd" "knot/pop53" "nsd/pop53"
	row "------------------------" "----------------------" "----------------------" "----------------------" "----------" "---------"
	for rate in "${RATE_LIST[@]}"; do
		row "$(short "$rate")" "$(cpucell pop53 "q$rate")" "$(cpucell knot "q$rate")" "$(cpucell nsd "q$rate")" \
			"$(ratio "$(usq knot "q$rate")" "$(usq pop53 "q$rate")")" "$(ratio "$(usq nsd "q$rate")" "$(usq pop53 "q$rate")")"
	done
	echo "server CPU at rate: the server's CPU use (100 % = CPU 0) and its CPU time per completed query (including the kernel's"
	echo "socket work it does); the ratios are CPU time per query, peer/pop53 (above 1: the peer spent more per query)."
	echo "Per-query cost falls as batches grow, so compare servers at the same completed rate (where none has a *)."
	echo
fi

# ---- the answers: RCODE shares against the query mix ----------------------------------------
CHECK_FAIL=0
printf '%-6s | %10s | %10s | %8s | %12s | %s\n' "answers" "NOERROR" "NXDOMAIN" "other" "resp. bytes" "check (NXDOMAIN expected $EXPECT_NX %)"
for s in "${SERVER_LIST[@]}"; do
	files=("$TMP/$s".peak*.res)
	for rate in "${RATE_LIST[@]}"; do files+=("$TMP/$s.q$rate.res"); done
	line=$(cat "${files[@]}" | awk -v want="$EXPECT_NX" '
		{ne += $4; nx += $5; ot += $6; rb += $7; n++}
		END {
			t = ne + nx + ot
			if (t == 0) { print "0 0 0 0 FAIL(no answers)"; exit }
			nxp = 100 * nx / t; otp = 100 * ot / t
			ok = (nxp - want < 1 && want - nxp < 1 && otp < 0.01) ? "OK" : "MISMATCH"
			printf "%.2f %.2f %.3f %.1f %s\n", 100 * ne / t, nxp, otp, rb / n, ok }')
	read -r ne nx ot rb verdict <<<"$line"
	[[ $verdict == OK ]] || CHECK_FAIL=1
	printf '%-7s | %9s%% | %9s%% | %7s%% | %12s | %s\n' "$s" "$ne" "$nx" "$ot" "$rb" "$verdict"
done
echo "(over all measured runs; 'other' = SERVFAIL, REFUSED, FORMERR, ...; OK = NXDOMAIN within 1 point of the mix and no other RCODEs)"
if ((CHECK_FAIL)); then
	echo "answer check: FAILED"
	exit 1
fi
echo "answer check: OK"
