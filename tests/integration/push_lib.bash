# push_lib.bash — shared by push_api.sh, push_crash.sh, push_fleet.sh and
# bench/push-bench.sh (sourced, not run): certificates, controller keys,
# signed snapshots, free ports, and pop53d processes that are always
# stopped on exit. The sourcing script sets PL_NAME first.
#
# Everything lives in $PL_TMP (removed on exit); every pop53d started with
# pl_start is stopped by PID on exit, whatever the exit path.

PL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PL_ROOT=${POP53_ROOT:-$(cd "$PL_HERE/../.." && pwd)}
PL_BUILD=${POP53_BUILD:-${BUILD_DIR:-$PL_ROOT/build}}
PL_POP53D=$PL_BUILD/controlplane/pop53d
PL_ZONEC=${POP53_ZONEC:-$PL_BUILD/tools/pop53-zonec}
PL_CTL=$PL_BUILD/tools/pop53ctl
PL_PUSH=$PL_BUILD/tools/pop53-push
PL_PY=/usr/bin/python3
PL_TMP=$(mktemp -d "/tmp/p53-${PL_NAME:-push}.XXXXXX")
PL_PIDS=()
PL_FAILED=0

say() { printf '[%s] %s\n' "${PL_NAME:-push}" "$*"; }

pl_cleanup() {
	local p
	for p in "${PL_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	PL_PIDS=()
	rm -rf "$PL_TMP"
}
trap pl_cleanup EXIT
trap 'exit 1' INT TERM HUP

pass() { printf 'PASS %s: %s\n' "${PL_NAME:-push}" "$*"; }
fail() { printf 'FAIL %s: %s\n' "${PL_NAME:-push}" "$*"; PL_FAILED=1; }
# check DESCRIPTION COMMAND...: PASS or FAIL line from the command's status
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

pl_need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1 && [[ ! -x $t ]]; then
			echo "FAIL ${PL_NAME:-push}: $t is missing (scripts/setup.sh installs it)"
			exit 1
		fi
	done
}

# pl_ports N: N free TCP/UDP port numbers on 127.0.0.1, one per line.
pl_ports() {
	"$PL_PY" - "$1" <<'EOF'
import socket, sys
socks, ports = [], []
while len(ports) < int(sys.argv[1]):
    t = socket.socket(); t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); continue
    socks += [t, u]; ports.append(p)
print("\n".join(map(str, ports)))
EOF
}

# pl_certs: a CA for the controllers, a node certificate it also signs (for
# 127.0.0.1), a controller client certificate, and a rogue CA with its own
# client certificate; all in $PL_TMP/pki.
pl_certs() {
	local d=$PL_TMP/pki
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=pop53-test-ca -keyout ca.key -out ca.crt
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=rogue-ca -keyout rogue-ca.key -out rogue-ca.crt
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=node \
			-keyout node.key -out node.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >node.ext
		openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile node.ext -out node.crt
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=controller \
			-keyout client.key -out client.csr
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out client.crt
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=intruder \
			-keyout rogue.key -out rogue.csr
		openssl x509 -req -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key \
			-CAcreateserial -days 2 -extfile client.ext -out rogue.crt
	) >"$PL_TMP/pki.log" 2>&1 || { cat "$PL_TMP/pki.log"; return 1; }
}

# pl_keys: controller signing keys $PL_TMP/ctl.{key,pub} and an untrusted
# pair $PL_TMP/other.{key,pub}.
pl_keys() {
	"$PL_ZONEC" keygen "$PL_TMP/ctl.key" "$PL_TMP/ctl.pub" >/dev/null &&
		"$PL_ZONEC" keygen "$PL_TMP/other.key" "$PL_TMP/other.pub" >/dev/null
}

# pl_zone FILE SOA_SERIAL [EXTRA_NAMES]: example.test with that SOA serial.
pl_zone() {
	local f=$1 soa=$2 n=${3:-0} i
	{
		printf '$ORIGIN example.test.\n$TTL 300\n'
		printf '@ SOA ns1 hostmaster %s 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n' "$soa"
		printf 'www A 192.0.2.80\n'
		for ((i = 0; i < n; i++)); do printf 'h%d A 10.%d.%d.%d\n' "$i" $((i >> 16 & 255)) \
			$((i >> 8 & 255)) $((i & 255)); done
	} >"$f"
}

# pl_snap OUT SERIAL SOA_SERIAL [KEY [EXTRA_NAMES]]: a compiled snapshot
# with that snapshot serial, signed with KEY (default the controller key;
# "none": unsigned).
pl_snap() {
	local out=$1 serial=$2 soa=$3 key=${4:-$PL_TMP/ctl.key} n=${5:-0}
	pl_zone "$PL_TMP/zone.$$" "$soa" "$n"
	local sign=(--sign "$key")
	[[ $key != none ]] || sign=()
	"$PL_ZONEC" compile -o "$out" --serial "$serial" "${sign[@]}" "$PL_TMP/zone.$$" \
		>"$PL_TMP/compile.log" 2>&1 || { cat "$PL_TMP/compile.log"; return 1; }
}

# pl_start LOG ARGS...: start pop53d with ARGS, its output in LOG; waits
# (10 s at most) until it says it is ready. Sets PL_PID.
pl_start() {
	local log=$1
	shift
	"$PL_POP53D" "$@" >"$log" 2>&1 &
	PL_PID=$!
	disown "$PL_PID"   # bash reaps it; no "Killed" notice after a kill -9
	PL_PIDS+=("$PL_PID")
	for _ in $(seq 100); do
		grep -q "pop53d: ready" "$log" && return 0
		kill -0 "$PL_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "pop53d did not become ready; its log:"
	sed 's/^/    /' "$log"
	return 1
}

# pl_stop PID [SIGNAL]: stop one pop53d and wait for it (5 s, then KILL).
pl_stop() {
	local p=$1 sig=${2:-TERM} i
	kill "-$sig" "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	for i in "${!PL_PIDS[@]}"; do [[ ${PL_PIDS[$i]} == "$p" ]] && unset "PL_PIDS[$i]"; done
	PL_PIDS=("${PL_PIDS[@]}")
	return 0
}

# pl_soa PORT: the SOA serial of example.test served on 127.0.0.1@PORT
# (empty when there is no answer with one).
pl_soa() {
	kdig @127.0.0.1 -p "$1" example.test SOA +short +time=2 +retry=1 2>/dev/null | awk '{print $3}'
}

# pl_put PORT FILE BODY_OUT [?QUERY] [CURL ARGS...]: PUT FILE as a
# controller would; prints the HTTP status (000: no HTTP answer).
pl_put() {
	local port=$1 file=$2 out=$3 query=
	shift 3
	if [[ ${1:-} == \?* ]]; then query=$1; shift; fi
	curl -sS -o "$out" -w '%{http_code}' --max-time 30 \
		--cacert "$PL_TMP/pki/ca.crt" --cert "$PL_TMP/pki/client.crt" \
		--key "$PL_TMP/pki/client.key" -H 'Content-Type: application/octet-stream' \
		-T "$file" "$@" "https://127.0.0.1:$port/v1/snapshot$query" 2>"$out.err"
}

# pl_json FILE EXPR: evaluate a Python expression over the JSON in FILE (j).
pl_json() {
	"$PL_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
