#!/usr/bin/env bash
# conformance/selftest.sh - proves that pod-conformance passes and fails the right things.
#
#   selftest.sh RUNNER FIXTURE_BUILD_DIR [POD...]
#
# The good fixture (conformance/fixtures/good) must fail no case at all; every broken fixture
# (good + conformance/fixtures/broken/<name>/defect.patch, one defect each) must fail exactly
# the cases in its expected-failures; every extra POD must pass every MUST case (and match
# <dir of POD>/expected-failures when that file exists).  CONFORMANCE_JOBS runners at a time (default 3).  Finally no
# process may be left that lives in, or names, the self-test's temporary directory.
set -euo pipefail

runner=$(realpath "$1")
out=$(realpath -m "$2")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
status_wait=${CONFORMANCE_STATUS_WAIT:-5}
jobs=${CONFORMANCE_JOBS:-3} # runners mostly wait (deadlines, grace periods), little CPU

rm -rf "$out"
mkdir -p "$out/logs"
work=$(mktemp -d /tmp/pod-conformance-selftest.XXXXXX)
chmod 0711 "$work"
trap 'rm -rf "$work"' EXIT

# name <TAB> pod <TAB> expected-failures file (empty: "no MUST case fails")
jobs_list=()
cp -R "$here/fixtures/good" "$out/good"
jobs_list+=("good	$out/good/pod	$here/fixtures/good/expected-failures")
for d in "$here"/fixtures/broken/*/; do
    name=$(basename "$d")
    cp -R "$here/fixtures/good" "$out/$name"
    patch -s -p1 -d "$out/$name" <"$d/defect.patch"
    jobs_list+=("$name	$out/$name/pod	$d/expected-failures")
done
for pod in "$@"; do
    exp="$(dirname "$pod")/expected-failures"
    [ -f "$exp" ] || exp=""
    jobs_list+=("$(basename "$(dirname "$pod")")	$(realpath "$pod")	$exp")
done

run_one() { # name pod expected
    local args=(--status-wait "$status_wait")
    [ -n "$3" ] && args+=(--expect-failures "$3")
    TMPDIR="$work" "$runner" "${args[@]}" "$2" >"$out/logs/$1.log" 2>&1
}

failed=0
running=0
names=()
for j in "${jobs_list[@]}"; do
    IFS=$'\t' read -r name pod exp <<<"$j"
    names+=("$name")
    run_one "$name" "$pod" "$exp" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

declare -A rc
for j in "${jobs_list[@]}"; do
    IFS=$'\t' read -r name pod exp <<<"$j"
    log="$out/logs/$name.log"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "no summary")
    if grep -q '^# failures are exactly the expected ones' "$log" ||
        { [ -z "$exp" ] && grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" &&
            ! grep -q '^FAIL MUST' "$log"; }; then
        printf 'conformance self-test: %-22s ok   (%s)\n' "$name" "$summary"
    else
        printf 'conformance self-test: %-22s FAIL (%s)\n' "$name" "$summary"
        sed 's/^/    /' "$log"
        failed=$((failed + 1))
    fi
done

# Nothing may outlive the runners: no process whose cwd or command line is under $work.
leaks=""
for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null || true)
    cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null || true)
    case "$cwd $cmd" in
    *"$work"*) leaks="$leaks ${p#/proc/}($cmd)" ;;
    esac
done
if [ -n "$leaks" ]; then
    echo "conformance self-test: processes left behind:$leaks"
    failed=$((failed + 1))
fi
if [ -n "$(ls -A "$work")" ]; then
    echo "conformance self-test: temporary files left in $work: $(ls -A "$work")"
    failed=$((failed + 1))
fi
[ "$failed" -eq 0 ] || { echo "conformance self-test: $failed problem(s)"; exit 1; }
echo "conformance self-test: ${#jobs_list[@]} pods checked, all as expected"
