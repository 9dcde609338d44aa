# SPDX-License-Identifier: MIT
# tests/e2e/t_confine.sh - what runs "in" a container runs with exactly the container's
# confinement (SPEC 7.9, 11.7): an exec probe, a signal `cmd` and `pod shell`, each compared
# with the container's main process, property by property, both read from the host
# (/proc/<host pid>/status, ns/*, cgroup, attr/current): nothing is asked of podman exec, which
# is one of the paths under test.  The container runs as uid/gid 1000:1000 (an image with
# `USER 1000:1000`, built here from the test image: PODSPEC has no user field), so its
# capability sets differ from root's and a process that escaped to root or to the host shows.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

CONFINE_IMAGE=localhost/e2esa-user:1
# the /proc/PID/status fields compared, then the namespaces
CONFINE_STATUS="Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp Seccomp_filters"
CONFINE_NS="cgroup ipc mnt net pid pid_for_children time time_for_children user uts"

# confine_image: the test image with USER 1000:1000 (kept: ~nothing on disk, rebuilt if gone).
confine_image() {
    podman image exists "$CONFINE_IMAGE" 2>/dev/null && return 0
    printf 'FROM %s\nUSER 1000:1000\n' "$E2E_IMAGE" >"$T/Containerfile"
    (cd "$T" && podman build -q --pull=never -t "$CONFINE_IMAGE" -f Containerfile . >/dev/null) ||
        fail "podman build $CONFINE_IMAGE"
}

# host_pids MARKER: host pids of processes whose whole command line is `sleep MARKER`.
host_pids() {
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" = "sleep $1 " ] && echo "$pid"
    done
    return 0
}

# one_pid MARKER: one such process (prints its pid; several: the first that is the agent's
# child when the agent is expected, else the first).
one_pid() {
    local p q
    p=$(host_pids "$1")
    [ -n "$p" ] || return 1
    if ! pod_dynamic && [ "${2:-}" = agent ]; then
        for q in $p; do
            via_agent "$q" && printf '%s' "$q" && return 0
        done
        return 1
    fi
    printf '%s' "$(printf '%s\n' "$p" | head -1)"
}

# wait_pid SECONDS WHAT MARKER [agent]: waits for one_pid MARKER [agent], sets FOUND to it;
# says what it saw when it times out, or fails at once when the process WAIT_ALSO (a child of
# this shell: the caller that should start it) has ended.
wait_pid() {
    local end=$(($(ms) + $1 * 1000)) q seen=""
    while ! FOUND=$(one_pid "$3" "${4:-}"); do
        if [ -n "${WAIT_ALSO:-}" ] && ! kill -0 "$WAIT_ALSO" 2>/dev/null; then
            wait "$WAIT_ALSO" && q=0 || q=$?
            fail "$2: its caller (pid $WAIT_ALSO) ended (exit $q) before sleep $3 showed$([ ! -s "$T/shell.out" ] || echo "; it said: $(cat "$T/shell.out")")"
            return 1
        fi
        if [ "$(ms)" -ge $end ]; then
            for q in $(host_pids "$3"); do seen="$seen $q (parent: $(parent_args "$q" | cut -c1-60))"; done
            grep -i agent "$PODDIR/log/$PODNAME"-*-stderr.log >&2 || true
            for q in $(ls /proc | grep -E '^[0-9]+$'); do
                [ "$(prop "$q" ns/pid 2>/dev/null)" = "$(prop "$MAIN" ns/pid)" ] || continue
                echo "in the container: $q $(awk '$1 == "PPid:" {print $2}' /proc/$q/status) $(tr '\0' ' ' </proc/$q/cmdline)" >&2
            done
            fail "timed out after $1 s waiting for $2 (sleep $3${4:+, child of the agent}); seen:${seen:- none}$([ ! -s "$T/shell.out" ] || echo "; pod shell said: $(cat "$T/shell.out")")"
            return 1
        fi
        sleep 0.2
    done
}

# parent_args PID: the command line of PID's parent.
parent_args() {
    local pp
    pp=$(awk '$1 == "PPid:" {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
    [ -z "$pp" ] || tr '\0' ' ' <"/proc/$pp/cmdline" 2>/dev/null || true
}

# prop PID NAME: one property of process PID as the host sees it.
prop() {
    case $2 in
    ns/*) readlink "/proc/$1/$2" ;;
    cgroup) tr '\n' ' ' <"/proc/$1/cgroup" ;;
    attr/current) tr -d '\0' <"/proc/$1/attr/current" 2>/dev/null || echo none ;;
    Groups) # the groups that grant access: the supplementary ones and the effective gid (podman
        # 4.3 lists a `USER u:g` container's g among its main process's supplementary groups,
        # not among an exec'd process's: the same access either way)
        awk '$1 == "Gid:" {print $3} $1 == "Groups:" {for (i = 2; i <= NF; i++) print $i}' \
            "/proc/$1/status" | sort -un | tr '\n' ' ' ;;
    *) awk -v k="$2:" '$1 == k {sub(/^[^:]*:[ \t]*/, ""); print; exit}' "/proc/$1/status" ;;
    esac
}

confine_props() {
    local p
    for p in $CONFINE_STATUS; do echo "$p"; done
    for p in $CONFINE_NS; do echo "ns/$p"; done
    echo cgroup
    echo attr/current
}

# same_confinement WHAT MAIN PID: every property of PID equals the main process's; one
# assertion per property, all of them checked before failing.
same_confinement() {
    local what=$1 main=$2 pid=$3 p want got bad=0
    for p in $(confine_props); do
        want=$(prop "$main" "$p") || want=""
        got=$(prop "$pid" "$p") || got=""
        if [ -z "$want" ]; then
            printf 'FAIL: %s: %s of the main process unreadable\n' "$what" "$p" >&2
            bad=1
        elif [ "$got" != "$want" ]; then
            printf "FAIL: %s: %s differs from the container's main process: '%s', main '%s'\n" \
                "$what" "$p" "$got" "$want" >&2
            bad=1
        else
            log "$what: $p = $got"
        fi
    done
    [ -d "/proc/$pid" ] || fail "$what: process $pid ended while it was being read"
    [ $bad = 0 ] || fail "$what does not run with the container's confinement"
}

pod_confine() {
    confine_image
    mkpod e2esaconfine <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: main
      image: localhost/e2esa-user:1
      command: [sleep, "3700"]
      stopTimeout: 1
      signal:
        - cmd: [sleep, "3703"]
      readinessProbe:
        cmd: [sleep, "3701"]
        timeout: 10
        periodSeconds: 1
YAML
    pok run
    wait_for 30 "main running" cfield_is main phase running
    MAIN=$(podman container inspect --format '{{.State.Pid}}' "$(ctr main)")
    [ -n "$MAIN" ] && [ "$MAIN" != 0 ] || fail "no pid of the main process"
    # the comparison can fail: the container is confined differently from this test
    if [ -z "${E2E_ROOTLESS:-}" ]; then
        match "main's uid" '^1000[[:space:]]' "$(prop "$MAIN" Uid)"
    else # uid 1000 of the container is a subordinate uid of the caller's
        local u
        u=$(prop "$MAIN" Uid | cut -f1)
        [ "$u" != 0 ] && [ "$u" != "$(id -u)" ] || fail "main's host uid: $u"
        [ "$(prop "$MAIN" ns/user)" != "$(prop $$ ns/user)" ] || fail "main shares the test's user ns"
    fi
    eq "main's effective capabilities" 0000000000000000 "$(prop "$MAIN" CapEff)"
    [ "$(prop "$MAIN" ns/mnt)" != "$(prop $$ ns/mnt)" ] || fail "main shares the test's mount ns"
    [ "$(prop "$MAIN" ns/pid)" != "$(prop $$ ns/pid)" ] || fail "main shares the test's pid ns"
}

# via_agent PID: PID was forked by the in-container agent (not by a podman exec).
via_agent() { parent_args "$1" | grep -q '^/\.podc/agent __agent '; }

# An exec probe attempt (readiness, killed at its 10 s timeout and retried): through the agent
# once it is up (the first attempt may take podman exec; SPEC 7.9).  A dynamic pod has no
# agent (t_probes.sh): then an attempt through podman exec.
t_exec_probe_has_the_containers_confinement() {
    pod_confine
    wait_pid 60 "a probe attempt" 3701 agent
    local pid=$FOUND
    log "probe attempt: pid $pid, parent: $(parent_args "$pid")"
    same_confinement "exec probe" "$MAIN" "$pid"
    # an earlier attempt through `podman exec` (the agent was not up yet) was cancelled at its
    # timeout: its process is gone, killed inside the container (SPEC 7.8; rootless, with this
    # non-root container user, found through its exec session's conmon: its environment is not
    # the daemon's to read)
    if ! pod_dynamic; then
        local end=$(($(ms) + 15000)) left
        while left=$(not_via_agent 3701) && [ -n "$left" ] && [ "$(ms)" -lt $end ]; do sleep 0.2; done
        [ -z "$left" ] || fail "a cancelled podman exec attempt lives on 15 s after the agent's attempt showed:$(for q in $left; do echo " $q (parent: $(parent_args "$q" | cut -c1-40))"; done)"
    fi
    pok rm
}

# not_via_agent MARKER: the `sleep MARKER` processes that the agent did not fork.
not_via_agent() {
    local q
    for q in $(host_pids "$1"); do via_agent "$q" || printf '%s ' "$q"; done
}

# agent_up: the agent runs in the main process's pid namespace.
agent_up() {
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q '^/\.podc/agent __agent ' &&
            [ "$(prop "$pid" ns/pid)" = "$(prop "$MAIN" ns/pid)" ] && return 0
    done
    return 1
}

# `pod signal` of a container whose signal is a `cmd`: through the agent (through podman exec
# for a dynamically linked pod).
t_signal_cmd_has_the_containers_confinement() {
    pod_confine
    pod_dynamic || wait_for 20 "the agent" agent_up
    pok signal main
    wait_pid 20 "the signal command" 3703
    local pid=$FOUND
    [ -z "$(host_pids 3703 | tail -n +2)" ] || fail "several signal commands: $(host_pids 3703 | tr '\n' ' ')"
    log "signal command: pid $pid, parent: $(parent_args "$pid")"
    pod_dynamic || via_agent "$pid" || fail "the signal command did not take the agent"
    same_confinement "signal cmd" "$MAIN" "$pid"
    pok rm
}

# `pod shell -c main -- CMD` (podman exec, as the user calls it).
t_shell_has_the_containers_confinement() {
    pod_confine
    # from an unreadable cwd where one can be had: the rootless user cannot enter $E2E_NOCWD
    # (mode 000; root can), and this subshell has `set -e`: without `|| :` it ended there,
    # before `pod shell` ran (why this test once failed rootless)
    (cd "$E2E_NOCWD" 2>/dev/null || :; exec "$POD" shell -c main -- sleep 3702 </dev/null >"$T/shell.out" 2>&1) &
    local sh=$! pid
    WAIT_ALSO=$sh wait_pid 20 "the shell's command" 3702
    pid=$FOUND
    log "shell command: pid $pid, parent: $(parent_args "$pid")"
    same_confinement "pod shell" "$MAIN" "$pid"
    kill -9 "$pid"
    wait "$sh" || true
    pok rm
}
