#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/bench_runtime.sh - the runtime on real podman (make bench; issue 10's targets),
# every target judged against a floor or baseline measured in the same run:
#
#   bash tests/bench/bench_runtime.sh PODC [IDLE_S]
#
# The yardstick is issue 10's: a 2-container pod (httpd + worker) with 3 exec probes.  The
# parts (sourced, they share this file's helpers and its result table):
#   tests/bench/runtime_cpu.sh      steady CPU of the pod's own processes, whole-machine busy
#                                   time minus an idle baseline (no pod, same duration), RSS
#                                   and peak RSS of daemon + holder, which exec path the probes
#                                   used;
#   tests/bench/runtime_latency.sh  container exit -> running again (first failure) vs a bare
#                                   `podman run -d --replace`, also with a warm standby (and a
#                                   bare run of a fresh name at the exit, not judged); config
#                                   edit -> signal delivered
#                                   (p50/p99/max, same-size and different-size edits); `pod
#                                   stop` and `pod rm` vs the SPEC 8.8 stop schedule done by
#                                   bare `podman stop`;
#   tests/bench/runtime_logs.sh     300 000 lines of 100 bytes captured byte-exact vs the same
#                                   container writing through a bare passthrough pipe.
# At the end one table: what | measured | floor/baseline (same run) | ratio | target |
# PASS/MISS | the original podc 0.4.0's figure.  Benchmarks are not tests: exit 0 even on a
# MISS.  Timing on a shared machine is disturbed by other jobs: the load average at the start
# and at the end is printed next to the table.  BENCH_PARTS (default "cpu latency logs") picks
# parts, BENCH_KEEP=1 keeps the work directory (the pods' logs) for a look afterwards.  Needs
# root podman and localhost/podtest:1 (ci/podman-setup.sh); pods and bare containers made here
# are all named bench*.
set -u
PODC=$(realpath "${1:?usage: bench_runtime.sh PODC [IDLE_S]}")
IDLE_S=${2:-60}
# shellcheck disable=SC2034 # used by runtime_logs.sh
BENCH_BIN=$(dirname "$PODC")/tests/bench
HERE=$(dirname "$(realpath "$0")")
command -v podman >/dev/null 2>&1 && podman image exists localhost/podtest:1 2>/dev/null || {
    echo "podman or localhost/podtest:1 missing: skipped"
    exit 0
}
W=$(mktemp -d /tmp/bench-runtime.XXXXXX)
cleanup() {
    for p in "$W"/*/pod; do [ -x "$p" ] && "$p" rm -k >/dev/null 2>&1; done
    podman rm -f -t 0 benchbare benchbare-a benchbare-b benchfresh benchlogbare >/dev/null 2>&1
    [ -n "${BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
# The pods' daemons log at INFO (restarts, the exec path fallback are INFO lines the parts read),
# whatever the caller set (ci/bench.sh exports 1).
export SPACE_LOG_LEVEL=4
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
DATE0=$(date -u '+%Y-%m-%d %H:%M UTC')

# ------------------------------------------------------------------ helpers
ms() { echo $(($(date +%s%N) / 1000000)); }
mk() { # DIR [NAME] < yaml: compile a pod into $W/DIR (pod name NAME, default DIR)
    mkdir -p "$W/$1/config/cfg"
    echo 1 >"$W/$1/config/cfg/a.txt"
    cat >"$W/$1/pod.yaml"
    (cd "$W/$1" && SPACE_LOG_LEVEL=1 "$PODC" "${2:-$1}" -o pod) || exit 1
}
# A number list on stdin -> "p50 p99 max min n" (nearest rank).
pct() {
    grep -E '^[0-9.]+$' | sort -n | awk '{v[NR] = $1} END {
        if (NR == 0) {print "- - - - 0"; exit}
        r50 = int((NR * 50 + 99) / 100); r99 = int((NR * 99 + 99) / 100)
        print v[r50], v[r99], v[NR], v[1], NR}'
}
median() { pct | cut -d' ' -f1; }
# The result table: one tab-separated row per target, printed at the end.
ROWS=$W/rows
: >"$ROWS"
result() { # WHAT MEASURED BASELINE RATIO TARGET VERDICT ORIGINAL
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
}
# verdict A OP B: PASS when the awk comparison A OP B holds, MISS when not, "-" when unknown.
verdict() {
    case "$1$3" in *-*) echo "-" ; return ;; esac
    awk -v a="$1" -v b="$3" "BEGIN { print ((a $2 b) ? \"PASS\" : \"MISS\") }"
}
ratio() { # A B -> A/B as "1.23x" ("-" when unknown)
    case "$1$2" in *-*) echo "-" ; return ;; esac
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}
say() { printf '  %s\n' "$*"; } # a detail line while the parts run

# ------------------------------------------------------------------ the parts
echo "runtime bench: podman $(podman version --format '{{.Client.Version}}' 2>/dev/null), $(nproc) cores, load $LOAD0"
EXEC_PATH="(not measured)"
# shellcheck source=/dev/null
for part in ${BENCH_PARTS:-cpu latency logs}; do
    . "$HERE/runtime_$part.sh"
done

# ------------------------------------------------------------------ the table
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "### runtime targets (issue 10), $DATE0, $(nproc) cores; load average at start $LOAD0, at end $LOAD1"
echo "### exec path of the probes: $EXEC_PATH"
{
    printf 'what\tmeasured\tfloor/baseline (same run)\tratio\ttarget\tresult\toriginal podc\n'
    cat "$ROWS"
} | awk -F'\t' '
    {for (i = 1; i <= NF; i++) {c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i)}; n = NR}
    END {
        for (r = 1; r <= n; r++) {
            line = "|"
            for (i = 1; i <= 7; i++) line = line sprintf(" %-" w[i] "s |", c[r, i])
            print line
            if (r == 1) {
                line = "|"
                for (i = 1; i <= 7; i++) {s = ""; for (k = 0; k < w[i] + 2; k++) s = s "-"; line = line s "|"}
                print line
            }
        }
    }'
MISSES=$(awk -F'\t' '$6 == "MISS"' "$ROWS" | wc -l)
echo "### $MISSES target(s) missed (not asserted: benchmarks are not tests)"
exit 0
