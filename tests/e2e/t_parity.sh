# SPDX-License-Identifier: MIT
# tests/e2e/t_parity.sh - simulator/real parity twins (SPEC 11.6): each test runs on real podman
# the pod of a scenario sim/scenarios/parity-<area>.scn (the same containers, policies and
# timeouts; commands that crash, hang or trap where the scenario's rules say so), drives it the
# same way (a config edit, a kill -9 of the daemon, a stop), and compares, per container, the
# sequence of (event, instance, exit code, phase) the daemon logged with the one in the
# scenario's golden trace (the output of podsim, kept equal to it by `make sim`), without times
# and jittered delays (tests/e2e/parity-normalise.sh).  The daemon logs the driver's trace
# records as DEBUG lines (SPACE_LOG_LEVEL=5).
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

PARITY_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PARITY_SCN=${E2E_SCENARIOS:-$PARITY_HERE/../../sim/scenarios}
export SPACE_LOG_LEVEL=5

# daemon_log: the pod's daemon log, rotated files first (oldest first).
daemon_log() {
    local base=$PODDIR/log/$PODNAME-0.0.1-stderr.log
    cat "$base".* "$base" 2>/dev/null || true
}

# traced CTR EVENT-ERE: the daemon has logged a trace line of CTR matching EVENT-ERE.
traced() { daemon_log | grep -Eq -- "\[DEBUG\] trace +[0-9.]+ $1 +$2"; }

# dump_trace: the daemon's trace so far, to stderr (what a failed test shows).
dump_trace() {
    printf -- '-- daemon trace:\n' >&2
    daemon_log | grep -F '[DEBUG] trace' | sed 's/.*\[DEBUG\] trace //' | grep -v ' probe' | tail -n 40 >&2
}

# pwait SECONDS DESCRIPTION CMD...: wait_for, with the daemon's trace when it times out (its
# own loop: wait_for relies on `set -e`, which is off on the left of a `||`).
pwait() {
    local secs=$1 what=$2
    shift 2
    local end=$(($(ms) + secs * 1000))
    while ! "$@" 2>/dev/null; do
        if [ "$(ms)" -ge $end ]; then
            dump_trace
            fail "timed out after ${secs}s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

# parity AREA CTR...: each container's sequence on podman equals the scenario's.  On a
# mismatch: the daemon's trace, then per container the diff and both sequences (last, so that
# the runner's tail of the output shows them).
parity() {
    local area=$1 c bad=0
    shift
    local trace=$PARITY_SCN/parity-$area.trace
    [ -f "$trace" ] || fail "no golden trace $trace"
    daemon_log >"$T/real.log"
    : >"$T/mismatch"
    for c in "$@"; do
        sh "$PARITY_HERE/parity-normalise.sh" "$c" "$trace" >"$T/sim.$c"
        sh "$PARITY_HERE/parity-normalise.sh" "$c" "$T/real.log" >"$T/real.$c"
        [ "$(wc -l <"$T/sim.$c")" -gt 2 ] || fail "$c: nothing in $trace"
        if diff -u "$T/sim.$c" "$T/real.$c" >"$T/diff.$c"; then
            log "$c: $(grep -c . "$T/sim.$c") events equal"
            continue
        fi
        bad=1
        {
            printf 'FAIL: %s: the sequence on podman differs from podsim parity-%s (-sim +real)\n' \
                "$c" "$area"
            tail -n +3 "$T/diff.$c"
            printf -- '-- podsim | podman:\n'
            paste -d '|' "$T/sim.$c" "$T/real.$c" | awk -F'|' '{printf "   %-40s | %s\n", $1, $2}'
        } >>"$T/mismatch"
    done
    [ $bad = 0 ] || { dump_trace; cat "$T/mismatch" >&2; return 1; }
}

# Restart policies (parity-restart.scn): crashes every 1.5 s; on-failure gives up after 3
# failures, always after 2; a clean exit under on-failure and a failed one under never stay.
t_parity_restart() {
    mkpod e2eparrestart <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 3']
      restart: on-failure
      stopTimeout: 2
      restartBackoff:
        giveUpCount: 3
    - name: always
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 2']
      restart: always
      stopTimeout: 2
      restartBackoff:
        giveUpCount: 2
    - name: job
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 0']
      restart: on-failure
      stopTimeout: 2
    - name: never
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 1']
      restart: never
      stopTimeout: 2
YAML
    # A fixed seed: the jittered delay after crash's 2nd failure is then 240 ms, never the
    # 0 ms (1 in 1001) that restarts at once without a backoff phase (SPEC 11.6).
    export POD_SEED=1
    pok run
    unset POD_SEED
    pwait 40 "crash gave up" cfield_is crash phase gave-up
    pwait 20 "always gave up" cfield_is always phase gave-up
    pwait 20 "job exited" cfield_is job phase exited
    pwait 20 "never exited" cfield_is never phase exited
    daemon_log | grep -q "daemon: supervisor seed 1$" || fail "the daemon did not take POD_SEED=1"
    pok stop
    parity restart crash always job never
}

# traced_n CTR EVENT-ERE: how many trace lines of CTR matching EVENT-ERE the daemon logged.
traced_n() { daemon_log | grep -Ec -- "\[DEBUG\] trace +[0-9.]+ $1 +$2" || true; }
traced_ge() { [ "$(traced_n "$1" "$2")" -ge "$3" ]; }

# A container that runs until SIGTERM, then exits 143 (as podsim's containers do by default).
PARITY_LOOP='trap "exit 143" TERM; trap "echo reload" HUP; while true; do sleep 0.2; done'

# Probe timeout (parity-probe.scn): a liveness probe that hangs is cancelled at its timeout and
# the container stopped and restarted (given up after 2); a readiness probe that hangs once
# (its 2nd attempt) makes the container unready until the next attempt passes.  Compared before
# the stop: whether a readiness attempt is in flight when a stop comes is chance.
t_parity_probe() {
    mkpod e2eparprobe <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [sh, -c, '$PARITY_LOOP']
      restart: always
      stopTimeout: 5
      restartBackoff:
        giveUpCount: 2
      livenessProbe:
        cmd: [sh, -c, 'sleep 30']
        initialDelaySeconds: 2
        timeoutSeconds: 1
    - name: side
      image: localhost/podtest:1
      command: [sh, -c, '$PARITY_LOOP']
      restart: always
      stopTimeout: 5
      readinessProbe:
        cmd: [sh, -c, 'n=\$(cat /tmp/n 2>/dev/null || echo 0); n=\$((n+1)); echo \$n >/tmp/n; [ \$n != 2 ] || sleep 30']
        periodSeconds: 2
        timeoutSeconds: 1
YAML
    pok run
    pwait 40 "web gave up" cfield_is web phase gave-up
    pwait 20 "side ready again" traced_ge side 'ready ' 2
    pwait 10 "web's give-up logged" traced web 'phase +gave-up'
    parity probe web side
    pok stop
}

# Config signal (parity-config.scn): one edit of the config volume sends HUP to the running
# proxy and re-runs the exited on-config job; then the stop.
t_parity_config() {
    CONFIGS="cfg:app.conf=v1" mkpod e2eparconfig <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
containers:
    - name: proxy
      image: localhost/podtest:1
      command: [sh, -c, '$PARITY_LOOP']
      restart: always
      stopTimeout: 5
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /etc/proxy
    - name: job
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 0']
      restart: on-config
      stopTimeout: 5
      mounts:
        - volume: cfg
          dest: /etc/job
YAML
    pok run
    pwait 20 "job exited" cfield_is job phase exited
    pwait 10 "job's exit logged" traced job 'phase +exited'
    printf 'v2\n' >"$PODDIR/config/cfg/app.conf"
    pwait 20 "job re-ran" cfield_ge job restartCount 1
    pwait 20 "job exited again" cfield_is job phase exited
    pwait 10 "proxy signalled" traced proxy 'signal '
    pok stop
    parity config proxy job
}

# Log rotation (parity-logs.scn): output far beyond logs.maxSize rotates both streams; the
# container's life is the same as without (and no line is lost).
t_parity_logs() {
    mkpod e2eparlogs <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
logs:
    maxSize: 8K
    maxFiles: 100
containers:
    - name: chatty
      image: localhost/podtest:1
      command: [sh, -c, 'p=$(printf "%080d" 0); i=0; while [ $i -lt 400 ]; do echo "out $i $p"; [ $((i % 2)) = 1 ] || echo "err $i $p" >&2; i=$((i+1)); done; sleep 3; exit 0']
      restart: on-failure
      stopTimeout: 5
YAML
    pok run
    pwait 30 "chatty exited" cfield_is chatty phase exited
    pok stop
    parity logs chatty
    local base=$PODDIR/log/chatty-e2eparlogs-0.0.1
    eq "stdout lines" 400 "$(cat "$base"-stdout.log.* "$base"-stdout.log | grep -c ' out [0-9]* 0*$')"
    eq "stderr lines" 200 "$(cat "$base"-stderr.log.* "$base"-stderr.log | grep -c ' err [0-9]* 0*$')"
}

# Daemon restart (parity-daemon.scn): kill -9 of the daemon; the holder's new daemon adopts the
# running container and the exited one, then the stop.
t_parity_daemon() {
    mkpod e2epardaemon <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: tick
      image: localhost/podtest:1
      command: [sh, -c, '$PARITY_LOOP']
      restart: always
      stopTimeout: 5
    - name: batch
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1.5; exit 0']
      restart: never
      stopTimeout: 5
YAML
    pok run
    pwait 20 "batch exited" cfield_is batch phase exited
    pwait 10 "batch's exit logged" traced batch 'unready '
    local dp
    dp=$(daemon_pid)
    kill -9 "$dp"
    pwait 10 "a new daemon" daemon_is_not "$dp"
    pwait 10 "tick adopted" traced tick 'adopt '
    pwait 10 "batch adopted" traced batch 'adopt '
    pwait 10 "tick running" cfield_is tick phase running
    eq "daemon restarts" 1 "$(psj .daemon.restarts)"
    pok stop
    parity daemon tick batch
}
