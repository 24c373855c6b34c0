#!/usr/bin/env bash
# pop53d started from a configuration file answers with kdig; a broken
# file is refused with its line-numbered message and exit status 2; a flag
# overrides the file. Loopback only; everything started is stopped.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
pop53d="$build/controlplane/pop53d"
tmp=$(mktemp -d /tmp/p53-config.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

command -v kdig >/dev/null || { echo "FAIL config: kdig not installed (knot-dnsutils)"; exit 1; }

# Two free-looking UDP+TCP ports in a high range, different per run.
base=$((42000 + RANDOM % 8000))
port1=$base port2=$((base + 1))

mkdir -p "$tmp/etc" "$tmp/zones" "$tmp/state"
cp "$root/zones/examples/example.com.zone" "$root/zones/examples/example.com.hosts" "$tmp/zones/"
cat >"$tmp/etc/pop53d.yaml" <<EOF
# relative paths are the file's directory's
server:
  io: kernel
  listen: [ "127.0.0.1@$port1" ]
  udp_threads: 1
  identity: from-file
  nsid: pop-test
zones:
  - ../zones/example.com.zone
state_dir: ../state
health:
  max_snapshot_age: 0
EOF

# start NAME ARGS...: pop53d in the background, log in $tmp/NAME.log; waits
# (at most 10 s) for "ready". Returns non-zero if it exited or never got ready.
start() {
	local name=$1; shift
	"$pop53d" "$@" >"$tmp/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		grep -q "pop53d: ready" "$tmp/$name.log" && { eval "pid_$name=$pid"; return 0; }
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# q PORT ARGS...: kdig's short answer, one try, 2 s at most
q() { local port=$1; shift; kdig @127.0.0.1 -p "$port" +short +retry=0 +timeout=2 "$@" 2>/dev/null; }

# 1. Served from the file.
if start file --config "$tmp/etc/pop53d.yaml"; then
	a=$(q "$port1" www.example.com A)
	[ "$a" = "192.0.2.10" ] && ok "A from the file's zone" || bad "www.example.com A: '$a'"
	a=$(q "$port1" +tcp www.example.com A)
	[ "$a" = "192.0.2.10" ] && ok "same over TCP" || bad "TCP www.example.com A: '$a'"
	a=$(q "$port1" CH TXT id.server)
	[ "$a" = '"from-file"' ] && ok "identity from the file" || bad "id.server: '$a'"
	kill "$pid_file"; wait "$pid_file" 2>/dev/null
else
	bad "pop53d --config did not start: $(tail -n 3 "$tmp/file.log")"
fi

# 2. Flags override the file: another port, another identity.
if start flags --config "$tmp/etc/pop53d.yaml" --listen "127.0.0.1@$port2" --identity from-flag; then
	a=$(q "$port2" CH TXT id.server)
	[ "$a" = '"from-flag"' ] && ok "--identity overrides the file" || bad "id.server with the flag: '$a'"
	a=$(q "$port2" www.example.com A)
	[ "$a" = "192.0.2.10" ] && ok "--listen overrides the file" || bad "www.example.com A on $port2: '$a'"
	a=$(q "$port1" www.example.com A)
	[ -z "$a" ] && ok "the file's listen address is replaced, not added" ||
		bad "the file's port $port1 still answers: '$a'"
	kill "$pid_flags"; wait "$pid_flags" 2>/dev/null
else
	bad "pop53d --config + flags did not start: $(tail -n 3 "$tmp/flags.log")"
fi

# expect_refused NAME PATTERN: pop53d --config $tmp/etc/NAME.yaml exits 2
# (at once, nothing served) with a stderr line matching PATTERN.
expect_refused() {
	local name=$1 pattern=$2 out status
	out=$(timeout 10 "$pop53d" --config "$tmp/etc/$name.yaml" 2>&1 >/dev/null); status=$?
	if [ "$status" = 2 ] && grep -qF -- "$pattern" <<<"$out"; then
		ok "$name refused: $pattern"
	else
		bad "$name: status $status (want 2), stderr: $out"
	fi
}

# 3. Broken files: refused with the position of what is wrong.
sed 's/udp_threads: 1/udp_threads: many/' "$tmp/etc/pop53d.yaml" >"$tmp/etc/bad-int.yaml"
expect_refused bad-int "$tmp/etc/bad-int.yaml:5:16: error: 'udp_threads' must be an integer 1..256, got \"many\""
sed 's/  identity:/  identiy:/' "$tmp/etc/pop53d.yaml" >"$tmp/etc/bad-key.yaml"
expect_refused bad-key "$tmp/etc/bad-key.yaml:6:3: error: unknown key 'identiy' in 'server'"
printf 'rrl:\n  responses_per_second: 5\n  slip: 20\n' | cat "$tmp/etc/pop53d.yaml" - >"$tmp/etc/bad-rrl.yaml"
expect_refused bad-rrl "bad-rrl.yaml:15:9: error: 'slip' must be an integer 0..10, got \"20\""
sed 's|../zones/example.com.zone|../zones/missing.zone|' "$tmp/etc/pop53d.yaml" >"$tmp/etc/bad-file.yaml"
expect_refused bad-file "bad-file.yaml:9:5: error: item 1 of 'zones': cannot read $tmp/etc/../zones/missing.zone: No such file or directory"
sed 's|state_dir: ../state|state_dir: ../nostate|' "$tmp/etc/pop53d.yaml" >"$tmp/etc/bad-dir.yaml"
expect_refused bad-dir "bad-dir.yaml:10:12: error: 'state_dir': directory $tmp/etc/../nostate does not exist"
printf 'server:\n  listen: [ "127.0.0.1@%s" ]\n   udp_threads: 1\n' "$port1" >"$tmp/etc/bad-yaml.yaml"
expect_refused bad-yaml "bad-yaml.yaml:3:4: error: YAML syntax: did not find expected key (while parsing a block mapping at 2:3)"
printf 'server:\n  listen: [ "127.0.0.1@%s" ]\nzones: [ ../zones/example.com.zone ]\npush:\n  listen: "127.0.0.1@%s"\n' \
	"$port1" "$port2" >"$tmp/etc/bad-push.yaml"
expect_refused bad-push "bad-push.yaml:5:11: error: 'listen': the push API needs push.tls.cert (--tls-cert)"
out=$(timeout 10 "$pop53d" --config "$tmp/etc/none.yaml" 2>&1 >/dev/null); status=$?
[ "$status" = 2 ] && grep -qF "none.yaml: error: cannot read: No such file or directory" <<<"$out" &&
	ok "a missing configuration file is refused" || bad "missing file: status $status: $out"

# 4. A flag can repair what the file gets wrong on this machine.
if start repaired --config "$tmp/etc/bad-dir.yaml" --state-dir "$tmp/state"; then
	ok "--state-dir overrides a state_dir that does not exist here"
	kill "$pid_repaired"; wait "$pid_repaired" 2>/dev/null
else
	bad "--state-dir over bad-dir.yaml: $(tail -n 3 "$tmp/repaired.log")"
fi

# 5. The bundled example loads (its addresses are not ours: only checked
# as far as binding, with --listen replacing them).
if start example --config "$root/zones/examples/pop53d.yaml" --listen "127.0.0.1@$port2" \
	--metrics-listen "127.0.0.1@$((base + 2))" --control-socket "$tmp/ctl.sock"; then
	a=$(q "$port2" www.example.com A)
	[ "$a" = "192.0.2.10" ] && ok "the bundled example serves" || bad "example: '$a'"
	kill "$pid_example"; wait "$pid_example" 2>/dev/null
else
	bad "zones/examples/pop53d.yaml did not start: $(tail -n 3 "$tmp/example.log")"
fi

# 6. pop53ctl reload-config: what can change while serving does; a change
# to what was bound at start, or a file that no longer loads, is refused
# and changes nothing.
pop53ctl="$build/tools/pop53ctl"
cp "$tmp/etc/pop53d.yaml" "$tmp/etc/live.yaml"
printf 'control:\n  socket: %s\n' "$tmp/live.sock" >>"$tmp/etc/live.yaml"
if start live --config "$tmp/etc/live.yaml"; then
	sed -i 's/max_snapshot_age: 0/max_snapshot_age: 1/' "$tmp/etc/live.yaml"
	out=$("$pop53ctl" -s "$tmp/live.sock" reload-config 2>&1); st=$?
	[ "$st" = 0 ] && grep -q "maximum snapshot age 1 s" "$tmp/live.log" &&
		ok "reload-config applies a new maximum snapshot age" ||
		bad "reload-config: status $st: $out; log: $(tail -n 2 "$tmp/live.log")"
	sed -i "s/127.0.0.1@$port1/127.0.0.1@$port2/" "$tmp/etc/live.yaml"
	out=$("$pop53ctl" -s "$tmp/live.sock" reload-config 2>&1); st=$?
	[ "$st" = 1 ] && grep -q "server.listen changed: restart pop53d" <<<"$out" &&
		ok "reload-config refuses a new listen address" || bad "listen change: status $st: $out"
	a=$(q "$port1" www.example.com A)
	[ "$a" = "192.0.2.10" ] && ok "still serving on the old address" || bad "after refusal: '$a'"
	echo "  bad: [" >>"$tmp/etc/live.yaml"
	out=$("$pop53ctl" -s "$tmp/live.sock" reload-config 2>&1); st=$?
	[ "$st" = 1 ] && grep -q "live.yaml:" <<<"$out" &&
		ok "reload-config refuses a broken file with its position" || bad "broken file: status $st: $out"
	kill "$pid_live"; wait "$pid_live" 2>/dev/null
else
	bad "pop53d for reload-config did not start: $(tail -n 3 "$tmp/live.log")"
fi

if [ $fail = 0 ]; then echo "PASS config"; else echo "FAIL config"; exit 1; fi
