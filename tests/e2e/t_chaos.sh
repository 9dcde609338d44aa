# SPDX-License-Identifier: MIT
# tests/e2e/t_chaos.sh - the daemon SIGKILLed at random points on real podman while a container
# crash-loops, probes run, the config is edited and a container logs numbered lines (SPEC 10.3,
# 9.9, 8.9; tests/e2e/lib_chaos.sh says what is checked).  A few kills here (CHAOS_KILLS, 4 by
# default: the modes d, dd, hd and one drawn at random); tests/stress/part_chaos.sh runs >= 50.
# Replay a run: CHAOS_SEED=N make e2e E2E_FILTER=chaos_kill.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_chaos.sh"

chaos_hups() { wc -l <"$PODDIR/out/hup" 2>/dev/null || echo 0; }
chaos_hups_gt() { [ "$(chaos_hups)" -gt "$1" ]; }

t_chaos_kill() {
    chaos_pod e2echaos
    chaos_start
    local modes="d dd hd" m i=0 n=${CHAOS_KILLS_WANTED:-4}
    while [ "$CHAOS_KILLS" -lt "$n" ]; do
        i=$((i + 1))
        m=$(echo $modes | cut -d' ' -f$i 2>/dev/null)
        [ -n "$m" ] || m=$(echo "d d hd h" | cut -d' ' -f$(($(chaos_rand 4) + 1)))
        chaos_round "$m"
    done
    # config edits reach the hup container (its handler counts in out/hup; an edit made while
    # no daemon ran is not signalled by the next one, SPEC 8.9)
    local h
    h=$(chaos_hups)
    chaos_edit
    wait_for 20 "a HUP after the last edit" chaos_hups_gt "$h"
    chaos_finish
}
