#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_chaos.sh BUILD_DIR BUDGET_SECONDS - the long variant of tests/e2e/t_chaos.sh
# (make stress): the daemon SIGKILLed at random points >= 50 times on real podman
# (CHAOS_KILLS_WANTED, default 50; modes drawn at random after one each of d, dd, hd, h:
# tests/e2e/lib_chaos.sh), then tests/e2e/t_diskfull.sh once.  Prints the tests' FIGURE lines;
# exits 0 when both pass and the kills reached the number wanted.  A round costs ~5-15 s on a
# 2-core machine shared with other jobs (51 kills in 740 s) and 15-25 s under a load average of
# 15-18 (34 kills in 750 s): give the part 1500 s (STRESS_BUDGET_CHAOS) on a busy machine.  The chaos test's deadline is
# the budget less 60 s for the disk-full test.  Replay a run: CHAOS_SEED=N (printed in the FIGURE line).
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUDGET_SECONDS" >&2; exit 100; }
build=$1
budget=$2
here=$(cd "$(dirname "$0")" && pwd)
figs=$(mktemp /tmp/e2ech-stress-figures.XXXXXX)
trap 'rm -f "$figs"' EXIT
chaos_budget=$((budget > 180 ? budget - 60 : budget))
rc=0
want=${CHAOS_KILLS_WANTED:-50}
# the kills stop early when time runs short (2 min kept for the final checks): fewer than
# wanted is a failure, reported with the figure
CHAOS_MODES_FIRST="d dd hd h" CHAOS_POD=e2echstress CHAOS_FIGURES=$figs CHAOS_KILLS_WANTED=$want CHAOS_SECONDS=$((chaos_budget - 150)) \
    E2E_TIMEOUT=$chaos_budget bash "$here/../e2e/run.sh" "$build" '^chaos/chaos_kill$' || rc=1
kills=$(sed -n 's/^FIGURE chaos kills=\([0-9]*\).*/\1/p' "$figs")
if [ "${kills:-0}" -lt "$want" ]; then
    echo "part_chaos: only ${kills:-0} of $want kills within the budget"
    rc=1
fi
CHAOS_FIGURES=$figs E2E_TIMEOUT=120 bash "$here/../e2e/run.sh" "$build" '^diskfull/' || rc=1
cat "$figs"
exit $rc
