# SPDX-License-Identifier: MIT
# tests/e2e/t_recover.sh - the supervisor's recovery on real podman (SPEC 7, 10.3): a SIGKILLed
# daemon is respawned by the holder with no action, re-adopts its containers (no duplicates,
# counts kept) and their output pipes; with holder and daemon both gone, `run` re-adopts.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

pod_ticker() {
    mkpod e2erecover <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: tick
      image: localhost/podtest:1
      command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done']
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
}

ticks() { grep -c ' tick [0-9]*$' "$PODDIR/log/tick-e2erecover-0.0.1-stdout.log" 2>/dev/null || true; }
ticks_ge() { [ "$(ticks)" -ge "$1" ]; }

t_daemon_kill9_recovers_alone() {
    pod_ticker
    pok run
    wait_for 20 "pod ready" ready_is 1
    local id dp t0 n
    id=$(ctr_id tick)
    dp=$(daemon_pid)
    wait_for 10 "some ticks" ticks_ge 5
    t0=$(ms)
    kill -9 "$dp"
    wait_for 10 "a new daemon" daemon_is_not "$dp"
    log "daemon kill -9 -> new daemon: $(ms_since "$t0") ms"
    wait_for 10 "ready again" ready_is 1
    eq "daemon restarts" 1 "$(psj .daemon.restarts)"
    eq "same container" "$id" "$(ctr_id tick)"
    eq "instance" 1 "$(cfield tick instance)"
    eq "restarts" 0 "$(cfield tick restartCount)"
    eq "containers" 1 "$(running_count)"
    # every line, in order, none twice; the one loss SPEC 9.9 allows a SIGKILLed daemon (the
    # newest chunks it had read and not written: one contiguous gap, at the kill) is counted,
    # anything more fails.  At 10 lines/s it is rare (CI saw one line once).
    n=$(ticks)
    wait_for 10 "more ticks" ticks_ge $((n + 10))
    local check
    check=$(sed -n 's/.* tick \([0-9]*\)$/\1/p' "$PODDIR/log/tick-e2erecover-0.0.1-stdout.log" |
        awk 'NR == 1 && $1 != 1 {gaps++; lost += $1 - 1}
             NR > 1 && $1 <= prev {bad = bad " " $1 " after " prev}
             NR > 1 && $1 > prev + 1 {gaps++; lost += $1 - prev - 1; at = prev + 1}
             {prev = $1} END {printf "%d %d %s %s", gaps, lost, at ? at : "-", bad}')
    local gaps lost at bad
    read -r gaps lost at bad <<<"$check"
    [ -z "$bad" ] || fail "log lines duplicated or out of order:$bad"
    [ "$gaps" -le 1 ] || fail "log lines lost in $gaps places ($lost lines): more than the kill's one gap"
    [ "$gaps" = 0 ] || log "the kill's documented loss (SPEC 9.9): $lost line(s) from tick $at"
    pok stop
    no_supervisor_of "$PODDIR"
}

t_supervisor_gone_run_readopts() {
    pod_ticker
    pok run
    wait_for 20 "pod ready" ready_is 1
    local id
    id=$(ctr_id tick)
    kill_supervisor
    wait_for 5 "supervisor gone" no_supervisor_of "$PODDIR"
    eq "readiness with no daemon" 0 "$(p ps >/dev/null; status readiness)"
    pok run
    match "run" 'adopts them' "$ERR"
    wait_for 15 "ready again" ready_is 1
    eq "same container" "$id" "$(ctr_id tick)"
    eq "instance" 1 "$(cfield tick instance)"
    eq "containers" 1 "$(running_count)"
    pok rm
    nothing_left
}
