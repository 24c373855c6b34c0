#!/usr/bin/env bash
# Controller keys and snapshot signatures through the command line:
# pop53-zonec keygen / compile --sign / sign / verify, keys made by the
# openssl CLI accepted too, the signature checked independently with
# openssl pkeyutl against the documented message, and every kind of bad
# input refused with a precise message and nothing written.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
zonec=$(realpath -m "${POP53_ZONEC:-$build/tools/pop53-zonec}")   # the test cds
zone="$root/zones/examples/example.com.zone"
tmp=$(mktemp -d /tmp/p53-sign.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

if ! command -v openssl >/dev/null; then
	echo "SKIP zonec_sign: the openssl command is not installed"; exit 77
fi

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

# key id as the docs define it: SHA-256 of the raw 32-byte public key
# (the last 32 bytes of its DER SubjectPublicKeyInfo)
key_id() { openssl pkey -pubin -in "$1" -outform DER | tail -c 32 | sha256sum | cut -c1-16; }

# the signed message of a snapshot: the domain string, a NUL, header.sha256
# (bytes 104..135 of the header); the signature is the trailer's last 64 bytes
openssl_verify() {
	local snap=$1 pub=$2
	{ printf 'pop53 snapshot v1\0'; dd if="$snap" bs=1 skip=104 count=32 status=none; } > "$tmp/msg"
	tail -c 64 "$snap" > "$tmp/sig"
	openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$tmp/msg" -sigfile "$tmp/sig" >/dev/null 2>&1
}

cd "$tmp" || exit 1

# ---- keygen
expect 0 "key id +[0-9a-f]{64}" "$zonec" keygen c.key c.pub
[ "$(stat -c %a c.key)" = 600 ] && ok "private key mode 0600" || bad "private key mode $(stat -c %a c.key)"
grep -q "BEGIN PRIVATE KEY" c.key && grep -q "BEGIN PUBLIC KEY" c.pub && ok "PEM files" || bad "not PEM"
openssl pkey -in c.key -noout 2>/dev/null && ok "openssl reads our private key" || bad "openssl cannot read c.key"
cp c.key c.key.orig
expect 1 "c.key: error: exists already" "$zonec" keygen c.key other.pub
cmp -s c.key c.key.orig && [ ! -e other.pub ] && ok "keygen refusal changed nothing" || bad "keygen overwrote or created"
expect 2 "usage" "$zonec" keygen only-one.key

# ---- compile --sign, verify, and the same check by openssl itself
expect 0 "" "$zonec" compile -q --serial 7 --sign c.key -o s.snap "$zone"
expect 0 "s.snap: serial 7, signature good \(key $(key_id c.pub)\)" "$zonec" verify --key c.pub s.snap
openssl_verify s.snap c.pub && ok "openssl pkeyutl verifies the signature" || bad "openssl pkeyutl rejects the signature"
expect 0 "status: NOERROR" "$zonec" lookup s.snap www.example.com A

# ---- keys made by the openssl CLI
openssl genpkey -algorithm ed25519 -out o.key 2>/dev/null && openssl pkey -in o.key -pubout -out o.pub 2>/dev/null \
	|| { bad "openssl genpkey"; }
expect 0 "" "$zonec" compile -q --serial 8 -o u.snap "$zone"
expect 1 "u.snap: error: snapshot is not signed" "$zonec" verify --key c.pub u.snap
expect 0 "signed with key $(key_id o.pub)" "$zonec" sign --key o.key -o o.snap u.snap
expect 0 "serial 8, signature good \(key $(key_id o.pub)\)" "$zonec" verify --key c.pub --key o.pub o.snap
openssl_verify o.snap o.pub && ok "openssl verifies a signature by an openssl key" || bad "openssl rejects o.snap"
expect 1 "signed by unknown key $(key_id o.pub)" "$zonec" verify --key c.pub o.snap
# in place, and re-signing replaces the trailer (same size)
cp u.snap inplace.snap
expect 0 "" "$zonec" sign -q --key c.key inplace.snap
expect 0 "signature good \(key $(key_id c.pub)\)" "$zonec" verify --key c.pub inplace.snap
size1=$(stat -c %s inplace.snap)
expect 0 "" "$zonec" sign -q --key o.key inplace.snap
[ "$(stat -c %s inplace.snap)" = "$size1" ] && [ "$size1" = $(( $(stat -c %s u.snap) + 112 )) ] \
	&& ok "one 112-byte trailer after re-signing" || bad "trailer size $(stat -c %s inplace.snap) vs $size1"
expect 0 "signature good \(key $(key_id o.pub)\)" "$zonec" verify --key o.pub inplace.snap

# ---- tampering
# flip FILE OFFSET: invert one byte (writing a constant would be no change
# when the byte already held it: signatures are random)
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\x$(printf %02x $((b ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp s.snap t1.snap
flip t1.snap $(( $(stat -c %s t1.snap) - 5 ))
expect 1 "signature does not verify \(key $(key_id c.pub)\)" "$zonec" verify --key c.pub t1.snap
cp s.snap t2.snap
flip t2.snap 300
expect 1 "content hash mismatch" "$zonec" verify --key c.pub t2.snap
expect 1 "content hash mismatch" "$zonec" sign --key c.key -o t2-signed.snap t2.snap
[ ! -e t2-signed.snap ] && ok "nothing written for a damaged snapshot" || bad "signed a damaged snapshot"
head -c 1000 s.snap > t3.snap
expect 1 "truncated" "$zonec" verify --key c.pub t3.snap

# ---- bad keys
expect 1 "c.pub: error: is a public key" "$zonec" sign --key c.pub -o x.snap u.snap
expect 2 "c.key: error: is a private key" "$zonec" verify --key c.key s.snap
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out r.key 2>/dev/null
expect 1 "r.key: error: is a RSA key, not Ed25519" "$zonec" sign --key r.key -o x.snap u.snap
expect 1 "nope.key: error: cannot open" "$zonec" sign --key nope.key -o x.snap u.snap
expect 2 "no signed snapshot written to x.snap: r.key: is a RSA key" "$zonec" compile -q --sign r.key -o x.snap "$zone"
[ ! -e x.snap ] && ok "no output from a failed sign or compile --sign" || bad "x.snap written"
expect 2 "the same key as" "$zonec" verify --key c.pub --key c.pub s.snap
expect 2 "usage" "$zonec" sign u.snap
[ -z "$(ls -A | grep -E '\.tmp')" ] && ok "no temporary files left" || bad "temporary files: $(ls -A)"

if [ $fail = 0 ]; then echo "PASS zonec_sign"; else echo "FAIL zonec_sign"; exit 1; fi
