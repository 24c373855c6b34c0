#!/usr/bin/env bash
# Traffic policies that decide by where the client is, end to end: a small
# MaxMind-format database (tests/tools/mkmmdb.py: European and North
# American networks with coordinates), an operator CIDR map over it, a
# latency file, and a policy file with a geolocation record (the GDPR
# shape: Europe, one country inside it, everyone else), a geoproximity
# record and a latency record are compiled by pop53-zonec into one
# snapshot; pop53d (kernel sockets, loopback, --ecs 1) serves it, and kdig
# asks from client subnets in different places. Each answer's address AND
# its ECS SCOPE PREFIX-LENGTH are checked (the scope is the length of the
# table prefix the decision came from); without ECS the source address
# 127.0.0.1 (in the database as Amsterdam) decides. pop53-zonec must
# refuse latency files whose columns are not the policy's regions, with a
# file:line:col message, and write nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-policy-geo.XXXXXX)
pid=
cleanup() {
	# (errexit is off inside an || list: a failed kill of an exited pid
	# must not end the cleanup early)
	itest_stop "$pid" || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS policy_geo: $*"; }
fail() { echo "FAIL policy_geo: $*"; fails=$((fails + 1)); }

cat > "$tmp/db.json" <<'EOF'
{"networks": [
 {"network": "85.0.0.0/8",  "continent": "EU", "country": "FR", "latitude": 48.86, "longitude": 2.35},
 {"network": "91.0.0.0/16", "continent": "EU", "country": "DE", "latitude": 52.52, "longitude": 13.40},
 {"network": "24.0.0.0/8",  "continent": "NA", "country": "US", "latitude": 40.71, "longitude": -74.01},
 {"network": "50.0.0.0/16", "continent": "NA", "country": "US", "subdivision": "CA",
  "latitude": 37.77, "longitude": -122.42},
 {"network": "127.0.0.0/8", "continent": "EU", "country": "NL", "latitude": 52.37, "longitude": 4.90},
 {"network": "2a01::/16",   "continent": "EU", "country": "FR", "latitude": 48.86, "longitude": 2.35},
 {"network": "2600::/16",   "continent": "NA", "country": "US", "latitude": 47.61, "longitude": -122.33}
]}
EOF
cat > "$tmp/geo.test.zone" <<'EOF'
$ORIGIN geo.test.
$TTL 3600
@	SOA ns1 hostmaster 1 7200 900 1209600 300
@	NS ns1
@	CAA 0 issue "ca.example.net"
ns1	A 192.0.2.1
EOF
cat > "$tmp/policy.yaml" <<'EOF'
version: 1
latency:
  regions: [ eu-central, us-east, us-west ]
records:
  - name: www.geo.test.        # GDPR: Europeans stay in Europe
    type: A
    ttl: 60
    policy:
      routing: geolocation
      fallback: false
      members:
        - { continent: EU, address: 192.0.2.10 }
        - { country: DE, address: 192.0.2.20 }
        - { default: true, address: 203.0.113.10 }
  - name: near.geo.test.       # Virginia, Frankfurt, Oregon
    type: A
    policy:
      routing: geoproximity
      members:
        - { lat: 38.95, lon: -77.45, address: 203.0.113.50 }
        - { lat: 50.11, lon: 8.68, address: 192.0.2.50 }
        - { lat: 45.60, lon: -121.18, address: 203.0.113.70 }
  - name: fast.geo.test.
    type: A
    policy:
      routing: latency
      members:
        - { region: eu-central, address: 192.0.2.60 }
        - { region: us-east, address: 203.0.113.60 }
        - { region: us-west, address: 203.0.113.61 }
EOF
cat > "$tmp/nets.map" <<'EOF'
# an office in the US whose users count as European
24.1.0.0/16   EU-GB
EOF
cat > "$tmp/latency.txt" <<'EOF'
# ms from client networks to each region; columns in any order
prefix      us-west eu-central us-east
85.0.0.0/8      150  20  90
24.0.0.0/8       70  90  10
50.0.0.0/16       5 140  70
2a01::/16       160  15  95
127.0.0.0/8       1   -   -
EOF

if ! /usr/bin/python3 "$root/tests/tools/mkmmdb.py" "$tmp/db.json" "$tmp/geo.mmdb"; then
	fail "mkmmdb.py could not write the database"; exit 1
fi
if "$zonec" compile -q -o "$tmp/geo.snap" --policy "$tmp/policy.yaml" --geo-db "$tmp/geo.mmdb" \
	--geo-map "$tmp/nets.map" --latency "$tmp/latency.txt" "$tmp/geo.test.zone" \
	2> "$tmp/zonec.err"; then
	pass "pop53-zonec compiled the zone, policy, database, map and latency file"
else
	fail "pop53-zonec compile: $(cat "$tmp/zonec.err")"; exit 1
fi

# refuse ZONEC_ARGS... WANT: pop53-zonec must fail, say WANT, write nothing.
refuse() {
	local want=$1 out=$tmp/refused.snap
	shift
	rm -f "$out"
	if "$zonec" compile -q -o "$out" "$@" "$tmp/geo.test.zone" 2> "$tmp/refuse.err"; then
		fail "pop53-zonec accepted $*"
	elif ! grep -qF -- "$want" "$tmp/refuse.err"; then
		fail "pop53-zonec $*: wanted '$want', got: $(cat "$tmp/refuse.err")"
	elif [ -e "$out" ]; then
		fail "pop53-zonec $*: refused but wrote $out"
	else
		pass "refused: $want"
	fi
}
printf 'prefix eu-central us-east asia\n85.0.0.0/8 1 2 3\n' > "$tmp/lat-asia.txt"
refuse "lat-asia.txt:1:27: error: unknown region 'asia' (the policy's latency regions: eu-central, us-east, us-west)" \
	--policy "$tmp/policy.yaml" --latency "$tmp/lat-asia.txt"
printf '# two of three\nprefix us-west eu-central\n' > "$tmp/lat-two.txt"
refuse "lat-two.txt:2:26: error: the header lacks the policy's region 'us-east'" \
	--policy "$tmp/policy.yaml" --latency "$tmp/lat-two.txt"
printf 'prefix eu-central us-east us-west\n85.0.0.0/8 1 2\n' > "$tmp/lat-short.txt"
refuse "lat-short.txt:2:15: error: expected 3 latencies after the prefix" \
	--policy "$tmp/policy.yaml" --latency "$tmp/lat-short.txt"
refuse "--latency needs --policy" --latency "$tmp/latency.txt"

port=$((20000 + RANDOM % 10000))
"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 --ecs 1 \
	--snapshot "$tmp/geo.snap" > "$tmp/pop53d.log" 2>&1 &
pid=$!
if ! itest_wait_soa geo.test "$port"; then
	echo "pop53d did not start:"; cat "$tmp/pop53d.log"
	fail "pop53d did not answer"; exit 1
fi

# ask NAME SUBNET WANT_ADDR WANT_ECS: one A query (SUBNET "" = no ECS);
# WANT_ECS is kdig's "ADDR/SOURCE/SCOPE", or "" for no ECS option.
ask() {
	local name=$1 subnet=$2 want=$3 want_ecs=$4 out got ecs
	out=$(kdig +time=2 +retry=1 @127.0.0.1 -p "$port" "$name" A +noall +answer +opt \
		${subnet:++subnet=$subnet} 2>&1) || true
	got=$(awk '$4 == "A" { printf "%s%s", sep, $5; sep = " " }' <<< "$out")
	ecs=$(awk '/CLIENT-SUBNET:/ { print $3 }' <<< "$out")
	if [[ $got == "$want" && $ecs == "$want_ecs" ]]; then
		pass "$name from ${subnet:-127.0.0.1}: $got, ECS ${ecs:-none}"
	else
		fail "$name from ${subnet:-127.0.0.1}: got '$got' ECS '${ecs:-none}'," \
			"wanted '$want' ECS '${want_ecs:-none}'"
	fi
}

# geolocation: the continent, the more specific country, the default; the
# operator map over the database; IPv6; an unknown network (the scope is
# then the whole source prefix: nothing shorter is known to hold).
ask www.geo.test 85.1.2.0/24    192.0.2.10   85.1.2.0/24/8
ask www.geo.test 91.0.5.0/24    192.0.2.20   91.0.5.0/24/16
ask www.geo.test 24.5.6.0/24    203.0.113.10 24.5.6.0/24/8
ask www.geo.test 24.1.2.0/24    192.0.2.10   24.1.2.0/24/16
ask www.geo.test 50.0.1.0/24    203.0.113.10 50.0.1.0/24/16
ask www.geo.test 2a01:db8::/48  192.0.2.10   2a01:db8::/48/16
ask www.geo.test 2600:1::/48    203.0.113.10 2600:1::/48/16
ask www.geo.test 10.1.2.0/24    203.0.113.10 10.1.2.0/24/24
# geoproximity from the database's coordinates (the --geo-db file's): Paris
# and Berlin -> Frankfurt, New York -> Virginia, San Francisco and Seattle
# -> Oregon. The operator's location map does not move coordinates.
ask near.geo.test 85.1.2.0/24   192.0.2.50   85.1.2.0/24/8
ask near.geo.test 91.0.5.0/24   192.0.2.50   91.0.5.0/24/16
ask near.geo.test 24.5.6.0/24   203.0.113.50 24.5.6.0/24/8
ask near.geo.test 24.1.2.0/24   203.0.113.50 24.1.2.0/24/8
ask near.geo.test 50.0.1.0/24   203.0.113.70 50.0.1.0/24/16
ask near.geo.test 2600:1::/48   203.0.113.70 2600:1::/48/16
# latency: the lowest value of the client's row; no row -> the first member
# (and the scope is the whole source prefix)
ask fast.geo.test 85.1.2.0/24   192.0.2.60   85.1.2.0/24/8
ask fast.geo.test 24.5.6.0/24   203.0.113.60 24.5.6.0/24/8
ask fast.geo.test 50.0.1.0/24   203.0.113.61 50.0.1.0/24/16
ask fast.geo.test 2a01:db8::/48 192.0.2.60   2a01:db8::/48/16
ask fast.geo.test 91.0.5.0/24   192.0.2.60   91.0.5.0/24/24
# without ECS the source address decides: 127.0.0.1 is in Amsterdam (EU,
# nearest Frankfurt) with 1 ms to us-west; none of that is the default
ask www.geo.test  "" 192.0.2.10   ""
ask near.geo.test "" 192.0.2.50   ""
ask fast.geo.test "" 203.0.113.61 ""
ask near.geo.test 10.1.2.0/24 203.0.113.50 10.1.2.0/24/24

if ((fails)); then
	echo "FAIL policy_geo ($fails checks failed)"; exit 1
fi
echo "PASS policy_geo"
