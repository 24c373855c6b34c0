#!/usr/bin/env bash
# Bad input from a command line or a zone file gets a precise error and a
# distinct exit status, never a crash and never a partial output file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
zonec="$build/tools/pop53-zonec"
pop53d="$build/controlplane/pop53d"
tmp=$(mktemp -d /tmp/p53-cli.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fail=0

# expect STATUS PATTERN CMD...: exit status and a stderr line matching PATTERN
expect() {
	local want=$1 pattern=$2; shift 2
	local out status
	out=$("$@" 2>&1 >/dev/null); status=$?
	if [ "$status" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
		echo "ok   $*"
	else
		echo "FAIL $* (status $status, want $want; stderr: $out)"; fail=1
	fi
}

printf '$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.300\n' > "$tmp/bad.zone"
printf '$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 300\n@ NS ns\nx CNAME ns\nx A 192.0.2.9\nns A 192.0.2.1\n' > "$tmp/invalid.zone"
expect 1 "bad.zone:6:7: error: .*IPv4" "$zonec" check "$tmp/bad.zone"
expect 1 "invalid.zone:5: error: CNAME at 'x.t.' beside other data" "$zonec" check "$tmp/invalid.zone"
expect 1 "no snapshot written" "$zonec" compile -o "$tmp/out.snap" "$tmp/bad.zone"
[ ! -e "$tmp/out.snap" ] && echo "ok   no snapshot left behind" || { echo "FAIL partial snapshot written"; fail=1; }
expect 1 "cannot read zone file" "$zonec" check "$tmp/missing.zone"
expect 2 "usage" "$zonec" frobnicate
expect 2 "--serial wants a number" "$zonec" compile --serial x1 -o "$tmp/o.snap" "$tmp/bad.zone"
head -c 100 /dev/urandom > "$tmp/junk.snap"
expect 1 "junk.snap" "$zonec" dump "$tmp/junk.snap"
expect 2 "--listen wants ADDR" "$pop53d" --listen 999.1.1.1@53 --zone "$tmp/bad.zone"
expect 2 "--listen wants ADDR" "$pop53d" --listen 127.0.0.1@99999 --zone "$tmp/bad.zone"
expect 2 "need at least one --listen" "$pop53d" --zone "$tmp/bad.zone"
expect 1 "nothing to serve: .*bad.zone:6:7" "$pop53d" --listen 127.0.0.1@5 --zone "$tmp/bad.zone"
expect 1 "nothing to serve: .*junk.snap" "$pop53d" --listen 127.0.0.1@5 --snapshot "$tmp/junk.snap"
# a port already taken is named in the error
port=$((40000 + RANDOM % 10000))
"$pop53d" --listen "127.0.0.1@$port" --zone "$root/zones/examples/example.com.zone" --udp-threads 1 2>/dev/null &
pids+=($!)
sleep 0.5
expect 1 "cannot (bind|listen on) (UDP|TCP) 127.0.0.1@$port" \
	"$pop53d" --listen "127.0.0.1@$port" --zone "$root/zones/examples/example.com.zone" --udp-threads 1

if [ $fail = 0 ]; then echo "PASS cli_errors"; else echo "FAIL cli_errors"; exit 1; fi
