#!/usr/bin/env bash
# scripts/demo.sh — pop53's main job: a virtual anycast network on this
# machine, two PoPs announcing the same service address, and what happens
# to a client's queries when one PoP fails.
#
#   client  ->  router (BIRD, AS 65000)  ->  pop1 (BIRD + pop53d)
#                                        ->  pop2 (BIRD + pop53d)
#
# Both PoPs serve zones/examples/example.com.zone on 192.0.2.53 and
# 2001:db8:53::53 (each with its own NSID, so the client sees who answers)
# and announce them over eBGP while healthy. The client sends 200 queries
# a second throughout. The demo then, on the PoP the router uses:
#   1. stalls its workers (pop53ctl fault: no answers for 4 s, as a hung
#      dataplane would): health withdraws the prefix, the router moves to
#      the other PoP; the stall ends, the PoP comes back after its rise;
#   2. kills pop53d with SIGKILL: BIRD withdraws by itself (the fail-safe
#      interface vanished with the process); pop53d is started again;
#   3. drains it (pop53ctl drain: GRACEFUL_SHUTDOWN first, then withdraw),
#      then undrains it.
# For each it prints the time from the cause to the router's change and
# the gap in the client's answers (goal: under 1 s; BGP hold timers or DNS
# TTLs would give tens of seconds), and exits non-zero if a goal is missed.
#
# Usage: scripts/demo.sh       (as root: namespaces, BIRD, TAP interfaces)
# Environment: CC (compiler for the build), LAB_KEEP=1 keeps the logs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/anycast-lab.bash
. scripts/anycast-lab.bash

step() { printf '\n==== %s ====\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

step "1. set up and build (scripts/setup.sh)"
bash scripts/setup.sh
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (network namespaces, BIRD, TAP)" >&2; exit 1; }
[[ -x build/controlplane/pop53d ]] || { echo "demo: pop53d was not built" >&2; exit 1; }

step "2. the zone both PoPs serve"
build/tools/pop53-zonec check zones/examples/example.com.zone | tail -n 1

step "3. the virtual network: router, client, two PoPs"
lab_init "p53d$$"
trap lab_cleanup EXIT
POP_ARGS="--health-interval-ms 100 --health-fall 2 --health-rise 5 --health-hold-down-ms 2000 --drain-wait-ms 1500"
lab_router 2
lab_client
lab_pop 1 $POP_ARGS || { echo "demo: pop1 did not start:"; tail "$LAB_DIR/pop1/pop53d.log"; exit 1; }
lab_pop 2 $POP_ARGS || { echo "demo: pop2 did not start:"; tail "$LAB_DIR/pop2/pop53d.log"; exit 1; }
echo "waiting for both PoPs to announce $LAB_SVC4 (BGP sessions, health rise)..."
routes() { birdc -s "$LAB_DIR/rtr.ctl" show route "$LAB_SVC4/32" 2>/dev/null | grep -c "unicast \[" || true; }
for _ in $(seq 300); do (( $(routes) >= 2 )) && break; sleep 0.1; done
birdc -s "$LAB_DIR/rtr.ctl" show route "$LAB_SVC4/32" | sed 's/^/  router: /'
(( $(routes) >= 2 )) || { echo "demo: the router did not learn both PoPs"; exit 1; }
echo "  router FIB: $(lab_route4)"

step "4. a client queries $LAB_SVC4 200 times a second"
EV=$LAB_DIR/events
: >"$EV"
lab_ns cli /usr/bin/python3 scripts/anycast-client.py run "$LAB_SVC4" 36 200 "$LAB_DIR/client.txt" &
CLIENT=$!
sleep 2
dig_who() { lab_ns cli dig +short +nsid +tries=1 +time=1 "@$LAB_SVC4" www.example.com A 2>/dev/null | tr '\n' ' '; }
echo "  $(dig_who)"

declare -a REPORT=()
# event NAME COMMAND...: run it on the PoP the router uses now, time the
# router's switch to the other one.
event() {
	local name=$1; shift
	local from to t0 t1
	from=$(lab_best_pop)
	to=$((3 - from))
	t0=$(now_ms)
	echo "$name $t0" >>"$EV"
	"$@" "$from"
	if lab_wait_route "$to" 10; then
		t1=$(now_ms)
		printf '  pop%s -> pop%s: the router switched %d ms after the cause\n' "$from" "$to" $((t1 - t0))
		REPORT+=("$name|pop$from|$((t1 - t0))")
	else
		printf '  the router did not switch within 10 s: %s\n' "$(lab_route4)"
		REPORT+=("$name|pop$from|none")
	fi
}
wait_both() {   # both PoPs announced again
	for _ in $(seq 200); do (( $(routes) >= 2 )) && return 0; sleep 0.1; done
	echo "  (not both back within 20 s)"
}

stall() { lab_ctl "$1" fault stall:4000 >/dev/null; }
step "5. failure 1: pop$(lab_best_pop)'s workers stall (no answers for 4 s)"
event stall stall
echo "  $(dig_who)"
echo "  ... the stall ends; the PoP must pass 5 health checks and a 2 s hold-down"
sleep 5; wait_both
grep -h "health:" "$LAB_DIR"/pop*/pop53d.log | tail -n 3 | sed 's/^/  log: /'

kill9() { lab_pop53d_kill "$1" KILL; }
step "6. failure 2: pop$(lab_best_pop)'s pop53d is killed (SIGKILL)"
KILLED=$(lab_best_pop)
event sigkill kill9
echo "  $(dig_who)"
echo "  ... pop53d is started again (it serves its state directory's snapshot first)"
lab_pop53d_start "$KILLED"
wait_both

drain() { lab_ctl "$1" drain >/dev/null; }
step "7. maintenance: pop$(lab_best_pop) is drained (GRACEFUL_SHUTDOWN, then withdraw)"
DRAINED=$(lab_best_pop)
event drain drain
birdc -s "$LAB_DIR/rtr.ctl" show route all "$LAB_SVC4/32" | grep -i "community" | head -n 2 | sed 's/^/  router: /' || true
lab_ctl "$DRAINED" undrain >/dev/null
wait_both

step "8. what the client saw"
wait "$CLIENT" || true
mapfile -t GAPS < <(/usr/bin/python3 scripts/anycast-client.py gaps "$LAB_DIR/client.txt" "$EV")
total=$(wc -l <"$LAB_DIR/client.txt")
answered=$(awk '$2 == 1' "$LAB_DIR/client.txt" | wc -l)
printf '%d queries sent, %d answered within 500 ms\n\n' "$total" "$answered"
printf '%-8s | %-6s | %-22s | %-20s | %-14s | %s\n' cause PoP "router switched after" "client's gap" "lost queries" "goal (< 1 s)"
missed=0
for k in "${!REPORT[@]}"; do
	IFS='|' read -r name pop sw <<<"${REPORT[$k]}"
	read -r _ gap lost _ _ <<<"${GAPS[$k]}"
	ok=met
	{ [[ $sw == none ]] || ((gap >= 1000)); } && { ok=MISSED; missed=1; }
	printf '%-8s | %-6s | %-22s | %-20s | %-14s | %s\n' "$name" "$pop" \
		"$([[ $sw == none ]] && echo never || echo "$sw ms")" "$gap ms" "$lost" "$ok"
done
echo
echo "A BGP hold timer (90 s here) or a DNS TTL would have left the client without"
echo "answers for tens of seconds; BFD alone (0.3 s) would not see a stalled dataplane."
exit $missed
