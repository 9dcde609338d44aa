# SPDX-License-Identifier: MIT
# tests/e2e/t_faketime.sh - what takes minutes of the daemon's clock, on real podman in seconds
# (SPEC 11.6): the pod is compiled by a dynamically linked podc ($PODC_DYN, `make e2e` builds
# it as the variant <variant>-dyn with STATIC=0; the static pod ignores LD_PRELOAD), and `pod
# run` starts its holder and daemon under libfaketime with a timestamp file: writing `+N` into
# it moves both the daemon's wall clock and its monotonic clock N seconds ahead of the real
# ones, at once (FAKETIME_NO_CACHE=1).  podman and everything the daemon runs get an
# environment without LD_PRELOAD and FAKETIME* (SPEC 7.8).  The daemon's epoll timeouts are
# real time: after a jump it acts at its next wake-up, at most the 5 s status refresh later.
# Jumps rather than a speed-up (`x10`): a speed-up changes the clock readings but not every
# wait, so what is due when depends on the machine's load; a jump leaves nothing to chance.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

FT_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1)

# ft_ready: skips the test (returns 1 with the reason printed) without the dynamic podc or
# libfaketime; else compiles with the dynamic podc from here on.
ft_ready() {
    if [ -z "${PODC_DYN:-}" ] || [ ! -x "$PODC_DYN" ]; then
        log "skipped: no dynamically linked podc (PODC_DYN='${PODC_DYN:-}'; make e2e builds it)"
        return 1
    fi
    if [ -z "$FT_LIB" ]; then
        log "skipped: libfaketime is not installed (ci/install-deps.sh)"
        return 1
    fi
    PODC=$PODC_DYN
    printf '+0\n' >"$T/faketime"
}

# ft ARGS...: runs ARGS under the test's fake clock.
# With FT_WALL_ONLY=1 only the wall clock is faked (FAKETIME_DONT_FAKE_MONOTONIC=1): what an
# NTP step or `date -s` does to a running daemon.
ft() {
    env LD_PRELOAD="$FT_LIB" FAKETIME_TIMESTAMP_FILE="$T/faketime" FAKETIME_NO_CACHE=1 \
        ${FT_WALL_ONLY:+FAKETIME_DONT_FAKE_MONOTONIC=1} "$@"
}

# ft_run: `pod run` under the fake clock (its holder and daemon inherit it).
ft_run() {
    RC=0
    OUT=$(cd "$E2E_NOCWD" 2>/dev/null; ft "$POD" run 2>"$T/.err") || RC=$?
    ERR=$(cat "$T/.err")
    [ "$RC" = 0 ] || fail "pod run exited $RC: $ERR"
    ldd "$POD" 2>/dev/null | grep -qF libc.so || fail "$POD is not dynamically linked"
    grep -qF libfaketime "/proc/$(daemon_pid)/maps" || fail "the daemon runs without libfaketime"
}

# ft_jump SECONDS: the fake clocks run SECONDS ahead of the real ones from now on (-N: behind).
ft_jump() {
    case $1 in -*) printf '%s\n' "$1" ;; *) printf '+%s\n' "$1" ;; esac >"$T/faketime.tmp"
    mv "$T/faketime.tmp" "$T/faketime"
    log "clock jump: $1 s"
}

# ft_now: the fake wall clock, epoch seconds.
ft_now() { ft date +%s; }

# stays SECONDS WHAT CMD...: CMD holds for SECONDS (checked every 0.5 s).
stays() {
    local secs=$1 what=$2
    shift 2
    local end=$(($(ms) + secs * 1000))
    while [ "$(ms)" -lt $end ]; do
        "$@" || fail "$what no longer holds"
        sleep 0.5
    done
}

# on-interval:600 re-runs a job 600 s of the daemon's clock after its exit: not after 5 s, not
# after 300 s, and at its next wake-up once 600 s have passed.
t_interval_reruns_on_time() {
    ft_ready || return 0
    mkpod e2eftinterval <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: job
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 0.5; exit 0']
      restart: on-interval:600
      stopTimeout: 1
YAML
    ft_run
    wait_for 20 "job exited" cfield_is job phase exited
    stays 6 "job not re-run (real time)" cfield_is job restartCount 0
    ft_jump 300
    stays 7 "job not re-run at +300 s" cfield_is job restartCount 0
    local t0
    t0=$(ms)
    ft_jump 610
    wait_for 20 "job re-run at +610 s" cfield_ge job restartCount 1
    log "re-run $(ms_since "$t0") ms after the jump"
    [ "$(ms_since "$t0")" -le 12000 ] || fail "re-run $(ms_since "$t0") ms after the jump"
    wait_for 20 "job exited again" cfield_is job phase exited
    eq "exit code" 0 "$(cfield job exitCode)"
    eq "failures" 0 "$(cfield job failures)"
    pok stop
}

# The backoff streak of a container that crashed twice goes back to 0 once it has run
# resetSeconds (600) without interruption by the daemon's clock, and not before.
t_backoff_resets_after_reset_seconds() {
    ft_ready || return 0
    mkdir -p "$T/e2eftreset/data"
    mkpod e2eftreset <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: data
      type: host
      bind: ./data
containers:
    - name: web
      image: localhost/podtest:1
      command: [sh, -c, 'n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n >/d/n; if [ $n -lt 3 ]; then sleep 1.2; exit 1; fi; trap "exit 143" TERM; while true; do sleep 0.2; done']
      restart: always
      stopTimeout: 1
      mounts:
        - volume: data
          dest: /d
      restartBackoff:
        resetSeconds: 600
YAML
    ft_run
    wait_for 30 "the 3rd instance runs" cfield_ge web startCount 3
    wait_for 10 "web running" cfield_is web phase running
    eq "failures" 2 "$(cfield web failures)"
    stays 6 "the streak kept (real time)" cfield_is web failures 2
    ft_jump 300
    stays 7 "the streak kept at +300 s" cfield_is web failures 2
    ft_jump 610
    wait_for 15 "the streak reset at +610 s" cfield_is web failures 0
    eq "backoff" 0 "$(cfield web backoffMs)"
    eq "instance" 3 "$(cfield web instance)"
    wait_for 5 "the note" has_line "$PODDIR/log/e2eftreset-0.0.1-stderr.log" 'web: backoff reset'
    pok stop
}

updated_ge() { [ "$(status updated)" -ge "$1" ]; }

# .pod.status stays fresh by the daemon's clock: `updated:` advances every 5 s with nothing
# changing, and follows a jump of the clock within one refresh, so a reader comparing it with
# the time (the cluster daemon: stale after 600 s) never sees it stale.
t_status_stays_fresh() {
    ft_ready || return 0
    mkpod e2eftstatus <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 143" TERM; while true; do sleep 0.2; done']
      stopTimeout: 1
YAML
    ft_run
    wait_for 20 "pod ready" ready_is 1
    local u0 u1 now
    u0=$(status updated)
    wait_for 8 "updated: advances" updated_ge $((u0 + 1))
    ft_jump 1000
    now=$(ft_now)
    wait_for 8 "updated: follows the jump" updated_ge "$now"
    u1=$(status updated)
    if [ $((now - u1)) -ge 600 ] || [ $((u1 - now)) -ge 10 ]; then
        fail "updated: $u1, fake now $now"
    fi
    # and then every refresh (5 s): never more than ~5 s behind the fake clock
    local _
    for _ in 1 2 3 4 5 6; do
        sleep 1
        now=$(ft_now)
        u1=$(status updated)
        [ $((now - u1)) -le 6 ] || fail "updated: $u1 is $((now - u1)) s behind the fake clock"
    done
    ready_is 1 || fail "readiness $(status readiness) after the jump; the daemon said:
$(tail -n 5 "$PODDIR/log/e2eftstatus-0.0.1-stderr.log")"
    pok stop
}

# fresh_within SECONDS: .pod.status's `updated:` is within SECONDS of the (fake) wall clock.
fresh_within() {
    local now u
    now=$(ft_now)
    u=$(status updated)
    [ $((now - u)) -le "$1" ] && [ $((u - now)) -le "$1" ]
}

# A wall-clock step back by an hour and forth again (the monotonic clock untouched, as on a
# host whose clock is set: SPEC 8.11): supervision runs on the monotonic clock, so restarts,
# backoff and probes go on unchanged and an on-interval job is not re-run by the step forward;
# log records keep their stream order (seq +1, timestamps step back with the clock); the
# status file follows the wall clock.
t_wall_clock_steps_back_and_forth() {
    ft_ready || return 0
    export FT_WALL_ONLY=1
    mkpod e2eftstep <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: tick
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 143" TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1; exit 1']
      restart: always
      stopTimeout: 1
      restartBackoff:
        maxSeconds: 1
    - name: job
      image: localhost/podtest:1
      command: [sh, -c, 'exit 0']
      restart: on-interval:600
YAML
    ft_run
    grep -qF FAKETIME_DONT_FAKE_MONOTONIC=1 "/proc/$(daemon_pid)/environ" ||
        fail "the daemon's clock fakes the monotonic clock"
    wait_for 30 "pod ready" ready_is 1
    wait_for 20 "job exited" cfield_is job phase exited
    local dp r0 r1
    dp=$(daemon_pid)
    r0=$(cfield crash restartCount)
    ft_jump -3600
    wait_for 8 "updated: follows the step back" fresh_within 6
    # restarts go on (the backoff of at most 1 s is monotonic time, not an hour)
    wait_for 20 "crash restarted after the step back" cfield_ge crash restartCount $((r0 + 2))
    stays 3 "tick ready" cfield_is tick ready true
    ft_jump 0 # forward by the hour again: the real time
    wait_for 8 "updated: follows the step forward" fresh_within 6
    r1=$(cfield crash restartCount)
    wait_for 20 "crash restarted after the step forward" cfield_ge crash restartCount $((r1 + 2))
    # +3600 s of wall clock is not 600 s since the job's exit
    stays 6 "job not re-run by the step" cfield_is job restartCount 0
    cfield_is tick ready true || fail "tick not ready after the steps"
    eq "same daemon" "$dp" "$(daemon_pid)"
    eq "tick restarts" 0 "$(cfield tick restartCount)"
    # the records: seq +1 throughout, the timestamps stepped back an hour and forward again
    local f=$PODDIR/log/tick-e2eftstep-0.0.1-stdout.log
    awk '{ s = $2; sub(/[+!]$/, "", s); if (NR > 1 && s != prev + 1) { print "gap after " prev; exit 1 } prev = s }' "$f" ||
        fail "a gap in tick's seq"
    awk '{ t = int($1); if (NR > 1 && t < prev - 3000) back++; if (NR > 1 && t > prev + 3000) fwd++; prev = t }
         END { if (back != 1 || fwd != 1) { print "steps back " back ", forward " fwd; exit 1 } }' "$f" ||
        fail "tick's records do not show the steps"
    # `pod logs` keeps the stream's own order across the step back: tick 1, 2, 3, ... in order
    (cd / && "$POD" logs tick -d none -s stdout) | sed -n 's/^.*tick \([0-9]*\)$/\1/p' >"$T/ticks"
    awk 'NR != $1 { print "line " NR ": tick " $1; exit 1 }' "$T/ticks" || fail "pod logs: tick out of order"
    pok stop
}
