#!/usr/bin/env bash
# scripts/setup.sh — install what pop53 needs, then configure and build it.
#
# Idempotent: packages already installed are not touched (checked with
# dpkg-query; `apt-get update` + `apt-get install` run only when something
# is missing), an existing build directory is reconfigured, not recreated.
# Debian's knot and nsd packages start system services on install; this
# script keeps them from starting (policy-rc.d during the install) and
# disables them afterwards, so port 53 stays free for pop53.
#
# Usage: scripts/setup.sh [--deps-only | --no-deps] [--build-dir DIR]
#                         [--cc COMPILER] [MESON_OPTION ...]
#   --deps-only      install packages, do not configure or build
#   --no-deps        configure and build only (no package check)
#   --build-dir DIR  build directory, relative to the repository (default: build)
#   --cc COMPILER    C compiler (default: $CC if set, else meson's choice)
#   MESON_OPTION     passed to `meson setup`, e.g. -Dwerror=true
#
# A build directory remembers the compiler it was set up with
# (DIR/.pop53-cc); asking for another compiler wipes and recreates it.
set -euo pipefail

# ---- the packages pop53 needs on Debian 12 (one easy-to-extend list) -----
POP53_PACKAGES=(
	# toolchain and build system
	build-essential gcc clang libclang-rt-dev llvm meson ninja-build pkg-config
	# libraries: OpenSSL (hashes, Ed25519, TLS), cmocka (unit tests),
	# libyaml (configuration), libevent (control plane loop, HTTP),
	# libcurl (pop53-push, HTTP health checks), libmaxminddb (geolocation
	# databases compiled into snapshots; mmdblookup checks test databases)
	libssl-dev libcmocka-dev libyaml-dev libevent-dev libcurl4-openssl-dev
	libmaxminddb-dev mmdb-bin
	# scripts (test result parsing, bench zone generator, DNS differential
	# tests, metrics parsing); openssl and curl make and use test certificates
	python3 python3-dnspython python3-prometheus-client openssl curl
	# anycast: BIRD as the PoP's and the test router's BGP speaker
	bird2
	# reference servers and DNS clients for benchmarks and tests
	knot knot-dnsutils nsd bind9-dnsutils ldnsutils dnsperf
	# DNSSEC: dnssec-verify (tests/integration/zonec_dnssec.sh) and
	# dnssec-signzone (bench/sign-bench.sh) as the reference signer;
	# unbound validates pop53's answers (tests/integration/dnssec_validate.sh)
	bind9-utils unbound
	# DPDK dataplane (pop53d --io dpdk) and its XDP steering program
	libdpdk-dev dpdk dpdk-dev libbpf-dev
	# DPDK-on-veth integration test: namespaces/veth/XDP, ping, checksum
	# offload off, the af_packet nftables rule
	iproute2 iputils-ping ethtool nftables
	# benchmarks: callgrind counts the worker loop's instructions where the
	# VM's noise hides a few per cent of time (bench/rrl-bench.sh)
	valgrind
)
# System services that the packages above start on install and that must
# not hold port 53 (package name -> systemd unit).
POP53_NO_SERVICES=(knot:knot.service nsd:nsd.service bird2:bird.service unbound:unbound.service)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

do_deps=1
do_build=1
build_dir=build
cc=${CC:-}
meson_opts=()
while (($#)); do
	case $1 in
	--deps-only) do_build=0 ;;
	--no-deps) do_deps=0 ;;
	--build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; build_dir=$2; shift ;;
	--cc) [[ $# -ge 2 ]] || die "--cc needs a value"; cc=$2; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
	-D*|--*) meson_opts+=("$1") ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done

# ---- packages -------------------------------------------------------------
installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

policy_rc_created=0
cleanup_policy_rc() {
	if ((policy_rc_created)); then
		rm -f /usr/sbin/policy-rc.d
		policy_rc_created=0
	fi
}

# retry CMD...: run CMD up to 3 times, 10 s apart (mirror hiccups).
retry() {
	local i
	for i in 1 2 3; do
		"$@" && return 0
		((i == 3)) || { say "'$*' failed, retrying in 10 s"; sleep 10; }
	done
	return 1
}

install_deps() {
	command -v dpkg-query >/dev/null || die "dpkg-query not found: pop53 setup supports Debian 12 only"
	local missing=() p
	for p in "${POP53_PACKAGES[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		say "all ${#POP53_PACKAGES[@]} packages present"
		return 0
	fi
	say "missing packages: ${missing[*]}"
	[[ $(id -u) -eq 0 ]] || die "installing packages needs root: run with sudo"

	# Keep services from starting while installing (invoke-rc.d and
	# deb-systemd-invoke both ask policy-rc.d). Only remove it if we made it.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# temporary, from pop53 scripts/setup.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_rc_created=1
		trap cleanup_policy_rc EXIT
	fi

	export DEBIAN_FRONTEND=noninteractive
	retry apt-get update -q
	retry apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}"
	cleanup_policy_rc

	# Services of packages we just installed: stop and disable them, so they
	# do not hold port 53 now or after a reboot. (nsd may have failed to
	# start anyway; that is fine.) Without systemd there is nothing to do.
	local entry pkg unit m
	for entry in "${POP53_NO_SERVICES[@]}"; do
		pkg=${entry%%:*} unit=${entry#*:}
		for m in "${missing[@]}"; do
			[[ $m == "$pkg" ]] || continue
			if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
				say "stopping and disabling $unit (installed as a dependency, not used as a service)"
				systemctl disable --now "$unit" >/dev/null 2>&1 || true
			fi
		done
	done

	for p in "${missing[@]}"; do
		installed "$p" || die "package $p did not install"
	done
	say "installed: ${missing[*]}"
}

# ---- configure and build --------------------------------------------------
build() {
	case $build_dir in
	''|.|./|/*|*..*) die "refusing build directory '$build_dir' (use a subdirectory of the repository)" ;;
	esac
	command -v meson >/dev/null || die "meson not found (run without --no-deps)"
	command -v ninja >/dev/null || die "ninja not found (run without --no-deps)"
	local stamp="$build_dir/.pop53-cc"
	if [[ -n $cc ]]; then
		command -v "${cc%% *}" >/dev/null || die "compiler '$cc' not found"
		if [[ -d $build_dir && "$(cat "$stamp" 2>/dev/null || true)" != "$cc" ]]; then
			[[ -d $build_dir/meson-private || ! -e $build_dir/build.ninja ]] ||
				die "$build_dir exists and is not a meson build directory"
			say "$build_dir was not set up with CC=$cc: recreating it"
			rm -rf "$build_dir"
		fi
	fi
	if [[ -f $build_dir/meson-private/coredata.dat ]]; then
		say "reconfiguring $build_dir ${meson_opts[*]:-}"
		meson setup --reconfigure "$build_dir" "${meson_opts[@]}"
	else
		say "configuring $build_dir ${cc:+with CC=$cc }${meson_opts[*]:-}"
		rm -rf "$build_dir"
		if [[ -n $cc ]]; then
			CC=$cc meson setup "$build_dir" "${meson_opts[@]}"
		else
			meson setup "$build_dir" "${meson_opts[@]}"
		fi
	fi
	[[ -z $cc ]] || printf '%s\n' "$cc" >"$stamp"
	say "building $build_dir"
	ninja -C "$build_dir"
}

((do_deps)) && install_deps
((do_build)) && build
exit 0
