# SPDX-License-Identifier: MIT
# tests/e2e/t_hostevents.sh - host events on real podman (SPEC 8.11): a reboot-like loss of
# every /run state (podman's runroot and tmpdir, every process of the pod and its containers),
# a wall clock stepped back and forth (libfaketime, never `date -s`), and a full process table
# for a while (RLIMIT_NPROC of the unprivileged user; root ignores it, so that part is skipped
# as root).  The pod recovers and says what happened.  The clock step is
# `t_faketime.sh`'s `wall_clock_steps_back_and_forth` (it needs that file's dynamic podc and
# libfaketime set-up).  Figures: `FIGURE ` lines, appended to $E2E_FIGURES when set.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# ---------------------------------------------------------------- a private podman store
# he_store: podman with its own --root/--runroot/--tmpdir under /tmp/e2eho-st.* (vfs driver: no
# mounts to leak), the test image copied in, a wrapper $T/podman-store that the pod uses through
# $POD_PODMAN, and a shell function `podman` so the helpers of lib.sh see the same store.
# An EXIT trap removes everything of the store when the test ends.
he_store() {
    HE_S=$(mktemp -d /tmp/e2eho-st.XXXXXX) # podman: a runroot of at most 50 characters
    mkdir -p "$HE_S/root" "$HE_S/run" "$HE_S/tmp"
    cat >"$T/podman-store" <<EOF
#!/bin/sh
exec podman --root '$HE_S/root' --runroot '$HE_S/run' --tmpdir '$HE_S/tmp' --storage-driver vfs "\$@"
EOF
    chmod 755 "$T/podman-store"
    export POD_PODMAN=$T/podman-store
    command podman save -o "$T/img.tar" "$E2E_IMAGE" >/dev/null 2>&1 || fail "podman save"
    "$POD_PODMAN" load -i "$T/img.tar" >"$T/load.out" 2>&1 || fail "podman load into the store: $(tail -n 3 "$T/load.out")"
    rm -f "$T/img.tar"
    trap he_store_cleanup EXIT
}

podman() {
    if [ -n "${POD_PODMAN:-}" ]; then "$POD_PODMAN" "$@"; else command podman "$@"; fi
}

he_store_cleanup() {
    [ -n "${HE_S:-}" ] && [ -d "$HE_S" ] || return 0
    if [ -n "${POD:-}" ] && [ -x "$POD" ]; then
        (cd / && timeout 60 "$POD" rm -k >/dev/null 2>&1) || true
    fi
    local c
    for c in $("$POD_PODMAN" ps -aq 2>/dev/null); do
        "$POD_PODMAN" rm -f -t 0 "$c" >/dev/null 2>&1 || true
    done
    for c in $("$POD_PODMAN" pod ps -q 2>/dev/null); do
        "$POD_PODMAN" pod rm -f "$c" >/dev/null 2>&1 || true
    done
    awk -v s="$HE_S/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r |
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    # the IP leases of the killed containers (CNI host-local keeps them in /var/lib, which a
    # reboot does not empty; podman never releases them once it forgot the containers)
    local id f
    for id in $(cat "$HE_S.ids" 2>/dev/null); do
        printf '%s' "$id" | grep -Eqx '[0-9a-f]{64}' || continue
        for f in $(grep -rl -- "^$id" /var/lib/cni/networks 2>/dev/null); do
            rm -f "$f" 2>/dev/null || true
        done
    done
    # rootless: the image's files belong to the user's subordinate ids
    [ "$(id -u)" = 0 ] || "$POD_PODMAN" unshare rm -rf "$HE_S/root" "$HE_S/run" "$HE_S/tmp" 2>/dev/null || true
    rm -rf "$HE_S" "$HE_S.ids" 2>/dev/null || true
}

# he_pids_of_store: conmon and PID 1 of every container of the store (the infra one included).
he_pids_of_store() {
    local c
    for c in $("$POD_PODMAN" ps -q 2>/dev/null); do
        "$POD_PODMAN" container inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' "$c" 2>/dev/null
    done
}

# he_reboot: what a reboot does to a running pod: every process gone at once (holder, daemon,
# conmon, containers: SIGKILL, no chance to write anything), /run empty (podman's runroot and
# tmpdir; the store's tmpfs mounts gone).  The pod directory and podman's --root persist.
he_reboot() {
    local pids pid c ns="" ids=""
    pids="$(holder_pid) $(daemon_pid) $(he_pids_of_store)"
    # the network namespaces podman bind-mounted under /run/netns (a reboot empties /run)
    for c in $("$POD_PODMAN" ps -q 2>/dev/null); do
        ns="$ns $("$POD_PODMAN" container inspect --format '{{.NetworkSettings.SandboxKey}}' "$c" 2>/dev/null)"
        ids="$ids $("$POD_PODMAN" container inspect --format '{{.Id}}' "$c" 2>/dev/null)"
    done
    echo "$ids" >>"$HE_S.ids"
    log "reboot: SIGKILL $pids"
    # all at once: stopped first, so that neither the holder nor the daemon can start the other
    # again between two kills (each restarts the other, SPEC 10.3)
    kill -STOP $(holder_pid) $(daemon_pid) 2>/dev/null || true
    kill -9 $pids 2>/dev/null || true
    # the processes of the pod directory (podman calls of the daemon, the agent's podman exec,
    # a holder or daemon started meanwhile), until there is none
    local left=1 tries=0
    while [ -n "$left" ] && [ $tries -lt 50 ]; do
        left=""
        for pid in $(ls /proc | grep -E '^[0-9]+$'); do
            [ "$pid" = $$ ] && continue
            if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$PODDIR" ] ||
                { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--dir $PODDIR "; then
                grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && continue
                kill -9 "$pid" 2>/dev/null && left="$left $pid"
            fi
        done
        tries=$((tries + 1))
        [ -z "$left" ] || sleep 0.1
    done
    for pid in $pids; do
        wait_for 10 "process $pid gone" sh -c "[ ! -d /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status"
    done
    awk -v s="$HE_S/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r |
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    for c in $ns; do
        case $c in /run/netns/netns-* | */netns/netns-*)
            umount "$c" 2>/dev/null || umount -l "$c" 2>/dev/null || true
            rm -f "$c" 2>/dev/null || true ;;
        esac
    done
    rm -rf "$HE_S/run" "$HE_S/tmp"
    mkdir -p "$HE_S/run" "$HE_S/tmp"
}

# A reboot: every process gone, /run wiped.  `pod run` afterwards brings the pod back: the
# containers run again (new instances), restart counts and the backoff streak are kept from
# .pod.state, and the command line and the daemon's log say what was found.
t_reboot_like_loss_of_run() {
    he_store
    mkpod e2ehoboot <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: tick
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 143" TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
      restart: always
      stopTimeout: 2
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
    - name: job
      image: localhost/podtest:1
      command: [sh, -c, 'echo job done']
      restart: never
YAML
    pok run
    wait_for 30 "pod ready" ready_is 1
    wait_for 20 "job exited" cfield_is job phase exited
    local id0 dp0
    id0=$(ctr_id tick)
    dp0=$(daemon_pid)
    he_reboot
    no_supervisor_of "$PODDIR"
    log "after the reboot: $(podman ps -a --format '{{.Names}} {{.Status}}' | tr '\n' ';')"
    local t0
    t0=$(ms)
    p run
    log "run after the reboot: rc $RC: $ERR"
    [ "$RC" = 0 ] || fail "run after the reboot exited $RC: $ERR"
    wait_for 60 "pod ready again" ready_is 1
    echo "FIGURE hostevents reboot_recover_ms=$(ms_since "$t0")"
    [ -z "${E2E_FIGURES:-}" ] || { echo "FIGURE hostevents reboot_recover_ms=$(ms_since "$t0")" >>"$E2E_FIGURES"; } 2>/dev/null || true
    # what the command line said: nothing ran, so a bad state, destroyed and created anew
    match "run" 'bad state \(no supervisor\), destroying it' "$ERR"
    match "run" 'ended without a stop \(a reboot, or all killed\): it starts afresh' "$ERR"
    eq "tick running" running "$(ctr_state tick)"
    [ "$(ctr_id tick)" != "$id0" ] || fail "tick is the old container"
    [ "$(daemon_pid)" != "$dp0" ] || fail "the same daemon?"
    eq "containers running" 1 "$(running_count)"
    # no leftovers, no duplicates: one pod (a new infra container), tick and job once each
    eq "containers of the store" 3 "$(podman ps -aq | wc -l)"
    eq "pods of the store" 1 "$(podman pod ps -q | wc -l)"
    wait_for 20 "job ran again" cfield_is job phase exited
    eq "job exit code" 0 "$(cfield job exitCode)"
    # the log files continue: tick's records before and after, seq without a gap, the daemon's
    # log has both daemons
    local f=$PODDIR/log/tick-e2ehoboot-0.0.1-stdout.log n
    n=$(wc -l <"$f")
    wait_for 10 "tick logs again" sh -c "[ \$(wc -l <'$f') -gt $((n + 3)) ]"
    awk '{ s = $2; sub(/[+!]$/, "", s); if (NR > 1 && s != prev + 1) { print "gap after " prev; exit 1 } prev = s }' "$f" ||
        fail "a gap in tick's seq"
    eq "daemons in the log" 2 "$(grep -c 'daemon: started' "$PODDIR/log/e2ehoboot-0.0.1-stderr.log")"
    pok stop
    eq "running after stop" 0 "$(running_count)"
    pok rm
}

# he_nproc PID SOFT: sets the soft RLIMIT_NPROC of PID (the hard limit stays: the user can
# raise the soft one again).
he_nproc() { prlimit --pid "$1" --nproc="$2:" || fail "prlimit --pid $1 --nproc=$2:"; }
he_nproc_soft() { prlimit --pid "$1" --nproc --raw --noheadings -o SOFT | tr -d ' '; }

# he_stays SECONDS WHAT CMD...: CMD holds for SECONDS (checked every 0.5 s).
he_stays() {
    local secs=$1 what=$2
    shift 2
    local end=$(($(ms) + secs * 1000))
    while [ "$(ms)" -lt $end ]; do
        "$@" || fail "$what no longer holds"
        sleep 0.5
    done
}

daemon_log_has() { grep -aqE -- "$1" "$PODDIR/log/$PODNAME-0.0.1-stderr.log"; }

# A full process table for a while: the daemon's RLIMIT_NPROC drops to 1 (its user has more
# processes than that: every fork fails with EAGAIN, as when the user's table is full), for
# ~8 s, then is lifted.  The daemon keeps running (same pid), says that it could not fork podman
# (WARN, once per retry), retries with its backoff, keeps `ps` and the status file answering;
# an exit it could not confirm meanwhile (the crash-looping container's) is seen once podman
# can be run again, and the container restarted.  Root ignores RLIMIT_NPROC: only in
# `make e2e-rootless`.
t_nproc_exhausted() {
    if [ "$(id -u)" = 0 ]; then
        log "skipped: root ignores RLIMIT_NPROC (make e2e-rootless runs it)"
        return 0
    fi
    command -v prlimit >/dev/null || { log "skipped: no prlimit"; return 0; }
    mkpod e2ehonproc <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: tick
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 143" TERM; while true; do sleep 0.2; done']
      stopTimeout: 1
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1; exit 1']
      restart: always
      stopTimeout: 1
      restartBackoff:
        maxSeconds: 1
YAML
    pok run
    wait_for 30 "crash restarted" cfield_ge crash restartCount 1
    local dp soft u0 t0
    dp=$(daemon_pid)
    soft=$(he_nproc_soft "$dp")
    log "daemon $dp: RLIMIT_NPROC soft $soft; the user has $(ps -u "$(id -u)" -L --no-headers | wc -l) tasks"
    he_nproc "$dp" 1
    t0=$(ms)
    wait_for 30 "a podman call that could not fork" daemon_log_has 'fork `podman`: Resource temporarily unavailable'
    u0=$(status updated)
    # the daemon lives on, answers, writes its status; the other container is left alone
    he_stays 6 "the daemon answers" cfield_is tick phase running
    wait_for 12 "status refreshed" sh -c "[ \"\$(sed -n 's/^updated: //p' '$STATUS')\" -gt $u0 ]"
    kill -0 "$dp" || fail "the daemon died"
    eq "tick" running "$(ctr_state tick)"
    he_nproc "$dp" "$soft"
    local outage_ms s0 n
    outage_ms=$(ms_since "$t0")
    n=$(grep -ac 'fork `podman`: Resource temporarily unavailable' "$PODDIR/log/$PODNAME-0.0.1-stderr.log")
    log "RLIMIT_NPROC lifted after $outage_ms ms ($n failed forks logged)"
    s0=$(cfield crash startCount)
    t0=$(ms)
    # the lookup's backoff doubles up to 60 s (SPEC 7.8): recovered within that
    wait_for 75 "crash starts again" cfield_ge crash startCount $((s0 + 2))
    echo "FIGURE hostevents nproc outage_ms=$outage_ms failed_forks_logged=$n recovered_ms=$(ms_since "$t0")"
    [ -z "${E2E_FIGURES:-}" ] || { echo "FIGURE hostevents nproc outage_ms=$outage_ms failed_forks_logged=$n recovered_ms=$(ms_since "$t0")" >>"$E2E_FIGURES"; } 2>/dev/null || true
    eq "same daemon" "$dp" "$(daemon_pid)"
    eq "daemon restarts" 0 "$(psj .daemon.restarts)"
    eq "tick restarts" 0 "$(cfield tick restartCount)"
    pok stop
    no_supervisor_of "$PODDIR"
    eq "running" 0 "$(running_count)"
}
