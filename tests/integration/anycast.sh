#!/usr/bin/env bash
# pop53d drives BIRD: the service prefix is announced while the node is
# healthy and withdrawn when it is not, timed at a router BIRD in another
# namespace (scripts/anycast-lab.bash: router AS 65000, PoP AS 65101, eBGP
# over IPv4 and IPv6 with BFD). Checks, each with the time from the cause to
# the change in the router's FIB:
#   announced when healthy (IPv4 and IPv6);
#   withdrawn when the workers stall; back only after the rise threshold
#     and the hold-down;
#   withdrawn when the snapshot grows older than the maximum age; back when
#     a fresh one is loaded;
#   drain: GRACEFUL_SHUTDOWN (65535:0) seen at the router first, withdrawn
#     after the drain wait; undrain announces again;
#   BIRD restarted under pop53d: the state comes back as it was;
#   the event loop hangs: withdrawn within 3 s (the watchdog thread takes
#     the fail-safe interface down), back when it runs again;
#   SIGKILL of pop53d: withdrawn within 3 s by BIRD alone (fail-safe);
#   SIGTERM: drained first, answers continue, then withdrawn and stopped.
# Exit 0 PASS, 1 FAIL, 77 SKIP (no network namespaces or TUN/TAP).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
LAB_BUILD=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
LAB_ROOT=$root
# shellcheck source=scripts/anycast-lab.bash
. "$root/scripts/anycast-lab.bash"

fail=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
now_ms() { lab_now_ms; }

lab_need anycast

lab_init "p53a$$"
trap lab_cleanup EXIT
INTERVAL=100 RISE=5 HOLD=1500 DRAIN=1000
lab_router 1 || { echo "FAIL anycast: the lab did not come up"; exit 1; }
lab_client
lab_pop 1 --health-interval-ms $INTERVAL --health-fall 2 --health-rise $RISE \
	--health-hold-down-ms $HOLD --drain-wait-ms $DRAIN --max-snapshot-age 3600 ||
	{ echo "FAIL anycast: pop53d did not start: $(tail -n 3 "$LAB_DIR/pop1/pop53d.log")"; exit 1; }
rtr_rib() { birdc -s "$LAB_DIR/rtr.ctl" show route all "$1" 2>/dev/null; }
v6_route() { lab_ns rtr ip -6 route show "$LAB_SVC6/128" 2>/dev/null; }
answers() { lab_ns cli dig +short +tries=1 +time=1 "@$LAB_SVC4" www.example.com A 2>/dev/null; }


# 1. Announced when healthy.
t=$(lab_time_until lab_announced) && ok "announced once healthy (IPv4, $t ms after ready)" ||
	bad "not announced: $(lab_route4); $(tail -n 3 "$LAB_DIR/pop1/pop53d.log")"
v6_announced() { [[ -n $(v6_route) ]]; }
t=$(lab_time_until v6_announced) || true
[[ -n $(v6_route) ]] && ok "announced over IPv6 too" || bad "no IPv6 route at the router"
[[ $(answers) == 192.0.2.10 ]] && ok "the client is answered through the router" ||
	bad "no answer through the router"

# 2. Stalled workers: withdrawn; back only after rise and hold-down.
t0=$(now_ms)
lab_ctl 1 fault stall:2000 >/dev/null
t=$(lab_time_until lab_withdrawn) && ok "withdrawn $t ms after the workers stalled" ||
	bad "not withdrawn after a stall"
t=$(lab_time_until lab_announced)
back=$(( $(now_ms) - t0 ))
# The first of the RISE good checks can come right as the stall ends, the
# last (RISE - 1) intervals later: earlier than that is too early.
min=$((2000 + (RISE - 1) * INTERVAL))
((back >= min)) && ok "announced again $back ms after the stall began (stall 2000 + rise $RISE x $INTERVAL ms)" ||
	bad "announced again after $back ms, before the stall and the rise ($min ms)"

# 3. Snapshot too old: withdrawn; a fresh one brings it back.
touch_old() {   # a snapshot made 2 hours ago: SOURCE_DATE_EPOCH sets its creation time
	SOURCE_DATE_EPOCH=$(( $(date +%s) - 7200 )) "$LAB_BUILD/tools/pop53-zonec" compile \
		--serial "$1" -o "$2" "$root/zones/examples/example.com.zone" >/dev/null 2>&1
}
touch_old 200 "$LAB_DIR/old.snap"
lab_ctl 1 load "$LAB_DIR/old.snap" --force >/dev/null
t=$(lab_time_until lab_withdrawn) && ok "withdrawn $t ms after a snapshot older than the maximum age was loaded" ||
	bad "not withdrawn with an expired snapshot: $(lab_ctl 1 status | grep health)"
"$LAB_BUILD/tools/pop53-zonec" compile --serial 300 -o "$LAB_DIR/new.snap" \
	"$root/zones/examples/example.com.zone" >/dev/null 2>&1
lab_ctl 1 load "$LAB_DIR/new.snap" --force >/dev/null
t=$(lab_time_until lab_announced) && ok "announced again $t ms after a fresh snapshot was loaded" ||
	bad "not announced after a fresh snapshot"

# 4. Drain: the community first, then the withdraw.
has_gshut() { rtr_rib "$LAB_SVC4/32" | grep -q "(65535,0)"; }
t0=$(now_ms)
lab_ctl 1 drain >/dev/null
t=$(lab_time_until has_gshut) && ok "drain: GRACEFUL_SHUTDOWN (65535,0) at the router after $t ms, route still installed" ||
	bad "drain: no 65535:0 at the router"
lab_announced || bad "drain: withdrawn before the drain wait"
lab_time_until lab_withdrawn >/dev/null
t=$(( $(now_ms) - t0 ))
((t >= DRAIN)) && ok "drain: withdrawn $t ms after the drain began (drain wait $DRAIN ms)" ||
	bad "drain: withdrawn after $t ms, before the drain wait"
lab_ctl 1 undrain >/dev/null
t=$(lab_time_until lab_announced) && ok "undrain: announced again after $t ms" || bad "undrain: not announced"
has_gshut && bad "undrain: the community is still there" || true

# 5. BIRD restarted under pop53d: announced again, by the state file and
# pop53d's reconnect.
pidf=$LAB_DIR/pop1.pid
kill -TERM "$(cat "$pidf")"
for _ in $(seq 50); do [[ -e $pidf ]] || break; sleep 0.1; done
t=$(lab_time_until lab_withdrawn) || true
lab_ns pop1 bird -c "$LAB_DIR/pop1/bird.conf" -s "$LAB_DIR/pop1.ctl" -P "$pidf"
t=$(lab_time_until lab_announced) && ok "BIRD restarted: announced again after $t ms" ||
	bad "BIRD restarted: not announced again"
lab_ctl 1 --json status | grep -q '"bird_connected": true' && ok "pop53d reconnected to BIRD" ||
	bad "pop53d did not reconnect to BIRD"

# 6. The event loop hangs (as a deadlock would): the watchdog thread takes
# the fail-safe interface down; back once the loop runs again.
t0=$(now_ms)
lab_ctl 1 --timeout-ms 20000 fault hang:5000 >/dev/null &
hang=$!
t=$(lab_time_until lab_withdrawn) && ((t < 3000)) &&
	ok "event loop hung: withdrawn $(( $(now_ms) - t0 )) ms after the hang began (watchdog)" ||
	bad "event loop hung: not withdrawn within 3 s ($t)"
wait "$hang"
t=$(lab_time_until lab_announced) && ok "the loop runs again: announced after $t ms" ||
	bad "not announced after the hang"

# 7. SIGKILL: BIRD withdraws by itself (the fail-safe interface is gone).
t0=$(now_ms)
lab_pop53d_kill 1 KILL
t=$(lab_time_until lab_withdrawn) && ((t < 3000)) &&
	ok "SIGKILL: withdrawn $(( $(now_ms) - t0 )) ms after the kill, with no other process acting" ||
	bad "SIGKILL: not withdrawn within 3 s ($t)"

# 8. SIGTERM: drain, keep answering, then withdrawn and stopped.
lab_pop53d_start 1 || bad "pop53d did not start again"
lab_time_until lab_announced >/dev/null || bad "not announced after the restart"
pid=${LAB_POP_PID[1]}
t0=$(now_ms)
kill -TERM "$pid"
t=$(lab_time_until has_gshut) && ok "SIGTERM: drained first ($t ms)" || bad "SIGTERM: no drain"
[[ $(answers) == 192.0.2.10 ]] && ok "SIGTERM: still answering while drained" ||
	bad "SIGTERM: no answer while draining"
lab_time_until lab_withdrawn >/dev/null
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && bad "SIGTERM: pop53d still running" ||
	ok "SIGTERM: withdrawn and stopped after $(( $(now_ms) - t0 )) ms"
LAB_POP_PID[1]=

grep -h "health:\|anycast" "$LAB_DIR/pop1/pop53d.log" | sed 's/^/    /' | tail -n 12
if ((fail)); then echo "FAIL anycast"; exit 1; fi
echo "PASS anycast"
