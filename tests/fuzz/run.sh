#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/run.sh FUZZDIR SECONDS [TARGET...] - runs libFuzzer targets one after another
# (`make fuzz`, tests/stress/part_fuzz.sh) and reports what each did.
#
# FUZZDIR holds the built targets (build/fuzz/fuzz/fuzz_<name>); each runs SECONDS seconds on its
# working corpus FUZZDIR/<name>.corpus (new inputs go there) plus the seeds in
# tests/fuzz/<name>_corpus/, with -print_final_stats=1.  TARGETs are names (`status`) or all of
# them.  After each run one line:
#     FUZZ <name> execs=N seconds=S execs_per_s=R crashes=C
# (N is libFuzzer's stat::number_of_executed_units; C counts the crash/leak/timeout/oom
# artifacts the run wrote as FUZZDIR/<name>-*), then a total line:
#     FUZZ total targets=T execs=N seconds=S crashes=C
# libFuzzer's own output goes to FUZZDIR/<name>.log (its tail is shown after a crash).  A crash
# does not stop the other targets; the exit status is 1 when any target crashed (or failed to
# run), else 0.  FUZZ_ARGS adds libFuzzer options to every target, tests/fuzz/<name>.options
# (one line) to one target.  UBSan reports stop the target (halt_on_error), so they count as
# crashes too.
set -u
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
dir=${1:?usage: run.sh FUZZDIR SECONDS [TARGET...]}
secs=${2:?usage: run.sh FUZZDIR SECONDS [TARGET...]}
shift 2
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$dir"/fuzz_*; do
        [ -x "$f" ] && names+=("${f##*/fuzz_}")
    done
fi
total_execs=0 total_crashes=0 total_s=0 failed=0
for n in "${names[@]}"; do
    bin=$dir/fuzz_$n
    if [ ! -x "$bin" ]; then
        echo "FUZZ $n: no target $bin" >&2
        failed=1
        continue
    fi
    mkdir -p "$dir/$n.corpus"
    before=$(ls "$dir" | grep -cE "^$n-(crash|leak|timeout|oom|slow-unit)-" || true)
    log=$dir/$n.log
    t0=$(date +%s%N)
    opts=
    [ -f "tests/fuzz/$n.options" ] && opts=$(cat "tests/fuzz/$n.options")
    # shellcheck disable=SC2086 # FUZZ_ARGS and opts are lists of options
    "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/$n-" \
        $opts ${FUZZ_ARGS:-} "$dir/$n.corpus" "tests/fuzz/${n}_corpus" >"$log" 2>&1
    rc=$?
    t1=$(date +%s%N)
    after=$(ls "$dir" | grep -cE "^$n-(crash|leak|timeout|oom|slow-unit)-" || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    execs=${execs:-0}
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # died without an artifact (e.g. an error before fuzzing began)
    fi
    ms=$(((t1 - t0) / 1000000))
    s=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
    rate=$((ms > 0 ? execs * 1000 / ms : 0))
    echo "FUZZ $n execs=$execs seconds=$s execs_per_s=$rate crashes=$crashes"
    if [ "$crashes" -ne 0 ]; then
        failed=1
        echo "---- tail of $log" >&2
        tail -40 "$log" >&2
    fi
    total_execs=$((total_execs + execs))
    total_crashes=$((total_crashes + crashes))
    total_s=$((total_s + ms))
done
echo "FUZZ total targets=${#names[@]} execs=$total_execs" \
    "seconds=$(printf '%d.%03d' $((total_s / 1000)) $((total_s % 1000))) crashes=$total_crashes"
exit $failed
