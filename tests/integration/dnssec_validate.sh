#!/usr/bin/env bash
# A validating resolver resolving through pop53 (issue 9): Unbound, with
# only our zone's trust anchor, reaches pop53d through stub zones on
# loopback. valid.test. is signed at test time (ldns, fresh KSK and ZSK,
# inception an hour ago) together with a signed child (DS in the parent)
# and an unsigned one (no DS); pop53d serves all three. Every answer
# under the signed zones must validate (AD=1): positive answers, the apex
# DNSKEY, a wildcard, CNAMEs, NXDOMAIN and NODATA (an empty non-terminal,
# a wildcard, the unsigned child's missing DS), the child's DS and data.
# Names under the unsigned child must come back insecure (AD=0), never
# SERVFAIL. Rounds: ECDSA P-256 (13) and Ed25519 (15) with NSEC; NSEC3
# (RFC 9276: no extra iterations, no salt) once pop53 serves it. Then the
# test proves it can fail: a copy of the zone with one A record changed
# after signing, and one with an NSEC's next name altered, each served by
# a second pop53d to a second Unbound, must fail validation (SERVFAIL)
# where they were touched and validate where they were not.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-dnssec-validate.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do itest_stop "$p" || true; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS dnssec_validate: $*"; }
fail() { echo "FAIL dnssec_validate: $*"; fails=$((fails + 1)); }

for c in unbound ldns-keygen ldns-signzone kdig; do
	command -v "$c" >/dev/null ||
		{ echo "FAIL dnssec_validate: $c is not installed (scripts/setup.sh)"; exit 1; }
done

base=$((20000 + RANDOM % 9900))
next_port=$base
new_port() { port=$next_port; next_port=$((next_port + 1)); }

# Not 2038 or later: ldns compares signature times as signed 32-bit.
inception=$(date -u -d '-1 hour' +%Y%m%d%H%M%S)
expiration=$(date -u -d '+30 days' +%Y%m%d%H%M%S)

# The NS and glue addresses are TEST-NET ones on purpose: Unbound must
# only ever reach pop53d through its stub zones, never through them.
parent_zone() {   # DIR
	cat > "$1/valid.test.zone" <<'EOF'
$ORIGIN valid.test.
$TTL 300
@	SOA ns1 hostmaster 1 7200 900 1209600 300
@	NS ns1
@	NS ns2
@	MX 10 mail
@	MX 20 mail.elsewhere.example.
ns1	A 192.0.2.1
ns2	AAAA 2001:db8::2
mail	A 192.0.2.25
www	A 192.0.2.80
www	A 192.0.2.81
www	AAAA 2001:db8::80
alias	CNAME www
out	CNAME target.elsewhere.example.
*.wild	A 192.0.2.90
*.wild	TXT "wildcard"
x.y.ent	A 192.0.2.100
sec	NS ns.sec
ns.sec	A 192.0.2.10
plain	NS ns.plain
ns.plain	A 192.0.2.20
zz	A 192.0.2.200
EOF
}
sec_zone() {   # DIR
	cat > "$1/sec.valid.test.zone" <<'EOF'
$ORIGIN sec.valid.test.
$TTL 300
@	SOA ns hostmaster 1 7200 900 1209600 300
@	NS ns
ns	A 192.0.2.10
www	A 192.0.2.110
EOF
}
plain_zone() {   # DIR
	cat > "$1/plain.valid.test.zone" <<'EOF'
$ORIGIN plain.valid.test.
$TTL 300
@	SOA ns hostmaster 1 7200 900 1209600 300
@	NS ns
ns	A 192.0.2.20
www	A 192.0.2.120
EOF
}

# sign DIR ZONE ALG [NSEC3-OPTIONS...]: a KSK and a ZSK for ZONE (no
# final dot), DIR/ZONE.zone.signed and DIR/ZONE.ds (the KSK's DS, SHA-256)
sign() {
	local dir=$1 zone=$2 alg=$3 ksk zsk
	shift 3
	ksk=$(cd "$dir" && ldns-keygen -k -a "$alg" "$zone.") || return 1
	zsk=$(cd "$dir" && ldns-keygen -a "$alg" "$zone.") || return 1
	(cd "$dir" && ldns-signzone "$@" -o "$zone." -i "$inception" -e "$expiration" \
		-f "$zone.zone.signed" "$zone.zone" "$ksk" "$zsk") || return 1
	ldns-key2ds -n -2 "$dir/$ksk.key" > "$dir/$zone.ds"
}

# make_zones DIR ALG [NSEC3-OPTIONS...]: the three zones, the children
# signed first so that the parent signs sec's DS
make_zones() {
	local dir=$1 alg=$2
	shift 2
	mkdir -p "$dir"
	parent_zone "$dir"; sec_zone "$dir"; plain_zone "$dir"
	sign "$dir" sec.valid.test "$alg" "$@" > "$dir/sign.log" 2>&1 || return 1
	cat "$dir/sec.valid.test.ds" >> "$dir/valid.test.zone"
	sign "$dir" valid.test "$alg" "$@" >> "$dir/sign.log" 2>&1
}

# serve DIR PARENT-FILE: pop53d for the three zones; sets port and pid
serve() {
	local dir=$1 parent=$2
	new_port
	"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 \
		--zone "$parent" --zone "$dir/sec.valid.test.zone.signed" \
		--zone "$dir/plain.valid.test.zone" > "$dir/pop53d-$port.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	itest_up "$pid" "$port" valid.test.
}

# resolve DIR AUTH-PORT: an Unbound validating with valid.test.'s DS as the
# only trust anchor; sets uport. "test." is one of Unbound's default
# static local zones (RFC 6761), hence the transparent local zone; the
# out-of-zone CNAME target's zone is a static local zone so that nothing
# is looked up on the (absent) internet.
resolve() {
	local dir=$1 aport=$2 ret=0
	new_port
	uport=$port
	itest_unbound "$dir" "$uport" "$dir/valid.test.ds" \
		'    local-zone: "valid.test." transparent
    local-zone: "elsewhere.example." static' \
		"valid.test.@$aport" "sec.valid.test.@$aport" "plain.valid.test.@$aport" || ret=1
	pids+=("$ITEST_PID")
	return $ret
}

# q PORT NAME TYPE -> "RCODE|ad or noad|answer RRsets (owner type data), sorted"
# (RRSIGs left out: their presence is Unbound's business, AD says enough)
q() {
	local out ans
	out=$(kdig +dnssec +time=5 +retry=1 @127.0.0.1 -p "$1" "$2" "$3" 2>&1) || true
	ans=$(awk '/^;; ANSWER SECTION:/{a=1; next} /^;; /{a=0}
		a && NF>=5 && $4 != "RRSIG" {s=$1 " " $4; for (i=5; i<=NF; i++) s=s " " $i; print s}' \
		<<<"$out" | sort | tr '\n' ';')
	echo "$(itest_status "$out")|$ans"
}
# expect LABEL PORT NAME TYPE WANT: one PASS or FAIL line
expect() {
	local label=$1 port=$2 name=$3 type=$4 want=$5 got
	got=$(q "$port" "$name" "$type")
	if [[ $got == "$want" ]]; then
		pass "$label: $name $type -> ${want%%|*} ${want#*|}"
	else
		fail "$label: $name $type: got '$got', want '$want'"
	fi
}

# the checks of one round against Unbound on PORT; DIR holds the keys
checks() {
	local r=$1 u=$2 dir=$3 dnskeys ds
	expect "$r" "$u" www.valid.test. A "NOERROR|ad|www.valid.test. A 192.0.2.80;www.valid.test. A 192.0.2.81;"
	expect "$r" "$u" www.valid.test. AAAA "NOERROR|ad|www.valid.test. AAAA 2001:db8::80;"
	expect "$r" "$u" valid.test. MX \
		"NOERROR|ad|valid.test. MX 10 mail.valid.test.;valid.test. MX 20 mail.elsewhere.example.;"
	dnskeys=$(awk '$4 == "DNSKEY" && $1 == "valid.test." {print "valid.test. DNSKEY", $5, $6, $7, $8}' \
		"$dir/valid.test.zone.signed" | sort | tr '\n' ';')
	expect "$r" "$u" valid.test. DNSKEY "NOERROR|ad|$dnskeys"
	expect "$r" "$u" a.wild.valid.test. A "NOERROR|ad|a.wild.valid.test. A 192.0.2.90;"
	expect "$r" "$u" b.c.wild.valid.test. TXT 'NOERROR|ad|b.c.wild.valid.test. TXT "wildcard";'
	expect "$r" "$u" a.wild.valid.test. AAAA "NOERROR|ad|"
	expect "$r" "$u" alias.valid.test. A \
		"NOERROR|ad|alias.valid.test. CNAME www.valid.test.;www.valid.test. A 192.0.2.80;www.valid.test. A 192.0.2.81;"
	# pop53's answer stops at the CNAME to outside; asked for the CNAME
	# itself, it validates on its own
	expect "$r" "$u" out.valid.test. CNAME "NOERROR|ad|out.valid.test. CNAME target.elsewhere.example.;"
	expect "$r" "$u" nothere.valid.test. A "NXDOMAIN|ad|"
	expect "$r" "$u" below.www.valid.test. A "NXDOMAIN|ad|"
	expect "$r" "$u" zzz.valid.test. AAAA "NXDOMAIN|ad|"
	expect "$r" "$u" www.valid.test. TXT "NOERROR|ad|"
	expect "$r" "$u" ent.valid.test. A "NOERROR|ad|"
	expect "$r" "$u" y.ent.valid.test. A "NOERROR|ad|"
	expect "$r" "$u" x.y.ent.valid.test. A "NOERROR|ad|x.y.ent.valid.test. A 192.0.2.100;"
	# kdig prints the digest in upper case, ldns in lower case
	ds=$(awk '{print $1, $4, $5, $6, $7, toupper($8)}' "$dir/sec.valid.test.ds" | tr '\n' ';')
	expect "$r" "$u" sec.valid.test. DS "NOERROR|ad|$ds"
	expect "$r" "$u" www.sec.valid.test. A "NOERROR|ad|www.sec.valid.test. A 192.0.2.110;"
	expect "$r" "$u" nothere.sec.valid.test. A "NXDOMAIN|ad|"
	expect "$r" "$u" plain.valid.test. DS "NOERROR|ad|"
	expect "$r" "$u" www.plain.valid.test. A "NOERROR|noad|www.plain.valid.test. A 192.0.2.120;"
	expect "$r" "$u" nothere.plain.valid.test. A "NXDOMAIN|noad|"
}

# round LABEL ALG [NSEC3-OPTIONS...]
round() {
	local label=$1 alg=$2 dir
	shift 2
	dir="$tmp/$label"
	if ! make_zones "$dir" "$alg" "$@"; then
		cat "$dir/sign.log"; fail "$label: ldns could not sign the zones"; return 0
	fi
	if ! serve "$dir" "$dir/valid.test.zone.signed"; then
		cat "$dir"/pop53d-*.log; fail "$label: pop53d did not answer"; return 0
	fi
	local aport=$port apid=$pid
	if ! resolve "$dir" "$aport"; then
		fail "$label: unbound did not start"; itest_stop "$apid"; return 0
	fi
	local before=$fails
	checks "$label" "$uport" "$dir"
	if ((fails > before)); then
		echo "--- unbound's validation failures ($label):"
		grep -E 'validation failure|error|SERVFAIL' "$dir/unbound-$uport.log" | head -20 || true
	fi
	itest_stop "$pid"; itest_stop "$apid"
}

round nsec-ecdsa ECDSAP256SHA256
round nsec-ed25519 ED25519

# NSEC3 round: only once pop53 answers an NXDOMAIN of an NSEC3 zone with
# NSEC3 records (README: "Not written yet: NSEC3 denial"); loading such a
# zone must work already.
dir="$tmp/nsec3-probe"
if ! make_zones "$dir" ECDSAP256SHA256 -n -t 0; then
	cat "$dir/sign.log"; fail "nsec3: ldns could not sign the zones"
elif ! serve "$dir" "$dir/valid.test.zone.signed"; then
	cat "$dir"/pop53d-*.log; fail "nsec3: pop53d did not serve an NSEC3-signed zone"
else
	probe=$(kdig +dnssec +norec +time=2 +retry=0 @127.0.0.1 -p "$port" nothere.valid.test. A 2>&1 || true)
	itest_stop "$pid"
	if grep -Eq '[[:space:]]NSEC3[[:space:]]' <<<"$probe"; then
		round nsec3-ecdsa ECDSAP256SHA256 -n -t 0
	else
		pass "SKIP NSEC3 round: pop53 does not serve NSEC3 denial yet (no NSEC3 in its NXDOMAIN)"
	fi
fi

# ---- forged data: the same trust anchor, a zone altered after signing
dir="$tmp/forged"
f="$dir/valid.test.zone.forged"
if ! make_zones "$dir" ECDSAP256SHA256; then
	cat "$dir/sign.log"; fail "forged: ldns could not sign the zones"; exit 1
fi
# one of www's two A records gets another address; its RRSIG stays
sed -E 's/^(www\.valid\.test\.[[:space:]].*[[:space:]]A[[:space:]]+)192\.0\.2\.81$/\1192.0.2.66/' \
	"$dir/valid.test.zone.signed" > "$f"
# the NSEC after mail.valid.test. claims to reach up to zz, so it would
# cover nothere.valid.test. too; its RRSIG was made for the true next name
awk '$1 == "mail.valid.test." && $4 == "NSEC" {$5 = "zz.valid.test."} {print}' "$f" > "$f.2"
mv "$f.2" "$f"
if cmp -s "$f" "$dir/valid.test.zone.signed" ||
	! grep -q '192\.0\.2\.66$' "$f" || ! grep -Eq '^mail\.valid\.test\..*NSEC zz\.valid\.test\.' "$f"; then
	fail "forged: the zone copy was not altered as meant"
elif ! serve "$dir" "$f"; then
	cat "$dir"/pop53d-*.log; fail "forged: pop53d did not answer"
else
	fport=$port
	if ! resolve "$dir" "$fport"; then
		fail "forged: unbound did not start"
	else
		expect forged "$uport" www.valid.test. A "SERVFAIL|noad|"
		expect forged "$uport" mail.valid.test. A "NOERROR|ad|mail.valid.test. A 192.0.2.25;"
		expect forged "$uport" nothere.valid.test. A "SERVFAIL|noad|"
		expect forged "$uport" zzz.valid.test. A "NXDOMAIN|ad|"
		if grep -q 'validation failure <www.valid.test. A IN>' "$dir/unbound-$uport.log" &&
			grep -q 'validation failure <nothere.valid.test. A IN>' "$dir/unbound-$uport.log"; then
			pass "forged: unbound logs both validation failures"
		else
			fail "forged: unbound's log: $(grep -i 'validation' "$dir/unbound-$uport.log" | head -5)"
		fi
	fi
fi

((fails == 0)) || exit 1
