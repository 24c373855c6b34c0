#!/usr/bin/env bash
# DNSSEC signing through the command line: pop53-zonec dnssec-keygen /
# dnssec-sign / compile --dnssec-key on a zone with a wildcard, a CNAME,
# delegations with and without DS, glue and an empty non-terminal, with
# ECDSA P-256 (KSK + ZSK) and Ed25519 (CSK), NSEC, NSEC3 and NSEC3 opt-out.
# ldns-verify-zone (and BIND's dnssec-verify when installed) must accept
# every signed zone and reject a tampered one; bad input is refused with
# a precise message and nothing written.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
zonec=$(realpath -m "${POP53_ZONEC:-$build/tools/pop53-zonec}")   # the test cds
tmp=$(mktemp -d /tmp/p53-dnssec.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

if ! command -v ldns-verify-zone >/dev/null; then
	echo "SKIP zonec_dnssec: ldns-verify-zone (ldnsutils) is not installed"; exit 77
fi
[ -x "$zonec" ] || { echo "FAIL zonec_dnssec: no $zonec (build first)"; exit 1; }
have_bind=0
command -v dnssec-verify >/dev/null && have_bind=1

# expect STATUS PATTERN CMD...: exit status and output (both streams) matching PATTERN
expect() {
	local want=$1 pattern=$2; shift 2
	local out status
	out=$("$@" 2>&1); status=$?
	if [ "$status" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
		ok "$*"
	else
		bad "$* (status $status, want $want; output: $out)"
	fi
}

# verified ZONEFILE WHAT [dnssec-verify flags]: both verifiers accept it
verified() {
	local f=$1 what=$2; shift 2
	local out
	if out=$(ldns-verify-zone "$f" 2>&1); then
		ok "ldns-verify-zone accepts $what"
	else
		bad "ldns-verify-zone rejects $what: $out"
	fi
	if [ $have_bind = 1 ]; then
		if out=$(dnssec-verify -q "$@" -o example.org "$f" 2>&1); then
			ok "dnssec-verify accepts $what"
		else
			bad "dnssec-verify rejects $what: $out"
		fi
	fi
}

cd "$tmp" || exit 1
cat > example.org.zone <<'EOF'
$ORIGIN example.org.
$TTL 3600
@          SOA   ns1 hostmaster 2026112301 7200 900 1209600 300
@          NS    ns1
@          NS    ns2
@          MX    10 mail
@          CAA   0 issue "ca.example.net"
ns1        A     192.0.2.1
ns2        AAAA  2001:db8::2
mail       A     192.0.2.3
www        CNAME mail
*.wild     A     192.0.2.4
*.wild     TXT   "any name under wild"
a.b.ent    TXT   "two empty non-terminals above me"
secure     NS    ns.secure
secure     DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure  A     192.0.2.5
insecure   NS    ns.insecure
insecure   NS    ns.elsewhere.net.
ns.insecure A    192.0.2.6
EOF

# ---- keys
mkdir keys
"$zonec" dnssec-keygen --ksk --dir keys example.org > ksk.out 2>&1 || bad "keygen --ksk"
"$zonec" dnssec-keygen --zsk --dir keys example.org > zsk.out 2>&1 || bad "keygen --zsk"
"$zonec" dnssec-keygen --algorithm 15 --dir keys example.org > csk.out 2>&1 || bad "keygen --algorithm 15"
grep -qE "^; keys/Kexample.org.\+013\+[0-9]{5}.pem: KSK, algorithm 13, key tag [0-9]+" ksk.out \
	&& ok "keygen --ksk names its file, role, algorithm, tag" || bad "keygen --ksk said: $(cat ksk.out)"
grep -qE "^example.org.	IN	DNSKEY	256 3 13 " zsk.out && ok "ZSK DNSKEY flags 256" || bad "zsk: $(cat zsk.out)"
grep -qE "^example.org.	IN	DNSKEY	257 3 15 " csk.out && ok "CSK (default role) DNSKEY flags 257, algorithm 15" \
	|| bad "csk: $(cat csk.out)"
grep -qE "^example.org.	IN	DS	[0-9]+ 13 2 [0-9A-F]{64}$" ksk.out && ok "keygen prints the DS" || bad "no DS"
ksk=$(grep -l '^role: KSK' keys/*.pem); zsk=$(grep -l '^role: ZSK' keys/*.pem)
csk=$(grep -l '^role: CSK' keys/*.pem)
[ -f "$ksk" ] && [ -f "$zsk" ] && [ -f "$csk" ] && ok "three key files" || bad "key files: $(ls keys)"
[ "$(stat -c %a "$ksk")" = 600 ] && ok "key file mode 0600" || bad "key file mode $(stat -c %a "$ksk")"
openssl pkey -in "$csk" -noout 2>/dev/null && ok "openssl reads the private key" || bad "openssl cannot read $csk"
if [ $have_bind = 1 ]; then
	# BIND's digest of our printed DNSKEY must be our printed DS
	for out in ksk.out csk.out; do
		awk '$3 == "DNSKEY" { print $1, 3600, $2, $3, $4, $5, $6, $7 }' "$out" > dnskey.txt
		theirs=$(dnssec-dsfromkey -2 -f dnskey.txt example.org | awk '{ print $4, $5, $6, $7 }')
		ours=$(awk '$3 == "DS" { print $4, $5, $6, $7 }' "$out")
		[ -n "$ours" ] && [ "$theirs" = "$ours" ] && ok "DS matches dnssec-dsfromkey ($out)" \
			|| bad "DS $ours vs dnssec-dsfromkey $theirs"
	done
fi

# ---- sign: each algorithm, NSEC / NSEC3 / NSEC3 opt-out
for keyset in ecdsa ed25519; do
	if [ $keyset = ecdsa ]; then keys=(--key "$ksk" --key "$zsk"); bindflags=(); else
		keys=(--key "$csk"); bindflags=(-z); fi
	for chain in nsec nsec3 optout; do
		case $chain in
		nsec) flags=() ;; nsec3) flags=(--nsec3) ;; optout) flags=(--nsec3 --opt-out) ;;
		esac
		out="signed-$keyset-$chain.zone"
		expect 0 "earliest RRSIG expiration" "$zonec" dnssec-sign "${keys[@]}" "${flags[@]}" -o "$out" example.org.zone
		verified "$out" "$keyset $chain" "${bindflags[@]}"
	done
done
f=signed-ecdsa-nsec.zone
grep -q "^ns.secure.example.org.	3600	IN	RRSIG" $f && bad "glue signed" || ok "glue not signed"
grep -qE "^insecure.example.org.	3600	IN	RRSIG	NS" $f && bad "delegation NS signed" || ok "delegation NS not signed"
grep -qE "^secure.example.org.	3600	IN	RRSIG	DS" $f && ok "DS at the delegation signed" || bad "DS not signed"
grep -qE "^\*.wild.example.org.	3600	IN	RRSIG	TXT 13 3 " $f && ok "wildcard RRSIG labels 3" || bad "wildcard labels"
grep -qE "NSEC3	1 1 0 - " signed-ed25519-optout.zone && ok "opt-out flag set" || bad "no opt-out flag"
grep -qE "NSEC3PARAM	1 0 0 -" signed-ed25519-nsec3.zone && ok "NSEC3PARAM 1 0 0 - (RFC 9276)" || bad "NSEC3PARAM"

# to stdout; signing a signed zone again drops and remakes its DNSSEC records
expect 0 "SOA" "$zonec" dnssec-sign -q --key "$csk" example.org.zone
expect 0 "dropped the input's [0-9]+ RRSIG/NSEC/NSEC3/NSEC3PARAM" \
	"$zonec" dnssec-sign --key "$csk" --nsec3 -o resigned.zone signed-ed25519-nsec.zone
verified resigned.zone "a re-signed zone (NSEC -> NSEC3)" -z
# --inception and --validity
expect 0 "earliest RRSIG expiration 2026-1" "$zonec" dnssec-sign --key "$csk" --inception 20261101000000 --validity 30 -o dated.zone example.org.zone
grep -q " 20261101000000 " dated.zone && ok "--inception used" || bad "--inception not in the RRSIGs"

# ---- compile --dnssec-key, and what dump prints
expect 0 "earliest RRSIG expiration" "$zonec" compile --dnssec-key "$ksk" --dnssec-key "$zsk" --nsec3 -o s.snap example.org.zone
"$zonec" dump s.snap > dump.zone
verified dump.zone "dump of compile --dnssec-key"
# the note is the header's, and it must be the earliest expiration among the RRSIGs dumped
earliest=$(awk '$4 == "RRSIG" && (min == "" || $9 < min) {min = $9} END {print min}' dump.zone)
grep -qE "^; earliest RRSIG expiration 20[0-9-]+ [0-9:]+ UTC \($earliest\)$" dump.zone \
	&& ok "dump notes the earliest RRSIG expiration ($earliest)" || bad "expiration note: $(tail -1 dump.zone), earliest RRSIG $earliest"
expect 0 "status: NOERROR" "$zonec" lookup s.snap www.example.org A

# ---- tampering must be caught (proves the checks can fail)
sed 's/^mail.example.org.	3600	IN	A	192.0.2.3/mail.example.org.	3600	IN	A	192.0.2.99/' \
	signed-ecdsa-nsec.zone > tampered.zone
if cmp -s tampered.zone signed-ecdsa-nsec.zone; then bad "tampering changed nothing"
elif ldns-verify-zone tampered.zone >/dev/null 2>&1; then bad "ldns-verify-zone accepts a changed address"
else ok "ldns-verify-zone rejects a changed address"; fi
grep -v "^ns1.example.org.	300	IN	NSEC	" signed-ecdsa-nsec.zone > broken-chain.zone
ldns-verify-zone broken-chain.zone >/dev/null 2>&1 && bad "ldns-verify-zone accepts a broken NSEC chain" \
	|| ok "ldns-verify-zone rejects a broken NSEC chain"

# ---- refusals: precise message, exit status, nothing written
expect 2 "DNSSEC algorithm 8 is not supported: 13 \(ECDSAP256SHA256\) or 15 \(ED25519\)" \
	"$zonec" dnssec-keygen --algorithm 8 --dir keys example.org
expect 1 "nope.pem: error: cannot open: No such file" "$zonec" dnssec-sign --key nope.pem -o x.zone example.org.zone
expect 1 "algorithm 13 has no ZSK for the zone's data" "$zonec" dnssec-sign --key "$ksk" -o x.zone example.org.zone
"$zonec" dnssec-keygen -q --dir keys example.com > /dev/null
expect 1 "a key for zone example.com., not example.org." "$zonec" dnssec-sign --key "$(ls keys/Kexample.com.*)" -o x.zone example.org.zone
expect 1 "which is not among the files compiled" "$zonec" compile --dnssec-key "$(ls keys/Kexample.com.*)" -o x.snap example.org.zone
sed 's/^key-tag: .*/key-tag: 1/' "$zsk" > edited.pem
expect 1 "edited.pem: error: key-tag: 1, but the key's DNSKEY has key tag" "$zonec" dnssec-sign --key "$ksk" --key edited.pem -o x.zone example.org.zone
printf '$ORIGIN example.org.\n$TTL 60\nwww A 192.0.2.1\n' > nosoa.zone
expect 1 "has no SOA record at its apex" "$zonec" dnssec-sign --key "$csk" -o x.zone nosoa.zone
expect 2 "--opt-out needs --nsec3" "$zonec" dnssec-sign --key "$csk" --opt-out -o x.zone example.org.zone
expect 2 "usage" "$zonec" dnssec-sign example.org.zone
[ ! -e x.zone ] && [ ! -e x.snap ] && ok "nothing written by a refused run" || bad "output written: $(ls x.*)"
[ -z "$(ls -A . keys | grep -E '\.tmp')" ] && ok "no temporary files left" || bad "temporary files: $(ls -A . keys)"

if [ $have_bind = 0 ]; then echo "note: dnssec-verify (bind9-utils) not installed, only ldns-verify-zone ran"; fi
if [ $fail = 0 ]; then echo "PASS zonec_dnssec"; else echo "FAIL zonec_dnssec"; exit 1; fi
