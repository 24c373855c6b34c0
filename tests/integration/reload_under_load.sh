#!/usr/bin/env bash
# Snapshot swaps under load through pop53d itself: SIGHUP reloads the zone
# while a UDP flood (reload_load.py, bounded in time and rate) asks for
#   example.com SOA   (the serial) and
#   q.example.com TXT (q CNAME t<serial>, t<serial> TXT "<serial>": the two
#                      records must come from one snapshot)
# and the zone is rewritten with a new serial before each of SWAPS SIGHUPs
# (default 200, one every 0.05 s plus the time to check each: 20-40 s on
# 2 cores). Every 50th version is broken on purpose: that reload must fail,
# be logged with file:line, and change nothing served.
#
# Checks: every response is well-formed, NOERROR, with a serial that was
# loaded (none from a broken version), the CNAME and TXT agree (no mixture),
# no SERVFAIL; after the flood the last serial is served; pop53d counted
# SWAPS reloads (the broken ones failed, no snapshot leaked), never crashed,
# exits 0 on SIGTERM. Losses are reported and split by pop53d's own
# counters: lost before pop53d (socket buffer / veth / XDP ring: not a swap
# loss), lost inside pop53d (a query received and not answered: a swap loss,
# must be 0), lost after.
#
# Modes (argument, default "all"):
#   kernel  pop53d --io kernel in a network namespace, client on loopback;
#   dpdk    pop53d --io dpdk with net_af_xdp (xdp_dns.o) on a veth end in one
#           namespace, the client in another (dpdk_veth.sh's rig).
# Environment: SWAPS (200), INTERVAL (0.05 s), RATE (8000 queries/s),
# POP53_BUILD (build directory, e.g. build-asan).
#
# Exit: 0 PASS, 1 FAIL, 77 SKIP (only when the kernel lacks network
# namespaces / veth / AF_XDP for the modes asked). Everything is removed on
# every exit path.
set -uo pipefail
# shellcheck source=tests/integration/lib.bash
. "$(dirname "$0")/lib.bash"

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
pop53d=$build/controlplane/pop53d
xdp_o=$build/dataplane/xdp_dns.o
load=$here/reload_load.py
modes=${1:-all}
swaps=${SWAPS:-200}
interval=${INTERVAL:-0.05}
rate=${RATE:-8000}
base=1000

id=$$
n=$((RANDOM % 250 + 1))
nss=p53rs$id          # server namespace
nsc=p53rc$id          # client namespace (dpdk mode)
va=p53ra$id vb=p53rb$id
link4a=198.18.$n.1 link4b=198.18.$n.2
svc4=198.19.$n.53
tmp=$(mktemp -d /tmp/p53-reload.XXXXXX)
zone=$tmp/example.com.zone
pid=
nss_made=0 nsc_made=0

say() { printf '[reload_under_load] %s\n' "$*"; }

cleanup() {
	itest_stop "$pid"
	pid=
	[[ -n ${lpid:-} ]] && kill "$lpid" 2>/dev/null
	if ((nss_made)); then
		ip -n "$nss" link set dev "$va" xdp off 2>/dev/null
		ip netns del "$nss" 2>/dev/null
		nss_made=0
	fi
	if ((nsc_made)); then ip netns del "$nsc" 2>/dev/null; nsc_made=0; fi
	rm -rf "$tmp" "/var/run/dpdk/p53rl$id"   # the EAL's runtime directory
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	say "$*"
	if [[ -s $tmp/pop53d.log ]]; then
		say "pop53d log (last 30 lines):"
		tail -n 30 "$tmp/pop53d.log" | sed 's/^/    /'
	fi
	echo "FAIL reload_under_load: $*"
	exit 1
}
skip() { echo "SKIP reload_under_load: $*"; exit 77; }

[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces)"
[[ -x $pop53d ]] || fail "no $pop53d (build first)"
for t in ip kdig /usr/bin/python3; do
	command -v "$t" >/dev/null || fail "'$t' not found"
done
/usr/bin/python3 -c 'import select; select.epoll' 2>/dev/null || fail "python3 without epoll"

# write_zone SERIAL [broken]: atomically (rename), as a zone pusher would.
write_zone() {
	{
		printf '$ORIGIN example.com.\n$TTL 300\n'
		printf '@ IN SOA ns1 hostmaster %u 7200 900 1209600 300\n' "$1"
		printf '@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n'
		printf 'q CNAME t%u\nt%u TXT "%u"\n' "$1" "$1" "$1"
		if [[ ${2:-} == broken ]]; then printf 'broken IN A 192.0.2.300\n'; fi
	} >"$zone.tmp" && mv -f "$zone.tmp" "$zone"
}

start_pop53d() {  # start_pop53d NETNS ARGS...
	local ns=$1 i
	shift
	: >"$tmp/pop53d.log"
	ip netns exec "$ns" "$pop53d" "$@" --zone "$zone" >"$tmp/pop53d.log" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q "pop53d: ready" "$tmp/pop53d.log" && return 0
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; local rc=$?; pid=; fail "pop53d exited ($rc) before ready"; }
		sleep 0.1
	done
	fail "pop53d not ready after 20 s"
}

stop_pop53d() {
	local rc i
	kill -0 "$pid" 2>/dev/null || { wait "$pid"; rc=$?; pid=; fail "pop53d died during the test (status $rc)"; }
	kill -TERM "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "pop53d still running 10 s after SIGTERM"
	wait "$pid"
	rc=$?
	pid=
	((rc == 0)) || fail "pop53d exited $rc after SIGTERM (crash?)"
}

# wait_reload K: until the log says how reload K ended (2 s at most).
wait_reload() {
	local i
	for i in $(seq 400); do
		grep -qE "pop53d: reload $1(:| failed)" "$tmp/pop53d.log" && return 0
		kill -0 "$pid" 2>/dev/null || fail "pop53d died during reload $1"
		sleep 0.005
	done
	fail "reload $1 not logged within 2 s"
}

# run_mode NAME NETNS_CLIENT SERVER_ADDR POP53D_ARGS...
run_mode() {
	local mode=$1 nscl=$2 addr=$3 k serial kdigs=0 seconds loaded="$base" bad=""
	shift 3
	say "---- $mode: $swaps swaps every $interval s under $rate queries/s"
	write_zone "$base"
	start_pop53d "$nss" "$@"
	grep -E "pop53d: (port|serving)" "$tmp/pop53d.log" | sed 's/^/    /'
	serial=$(ip netns exec "$nscl" kdig +time=2 +retry=0 +short @"$addr" example.com SOA | awk '{print $3}')
	kdigs=$((kdigs + 1))
	[[ $serial == "$base" ]] || fail "$mode: serial before the flood: '$serial', not $base"

	# At most this long; stopped (SIGTERM) one second after the last swap.
	seconds=$(awk -v s="$swaps" -v i="$interval" 'BEGIN { printf "%.1f", s * i * 3 + 30 }')
	ip netns exec "$nscl" /usr/bin/python3 "$load" "$addr" 53 "$seconds" "$rate" example.com \
		>"$tmp/load.out" 2>"$tmp/load.err" &
	lpid=$!
	sleep 1
	for k in $(seq "$swaps"); do
		if ((k % 50 == 0)); then
			write_zone $((base + k)) broken
			kill -HUP "$pid"
			wait_reload "$k"
			grep -q "pop53d: reload $k failed (1 error, first: $zone:9:13: expected an IPv4 address)" "$tmp/pop53d.log" ||
				fail "$mode: broken version $k: reload not refused with file:line: $(grep "reload $k" "$tmp/pop53d.log")"
			serial=$(ip netns exec "$nscl" kdig +time=2 +retry=0 +short @"$addr" example.com SOA | awk '{print $3}')
			kdigs=$((kdigs + 1))
			[[ $serial == "$loaded" ]] ||
				fail "$mode: after the failed reload $k the serial is '$serial', not $loaded"
			bad="$bad $((base + k))"
		else
			write_zone $((base + k))
			kill -HUP "$pid"
			wait_reload "$k"
			grep -q "pop53d: reload $k: serving example.com. serial $((base + k)) " "$tmp/pop53d.log" ||
				fail "$mode: reload $k: $(grep "reload $k" "$tmp/pop53d.log")"
			loaded=$((base + k))
		fi
		sleep "$interval"
	done
	say "$mode: $swaps SIGHUPs sent; the flood ends in 1 s"
	sleep 1
	kill -0 "$lpid" 2>/dev/null || fail "$mode: the load generator ended before the last swap"
	kill -TERM "$lpid"
	wait "$lpid"
	local lrc=$?
	lpid=
	((lrc == 0)) || fail "$mode: the load generator failed ($lrc): $(cat "$tmp/load.err")"
	serial=$(ip netns exec "$nscl" kdig +time=2 +retry=0 +short @"$addr" example.com SOA | awk '{print $3}')
	kdigs=$((kdigs + 1))
	[[ $serial == "$loaded" ]] || fail "$mode: after the flood the serial is '$serial', not $loaded"
	ip netns exec "$nss" cat /proc/net/snmp >"$tmp/snmp" 2>/dev/null
	stop_pop53d

	# ---- the client's view
	local line seen
	line=$(head -n 1 "$tmp/load.out")
	seen=$(sed -n 2p "$tmp/load.out")
	say "$mode client: $line"
	declare -A c=()
	for kv in $line; do c[${kv%%=*}]=${kv#*=}; done
	for key in malformed mixture servfail rcode_other unexpected; do
		((${c[$key]:-1} == 0)) || fail "$mode: $key=${c[$key]:-?} responses"
	done
	((c[received] > 0)) || fail "$mode: no responses at all"
	for s in $seen; do
		if ((s < base || s > base + swaps)); then fail "$mode: serial $s was never written"; fi
		for b in $bad; do ((s != b)) || fail "$mode: serial $s of a broken version was served"; done
	done
	say "$mode: ${c[serials]} distinct serials seen (${c[serial_min]}..${c[serial_max]}), all loaded ones, none broken"

	# ---- pop53d's view
	grep -q "pop53d: $swaps reloads ($(((swaps) / 50)) failed, 0 snapshots leaked)" "$tmp/pop53d.log" ||
		fail "$mode: reload summary: $(grep "reloads (" "$tmp/pop53d.log")"
	local q r inside before after
	if [[ $mode == kernel ]]; then
		line=$(grep "pop53d: signal" "$tmp/pop53d.log")
		q=$(sed -n 's/.*stopping; \([0-9]*\) queries.*/\1/p' <<<"$line")
		r=$(sed -n 's/.* \([0-9]*\) responses.*/\1/p' <<<"$line")
	else
		line=$(grep "pop53d: dpdk:" "$tmp/pop53d.log")
		local drops engine txf
		r=$(sed -n 's/.* \([0-9]*\) sent,.*/\1/p' <<<"$line")
		q=$(sed -n 's/.* received, \([0-9]*\) answered.*/\1/p' <<<"$line")
		engine=$(sed -n 's/.* engine \([0-9]*\)).*/\1/p' <<<"$line")
		txf=$(sed -n 's/.* \([0-9]*\) tx failures.*/\1/p' <<<"$line")
		drops=$(sed -n 's/.* tx failures, \([0-9]*\) dropped.*/\1/p' <<<"$line")
		# Frames the lcore took in are answered or dropped by verdict
		# (ARP/ND reach the kernel via XDP_PASS, not the lcore).
		((engine == 0)) || fail "$mode: engine drops: $line"
		q=$((q + engine + txf))   # queries the lcore took in (answered or not)
	fi
	say "$mode pop53d: $line"
	inside=$((q - r))
	before=$((c[sent] + kdigs - q))
	after=$((r - c[received] - kdigs))
	say "$mode: client sent ${c[sent]} (+$kdigs kdig), received ${c[received]}; lost ${c[lost]}:" \
		"$before before pop53d (socket buffer, veth, ring), $inside inside pop53d (swap losses)," \
		"$after after"
	if [[ $mode == kernel ]]; then
		# The namespace is fresh: its UDP counters are this run's.
		say "$mode: kernel UDP counters in $nss: $(awk '/^Udp:/ { if (!h) { split($0, k); h = 1 } else { for (i = 2; i <= NF; i++) if (k[i] ~ /Errors/) printf "%s=%s ", k[i], $i } }' "$tmp/snmp")"
	fi
	((inside == 0)) || fail "$mode: $inside queries received by pop53d were not answered"
	say "ok: $mode"
}

ran=0
if [[ $modes == all || $modes == kernel ]]; then
	ip netns add "$nss" 2>"$tmp/err" || skip "no network namespaces: $(cat "$tmp/err")"
	nss_made=1
	ip -n "$nss" link set lo up
	run_mode kernel "$nss" 127.0.0.1 --io kernel --listen 127.0.0.1@53 --listen ::1@53 --udp-threads 2
	ip netns del "$nss"
	nss_made=0
	ran=$((ran + 1))
fi

if [[ $modes == all || $modes == dpdk ]]; then
	out=$("$pop53d" --io dpdk --eal "--version" --listen 127.0.0.1@1 --zone /nonexistent 2>&1)
	grep -q "built without DPDK" <<<"$out" && fail "pop53d was built without DPDK"
	[[ -f $xdp_o ]] || fail "no XDP program $xdp_o"
	ip netns add "$nss" 2>"$tmp/err" || skip "no network namespaces: $(cat "$tmp/err")"
	nss_made=1
	ip netns add "$nsc" || fail "cannot create $nsc"
	nsc_made=1
	if ! ip -n "$nss" link add "$va" type veth peer name "$vb" netns "$nsc" 2>"$tmp/err"; then
		grep -qiE "not supported|unknown" "$tmp/err" && skip "no veth: $(cat "$tmp/err")"
		fail "cannot create a veth pair: $(cat "$tmp/err")"
	fi
	ip -n "$nss" link set lo up &&
		ip -n "$nss" addr add "$link4a/24" dev "$va" &&
		ip -n "$nss" link set "$va" up &&
		ip -n "$nss" addr add "$svc4/32" dev lo &&
		ip -n "$nsc" link set lo up &&
		ip -n "$nsc" addr add "$link4b/24" dev "$vb" &&
		ip -n "$nsc" link set "$vb" up &&
		ip -n "$nsc" route add "$svc4/32" via "$link4a" || fail "cannot set up the veth rig"
	ip netns exec "$nsc" ethtool -K "$vb" tx off >/dev/null 2>&1 || fail "ethtool -K $vb tx off failed"
	run_mode dpdk "$nsc" "$svc4" --io dpdk \
		--eal "-l 0,1 --no-huge -m 256 --no-pci --file-prefix p53rl$id --vdev net_af_xdp0,iface=$va,xdp_prog=$xdp_o --log-level *:notice" \
		--listen "$svc4@53"
	ran=$((ran + 1))
fi
((ran > 0)) || fail "unknown mode '$modes' (kernel, dpdk or all)"
echo "PASS reload_under_load"
exit 0
