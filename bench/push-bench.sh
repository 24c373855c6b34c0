#!/usr/bin/env bash
# bench/push-bench.sh — push-to-serving latency of a signed snapshot, and
# queries lost while pushes land, on local pop53d nodes.
#
# A zone of NAMES names (bench/gen-zone.py) is compiled and signed RUNS + 1
# times, each with a new SOA serial. NODES pop53d (--io kernel, one UDP
# thread, own state directory, push API with mutual TLS made by the openssl
# CLI) start from the first. Then, for each fleet size in --fleets (default
# "1 8"), RUNS times: a bounded query load (dnsperf at --rate queries/s,
# or none when dnsperf is missing) runs against node 0, pop53-push sends the
# next snapshot to the fleet, and a UDP poller asks every node for the SOA
# every 10 ms:
#   serving ms   PUT sent (pop53-push started) -> the last node answers the
#                new SOA serial (and the median node)
#   push ms      pop53-push's own wall time (every node acknowledged)
#   lost         queries of the load that got no answer (goal: 0)
# Servers run on CPU 0, pop53-push, the poller and the load on CPU 1.
#
# Usage: bench/push-bench.sh [-n NAMES] [-r RUNS] [--fleets "1 8"] [--rate QPS]
#                            [--no-setup] [--keep]
#   -n NAMES     names in the zone (default 1000000: ~150 MB; 10000 is quick)
#   -r RUNS      pushes per fleet size (default 3)
#   --fleets L   fleet sizes (default "1 8"; the largest sets how many start)
#   --rate QPS   query load during pushes (default 2000; 0: none)
#   --no-setup   do not run scripts/setup.sh (install + build) first
#   --keep       keep the temporary directory
# Environment: POP53_BUILD (build directory, default build).
#
# Everything goes to a temporary directory; every process started here is
# stopped by PID on exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=push-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

NAMES=1000000
RUNS=3
FLEETS="1 8"
RATE=2000
SETUP=1
KEEP=0
while (($#)); do
	case $1 in
	-n|--names) NAMES=$2; shift ;;
	-r|--runs) RUNS=$2; shift ;;
	--fleets) FLEETS=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--no-setup) SETUP=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "push-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $NAMES =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ && $RATE =~ ^[0-9]+$ ]] ||
	{ echo "push-bench: bad -n, -r or --rate" >&2; exit 2; }
NODES=0
for f in $FLEETS; do
	[[ $f =~ ^[1-9][0-9]*$ ]] || { echo "push-bench: bad --fleets '$FLEETS'" >&2; exit 2; }
	((f > NODES)) && NODES=$f
done
export POP53_BUILD=${POP53_BUILD:-build}
if ((SETUP)); then
	scripts/setup.sh --build-dir "$POP53_BUILD" >/dev/null || die "scripts/setup.sh failed"
fi

# The pki, keys, snapshot and process helpers of the push tests; their
# temporary directory and exit trap serve here too.
PL_NAME=push-bench
# shellcheck source=tests/integration/push_lib.bash
. "$ROOT/tests/integration/push_lib.bash"
T=$PL_TMP
if ((KEEP)); then trap 'PL_TMP=/nonexistent; pl_cleanup; log "kept $T"' EXIT; fi
pl_need openssl "$PL_POP53D" "$PL_ZONEC" "$PL_PUSH"
have_dnsperf=0
command -v dnsperf >/dev/null && ((RATE > 0)) && have_dnsperf=1
bench_pin "pop53-push, the poller and the load"

log "zone: $NAMES names; $((RUNS + 1)) signed snapshots; $NODES nodes; fleets: $FLEETS"
pl_certs || die "cannot make certificates"
pl_keys || die "pop53-zonec keygen failed"
"$PY" bench/gen-zone.py -n "$NAMES" -o "$T/zone" >/dev/null || die "gen-zone.py failed"
soa0=$(awk '$3 == "SOA" {print $6; exit}' "$T/zone")
[[ $soa0 =~ ^[0-9]+$ ]] || die "no SOA serial in the generated zone"
total=$((RUNS * $(wc -w <<<"$FLEETS")))
for ((k = 0; k <= total; k++)); do
	sed "0,/ SOA /s/ $soa0 / $((soa0 + k)) /" "$T/zone" >"$T/zone.k"
	"$PL_ZONEC" compile -o "$T/s$k.snap" --serial $((k + 1)) --sign "$T/ctl.key" "$T/zone.k" \
		>"$T/compile.log" 2>&1 || { cat "$T/compile.log" >&2; die "compile $k failed"; }
done
rm -f "$T/zone.k"
size=$(stat -c %s "$T/s0.snap")
log "snapshot: $size bytes"

mapfile -t ports < <(pl_ports $((NODES * 2)))
nodes=() dnsports=()
for ((i = 0; i < NODES; i++)); do
	mkdir -p "$T/state$i"
	pl_start "$T/node$i.log" --listen "127.0.0.1@${ports[i * 2]}" --udp-threads 1 \
		--snapshot "$T/s0.snap" --state-dir "$T/state$i" --trusted-key "$T/ctl.pub" \
		--push-listen "127.0.0.1@${ports[i * 2 + 1]}" --push-timeout-ms 600000 \
		--tls-cert "$T/pki/node.crt" --tls-key "$T/pki/node.key" \
		--tls-client-ca "$T/pki/ca.crt" || die "node $i did not start"
	[[ ${#ON_SERVER_CPU[@]} -eq 0 ]] || taskset -a -cp 0 "$PL_PID" >/dev/null
	nodes+=("127.0.0.1:${ports[i * 2 + 1]}")
	dnsports+=("${ports[i * 2]}")
done
printf '%s\n' "www.bench.example. A" "nx.bench.example. A" "bench.example. SOA" >"$T/queries"

# poll_all SERIAL T0 PORT...: until every port answers SOA SERIAL; prints
# the ms since T0 at which each did, one a line (60 s at most).
poll_all() {
	"$PY" - "$@" <<'EOF'
import random, socket, struct, sys, time
serial, t0, ports = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
q = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + b"\x05bench\x07example\x00" + struct.pack(">HH", 6, 1)
# one socket per node: a late answer from one is never read as another's
socks = {p: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for p in ports}
for s in socks.values():
    s.settimeout(0.01)
done, deadline = {}, time.time() + 60
def soa_serial(r):
    # header, question (as asked), then the first answer: owner pointer,
    # type, class, ttl, rdlength, mname, rname, serial
    if len(r) < 12 or struct.unpack(">H", r[6:8])[0] == 0:
        return None
    off = len(q) + 10
    off += 2
    for _ in range(2):
        while r[off] != 0:
            if r[off] >= 0xc0:
                off += 1
                break
            off += r[off] + 1
        off += 1
    return struct.unpack(">I", r[off:off + 4])[0]
while len(done) < len(ports) and time.time() < deadline:
    for p in ports:
        if p in done:
            continue
        qid, s = random.randrange(65536), socks[p]
        s.sendto(struct.pack(">H", qid) + q[2:], ("127.0.0.1", p))
        # every answer waiting (a late one to an earlier query included):
        # this socket only ever asks node p
        try:
            while p not in done:
                r = s.recv(4096)
                if soa_serial(r) == serial:
                    done[p] = (time.time_ns() - t0) / 1e6
        except socket.timeout:
            pass
    time.sleep(0.01)
for p in ports:
    print(f"{done[p]:.0f}" if p in done else "timeout")
EOF
}

ROW_FMT='%-6s %-4s %12s %12s %10s %12s %8s\n'
{
	echo "push-bench: $NAMES names, snapshot $size bytes, $PINNING"
	row nodes run "serving ms" "median ms" "push ms" "queries" "lost"
} >"$T/table"
k=0
for n in $FLEETS; do
	for ((r = 1; r <= RUNS; r++)); do
		k=$((k + 1))
		want=$((soa0 + k))
		dpid=
		if ((have_dnsperf)); then
			"${ON_LOAD_CPU[@]}" dnsperf -s 127.0.0.1 -p "${dnsports[0]}" -d "$T/queries" \
				-l 600 -Q "$RATE" -t 2 >"$T/dnsperf" 2>&1 &
			dpid=$!
			sleep 0.5
		fi
		t0=$(now_ns)
		(
			"$PL_PUSH" --no-sign --cert "$T/pki/client.crt" --client-key "$T/pki/client.key" \
				--ca "$T/pki/ca.crt" --timeout-ms 600000 "$T/s$k.snap" "${nodes[@]:0:n}" \
				>"$T/push.out" 2>&1
			echo "$? $((($(now_ns) - t0) / 1000000))" >"$T/push.rc"
		) &
		ppid=$!
		poll_all "$want" "$t0" "${dnsports[@]:0:n}" >"$T/poll"
		wait "$ppid"
		read -r prc push_ms <"$T/push.rc"
		[[ $prc == 0 ]] || { log "pop53-push failed:"; cat "$T/push.out" >&2; }
		sent=n/a lost=n/a
		if [[ -n $dpid ]]; then
			sleep 0.5
			kill -INT "$dpid" 2>/dev/null
			wait "$dpid"
			sent=$(awk '/Queries sent:/ {print $3}' "$T/dnsperf")
			lost=$(awk '/Queries lost:/ {print $3}' "$T/dnsperf")
		fi
		serve=$(sort -n "$T/poll" | tail -n 1)
		med=$(grep -v timeout "$T/poll" | median)
		grep -q timeout "$T/poll" && serve=timeout
		row "$n" "$r" "$serve" "$med" "$push_ms" "$sent" "$lost" >>"$T/table"
		echo "$n $serve $lost" >>"$T/results"
		log "fleet $n run $r: serving after $serve ms (pop53-push $push_ms ms), lost $lost"
	done
done
{
	echo
	echo "median over runs:"
	for n in $FLEETS; do
		printf '  %d node%s: push-to-serving %s ms, queries lost %s in total\n' "$n" \
			"$([[ $n == 1 ]] || echo s)" "$(awk -v n="$n" '$1 == n {print $2}' "$T/results" | median)" \
			"$(awk -v n="$n" '$1 == n {s += $3} END {print s + 0}' "$T/results")"
	done
	if ((have_dnsperf)); then
		if awk '{s += $3} END {exit !(s == 0)}' "$T/results"; then
			echo "goal met: no query lost during pushes"
		else
			echo "goal MISSED: queries were lost during pushes"
		fi
	else
		echo "(no dnsperf, or --rate 0: losses not measured)"
	fi
} >>"$T/table"
cat "$T/table"
