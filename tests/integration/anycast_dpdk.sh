#!/usr/bin/env bash
# The anycast loop with pop53d --io dpdk: the PoP's uplink (eth0, a veth in
# its namespace, also its BGP link) is an AF_XDP port, our XDP program
# passing BGP, BFD, ARP and ND to the kernel. Checks: announced once the
# canary is answered by the DPDK worker's own loop; a client behind the
# router is answered by the worker; a stalled lcore (pop53ctl fault
# stall:0:MS: the worker stops looping, its heartbeat stops) withdraws the
# prefix, each time printed; it comes back after the rise; SIGKILL
# withdraws by the fail-safe. Exit 0 PASS, 1 FAIL, 77 SKIP (no namespaces,
# TUN/TAP or AF_XDP).
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

lab_need anycast_dpdk
# The XDP program is built with the DPDK dataplane (meson -Ddpdk).
[[ -r $LAB_BUILD/dataplane/xdp_dns.o ]] ||
	{ echo "SKIP anycast_dpdk: this build has no DPDK dataplane (-Ddpdk=disabled, or libdpdk-dev missing)"; exit 77; }

lab_init "p53x$$"
cleanup() { lab_cleanup; rm -rf "/var/run/dpdk/p53ax$$"; }
trap cleanup EXIT
lab_router 1 || { echo "FAIL anycast_dpdk: the lab did not come up"; exit 1; }
lab_client
eal="-l 0,1 --no-huge -m 256 --no-pci --file-prefix p53ax$$ --log-level *:notice"
eal+=" --vdev net_af_xdp0,iface=eth0,xdp_prog=$LAB_BUILD/dataplane/xdp_dns.o"
lab_pop 1 --io dpdk --eal "$eal" --health-interval-ms 100 --health-fall 2 --health-rise 5 ||
	{ echo "FAIL anycast_dpdk: pop53d --io dpdk did not start:"; tail -n 5 "$LAB_DIR/pop1/pop53d.log"; exit 1; }

answers() { lab_ns cli dig +short +tries=1 +time=1 "@$LAB_SVC4" www.example.com A 2>/dev/null; }

t=$(lab_time_until lab_announced) && ok "announced once the DPDK worker answered the canary ($t ms)" ||
	bad "not announced: $(lab_ctl 1 status | grep -i health)"
[[ $(answers) == 192.0.2.10 ]] && ok "the client is answered by the DPDK worker through the router" ||
	bad "no answer through the router"
t0=$(now_ms)
lab_ctl 1 fault stall:0:2000 >/dev/null
t=$(lab_time_until lab_withdrawn) && ok "withdrawn $t ms after DPDK worker 0 stalled" ||
	bad "not withdrawn after a stalled lcore"
grep -q "workers: worker 0 stalled\|canary: worker 0" "$LAB_DIR/pop1/pop53d.log" &&
	ok "the reason names the worker: $(grep -m1 "health: down" "$LAB_DIR/pop1/pop53d.log" | sed 's/^pop53d: //')" ||
	bad "no reason naming the worker in the log"
lab_time_until lab_announced >/dev/null
back=$(( $(now_ms) - t0 ))
((back >= 2500)) && ok "announced again $back ms after the stall began (2000 + rise 5 x 100 ms)" ||
	bad "announced again after $back ms: before the stall and the rise"
t0=$(now_ms)
lab_pop53d_kill 1 KILL
t=$(lab_time_until lab_withdrawn) && ((t < 3000)) &&
	ok "SIGKILL: withdrawn $(( $(now_ms) - t0 )) ms after the kill" || bad "SIGKILL: not withdrawn within 3 s"

if ((fail)); then echo "FAIL anycast_dpdk"; exit 1; fi
echo "PASS anycast_dpdk"
