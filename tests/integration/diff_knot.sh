#!/usr/bin/env bash
# Differential check: pop53 (kernel UDP) and Knot DNS serve the same zones on
# loopback; dnsdiff.py sends a generated corpus to both and compares.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.bash
. "$here/lib.bash"
tmp=$(mktemp -d /tmp/p53-diff.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

zones=("$here/zones/diff.test.zone" "$root/zones/examples/example.com.zone"
	"$here/zones/signed.test.zone" "$here/zones/nsec3.test.zone"
	"$here/zones/optout.test.zone")
# The real, signed root zone (delegations, glue, DS, NSEC, RRSIG as data).
if [ -f "$root/../shared/zones/root.zone" ]; then
	zones+=("$root/../shared/zones/root.zone")
else
	echo "FAIL diff_knot: ../shared/zones/root.zone is missing (shared/ must sit beside the repository)"
	exit 1
fi
port_ref=$((20000 + RANDOM % 10000))
port_ours=$((port_ref + 1))

# Knot 3.2 has no $GENERATE: it loads our dump of each zone (plain records,
# absolute names), which also checks that the dump is a faithful zone file.
mkdir -p "$tmp/knot" "$tmp/ref"
ref_zones=()
for z in "${zones[@]}"; do
	out="$tmp/ref/$(basename "$z")"
	"$build/tools/pop53-zonec" compile -q -o "$tmp/ref/z.snap" "$z"
	"$build/tools/pop53-zonec" dump "$tmp/ref/z.snap" > "$out"
	ref_zones+=("$out")
done
{
	echo "server:"
	echo "    rundir: \"$tmp/knot\""
	echo "    listen: 127.0.0.1@$port_ref"
	echo "database:"
	echo "    storage: \"$tmp/knot\""
	echo "template:"
	echo "  - id: default"
	echo "    storage: \"$tmp/knot\""
	echo "    zonefile-sync: -1"
	echo "    journal-content: none"
	echo "zone:"
	for z in "${ref_zones[@]}"; do
		echo "  - domain: $(awk '$4 == "SOA" {print $1; exit}' "$z")"
		echo "    file: \"$z\""
	done
} > "$tmp/knot.conf"
knotd -c "$tmp/knot.conf" > "$tmp/knot.log" 2>&1 &
pids+=($!)
"$build/controlplane/pop53d" --listen "127.0.0.1@$port_ours" --udp-threads 1 \
	$(printf -- '--zone %s ' "${zones[@]}") > "$tmp/pop53d.log" 2>&1 &
pids+=($!)

# Wait (bounded) until both answer.
if ! itest_wait_soa diff.test "$port_ref" "$port_ours"; then
	echo "knotd or pop53d did not start:"; cat "$tmp/knot.log" "$tmp/pop53d.log"
	echo "FAIL diff_knot"; exit 1
fi

if /usr/bin/python3 "$here/dnsdiff.py" --ours "127.0.0.1:$port_ours" \
	--ref "127.0.0.1:$port_ref" "${ref_zones[@]}"; then
	echo "PASS diff_knot"
else
	echo "FAIL diff_knot"; exit 1
fi
