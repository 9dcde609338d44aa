# SPDX-License-Identifier: MIT
# tests/e2e/lib.sh - helpers of the end-to-end tests: compiled pods on real podman.
#
# Sourced by tests/e2e/run.sh into every test file.  A test file tests/e2e/t_<topic>.sh defines
# functions named t_<name>; each runs in its own subshell with a fresh work directory $T (under
# $E2E_WORK), `set -eu`, and ends ok when it returns 0.  Helpers that assert print what they
# saw and `return 1`/exit the subshell on failure.
#
# Pods: `mkpod NAME <<'EOF' ... EOF` writes $T/NAME/pod.yaml (the heredoc), creates the config
# dirs it lists in $CONFIGS ("name:file=content ..."), compiles it with podc as `pod` and sets
# POD=$T/NAME/pod (absolute).  Every pod name must start with `e2e` (podman objects are
# `<name>-<version>`); the runner removes what is left of them after each test.
# Pod calls go through `p ARGS...`: `sh -c "$POD ARGS"` from an unreadable directory, the way
# simplenetesd calls a pod (contract §1.1), stdout and stderr kept in $OUT / $ERR, exit code $RC.

E2E_IMAGE=${E2E_IMAGE:-localhost/podtest:1}

log() { printf '# %s\n' "$*" >&2; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    diag >&2
    return 1
}

# diag: what the current pod looks like (once per test): its `ps`, its daemon log's tail, and
# podman's view of its containers.  Called by fail, so a failure in CI explains itself.
diag() {
    [ -z "${E2E_DIAG_DONE:-}" ] && [ -n "${POD:-}" ] && [ -x "${POD:-}" ] || return 0
    E2E_DIAG_DONE=1
    echo "---- diag: pod ps"
    (cd "$PODDIR" && timeout 10 "$POD" ps 2>&1) | sed 's/^/    /'
    local f
    for f in "$PODDIR"/log/"$PODNAME"-*-stderr.log; do
        [ -f "$f" ] || continue
        echo "---- diag: tail of ${f##*/}"
        tail -n 25 "$f" | sed 's/^/    /'
    done
    echo "---- diag: podman ps -a (label podc.pod=$PODNAME-*)"
    podman ps -a --format '{{.Names}} {{.Status}}' 2>&1 | grep -F "$PODNAME-" | sed 's/^/    /'
    return 0
}

# ---------------------------------------------------------------- pods
# mkpod NAME [PODC-ARGS...] < pod.yaml
mkpod() {
    local name=$1
    shift
    local dir=$T/$name
    mkdir -p "$dir"
    cat >"$dir/pod.yaml"
    local c
    for c in ${CONFIGS:-}; do # cfgname:file=content (content without spaces)
        local cfg=${c%%:*} rest=${c#*:}
        mkdir -p "$dir/config/$cfg"
        [ "$rest" = "$c" ] || printf '%s\n' "${rest#*=}" >"$dir/config/$cfg/${rest%%=*}"
    done
    (cd "$dir" && SPACE_LOG_LEVEL=1 "$PODC" "$name" -o pod "$@") || fail "podc $name"
    POD=$dir/pod
    PODDIR=$dir
    PODNAME=$name
    STATUS=$dir/.pod.status
}

# pod_dynamic: the current pod is linked dynamically (the sanitizer and valgrind builds of make
# e2e-asan / e2e-valgrind): it cannot run inside the static test image, so it gets no agent.
pod_dynamic() { readelf -l "$POD" 2>/dev/null | grep -q 'INTERP'; }

# p ARGS...: one pod call, as the host daemon makes it.  Sets OUT, ERR, RC; never fails.
# Under make e2e-valgrind (E2E_VG set by run.sh) the actions of E2E_VG_ACTIONS run under it.
p() {
    RC=0
    local vg=""
    if [ -n "${E2E_VG:-}" ]; then
        case " $E2E_VG_ACTIONS " in *" ${1%% *} "*) vg="$E2E_VG " ;; esac
    fi
    OUT=$(cd "$E2E_NOCWD" 2>/dev/null; sh -c "$vg$POD $*" 2>"$T/.err") || RC=$?
    ERR=$(cat "$T/.err")
}

# cheap_ms MS: the bound of a "this call is cheap" check: MS, and 10 times MS under make
# e2e-valgrind (an action under valgrind takes ~1 s to start on its own).
cheap_ms() { if [ -n "${E2E_VG:-}" ]; then echo $(($1 * 10)); else echo "$1"; fi; }

# pok ARGS...: p, and the call must exit 0.
pok() {
    p "$@"
    [ "$RC" = 0 ] || fail "pod $* exited $RC: $ERR"
}

# prc N ARGS...: p, and the call must exit N.
prc() {
    local want=$1
    shift
    p "$@"
    [ "$RC" = "$want" ] || fail "pod $* exited $RC, want $want: $ERR"
}

# ---------------------------------------------------------------- podman views
# ctr NAME: the podman name of container NAME of the current pod.
ctr() {
    local v
    v=$(sed -n 's/^podVersion: *//p' "$PODDIR/pod.yaml" | tr -d "\"'" | head -1)
    printf '%s-%s-%s' "$1" "$PODNAME" "$v"
}

# ctr_state NAME: running|exited|created|... or "missing"
ctr_state() {
    podman container inspect --format '{{.State.Status}}' "$(ctr "$1")" 2>/dev/null || echo missing
}

ctr_exit_code() {
    podman container inspect --format '{{.State.ExitCode}}' "$(ctr "$1")" 2>/dev/null
}

# pod_objects: every podman container/pod of the current pod (label podc.pod), one per line.
pod_objects() {
    local v
    v=$(sed -n 's/^podVersion: *//p' "$PODDIR/pod.yaml" | tr -d "\"'" | head -1)
    podman ps -a --filter "label=podc.pod=$PODNAME-$v" --format '{{.Names}}' 2>/dev/null
    podman pod ps --filter "name=^$PODNAME-$v\$" --format '{{.Name}}' 2>/dev/null
}

# status KEY [CTR]: a value of the pod's .pod.status (of container CTR when given).
status() {
    [ -f "$STATUS" ] || return 0
    if [ $# -eq 1 ]; then
        sed -n "/^containers:/q; s/^$1: \{0,1\}//p" "$STATUS"
    else
        awk -v c="$2" -v k="$1" '
            /^    - name: / { in_c = ($3 == c) }
            in_c && $1 == k":" { sub(/^[^:]*: ?/, ""); print; exit }' "$STATUS"
    fi
}

# ---------------------------------------------------------------- waiting and asserting
# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local end=$(($(date +%s%N) / 1000000 + secs * 1000))
    while ! "$@" 2>/dev/null; do
        [ $(($(date +%s%N) / 1000000)) -lt $end ] || fail "timed out after ${secs}s waiting for $what"
        sleep 0.1
    done
}

eq() { # eq WHAT WANT GOT
    [ "$3" = "$2" ] || fail "$1: want '$2', got '$3'"
}

match() { # match WHAT ERE GOT
    printf '%s' "$3" | grep -Eq -- "$2" || fail "$1: '$3' does not match /$2/"
}

has_line() { # has_line FILE ERE
    grep -Eq -- "$2" "$1" || fail "$1 has no line matching /$2/"
}

# ms: monotonic-ish milliseconds (wall clock; only for measuring in tests, never asserted tight)
ms() { echo $(($(date +%s%N) / 1000000)); }

# no_processes_of POD_DIR: no process whose cwd or argv mentions the pod directory is alive.
no_processes_of() {
    local d=$1 pid bad=""
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" = $$ ] && continue
        if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$d/pod "; then
            bad="$bad $pid"
        fi
    done
    [ -z "$bad" ] || fail "processes of $d still alive:$bad ($(ps -o pid,args -p ${bad# } 2>/dev/null | tail -n +2 | tr '\n' ';'))"
}
