#!/usr/bin/env bash
# DNSSEC key rollovers across compiled snapshots (issue 9; docs/dnssec-signing.md,
# "Key rollovers"): one zone, signed and compiled by `pop53-zonec compile
# --dnssec-key` at each step of
#   (a) a ZSK pre-publish rollover (RFC 6781 4.1.1.1):
#       a1 [ZSK1] -> a2 [ZSK1 signs, ZSK2 published] -> a3 [ZSK2 signs, ZSK1
#       published] -> a4 [ZSK2 only]
#   (b) a KSK double-signature rollover with CDS (RFC 6781 4.1.2, RFC 7344):
#       b1 = a4 [KSK1] -> b2 [KSK1 + KSK2 sign DNSKEY, CDS for both] -> b3 [KSK2
#       only, CDS for KSK2]
# Each step: ldns-verify-zone and dnssec-verify on what `dump` prints; served
# by pop53d (kernel sockets, loopback, the snapshot replaced and SIGHUP), and
# kdig +dnssec checks the DNSKEY RRset holds exactly that step's keys, the
# RRSIGs' key tags are that step's signers, CDS names the announced KSKs,
# and each step overlaps the one before (RFC 6781: a resolver holding the
# previous DNSKEY RRset validates the new data; a new KSK was announced by
# CDS first). With unbound installed, a validating resolver with KSK1's DS
# as trust anchor goes through every transition keeping its cache (AD=1),
# a skipped pre-publish (a1 -> a3) fails validation, and after the DS moves
# to KSK2, KSK1's DS no longer validates b3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-roll.XXXXXX)
dpid='' upid=''
cleanup() {
	itest_stop "$upid" || true
	itest_stop "$dpid" || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS dnssec_rollover: $*"; }
fail() { echo "FAIL dnssec_rollover: $*"; fails=$((fails + 1)); }

if ! command -v ldns-verify-zone >/dev/null; then
	echo "SKIP dnssec_rollover: ldns-verify-zone (ldnsutils) is not installed"; exit 77
fi
for b in "$zonec" "$pop53d"; do
	[ -x "$b" ] || { echo "FAIL dnssec_rollover: no $b (build first)"; exit 1; }
done
command -v kdig >/dev/null || { echo "FAIL dnssec_rollover: kdig is not installed"; exit 1; }
cd "$tmp" || exit 1
zone=roll.test
port=$((20000 + RANDOM % 10000)) uport=$((port + 1))

# The zone at serial N: DNSKEY TTL (the SOA's) 3600, data 60, so a resolver
# keeps the DNSKEY RRset across a step while each step's data is new to it.
zonefile() {
	cat > "$zone.zone" <<EOF
\$ORIGIN $zone.
\$TTL 60
@	3600	SOA ns1 hostmaster $1 7200 900 1209600 60
@	NS	ns1
@	CAA	0 issue "letsencrypt.org"
ns1	A	127.0.0.1
www	A	192.0.2.80
EOF
	for i in 1 2 3 4 5 6 7 8 9; do echo "n$i	TXT	\"name $i\"" >> "$zone.zone"; done
}

key() {   # ROLE NAME: a key file, its path in $NAME, its tag in ${NAME}_tag
	local f
	f=$("$zonec" dnssec-keygen "--$1" --dir keys "$zone." | sed -n '1s/^; \(.*\.pem\):.*/\1/p')
	[ -f "$f" ] || { echo "FAIL dnssec_rollover: dnssec-keygen --$1"; exit 1; }
	printf -v "$2" %s "$f"
	printf -v "${2}_tag" %s "$(sed -n 's/^key-tag: //p' "$f")"
}
mkdir -p keys
KSK1_tag='' KSK2_tag='' ZSK1_tag='' ZSK2_tag=''
key ksk KSK1; key ksk KSK2; key zsk ZSK1; key zsk ZSK2
tagname() {
	case $1 in
	"$KSK1_tag") echo KSK1;; "$KSK2_tag") echo KSK2;;
	"$ZSK1_tag") echo ZSK1;; "$ZSK2_tag") echo ZSK2;; *) echo "?$1";;
	esac
}
names() {
	local t res=()
	for t in $1; do res+=("$(tagname "$t")"); done
	echo "${res[*]:-none}"
}
echo "keys: KSK1 $KSK1_tag KSK2 $KSK2_tag ZSK1 $ZSK1_tag ZSK2 $ZSK2_tag"

# The steps: name, compile options, then what must be served: DNSKEY tags,
# DNSKEY signers, data signer, CDS tags (sorted, space-separated).
sorted() { tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort -nu | tr '\n' ' ' | sed 's/ $//'; }
steps=(a1 a2 a3 a4 b2 b3)
declare -A opts dnskeys ksks zsk cds
opts[a1]="--dnssec-key $KSK1 --dnssec-key $ZSK1"
opts[a2]="--dnssec-key $KSK1 --dnssec-key $ZSK1 --dnssec-publish-key $ZSK2"
opts[a3]="--dnssec-key $KSK1 --dnssec-key $ZSK2 --dnssec-publish-key $ZSK1"
opts[a4]="--dnssec-key $KSK1 --dnssec-key $ZSK2"
opts[b2]="--dnssec-key $KSK1 --dnssec-key $KSK2 --dnssec-key $ZSK2 --cds"
opts[b3]="--dnssec-key $KSK2 --dnssec-key $ZSK2 --cds"
dnskeys[a1]=$(sorted "$KSK1_tag $ZSK1_tag");  ksks[a1]=$KSK1_tag; zsk[a1]=$ZSK1_tag; cds[a1]=
dnskeys[a2]=$(sorted "$KSK1_tag $ZSK1_tag $ZSK2_tag"); ksks[a2]=$KSK1_tag; zsk[a2]=$ZSK1_tag; cds[a2]=
dnskeys[a3]=${dnskeys[a2]}; ksks[a3]=$KSK1_tag; zsk[a3]=$ZSK2_tag; cds[a3]=
dnskeys[a4]=$(sorted "$KSK1_tag $ZSK2_tag");  ksks[a4]=$KSK1_tag; zsk[a4]=$ZSK2_tag; cds[a4]=
dnskeys[b2]=$(sorted "$KSK1_tag $KSK2_tag $ZSK2_tag"); ksks[b2]=$(sorted "$KSK1_tag $KSK2_tag")
zsk[b2]=$ZSK2_tag; cds[b2]=${ksks[b2]}
dnskeys[b3]=$(sorted "$KSK2_tag $ZSK2_tag"); ksks[b3]=$KSK2_tag; zsk[b3]=$ZSK2_tag; cds[b3]=$KSK2_tag

# ---- compile and verify every step -------------------------------------------
serial=0
for s in "${steps[@]}" a3x; do
	serial=$((serial + 1))
	zonefile "$serial"
	o=${opts[$s]:-${opts[a3]}}   # a3x: a3 again at a later serial (the skip test)
	# shellcheck disable=SC2086
	if ! out=$("$zonec" compile -q $o --serial "$serial" -o "$s.snap" "$zone.zone" 2>&1); then
		fail "$s: compile: $out"; continue
	fi
	"$zonec" dump "$s.snap" > "$s.dump.zone" 2>/dev/null
	[ "$s" = a3x ] && continue
	if out=$(ldns-verify-zone "$s.dump.zone" 2>&1); then
		pass "$s: ldns-verify-zone accepts the dump"
	else
		fail "$s: ldns-verify-zone: $out"
	fi
	if command -v dnssec-verify >/dev/null; then
		if out=$(dnssec-verify -q -o "$zone" "$s.dump.zone" 2>&1); then
			pass "$s: dnssec-verify accepts the dump"
		else
			fail "$s: dnssec-verify: $out"
		fi
	fi
done

# ---- serve each step -----------------------------------------------------------
dig_() { kdig +dnssec +norec +time=2 +retry=1 @127.0.0.1 -p "$port" "$@" 2>/dev/null; }
# served SERIAL: wait (at most about 5 s) for pop53d to answer with that SOA serial
served() {
	for _ in $(seq 50); do
		[ "$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" "$zone." SOA 2>/dev/null |
		     awk '{print $3}')" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# serve STEP SERIAL: replace the served snapshot (rename) and SIGHUP; a new
# pop53d for the first one and for going back to an older serial.
cur=0
serve() {
	cp "$1.snap" cur.snap.tmp && mv cur.snap.tmp cur.snap
	if (($2 <= cur)); then
		itest_stop "$dpid"
		dpid=
	fi
	cur=$2
	if [ -z "$dpid" ]; then
		"$pop53d" --io kernel --listen "127.0.0.1@$port" --udp-threads 1 \
			--snapshot "$tmp/cur.snap" > pop53d.log 2>&1 &
		dpid=$!
	else
		kill -HUP "$dpid"
	fi
	served "$2" || { fail "$1: pop53d does not serve serial $2: $(tail -3 pop53d.log)"; return 1; }
}
# The DNSKEY tags served: each public key matched to the key files.
served_dnskeys() {
	local k f tags=()
	while read -r k; do
		for f in "$KSK1" "$KSK2" "$ZSK1" "$ZSK2"; do
			grep -q "^dnskey: .* $k$" "$f" && tags+=("$(sed -n 's/^key-tag: //p' "$f")")
		done
	done < <(dig_ "$zone." DNSKEY | awk '$4 == "DNSKEY" { print $8 }')
	sorted "${tags[*]}"
}
# RRSIG key tags over TYPE at NAME
sig_tags() { sorted "$(dig_ "$1" "$2" | awk -v t="$2" '$4 == "RRSIG" && $5 == t { print $11 }')"; }

declare -A got_dnskeys got_cds
serial=0 prev=
for s in "${steps[@]}"; do
	serial=$((serial + 1))
	serve "$s" "$serial" || break
	got_dnskeys[$s]=$(served_dnskeys)
	k=$(sig_tags "$zone." DNSKEY) d=$(sorted "$(sig_tags "www.$zone." A) $(sig_tags "$zone." SOA)")
	c=$(sorted "$(dig_ "$zone." CDS | awk '$4 == "CDS" { print $5 }')")
	got_cds[$s]=$c
	if [ "${got_dnskeys[$s]}" = "${dnskeys[$s]}" ]; then
		pass "$s: DNSKEY RRset served = $(names "${dnskeys[$s]}")"
	else
		fail "$s: DNSKEY RRset served: $(names "${got_dnskeys[$s]}"), want $(names "${dnskeys[$s]}")"
	fi
	if [ "$k" = "${ksks[$s]}" ] && [ "$(sorted "$d")" = "${zsk[$s]}" ]; then
		pass "$s: DNSKEY signed by $(names "$k"); SOA and www A by $(names "${zsk[$s]}")"
	else
		fail "$s: RRSIG tags: DNSKEY by $(names "$k") (want $(names "${ksks[$s]}")), data by $(names "$d") (want $(names "${zsk[$s]}"))"
	fi
	if [ "$c" = "${cds[$s]}" ]; then
		pass "$s: CDS for $(names "$c")"
	else
		fail "$s: CDS for '$(names "$c")', want '$(names "${cds[$s]}")'"
	fi
	if [ -n "$prev" ]; then
		# RFC 6781 4.1.1.1: the new data's ZSK was in the DNSKEY RRset
		# resolvers may hold from the step before.
		if grep -qw "${zsk[$s]}" <<<"${got_dnskeys[$prev]}"; then
			pass "$prev -> $s: $(names "${zsk[$s]}") (signing now) was published at $prev"
		else
			fail "$prev -> $s: $(names "${zsk[$s]}") signs but was not published at $prev"
		fi
		# RFC 6781 4.1.2 / RFC 7344: a KSK the parent's DS may point at
		# (one that signed at the step before, or that its CDS announced)
		# signs the DNSKEY RRset now.
		ok=
		for t in $k; do
			grep -qw "$t" <<<"${ksks[$prev]} ${got_cds[$prev]}" && ok=$t
		done
		if [ -n "$ok" ]; then
			pass "$prev -> $s: DNSKEY signed by $(names "$ok"), which signed at $prev or was in its CDS"
		else
			fail "$prev -> $s: no KSK signing now ($(names "$k")) signed at $prev or was in its CDS"
		fi
	fi
	prev=$s
done
# The check has teeth: skipping the pre-publish step breaks the overlap.
if ! grep -qw "${zsk[a3]}" <<<"${got_dnskeys[a1]:-}"; then
	pass "a1 -> a3 (no pre-publish) would break: $(names "${zsk[a3]}") is not in a1's DNSKEY RRset"
else
	fail "a1's DNSKEY RRset has a3's ZSK"
fi

# ---- a validating resolver through the transitions -----------------------------------
ds_of() { sed -n 's/^ds: //p' "$1"; }
# unbound_start ANCHOR-KEY-FILE: a fresh unbound (empty cache) trusting that key's DS
unbound_start() {
	cat > unbound.conf <<EOF
server:
	interface: 127.0.0.1@$uport
	port: $uport
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	logfile: "$tmp/unbound.log"
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	trust-anchor-signaling: no
	do-not-query-localhost: no
	module-config: "validator iterator"
	trust-anchor: "$(ds_of "$1")"
	qname-minimisation: no
	prefetch: no
	prefetch-key: no
	num-threads: 1
	# unbound answers the special-use name test. itself (RFC 6761) by default
	local-zone: "test." nodefault
stub-zone:
	name: "$zone."
	stub-addr: 127.0.0.1@$port
EOF
	unbound -d -c unbound.conf >> unbound.log 2>&1 &
	upid=$!
	for _ in $(seq 50); do
		kdig +time=1 +retry=0 @127.0.0.1 -p "$uport" "$zone." SOA >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "unbound did not start: $(tail -3 unbound.log)"
	return 1
}
unbound_stop() { itest_stop "$upid"; upid=; }
# validated NAME TYPE: the resolver's answer has AD=1 and rcode NOERROR
validated() {
	local out
	out=$(kdig +dnssec +time=3 +retry=0 @127.0.0.1 -p "$uport" "$1" "$2" 2>&1)
	grep -q 'status: NOERROR' <<<"$out" && grep -q 'Flags:[a-z ]* ad;' <<<"$out"
}
rstatus() {
	kdig +dnssec +time=3 +retry=0 @127.0.0.1 -p "$uport" "$1" "$2" 2>&1 |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

# transition FROM TO ANCHOR N: the resolver learns FROM's DNSKEY RRset, then
# pop53d serves TO and data new to the resolver (nN) must validate from it.
transition() {
	local from=$1 to=$2 anchor=$3 n=$4 sf sto
	sf=$(( $(idx "$from") + 1 )) sto=$(( $(idx "$to") + 1 ))
	serve "$from" "$sf" || return 1
	unbound_start "$anchor" || return 1
	if validated "$zone." DNSKEY && validated "www.$zone." A; then
		pass "unbound: $from validates (AD=1) with the DS of $(tagname "$(sed -n "s/^key-tag: //p" "$anchor")")"
	else
		fail "unbound: $from does not validate: $(tail -3 unbound.log)"
	fi
	serve "$to" "$sto" || return 1
	if validated "n$n.$zone." TXT; then
		pass "unbound: $from -> $to: new data validates with $from's DNSKEY RRset in the cache"
	else
		fail "unbound: $from -> $to: n$n.$zone. TXT does not validate: $(tail -3 unbound.log)"
	fi
	unbound_stop
}
idx() { local i; for i in "${!steps[@]}"; do [ "${steps[$i]}" = "$1" ] && echo "$i"; done; }

if ! command -v unbound >/dev/null; then
	pass "unbound is not installed: the validating-resolver part is skipped"
elif [ -n "$dpid" ]; then
	n=0
	for i in 1 2 3 4 5; do
		n=$((n + 1))
		transition "${steps[$((i - 1))]}" "${steps[$i]}" "$KSK1" "$n"
	done
	# after the parent's DS moved to KSK2 (what b2's CDS asked for)
	serve b3 6
	unbound_start "$KSK2" &&
	if validated "$zone." DNSKEY && validated "n9.$zone." TXT; then
		pass "unbound: b3 validates from scratch with the DS of KSK2"
	else
		fail "unbound: b3 with KSK2's DS: $(tail -3 unbound.log)"
	fi
	unbound_stop
	unbound_start "$KSK1" &&
	if [ "$(rstatus "$zone." DNSKEY)" = SERVFAIL ]; then
		pass "unbound: b3 with only KSK1's DS is bogus (SERVFAIL): the DS must move before KSK1 goes"
	else
		fail "unbound: b3 with KSK1's DS was not refused"
	fi
	unbound_stop
	# skipping the pre-publish: a resolver holding a1's DNSKEY RRset rejects
	# data signed by a ZSK it has never seen (a3x: a3 at serial 7)
	serve a1 1
	unbound_start "$KSK1" && validated "$zone." DNSKEY &&
	serve a3x 7 &&
	if [ "$(rstatus "n8.$zone." TXT)" = SERVFAIL ]; then
		pass "unbound: a1 -> a3 without pre-publishing ZSK2: new data is bogus (SERVFAIL)"
	else
		fail "unbound: a1 -> a3 without pre-publish was accepted: $(rstatus "n8.$zone." TXT)"
	fi
	unbound_stop
fi

itest_stop "$dpid"; dpid=
((fails == 0)) || { echo "dnssec_rollover: $fails failures"; exit 1; }
echo "dnssec_rollover: all passed"
