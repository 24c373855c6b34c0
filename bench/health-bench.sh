#!/usr/bin/env bash
# bench/health-bench.sh — issue 8's health figure: the time from an
# endpoint's death to the first answer that avoids it. Goal: interval x
# fall + 1 s.
#
# pop53d (kernel mode, loopback) serves a failover policy: www.example.com
# answers 127.0.0.10 while the primary's http check passes, else
# 127.0.0.11 (the secondary, always up). Both endpoints are HTTP servers
# inside the measuring Python process on 127.0.0.1. Each run: the primary
# up and its check settled (healthy, its latest probe passed), a random
# wait of up to one interval (so that deaths fall anywhere between two
# probes), then the primary dies and a UDP query every 10 ms measures when
# the answer becomes 127.0.0.11; then the primary comes back (rise 1) for
# the next run. Two ways to die:
#   refused   the server closes its socket (a killed process): each probe
#             fails at once (connection refused)
#   silent    the server stops answering but its socket stays open (a hung
#             process): each probe fails at its timeout (500 ms)
# The checks probe every --intervals ms with fall --fall and timeout 500 ms.
# Expected: the last of `fall` failing probes ends (fall - 1) to fall
# intervals after the death, plus the timeout for a silent death.
#
# Usage: bench/health-bench.sh [-r RUNS] [--intervals "1000 2000"]
#                              [--fall N] [--deaths "refused silent"]
#                              [--no-build] [--keep]
#   -r RUNS       deaths measured per row (default 5)
#   --intervals   check intervals in ms (default "1000 2000")
#   --fall N      failures in a row that make the check unhealthy (default 3)
#   --deaths      which deaths to measure (default "refused silent")
#   --no-build    do not run ninja first
#   --keep        keep the temporary directory
# Environment: POP53_BUILD (build directory, default build).
#
# Every wait is bounded; pop53d (by PID) and the temporary directory are
# removed on every exit path. Exit status 0, or 1 when a run failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=health-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

RUNS=5
INTERVALS="1000 2000"
FALL=3
DEATHS="refused silent"
BUILD_FIRST=1
KEEP=0
while (($#)); do
	case $1 in
	-r|--runs) RUNS=$2; shift ;;
	--intervals) INTERVALS=$2; shift ;;
	--fall) FALL=$2; shift ;;
	--deaths) DEATHS=$2; shift ;;
	--no-build) BUILD_FIRST=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "health-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $FALL =~ ^[1-9][0-9]?$ && $INTERVALS =~ ^[0-9\ ]+$ &&
   $DEATHS =~ ^(refused|silent|\ )+$ ]] ||
	{ echo "health-bench: bad -r, --fall, --intervals or --deaths" >&2; exit 2; }
for iv in $INTERVALS; do
	((iv >= 1000)) || { echo "health-bench: intervals start at 1000 ms" >&2; exit 2; }
done
BUILD=${POP53_BUILD:-build}

TMP= PID=
cleanup() {
	[[ -z $PID ]] || stop_pid "$PID"
	bench_rm_tmp "$TMP" "$KEEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((BUILD_FIRST)); then
	[[ -f $BUILD/build.ninja ]] || { log "configuring $BUILD"; meson setup "$BUILD" >&2; }
	ninja -C "$BUILD" controlplane/pop53d tools/pop53-zonec tools/pop53ctl >&2
fi
for b in controlplane/pop53d tools/pop53-zonec tools/pop53ctl; do
	[[ -x $BUILD/$b ]] || die "$BUILD/$b not built"
done
TMP=$(bench_tmp pop53-health-bench)

cat >"$TMP/zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
@    CAA 0 issue "ca.example.net"
ns1  A   127.0.0.53
EOF

# snapshot INTERVAL WEB1 WEB2: the failover policy's snapshot, path printed
snapshot() {
	cat >"$TMP/p$1.yaml" <<EOF
checks:
  primary:   { type: http, target: 127.0.0.1, port: $2, interval_ms: $1, timeout_ms: 500,
               fall: $FALL, rise: 1 }
  secondary: { type: http, target: 127.0.0.1, port: $3, interval_ms: $1, timeout_ms: 500,
               fall: $FALL, rise: 1 }
records:
  - name: www.example.com.
    type: A
    ttl: 5
    policy:
      routing: failover
      members:
        - { address: 127.0.0.10, check: primary }
        - { address: 127.0.0.11, check: secondary }
EOF
	"$BUILD/tools/pop53-zonec" compile -o "$TMP/s$1.snap" --policy "$TMP/p$1.yaml" \
		"$TMP/zone" >"$TMP/zonec.log" 2>&1 || die "pop53-zonec: $(tail -n 3 "$TMP/zonec.log")"
	echo "$TMP/s$1.snap"
}

# The measuring side: DNS_PORT WEB1 WEB2 POP53CTL SOCKET INTERVAL_MS FALL RUNS DEATH;
# prints one time in ms per line, one run each.
measure() {
	"$PY" - "$@" <<'EOF'
import json, random, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import dns.exception, dns.message, dns.query

dport, web1, web2 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctl, sock, interval = sys.argv[4], sys.argv[5], int(sys.argv[6]) / 1000
fall, runs, death = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    request_queue_size = 64     # a silent endpoint still completes handshakes

class Endpoint:
    def __init__(self, port):
        self.port, self.srv = port, None
    def start(self):
        if self.srv:            # silent: the socket is still open
            self.srv.server_close()
        self.srv = Server(("127.0.0.1", self.port), Health)
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
    def die(self, how):
        self.srv.shutdown()     # no more answers
        if how == "refused":
            self.srv.server_close()
            self.srv = None

def www():
    try:
        r = dns.query.udp(dns.message.make_query("www.example.com", "A"), "127.0.0.1",
                          port=dport, timeout=0.2)
    except dns.exception.Timeout:
        return None
    return [rr.address for s in r.answer for rr in s]

def primary():
    r = subprocess.run([ctl, "-s", sock, "--json", "status"], capture_output=True, text=True,
                       timeout=10)
    for c in json.loads(r.stdout).get("policy_checks", []):
        if c["name"] == "primary":
            return c
    sys.exit("no check 'primary' in pop53d's status")

def settle(limit):
    """healthy, and the latest probe (made after now) passed"""
    p0, t0 = primary()["probes"], time.monotonic()
    while time.monotonic() - t0 < limit:
        c = primary()
        if c["healthy"] and c["probes"] > p0 and not c["last_error"] and www() == ["127.0.0.10"]:
            return
        time.sleep(0.05)
    sys.exit("the primary's check did not settle within %.0f s" % limit)

e1, e2 = Endpoint(web1), Endpoint(web2)
e1.start()
e2.start()
limit = interval * (fall + 2) + 5
for _ in range(runs):
    settle(interval * 3 + 5)
    time.sleep(random.uniform(0, interval))
    e1.die(death)
    t0 = time.monotonic()
    while www() != ["127.0.0.11"]:
        if time.monotonic() - t0 > limit:
            sys.exit("answers did not move within %.0f s" % limit)
        time.sleep(0.01)
    print("%.0f" % ((time.monotonic() - t0) * 1000), flush=True)
    e1.start()
EOF
}

ROW_FMT="%-9s %-8s %-5s %-5s %-11s %-19s %-9s %-6s\n"
TABLE=()
FAILED=0
for iv in $INTERVALS; do
	port=$(free_port 42000)
	web1=$(free_port $((port + 1)) "$port")
	web2=$(free_port $((web1 + 1)) "$port $web1")
	snap=$(snapshot "$iv" "$web1" "$web2")
	"$BUILD/controlplane/pop53d" --listen "127.0.0.1@$port" --udp-threads 1 \
		--snapshot "$snap" --control-socket "$TMP/ctl.sock" --health-interval-ms 60000 \
		>"$TMP/pop53d-$iv.log" 2>&1 &
	PID=$!
	for _ in $(seq 50); do grep -q "pop53d: ready" "$TMP/pop53d-$iv.log" && break; sleep 0.1; done
	grep -q "pop53d: ready" "$TMP/pop53d-$iv.log" || die "pop53d did not start"
	goal=$((iv * FALL + 1000))
	for death in $DEATHS; do
		log "interval $iv ms, fall $FALL, $death deaths: $RUNS runs"
		if ! measure "$port" "$web1" "$web2" "$BUILD/tools/pop53ctl" "$TMP/ctl.sock" \
			"$iv" "$FALL" "$RUNS" "$death" >"$TMP/times-$iv-$death" 2>"$TMP/err"; then
			log "failed: $(tail -n 2 "$TMP/err")"
			FAILED=1
		fi
		read -r med lo hi < <(med_min_max <"$TMP/times-$iv-$death")
		n=$(wc -l <"$TMP/times-$iv-$death")
		met=no
		[[ $hi != n/a ]] && ((hi <= goal)) && met=yes
		TABLE+=("$(row "$iv ms" "$death" "$FALL" "$n" "$med ms" "$lo-$hi ms" "$goal ms" \
			"$(ratio "$med" "$goal")")")
		((n == RUNS)) || FAILED=1
		[[ $met == yes ]] || FAILED=1
	done
	stop_pid "$PID"
	PID=
	rm -f "$TMP/ctl.sock"
done

echo
echo "Time from an endpoint's death to the first answer that avoids it (pop53d kernel mode,"
echo "http checks, timeout 500 ms; median of $RUNS; goal: interval x fall + 1 s; ratio:"
echo "median / goal)."
row "interval" "death" "fall" "runs" "median" "min-max" "goal" "ratio"
printf '%s\n' "${TABLE[@]}"
exit "$FAILED"
