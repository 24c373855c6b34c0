#!/usr/bin/env bash
# ALIAS to a name outside the served zones, end to end: Knot DNS (knotd)
# serves cloud.example. on loopback and stands in for the resolver pop53d
# asks (--alias-resolver); a policy file aliases the apex of alias.test.
# (A and AAAA) to lb.cloud.example., www.alias.test. to a CNAME chain
# there, and nx.alias.test. to a name that does not exist. kdig checks:
# the apex answers lb's own addresses under the apex with the policy TTL,
# the chain is followed, a missing target is NODATA; knotd's zone changes
# and pop53's answers follow within TTL + the refresh floor (the time is
# printed); knotd stops and the last addresses keep being served (stale,
# in the metrics); a second pop53d whose resolver never answers gives
# SERVFAIL (counted as unresolved), never an empty NOERROR a resolver
# would cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-policy-alias.XXXXXX)
kpid= pid= pid2=
cleanup() {
	itest_stop "$pid" || true
	itest_stop "$pid2" || true
	itest_stop "$kpid" || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS policy_alias: $*"; }
fail() { echo "FAIL policy_alias: $*"; fails=$((fails + 1)); }

command -v knotd >/dev/null || { echo "FAIL policy_alias: knotd is not installed (scripts/setup.sh)"; exit 1; }

base=$((20000 + RANDOM % 10000))
kport=$base port=$((base + 1)) port2=$((base + 2)) mport=$((base + 3)) dead=$((base + 4))

cloud_zone() {   # SERIAL LB-ADDRESS
	cat > "$tmp/cloud.example.zone" <<EOF
\$ORIGIN cloud.example.
\$TTL 1
@	SOA ns hostmaster $1 3600 600 86400 1
@	NS ns
ns	A 192.0.2.53
lb	A $2
lb	A 198.51.100.11
lb	AAAA 2001:db8:10::1
edge	CNAME lb
EOF
}
cloud_zone 1 198.51.100.10
mkdir -p "$tmp/knot"
cat > "$tmp/knot.conf" <<EOF
server:
    rundir: "$tmp/knot"
    listen: 127.0.0.1@$kport
control:
    listen: "$tmp/knot/knot.sock"
database:
    storage: "$tmp/knot"
template:
  - id: default
    storage: "$tmp/knot"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: cloud.example
    file: "$tmp/cloud.example.zone"
EOF
knotd -c "$tmp/knot.conf" > "$tmp/knot.log" 2>&1 &
kpid=$!

cat > "$tmp/alias.test.zone" <<'EOF'
$ORIGIN alias.test.
$TTL 3600
@	SOA ns1 hostmaster 1 7200 900 1209600 300
@	NS ns1
ns1	A 192.0.2.1
EOF
cat > "$tmp/policy.yaml" <<'EOF'
version: 1
records:
  - name: alias.test.
    type: A
    ttl: 20
    policy: { routing: simple, members: [ { alias: lb.cloud.example. } ] }
  - name: alias.test.
    type: AAAA
    ttl: 20
    policy: { routing: simple, members: [ { alias: lb.cloud.example. } ] }
  - name: www.alias.test.
    type: A
    ttl: 30
    policy: { routing: simple, members: [ { alias: edge.cloud.example. } ] }
  - name: nx.alias.test.
    type: A
    ttl: 30
    policy: { routing: simple, members: [ { alias: gone.cloud.example. } ] }
EOF
if ! "$zonec" compile --policy "$tmp/policy.yaml" -o "$tmp/a.snap" "$tmp/alias.test.zone" \
	> "$tmp/zonec.log" 2>&1; then
	cat "$tmp/zonec.log"; fail "pop53-zonec refused an out-of-zone alias target"; exit 1
fi
pass "pop53-zonec compiles alias targets outside the served zones"

"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 --snapshot "$tmp/a.snap" \
	--alias-resolver "127.0.0.1@$kport" --alias-min-refresh-s 1 \
	--metrics-listen "127.0.0.1@$mport" > "$tmp/pop53d.log" 2>&1 &
pid=$!
if ! itest_wait_soa alias.test "$port" || ! itest_wait_soa cloud.example "$kport"; then
	cat "$tmp/pop53d.log" "$tmp/knot.log"; fail "pop53d or knotd did not answer"; exit 1
fi

q() {   # NAME TYPE [PORT] -> "RCODE|AA?|answer lines (owner ttl type data), sorted"
	local out
	out=$(kdig +time=2 +retry=0 +norec @127.0.0.1 -p "${3:-$port}" "$1" "$2" 2>&1) || true
	local rcode aa ans
	rcode=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -1)
	aa=$(grep -Eq '^;; Flags:[^;]* aa' <<<"$out" && echo aa || echo noaa)
	ans=$(awk '/^;; ANSWER SECTION:/{a=1; next} /^;; /{a=0} a && NF>=5 {print $1, $2, $4, $5}' \
		<<<"$out" | sort | tr '\n' ';')
	echo "$rcode|$aa|$ans"
}
# bounded wait until q NAME TYPE prints WANT; prints the milliseconds taken
wait_for() {
	local want=$1 name=$2 type=$3 t0 now
	t0=$(date +%s%3N)
	for _ in $(seq 100); do
		[[ $(q "$name" "$type") == "$want" ]] && { now=$(date +%s%3N); echo $((now - t0)); return 0; }
		sleep 0.1
	done
	return 1
}

want_a="NOERROR|aa|alias.test. 20 A 198.51.100.10;alias.test. 20 A 198.51.100.11;"
if ms=$(wait_for "$want_a" alias.test. A); then
	pass "apex A answers lb.cloud.example.'s addresses under the apex, policy TTL ($ms ms after start)"
else
	fail "apex A: got '$(q alias.test. A)', want '$want_a'"
fi
want="NOERROR|aa|alias.test. 20 AAAA 2001:db8:10::1;"
[[ $(q alias.test. AAAA) == "$want" ]] && pass "apex AAAA answers lb's IPv6 address" ||
	fail "apex AAAA: got '$(q alias.test. AAAA)', want '$want'"
want="NOERROR|aa|www.alias.test. 30 A 198.51.100.10;www.alias.test. 30 A 198.51.100.11;"
if wait_for "$want" www.alias.test. A >/dev/null; then
	pass "a target that is a CNAME chain answers the chain's addresses"
else
	fail "www A: got '$(q www.alias.test. A)', want '$want'"
fi
got=$(q nx.alias.test. A)
out=$(kdig +norec @127.0.0.1 -p "$port" nx.alias.test. A 2>&1 || true)
if [[ $got == "NOERROR|aa|" ]] && grep -q 'IN.*SOA' <<<"$out"; then
	pass "a target that does not exist: NODATA with the SOA"
else
	fail "nx A: got '$got'"
fi

# The target's address changes at the source: answers follow.
cloud_zone 2 198.51.100.20
knotc -c "$tmp/knot.conf" zone-reload cloud.example >/dev/null 2>&1 ||
	knotc -s "$tmp/knot/knot.sock" zone-reload cloud.example >/dev/null
want_a="NOERROR|aa|alias.test. 20 A 198.51.100.11;alias.test. 20 A 198.51.100.20;"
if ms=$(wait_for "$want_a" alias.test. A); then
	if ((ms <= 4000)); then
		pass "a change at the target shows in $ms ms (TTL 1 s, refresh floor 1 s; goal <= 4000)"
	else
		fail "a change at the target took $ms ms (goal <= 4000)"
	fi
else
	fail "the change at the target never showed: '$(q alias.test. A)'"
fi

# The resolver goes away: the last addresses stay.
itest_stop "$kpid"; kpid=
sleep 4
got=$(q alias.test. A)
[[ $got == "$want_a" ]] && pass "resolver gone for 4 s: the last addresses are still served" ||
	fail "resolver gone: got '$got'"
metrics=$(curl -s --max-time 3 "http://127.0.0.1:$mport/metrics" || true)
if grep -q '^pop53_alias_stale{target="lb.cloud.example."} 1$' <<<"$metrics" &&
   grep -q '^pop53_alias_addresses{target="lb.cloud.example.",family="ipv4"} 2$' <<<"$metrics" &&
   grep -Eq '^pop53_alias_failures_total\{target="lb.cloud.example."\} [1-9]' <<<"$metrics"; then
	pass "metrics: lb.cloud.example. stale, 2 IPv4 addresses, failures counted"
else
	fail "metrics: $(grep '^pop53_alias' <<<"$metrics" | tr '\n' ' ')"
fi

# A pop53d whose resolver never answers: SERVFAIL, counted.
"$pop53d" --io kernel --listen "127.0.0.1@$port2" --udp-threads 1 --snapshot "$tmp/a.snap" \
	--alias-resolver "127.0.0.1@$dead" > "$tmp/pop53d-2.log" 2>&1 &
pid2=$!
if ! itest_wait_soa alias.test "$port2"; then
	cat "$tmp/pop53d-2.log"; fail "second pop53d did not answer"; exit 1
fi
got=$(q alias.test. A "$port2")
[[ $got == "SERVFAIL|noaa|" ]] && pass "never resolved: SERVFAIL, not an empty answer" ||
	fail "never resolved: got '$got'"
if kill -0 "$pid" 2>/dev/null; then
	pass "pop53d kept running through all of it"
else
	fail "pop53d exited: $(tail -5 "$tmp/pop53d.log")"
fi
if grep -q "alias lb.cloud.example. A: 198.51.100.11 198.51.100.20\|alias lb.cloud.example. A: 198.51.100.20 198.51.100.11" "$tmp/pop53d.log" &&
   grep -q "no response from every resolver" "$tmp/pop53d.log"; then
	pass "the log tells the address change and the failing resolver"
else
	fail "log: $(grep alias "$tmp/pop53d.log" | tail -5 | tr '\n' ' ')"
fi

((fails == 0)) || exit 1
