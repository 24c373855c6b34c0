#!/usr/bin/env bash
# pop53d --io kernel on loopback: UDP/TCP behaviour (see kernel_server.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
if /usr/bin/python3 "$here/kernel_server.py" "$build/controlplane/pop53d" "$here/zones/diff.test.zone"; then
	echo "PASS kernel_server"
else
	echo "FAIL kernel_server"; exit 1
fi
