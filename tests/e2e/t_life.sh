# SPDX-License-Identifier: MIT
# tests/e2e/t_life.sh - the lifecycle actions on real podman: every action and its exit code,
# the replays simplenetesd makes (run/stop/rm twice), run detaching, nothing left behind.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

pod_one() { # $1: a name suffix (each test its own pod: podman's clean-up of the last one runs on)
    mkpod "e2elife$1" <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: main
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
YAML
}

# `out=$(pod run)` reaches EOF as soon as run exits: nothing of ours keeps the caller's pipe;
# run again changes nothing (same daemon, same container).
t_run_detaches_and_is_idempotent() {
    pod_one 1
    local t0 took out
    t0=$(ms)
    out=$(cd "$E2E_NOCWD" 2>/dev/null; sh -c "$POD run --host-interface=127.0.0.1" 2>&1)
    took=$(ms_since "$t0")
    log "run: \$(...) reached EOF after $took ms"
    [ "$took" -lt 5000 ] || fail "run took $took ms to reach EOF: $out"
    wait_for 30 "main running" state_is main running
    local id dp
    id=$(ctr_id main)
    dp=$(daemon_pid)
    [ -n "$dp" ] || fail "no daemon recorded"
    pok run --host-interface=127.0.0.1
    match "second run" 'already (running|starting)' "$ERR"
    pok run
    eq "container after three runs" "$id" "$(ctr_id main)"
    eq "daemon after three runs" "$dp" "$(daemon_pid)"
    eq "running containers" 1 "$(running_count)"
    eq "podman's instance label" 1 "$(ctr_label_instance main)"
    wait_for 10 "status file running" status_is status running
    kill -0 "$dp" || fail "daemon $dp is gone"
}

# stop: returns once holder, daemon and containers are gone; twice is fine and cheap; start
# brings it back; rm leaves nothing; twice is fine.
t_stop_start_rm() {
    pod_one 2
    pok run
    wait_for 30 "main running" state_is main running
    local t0 took
    t0=$(ms)
    pok stop
    took=$(ms_since "$t0")
    log "stop: $took ms (stopTimeout 1, sleep as PID 1 ignores TERM)"
    eq "main after stop" exited "$(ctr_state main)"
    eq "running after stop" 0 "$(running_count)"
    no_supervisor_of "$PODDIR"
    eq "status after stop" exited "$(status status)"
    eq "readiness after stop" 0 "$(status readiness)"
    t0=$(ms)
    pok stop
    took=$(ms_since "$t0")
    [ "$took" -lt "$(cheap_ms 1000)" ] || fail "second stop took $took ms"
    pok kill
    pok start
    wait_for 30 "main running again" state_is main running
    eq "instance after start" 1 "$(ctr_label_instance main)"
    t0=$(ms)
    pok rm
    log "rm: $(ms_since "$t0") ms"
    nothing_left
    eq "status after rm" removed "$(status status)"
    t0=$(ms)
    pok rm
    took=$(ms_since "$t0")
    [ "$took" -lt "$(cheap_ms 1000)" ] || fail "second rm took $took ms"
    prc 1 start
    [ -d "$PODDIR/log" ] || fail "rm removed the logs"
}

# A pod that was never created: stop, kill, rm exit 0 at once without podman; readiness says
# no without a word on stdout; ps says non-existing.
t_never_created() {
    pod_one 3
    local a t0
    for a in stop kill rm "rm -k"; do
        t0=$(ms)
        pok $a
        [ "$(ms_since "$t0")" -lt "$(cheap_ms 1000)" ] ||
            fail "$a on a never-created pod took $(ms_since "$t0") ms"
        [ -z "$ERR" ] || fail "$a printed: $ERR"
    done
    prc 1 readiness
    eq "readiness stdout" "" "$OUT"
    pok ps
    match "ps" 'status: non-existing' "$OUT"
    match "ps" 'daemon: dead' "$OUT"
    [ -z "$(pod_objects)" ] || fail "podman objects appeared"
}

# create makes the pod and a supervisor that waits; start starts it; kill ends it.
t_create_start_kill() {
    pod_one 4
    pok create --host-interface=127.0.0.1
    podman pod exists e2elife4-0.0.1 || fail "no podman pod after create"
    eq "container before start" missing "$(ctr_state main)"
    eq "phase after create" created "$(psj .phase)"
    pok create
    match "create twice" 'already created' "$ERR"
    prc 1 readiness
    pok start
    wait_for 30 "main running" state_is main running
    wait_for 10 "pod ready" ready_is 1
    pok readiness
    eq "readiness stdout" "" "$OUT"
    pok kill
    eq "main after kill" exited "$(ctr_state main)"
    eq "its exit code" 137 "$(ctr_exit_code main)"
    no_supervisor_of "$PODDIR"
}

# Usage errors are 100 and change nothing; unknown names are 1 with the known names.
t_usage_and_names() {
    pod_one 5
    prc 100 rerun -k main
    prc 100 rerun --host-interface=127.0.0.1 main
    prc 100 run --host-interface=300.1.1.1
    prc 100 create --host-interface=localhost
    prc 100 stop now
    prc 100 ps --bogus
    prc 100 reload-configs
    prc 1 rerun nope
    match "unknown name" 'known: main' "$ERR"
    prc 1 signal nope
    prc 1 signal main
    match "signal without daemon" 'not running' "$ERR"
    [ -z "$(pod_objects)" ] || fail "a usage error created podman objects"
}

# Any executable name: `svc` keeps .svc.status/.svc.state/...; run as `sub/svc` from the parent
# directory and as `sh -c /abs/svc` from an unreadable cwd.
t_other_name_relative_path() {
    pod_one 6
    (cd "$PODDIR" && SPACE_LOG_LEVEL=1 "$PODC" e2elife6 -f pod.yaml -o svc) || fail "podc -o svc"
    rm -f "$PODDIR/pod"
    POD=$PODDIR/svc
    STATUS=$PODDIR/.svc.status
    (cd "$T" && ./e2elife6/svc run >/dev/null 2>&1) || fail "sub/svc run from the parent"
    wait_for 30 "main running" state_is main running
    # podman says running a moment before the daemon has seen the start complete
    wait_for 10 "status running" status_is status running
    [ -f "$PODDIR/.svc.state" ] || fail "no .svc.state"
    [ -S "$PODDIR/.svc.sock" ] || fail "no .svc.sock"
    [ ! -e "$PODDIR/.pod.status" ] || fail ".pod.status written for an executable named svc"
    pok ps
    match "ps" 'daemon: alive' "$OUT"
    pok stop
    eq "status after stop" exited "$(status status)"
    pok rm
    nothing_left
}

# run while a stop is under way: run waits for the stop to end, then runs the pod again.
t_run_during_stop() {
    pod_one 7
    pok run
    wait_for 30 "main running" state_is main running
    local id
    id=$(ctr_id main)
    (cd "$E2E_NOCWD" 2>/dev/null || true; sh -c "$POD stop" >/dev/null 2>"$T/stop.err") &
    local spid=$!
    sleep 0.3
    pok run
    wait "$spid" || fail "the concurrent stop failed: $(cat "$T/stop.err")"
    wait_for 30 "main running again" state_is main running
    [ "$(ctr_id main)" != "$id" ] || fail "run kept the stopped container"
    wait_for 10 "status running" status_is status running
    pok rm
    nothing_left
}

# The holder and the daemon drop their mappings of the executable's code and constants
# (holder_trim_text, SPEC 10.3: the holder at start and 10 s after its last event, the daemon
# after set-up and 10, 20, 40, 60 s later), and what they run then comes from the front of the
# text (src/idle-text.ld): a few 64 KiB windows of the ~1 MB of code.  Measured on an idle
# one-container pod: holder 192 kB and daemon 444 kB resident code; without the ordering 316
# and 956 kB; with the ordering but no later trim, the daemon keeps ~760 kB.
# On emulated pidfds (POD_PIDFD_EMULATE=1, SPEC 7.8.1) the holder's watcher thread runs code
# outside those windows every 100 ms: its holder keeps ~316 kB (three 64 KiB windows more), so
# the holder's bound is 448 kB there; the daemon's does not change.
code_kb() { # PID: kB resident of the pod executable's r-x mappings
    awk -v exe="$PODDIR/pod" '/^[0-9a-f]+-/ {on = ($2 ~ /x/ && $6 == exe)} on && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$1/smaps" 2>/dev/null
}
code_small() { local k; k=$(code_kb "$(${1}_pid)"); [ "$k" -gt 0 ] && [ "$k" -le "$2" ]; }
t_idle_code_trimmed() {
    pod_one 8
    pok run
    wait_for 30 "main running" state_is main running
    local hb=256
    [ "${POD_PIDFD_EMULATE:-}" != 1 ] || hb=448
    wait_for 40 "the holder's resident code <= $hb kB" code_small holder "$hb"
    wait_for 40 "the daemon's resident code <= 640 kB" code_small daemon 640
    pok rm
}
