#!/usr/bin/env bash
# Signed answers of traffic policies (issue 9): a validating resolver must
# accept every answer a policy gives, whatever health state chose it.
#
# pol.test. is compiled by pop53-zonec with --dnssec-key and a policy file
# (weighted with a weight-0 spare, failover without fail-open whose second
# member is an alias, multivalue, a nested failover -> weighted pick 2 with
# a last resort, a CNAME policy, an apex AAAA alias, TXT, and a wildcard
# failover that can answer nothing). Its health checks connect to three
# TCP listeners of the test's own (interval 1 s, fall 1, rise 1). Unbound,
# with only the key's DS as trust anchor, resolves through pop53d. For
# every combination of the three listeners up or down, every name must
# validate (AD=1): the answers the policy chose, and the NODATA of a
# policy that chose nothing (signed again without its type). Answers
# must also be the ones the health state calls for. Rounds: ECDSA P-256
# with NSEC (all eight states), Ed25519 with NSEC3 (four).
# Then the test shows it can fail: a snapshot whose policy signatures
# were made with a key the resolver does not trust (the zone itself signed
# with the trusted one) must give SERVFAIL for the policy names only.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-dnssec-policy.XXXXXX)
pids=()
declare -A ep_pid=()
cleanup() {
	local p
	for p in "${pids[@]}" "${ep_pid[@]}"; do itest_stop "$p" || true; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS dnssec_policy: $*"; }
fail() { echo "FAIL dnssec_policy: $*"; fails=$((fails + 1)); }
OFF=()
off() { OFF+=("$*"); }

for c in unbound kdig python3 ldns-verify-zone dnssec-verify "$pop53d" "$zonec"; do
	command -v "$c" >/dev/null ||
		{ echo "FAIL dnssec_policy: $c is not installed (scripts/setup.sh) or built"; exit 1; }
done

base=$((20000 + RANDOM % 9900))
next_port=$base
new_port() { port=$next_port; next_port=$((next_port + 1)); }
new_port; ep_port[0]=$port
new_port; ep_port[1]=$port
new_port; ep_port[2]=$port

# ep_set I 1|0: the health-check target I listening (healthy) or not.
ep_set() {
	local i=$1 want=$2
	if ((want)) && [[ -z ${ep_pid[$i]:-} ]]; then
		python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()' "${ep_port[$i]}" &
		ep_pid[$i]=$!
	elif ((!want)) && [[ -n ${ep_pid[$i]:-} ]]; then
		itest_stop "${ep_pid[$i]}"
		unset "ep_pid[$i]"
	fi
}

cat >"$tmp/pol.test.zone" <<'EOF'
$ORIGIN pol.test.
$TTL 300
@	SOA ns1 hostmaster 1 7200 900 1209600 1
@	NS ns1
ns1	A 192.0.2.1
web	A 192.0.2.80
web	A 192.0.2.81
web	AAAA 2001:db8::80
EOF

check() {   # NAME PORT
	echo "  $1: { type: tcp, target: 127.0.0.1, port: $2, interval_ms: 1000, timeout_ms: 500, fall: 1, rise: 1 }"
}
{
	echo "version: 1"
	echo "checks:"
	check a "${ep_port[0]}"
	check b "${ep_port[1]}"
	check c "${ep_port[2]}"
	echo "records:"
	for k in a b c; do   # probes: the test reads each check's state from them
		cat <<EOF
  - name: probe-$k.pol.test.
    type: A
    ttl: 1
    policy:
      routing: failover
      fail_open: false
      members:
        - { address: 10.9.9.9, check: $k }
EOF
	done
	cat <<'EOF'
  - name: w.pol.test.
    type: A
    ttl: 1
    policy:
      routing: weighted
      members:
        - { address: 10.0.0.1, weight: 1, check: a }
        - { address: 10.0.0.2, weight: 1, check: b }
        - { address: 10.0.0.3, weight: 0, check: c }
  - name: f.pol.test.
    type: A
    ttl: 1
    policy:
      routing: failover
      fail_open: false
      members:
        - { address: 10.0.1.1, check: a }
        - { alias: web.pol.test., check: b }
  - name: m.pol.test.
    type: A
    ttl: 1
    policy:
      routing: multivalue
      max: 2
      members:
        - { address: 10.0.2.1, check: a }
        - { address: 10.0.2.2, check: b }
        - { address: 10.0.2.3, check: c }
  - name: n.pol.test.
    type: A
    ttl: 1
    policy:
      routing: failover
      members:
        - check: c
          policy:
            routing: weighted
            pick: 2
            members:
              - { address: 10.0.3.1, weight: 1, check: a }
              - { address: 10.0.3.2, weight: 1, check: b }
              - { address: 10.0.3.4, weight: 1 }
        - { address: 10.0.3.3, check: a }
      last_resort:
        - address: 10.0.3.9
  - name: c.pol.test.
    type: CNAME
    ttl: 1
    policy:
      routing: weighted
      members:
        - { name: web.pol.test., weight: 1, check: a }
        - { name: ns1.pol.test., weight: 1, check: b }
  - name: pol.test.
    type: AAAA
    ttl: 1
    policy:
      routing: simple
      members:
        - { alias: web.pol.test. }
  - name: t.pol.test.
    type: TXT
    ttl: 1
    policy:
      routing: weighted
      members:
        - { text: "blue", weight: 1, check: a }
        - { text: "green", weight: 1 }
  - name: "*.wc.pol.test."
    type: A
    ttl: 1
    policy:
      routing: failover
      fail_open: false
      members:
        - { address: 10.0.9.1, check: c }
EOF
} >"$tmp/policy.yaml"

# key ALG DIR: a CSK for pol.test. into DIR; prints its file, DS into DIR/ds
key() {
	local out
	mkdir -p "$2"
	out=$("$zonec" dnssec-keygen --algorithm "$1" --dir "$2" pol.test. 2>&1) ||
		{ echo "$out" >&2; return 1; }
	awk '$3 == "DS"' <<<"$out" >"$2/ds"
	sed -n 's/^; \(.*\.pem\): .*/\1/p' <<<"$out"
}

# serve SNAPSHOT: pop53d for it; sets port and pid
serve() {
	new_port
	"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 \
		--snapshot "$1" > "$tmp/pop53d-$port.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	itest_wait_soa pol.test. "$port"
}

# resolve AUTH-PORT DS-FILE: Unbound validating with that DS only; sets
# uport. Its cache keeps nothing longer than 1 s: each health state is
# asked anew.
resolve() {
	local ret=0
	new_port
	uport=$port
	itest_unbound "$tmp" "$uport" "$2" '    cache-max-ttl: 1
    cache-max-negative-ttl: 1
    local-zone: "pol.test." transparent' "pol.test.@$1" || ret=1
	pids+=("$ITEST_PID")
	return $ret
}

# q PORT NAME TYPE -> "RCODE|ad or noad|answer data (this type only), sorted"
q() {
	local out ans
	out=$(kdig +dnssec +time=5 +retry=1 @127.0.0.1 -p "$1" "$2" "$3" 2>&1) || true
	ans=$(awk -v t="$3" '/^;; ANSWER SECTION:/{a=1; next} /^;; /{a=0}
		a && NF>=5 && $4 == t {s=$5; for (i=6; i<=NF; i++) s=s " " $i; print s}' \
		<<<"$out" | sort | tr '\n' ' ')
	echo "$(itest_status "$out")|${ans% }"
}

# in_set ANSWER ALLOWED...: every word of ANSWER is among ALLOWED, and it has N words
words_in() {
	local n=$1 ans=$2 w k=0
	shift 2
	for w in $ans; do
		k=$((k + 1))
		[[ " $* " == *" $w "* ]] || return 1
	done
	((k == n))
}

# expect_state LABEL A B C: every name through the resolver for that state.
# What is off goes to OFF (the caller reports it); status 1 if anything is.
expect_state() {
	local label=$1 a=$2 b=$3 c=$4 r ans up=() n
	local -A want=()
	# w: a healthy weighted member, else the weight-0 one, else either (fail open)
	if ((a || b)); then
		((a)) && up+=(10.0.0.1)
		((b)) && up+=(10.0.0.2)
	elif ((c)); then up=(10.0.0.3); else up=(10.0.0.1 10.0.0.2); fi
	r=$(q "$uport" w.pol.test. A); ans=${r#*|*|}
	[[ $r == NOERROR\|ad\|* ]] && words_in 1 "$ans" "${up[@]}" ||
		off "$label: w.pol.test. A: $r (want one of ${up[*]}, AD)"
	# f: the first healthy, else NODATA (no fail-open), which must validate too
	if ((a)); then want[f]="NOERROR|ad|10.0.1.1"
	elif ((b)); then want[f]="NOERROR|ad|192.0.2.80 192.0.2.81"
	else want[f]="NOERROR|ad|"; fi
	r=$(q "$uport" f.pol.test. A)
	[[ $r == "${want[f]}" ]] || off "$label: f.pol.test. A: $r (want ${want[f]})"
	# m: two of the healthy ones (all of them when none is)
	up=()
	((a)) && up+=(10.0.2.1)
	((b)) && up+=(10.0.2.2)
	((c)) && up+=(10.0.2.3)
	((${#up[@]})) || up=(10.0.2.1 10.0.2.2 10.0.2.3)
	n=$((${#up[@]} < 2 ? ${#up[@]} : 2))
	r=$(q "$uport" m.pol.test. A); ans=${r#*|*|}
	[[ $r == NOERROR\|ad\|* ]] && words_in "$n" "$ans" "${up[@]}" ||
		off "$label: m.pol.test. A: $r (want $n of ${up[*]}, AD)"
	# n: c healthy -> two of the weighted pool; else a -> 10.0.3.3; else last resort
	if ((c)); then
		up=(10.0.3.4); ((a)) && up+=(10.0.3.1); ((b)) && up+=(10.0.3.2)
		n=$((${#up[@]} < 2 ? ${#up[@]} : 2))
	elif ((a)); then up=(10.0.3.3); n=1
	else up=(10.0.3.9); n=1; fi
	r=$(q "$uport" n.pol.test. A); ans=${r#*|*|}
	[[ $r == NOERROR\|ad\|* ]] && words_in "$n" "$ans" "${up[@]}" ||
		off "$label: n.pol.test. A: $r (want $n of ${up[*]}, AD)"
	# c: a CNAME chosen by health, followed by the resolver
	if ((a && b)); then up=(web.pol.test. ns1.pol.test.)
	elif ((a)); then up=(web.pol.test.)
	elif ((b)); then up=(ns1.pol.test.)
	else up=(web.pol.test. ns1.pol.test.); fi
	r=$(q "$uport" c.pol.test. CNAME); ans=${r#*|*|}
	[[ $r == NOERROR\|ad\|* ]] && words_in 1 "$ans" "${up[@]}" ||
		off "$label: c.pol.test. CNAME: $r (want one of ${up[*]}, AD)"
	r=$(q "$uport" c.pol.test. A)
	[[ $r == NOERROR\|ad\|* ]] || off "$label: c.pol.test. A through the CNAME: $r"
	r=$(q "$uport" pol.test. AAAA)
	[[ $r == "NOERROR|ad|2001:db8::80" ]] || off "$label: pol.test. AAAA (alias): $r"
	r=$(q "$uport" t.pol.test. TXT); ans=${r#*|*|}
	[[ $r == NOERROR\|ad\|* && -n $ans ]] || off "$label: t.pol.test. TXT: $r"
	# the wildcard: its answer, or its NODATA with the proof the name does not exist
	if ((c)); then want[x]="NOERROR|ad|10.0.9.1"; else want[x]="NOERROR|ad|"; fi
	r=$(q "$uport" x.wc.pol.test. A)
	[[ $r == "${want[x]}" ]] || off "$label: x.wc.pol.test. A: $r (want ${want[x]})"
	# the policy owner's other types: NODATA as for any name
	r=$(q "$uport" w.pol.test. AAAA)
	[[ $r == "NOERROR|ad|" ]] || off "$label: w.pol.test. AAAA: $r"
	((${#OFF[@]} == 0))
}

# settle AUTH-PORT A B C: pop53d's probe records answer for that health
# state (asked directly, no cache); 1 after 20 s
settle() {
	local port=$1 k want ok
	local -a st=("$2" "$3" "$4") names=(a b c)
	for _ in $(seq 100); do
		ok=1
		for k in 0 1 2; do
			want=
			((st[k])) && want=10.9.9.9
			[[ $(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" \
				"probe-${names[k]}.pol.test." A 2>/dev/null) == "$want" ]] || { ok=0; break; }
		done
		((ok)) && return 0
		sleep 0.2
	done
	return 1
}

# dump_verify LABEL DIR: what `pop53-zonec dump` prints of the signed
# snapshot (one signed answer per policy record) passes both verifiers
# (dnssec-verify -z: the key is a combined signing key, flags 257).
dump_verify() {
	local label=$1 dir=$2 out
	"$zonec" dump "$dir/s.snap" >"$dir/dump.zone" 2>"$dir/dump.err" ||
		{ fail "$label: pop53-zonec dump: $(cat "$dir/dump.err")"; return; }
	grep -q 'one of its signed answers' "$dir/dump.zone" ||
		fail "$label: the dump shows no signed policy answer"
	if out=$(ldns-verify-zone "$dir/dump.zone" 2>&1); then
		pass "$label: ldns-verify-zone accepts the dump"
	else
		fail "$label: ldns-verify-zone: $(tail -n 5 <<<"$out")"
	fi
	if out=$(dnssec-verify -q -z -o pol.test. "$dir/dump.zone" 2>&1); then
		pass "$label: dnssec-verify accepts the dump"
	else
		fail "$label: dnssec-verify: $(tail -n 5 <<<"$out")"
	fi
}

# round LABEL ALG STATES [--nsec3]
round() {
	local label=$1 alg=$2 states=$3 dir keyfile s a b c before aport
	shift 3
	dir=$tmp/$label
	keyfile=$(key "$alg" "$dir") || { fail "$label: dnssec-keygen failed"; return; }
	if ! "$zonec" compile -o "$dir/s.snap" --policy "$tmp/policy.yaml" \
		--dnssec-key "$keyfile" "$@" "$tmp/pol.test.zone" >"$dir/zonec.log" 2>&1; then
		fail "$label: pop53-zonec: $(tail -n 3 "$dir/zonec.log")"; return
	fi
	grep -q "policy answers: 11 records in signed zones" "$dir/zonec.log" &&
		pass "$label: $(grep 'policy answers' "$dir/zonec.log")" ||
		fail "$label: no policy answers signed: $(tail -n 3 "$dir/zonec.log")"
	dump_verify "$label" "$dir"
	serve "$dir/s.snap" || { fail "$label: pop53d did not answer"; return; }
	aport=$port
	resolve "$port" "$dir/ds" || { fail "$label: unbound did not start"; return; }
	before=$fails
	for s in $states; do
		a=$((s & 1)) b=$((s >> 1 & 1)) c=$((s >> 2 & 1))
		ep_set 0 "$a"; ep_set 1 "$b"; ep_set 2 "$c"
		# interval 1 s, fall 1, rise 1: wait until pop53d's probes say the
		# state (bounded), then for the resolver's 1 s cache to empty
		# Now and then the resolver still answers a name as in the state
		# before (pop53d itself, asked right after, answers as it
		# should, and its log shows no health flap): a state whose
		# answers are off is settled and asked again, three times at
		# most, and the retry is printed with pop53d's own answers.
		# Answers that stay off fail.
		for try in 1 2 3; do
			OFF=()
			settle "$aport" "$a" "$b" "$c" ||
				{ off "$label: health did not reach a=$a b=$b c=$c in 20 s"; break; }
			sleep 1.2
			expect_state "$label a=$a b=$b c=$c" "$a" "$b" "$c" && break
			echo "    $label a=$a b=$b c=$c: try $try: ${#OFF[@]} answers off (first: ${OFF[0]});" \
				"pop53d itself now: f $(q "$aport" f.pol.test. A), m $(q "$aport" m.pol.test. A)"
		done
		for m in "${OFF[@]}"; do fail "$m"; done
	done
	if ((fails == before)); then
		pass "$label: every name validates in every health state ($states)"
	else
		echo "--- unbound's validation failures ($label):"
		grep -E 'validation failure|error' "$tmp/unbound-$uport.log" | head -20 || true
	fi
}

round nsec-ecdsa 13 "0 1 2 3 4 5 6 7"
round nsec3-ed25519 15 "3 0 5 6" --nsec3

# ---- it can fail: the policy answers signed by a key the resolver does
# not trust, the zone by the trusted one
dir=$tmp/nsec-ecdsa
other=$(key 13 "$tmp/other") || fail "forged: dnssec-keygen failed"
"$zonec" compile -o "$tmp/half.snap" --policy "$tmp/policy.yaml" \
	--dnssec-key "$other" "$tmp/pol.test.zone" >"$tmp/zonec-other.log" 2>&1 ||
	fail "forged: pop53-zonec: $(tail -n 3 "$tmp/zonec-other.log")"
# the trusted key's zone data with the untrusted key's policy section:
# pop53-zonec graft would be a forgery tool, so the test does it by hand
if python3 "$here/dnssec_policy_graft.py" "$dir/s.snap" "$tmp/half.snap" "$tmp/forged.snap"; then
	serve "$tmp/forged.snap" || fail "forged: pop53d did not answer"
	fport=$port
	resolve "$port" "$dir/ds" || fail "forged: unbound did not start"
	ep_set 0 1; ep_set 1 1; ep_set 2 1
	settle "$fport" 1 1 1 || fail "forged: health did not come up"
	sleep 1.2
	r=$(q "$uport" w.pol.test. A)
	[[ $r == SERVFAIL* ]] && pass "forged: w.pol.test. A with untrusted signatures: SERVFAIL" ||
		fail "forged: w.pol.test. A: $r (want SERVFAIL)"
	r=$(q "$uport" web.pol.test. A)
	[[ $r == "NOERROR|ad|192.0.2.80 192.0.2.81" ]] &&
		pass "forged: static web.pol.test. A still validates" ||
		fail "forged: web.pol.test. A: $r"
else
	fail "forged: could not graft the sections"
fi

((fails == 0)) && echo "PASS dnssec_policy" || { echo "FAIL dnssec_policy ($fails)"; exit 1; }
