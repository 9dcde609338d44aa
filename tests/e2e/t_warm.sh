# SPDX-License-Identifier: MIT
# tests/e2e/t_warm.sh - the warm standby of a container (`warmStandby: true`, SPEC 7.8.2) on
# real podman.  While an instance of such a container runs, the daemon keeps exactly one container
# `<ctr>-<pod>-<version>-standby` made ahead (`podman create` + `podman init`: podman says
# "initialized"), labelled podc.standby=1 with the usual podc.pod/podc.container labels.  A
# restart starts it (`podman start`, the daemon logs "... from its warm standby") instead of a
# `podman run`; then, off the critical path, the old instance goes, the standby takes the
# instance's name and a new standby is made.  Asserted here:
#   restart_from_standby  the log line, the running container's ID is the standby's of before
#                         the crash, the old instance gone, a new standby, nothing else; both
#                         instances' output byte-exact in the logs (`podman init` prints the
#                         standby's name on the container's stdout pipe: not in the logs);
#   stop_rm_leave_nothing `pod stop` returns with no standby container and no process of one
#                         (the `runc init` waiting in it, its conmon), `pod start` makes one
#                         again, `pod rm` leaves nothing;
#   daemon_kill9          the holder's new daemon adopts the running instances (same IDs, no
#                         restart), removes the stale standbys and makes fresh ones (one per
#                         warm container), and the next restart starts the fresh one;
#   none_for_never_and_host  no standby for a `restart: never` nor a `network: host` container
#                         (the latter is restarted by `podman run`), next to one that has one;
#   daemon_dies_before_rename  (faulty-podman: every rename hangs) the daemon killed between the
#                         start from the standby and its rename: the new daemon adopts the running
#                         `<name>-standby` as the instance and renames it, and `pod shell`
#                         enters it before that;
#   rerun_takes_the_current_image  `pod rerun NAME` after the image moved under its tag: the
#                         standby made before is dropped, the new instance and the next
#                         standby run the new image.
# The standbys are found by their name: podman's labels never change, so the
# instance started from a standby keeps podc.standby=1.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# The restart and standby notes are INFO lines of the daemon's log (the default level).
export SPACE_LOG_LEVEL=4

# WARM_CMD: a line on each stream and 40 ticks (~4 s, while the daemon makes the standby, whose
# `podman init` writes on the same stdout pipe), every line with a token of its own instance;
# then it waits for /tmp/crash (a file of this instance only: the test makes it with podman
# exec), says bye and exits 1.  WARM_LOOP: runs until TERM.
WARM_CMD='t=$(cut -c1-8 /proc/sys/kernel/random/uuid); echo "one $t"; echo "err $t" >&2; i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "tick $t $i"; sleep 0.1; done; while [ ! -e /tmp/crash ]; do sleep 0.1; done; echo "bye $t"; exit 1'
WARM_LOOP='trap "exit 0" TERM; while true; do sleep 0.1; done'

# standby NAME: the podman name of container NAME's standby.
standby() { printf '%s-standby' "$(ctr "$1")"; }

# standbys NAME: "ID NAME LABEL" of every podman container of container NAME (its podc.pod and
# podc.container labels) named like a standby; LABEL: its podc.standby label.  (Not found by that
# label: podman's labels do not change, so the instance started from a standby keeps it.)
standbys() {
    podman ps -a --no-trunc --filter "label=podc.pod=$PODNAME-0.0.1" --filter "label=podc.container=$1" \
        --format '{{.ID}} {{.Names}} {{index .Labels "podc.standby"}}' 2>/dev/null | awk '$2 ~ /-standby$/'
}

# all_standbys: the names of every standby of the pod (every container named like one), sorted.
all_standbys() {
    podman ps -a --filter "label=podc.pod=$PODNAME-0.0.1" --format '{{.Names}}' 2>/dev/null |
        grep -e '-standby$' | LC_ALL=C sort
}

# all_of NAME: the names of every podman container of container NAME (instances, standbys).
all_of() {
    podman ps -a --filter "label=podc.pod=$PODNAME-0.0.1" --filter "label=podc.container=$1" \
        --format '{{.Names}}' 2>/dev/null | LC_ALL=C sort
}

# standby_ready NAME [NOT-ID...]: NAME has exactly one standby, with its name and the label
# podc.standby=1, in podman's state "initialized", whose ID is none of NOT-ID; sets SID to it.
standby_ready() {
    local n=$1 l id name label x
    shift
    l=$(standbys "$n")
    [ -n "$l" ] && [ "$(printf '%s\n' "$l" | wc -l)" = 1 ] || return 1
    read -r id name label <<<"$l"
    [ "$name" = "$(standby "$n")" ] && [ "$label" = 1 ] || return 1
    [ "$(podman container inspect --format '{{.State.Status}}' "$id" 2>/dev/null)" = initialized ] || return 1
    for x in "$@"; do [ "$id" != "$x" ] || return 1; done
    SID=$id
}

# runs_as NAME ID: container NAME (by its name) is ID and running.
runs_as() { [ "$(ctr_id "$1")" = "$2" ] && state_is "$1" running; }
# replaced NAME ID: container NAME (by its name) runs, and is not ID.
replaced() {
    local id
    id=$(ctr_id "$1")
    [ "$id" != missing ] && [ "$id" != "$2" ] && state_is "$1" running
}

# dlog: the daemon's log file.  from_standby_n NAME: its lines saying NAME started from its
# standby (a note of the supervisor, `] NAME: ...`, or one naming the podman container).
dlog() { printf '%s/log/%s-0.0.1-stderr.log' "$PODDIR" "$PODNAME"; }
from_standby_n() {
    grep -acE -- "(\] +$1: |[^a-z0-9_.-]$1-$PODNAME-0\.0\.1).*from its warm standby" "$(dlog)" 2>/dev/null || true
}
from_standby_ge() { [ "$(from_standby_n "$1")" -ge "$2" ]; }

# ticks_done NAME N: N instances of NAME printed their last tick.
ticks_done() {
    [ "$(grep -ac ' tick [0-9a-f]* 40$' "$PODDIR/log/$1-$PODNAME-0.0.1-stdout.log" 2>/dev/null)" -ge "$2" ]
}

# run_warm_pod POD NAME IMAGE CMD RESTART: pod POD of one warm container NAME of IMAGE running
# CMD (sh -c) with that restart policy, run, with NAME running and its standby ready (SID).
run_warm_pod() {
    mkpod "$1" <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: $2
      image: $3
      command: [sh, -c, '$4']
      restart: $5
      warmStandby: true
      stopTimeout: 1
YAML
    pok run
    wait_for 30 "$2 running" state_is "$2" running
    wait_for 30 "$2's standby" standby_ready "$2"
}
# run_crash_pod POD: one container `crash` running WARM_CMD (restart: on-failure).
run_crash_pod() { run_warm_pod "$1" crash "$E2E_IMAGE" "$WARM_CMD" on-failure; }

# warm_out TOKEN: what WARM_CMD prints on stdout up to its wait.
warm_out() {
    local i
    echo "one $1"
    for i in $(seq 1 40); do echo "tick $1 $i"; done
}

cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }
# proc_gone PID CMDLINE: PID is gone (or a zombie, or another program now).
proc_gone() {
    local c
    c=$(cmdline "$1")
    [ -z "$c" ] || [ "$c" != "$2" ]
}

# standby_pids ID: "PID CONMON-PID" of an initialized container (PID: the `runc init` waiting).
standby_pids() { podman container inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' "$1" 2>/dev/null; }

# pod_conmons: PIDs of the conmon processes of the pod's containers and standbys (`-n NAME`).
pod_conmons() {
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        cmdline "$pid" | grep -Eq -- "conmon .* -n [^ ]+-$PODNAME-0\.0\.1(-standby)? " && echo "$pid"
    done
    return 0
}

# no_standby_process: no conmon of a standby of the pod, and no `runc init` (a created container
# waiting for its start) under any conmon of the pod.
no_standby_process() {
    local pid bad="" cons ppid
    cons=" $(pod_conmons | tr '\n' ' ') "
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        if cmdline "$pid" | grep -Eq -- "conmon .* -n [^ ]+-$PODNAME-0\.0\.1-standby "; then
            bad="$bad $pid"
            continue
        fi
        cmdline "$pid" | grep -Eq -- ' init $' || continue
        ppid=$(awk '$1 == "PPid:" {print $2}' "/proc/$pid/status" 2>/dev/null)
        case $cons in *" $ppid "*) bad="$bad $pid" ;; esac
    done
    [ -z "$bad" ] || fail "standby processes of $PODNAME still alive:$bad ($(ps -o pid=,args= -p "${bad# }" 2>/dev/null | cut -c1-120 | tr '\n' ';'))"
}

# crash_ctr NAME: makes the running instance of NAME exit (its loop waits for /tmp/crash).
# `podman exec` can fail when the container exits under it, before the exec session is torn
# down: that is a success when the instance is no longer running.
crash_ctr() {
    local id
    id=$(ctr_id "$1")
    podman exec "$id" touch /tmp/crash 2>/dev/null && return 0
    [ "$(podman container inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" != true ] ||
        fail "podman exec $1 touch /tmp/crash"
}

# (a) A crash restarts the container from its standby; the standby becomes the instance and a
# new one is made; the logs of both instances are byte-exact.
t_warm_restart_from_standby() {
    run_crash_pod e2ewarmrs
    local id1 sb1
    id1=$(ctr_id crash)
    sb1=$SID
    [ "$sb1" != "$id1" ] || fail "the standby is the instance: $sb1"
    eq "containers of crash" "$(ctr crash)
$(standby crash)" "$(all_of crash)"
    eq "restarts from the standby before any exit" 0 "$(from_standby_n crash)"
    wait_for 10 "ps: the standby ready" cfield_is crash warmStandby ready
    p ps
    match "ps (text)" '      warmStandby: ready' "$OUT"
    wait_for 20 "instance 1's ticks" ticks_done crash 1
    crash_ctr crash
    wait_for 30 "crash restarted" cfield_ge crash restartCount 1
    wait_for 10 "the daemon's note" from_standby_ge crash 1
    log "$(grep -a 'from its warm standby' "$(dlog)" | head -n 1)"
    wait_for 20 "the standby $sb1 running as $(ctr crash)" runs_as crash "$sb1"
    wait_for 30 "a new standby" standby_ready crash "$sb1" "$id1"
    local sb2=$SID
    ! podman container exists "$id1" || fail "the old instance $id1 is still there"
    eq "containers of crash after the restart" "$(ctr crash)
$(standby crash)" "$(all_of crash)"
    eq "restarts" 1 "$(cfield crash restartCount)"
    eq "instance" 2 "$(cfield crash instance)"
    eq "phase" running "$(cfield crash phase)"
    eq "restarts from the standby" 1 "$(from_standby_n crash)"
    wait_for 10 "ps: the new standby ready" cfield_is crash warmStandby ready
    # the logs: every line of both instances, nothing else (no standby name from podman init)
    wait_for 20 "instance 2's ticks" ticks_done crash 2
    sleep 0.5 # anything the daemon would still write
    pok logs crash -d none -s stdout
    local out=$OUT t1 t2
    t1=$(printf '%s\n' "$out" | awk '/^one / {print $2; exit}')
    t2=$(printf '%s\n' "$out" | awk '/^one / && ++n == 2 {print $2; exit}')
    [ -n "$t1" ] && [ -n "$t2" ] && [ "$t1" != "$t2" ] || fail "no two instances in the log: '$t1' '$t2'"
    eq "stdout of both instances" "$(warm_out "$t1"; echo "bye $t1"; warm_out "$t2")" "$out"
    pok logs crash -d none -s stderr
    eq "stderr of both instances" "err $t1
err $t2" "$OUT"
    eq "the same standby" "$sb2" "$(standbys crash | cut -d' ' -f1)"
    pok rm -k
    nothing_left
    no_standby_process
}

# (b) `pod stop` returns with no standby left (container or process), `pod rm` leaves nothing.
t_warm_stop_rm_leave_nothing() {
    run_warm_pod e2ewarmstop svc "$E2E_IMAGE" "$WARM_LOOP" always
    local sb1=$SID spid scpid scl sccl
    read -r spid scpid <<<"$(standby_pids "$sb1")"
    [ "${spid:-0}" -gt 0 ] && [ "${scpid:-0}" -gt 0 ] || fail "standby $sb1: pid '$spid', conmon '$scpid'"
    scl=$(cmdline "$spid")
    sccl=$(cmdline "$scpid")
    match "the standby's process waits in runc init" ' init $' "$scl"
    pok stop
    eq "standbys after stop" "" "$(standbys svc)"
    ! podman container exists "$(standby svc)" || fail "$(standby svc) exists after stop"
    ! podman container exists "$sb1" || fail "standby $sb1 exists after stop"
    proc_gone "$spid" "$scl" || fail "the standby's runc init $spid is alive after stop"
    no_standby_process
    wait_for 10 "the standby's conmon $scpid gone" proc_gone "$scpid" "$sccl"
    eq "svc after stop" exited "$(ctr_state svc)"
    no_supervisor_of "$PODDIR"
    pok start
    wait_for 30 "svc running again" state_is svc running
    wait_for 30 "a standby again" standby_ready svc
    local sb2=$SID
    read -r spid scpid <<<"$(standby_pids "$sb2")"
    scl=$(cmdline "$spid")
    eq "standbys after start" "$(standby svc)" "$(all_standbys)"
    pok rm
    eq "standbys after rm" "" "$(standbys svc)"
    nothing_left
    proc_gone "$spid" "$scl" || fail "the standby's runc init $spid is alive after rm"
    no_standby_process
    eq "podman pod ps" "" "$(podman pod ps --filter "name=^$PODNAME-0.0.1\$" --format '{{.Name}}')"
}

# (c) kill -9 of the daemon with standbys present: the holder's new daemon adopts the running
# instances, replaces the stale standbys with fresh ones, and the next restart uses a fresh one.
t_warm_daemon_kill9_replaces_standby() {
    mkpod e2ewarmrec <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: a
      image: localhost/podtest:1
      command: [sh, -c, '$WARM_CMD']
      restart: always
      warmStandby: true
      stopTimeout: 1
    - name: b
      image: localhost/podtest:1
      command: [sh, -c, '$WARM_LOOP']
      restart: always
      warmStandby: true
      stopTimeout: 1
    - name: c
      image: localhost/podtest:1
      command: [sh, -c, '$WARM_LOOP']
      restart: always
      stopTimeout: 1
YAML
    pok run
    local x
    for x in a b c; do wait_for 30 "$x running" state_is "$x" running; done
    wait_for 30 "a's standby" standby_ready a
    local sa=$SID sb ia ib ic dp
    wait_for 30 "b's standby" standby_ready b
    sb=$SID
    eq "c's standbys" "" "$(standbys c)"
    ia=$(ctr_id a) ib=$(ctr_id b) ic=$(ctr_id c)
    dp=$(daemon_pid)
    kill -9 "$dp"
    wait_for 15 "a new daemon" daemon_is_not "$dp"
    wait_for 30 "a fresh standby of a" standby_ready a "$sa" "$ia"
    local na=$SID
    wait_for 30 "a fresh standby of b" standby_ready b "$sb" "$ib"
    ! podman container exists "$sa" || fail "a's stale standby $sa is still there"
    ! podman container exists "$sb" || fail "b's stale standby $sb is still there"
    eq "daemon restarts" 1 "$(psj .daemon.restarts)"
    eq "a adopted" "$ia" "$(ctr_id a)"
    eq "b adopted" "$ib" "$(ctr_id b)"
    eq "c adopted" "$ic" "$(ctr_id c)"
    for x in a b c; do
        eq "$x: instance" 1 "$(cfield "$x" instance)"
        eq "$x: restarts" 0 "$(cfield "$x" restartCount)"
    done
    eq "running containers" 3 "$(running_count)"
    eq "the standbys" "$(standby a)
$(standby b)" "$(all_standbys)"
    eq "containers of a" "$(ctr a)
$(standby a)" "$(all_of a)"
    eq "containers of c" "$(ctr c)" "$(all_of c)"
    # the fresh standby serves the next restart
    crash_ctr a
    wait_for 30 "a restarted" cfield_ge a restartCount 1
    wait_for 10 "the daemon's note" from_standby_ge a 1
    wait_for 20 "a's fresh standby $na running as $(ctr a)" runs_as a "$na"
    wait_for 30 "a new standby of a" standby_ready a "$na" "$ia"
    eq "b's restarts" 0 "$(cfield b restartCount)"
    pok rm
    nothing_left
    no_standby_process
}

# (d) `restart: never` and `network: host` containers get no standby, next to one that does;
# the network: host one is restarted all the same (by podman run).
t_warm_none_for_never_and_host() {
    local wait_crash='while [ ! -e /tmp/crash ]; do sleep 0.1; done; exit 1'
    mkpod e2ewarmnone <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: warm
      image: localhost/podtest:1
      command: [sh, -c, '$WARM_LOOP']
      restart: always
      warmStandby: true
      stopTimeout: 1
    - name: once
      image: localhost/podtest:1
      command: [sh, -c, '$wait_crash']
      restart: never
      warmStandby: true
      stopTimeout: 1
    - name: hostnet
      image: localhost/podtest:1
      command: [sh, -c, '$wait_crash']
      network: host
      restart: always
      warmStandby: true
      stopTimeout: 1
YAML
    pok run
    local x
    for x in warm once hostnet; do wait_for 30 "$x running" state_is "$x" running; done
    wait_for 30 "warm's standby" standby_ready warm
    eq "the standbys" "$(standby warm)" "$(all_standbys)"
    local ih
    ih=$(ctr_id hostnet)
    crash_ctr once
    crash_ctr hostnet
    wait_for 20 "once exited" cfield_is once phase exited
    wait_for 30 "hostnet restarted" cfield_ge hostnet restartCount 1
    wait_for 20 "hostnet running again" replaced hostnet "$ih"
    eq "once: restarts" 0 "$(cfield once restartCount)"
    eq "hostnet from a standby" 0 "$(from_standby_n hostnet)"
    eq "once from a standby" 0 "$(from_standby_n once)"
    wait_for 10 "ps: warm's standby ready" cfield_is warm warmStandby ready
    eq "ps: once's standby (restart: never)" null "$(cfield once warmStandby)"
    eq "ps: hostnet's standby (network: host)" null "$(cfield hostnet warmStandby)"
    sleep 1 # a standby made after the restart would be there by now
    eq "the standbys after the restarts" "$(standby warm)" "$(all_standbys)"
    eq "containers of once" "$(ctr once)" "$(all_of once)"
    eq "containers of hostnet" "$(ctr hostnet)" "$(all_of hostnet)"
    pok rm
    nothing_left
    no_standby_process
}

# (e) The daemon dies after a start from the standby and before the rename (SPEC 7.8.2 "Ends"):
# every `podman rename` hangs (tests/e2e/faulty-podman) while the crash restarts the container
# from its standby, then the daemon is killed (-9).  The holder's new daemon finds
# `<name>-standby` running and `<name>` gone: it adopts that instance (same ID, not restarted,
# counts kept), renames it, makes a new standby, and the instance's output still reaches the log.
t_warm_daemon_dies_before_rename() {
    export FAULTY_DIR=$T/faults
    mkdir -p "$FAULTY_DIR"
    : >"$FAULTY_DIR/calls"
    echo "rename hang - -" >"$FAULTY_DIR/rules"
    FAULTY_REAL=$(command -v podman)
    POD_PODMAN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/faulty-podman
    export FAULTY_REAL POD_PODMAN
    run_crash_pod e2ewarmren
    local sb1=$SID id1
    id1=$(ctr_id crash)
    crash_ctr crash
    wait_for 30 "the daemon's note" from_standby_ge crash 1
    wait_for 30 "a hanging rename" grep -q ' rename hang ' "$FAULTY_DIR/calls"
    wait_for 20 "the old instance removed" state_is crash missing
    eq "the standby runs, not renamed" running \
        "$(podman container inspect --format '{{.State.Status}}' "$(standby crash)" 2>/dev/null)"
    eq "the standby's ID" "$sb1" "$(podman container inspect --format '{{.Id}}' "$(standby crash)" 2>/dev/null)"
    # `pod shell` enters the instance under the standby's name until the rename
    pok shell -c crash -- echo in-instance-2
    eq "pod shell before the rename" in-instance-2 "$OUT"
    : >"$FAULTY_DIR/rules" # podman behaves again: the new daemon's rename works
    local dp hung
    dp=$(daemon_pid)
    kill -9 "$dp"
    # the old daemon's rename that hangs (`exec sleep`, in a session of its own): ended here
    for hung in $(awk '$3 == "rename" && $4 == "hang" {print $2}' "$FAULTY_DIR/calls"); do
        case $(cmdline "$hung") in "sleep "*) kill "$hung" ;; esac
    done
    wait_for 15 "a new daemon" daemon_is_not "$dp"
    wait_for 30 "the standby $sb1 adopted and renamed $(ctr crash)" runs_as crash "$sb1"
    has_line "$(dlog)" 'adopting instance 2 under its standby'"'"'s name'
    wait_for 30 "a new standby" standby_ready crash "$sb1" "$id1"
    eq "containers of crash" "$(ctr crash)
$(standby crash)" "$(all_of crash)"
    wait_for 30 "crash adopted" cfield_is crash phase running
    eq "daemon restarts" 1 "$(psj .daemon.restarts)"
    eq "instance" 2 "$(cfield crash instance)"
    eq "restarts" 1 "$(cfield crash restartCount)"
    # the adopted instance's output reaches the log (its last tick, after the kill or not)
    wait_for 20 "instance 2's ticks" ticks_done crash 2
    pok rm
    nothing_left
    no_standby_process
}

# (f) `pod rerun NAME` creates the container anew: a standby made before an image changed under
# its tag is not started (it is dropped at the rerun); the new instance runs the current image.
t_warm_rerun_takes_the_current_image() {
    local img=localhost/e2ewarmimg-$$:1 old new id1 sb1
    trap "(cd / && podman rm -f -i e2ewarmimg-$$-v2 && podman rmi -f $img) >/dev/null 2>&1" EXIT
    (cd / && podman tag "$E2E_IMAGE" "$img") || fail "podman tag"
    old=$(cd / && podman image inspect --format '{{.Id}}' "$img")
    run_warm_pod e2ewarmrr loop "$img" "$WARM_LOOP" always
    sb1=$SID
    id1=$(ctr_id loop)
    eq "the standby's image" "$old" "$(podman container inspect --format '{{.Image}}' "$sb1")"
    # a new image under the same tag (what `pod download -f` of a moved tag does)
    (cd / && podman run --name "e2ewarmimg-$$-v2" "$E2E_IMAGE" sh -c 'echo v2 >/version' &&
        podman commit -q "e2ewarmimg-$$-v2" "$img" && podman rm "e2ewarmimg-$$-v2") >/dev/null ||
        fail "a second image"
    new=$(cd / && podman image inspect --format '{{.Id}}' "$img")
    [ "$new" != "$old" ] || fail "the tag did not move"
    pok rerun loop
    wait_for 30 "loop's instance 2" cfield_is loop instance 2
    wait_for 30 "loop running again" replaced loop "$id1"
    eq "instance 2's image" "$new" "$(podman container inspect --format '{{.Image}}' "$(ctr loop)")"
    [ "$(ctr_id loop)" != "$sb1" ] || fail "instance 2 is the old standby $sb1"
    eq "/version in instance 2" v2 "$(in_ctr loop cat /version)"
    eq "restarts from the standby" 0 "$(from_standby_n loop)"
    has_line "$(dlog)" 'warm standby dropped: rerun creates the container anew'
    wait_for 30 "a standby of the new image" standby_ready loop "$sb1"
    eq "the new standby's image" "$new" "$(podman container inspect --format '{{.Image}}' "$SID")"
    pok rm
    nothing_left
}
