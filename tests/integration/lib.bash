# tests/integration/lib.bash — helpers shared by the integration tests.
# Sourced, not run (scripts/test.sh runs only executable *.sh files).

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
