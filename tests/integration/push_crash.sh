#!/usr/bin/env bash
# kill -9 during pushes: ITERATIONS times (default 30), pop53d (state
# directory, push API) receives a push of the next snapshot (about 2.5 MB,
# so the kill lands in the body, the verification, the write, the rename or
# the publish) and is killed with SIGKILL at a random moment between the
# start of the push and half its duration after its end; then it
# is started again from the state directory alone. Every time it must start
# (never refuse because of what the kill left), and serve a whole snapshot:
# the one served before the push or the pushed one — the pushed one for
# sure when the push was acknowledged (200) before the kill. Serials only
# move forward across the loop.
#
# Exit 0 PASS, 1 FAIL. Every process is stopped by PID and every file
# removed on any exit.
set -uo pipefail
PL_NAME=push_crash
. "$(cd "$(dirname "$0")" && pwd)/push_lib.bash"

iterations=${ITERATIONS:-30}
pl_need openssl curl kdig "$PL_POP53D" "$PL_ZONEC"
pl_certs || { fail "cannot make the test certificates"; exit 1; }
pl_keys || { fail "pop53-zonec keygen failed"; exit 1; }
mapfile -t ports < <(pl_ports 2)
dns=${ports[0]} push=${ports[1]}
T=$PL_TMP pki=$PL_TMP/pki state=$PL_TMP/state
mkdir -p "$state"
args=(--listen "127.0.0.1@$dns" --udp-threads 1 --state-dir "$state"
	--trusted-key "$T/ctl.pub" --push-listen "127.0.0.1@$push"
	--tls-cert "$pki/node.crt" --tls-key "$pki/node.key" --tls-client-ca "$pki/ca.crt"
	--control-socket "$T/ctl.sock")

# Snapshot k serves SOA serial 5000 + k; about 20,000 names each.
for ((k = 0; k <= iterations; k++)); do
	pl_snap "$T/s$k.snap" $((k + 1)) $((5000 + k)) "$T/ctl.key" 20000 ||
		{ fail "cannot build snapshot $k"; exit 1; }
done
say "$((iterations + 1)) snapshots of $(stat -c %s "$T/s0.snap") bytes"

pl_start "$T/start.log" "${args[@]}" || { fail "first start"; exit 1; }
t0=$(date +%s%N)
[[ $(pl_put "$push" "$T/s0.snap" "$T/body") == 200 ]] || { fail "first push: $(cat "$T/body")"; exit 1; }
# kills land anywhere from the TLS handshake to a while after the answer
span=$((($(date +%s%N) - t0) / 1000000 * 3 / 2 + 1))
say "a push takes $((span * 2 / 3)) ms: kills land 0-$span ms after it starts"
served=0 acked=0 old=0 new=0 bad=0

for ((k = 1; k <= iterations; k++)); do
	pid=$PL_PID
	pl_put "$push" "$T/s$k.snap" "$T/body" >"$T/code" &
	cpid=$!
	ms=$((RANDOM % span))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	wait "$cpid"
	code=$(cat "$T/code")
	pl_stop "$pid" KILL
	if ! pl_start "$T/run$k.log" "${args[@]}"; then
		fail "iteration $k: pop53d did not start again from the state directory"
		bad=$((bad + 1))
		break
	fi
	soa=$(pl_soa "$dns")
	if [[ $code == 200 ]]; then
		acked=$((acked + 1))
		if [[ $soa != $((5000 + k)) ]]; then
			fail "iteration $k: push acknowledged, but after the restart serial '$soa' is served"
			bad=$((bad + 1))
		fi
	fi
	if [[ $soa == $((5000 + k)) ]]; then
		new=$((new + 1)); served=$k
	elif [[ $soa == $((5000 + served)) ]]; then
		old=$((old + 1))
	else
		fail "iteration $k: serving '$soa', neither the old $((5000 + served)) nor the new $((5000 + k))"
		bad=$((bad + 1))
		sed 's/^/    /' "$T/run$k.log"
	fi
	# a push the kill interrupted is simply pushed again next time
	if [[ $soa != $((5000 + k)) ]]; then
		code=$(pl_put "$push" "$T/s$k.snap" "$T/body")
		if [[ $code == 200 && $(pl_soa "$dns") == $((5000 + k)) ]]; then
			served=$k
		else
			fail "iteration $k: the repeated push got $code: $(cat "$T/body")"
			bad=$((bad + 1))
		fi
	fi
done
ls -a "$state" >"$T/left"
check "state directory holds only current and previous (and .bad) after the loop" \
	test -z "$(grep -vE '^(\.|\.\.|current\.snap|previous\.snap|current\.snap\.bad)$' "$T/left")"
say "$iterations kills: $new restarts served the new snapshot, $old the old one, $acked pushes were acknowledged before the kill"
if ((bad || PL_FAILED)); then
	echo "FAIL push_crash"
	exit 1
fi
echo "PASS push_crash"
exit 0
