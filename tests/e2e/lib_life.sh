# SPDX-License-Identifier: MIT
# tests/e2e/lib_life.sh - helpers of the lifecycle tests (t_life, t_multi, t_restart, t_probes,
# t_config, t_recover, t_parity, t_faketime), on top of lib.sh.  Sourced by those test files.

# daemon_pid / holder_pid: from the pod's .pod.pid (empty when none).
daemon_pid() { awk '$1 == "daemon" {print $2}' "$PODDIR/.pod.pid" 2>/dev/null; }
holder_pid() { awk '$1 == "holder" {print $2}' "$PODDIR/.pod.pid" 2>/dev/null; }
# daemon_is_not PID: a daemon other than PID runs (the holder started a new one).
daemon_is_not() { local d; d=$(daemon_pid); [ -n "$d" ] && [ "$d" != "$1" ] && kill -0 "$d"; }

ctr_id() { podman container inspect --format '{{.Id}}' "$(ctr "$1")" 2>/dev/null || echo missing; }
ctr_label_instance() {
    podman container inspect --format '{{index .Config.Labels "podc.instance"}}' "$(ctr "$1")" 2>/dev/null
}

# state_is NAME STATE: podman says container NAME is in STATE.
state_is() { [ "$(ctr_state "$1")" = "$2" ]; }

# running_count: our containers podman shows running.
running_count() {
    local v
    v=$(sed -n 's/^podVersion: *//p' "$PODDIR/pod.yaml" | tr -d "\"'" | head -1)
    podman ps --filter "label=podc.pod=$PODNAME-$v" --filter label=podc.container --format '{{.Names}}' 2>/dev/null | wc -l
}

# psj JQ-FILTER: `pod ps --json` through jq (the live view while a daemon runs).
psj() {
    p ps --json
    [ "$RC" = 0 ] || fail "ps --json exited $RC: $ERR"
    printf '%s' "$OUT" | jq -r "$1"
}

# cfield CTR FIELD: a container's field of the live view.
cfield() { psj ".containers[] | select(.name == \"$1\") | .$2"; }

status_is() { [ "$(status "$1")" = "$2" ]; }
ready_is() { [ "$(status readiness)" = "$1" ]; }
cfield_ge() { [ "$(cfield "$1" "$2")" -ge "$3" ] 2>/dev/null; }
cfield_is() { [ "$(cfield "$1" "$2")" = "$3" ]; }

# ms_since T0: milliseconds since T0 (from ms).
ms_since() { echo $(($(ms) - $1)); }

# http_get PORT [PATH]: the body of GET http://127.0.0.1:PORT/PATH from the host (bash /dev/tcp:
# busybox wget -T crashes, curl may be missing).
http_get() {
    local body
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "${2:-/}" >&3
    body=$(cat <&3)
    exec 3<&-
    printf '%s' "$body" | sed '1,/^\r\{0,1\}$/d'
}

# in_ctr NAME CMD...: runs CMD in container NAME (podman exec), prints its output.
in_ctr() {
    local n=$1
    shift
    podman exec "$(ctr "$n")" "$@" 2>/dev/null
}

# count_in NAME PATTERN: processes of container NAME whose command line matches PATTERN (ERE).
count_in() {
    in_ctr "$1" ps -o args | grep -Ec -- "$2" || true
}

# no_supervisor_of DIR: no holder or daemon of DIR runs (a process started as `__holder`/
# `__daemon --dir DIR`, or running DIR/pod).  (Containers' conmon processes may keep DIR as
# their cwd while the containers exist: podman runs in the pod directory.)
no_supervisor_of() {
    local d=$1 pid bad=""
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" = $$ ] && continue
        if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--dir $d " ||
            [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$d/pod" ]; then
            bad="$bad $pid"
        fi
    done
    [ -z "$bad" ] || fail "processes of $d still alive:$bad"
}

# no_process_in DIR: nothing at all runs with DIR as its cwd (after rm: conmon gone too).
no_process_in() {
    local d=$1 pid bad=""
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$d" ] && bad="$bad $pid"
    done
    [ -z "$bad" ] || fail "processes in $d still alive:$bad ($(ps -o args= -p ${bad# } | tr '\n' ';'))"
}

# nothing_left: no container or pod of the current pod in podman, no process of its directory.
nothing_left() {
    local left
    left=$(pod_objects)
    [ -z "$left" ] || fail "podman still has: $(printf '%s' "$left" | tr '\n' ' ')"
    no_processes_of "$PODDIR"
    no_supervisor_of "$PODDIR"
    no_process_in "$PODDIR"
}

# kill_supervisor: SIGKILL of holder and daemon together (both stopped first, so neither sees
# the other die and starts a new one in between).
kill_supervisor() {
    local hp dp
    hp=$(holder_pid) dp=$(daemon_pid)
    kill -STOP "$hp" "$dp"
    kill -9 "$hp" "$dp"
}
