#!/usr/bin/env bash
# scripts/demo.sh — pop53's main job on its embedded default.
#
# For now: install what is missing and build (scripts/setup.sh), then take
# the bundled example zone (zones/examples/example.com.zone) through
# pop53-zonec: check it, compile it into a snapshot, and answer a few
# queries from the snapshot. Later issues grow this into the full
# virtual-PoP demo.
#
# Usage: sudo scripts/demo.sh [ZONEFILE]
#   ZONEFILE  another zone to check and compile (the lookups are for
#             example.com and are skipped for another zone)
# Environment: CC (compiler for the build, see scripts/setup.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ZONE=${1:-zones/examples/example.com.zone}
ZONEC=build/tools/pop53-zonec

step() { printf '\n==== %s ====\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

step "1. set up and build (scripts/setup.sh)"
bash scripts/setup.sh

if [[ ! -x $ZONEC ]]; then
	echo "error: $ZONEC was not built" >&2
	exit 1
fi
[[ -r $ZONE ]] || { echo "error: cannot read $ZONE" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pop53-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
SNAP=$TMP/$(basename "$ZONE" .zone).snap

step "2. check the zone: errors stop the compile, warnings are lint findings"
show "pop53-zonec check $ZONE"
if ! "$ZONEC" check "$ZONE"; then
	echo "demo: $ZONE has errors (see above)" >&2
	exit 1
fi
echo "-> no errors"

step "3. compile it into a snapshot"
show "pop53-zonec compile -o $SNAP $ZONE"
t0=$(now_ms)
"$ZONEC" compile -o "$SNAP" "$ZONE"
t1=$(now_ms)
printf -- '-> %s: %d bytes, compiled in %d ms\n' "$(basename "$SNAP")" "$(stat -c %s "$SNAP")" $((t1 - t0))

step "4. what the snapshot holds (first lines of the dump)"
show "pop53-zonec dump $SNAP | head -n 15"
"$ZONEC" dump "$SNAP" >"$TMP/dump.txt"
head -n 15 "$TMP/dump.txt"
printf -- '-> %d records in the dump\n' "$(grep -cvE '^[[:space:]]*(;|$)' "$TMP/dump.txt" || true)"

if [[ $ZONE != zones/examples/example.com.zone ]]; then
	step "done (lookups are only scripted for the bundled example.com zone)"
	exit 0
fi

step "5. answer queries from the snapshot"
failures=0
lookup() {
	local what=$1 name=$2 type=$3 rc=0
	printf '\n-- %s: %s %s\n' "$what" "$name" "$type"
	show "pop53-zonec lookup $(basename "$SNAP") $name $type"
	"$ZONEC" lookup "$SNAP" "$name" "$type" || rc=$?
	# The exit status may encode the outcome (NXDOMAIN, ...); only a usage
	# or I/O error (2) or a crash counts as a failure of the demo.
	if ((rc == 2 || rc >= 126)); then
		echo "demo: lookup failed (exit $rc)" >&2
		failures=$((failures + 1))
	fi
}
lookup "a hit (A RRset)"                        www.example.com         A
lookup "a hit (MX RRset at the apex)"           example.com             MX
lookup "a CNAME chain: shop -> store -> www"    shop.example.com        A
lookup "a name matched by the *.apps wildcard"  anything.apps.example.com AAAA
lookup "a name from \$GENERATE"                  host-7.example.com      A
lookup "below the delegation sub.example.com (referral with glue)" host.sub.example.com A
lookup "below the DNAME old.example.com"        www.old.example.com     A
lookup "a name that exists, type that does not (NODATA)" www.example.com MX
lookup "a name that does not exist (NXDOMAIN)"  nonexistent.example.com A

step "done"
if ((failures)); then
	echo "demo: $failures lookup(s) failed" >&2
	exit 1
fi
echo "checked, compiled and answered from $ZONE with pop53-zonec."
