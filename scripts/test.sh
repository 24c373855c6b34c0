#!/usr/bin/env bash
# scripts/test.sh — the whole pop53 test suite, from a fresh Debian 12 machine.
#
#  1. scripts/setup.sh --deps-only: install whatever is missing (apt-get).
#  2. gcc build in build/ with -Dwerror=true, then `meson test` (every suite:
#     unit, and whatever later issues register).
#  3. clang build in build-asan/ with AddressSanitizer + UndefinedBehavior-
#     Sanitizer and -Dwerror=true, then the same `meson test`.
#  4. Integration tests: every executable tests/integration/*.sh, run one
#     after the other against build/ (see "Integration tests" below).
#
# The last line printed is the summary, alone on its line:
#     N passed, N failed, N skipped
# counting the meson tests of both builds (from meson-logs/testlog.json)
# plus the integration scripts; a build that fails to compile counts as one
# failure. Exit status is 0 only when nothing failed.
#
# Integration tests: tests/integration/NAME.sh, executable, run from the
# repository root with these variables set:
#     POP53_ROOT   absolute path of the repository
#     POP53_BUILD  absolute path of the gcc build directory (build/);
#                  also given as BUILD_DIR
#     POP53_ZONEC  $POP53_BUILD/tools/pop53-zonec
# Each prints PASS, FAIL or SKIP (with a reason) as its last such line and
# exits 0 for PASS, 77 for SKIP, anything else for FAIL. A script that
# runs longer than $POP53_ITEST_TIMEOUT seconds (default 900) fails.
# Non-executable *.sh files there are helpers to source, and are not run.
#
# Environment: POP53_SKIP_ASAN=1 leaves out step 3 (for quick local runs).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()

banner() { printf '\n==== %s ====\n' "$*"; }

summary() {
	banner "summary"
	if ((${#FAILURES[@]})); then
		printf 'failed: %s\n' "${FAILURES[@]}"
	fi
	if ((SKIPPED)); then
		printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	else
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	fi
}

# Count the results in a meson testlog.json (one JSON object per line).
# Prints "PASSED FAILED SKIPPED FAILED_NAMES...".
count_testlog() {
	python3 - "$1" <<'EOF'
import json, sys
ok = bad = skip = 0
names = []
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        try:
            t = json.loads(line)
        except ValueError:
            continue
        r = str(t.get("result", "")).upper()
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:  # FAIL, UNEXPECTEDPASS, TIMEOUT, ERROR, INTERRUPT, ...
            bad += 1
            names.append(str(t.get("name", "?")).replace(" ", "_"))
print(ok, bad, skip, *names)
EOF
}

# build_and_test LABEL DIR CC [MESON_OPTION...]
# Configures and builds DIR with compiler CC, then runs `meson test` there
# (with the sanitizer variables already in the environment) and adds its
# results to the totals.
build_and_test() {
	local label=$1 dir=$2 cc=$3
	shift 3
	banner "$label: configure and build ($dir, CC=$cc $*)"
	if ! bash scripts/setup.sh --no-deps --build-dir "$dir" --cc "$cc" -Dtests=enabled "$@"; then
		echo "$label: BUILD FAILED"
		FAILED=$((FAILED + 1))
		FAILURES+=("$label build")
		return
	fi

	banner "$label: meson test"
	local log=$dir/meson-logs/testlog.json rc
	rm -f "$log"
	meson test -C "$dir" --print-errorlogs
	rc=$?

	if [[ ! -s $log ]]; then
		if ((rc != 0)); then
			echo "$label: meson test failed (exit $rc) before running any test"
			FAILED=$((FAILED + 1))
			FAILURES+=("$label meson-test")
		else
			echo "$label: no tests registered"
		fi
		return
	fi
	local counts ok bad skip
	read -r -a counts < <(count_testlog "$log")
	ok=${counts[0]:-0} bad=${counts[1]:-0} skip=${counts[2]:-0}
	printf '%s: ok=%d fail=%d skip=%d\n' "$label" "$ok" "$bad" "$skip"
	PASSED=$((PASSED + ok)) FAILED=$((FAILED + bad)) SKIPPED=$((SKIPPED + skip))
	local n
	for n in "${counts[@]:3}"; do FAILURES+=("$label $n"); done
	if ((rc != 0 && bad == 0)); then
		echo "$label: meson test exited $rc although no test failed"
		FAILED=$((FAILED + 1))
		FAILURES+=("$label meson-test")
	fi
}

run_integration() {
	local scripts=() f
	shopt -s nullglob
	for f in tests/integration/*.sh; do
		[[ -x $f ]] && scripts+=("$f")
	done
	shopt -u nullglob
	banner "integration tests (${#scripts[@]})"
	if ((${#scripts[@]} == 0)); then
		echo "none yet (executable tests/integration/*.sh are run here)"
		return
	fi
	local tmo=${POP53_ITEST_TIMEOUT:-900} out rc verdict name
	out=$(mktemp -d) || return
	for f in "${scripts[@]}"; do
		name=$(basename "$f" .sh)
		printf -- '--- %s\n' "$name"
		POP53_ROOT=$ROOT POP53_BUILD=$ROOT/build BUILD_DIR=$ROOT/build \
			POP53_ZONEC=$ROOT/build/tools/pop53-zonec \
			timeout --kill-after=10 "$tmo" "$f" </dev/null 2>&1 | tee "$out/$name.log"
		rc=${PIPESTATUS[0]}
		verdict=$(grep -Eo '^(PASS|FAIL|SKIP)\b' "$out/$name.log" | tail -n 1 || true)
		if ((rc == 77)); then
			verdict=SKIP
		elif ((rc == 124 || rc == 137)); then
			verdict="FAIL (timed out after ${tmo}s)"
		elif ((rc != 0)); then
			verdict="FAIL (exit $rc)"
		elif [[ $verdict != FAIL && $verdict != SKIP ]]; then
			verdict=PASS
		fi
		printf -- '--- %s: %s\n' "$name" "$verdict"
		case $verdict in
		PASS) PASSED=$((PASSED + 1)) ;;
		SKIP) SKIPPED=$((SKIPPED + 1)) ;;
		*) FAILED=$((FAILED + 1)); FAILURES+=("integration $name") ;;
		esac
	done
	rm -rf "$out"
}

banner "setup: packages"
if ! bash scripts/setup.sh --deps-only; then
	echo "setup failed: cannot run the tests"
	FAILED=$((FAILED + 1))
	FAILURES+=("setup")
	summary
	exit 1
fi

build_and_test gcc build gcc -Dwerror=true

if [[ ${POP53_SKIP_ASAN:-0} != 1 ]]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:print_summary=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:print_summary=1} \
		build_and_test clang-asan build-asan clang -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi

run_integration

summary
((FAILED == 0))
