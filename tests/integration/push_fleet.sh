#!/usr/bin/env bash
# A fleet push: four pop53d on loopback ports (each with its own state
# directory, push API and DNS port) plus one port where nothing listens.
# pop53-push signs a snapshot with the controller key and pushes it to the
# five; the four must serve it (kdig sees the new SOA serial on each), the
# dead one must be reported (its row is not ok) and pop53-push must exit 1.
# A second push of a newer snapshot to the four live nodes alone exits 0,
# and its --json report says every node serves the new serial.
#
# Exit 0 PASS, 1 FAIL. Every process is stopped by PID and every file
# removed on any exit.
set -uo pipefail
PL_NAME=push_fleet
. "$(cd "$(dirname "$0")" && pwd)/push_lib.bash"

pl_need openssl curl kdig "$PL_POP53D" "$PL_ZONEC" "$PL_PUSH"
pl_certs || { fail "cannot make the test certificates"; exit 1; }
pl_keys || { fail "pop53-zonec keygen failed"; exit 1; }
T=$PL_TMP pki=$PL_TMP/pki
mapfile -t ports < <(pl_ports 9)
dead=${ports[8]}
nodes=()
for i in 0 1 2 3; do
	dns[i]=${ports[i * 2]}
	push[i]=${ports[i * 2 + 1]}
	mkdir -p "$T/state$i"
	pl_snap "$T/start$i.snap" 1 7000 none
	pl_start "$T/node$i.log" --listen "127.0.0.1@${dns[i]}" --udp-threads 1 \
		--snapshot "$T/start$i.snap" --state-dir "$T/state$i" \
		--trusted-key "$T/ctl.pub" --push-listen "127.0.0.1@${push[i]}" \
		--tls-cert "$pki/node.crt" --tls-key "$pki/node.key" --tls-client-ca "$pki/ca.crt" ||
		{ fail "node $i did not start"; exit 1; }
	nodes+=("127.0.0.1:${push[i]}")
done
pl_snap "$T/fleet.snap" 10 7010 none
pl_snap "$T/fleet2.snap" 11 7011 none
push_args=(--key "$T/ctl.key" --cert "$pki/client.crt" --client-key "$pki/client.key"
	--ca "$pki/ca.crt" --timeout-ms 3000 --retries 1)

"$PL_PUSH" "${push_args[@]}" "$T/fleet.snap" "${nodes[@]}" "127.0.0.1:$dead" >"$T/out" 2>&1
rc=$?
sed 's/^/    /' "$T/out"
check "pop53-push exits 1 when a node is down" test "$rc" = 1
for i in 0 1 2 3; do
	check "node $i serves the pushed SOA serial" test "$(pl_soa "${dns[i]}")" = 7010
done
check "the dead node is reported, not ok" grep -qE "127\.0\.0\.1:$dead +\|" "$T/out"
check "... and its row is a failure" test -z "$(grep -E "127\.0\.0\.1:$dead +\| ok " "$T/out")"
check "the live nodes' rows are ok" test "$(grep -cE "127\.0\.0\.1:[0-9]+ +\| ok " "$T/out")" = 4

"$PL_PUSH" "${push_args[@]}" --json "$T/fleet2.snap" "${nodes[@]}" >"$T/out2" 2>"$T/err2"
rc=$?
check "pop53-push to the live nodes exits 0" test "$rc" = 0
for i in 0 1 2 3; do
	check "node $i serves the second push" test "$(pl_soa "${dns[i]}")" = 7011
done
check "the --json report is JSON" "$PL_PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out2"

if ((PL_FAILED)); then
	cat "$T/err2" "$T/out2" 2>/dev/null | sed 's/^/    /'
	echo "FAIL push_fleet"
	exit 1
fi
echo "PASS push_fleet"
exit 0
