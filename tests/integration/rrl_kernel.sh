#!/usr/bin/env bash
# Response rate limiting and DNS cookies in pop53d's kernel-socket mode
# (the DPDK path has tests/integration/rrl_flood.sh): a burst of queries
# from one client prefix is limited (dropped or slipped with TC=1) and
# counted in the metrics; an exempt client is never limited; a client that
# presents a valid server cookie is not limited either; the periodic
# report names the limited prefix. Loopback only.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
tmp=$(mktemp -d /tmp/p53-rrlk.XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$((43000 + RANDOM % 6000)) mport=$((port + 1))
"$build/controlplane/pop53d" --listen "127.0.0.1@$port" --udp-threads 1 \
	--zone "$root/zones/examples/example.com.zone" --metrics-listen "127.0.0.1@$mport" \
	--rrl-responses-per-second 5 --rrl-window 5 --rrl-slip 2 --rrl-exempt 127.0.0.2/32 \
	--cookie-secret 000102030405060708090a0b0c0d0e0f --health-interval-ms 60000 \
	>"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "pop53d: ready" "$tmp/log" && break; sleep 0.1; done
grep -q "pop53d: ready" "$tmp/log" || { echo "FAIL rrl_kernel: pop53d did not start: $(tail -n 3 "$tmp/log")"; exit 1; }

/usr/bin/python3 - "$port" "$mport" <<'PY'
import socket, sys, time, urllib.request
import dns.edns, dns.flags, dns.message, dns.rcode
from prometheus_client.parser import text_string_to_metric_families

port, mport = int(sys.argv[1]), int(sys.argv[2])
fail = 0
def check(ok, what):
    global fail
    print(("ok   " if ok else "FAIL ") + what)
    fail |= not ok

def burst(src, n, opts=None):
    """n queries from src, all sent first; returns (full answers, TC-only)"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)   # SO_RCVBUFFORCE: keep every answer
    s.bind((src, 0))
    for i in range(n):
        q = dns.message.make_query("www.example.com", "A", use_edns=0, options=opts or [])
        q.id = i
        s.sendto(q.to_wire(), ("127.0.0.1", port))
    full = tc = 0
    s.settimeout(0.5)
    try:
        while True:
            m = dns.message.from_wire(s.recv(4096))
            if m.flags & dns.flags.TC or m.rcode() == 23:
                tc += 1
            elif m.answer:
                full += 1
    except socket.timeout:
        pass
    return full, tc

full, tc = burst("127.0.0.1", 300)
check(full <= 30, f"a burst of 300 from 127.0.0.0/24: {full} full answers (limit 5/s x window)")
check(tc >= 100, f"slip 2: {tc} truncated answers went out")
full, tc = burst("127.0.0.2", 300)
check(full == 300, f"the exempt client got {full}/300 full answers")

# learn a server cookie (from a prefix not yet limited), then flood with it
client = bytes(range(8))
q = dns.message.make_query("www.example.com", "A", use_edns=0,
                           options=[dns.edns.GenericOption(10, client)])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.1.3", 0)); u.settimeout(1)
u.sendto(q.to_wire(), ("127.0.0.1", port))
m = dns.message.from_wire(u.recv(4096))
ck = [o for o in m.options if o.otype == 10]
check(ck and len(ck[0].data) == 24 and ck[0].data[:8] == client,
      "a server cookie (RFC 9018, 16 bytes) comes back with the client cookie")
if ck:
    full, tc = burst("127.0.1.3", 200, [dns.edns.GenericOption(10, ck[0].data)])
    check(full == 200, f"with a valid server cookie, {full}/200 full answers (never limited)")
    bad = bytes(ck[0].data[:8]) + bytes(16)
    full, tc = burst("127.0.2.4", 100, [dns.edns.GenericOption(10, bad)])
    check(full <= 10, f"with a forged server cookie the client is limited ({full} full answers)")

text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
vals = {}
for fam in text_string_to_metric_families(text):
    for smp in fam.samples:
        vals[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
lim = vals.get(("pop53_rrl_limited_total", (("kind", "answer"),)), 0)
ck_ex = vals.get(("pop53_rrl_exempt_total", (("why", "cookie"),)), 0)
ex = vals.get(("pop53_rrl_exempt_total", (("why", "exempt-clients"),)), 0)
check(lim >= 250, f"metrics: {lim:.0f} answers limited")
check(ex >= 300, f"metrics: {ex:.0f} exempt by exempt-clients")
check(ck_ex >= 200, f"metrics: {ck_ex:.0f} exempt by a valid cookie")
sys.exit(1 if fail else 0)
PY
rc=$?
# The periodic report (every 10 s) covers the period before; a table
# switches periods in its thread, on traffic: keep a trickle going.
for _ in $(seq 50); do
	grep -q "pop53d: rrl: limited 127.0.0.0/24" "$tmp/log" && break
	kdig @127.0.0.1 -p "$port" +retry=0 +timeout=1 www.example.com A >/dev/null 2>&1
	sleep 0.5
done
if grep -q "pop53d: rrl: limited 127.0.0.0/24" "$tmp/log"; then
	echo "ok   the report names the limited prefix: $(grep -m1 "rrl: limited" "$tmp/log")"
else
	echo "FAIL no aggregate report in the log"; rc=1
fi
((rc == 0)) && echo "PASS rrl_kernel" || { echo "FAIL rrl_kernel"; exit 1; }
