#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_faulty.sh - the long kinds x actions matrix on a faulty podman (make stress;
# `make e2e` runs the matrix without `run hang`, SPEC 11.5):
#
#   bash tests/stress/part_faulty.sh BUILD_DIR BUDGET_SECONDS
#
# tests/e2e/t_faulty.sh `t_matrix_long`: every cell of FAULT_MATRIX plus FAULT_MATRIX_LONG (a
# `podman run` that hangs until its 120 s deadline) in one pod on real podman.  Needs podman and
# localhost/podtest:1 (skipped otherwise, as make e2e).  Prints FIGURE lines: cells, seconds.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUDGET_SECONDS" >&2; exit 100; }
t0=$(date +%s)
rc=0
FAULTY_LONG=1 E2E_TIMEOUT=$(($2 > 60 ? $2 - 30 : $2)) bash tests/e2e/run.sh "$1" 'faulty/matrix_long' || rc=$?
echo "FIGURE faulty: $(($(date +%s) - t0)) s for the long kinds x actions matrix (15 cells: the make e2e matrix + run hang + the listing failed, hung, slowed)"
exit $rc
