#!/usr/bin/env bash
# conformance/selftest.sh - proves that pod-conformance passes and fails the right things.
#
#   selftest.sh RUNNER FIXTURE_BUILD_DIR [POD...]
#
# 1. The good fixture (conformance/fixtures/good) fails no case at all; every broken fixture
#    (good + conformance/fixtures/broken/<name>/defect.patch, one defect each) fails exactly
#    the cases in its expected-failures; every extra POD passes every MUST case (and matches
#    <dir of POD>/expected-failures when that file exists).  CONFORMANCE_JOBS runners at a time
#    (default 4: they mostly wait on deadlines and grace periods).
# 2. Runner checks: exit codes per tier, --level, --filter, --json, --strict, the
#    pod.portmappings.conf tier rule, refusing a running pod, path validation, case-file
#    diagnostics, Ctrl-C.
# 3. No process may be left that lives in, or names, the self-test's temporary directory.
set -euo pipefail

runner=$(realpath "$1")
out=$(realpath -m "$2")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
status_wait=${CONFORMANCE_STATUS_WAIT:-5}
jobs=${CONFORMANCE_JOBS:-4}

rm -rf "$out"
mkdir -p "$out/logs"
work=$(mktemp -d /tmp/pod-conformance-selftest.XXXXXX)
chmod 0711 "$work"
# A failed "refuses a running pod" check must not leave its pod running.
trap '[ -x "$work/live/pod" ] && "$work/live/pod" rm 2>/dev/null; rm -rf "$work"' EXIT
export TMPDIR="$work"
problems=0
problem() {
    echo "conformance self-test: FAIL $*"
    problems=$((problems + 1))
}

# ---- 1. fixtures -------------------------------------------------------------------------

# name <TAB> pod <TAB> status wait (s) <TAB> expected-failures file (empty: "no MUST case fails")
jobs_list=()
fixture() { # name: good + its defect patch
    cp -R "$here/fixtures/good" "$out/$1"
    [ "$1" = good ] || patch -s -p1 -d "$out/$1" <"$here/fixtures/broken/$1/defect.patch"
}
fixture good
jobs_list+=("good	$out/good/pod	$status_wait	$here/fixtures/good/expected-failures")
# Longest first (a fixture that fails many cases waits out many grace periods).
for name in $(for d in "$here"/fixtures/broken/*/; do
    echo "$(grep -cv '^#' "$d/expected-failures") $(basename "$d")"
done | sort -k1,1nr -k2 | cut -d' ' -f2); do
    fixture "$name"
    jobs_list+=("$name	$out/$name/pod	$status_wait	$here/fixtures/broken/$name/expected-failures")
done
# Real pods (CONFORMANCE_PODS) refresh `.pod.status` on their own schedule (ours: every 5 s), so
# they get CONFORMANCE_POD_STATUS_WAIT (default 15) s instead of the fixtures' short wait.
for pod in "$@"; do
    exp="$(dirname "$pod")/expected-failures"
    [ -f "$exp" ] || exp=""
    jobs_list+=("$(basename "$(dirname "$pod")")	$(realpath "$pod")	${CONFORMANCE_POD_STATUS_WAIT:-15}	$exp")
done

run_one() { # name pod status-wait expected
    local args=(--status-wait "$3") start=$SECONDS rc=0
    [ -n "$4" ] && args+=(--expect-failures "$4")
    "$runner" "${args[@]}" "$2" >"$out/logs/$1.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - start))" >"$out/logs/$1.rc"
}

running=0
for j in "${jobs_list[@]}"; do
    IFS=$'\t' read -r name pod wait exp <<<"$j"
    run_one "$name" "$pod" "$wait" "$exp" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

for j in "${jobs_list[@]}"; do
    IFS=$'\t' read -r name pod _ exp <<<"$j"
    log="$out/logs/$name.log"
    read -r rc secs <"$out/logs/$name.rc"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "no summary")
    if [ "$rc" = 0 ] && { [ -z "$exp" ] || grep -q '^# failures are exactly the expected ones' "$log"; }; then
        printf 'conformance self-test: %-22s ok   %-36s %3s s\n' "$name" "($summary)" "$secs"
    else
        problem "$name (exit $rc; $summary)"
        sed 's/^/    /' "$log"
    fi
done

# ---- 2. runner checks ----------------------------------------------------------------------
checks_start=$SECONDS

check() { # description, then the command; the command must succeed
    local what=$1
    shift
    if ! "$@" >"$out/logs/check.log" 2>&1; then
        problem "runner check: $what"
        sed 's/^/    /' "$out/logs/check.log"
    fi
}
expect_rc() { # rc, then the command; leaves its output in $out/logs/last.log
    local want=$1 rc=0
    shift
    "$@" >"$out/logs/last.log" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || { echo "exit $rc, wanted $want"; cat "$out/logs/last.log"; return 1; }
}
has() { grep -qE -- "$1" "$out/logs/last.log" || { echo "no line matching /$1/:"; cat "$out/logs/last.log"; return 1; }; }

r=$runner
ok_must_fail() { # a MUST failure exits 1, the summary line is exact
    expect_rc 1 "$r" --filter '^rm-fresh-twice$' "$out/rm-fresh-fails/pod" &&
        has '^FAIL MUST +rm-fresh-twice: step 1 `rm`: exited with 1' && has '^0 passed, 1 failed$'
}
check "a MUST failure exits 1 with an exact summary" ok_must_fail

should_only() { # SHOULD failures alone exit 0; --strict makes them count
    expect_rc 0 "$r" --filter '^readiness-' "$out/readiness-stdout/pod" &&
        has '^FAIL SHOULD readiness-fresh' && has '^0 passed, 2 failed$' &&
        expect_rc 1 "$r" --strict --filter '^readiness-fresh$' "$out/readiness-stdout/pod"
}
check "SHOULD failures exit 0, --strict exits 1" should_only

levels() { # --level must skips SHOULD and MAY cases and says so
    expect_rc 0 "$r" --level must --filter '^(help|ps-fresh|rm-fresh-twice)$' "$out/good/pod" &&
        has '^skip MAY +help: tier MAY not selected' && has '^skip SHOULD ps-fresh' &&
        has '^ok +MUST +rm-fresh-twice$' && has '^1 passed, 0 failed, 2 skipped$'
}
check "--level must skips SHOULD/MAY" levels

json() { # --json is one document whose counts add up
    expect_rc 1 "$r" --json --filter 'create-ramdisks' "$out/ramdisks-log-line/pod" &&
        jq -e '.failed == 2 and .passed == 0 and .must_failed == 2 and (.cases | length) == 2
               and all(.cases[]; .result == "FAIL" and (.reason | test("token `\\[INFO\\]`")))' \
            "$out/logs/last.log"
}
check "--json" json

no_portmappings() { # without pod.portmappings.conf, a stale .pod.status is only a SHOULD
    cp -R "$out/status-stale" "$work/nopm" && rm "$work/nopm/pod.portmappings.conf" &&
        expect_rc 0 "$r" --status-wait 2 --filter '^status-updated-advances$' "$work/nopm/pod" &&
        has '^FAIL SHOULD status-updated-advances' && rm -rf "$work/nopm"
}
check "freshness is SHOULD without pod.portmappings.conf" no_portmappings

refuse_running() { # a live supervisor named in .pod.status: refuse unless --force
    cp -R "$out/good" "$work/live" && "$work/live/pod" run &&
        expect_rc 100 "$r" --filter '^help$' "$work/live/pod" && has 'refusing to test a pod' &&
        expect_rc 0 "$r" --force --filter '^help$' "$work/live/pod" &&
        "$work/live/pod" rm && rm -rf "$work/live"
}
check "refuses a running pod without --force" refuse_running

paths() { # relative paths and shell metacharacters are refused before anything runs
    mkdir -p "$work/a b" && cp -R "$out/good/." "$work/a b/" &&
        expect_rc 100 "$r" "$work/a b/pod" && has 'spaces or shell metacharacters' &&
        expect_rc 100 "$r" conformance/fixtures/good/pod && has 'absolute path' &&
        rm -rf "$work/a b"
}
check "pod path validation" paths

case_errors() { # a broken corpus is reported as file:line
    mkdir -p "$work/cases" &&
        printf 'case: x\ntier: MUST\nevidence: e\nstep: run\n  exit: sometimes\n' >"$work/cases/bad.case" &&
        expect_rc 100 "$r" --cases "$work/cases" --list &&
        has "bad.case:5: exit \`sometimes\`: expected 0, nonzero or any" &&
        printf 'case: x\nevidence: e\nexit: 0\n' >"$work/cases/bad.case" &&
        expect_rc 100 "$r" --cases "$work/cases" --list && has 'bad.case:3: `exit:` must be indented' &&
        printf 'case: x\nevidence: e\nstep: run; reboot\n' >"$work/cases/bad.case" &&
        expect_rc 100 "$r" --cases "$work/cases" --list && has 'bad.case:3: step `run; reboot`' &&
        rm -rf "$work/cases"
}
check "case-file diagnostics" case_errors

interrupt() { # SIGINT mid-case: exit 130, everything the pod started is gone
    local rc=0
    "$r" --filter '^run-detaches$' "$out/lingering-writer/pod" >"$out/logs/last.log" 2>&1 &
    local pid=$!
    sleep 1
    kill -INT "$pid"
    wait "$pid" || rc=$?
    [ "$rc" = 130 ] || { echo "exit $rc, wanted 130"; cat "$out/logs/last.log"; return 1; }
}
check "SIGINT cleans up and exits 130" interrupt

echo "conformance self-test: runner checks done ($((SECONDS - checks_start)) s)"

# ---- 3. nothing left behind ----------------------------------------------------------------

leaks=""
for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null || true)
    cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null || true)
    case "$cwd $cmd" in
    *"$work"*) leaks="$leaks ${p#/proc/}($cmd)" ;;
    esac
done
[ -z "$leaks" ] || problem "processes left behind:$leaks"
left=$(ls -A "$work")
[ -z "$left" ] || problem "temporary files left in $work: $left"

[ "$problems" -eq 0 ] || { echo "conformance self-test: $problems problem(s)"; exit 1; }
echo "conformance self-test: ${#jobs_list[@]} pods as expected, runner checks passed, nothing left behind"
