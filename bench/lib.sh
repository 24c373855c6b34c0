# shellcheck shell=bash
# bench/lib.sh — helpers shared by the benchmark scripts (zone-bench.sh,
# udp-bench.sh, dpdk-bench.sh). Sourced, never run:
#
#   BENCH_NAME=udp-bench            # the prefix of log lines
#   . "$ROOT/bench/lib.sh"
#
# It defines functions and a few variables (PY, NCPU) only; it starts
# nothing and installs no trap. What a script needs to configure is passed
# as arguments, or, for the peers' configuration files, as the KNOT_* and
# NSD_* variables documented at write_knot_conf and write_nsd_conf.

: "${BENCH_NAME:=bench}"

# Debian's python3 (a python3 earlier in PATH may be a slow wrapper, e.g. pyenv)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
NCPU=$(nproc)

log() { printf '[%s] %s\n' "$BENCH_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# usage FILE: print the comment block at the top of FILE (after the #! line)
usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$1"; }

now_ns() { date +%s%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_tmp PREFIX: make a temporary directory, print its path
bench_tmp() { mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX"; }

# bench_rm_tmp DIR KEEP: remove DIR, or, when KEEP is 1, say that it was kept
bench_rm_tmp() {
	[[ -n $1 && -d $1 ]] || return 0
	if [[ ${2:-0} == 1 ]]; then log "kept $1"; else rm -rf "$1"; fi
}

# bench_pin WHAT: pin this shell to CPU 1 and set ON_SERVER_CPU (taskset -c 0)
# and ON_LOAD_CPU (taskset -c 1) prefixes, and PINNING, a sentence for the
# report ("servers on CPU 0, WHAT on CPU 1"). With one CPU (or no taskset)
# the prefixes are empty.
# shellcheck disable=SC2034  # the variables are for the caller
bench_pin() {
	if ((NCPU >= 2)) && command -v taskset >/dev/null; then
		taskset -cp 1 $$ >/dev/null
		ON_SERVER_CPU=(taskset -c 0)
		ON_LOAD_CPU=(taskset -c 1)
		PINNING="servers on CPU 0, $1 on CPU 1"
	else
		ON_SERVER_CPU=()
		ON_LOAD_CPU=()
		PINNING="no pinning (fewer than 2 CPUs or no taskset): servers and $1 share a CPU"
	fi
}

# ---- statistics and table cells ------------------------------------------------
# median: the median of the numbers on stdin, one a line ("n/a" if none)
median() {
	sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# med_min_max: "MEDIAN MIN MAX" of the numbers on stdin ("n/a n/a n/a" if none)
med_min_max() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print "n/a n/a n/a"; exit }
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", med, v[1], v[NR] }'
}
# ratio A B [FORMAT]: A/B printed with FORMAT (default "%.2f\n"), or n/a
ratio() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f\\n}" 'BEGIN {
		if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf f, a / b }'
}
# short N: 123456 -> 123.5k ("n/a" stays)
short() { awk -v v="$1" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else printf "%.1fk\n", v / 1000 }'; }
# row CELLS...: one table row, formatted with ROW_FMT (the caller's widths)
# shellcheck disable=SC2059  # the format is the caller's on purpose
row() { printf "$ROW_FMT" "$@"; }

# ---- processes -------------------------------------------------------------------
# free_port FROM [TAKEN]: a port on 127.0.0.1 free for both UDP and TCP, from
# FROM up, not in TAKEN (a space-separated list)
free_port() {
	"$PY" - "$1" "${2:-}" <<'EOF'
import socket, sys
taken = {int(p) for p in sys.argv[2].split()} if sys.argv[2] else set()
for port in range(int(sys.argv[1]), int(sys.argv[1]) + 500):
    if port in taken:
        continue
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", port))
            s.close()
    except OSError:
        continue
    print(port)
    break
else:
    sys.exit("no free port")
EOF
}

# poll_soa ADDR PORT ORIGIN PID TIMEOUT T0_NS: ask ADDR@PORT for ORIGIN's SOA
# every 20 ms (a small UDP client, 20 ms timeout per try: kdig's smallest
# timeout is 1 s, and one query lost while the server sets up its sockets
# would add a whole second) until it answers NOERROR with an answer; print
# the nanoseconds since T0_NS. Fails when PID exits or after TIMEOUT s.
# With SOA_NETNS set, the client runs in that network namespace.
poll_soa() {
	local pre=()
	[[ -z ${SOA_NETNS:-} ]] || pre=(ip netns exec "$SOA_NETNS")
	"${pre[@]}" "$PY" - "$@" <<'EOF'
import os, random, socket, struct, sys, time
addr, port, origin, pid, timeout, t0 = sys.argv[1:7]
port, pid, timeout, t0 = int(port), int(pid), float(timeout), int(t0)
qname = b"".join(bytes([len(l)]) + l.encode() for l in origin.rstrip(".").split(".")) + b"\0"
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
deadline = time.time() + timeout
while True:
    qid = random.randrange(65536)
    query = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + qname + struct.pack("!HH", 6, 1)
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(0.02)
    try:
        s.sendto(query, (addr, port))
        while True:
            resp = s.recv(4096)
            if len(resp) >= 12 and struct.unpack("!H", resp[:2])[0] == qid:
                break
        flags, qd, an = struct.unpack("!HHH", resp[2:8])
        if flags & 0x8000 and flags & 0xF == 0 and an >= 1:
            print(time.time_ns() - t0)
            sys.exit(0)
        time.sleep(0.02)    # answered, but not yet (SERVFAIL, REFUSED)
    except OSError:
        pass                # not listening yet, or no answer within 20 ms
    finally:
        s.close()
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("server exited before answering")
    if time.time() > deadline:
        sys.exit("no SOA answer within %g s" % timeout)
EOF
}

# tree_pids PID: PID and all its descendants (nsd forks server processes).
tree_pids() {
	"$PY" - "$1" <<'EOF'
import os, sys
parent = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            with open(f"/proc/{d}/stat") as f:
                parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            pass
tree, pending = [], [int(sys.argv[1])]
while pending:
    p = pending.pop()
    if p in parent:
        tree.append(p)
        pending += [c for c, pp in parent.items() if pp == p]
print(*tree)
EOF
}

# stop_pid PID [TREE...]: TERM PID, wait up to 10 s, then KILL it; KILL the
# other PIDs of TREE (what it forked, as listed by tree_pids while it ran).
stop_pid() {
	local pid=$1 p
	shift
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "$@"; do
		[[ $p == "$pid" ]] || kill -9 "$p" 2>/dev/null || true
	done
}

# proc_ticks PID...: user + system clock ticks of these processes (all
# threads), from /proc/PID/stat
proc_ticks() {
	local p total=0 t
	for p in "$@"; do
		t=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0)
		total=$((total + t))
	done
	echo "$total"
}

# cpu_busy: clock ticks all CPUs spent busy (user, nice, system, irq,
# softirq, steal), from /proc/stat
cpu_busy() {
	local user nice system irq softirq steal rest
	read -r _ user nice system _ _ irq softirq steal rest </proc/stat
	echo $((user + nice + system + irq + softirq + steal))
}

# child_ticks: user + system ticks of this shell's reaped children (the load
# generator, through timeout); bash builtins only, so that reading it forks
# nothing
child_ticks() {
	local st
	read -r -a st </proc/$$/stat
	echo $((st[15] + st[16]))
}

# ksoftirqd_ticks: the kernel's softirq threads (the traffic they carry is
# the benchmark's own work, not another process's)
KSOFTIRQD=$(grep -lx 'ksoftirqd/[0-9]*' /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 | tr '\n' ' ' || true)
# shellcheck disable=SC2086  # the PIDs are words on purpose
ksoftirqd_ticks() { proc_ticks $KSOFTIRQD; }

# wait_load LIMIT MAX: wait (checking every 20 s, at most MAX seconds) until
# the 1-minute load average is below LIMIT; then measure anyway
wait_load() {
	local waited=0
	while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$1" 'BEGIN {exit !(l >= m)}'; do
		if ((waited >= $2)); then
			log "load average still $(loadavg) after $2 s: measuring anyway"
			break
		fi
		log "load average $(loadavg), waiting for < $1 ($waited/$2 s)"
		sleep 20
		waited=$((waited + 20))
	done
}

# ---- the peers' configuration files ------------------------------------------------
# write_knot_conf DIR LISTEN ZONEFILE ORIGIN: DIR/knot.conf serving ORIGIN
# from ZONEFILE (its directory is the zone storage), listening on LISTEN
# (ADDR@PORT; empty: no UDP/TCP listener). Knobs (variables):
#   KNOT_UDP_WORKERS, KNOT_TCP_WORKERS, KNOT_BG_WORKERS   (default 1 each)
#   KNOT_XDP_LISTEN   IFACE@PORT: also answer over XDP on IFACE (Knot 3.2
#                     `xdp:` section; UDP, Knot's default)
#   KNOT_EXTRA_SERVER lines appended to the server: section (indented)
write_knot_conf() {
	local dir=$1 listen=$2 zonefile=$3 origin=$4
	mkdir -p "$dir/run" "$dir/db"
	{
		echo "server:"
		echo "    rundir: \"$dir/run\""
		[[ -z $listen ]] || echo "    listen: $listen"
		echo "    udp-workers: ${KNOT_UDP_WORKERS:-1}"
		echo "    tcp-workers: ${KNOT_TCP_WORKERS:-1}"
		echo "    background-workers: ${KNOT_BG_WORKERS:-1}"
		[[ -z ${KNOT_EXTRA_SERVER:-} ]] || printf '%s\n' "$KNOT_EXTRA_SERVER"
		if [[ -n ${KNOT_XDP_LISTEN:-} ]]; then
			echo "xdp:"
			echo "    listen: $KNOT_XDP_LISTEN"
		fi
		cat <<EOF
log:
  - target: stderr
    any: notice
database:
    storage: "$dir/db"
template:
  - id: default
    storage: "$(dirname "$zonefile")"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: $origin
    file: "$(basename "$zonefile")"
EOF
	} >"$dir/knot.conf"
}

# write_nsd_conf DIR ADDR PORT ZONEFILE ORIGIN: DIR/nsd.conf serving ORIGIN
# from ZONEFILE on ADDR@PORT, one server process, RRL off. Knobs:
#   NSD_EXTRA_SERVER  lines appended to the server: section (indented), e.g.
#                     "    minimal-responses: yes"
write_nsd_conf() {
	local dir=$1 addr=$2 port=$3 zonefile=$4 origin=$5
	{
		cat <<EOF
server:
    ip-address: $addr@$port
    port: $port
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$(dirname "$zonefile")"
    database: ""
    pidfile: "$dir/nsd.pid"
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    logfile: "$dir/nsd.log"
    verbosity: 1
    rrl-ratelimit: 0
EOF
		[[ -z ${NSD_EXTRA_SERVER:-} ]] || printf '%s\n' "$NSD_EXTRA_SERVER"
		cat <<EOF
remote-control:
    control-enable: no
zone:
    name: $origin
    zonefile: "$(basename "$zonefile")"
EOF
	} >"$dir/nsd.conf"
}
