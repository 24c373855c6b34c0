#!/usr/bin/env bash
# Health checks drive pop53d's policy answers (kernel mode, loopback only).
# Two HTTP endpoints run inside the test's Python process on 127.0.0.1; a
# failover policy answers 127.0.0.10 while the first is up and 127.0.0.11
# while only the second is, with http checks every 1000 ms, fall 2, rise 2,
# and a calculated check (and) over both. The endpoints are stopped and
# started during a query loop: answers move within interval x fall + 1 s
# and come back after rise (both printed), the metrics follow, both down
# answers fail open (counted), votes from pop53ctl vote and from the push
# API's POST /v1/votes override this node's verdict, and a snapshot whose
# check targets a host name is refused whole.
set -uo pipefail
PL_NAME=policy_health
here=$(cd "$(dirname "$0")" && pwd)
# certificates, keys, pop53d stopped by PID and $PL_TMP removed on exit
. "$here/push_lib.bash"
build=$PL_BUILD zonec=$PL_ZONEC tmp=$PL_TMP

pl_need openssl curl "$PL_POP53D" "$PL_ZONEC" "$PL_CTL"
pl_certs || { echo "FAIL policy_health: cannot make the test certificates"; exit 1; }
pl_keys || { echo "FAIL policy_health: pop53-zonec keygen failed"; exit 1; }
read -r port mport pport web1 web2 < <(pl_ports 5 | tr '\n' ' ')

cat >"$tmp/zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
@    CAA 0 issue "ca.example.net"
ns1  A   127.0.0.53
EOF
# policy FILE TARGET [EXTRA-CHECK]: the test's policy with the primary's
# target given (an address, or a host name to be refused).
policy() {
	cat >"$1" <<EOF
version: 1
checks:
  primary:   { type: http, target: $2, port: $web1, path: /health, interval_ms: 1000,
               timeout_ms: 500, fall: 2, rise: 2 }
  secondary: { type: http, target: 127.0.0.1, port: $web2, path: /health, interval_ms: 1000,
               timeout_ms: 500, fall: 2, rise: 2 }
  both:      { type: calculated, op: and, members: [ primary, secondary ] }
${3:-}
records:
  - name: www.example.com.
    type: A
    ttl: 5
    policy:
      routing: failover
      members:
        - { address: 127.0.0.10, check: primary }
        - { address: 127.0.0.11, check: secondary }
  - name: pair.example.com.
    type: A
    ttl: 5
    policy:
      routing: failover
      members:
        - { address: 127.0.0.20, check: both }
        - { address: 127.0.0.21 }
EOF
}
policy "$tmp/p1.yaml" 127.0.0.1
policy "$tmp/p2.yaml" 127.0.0.1 "  extra:     { type: tcp, target: 127.0.0.1, port: $web2, interval_ms: 1000, timeout_ms: 500 }"
policy "$tmp/p3.yaml" web.example.net
for i in 1 2 3; do
	if ! "$zonec" compile -o "$tmp/s$i.snap" --serial "$i" --sign "$tmp/ctl.key" \
		--policy "$tmp/p$i.yaml" "$tmp/zone" >"$tmp/zonec.log" 2>&1; then
		echo "FAIL policy_health: pop53-zonec: $(tail -n 3 "$tmp/zonec.log")"
		exit 1
	fi
done

mkdir "$tmp/state"
pki=$tmp/pki
pl_start "$tmp/log" --listen "127.0.0.1@$port" --udp-threads 1 \
	--snapshot "$tmp/s1.snap" --state-dir "$tmp/state" --metrics-listen "127.0.0.1@$mport" \
	--control-socket "$tmp/ctl.sock" --health-interval-ms 60000 \
	--push-listen "127.0.0.1@$pport" --tls-cert "$pki/node.crt" --tls-key "$pki/node.key" \
	--tls-client-ca "$pki/ca.crt" --trusted-key "$tmp/ctl.pub" ||
	{ echo "FAIL policy_health: pop53d did not start"; exit 1; }
pid=$PL_PID

/usr/bin/python3 "$here/policy_health.py" "$port" "$mport" "$web1" "$web2" \
	"$build/tools/pop53ctl" "$tmp" "$pport"
ret=$?
# A clean stop, and nothing from the sanitizers in an ASan build.
pl_stop "$pid"
if grep -q "pop53d: signal 15: stopping" "$tmp/log" &&
	! grep -qE "Sanitizer|runtime error:" "$tmp/log"; then
	echo "ok   pop53d stopped cleanly"
else
	echo "FAIL pop53d did not stop cleanly, or a sanitizer reported"
	ret=1
fi
if ((ret == 0)) && grep -q "policy-check primary unhealthy (was healthy, word 0)" "$tmp/log"; then
	echo "ok   the log has one line per word change"
else
	((ret)) || echo "FAIL no 'policy-check primary unhealthy' line in the log"
	ret=1
fi
if ((ret)); then
	echo "--- pop53d's log (last 20 lines)"; tail -n 20 "$tmp/log"
	echo "FAIL policy_health"; exit 1
fi
echo "PASS policy_health"
