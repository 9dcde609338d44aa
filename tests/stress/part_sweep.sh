#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_sweep.sh - the simulator's whole fault sweep (make stress; `make sim` runs a
# bounded subset):
#
#   bash tests/stress/part_sweep.sh BUILD_DIR BUDGET_SECONDS
#
# `podsim sweep` over every scenario of sim/scenarios: for every k from 1 to the number of podman
# calls of the scenario's clean run, one run where the k-th call fails and one where it hangs
# until the backend's deadline (SPEC 10.4).  Passes when no run violates an invariant.  Prints
# FIGURE lines: scenarios, podman calls swept, runs, seconds.  Deterministic: no clock, no sleep.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUDGET_SECONDS" >&2; exit 100; }
build=$(cd "$1" && pwd)
podsim=$build/podsim
[ -x "$podsim" ] || { echo "part_sweep: FAIL: no $podsim (build first)" >&2; exit 1; }
out=$(mktemp /tmp/e2esw-part-sweep.XXXXXX)
trap 'rm -f "$out"' EXIT
t0=$(date +%s)
rc=0
"$podsim" sweep sim/scenarios/*.scn | tee "$out" || rc=$?
t=$(($(date +%s) - t0))
awk '/^SWEEP / {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] }
        n++
     }
     END {
        printf "FIGURE sweep: %d scenarios, %d podman calls swept (fail + hang each), %d runs, %d violations\n", n, s["calls"], s["runs"], s["violations"]
     }' "$out"
echo "FIGURE sweep: ${t} s wall"
[ "$rc" = 0 ] || { echo "part_sweep: FAIL: invariant violations (replay lines above)" >&2; exit 1; }
echo "part_sweep: PASS"
