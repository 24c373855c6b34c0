#!/usr/bin/env bash
# bgp/ against real BIRD: announce, withdraw, drain (RFC 8326), BIRD
# `configure` and restart (a withdrawn prefix stays withdrawn), a hung BIRD
# (bounded calls; BFD at the router), and the fail-safe on SIGKILL of the
# process holding the interface, each timed at the router.
#
#   namespace "pop" (p53bp<PID>)               namespace "router" (p53br<PID>)
#     BIRD AS 65001 (bgp/examples/pop-bird.conf) BIRD AS 65000 (router-bird.conf)
#     bird_drive: bgp_anycast on the control     exports BGP routes to its FIB;
#       socket + the fail-safe TAP p53hold0      65535:0 -> local-pref 0
#     eth0 198.18.N.1/30 fd00:53:N::1/64  <-veth->  eth0 198.18.N.2/30 fd00:53:N::2/64
#   eBGP over IPv4 and IPv6, BFD on. Service prefixes 192.0.2.53/32 and
#   2001:db8:53::53/128 (as in the example configuration).
#
# Both BIRD configurations are the files in bgp/examples/, with only paths,
# addresses and the log target substituted. Each time printed is from the
# command (written to bird_drive, or the signal) to the change seen in the
# router's kernel FIB (`ip route`, polled) or RIB (birdc, for the community).
#
# Exit: 0 PASS, 1 FAIL, 77 SKIP (only when the kernel lacks network
# namespaces, veth or TUN/TAP). Everything is removed on every exit path.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${POP53_ROOT:-$(cd "$here/../.." && pwd)}
build=${POP53_BUILD:-${BUILD_DIR:-$root/build}}
drive=$build/bgp/bird_drive
examples=$root/bgp/examples

id=$$
n=$((RANDOM % 250 + 1))
nsp=p53bp$id
nsr=p53br$id
svc4=192.0.2.53/32 svc6=2001:db8:53::53/128
drain_ms=1500
tmp=$(mktemp -d /tmp/p53-bird-anycast.XXXXXX)
drv_pid= mon_pid= pop_made=0 rtr_made=0
declare -a times=()

say() { printf '[bird_anycast] %s\n' "$*"; }

stop_pidfile() {   # stop the BIRD whose pid file is $1, by that PID only
	local pid
	[[ -s $1 ]] || return 0
	pid=$(<"$1")
	kill -CONT "$pid" 2>/dev/null   # in case a step left it stopped
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$1"
}

cleanup() {
	if [[ -n $mon_pid ]]; then kill "$mon_pid" 2>/dev/null; wait "$mon_pid" 2>/dev/null; fi
	mon_pid=
	if [[ -n $drv_pid ]]; then
		kill -KILL "$drv_pid" 2>/dev/null
		wait "$drv_pid" 2>/dev/null
	fi
	drv_pid=
	stop_pidfile "$tmp/pop.pid"
	stop_pidfile "$tmp/router.pid"
	# Deleting a namespace deletes what is left in it (veth, TAP).
	if ((pop_made)); then ip netns del "$nsp" 2>/dev/null; pop_made=0; fi
	if ((rtr_made)); then ip netns del "$nsr" 2>/dev/null; rtr_made=0; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	say "$*"
	for f in drive.err pop.log router.log; do
		[[ -s $tmp/$f ]] || continue
		say "$f (last lines):"
		tail -n 15 "$tmp/$f" | sed 's/^/    /'
	done
	echo "FAIL bird_anycast: $*"
	exit 1
}
skip() { echo "SKIP bird_anycast: $*"; exit 77; }
pass() { echo "PASS bird_anycast: $*"; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# ---- what the test needs ------------------------------------------------
[[ $(id -u) -eq 0 ]] || fail "needs root (network namespaces, veth, TAP)"
[[ -x $drive ]] || fail "no $drive (build first)"
for t in ip bird birdc; do
	command -v "$t" >/dev/null || fail "'$t' not found (scripts/setup.sh installs it)"
done
if ! ip netns add "$nsp" 2>"$tmp/err"; then
	grep -qiE "not supported|invalid argument|no such" "$tmp/err" &&
		skip "the kernel has no network namespaces: $(cat "$tmp/err")"
	fail "cannot create network namespace $nsp: $(cat "$tmp/err")"
fi
pop_made=1
ip netns add "$nsr" || fail "cannot create network namespace $nsr"
rtr_made=1
if ! ip -n "$nsp" link add eth0 type veth peer name eth0 netns "$nsr" 2>"$tmp/err"; then
	grep -qiE "not supported|unknown" "$tmp/err" &&
		skip "the kernel has no veth support: $(cat "$tmp/err")"
	fail "cannot create a veth pair: $(cat "$tmp/err")"
fi
[[ -c /dev/net/tun ]] || skip "the kernel has no TUN/TAP support (/dev/net/tun missing: CONFIG_TUN)"

# ---- the rig ----------------------------------------------------------------
inp() { ip netns exec "$nsp" "$@"; }
inr() { ip netns exec "$nsr" "$@"; }
ip -n "$nsp" addr add 198.18.$n.1/30 dev eth0
ip -n "$nsr" addr add 198.18.$n.2/30 dev eth0
ip -n "$nsp" addr add fd00:53:$n::1/64 dev eth0 nodad
ip -n "$nsr" addr add fd00:53:$n::2/64 dev eth0 nodad
for ns in "$nsp" "$nsr"; do
	ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up || fail "cannot bring links up in $ns"
done

conf() {   # example config $1 -> $tmp/$2.conf
	sed -e "s#/var/lib/pop53/bird-anycast.conf#$tmp/anycast.conf#" \
	    -e "s#log syslog all#log \"$tmp/$2.log\" all#" \
	    -e "s#198\\.51\\.100\\.#198.18.$n.#g" \
	    -e "s#2001:db8:ffff::#fd00:53:$n::#g" "$examples/$1" >"$tmp/$2.conf"
	grep -q "198.18.$n." "$tmp/$2.conf" || fail "substitution failed for $1"
	bird -p -c "$tmp/$2.conf" 2>"$tmp/err" || fail "$1 does not parse: $(cat "$tmp/err")"
}
# As the example says: the state file exists, withdrawn, before BIRD starts.
printf 'define P53_SVC_DISABLED = 1;\ndefine P53_GSHUT_DISABLED = 1;\n' >"$tmp/anycast.conf"
conf pop-bird.conf pop
conf router-bird.conf router
grep -q "include \"$tmp/anycast.conf\"" "$tmp/pop.conf" || fail "pop config lost its include"

start_bird() {   # $1 = pop|router
	local ns=$nsp
	[[ $1 == router ]] && ns=$nsr
	ip netns exec "$ns" bird -c "$tmp/$1.conf" -s "$tmp/$1.ctl" -P "$tmp/$1.pid" 2>"$tmp/err" ||
		fail "BIRD ($1) does not start: $(cat "$tmp/err")"
	for _ in $(seq 50); do [[ -S $tmp/$1.ctl && -s $tmp/$1.pid ]] && return; sleep 0.1; done
	fail "BIRD ($1) did not create its control socket"
}
rbirdc() { birdc -s "$tmp/router.ctl" "$@" 2>/dev/null; }

wait_sessions() {   # both sessions Established at the router, within $1 s
	local t0
	t0=$(now_ms)
	while (($(now_ms) - t0 < $1 * 1000)); do
		[[ $(rbirdc show protocols | grep -c 'Established') -eq 2 ]] && {
			echo $(($(now_ms) - t0)); return 0; }
		sleep 0.2
	done
	return 1
}

start_bird router
start_bird pop
ms=$(wait_sessions 25) || fail "BGP sessions not established within 25 s"
pass "eBGP IPv4 and IPv6 sessions with BFD established (${ms} ms after start)"
rbirdc show bfd sessions | grep -qi " up " || fail "BFD sessions are not up at the router"
pass "BFD sessions up"

# ---- the driver -----------------------------------------------------------
start_drive() {
	coproc DRV { exec ip netns exec "$nsp" "$drive" --socket "$tmp/pop.ctl" \
		--state "$tmp/anycast.conf" --drain-wait "$drain_ms" --timeout 500 \
		--retry 200 2>>"$tmp/drive.err"; }
	drv_pid=$DRV_PID
	local line
	read -r -t 10 line <&"${DRV[0]}" || fail "bird_drive did not start"
	[[ $line == ready ]] || fail "bird_drive: $line"
}
drv() {   # send $1, the answer line in $reply; fail unless it starts with ok
	echo "$1" >&"${DRV[1]}" || fail "bird_drive gone"
	read -r -t 10 reply <&"${DRV[0]}" || fail "no answer from bird_drive to '$1'"
	while [[ $reply == proto\ * ]]; do
		protos+="$reply"$'\n'
		read -r -t 10 reply <&"${DRV[0]}" || fail "no answer from bird_drive to '$1'"
	done
	[[ $reply == ok* ]] || fail "bird_drive '$1': $reply"
}

fib() {   # prints the router's FIB routes for both service prefixes
	ip -n "$nsr" route show "$svc4"
	ip -n "$nsr" -6 route show "$svc6"
}
# The router's FIB changes, time-stamped by the kernel's netlink events
# (`ip -ts monitor`): polling `ip route` costs ~30 ms a call here.
ip -n "$nsr" -ts monitor route >"$tmp/mon.log" 2>&1 &
mon_pid=$!
mark() { wc -l <"$tmp/mon.log"; }
ev_ms() {   # $1 mark, $2 present|absent, $3 address: ms of the first event
	local line ts
	line=$(tail -n +$(($1 + 1)) "$tmp/mon.log" | grep -F " ${3} " |
		if [[ $2 == absent ]]; then grep -m1 Deleted; else grep -m1 -v Deleted; fi)
	[[ $line =~ ^\[([0-9T:.-]+)\] ]] || return 1
	ts=${BASH_REMATCH[1]}
	date -d "${ts/T/ }" +%s%3N
}
measure() {   # $1 label, $2 present|absent, $3 mark, $4 since (ms), $5 limit (ms)
	local a b ms
	while :; do
		a=$(ev_ms "$3" "$2" "${svc4%/*}") && b=$(ev_ms "$3" "$2" "${svc6%/*}") && break
		(($(now_ms) - $4 > $5)) &&
			fail "$1: router FIB not $2 after $5 ms (FIB: $(fib | tr '\n' ' '))"
		sleep 0.02
	done
	((b > a)) && a=$b
	ms=$((a - $4))
	if [[ $2 == present ]]; then [[ $(fib | grep -c .) -eq 2 ]]; else [[ -z $(fib) ]]; fi ||
		fail "$1: FIB event seen but the FIB is not $2: $(fib | tr '\n' ' ')"
	times+=("$(printf '%-48s %6s ms' "$1" "$ms")")
	pass "$1: $2 in the router's FIB after ${ms} ms (IPv4 and IPv6)"
}
act() {   # $1 label, $2 present|absent, $3 limit, $4 driver command
	local m t
	m=$(mark); t=$(now_ms); drv "$4"
	measure "$1" "$2" "$m" "$t" "$3"
}

start_drive
drv status
[[ $reply == *phase=withdrawn*applied=1*connected=1* ]] || fail "initial state: $reply"
ip -n "$nsp" link show p53hold0 2>/dev/null | grep -q "UP" || fail "fail-safe interface p53hold0 missing or down"
[[ -z $(fib) ]] || fail "announced before 'up'"
pass "started withdrawn, fail-safe interface p53hold0 up, nothing at the router"

act "announce (up)" present 3000 up
protos=; drv protocols
grep -qE '^proto upstream4 BGP up Established' <<<"$protos" &&
	grep -qE '^proto upstream6 BGP up Established' <<<"$protos" ||
	fail "show protocols read back wrong: $protos"
pass "BGP session states read back over the control socket"

act "withdraw (down)" absent 3000 down
act "announce again (up)" present 3000 up

# ---- drain -------------------------------------------------------------------
gshut_seen() {
	rbirdc show route "$svc4" all | grep -q '(65535,0)' &&
		rbirdc show route "$svc6" all | grep -q '(65535,0)'
}
m=$(mark); t=$(now_ms); drv drain
while ! gshut_seen; do
	(($(now_ms) - t > 3000)) && fail "router never saw 65535:0 on the drained routes"
done
ms=$(($(now_ms) - t))
[[ $(fib | grep -c .) -eq 2 ]] || fail "routes gone before the community was seen"
rbirdc show route "$svc4" all | grep -q 'BGP.local_pref: 0' || fail "router did not set local-pref 0"
times+=("$(printf '%-48s %6s ms' "drain: 65535:0 in router RIB (birdc, polled)" "$ms")")
pass "drain: router sees GRACEFUL_SHUTDOWN (65535,0), local-pref 0, after ${ms} ms; route still in FIB"
measure "drain: withdraw after drain-wait ${drain_ms} ms" absent "$m" "$t" $((drain_ms + 3000))
[[ ${times[-1]} =~ ([0-9]+)\ ms$ ]] && ((BASH_REMATCH[1] >= drain_ms)) ||
	fail "withdrawn before the drain wait was over"
act "undrain" present 3000 undrain
rbirdc show route "$svc4" all | grep -q '(65535,0)' && fail "community still on the route after undrain"
pass "undrain: route back without 65535:0"

# ---- the state survives configure and a BIRD restart --------------------------
act "withdraw before configure" absent 3000 down
drv "raw configure"
[[ $reply == "ok 0003"* ]] || fail "configure over the socket: $reply"
sleep 1
[[ -z $(fib) ]] || fail "a BIRD configure re-announced a withdrawn prefix"
pass "configure keeps the prefix withdrawn (state file)"

stop_pidfile "$tmp/pop.pid"
start_bird pop
ms=$(wait_sessions 25) || fail "BGP sessions not re-established after the BIRD restart"
sleep 1
[[ -z $(fib) ]] || fail "a BIRD restart re-announced a withdrawn prefix"
pass "BIRD restart: withdrawn stays withdrawn (sessions back after ${ms} ms)"
drv "wait-applied 3000"
drv status
[[ $reply =~ connects=([0-9]+) ]] && ((BASH_REMATCH[1] >= 2)) || fail "no reconnect seen: $reply"
pass "bird_drive reconnected to the new BIRD and re-asserted its state ($reply)"
act "announce after BIRD restart" present 3000 up

# ---- a hung BIRD: bounded calls, BFD at the router -------------------------------
bird_pid=$(<"$tmp/pop.pid")
m=$(mark); t=$(now_ms); kill -STOP "$bird_pid"
measure "pop BIRD hung (SIGSTOP): BFD at the router" absent "$m" "$t" 3000
t=$(now_ms)
echo down >&"${DRV[1]}"
read -r -t 10 reply <&"${DRV[0]}" || { kill -CONT "$bird_pid"; fail "bird_drive blocked on a hung BIRD"; }
ms=$(($(now_ms) - t))
kill -CONT "$bird_pid"
[[ $reply == err*timed\ out* ]] && ((ms < 2000)) || fail "'down' with BIRD hung: '$reply' after $ms ms"
pass "with BIRD hung, 'down' failed in ${ms} ms (timeout 500 ms): $reply"
ms=$(wait_sessions 25) || fail "BGP sessions not back after SIGCONT"
drv "wait-applied 3000"
sleep 0.5
[[ -z $(fib) ]] || fail "prefix announced after the hang although 'down' was asked"
pass "after the hang: sessions back in ${ms} ms, state applied, still withdrawn"
act "announce after the hang" present 3000 up

# ---- fail-safe: SIGKILL -----------------------------------------------------
m=$(mark); t=$(now_ms); kill -KILL "$drv_pid"
measure "fail-safe: SIGKILL of the holder" absent "$m" "$t" 3000
wait "$drv_pid" 2>/dev/null; drv_pid=
ip -n "$nsp" link show p53hold0 >/dev/null 2>&1 && fail "p53hold0 survived its holder"
grep -q 'P53_SVC_DISABLED = 0' "$tmp/anycast.conf" || fail "state file should still say announce"
pass "fail-safe: interface gone with the process, prefix withdrawn within 3 s"

# A new holder starts from WITHDRAWN although the file said announce.
start_drive
sleep 1
[[ -z $(fib) ]] || fail "a restarted holder announced before 'up'"
pass "restart after a crash: withdrawn until healthy"
act "announce by the new holder" present 3000 up
m=$(mark); t=$(now_ms); echo quit >&"${DRV[1]}"
measure "clean exit of the holder (close)" absent "$m" "$t" 3000
wait "$drv_pid" 2>/dev/null; drv_pid=
if grep -qE "Sanitizer|runtime error" "$tmp/drive.err" 2>/dev/null; then
	fail "bird_drive reported memory or UB errors: $(head -20 "$tmp/drive.err")"
fi

echo "---- times from action to the router's FIB/RIB ----"
printf '%s\n' "${times[@]}"
echo "PASS bird_anycast"
