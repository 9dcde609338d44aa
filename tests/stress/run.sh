#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/run.sh - `make stress`: every tests/stress/part_*.sh in order, each with a time
# budget, then one line per part (PASS/FAIL, duration, budget) and the figures it printed.
#
#   bash tests/stress/run.sh BUILD_DIR            (from the repo root; `make stress` does this)
#
# A part is run as `bash tests/stress/part_X.sh BUILD_DIR BUDGET_SECONDS` from the repo root and
# passes when it exits 0.  It should end within its budget; the runner kills its process group
# STRESS_GRACE (60) s after the budget and counts it as FAIL (timeout).  Lines a part prints that
# start with `FIGURE ` are its figures: shown again in the summary.
#
# Budgets: STRESS_BUDGET_<PART> (seconds; PART upper-cased: STRESS_BUDGET_FUZZ=600), else the
# table below, else STRESS_DEFAULT_BUDGET (600).  The defaults sum to ≤ 90 min on a 2-core
# machine; STRESS_TOTAL (5400) caps the whole run: a part gets at most what is left of it, and a
# part started with less than STRESS_MIN_BUDGET (60) s left is skipped (SKIP, counted as a failure).
# STRESS_PARTS (an ERE over part names, e.g. 'load|fuzz') runs a subset.
# Exit: 0 when every part run passed, 1 otherwise, 100 on usage errors.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 111

BUILD=${1:-}
if [ -z "$BUILD" ] || [ ! -d "$BUILD" ]; then
    echo "usage: $0 BUILD_DIR (a built tree, e.g. build/gcc)" >&2
    exit 100
fi

# Default budgets (seconds): 1200+900+900+600+600+900 = 5100 s = 85 min.
declare -A DEFAULT_BUDGET=(
    [fuzz]=1200    # libFuzzer targets, >= 10 M executions in all
    [chaos]=900    # >= 50 daemon SIGKILLs on real podman
    [sweep]=900    # the simulator's fault sweep, every k of every scenario
    [faulty]=600   # each podman call kind failed, hung, slowed on real podman
    [hostile]=600  # hostile containers, disk full
    [load]=900     # 20 + 100 pods on a fake podman, real-podman pods
)
TOTAL=${STRESS_TOTAL:-5400}
GRACE=${STRESS_GRACE:-60}
MIN_BUDGET=${STRESS_MIN_BUDGET:-60}
FILTER=${STRESS_PARTS:-}
OUTDIR=$BUILD/stress
mkdir -p "$OUTDIR"

budget_of() { # budget_of NAME
    local var="STRESS_BUDGET_${1^^}"
    var=${var//[^A-Z0-9_]/_}
    if [ -n "${!var:-}" ]; then
        echo "${!var}"
    elif [ -n "${DEFAULT_BUDGET[$1]:-}" ]; then
        echo "${DEFAULT_BUDGET[$1]}"
    else
        echo "${STRESS_DEFAULT_BUDGET:-600}"
    fi
}

parts=()
for f in tests/stress/part_*.sh; do
    [ -e "$f" ] || continue
    n=${f##*/part_}
    n=${n%.sh}
    if [ -n "$FILTER" ] && ! printf '%s\n' "$n" | grep -Eq -- "$FILTER"; then
        continue
    fi
    parts+=("$n")
done
if [ ${#parts[@]} -eq 0 ]; then
    echo "stress: no part matches '${FILTER}'" >&2
    exit 1
fi

t_start=$(date +%s)
declare -a summary=()
failed=0
for n in "${parts[@]}"; do
    b=$(budget_of "$n")
    left=$((TOTAL - ($(date +%s) - t_start)))
    [ "$b" -le "$left" ] || b=$left
    log=$OUTDIR/part_$n.log
    if [ "$left" -lt "$MIN_BUDGET" ]; then
        summary+=("$(printf '%-8s SKIP  %6s s  (only %s s of STRESS_TOTAL=%s left)' "$n" 0 "$left" "$TOTAL")")
        failed=1
        continue
    fi
    echo "==== stress part $n: budget $b s (log $log)"
    t0=$(date +%s)
    # Own process group so the whole part can be killed; its output goes to the terminal and
    # to the log.
    setsid bash tests/stress/part_"$n".sh "$BUILD" "$b" > >(tee "$log") 2>&1 &
    pid=$!
    deadline=$((t0 + b + GRACE))
    timed_out=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "==== stress part $n: over budget + ${GRACE} s grace, killing it" >&2
            kill -TERM -- "-$pid" 2>/dev/null
            sleep 5
            kill -KILL -- "-$pid" 2>/dev/null
            timed_out=1
            break
        fi
        sleep 0.5
    done
    wait "$pid"
    rc=$?
    sleep 0.2 # let tee finish the log
    dt=$(($(date +%s) - t0))
    verdict=PASS
    why=""
    if [ "$timed_out" = 1 ]; then
        verdict=FAIL
        why="  (timeout)"
    elif [ "$rc" != 0 ]; then
        verdict=FAIL
        why="  (exit $rc)"
    fi
    [ "$verdict" = PASS ] || failed=1
    summary+=("$(printf '%-8s %-5s %6s s  (budget %s s)%s' "$n" "$verdict" "$dt" "$b" "$why")")
    while IFS= read -r line; do
        summary+=("         $line")
    done < <(grep -a '^FIGURE ' "$log" 2>/dev/null)
    echo "==== stress part $n: $verdict in $dt s$why"
done

echo
echo "==== make stress summary ($(($(date +%s) - t_start)) s in all; logs in $OUTDIR)"
for l in "${summary[@]}"; do
    printf '%s\n' "$l"
done
if [ "$failed" = 0 ]; then
    echo "make stress: every part passed"
else
    echo "make stress: FAILED"
fi
exit "$failed"
