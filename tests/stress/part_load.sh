#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_load.sh - `make stress` part (and `make load`): many pods on one machine
# (tests/load/load.sh).  Stages, each only when the budget still holds its estimate:
#   1. 20 pods on the fake podman, 20 s idle window, 20 s restart storm        (~1.5 min)
#   2. LOAD_PODS (100) pods on the fake podman, 60 s idle, 60 s storm           (~5 min)
#   3. LOAD_REAL_PODS (10) pods on real podman (localhost/podtest:1), 60 s idle (~3 min;
#      skipped when podman cannot run that image)
# Usage: bash tests/stress/part_load.sh BUILD_DIR BUDGET_SECONDS (from the repo root).
set -u
BUILD=$1
BUDGET=${2:-900}
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 111
FAKE=$BUILD/tests/load/fakepodman
if [ ! -x "$FAKE" ] || [ tests/load/fakepodman.c -nt "$FAKE" ]; then
    mkdir -p "$(dirname "$FAKE")"
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$FAKE" tests/load/fakepodman.c || exit 1
fi
start=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - start))); }
rc=0
stage() { # stage ESTIMATE_S ARGS...
    local est=$1
    shift
    if [ "$(left)" -lt "$est" ]; then
        echo "FIGURE load $2-$3 skipped: $(left) s of the budget left, needs ~$est s"
        return 0
    fi
    echo "==== load.sh $*"
    bash tests/load/load.sh "$BUILD" "$@" || rc=1
}
stage 120 fake 20 20 20
stage 360 fake "${LOAD_PODS:-100}" 60 60
if [ "$(id -u)" = 0 ] && command -v podman >/dev/null &&
    podman image exists localhost/podtest:1 2>/dev/null; then
    stage 240 real "${LOAD_REAL_PODS:-10}" 60
else
    echo "FIGURE load real skipped: no podman with localhost/podtest:1 (as root)"
fi
exit $rc
