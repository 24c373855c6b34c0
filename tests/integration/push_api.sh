#!/usr/bin/env bash
# The push API, the metrics page and pop53ctl against a real pop53d
# (--io kernel on loopback), with certificates made here by the openssl CLI
# (a controllers' CA, a node certificate, a controller client certificate,
# and a rogue CA with its own client) and controller keys made by
# pop53-zonec keygen.
#
# A fresh node (empty state directory) answers SERVFAIL; then curl pushes:
# a signed snapshot (200, kdig sees its SOA serial), a snapshot signed by an
# unknown key (403), a corrupt one (400), an older one (409, then 200 with
# ?force=1), one over --push-max-bytes (413 from Content-Length), a chunked
# upload (411), other methods and paths (405, 404); no client certificate
# or one from another CA never gets past the TLS handshake; a stalled push
# gets 408 while a second push meanwhile gets 503 (push_api.py slow).
# GET /v1/status answers the contract's document. /metrics is parsed by
# prometheus_client and its counters move by exactly the queries this test
# sends (UDP and TCP, by RCODE) and the pushes above (by result).
# pop53ctl status/stats/load/drain/undrain in human and --json form, with
# its exit statuses. Restarting from the state directory alone serves the
# last pushed snapshot; with an older --snapshot given, the stored one wins,
# at start and at SIGHUP.
#
# Exit 0 when every check passed, 1 otherwise. Everything made is removed.
set -uo pipefail
PL_NAME=push_api
. "$(cd "$(dirname "$0")" && pwd)/push_lib.bash"

pl_need openssl curl kdig "$PL_POP53D" "$PL_ZONEC" "$PL_CTL"
pl_certs || { fail "cannot make the test certificates"; exit 1; }
pl_keys || { fail "pop53-zonec keygen failed"; exit 1; }
mapfile -t ports < <(pl_ports 3)
dns=${ports[0]} push=${ports[1]} metrics=${ports[2]}
T=$PL_TMP pki=$PL_TMP/pki state=$PL_TMP/state sock=$PL_TMP/ctl.sock
mkdir -p "$state"

pl_snap "$T/s100.snap" 100 1001 || { fail "cannot build snapshots"; exit 1; }
pl_snap "$T/s200.snap" 200 1002
pl_snap "$T/s50.snap" 50 1000
pl_snap "$T/s300.snap" 300 1003
pl_snap "$T/s400.snap" 400 1004
pl_snap "$T/other.snap" 150 1500 "$T/other.key"
cp "$T/s300.snap" "$T/corrupt.snap"
printf '\xff\xfe' | dd of="$T/corrupt.snap" bs=1 seek=300 conv=notrunc 2>/dev/null
head -c $((2 << 20)) /dev/zero >"$T/big.snap"

args=(--listen "127.0.0.1@$dns" --udp-threads 1 --state-dir "$state"
	--trusted-key "$T/ctl.pub" --push-listen "127.0.0.1@$push"
	--tls-cert "$pki/node.crt" --tls-key "$pki/node.key" --tls-client-ca "$pki/ca.crt"
	--push-max-bytes 1M --push-timeout-ms 2000
	--metrics-listen "127.0.0.1@$metrics" --control-socket "$sock"
	--health-interval-ms 100 --health-rise 1)
pl_start "$T/d1.log" "${args[@]}" || { fail "pop53d did not start"; exit 1; }
pid=$PL_PID
url=https://127.0.0.1:$push

kdig @127.0.0.1 -p "$dns" example.test SOA +retry=0 >"$T/kdig0" 2>&1
check "a fresh node answers SERVFAIL until its first push" grep -q "status: SERVFAIL" "$T/kdig0"

# expect_put NAME FILE STATUS ERROR [CURL ARGS]: a push answered STATUS
# with the contract's JSON (error name, or the success document).
expect_put() {
	local name=$1 file=$2 want=$3 err=$4 got
	shift 4
	got=$(pl_put "$push" "$file" "$T/body" "$@")
	if [[ $got != "$want" ]]; then
		fail "$name: HTTP $got, want $want: $(cat "$T/body" "$T/body.err" 2>/dev/null)"
		return 1
	fi
	if [[ $want == 200 ]]; then
		[[ $(pl_json "$T/body" 'sorted(j)') == "['previous_serial', 'serial', 'zones']" ]] ||
			{ fail "$name: 200 body: $(cat "$T/body")"; return 1; }
	elif [[ $(pl_json "$T/body" 'j["error"], "message" in j, type(j["serial"]).__name__') != \
		"('$err', True, 'int')" ]]; then
		fail "$name: $want body: $(cat "$T/body")"
		return 1
	fi
	pass "$name: $want $(tr -d '\n' <"$T/body")"
}

expect_put "signed snapshot" "$T/s100.snap" 200 ""
check "kdig sees the pushed SOA serial" test "$(pl_soa "$dns")" = 1001
check "success names serial and previous" test \
	"$(pl_json "$T/body" 'j["serial"], j["previous_serial"], j["zones"]')" = "(100, 0, 1)"
expect_put "snapshot signed by an unknown key" "$T/other.snap" 403 bad-signature
expect_put "corrupt snapshot" "$T/corrupt.snap" 400 corrupt
expect_put "snapshot over the size limit" "$T/big.snap" 413 too-large
expect_put "chunked upload" "$T/s200.snap" 411 length-required -H 'Transfer-Encoding: chunked'
check "still serving 1001 after the refusals" test "$(pl_soa "$dns")" = 1001
expect_put "newer snapshot" "$T/s200.snap" 200 ""
expect_put "rollback" "$T/s50.snap" 409 stale
check "409 names the served serial" test "$(pl_json "$T/body" 'j["serial"]')" = 200
check "still serving 1002 after the rollback refusal" test "$(pl_soa "$dns")" = 1002
expect_put "rollback with force=1" "$T/s50.snap" 200 "" "?force=1"
check "kdig sees the forced older serial" test "$(pl_soa "$dns")" = 1000
expect_put "forward again" "$T/s200.snap" 200 ""

code=$(curl -sS -o "$T/body" -w '%{http_code}' --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "$url/v1/snapshot" 2>/dev/null)
check "GET /v1/snapshot is 405" test "$code" = 405
code=$(curl -sS -o "$T/body" -w '%{http_code}' --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" -T "$T/s300.snap" "$url/v2/snapshot" 2>/dev/null)
check "PUT elsewhere is 404" test "$code" = 404
check "404 body is the contract's JSON" test "$(pl_json "$T/body" 'j["error"]')" = not-found

code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.crt" \
	-T "$T/s300.snap" "$url/v1/snapshot" 2>"$T/nocert.err")
check "no client certificate: no HTTP answer ($(head -c 80 "$T/nocert.err"))" test "$code" = 000
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.crt" \
	--cert "$pki/rogue.crt" --key "$pki/rogue.key" -T "$T/s300.snap" "$url/v1/snapshot" \
	2>"$T/rogue.err")
check "client certificate from another CA: no HTTP answer" test "$code" = 000
check "the daemon logs the refused handshakes" \
	test "$(grep -c 'TLS handshake with 127.0.0.1@[0-9]* failed' "$T/d1.log")" -ge 2
check "still serving 1002 after the refused handshakes" test "$(pl_soa "$dns")" = 1002

if "$PL_PY" "$PL_HERE/push_api.py" slow "$push" "$pki" 2000; then :; else
	fail "stalled push / concurrent push"
fi

code=$(curl -sS -o "$T/status" -w '%{http_code}' --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "$url/v1/status" 2>/dev/null)
check "GET /v1/status is 200" test "$code" = 200
check "status document" test "$(pl_json "$T/status" \
	'(j["serial"], j["zones"], j["healthy"], j["drained"], j["version"], abs(j["loaded_at"] - __import__("time").time()) < 60)')" \
	= "(200, [{'name': 'example.test.', 'serial': 1002, 'names': 3}], True, False, '0.1.0', True)"

# ---- metrics: counters move by exactly what this test does ----------------------
"$PL_PY" "$PL_HERE/push_api.py" scrape "http://127.0.0.1:$metrics/metrics" "$T/m0.json" ||
	fail "metrics page does not parse"
for _ in 1 2 3 4 5; do kdig @127.0.0.1 -p "$dns" www.example.test A +retry=0 >/dev/null; done
for _ in 1 2 3; do kdig @127.0.0.1 -p "$dns" nx.example.test A +retry=0 >/dev/null; done
kdig @127.0.0.1 -p "$dns" www.elsewhere.test A +retry=0 >/dev/null
for _ in 1 2; do kdig @127.0.0.1 -p "$dns" +tcp www.example.test A +retry=0 >/dev/null; done
"$PL_PY" "$PL_HERE/push_api.py" scrape "http://127.0.0.1:$metrics/metrics" "$T/m1.json" ||
	fail "metrics page does not parse"
delta() {
	"$PL_PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); k=sys.argv[3]; print(int(b[k] - a.get(k, 0)))' \
		"$T/m0.json" "$T/m1.json" "$1"
}
value() { pl_json "$T/m1.json" "int(j['$1'])"; }
want_delta() { check "metrics: $1 +$2" test "$(delta "$1")" = "$2"; }
# The health check's canary (one SOA query per 100 ms over UDP) is counted
# like any query: its own counter says how many to add.
canaries=$(delta 'pop53_health_canaries_total|')
want_delta 'pop53_queries_total|transport=udp' $((9 + canaries))
want_delta 'pop53_responses_total|rcode=NOERROR,transport=udp' $((5 + canaries))
want_delta 'pop53_responses_total|rcode=NXDOMAIN,transport=udp' 3
want_delta 'pop53_responses_total|rcode=REFUSED,transport=udp' 1
want_delta 'pop53_queries_total|transport=tcp' 2
want_delta 'pop53_responses_total|rcode=NOERROR,transport=tcp' 2
want_delta 'pop53_drops_total|reason=engine,transport=udp' 0
check "metrics: pushes by result" test "$(pl_json "$T/m1.json" \
	'[int(j["pop53_pushes_total|result=" + r]) for r in ("ok", "bad-signature", "corrupt", "too-large", "stale", "bad-request", "busy", "timeout")]')" \
	= "[4, 1, 1, 1, 1, 1, 1, 1]"
check "metrics: snapshot serial 200" test "$(value 'pop53_snapshot_serial|')" = 200
check "metrics: zone serial" test "$(value 'pop53_zone_serial|zone=example.test.')" = 1002
check "metrics: zone age" test "$(value 'pop53_snapshot_age_seconds|zone=example.test.')" -lt 600
check "metrics: not drained" test "$(value 'pop53_drained|')" = 0
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/other" 2>/dev/null)
check "metrics port: other paths 404" test "$code" = 404

# ---- pop53ctl ---------------------------------------------------------------------
"$PL_CTL" -s "$sock" status >"$T/st" 2>&1
check "pop53ctl status (human)" grep -q "^serial: 200$" "$T/st"
check "pop53ctl status lists the zone" grep -q "name: example.test." "$T/st"
"$PL_CTL" -s "$sock" --json status >"$T/stj"
check "pop53ctl --json status" test "$(pl_json "$T/stj" 'j["ok"], j["serial"], j["healthy"]')" \
	= "(True, 200, True)"
"$PL_CTL" -s "$sock" stats >"$T/stats"
check "pop53ctl stats (human)" grep -q "^  queries: " "$T/stats"
"$PL_CTL" -s "$sock" --json stats >"$T/statsj"
check "pop53ctl --json stats" test "$(pl_json "$T/statsj" 'j["pushes"]["ok"], j["udp"]["queries"] >= 9')" \
	= "(4, True)"
"$PL_CTL" -s "$sock" load "$T/s300.snap" >"$T/load" 2>&1
check "pop53ctl load: exit 0" test $? = 0
check "pop53ctl load: kdig sees it" test "$(pl_soa "$dns")" = 1003
"$PL_CTL" -s "$sock" load "$T/s100.snap" >"$T/load" 2>&1
rc=$?
check "pop53ctl load of an older snapshot: exit 1, refused (stale)" \
	test "$rc:$(head -c 15 "$T/load")" = "1:refused (stale)"
"$PL_CTL" -s "$sock" --json load --force "$T/s100.snap" >"$T/load" 2>&1
check "pop53ctl --json load --force" test "$(pl_json "$T/load" 'j["ok"], j["serial"], j["previous_serial"]')" \
	= "(True, 100, 300)"
check "forced load: kdig sees it" test "$(pl_soa "$dns")" = 1001
"$PL_CTL" -s "$sock" load "$T/other.snap" >/dev/null 2>&1
check "pop53ctl load of a badly signed snapshot: exit 1" test $? = 1
"$PL_CTL" -s "$sock" drain >"$T/drain"
check "pop53ctl drain" grep -q "^drained: yes$" "$T/drain"
check "drained in /v1/status" test "$(curl -sS --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" "$url/v1/status" | "$PL_PY" -c 'import json,sys; print(json.load(sys.stdin)["drained"])')" = True
"$PL_PY" "$PL_HERE/push_api.py" scrape "http://127.0.0.1:$metrics/metrics" "$T/m2.json"
check "drained in metrics" test "$(pl_json "$T/m2.json" 'int(j["pop53_drained|"])')" = 1
"$PL_CTL" -s "$sock" --json undrain >"$T/drain"
check "pop53ctl --json undrain" test "$(pl_json "$T/drain" 'j["drained"]')" = False
"$PL_CTL" -s "$sock" bogus >/dev/null 2>&1
check "pop53ctl: unknown command exits 2" test $? = 2
"$PL_CTL" -s "$T/nope.sock" status >/dev/null 2>&1
check "pop53ctl: no daemon exits 2" test $? = 2

# ---- restarts ------------------------------------------------------------------------
expect_put "push before the restart" "$T/s400.snap" 200 ""
pl_stop "$pid"
check "pop53d exits after SIGTERM with the socket removed" test ! -e "$sock"
pl_start "$T/d2.log" "${args[@]}" || fail "pop53d did not restart from its state directory"
check "restart from the state directory serves the last push" test "$(pl_soa "$dns")" = 1004
pl_stop "$PL_PID"
pl_start "$T/d3.log" "${args[@]}" --snapshot "$T/s300.snap" || fail "pop53d --snapshot did not start"
check "an older --snapshot loses to the state directory" test "$(pl_soa "$dns")" = 1004
check "... and the log says why" grep -q "serving the state directory's snapshot (serial 400, newer" \
	"$T/d3.log"
kill -HUP "$PL_PID"
for _ in $(seq 20); do grep -q "reload 1" "$T/d3.log" && break; sleep 0.1; done
check "SIGHUP does not roll a push back to the older --snapshot" \
	grep -q "reload 1: serial 300 is older than the served 400" "$T/d3.log"
check "... still serving the pushed serial" test "$(pl_soa "$dns")" = 1004
pl_stop "$PL_PID"

if ((PL_FAILED)); then
	say "pop53d log:"
	sed 's/^/    /' "$T/d1.log" | tail -n 40
	echo "FAIL push_api"
	exit 1
fi
echo "PASS push_api"
exit 0
