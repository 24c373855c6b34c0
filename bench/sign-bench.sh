#!/usr/bin/env bash
# bench/sign-bench.sh — DNSSEC signing time, pop53-zonec against BIND's
# dnssec-signzone, on one generated zone (bench/gen-zone.py --mix: A, AAAA,
# MX, TXT, CNAME, wildcards, delegations with glue, empty non-terminals).
#
# Both sign the same zone file with the same algorithm and key layout (a KSK
# and a ZSK), NSEC and NSEC3 (RFC 9276: no salt, 0 iterations), validity 14
# days from an inception an hour ago, expiration jitter 1 day, 2 threads:
#   pop53:  pop53-zonec dnssec-sign --threads 2
#   bind:   dnssec-signzone -S -n 2 -P (no post-signing verification,
#           which pop53 does not do either)
# It also prints the sizes: zone file and snapshot (pop53-zonec compile),
# unsigned and signed. Each time is the median of --runs runs (wall clock).
# Goal (issue 9): pop53 faster than dnssec-signzone.
#
# Usage: bench/sign-bench.sh [--records N] [-r RUNS] [--algorithm 13|15]
#                            [--no-setup] [--no-peers] [--verify] [--keep]
#   --records N   records in the generated zone (default 1000000; about
#                 0.71 names per record)
#   -r RUNS       runs per measure (default 1)
#   --algorithm   13 (ECDSAP256SHA256, default) or 15 (ED25519)
#   --no-setup    do not run scripts/setup.sh (install + build) first
#   --no-peers    measure pop53 only
#   --verify      also run ldns-verify-zone on pop53's signed zones (slow)
#   --keep        keep the temporary directory (its path is printed)
# Environment: POP53_BUILD (build directory, default build)
#
# Everything goes to a temporary directory, never into the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=sign-bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

RECORDS_WANT=1000000
RUNS=1
ALG=13
SETUP=1
PEERS=1
VERIFY=0
KEEP=0
ORIGIN=bench.example.
while (($#)); do
	case $1 in
	--records) RECORDS_WANT=$2; shift ;;
	-r|--runs) RUNS=$2; shift ;;
	--algorithm) ALG=$2; shift ;;
	--no-setup) SETUP=0 ;;
	--no-peers) PEERS=0 ;;
	--verify) VERIFY=1 ;;
	--keep) KEEP=1 ;;
	-h|--help) usage "$0"; exit 0 ;;
	*) echo "sign-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $RECORDS_WANT =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "sign-bench: bad --records or -r" >&2; exit 2; }
case $ALG in 13) BIND_ALG=ECDSAP256SHA256 ;; 15) BIND_ALG=ED25519 ;;
*) echo "sign-bench: --algorithm 13 or 15" >&2; exit 2 ;; esac
BUILD=${POP53_BUILD:-build}
ZONEC=$ROOT/$BUILD/tools/pop53-zonec
[[ $BUILD == /* ]] && ZONEC=$BUILD/tools/pop53-zonec

TMP=
cleanup() { bench_rm_tmp "$TMP" "$KEEP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((SETUP)); then
	bash scripts/setup.sh >&2
fi
[[ -x $ZONEC ]] || die "$ZONEC is not built"
if ((PEERS)) && ! command -v dnssec-signzone >/dev/null; then
	log "dnssec-signzone (bind9-utils) is not installed: BIND figures are n/a"
	PEERS=0
fi

TMP=$(bench_tmp pop53-sign-bench)
ZONE=$TMP/${ORIGIN%.}.zone
NAMES=$(( RECORDS_WANT * 71 / 100 ))
((NAMES > 0)) || NAMES=1
log "generating $NAMES names (--mix) into $ZONE"
"$PY" bench/gen-zone.py -n "$NAMES" --mix --origin "$ORIGIN" -o "$ZONE" --stats "$TMP/zone.json"
RECORDS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/zone.json")
log "$RECORDS records; load average $(loadavg)"

# time_ms CMD...: run CMD RUNS times (output to $TMP/last.log); print the
# median wall time in ms, or n/a when a run failed
time_ms() {
	local times=() t0 t1
	for _ in $(seq "$RUNS"); do
		t0=$(now_ns)
		if ! "$@" >"$TMP/last.log" 2>&1; then
			log "failed: $*"; tail -n 5 "$TMP/last.log" >&2
			echo n/a; return
		fi
		t1=$(now_ns)
		times+=("$(( (t1 - t0) / 1000000 ))")
		log "$(basename "$1") run: ${times[-1]} ms"
	done
	printf '%s\n' "${times[@]}" | median
}
size_of() { [[ -f $1 ]] && stat -c %s "$1" || echo n/a; }

# ---- pop53 -------------------------------------------------------------------
mkdir -p "$TMP/pk"
"$ZONEC" dnssec-keygen -q --ksk --algorithm "$ALG" --dir "$TMP/pk" "$ORIGIN" >/dev/null
"$ZONEC" dnssec-keygen -q --zsk --algorithm "$ALG" --dir "$TMP/pk" "$ORIGIN" >/dev/null
PKEYS=()
for f in "$TMP"/pk/*.pem; do PKEYS+=(--key "$f"); done
P_NSEC=$(time_ms "$ZONEC" dnssec-sign -q --threads 2 "${PKEYS[@]}" -o "$TMP/p-nsec.zone" "$ZONE")
P_NSEC3=$(time_ms "$ZONEC" dnssec-sign -q --threads 2 --nsec3 "${PKEYS[@]}" -o "$TMP/p-nsec3.zone" "$ZONE")
P_NSEC_1T=$(RUNS=1 time_ms "$ZONEC" dnssec-sign -q --threads 1 "${PKEYS[@]}" -o "$TMP/p-1t.zone" "$ZONE")
rm -f "$TMP/p-1t.zone"
SIGS=$(grep -c "	RRSIG	" "$TMP/p-nsec.zone" || true)
"$ZONEC" compile -q -o "$TMP/unsigned.snap" "$ZONE"
"$ZONEC" compile -q -o "$TMP/signed.snap" "$TMP/p-nsec.zone"
"$ZONEC" compile -q -o "$TMP/signed3.snap" "$TMP/p-nsec3.zone"
if ((VERIFY)); then
	for f in p-nsec p-nsec3; do
		if ldns-verify-zone "$TMP/$f.zone" >/dev/null 2>&1; then log "ldns-verify-zone accepts $f"
		else log "ldns-verify-zone REJECTS $f"; fi
	done
fi

# ---- BIND ----------------------------------------------------------------------
B_NSEC=n/a B_NSEC3=n/a
if ((PEERS)); then
	mkdir -p "$TMP/bk"
	dnssec-keygen -q -K "$TMP/bk" -a "$BIND_ALG" -f KSK "$ORIGIN" >/dev/null
	dnssec-keygen -q -K "$TMP/bk" -a "$BIND_ALG" "$ORIGIN" >/dev/null
	BIND=(dnssec-signzone -q -S -K "$TMP/bk" -d "$TMP" -P -n 2 -o "$ORIGIN"
	      -s now-3600 -e now+1209600 -j 86400)
	B_NSEC=$(time_ms "${BIND[@]}" -f "$TMP/b-nsec.zone" "$ZONE")
	B_NSEC3=$(time_ms "${BIND[@]}" -3 - -H 0 -f "$TMP/b-nsec3.zone" "$ZONE")
fi

# ---- report -----------------------------------------------------------------------
secs() { awk -v v="$1" 'BEGIN { if (v == "n/a") print "n/a"; else printf "%.2f s\n", v / 1000 }'; }
echo
echo "DNSSEC signing, $RECORDS records ($NAMES names + mix), algorithm $ALG, KSK + ZSK,"
echo "2 threads, median of $RUNS run(s); load average at the end $(loadavg)"
ROW_FMT='%-34s | %-14s | %-16s | %s\n'
row "what" "pop53-zonec" "dnssec-signzone" "bind / pop53"
row "sign, NSEC (wall)" "$(secs "$P_NSEC")" "$(secs "$B_NSEC")" "$(ratio "$B_NSEC" "$P_NSEC")"
row "sign, NSEC3 0 iterations (wall)" "$(secs "$P_NSEC3")" "$(secs "$B_NSEC3")" "$(ratio "$B_NSEC3" "$P_NSEC3")"
row "sign, NSEC, 1 thread (wall)" "$(secs "$P_NSEC_1T")" "" "2 threads: $(ratio "$P_NSEC_1T" "$P_NSEC") x"
row "signed zone file, NSEC (bytes)" "$(size_of "$TMP/p-nsec.zone")" "$(size_of "$TMP/b-nsec.zone")" ""
echo
ROW_FMT='%-34s | %-14s | %-14s | %s\n'
row "size" "unsigned" "signed NSEC" "signed NSEC3"
row "zone file (bytes)" "$(size_of "$ZONE")" "$(size_of "$TMP/p-nsec.zone")" "$(size_of "$TMP/p-nsec3.zone")"
row "snapshot (bytes)" "$(size_of "$TMP/unsigned.snap")" "$(size_of "$TMP/signed.snap")" "$(size_of "$TMP/signed3.snap")"
row "snapshot signed / unsigned" "1.00" "$(ratio "$(size_of "$TMP/signed.snap")" "$(size_of "$TMP/unsigned.snap")")" \
	"$(ratio "$(size_of "$TMP/signed3.snap")" "$(size_of "$TMP/unsigned.snap")")"
echo "RRSIGs in the NSEC zone: $SIGS"
