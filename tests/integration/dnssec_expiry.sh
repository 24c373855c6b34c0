#!/usr/bin/env bash
# pop53d watches the earliest RRSIG expiration of the snapshot it serves
# (issue 9): a zone whose signatures expire in two days gets a warning in
# the log, the expiry in the metrics and in `pop53ctl status`, and the
# node stays healthy (a condition that strikes every PoP at once must not
# take every PoP out of the anycast); a SIGHUP to a zone signed until 2038
# is quiet; one whose signatures have expired is reported as such, and
# the answers (with their RRSIGs) keep coming. The signatures are not
# real (pop53 does not validate what it serves); only their dates count.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-dnssec-expiry.XXXXXX)
pid=
cleanup() {
	itest_stop "$pid" || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS dnssec_expiry: $*"; }
fail() { echo "FAIL dnssec_expiry: $*"; fails=$((fails + 1)); }

sig="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
zone() {   # EXPIRATION(YYYYMMDDHHMMSS) -> the zone file
	cat > "$tmp/exp.test.zone" <<EOF
\$ORIGIN exp.test.
\$TTL 300
@	SOA ns1 hostmaster 1 7200 900 1209600 300
@	RRSIG SOA 13 2 300 $1 20260101000000 12345 exp.test. $sig
@	NS ns1
@	RRSIG NS 13 2 300 20380101000000 20260101000000 12345 exp.test. $sig
ns1	A 192.0.2.1
ns1	RRSIG A 13 3 300 20380101000000 20260101000000 12345 exp.test. $sig
EOF
}
port=$((20000 + RANDOM % 10000)) mport=$((port + 1))
soon=$(date -u -d '+2 days' +%Y%m%d%H%M%S)
soon_s=$(date -u -d "${soon:0:8} ${soon:8:2}:${soon:10:2}:${soon:12:2}" +%s)
zone "$soon"
"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 --zone "$tmp/exp.test.zone" \
	--metrics-listen "127.0.0.1@$mport" --control-socket "$tmp/ctl.sock" \
	--health-interval-ms 100 > "$tmp/pop53d.log" 2>&1 &
pid=$!
if ! itest_wait_soa exp.test "$port"; then
	cat "$tmp/pop53d.log"; fail "pop53d did not answer"; exit 1
fi
sleep 0.5
if grep -q "WARNING: the earliest DNSSEC signature of serial .* expires in 17[0-9][0-9][0-9][0-9] s (2.0 days)" "$tmp/pop53d.log"; then
	pass "expiry in 2 days: warned at start ($(grep -o 'expires in [0-9]* s' "$tmp/pop53d.log" | head -1))"
else
	fail "no warning: $(tail -3 "$tmp/pop53d.log")"
fi
m=$(curl -s --max-time 3 "http://127.0.0.1:$mport/metrics")
if grep -q "^pop53_dnssec_signature_expiry_timestamp_seconds $soon_s$" <<<"$m"; then
	pass "metrics: pop53_dnssec_signature_expiry_timestamp_seconds $soon_s"
else
	fail "metrics: $(grep dnssec <<<"$m")"
fi
st=$("$pop53ctl" -s "$tmp/ctl.sock" status 2>&1 || true)
if grep -q "^dnssec_signature_expiry: $soon_s$" <<<"$st" && grep -q '^healthy: yes$' <<<"$st"; then
	pass "status: the expiry, and the node healthy"
else
	fail "status: $st"
fi

# A zone signed until 2038: no warning on reload.
zone 20380101000000
before=$(grep -c WARNING "$tmp/pop53d.log" || true)
kill -HUP "$pid"
sleep 1
after=$(grep -c WARNING "$tmp/pop53d.log" || true)
m=$(curl -s --max-time 3 "http://127.0.0.1:$mport/metrics")
if ((after == before)) && grep -q "^pop53_dnssec_signature_expiry_timestamp_seconds 2145916800$" <<<"$m"; then
	pass "signed until 2038: no warning, expiry 2145916800"
else
	fail "after reload: warnings $before -> $after; $(grep dnssec_signature <<<"$m")"
fi

# Expired: reported, still answering with the RRSIG, still healthy.
zone "$(date -u -d '-1 day' +%Y%m%d%H%M%S)"
kill -HUP "$pid"
sleep 1
out=$(kdig +dnssec +norec @127.0.0.1 -p "$port" exp.test. SOA 2>&1 || true)
st=$("$pop53ctl" -s "$tmp/ctl.sock" status 2>&1 || true)
if grep -q "WARNING: DNSSEC signatures of serial .* EXPIRED 86[0-9][0-9][0-9] s ago" "$tmp/pop53d.log" &&
   grep -q "RRSIG.*SOA 13 2 300" <<<"$out" && grep -q '^healthy: yes$' <<<"$st"; then
	pass "expired: reported, answered with its RRSIG, node still healthy"
else
	fail "expired: $(grep WARNING "$tmp/pop53d.log" | tail -1); $(grep -c RRSIG <<<"$out") RRSIG"
fi
((fails == 0)) || exit 1
