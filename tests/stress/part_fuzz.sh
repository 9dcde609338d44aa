#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_fuzz.sh - every libFuzzer target for the budget (make stress):
#
#   bash tests/stress/part_fuzz.sh BUILD_DIR BUDGET_SECONDS
#
# Builds the targets (`make fuzz-build`: clang, libFuzzer + ASan + UBSan, into build/fuzz/fuzz/;
# BUILD_DIR is not used: the fuzz variant is its own build), then runs them in
# STRESS_FUZZ_JOBS (default 2: one per core) lanes at once, each lane its share of the targets
# one after another (tests/fuzz/run.sh), so that all of them end within the budget: every target
# gets the same time, (budget - build - 30 s margin) / (targets in the longest lane), but at least
# STRESS_FUZZ_MIN_S (20) s.  Working corpora persist in build/fuzz/fuzz/<name>.corpus (a later
# run starts where this one ended); the seeds come from tests/fuzz/<name>_corpus/.
# Aim (issue 11): >= 10 million executions across the targets, 0 crashes, 0 sanitizer reports.
# Prints per target `FIGURE fuzz_<name> execs=N seconds=S execs_per_s=R crashes=C`, then
# `FIGURE fuzz execs_total=N crashes=C targets=T seconds_per_target=S lanes=L` and whether the
# 10 M aim was reached (`FIGURE fuzz aim_10M=yes|no`).  Fails when a target crashed (an
# artifact: build/fuzz/fuzz/<name>-crash-*; the tail of its log is printed), found a leak or a
# UBSan report, or did not run; missing the aim alone is reported, not a failure.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUDGET_SECONDS" >&2; exit 100; }
budget=$2
lanes=${STRESS_FUZZ_JOBS:-2}
min_s=${STRESS_FUZZ_MIN_S:-20}
dir=build/fuzz/fuzz
t0=$(date +%s)
mkdir -p build/fuzz
if ! make -j"$lanes" fuzz-build >build/fuzz/part_fuzz_build.log 2>&1; then
    tail -30 build/fuzz/part_fuzz_build.log >&2
    echo "part_fuzz: FAIL: make fuzz-build" >&2
    exit 1
fi
names=()
for f in tests/fuzz/fuzz_*.c; do
    n=${f##*/fuzz_}
    names+=("${n%.c}")
done
left=$((budget - ($(date +%s) - t0) - 30))
per_lane=$(((${#names[@]} + lanes - 1) / lanes)) # the longest lane's targets
per=$((left / per_lane - 2))                      # libFuzzer overshoots by ~1-2 s
[ "$per" -ge "$min_s" ] || per=$min_s
echo "part_fuzz: ${#names[@]} targets, $lanes lanes, $per s each (build took $(($(date +%s) - t0)) s)"

pids=()
for ((l = 0; l < lanes; l++)); do
    mine=()
    for ((i = l; i < ${#names[@]}; i += lanes)); do
        mine+=("${names[$i]}")
    done
    [ ${#mine[@]} -gt 0 ] || continue
    bash tests/fuzz/run.sh "$dir" "$per" "${mine[@]}" >"build/fuzz/part_fuzz_lane$l.log" 2>&1 &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do
    wait "$p" || failed=1
done

total=0 crashes=0 ran=0
for ((l = 0; l < lanes; l++)); do
    log=build/fuzz/part_fuzz_lane$l.log
    [ -f "$log" ] || continue
    grep -v '^FUZZ ' "$log" >&2 # a crash's tail, a missing target
    while read -r _ n kv; do
        [ "$n" = total ] && continue
        echo "FIGURE fuzz_$n $kv"
        e=$(sed -n 's/.*execs=\([0-9]*\).*/\1/p' <<<"$kv")
        c=$(sed -n 's/.*crashes=\([0-9]*\).*/\1/p' <<<"$kv")
        total=$((total + ${e:-0}))
        crashes=$((crashes + ${c:-0}))
        ran=$((ran + 1))
    done < <(grep '^FUZZ ' "$log")
done
echo "FIGURE fuzz execs_total=$total crashes=$crashes targets=$ran seconds_per_target=$per lanes=$lanes"
echo "FIGURE fuzz aim_10M=$([ "$total" -ge 10000000 ] && echo yes || echo no)"
if [ "$ran" -ne ${#names[@]} ] || [ "$crashes" -ne 0 ] || [ "$failed" -ne 0 ]; then
    echo "part_fuzz: FAIL: $crashes crash(es), $ran of ${#names[@]} targets ran" >&2
    exit 1
fi
exit 0
