# tests/integration/lib.bash — helpers shared by the integration tests.
# Sourced, not run (scripts/test.sh runs only executable *.sh files).

# The paths every test uses; BUILD_DIR (set by scripts/test.sh) names
# the build directory, else build/ at the repository root.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
pop53d=$build/controlplane/pop53d
pop53ctl=$build/tools/pop53ctl
zonec=$build/tools/pop53-zonec

# itest_stop PID: SIGTERM, up to 5 s for it to go, then SIGKILL; reaps it
# when it is this shell's child. Nothing happens for an empty or dead PID.
itest_stop() {
	local p=${1:-}
	[[ -n $p ]] && kill -0 "$p" 2>/dev/null || return 0
	# each step may find the process gone already: never a failure under set -e
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	return 0
}

# itest_wait_soa NAME PORT...: wait (at most about 10 s) until the server on
# 127.0.0.1 at every PORT answers NAME's SOA; 1 if one never did.
itest_wait_soa() {
	local name=$1 p ok
	shift
	for _ in $(seq 100); do
		ok=1
		for p in "$@"; do
			[[ -n $(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$p" "$name" SOA 2>/dev/null) ]] ||
				{ ok=0; break; }
		done
		((ok)) && return 0
		sleep 0.1
	done
	return 1
}

# itest_up PID PORT NAME: within 10 s, the server on 127.0.0.1 PORT answers
# NAME SOA (any RCODE) and PID lives; 1 otherwise. Unlike itest_wait_soa, a
# server that died at start does not cost the whole wait.
itest_up() {
	local deadline=$((SECONDS + 10)) out
	while ((SECONDS < deadline)); do
		kill -0 "$1" 2>/dev/null || return 1
		out=$(kdig +time=1 +retry=0 @127.0.0.1 -p "$2" "$3" SOA 2>/dev/null || true)
		[[ $out == *"status: "* ]] && return 0
		sleep 0.1
	done
	return 1
}

# itest_unbound DIR PORT ANCHOR EXTRA ZONE@AUTHPORT...: an Unbound on
# 127.0.0.1 PORT validating with the DS (or DNSKEY) records of the file
# ANCHOR as its only trust anchor, reaching each ZONE only through its stub
# at 127.0.0.1 AUTHPORT (nothing else is asked of the internet). EXTRA:
# more "server:" lines, each indented by four spaces (or ""). Its files
# (conf, log, pid) are DIR/unbound-PORT.*; ITEST_PID gets its PID (the
# caller stops it). 1, with its output printed, if it did not answer the
# first ZONE's SOA within 10 s.
itest_unbound() {
	local dir=$1 port=$2 anchor=$3 extra=$4 conf stub
	shift 4
	conf="$dir/unbound-$port.conf"
	{
		printf 'server:\n'
		printf '    %s\n' "interface: 127.0.0.1" "port: $port" "do-ip6: no" \
			"num-threads: 1" "so-reuseport: no" 'username: ""' 'chroot: ""' \
			"directory: \"$dir\"" "pidfile: \"$dir/unbound-$port.pid\"" \
			"logfile: \"$dir/unbound-$port.log\"" "use-syslog: no" "verbosity: 1" \
			"log-servfail: yes" "val-log-level: 2" \
			'module-config: "validator iterator"' "do-not-query-localhost: no" \
			'target-fetch-policy: "0 0 0 0 0"' "qname-minimisation: yes" \
			"access-control: 127.0.0.0/8 allow" "trust-anchor-file: \"$anchor\""
		[[ -z $extra ]] || printf '%s\n' "$extra"
		for stub in "$@"; do
			printf 'stub-zone:\n    name: "%s"\n    stub-addr: 127.0.0.1@%s\n' \
				"${stub%@*}" "${stub##*@}"
		done
		printf 'remote-control:\n    control-enable: no\n'
	} > "$conf"
	unbound -d -c "$conf" > "$dir/unbound-$port.out" 2>&1 &
	ITEST_PID=$!
	itest_up "$ITEST_PID" "$port" "${1%@*}" && return 0
	cat "$dir/unbound-$port.out" "$dir/unbound-$port.log" 2>/dev/null || true
	return 1
}

# itest_status KDIG-OUTPUT: "RCODE|ad" or "RCODE|noad" ("TIMEOUT|noad" when
# kdig printed no status).
itest_status() {
	local rcode ad
	rcode=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$1" | head -1)
	ad=$(grep -Eq '^;; Flags:[^;]* ad' <<<"$1" && echo ad || echo noad)
	echo "${rcode:-TIMEOUT}|$ad"
}
