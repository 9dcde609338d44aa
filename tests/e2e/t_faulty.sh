# SPDX-License-Identifier: MIT
# tests/e2e/t_faulty.sh - the daemon on a podman that misbehaves (tests/e2e/faulty-podman, SPEC
# 7.8, 8.3, 8.6, 8.8, 8.9): calls that hang, fail or lie; a start still in flight when the daemon
# dies, then a stop; a probe whose cancel fails.  The daemon never blocks or dies, retries, and
# converges once podman behaves; stop/rm leave nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# faulty: every pod call of this test (and the holder and daemons they start) uses the wrapper.
faulty() {
    export FAULTY_DIR=$T/faults
    mkdir -p "$FAULTY_DIR"
    : >"$FAULTY_DIR/calls"
    : >"$FAULTY_DIR/rules"
    FAULTY_REAL=$(command -v podman)
    export FAULTY_REAL
    export POD_PODMAN
    POD_PODMAN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/faulty-podman
}

# fault VERB ACTION TIMES MATCH [ARG]: one more rule (faulty-podman's header).
fault() {
    (
        exec 9>>"$FAULTY_DIR/.lock"
        flock 9
        echo "$*" >>"$FAULTY_DIR/rules"
    )
}

faults_clear() {
    (
        exec 9>>"$FAULTY_DIR/.lock"
        flock 9
        : >"$FAULTY_DIR/rules"
    )
}

# hits VERB ACTION: calls of VERB that got ACTION so far.
hits() { awk -v v="$1" -v a="$2" '$3 == v && $4 == a' "$FAULTY_DIR/calls" | wc -l; }
hits_ge() { [ "$(hits "$1" "$2")" -ge "$3" ]; }

dlog() { printf '%s' "$PODDIR/log/$PODNAME-0.0.1-stderr.log"; }
dlog_has() { grep -Eq -- "$1" "$(dlog)"; }

# the end of every test: podman behaves again, stop and rm leave nothing behind
stop_rm_clean() {
    faults_clear
    pok stop
    no_supervisor_of "$PODDIR"
    eq "running after stop" 0 "$(running_count)"
    pok rm
    nothing_left
}

# `container inspect` of one container hangs until its deadline (30 s) kills it: meanwhile the
# daemon answers, supervises the others and probes through podman exec; then the retried
# inspect finds the pid (the exit source and the agent come up) and nothing else changed.
t_hangs() {
    faulty
    mkpod e2efhang <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 0.3; exit 1']
      restart: always
      stopTimeout: 1
      restartBackoff:
        maxSeconds: 1
    - name: slow
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    fault inspect hang 1 'slow-e2efhang'
    pok run
    wait_for 20 "slow's inspect hangs" hits_ge inspect hang 1
    local t0 hpid dp r0 t n
    t0=$(awk '$3 == "inspect" && $4 == "hang" {print $1}' "$FAULTY_DIR/calls") # its start
    hpid=$(awk '$3 == "inspect" && $4 == "hang" {print $2}' "$FAULTY_DIR/calls")
    dp=$(daemon_pid)
    wait_for 20 "slow ready (through podman exec)" cfield_is slow ready true
    r0=$(cfield crash restartCount)
    # ~25 s of the hang: every ps answers at once, crash keeps being restarted
    for _ in $(seq 1 25); do
        t=$(ms)
        psj .phase >/dev/null
        [ "$(ms_since "$t")" -lt 2000 ] || fail "ps took $(ms_since "$t") ms while inspect hangs"
        sleep 0.9
        [ "$(ms_since "$t0")" -lt 25000 ] || break
    done
    kill -0 "$hpid" 2>/dev/null || fail "the hanging inspect ended before its deadline"
    eq "agent in slow (its pid is not known yet)" 0 "$(count_in slow '^/\.podc/agent __agent')"
    n=$(cfield crash restartCount)
    [ "$n" -ge $((r0 + 5)) ] || fail "crash restarted $((n - r0)) times during the hang"
    log "during the hang: crash restarted $((n - r0)) times"
    # the deadline kills it; the retried inspect arms the exit source and starts the agent
    wait_for 15 "the hung inspect killed" sh -c "! kill -0 $hpid"
    log "hung inspect killed after $(ms_since "$t0") ms"
    [ "$(ms_since "$t0")" -ge 29000 ] || fail "the hung inspect died after $(ms_since "$t0") ms"
    wait_for 10 "slow's agent" sh -c "[ \"\$(podman exec $(ctr slow) ps -o args | grep -c '^/.podc/agent __agent')\" = 1 ]"
    dlog_has "inspect slow-e2efhang-0.0.1"
    eq "same daemon" "$dp" "$(daemon_pid)"
    eq "slow: instance" 1 "$(cfield slow instance)"
    eq "slow: phase" running "$(cfield slow phase)"
    eq "slow: ready" true "$(cfield slow ready)"
    # the exit source works: PID 1 killed behind the daemon's back is seen at once
    podman kill --signal KILL "$(ctr slow)" >/dev/null
    wait_for 5 "slow's exit seen" cfield_is slow phase exited
    stop_rm_clean
}

# `podman stop` hangs: the supervisor's own SIGKILL (stopTimeout + 2 s, through the pidfd) ends
# the container, the pod stops without waiting for the call's deadline (31 s), and the daemon
# that exits kills the hung call: nothing of it stays.
t_stop_hangs() {
    faulty
    mkpod e2efstop <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: svc
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
YAML
    pok run
    wait_for 20 "svc running" cfield_is svc phase running
    fault stop hang - 'svc-e2efstop'
    local t0 took hpid
    t0=$(ms)
    pok stop
    took=$(ms_since "$t0")
    log "stop with a hanging podman stop: $took ms"
    eq "hung stops" 1 "$(hits stop hang)"
    [ "$took" -lt 10000 ] || fail "stop took $took ms"
    hpid=$(awk '$3 == "stop" && $4 == "hang" {print $2}' "$FAULTY_DIR/calls")
    ! kill -0 "$hpid" 2>/dev/null || fail "the hung podman stop ($hpid) outlived the daemon"
    dlog_has 'svc: .*SIGKILL'
    eq "svc exit code" 137 "$(ctr_exit_code svc)"
    stop_rm_clean
}

# `podman run` fails 3 times with garbage on stderr: each is a failed start, retried with
# backoff (at least 1 s between starts), reported in the daemon log and ps; the 4th runs.
t_fails() {
    faulty
    mkpod e2effail <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: flaky
      image: localhost/podtest:1
      command: [sleep, "300"]
      restart: on-failure
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    fault run fail 3 'flaky-e2effail'
    local dp
    pok run
    dp=$(daemon_pid)
    wait_for 30 "flaky running" cfield_is flaky phase running
    wait_for 10 "pod ready" ready_is 1
    eq "failed runs" 3 "$(hits run fail)"
    eq "good runs" 1 "$(hits run pass)"
    eq "flaky: instance" 4 "$(cfield flaky instance)"
    eq "flaky: restarts" 3 "$(cfield flaky restartCount)"
    eq "flaky: failures" 3 "$(cfield flaky failures)"
    eq "same daemon" "$dp" "$(daemon_pid)"
    eq "flaky containers" 1 "$(running_count)"
    local nlog gaps g
    nlog=$(grep -c 'flaky: .*start failed: .*injected run failure' "$(dlog)" || true)
    eq "start failures in the daemon log" 3 "$nlog"
    # ps shows the last of them (SPEC 7.2 lastWarning), with its age, after the recovery too
    match "ps --json: flaky's last warning" 'start failed: .*injected run failure' \
        "$(cfield flaky lastWarning)"
    pok ps
    match "ps: flaky's last warning" 'lastWarning: start failed: .*injected run failure.* \([0-9]+ s ago\)' "$OUT"
    # s6's nextstart: two starts at least 1 s apart (a retry at once would be ~0.1 s; the
    # margin is for the wrapper's own start under load)
    gaps=$(awk '$3 == "run" {if (p) print $1 - p; p = $1}' "$FAULTY_DIR/calls" | tr '\n' ' ')
    log "ms between runs: $gaps"
    for g in $gaps; do
        [ "$g" -ge 800 ] || fail "two runs $g ms apart"
    done
    stop_rm_clean
}

# `container inspect` lies: bad JSON, a truncated answer, an empty array, a wrong state
# (paused): nothing crashes, the daemon stays, the lookup is retried until the pid is known.
t_lies() {
    faulty
    mkpod e2eflie <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: liar
      image: localhost/podtest:1
      command: [sleep, "300"]
      restart: always
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    fault inspect badjson 1 'liar-e2eflie'
    fault inspect truncated 1 'liar-e2eflie'
    fault inspect empty 1 'liar-e2eflie'
    fault inspect paused 2 - # by name, then by the id the first paused answer gave
    local dp
    pok run
    dp=$(daemon_pid)
    wait_for 20 "pod ready" ready_is 1
    wait_for 20 "every lie told" hits_ge inspect paused 2
    wait_for 15 "liar's agent (its pid known)" sh -c "[ \"\$(podman exec $(ctr liar) ps -o args | grep -c '^/.podc/agent __agent')\" = 1 ]"
    eq "same daemon" "$dp" "$(daemon_pid)"
    kill -0 "$dp" || fail "the daemon died"
    eq "liar: instance" 1 "$(cfield liar instance)"
    eq "liar: restarts" 0 "$(cfield liar restartCount)"
    eq "liar: ready" true "$(cfield liar ready)"
    eq "liar containers" 1 "$(running_count)"
    local warns
    warns=$(grep -c 'inspect liar-e2eflie-0.0.1' "$(dlog)" || true)
    [ "$warns" -ge 3 ] || fail "$warns inspect warnings in the daemon log"
    dlog_has 'inspect liar-e2eflie-0.0.1: no container in the answer \(exit 0\)'
    ! grep -E 'inspect liar-e2eflie-0.0.1: *$' "$(dlog)" || fail "an inspect warning without its reason"
    # the exit source is armed: a kill behind the daemon's back restarts it (restart: always)
    podman kill --signal KILL "$(ctr liar)" >/dev/null
    wait_for 10 "liar restarted" cfield_ge liar restartCount 1
    wait_for 10 "liar running again" cfield_is liar phase running
    stop_rm_clean
}

# inflight_pod NAME SECONDS: db runs; web's `podman run` is `podman create`, SECONDS of sleep,
# then `podman start`: returns once web is created and its start is in flight.
inflight_pod() {
    faulty
    mkpod "$1" <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: db
      image: localhost/podtest:1
      command: [sleep, "300"]
      restart: always
      stopTimeout: 1
    - name: web
      image: localhost/podtest:1
      command: [sleep, "300"]
      restart: always
      stopTimeout: 1
YAML
    fault run slowrun 1 "web-$1" "$2"
    pok run
    wait_for 20 "web created, its start delayed" grep -q ' slowrun-created' "$FAULTY_DIR/calls"
    eq "web in podman" created "$(ctr_state web)"
}

new_daemon_is_not() {
    local d
    d=$(daemon_pid)
    [ -n "$d" ] && [ "$d" != "$1" ] && kill -0 "$d"
}

delayed_start_done() { grep -q ' slowrun-done' "$FAULTY_DIR/calls"; }

# after the stop/kill returned: nothing runs, web is gone; also once the delayed `podman start`
# came (it fails); then rm leaves nothing
nothing_runs_after_the_delayed_start() {
    ! delayed_start_done || fail "the delayed start completed before the stop returned"
    eq "running after stop" 0 "$(running_count)"
    eq "web after stop" missing "$(ctr_state web)"
    no_supervisor_of "$PODDIR"
    wait_for 15 "the delayed start done" delayed_start_done
    ! grep -q ' slowrun-done rc=0' "$FAULTY_DIR/calls" || fail "the delayed start succeeded"
    eq "running after the delayed start" 0 "$(running_count)"
    eq "web after the delayed start" missing "$(ctr_state web)"
    pok rm
    nothing_left
}

# SPEC 8.8/8.9 on real podman (scenario daemon-restart-stop-during-start-in-flight): web's start
# is in flight when the daemon is SIGKILLed; the holder's new daemon waits for it; `pod stop`
# then removes it: nothing runs after the stop, also after the delayed `podman start` came.
t_start_in_flight_then_stop() {
    inflight_pod e2efinfl 6
    local dp t0
    dp=$(daemon_pid)
    kill -9 "$dp"
    t0=$(ms)
    wait_for 10 "a new daemon" new_daemon_is_not "$dp"
    wait_for 10 "the new daemon waits for web's start" dlog_has 'web: instance 1 is created but has not run'
    pok stop
    log "kill -9 -> stopped: $(ms_since "$t0") ms"
    dlog_has 'web: .*removing it so that its start cannot complete later'
    dlog_has 'web: its removal is confirmed'
    nothing_runs_after_the_delayed_start
}

# The same with `pod kill` before the new daemon inspected web (its first listing is delayed
# 2 s): a kill used to SIGKILL it, fail, and consider it gone: the delayed start then ran it.
t_start_in_flight_then_kill() {
    inflight_pod e2efinfk 6
    local dp t0
    dp=$(daemon_pid)
    fault ps delay 1 - 2
    kill -9 "$dp"
    t0=$(ms)
    wait_for 10 "a new daemon" new_daemon_is_not "$dp"
    pok kill
    log "kill -9 -> killed: $(ms_since "$t0") ms"
    eq "delayed listings" 1 "$(hits ps delay)"
    dlog_has 'web: instance 1 is created but has not run \(the pod is stopping\): removing it'
    ! dlog_has 'web: .*waiting up to 30 s' || fail "web was inspected before the kill"
    nothing_runs_after_the_delayed_start
}

# The same with holder and daemon both gone: `pod stop` stops db and removes web itself (it
# used to leave web created: the delayed start then ran it).
t_start_in_flight_no_supervisor() {
    inflight_pod e2efinfn 5
    local hp dp
    hp=$(holder_pid)
    dp=$(daemon_pid)
    kill -STOP "$hp" "$dp" # neither can respawn the other
    kill -9 "$hp" "$dp"
    wait_for 5 "supervisor gone" no_supervisor_of "$PODDIR"
    pok stop
    match "stop" "Remove container web-e2efinfn-0.0.1: created, never run" "$ERR"
    nothing_runs_after_the_delayed_start
}

# SPEC 8.11 on real podman (scenario infra-down-adopting): web's start is in flight when the
# daemon is SIGKILLed, and the pod's infra container dies too.  The holder's new daemon finds
# the infra dead while db and web are still adopting (web's start may yet complete): the pod is
# made anew only once both adoptions are done, then both run in the new pod, and nothing of the
# old one is left.
t_start_in_flight_then_infra_dies() {
    inflight_pod e2efinfi 6
    wait_for 20 "db running" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' db-e2efinfi-0.0.1)\" = running ]"
    local dp ipid iid
    dp=$(daemon_pid)
    iid=$(podman pod inspect --format '{{.InfraContainerID}}' "$PODNAME-0.0.1")
    ipid=$(podman container inspect --format '{{.State.Pid}}' "$iid")
    [ -n "$ipid" ] && [ "$ipid" -gt 0 ] || fail "no infra pid: '$ipid'"
    kill -9 "$dp"
    kill -9 "$ipid"
    wait_for 10 "a new daemon" new_daemon_is_not "$dp"
    wait_for 20 "the report waits for web's adoption" \
        dlog_has 'pod: infra container down \(.*\): the pod is made anew once [12] container\(s\) are re-adopted'
    wait_for 40 "the pod made anew" dlog_has 'making the pod anew, restarting [12] container\(s\) \(infra restart #1\)'
    wait_for 30 "both running in the new pod" sh -c "[ \"\$(cd '$PODDIR' && '$POD' ps --json | jq -r '[.containers[] | select(.phase == \"running\")] | length')\" = 2 ]"
    [ "$(podman pod inspect --format '{{.InfraContainerID}}' "$PODNAME-0.0.1")" != "$iid" ] ||
        fail "the same infra container"
    eq "infra restarts" 1 "$(psj .infraRestarts)"
    eq "containers of the pod" 2 "$(podman ps -a --filter "label=podc.pod=$PODNAME-0.0.1" --filter label=podc.container -q | wc -l)"
    stop_rm_clean
}

# SPEC 8.6 on real podman (scenario probe-cancel-fails): the first readiness attempt hangs and
# runs through `podman exec` (the agent cannot start while the lookup inspect lies); its cancel
# fails (the container's pid is not known: the scan cannot be done); it is cancelled again
# until its process is gone, and no second run of the probe coexists with it.
t_probe_cancel_fails() {
    faulty
    mkpod e2efcancel <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: hang
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
      readinessProbe:
        cmd: [sh, -c, 'exec sleep 301']
        timeoutSeconds: 1
        periodSeconds: 2
YAML
    fault inspect badjson - 'hang-e2efcancel'
    pok run
    local ps="" n max=0 first="" failed=0 t0
    t0=$(ms)
    while :; do
        [ "$(ms_since "$t0")" -lt 40000 ] || fail "the first probe run was never killed ($ps)"
        ps=$(in_ctr hang ps -o pid,args || true)
        case $ps in
        *PID*) ;;
        *) # podman exec failed (the container is not up yet): no sample
            sleep 0.2
            continue
            ;;
        esac
        n=$(printf '%s\n' "$ps" | grep -c ' sleep 301' || true)
        [ "$n" -gt "$max" ] && max=$n
        [ "$n" -le 1 ] || fail "$n runs of one probe at once: $ps"
        if [ -z "$first" ]; then
            first=$(printf '%s\n' "$ps" | awk '/ sleep 301/ {print $1; exit}')
        elif [ $failed = 0 ] && dlog_has 'hang: cancel of readiness probe \(tag [0-9]+\) failed'; then
            ps=$(in_ctr hang ps -o pid,args) || fail "podman exec ps failed"
            printf '%s\n' "$ps" | grep -Eq "^ *$first " || fail "the first run is gone, but its cancel failed: $ps"
            log "the cancel failed after $(ms_since "$t0") ms; the first run ($first) lives on; inspect fixed"
            faults_clear
            failed=1
        elif [ $failed = 1 ] && ! printf '%s\n' "$ps" | grep -Eq "^ *$first "; then
            log "the first run is gone after $(ms_since "$t0") ms"
            break
        fi
        sleep 0.2
    done
    dlog_has 'hang: cancel readiness probe \(tag [0-9]+\) again \(the cancel failed\)'
    # later attempts (through the agent now) hang too and are cancelled: never two at once
    wait_for 10 "hang's agent" sh -c "[ \"\$(podman exec $(ctr hang) ps -o args | grep -c '^/.podc/agent __agent')\" = 1 ]"

    for _ in $(seq 1 8); do
        n=$(count_in hang 'sleep 301')
        [ "$n" -gt "$max" ] && max=$n
        [ "$n" -le 1 ] || fail "$n runs of one probe at once"
        sleep 0.25
    done
    log "at most $max run(s) of the probe at once"
    eq "hang: restarts" 0 "$(cfield hang restartCount)"
    eq "hang: ready" false "$(cfield hang ready)"
    stop_rm_clean
}

# ---------------------------------------------------------------- the kinds x actions matrix
# SPEC 11.5: each call kind the daemon makes in a standard run (run, container inspect, the
# agent's exec -d, the first listing ps, stop) failed once, hung once (until the backend's
# deadline kills it) and slowed once, all at once in one pod: one container per CELL (a
# container may take an `up` and a `down` fault), the rule matching that container's name.
# A row: CELL VERB ACTION WHEN [ARG]; WHEN `up` arms the
# rule before `pod run`, `down` before `pod stop`; CELL `pod` is the pod-wide listing (three
# rules in a row: fail, then the retry hangs, then the next retry is slow).  `run hang` costs
# the run deadline (120 s): only in the long matrix (tests/stress/part_faulty.sh).
FAULT_MATRIX="
runfail   run     fail   up
runslow   run     delay  up   4
inspfail  inspect fail   up
insphang  inspect hang   up
inspslow  inspect delay  up   4
agtfail   exec-d  fail   up
agthang   exec-d  hang   up
agtslow   exec-d  delay  up   4
inspfail  stop    fail   down
insphang  stop    hang   down
inspslow  stop    delay  down 4
"
FAULT_MATRIX_LONG="
runhang   run     hang   up
pod       ps      fail   restart
pod       ps      hang   restart
pod       ps      delay  restart 4
"

# dlog_must ERE: the daemon log has a line matching ERE, else the test fails with its tail
dlog_must() {
    dlog_has "$1" || fail "no daemon log line /$1/; its WARN/ERROR lines: $(grep -E 'WARN|ERROR' "$(dlog)" | tail -n 15)"
}

# matrix_yaml ROWS: the pod, one container per cell (agent cells have an exec readiness probe,
# so that the daemon starts the in-container agent with `podman exec -d`)
matrix_yaml() {
    printf 'api: 1.0.0-beta2\npodVersion: 0.0.1\ncontainers:\n'
    printf '%s\n' "$1" | awk 'NF && $1 != "pod" && !seen[$1]++ {print $1}' | while read -r c; do
        cat <<YAML
    - name: $c
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1 & wait \$!; done']
      restart: always
      stopTimeout: 3
YAML
        case $c in
        agt*) printf '      readinessProbe:\n        cmd: [true]\n        periodSeconds: 1\n' ;;
        esac
    done
}

# matrix_arm ROWS WHEN: the rules of the rows armed at WHEN
matrix_arm() {
    printf '%s\n' "$1" | while read -r cell verb action when arg; do
        [ -n "$cell" ] && [ "$when" = "$2" ] || continue
        if [ "$cell" = pod ]; then
            fault "$verb" "$action" 1 - ${arg:-}
        else
            fault "$verb" "$action" 1 "^.*$cell-$PODNAME" ${arg:-}
        fi
    done
}

# cell_hits VERB ACTION CELL: calls of VERB for CELL's container that got ACTION
cell_hits() {
    awk -v v="$1" -v a="$2" -v c="$3-$PODNAME" '$3 == v && $4 == a && (c ~ /^pod-/ || index($0, c))' \
        "$FAULTY_DIR/calls" | wc -l
}

# matrix_restart ROWS DAEMON_PID: the `restart` rules armed, the daemon SIGKILLed: the holder's
# new daemon lists the containers (fails, hangs until its 30 s deadline, is slow), meanwhile
# cannot adopt; then adopts every one as it was
matrix_restart() {
    local rows=$1 dp=$2 inst ts c cells
    cells=$(printf '%s\n' "$rows" | awk 'NF && $1 != "pod" && $4 == "up" {print $1}' | sort -u)
    inst=$(psj '[.containers[] | "\(.name)=\(.instance)/\(.restartCount)"] | join(" ")')
    matrix_arm "$rows" restart
    kill -9 "$dp"
    ts=$(ms)
    wait_for 20 "a new daemon" daemon_is_not "$dp"
    printf '%s\n' "$rows" | while read -r cell verb action when arg; do
        [ -n "$cell" ] && [ "$when" = restart ] || continue
        wait_for 90 "the new daemon's $verb $action" sh -c "[ \$(awk -v v=$verb -v a=$action '\$3 == v && \$4 == a' '$FAULTY_DIR/calls' | wc -l) -ge 1 ]"
    done
    for c in $cells; do
        wait_for 30 "$c adopted running" cfield_is "$c" phase running
    done
    log "matrix: new daemon with a failing/hanging/slow listing: all adopted after $(ms_since "$ts") ms"
    eq "instances and restarts after the adoption" "$inst" \
        "$(psj '[.containers[] | "\(.name)=\(.instance)/\(.restartCount)"] | join(" ")')"
    dlog_must 'listing failed'
}

# run_matrix POD ROWS: the whole matrix in one pod; prints one line per cell (the fault's
# hits, what the daemon logged about it, the cell's state after it)
run_matrix() {
    local rows=$2 dp t0 c ts
    faulty
    matrix_yaml "$rows" >"$T/matrix.yaml"
    mkpod "$1" <"$T/matrix.yaml"
    matrix_arm "$rows" up
    t0=$(ms)
    pok run
    dp=$(daemon_pid)
    # every fault is hit, ps answers meanwhile, and every cell converges: running (and ready)
    local cells
    cells=$(printf '%s\n' "$rows" | awk 'NF && $1 != "pod" && $4 == "up" {print $1}' | sort -u)
    local tps
    while :; do
        tps=$(ms)
        psj .phase >/dev/null
        [ "$(ms_since "$tps")" -lt 5000 ] || fail "ps took $(ms_since "$tps") ms during the faults"
        local left=""
        for c in $cells; do
            [ "$(cfield "$c" phase)" = running ] || left="$left $c"
            case $c in agt*) [ "$(cfield "$c" ready)" = true ] || left="$left $c(ready)" ;; esac
        done
        printf '%s\n' "$rows" | while read -r cell verb action when arg; do
            [ -n "$cell" ] && [ "$when" = up ] || continue
            [ "$(cell_hits "$verb" "$action" "$cell")" -ge 1 ] || echo "$cell($verb $action not hit)"
        done >"$T/unhit"
        [ -s "$T/unhit" ] && left="$left $(tr '\n' ' ' <"$T/unhit")"
        [ -z "$left" ] && break
        [ "$(ms_since "$t0")" -lt 150000 ] || fail "not converged after 150 s:$left"
        sleep 1
    done
    log "matrix: every 'up' cell hit and converged after $(ms_since "$t0") ms"
    eq "same daemon after the faults" "$dp" "$(daemon_pid)"
    # what each fault did (asserted below), one line per cell
    dlog_must 'runfail: .*start failed: .*injected run failure'
    eq "runfail: restartCount in ps" 1 "$(cfield runfail restartCount)"
    eq "runfail: instance" 2 "$(cfield runfail instance)"
    for c in $cells; do
        case $c in runfail | runhang) ;; *) eq "$c: restarts" 0 "$(cfield "$c" restartCount)" ;; esac
    done
    dlog_must "inspect inspfail-$PODNAME-0.0.1"
    wait_for 60 "the hung inspect killed at its deadline (30 s), logged" \
        dlog_has "inspect insphang-$PODNAME-0.0.1"
    dlog_must 'agtfail: exec probes of instance 1 through podman exec'
    case $rows in *runhang*)
        dlog_must 'runhang: .*start failed'
        eq "runhang: instance" 2 "$(cfield runhang instance)" ;;
    esac
    case $rows in *restart*) matrix_restart "$rows" "$dp" ;; esac
    dp=$(daemon_pid)
    # stop with the `down` rules: every container ends, none is left, the stop retried or
    # escalated as SPEC 8.8 says
    matrix_arm "$rows" down
    local took
    ts=$(ms)
    pok stop
    took=$(ms_since "$ts")
    log "matrix: stop with failing/hanging/slow podman stop: $took ms"
    [ "$took" -lt 60000 ] || fail "stop took $took ms"
    eq "inspfail: failed stops" 1 "$(cell_hits stop fail inspfail)"
    eq "insphang: hung stops" 1 "$(cell_hits stop hang insphang)"
    eq "inspslow: slow stops" 1 "$(cell_hits stop delay inspslow)"
    dlog_must 'inspfail: stop failed: .*injected stop failure'
    dlog_must 'inspfail: retry stop of instance 1'
    dlog_must 'insphang: did not stop in time; sending SIGKILL'
    eq "inspfail: exit code (TERM after the retry)" 0 "$(ctr_exit_code inspfail)"
    eq "inspslow: exit code (TERM, late)" 0 "$(ctr_exit_code inspslow)"
    eq "insphang: exit code (the supervisor's SIGKILL)" 137 "$(ctr_exit_code insphang)"
    # the table
    printf '%s\n' "$rows" | while read -r cell verb action when arg; do
        [ -n "$cell" ] || continue
        log "$(printf 'cell %-9s %-8s %-6s %-5s hits=%s' "$cell" "$verb" "$action" "$when" \
            "$(cell_hits "$verb" "$action" "$cell")")"
    done
    ts=$(ms)
    stop_rm_clean
    log "matrix: podman healthy again, rm leaves nothing: $(ms_since "$ts") ms; in all $(ms_since "$t0") ms"
}

t_matrix() {
    run_matrix e2eswmx "$FAULT_MATRIX"
}

# the long matrix (tests/stress/part_faulty.sh sets FAULTY_LONG=1): with `run hang`
t_matrix_long() {
    [ "${FAULTY_LONG:-0}" = 1 ] || { log "skipped (FAULTY_LONG=1: make stress)"; return 0; }
    run_matrix e2eswml "$FAULT_MATRIX$FAULT_MATRIX_LONG"
}
