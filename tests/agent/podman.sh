#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/agent/podman.sh - the in-container exec agent on real podman (make test-agent / bench-agent).
#
#   sh tests/agent/podman.sh BUILD_DIR [bench]
#
# For root podman, then rootless podman as the user of ci/rootless-setup.sh (called the way
# production calls a pod: setpriv --reuid --regid --init-groups, XDG_RUNTIME_DIR unset,
# /run/user/UID pre-created, started from an unreadable cwd), and for two containers each
# (default; --cap-drop=ALL --cap-add=NET_BIND_SERVICE --security-opt no-new-privileges
# --user 1000:1000):
#   1. confinement: a probe run through the agent and the same probe run by `podman exec` print
#      their own /proc/PID/{status,ns/*,cgroup,environ,cwd,limits,oom_score_adj,attr/current};
#      one line and one assertion per property: the two must be equal;
#   2. behaviour: exit codes as podman exec's (3, 127, 126, 137); CANCEL and timeout of a
#      `sleep` probe (with a background child) leave no process in the container (podman exec
#      CTR ps); a dropped connection kills the running probe and the agent keeps serving; 50
#      requests at once; garbage on the socket: the agent drops that client and keeps serving.
# `bench`: CPU and wall per probe, agent vs `podman exec CTR true`, and the agent's RSS
# (tests/agent/bench_agent.c), root then rootless.
# Every container is named podc-agt-*; only those are removed.  Without usable podman: exit 0
# with a message, unless CI=true (then exit 1).  Exit 1 when any assertion failed.
set -eu

IMAGE=localhost/podtest:1
SELF=$(readlink -f "$0")

# ---------------------------------------------------------------- the probe that reports
# $1: output path in the container.  Reads the shell's own /proc entry ($$ is the process that
# the agent or podman exec started).
COLLECT='exec >"$1.tmp"
s=/proc/$$
while IFS= read -r l; do
  case "$l" in
  Uid:*|Gid:*|Groups:*|CapInh:*|CapPrm:*|CapEff:*|CapBnd:*|CapAmb:*|NoNewPrivs:*|Seccomp:*|Seccomp_filters:*|Umask:*|SigBlk:*|SigIgn:*)
    k=${l%%:*}; v=${l#*:}; echo "$k" $v;;
  esac
done <$s/status
for n in cgroup ipc mnt net pid pid_for_children time time_for_children user uts; do
  echo "ns.$n $(readlink $s/ns/$n)"
done
echo "cgroup $(tr "\n" " " <$s/cgroup)"
echo "environ $(tr "\0" "\n" <$s/environ | sort | tr "\n" " ")"
echo "cwd $(readlink $s/cwd)"
echo "rlimits $(tail -n +2 $s/limits | tr -s " " | tr "\n" "|")"
echo "oom_score_adj $(cat $s/oom_score_adj)"
echo "lsm_label $(cat $s/attr/current 2>/dev/null || echo none)"
mv "$1.tmp" "$1"'
PROPS="Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp Seccomp_filters
ns.cgroup ns.ipc ns.mnt ns.net ns.pid ns.pid_for_children ns.time ns.time_for_children ns.user
ns.uts cgroup environ cwd Umask rlimits oom_score_adj lsm_label SigBlk SigIgn"
RESTRICTED="--cap-drop=ALL --cap-add=NET_BIND_SERVICE --security-opt no-new-privileges --user 1000:1000"

# ================================================================ one side (current user)
FAILS=0
ok() { printf 'ok   %-22s %s\n' "$WHO" "$*"; }
bad() { printf 'FAIL %-22s %s\n' "$WHO" "$*"; FAILS=$((FAILS + 1)); }
# expect WHAT WANT GOT
expect() { if [ "$3" = "$2" ]; then ok "$1: $3"; else bad "$1: want '$2', got '$3'"; fi; }
short() { v=$1; [ ${#v} -le 90 ] || v="$(printf '%.87s' "$v")..."; printf '%s' "$v"; }

inner_cleanup() {
    for c in $CTRS; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    # files made by container users that are not ours (rootless --user): removed in the userns
    [ "$(id -u)" = 0 ] || podman unshare rm -rf "$RUN" 2>/dev/null || true
    rm -rf "$RUN"
}

# Starts container $1 (kind $2: default|restricted) with the agent mounts, then its agent.
start_ctr() {
    name=$1
    dir=$RUN/$2
    mkdir -p "$dir"
    chmod 0777 "$dir" # the container user may be anyone (SPEC: .<b>.run/<ctr>)
    opts=
    [ "$2" = default ] || opts=$RESTRICTED
    CTRS="$CTRS $name"
    # shellcheck disable=SC2086 # opts: a list of options
    # as the backend runs containers: --log-driver passthrough (stdio straight from podman's)
    podman run -d --name "$name" --stop-timeout 1 --log-driver passthrough $opts \
        -v "$BIN/pod:/.podc/agent:z,ro" -v "$dir:/.podc/run:z,rw" "$IMAGE" sleep 1000000 </dev/null >/dev/null
    podman exec -d "$name" /.podc/agent __agent /.podc/run/agent.sock >/dev/null
    SOCK=$dir/agent.sock
    "$BIN/agentctl" "$SOCK" hello >/dev/null || { bad "$2: agent not reachable"; return 1; }
}

# Processes in container $1 that a probe left behind (probes sleep 4xxx; PID 1 sleeps 1000000).
leftovers() { podman exec "$1" ps | grep -c ' sleep 4[0-9][0-9][0-9]' || true; }
agents() { podman exec "$1" ps | grep -c '/.podc/agent __agent' || true; }
# Waits up to 3 s for no leftovers; prints their count.
settle() {
    i=0
    while [ "$(leftovers "$1")" != 0 ] && [ $i -lt 15 ]; do sleep 0.2; i=$((i + 1)); done
    leftovers "$1"
}

confinement() { # $1 container, $2 kind
    dir=$RUN/$2
    r=$("$BIN/agentctl" "$SOCK" run 10000 -- /bin/sh -c "$COLLECT" collect /.podc/run/via-agent ||
        true)
    expect "$2: collect via agent" "ok 0" "$r"
    podman exec "$1" /bin/sh -c "$COLLECT" collect /.podc/run/via-exec || bad "$2: podman exec failed"
    for p in $PROPS; do
        a=$(grep "^$p " "$dir/via-agent" | cut -d' ' -f2- || true)
        e=$(grep "^$p " "$dir/via-exec" | cut -d' ' -f2- || true)
        if [ -z "$e" ] && [ "$p" != Groups ]; then
            bad "$2: $p: podman exec's value is missing"
        elif [ "$a" = "$e" ]; then
            ok "$2: $p = $(short "$e")"
        else
            bad "$2: $p: agent '$(short "$a")' != podman exec '$(short "$e")'"
        fi
    done
}

# Negative control (root only): the same probe entered with nsenter (namespaces only, no user
# namespace switch, capability drop, seccomp or cgroup) must differ, so the comparison above
# can tell confinements apart.
control() { # $1 container, $2 kind
    dir=$RUN/$2
    pid=$(podman inspect --format '{{.State.Pid}}' "$1")
    nsenter -t "$pid" -m -u -i -n -p /bin/sh -c "$COLLECT" collect /.podc/run/via-nsenter ||
        { bad "$2: control: nsenter failed"; return; }
    diff=
    for p in $PROPS; do
        [ "$(grep "^$p " "$dir/via-nsenter")" = "$(grep "^$p " "$dir/via-exec")" ] ||
            diff="$diff $p"
    done
    case "$diff" in
    *Seccomp*) ok "$2: control: nsenter differs from podman exec in:$diff" ;;
    *) bad "$2: control: nsenter does not differ in Seccomp (differs in:$diff)" ;;
    esac
}

behaviour() { # $1 container, $2 kind
    c=$1
    k=$2
    A="$BIN/agentctl $SOCK"
    for t in "3|sh -c 'exit 3'" "127|/no/such" "126|/etc/passwd" "137|sh -c 'kill -9 \$\$'"; do
        want=${t%%|*}
        cmd=${t#*|}
        eval "set -- $cmd"
        pe=0
        podman exec "$c" "$@" 2>/dev/null || pe=$?
        got=$($A run 5000 -- "$@" || true)
        expect "$k: exit code of [$cmd] (podman exec: $pe)" "ok $want" "$got"
        [ "$pe" = "$want" ] || bad "$k: podman exec [$cmd] gave $pe, not $want"
    done
    r=$($A cancel 300 -- sh -c 'sleep 4001 & exec sleep 4002' 2>/dev/null || true)
    expect "$k: cancel of a running probe" cancelled "$r"
    expect "$k: processes left after the cancel (podman exec ps)" 0 "$(leftovers "$c")"
    r=$($A run 300 -- sh -c 'sleep 4003 & exec sleep 4004' || true)
    expect "$k: probe past its timeout" timeout "$r"
    expect "$k: processes left after the timeout" 0 "$(leftovers "$c")"
    r=$($A drop 300 -- sh -c 'sleep 4005 & exec sleep 4006' || true)
    expect "$k: daemon disconnect with a probe running" "dropped with 1 running" "$r"
    expect "$k: processes left after the disconnect" 0 "$(settle "$c")"
    r=$($A run 5000 -- true || true)
    expect "$k: agent serves after the disconnect" "ok 0" "$r"
    r=$($A many 50 10000 -- sh -c 'sleep 0.3; exit 7' || true)
    expect "$k: 50 requests at once" "50 ok 7" "$r"
    r=$($A garbage || true)
    expect "$k: garbage on the socket: the agent drops that client" dropped "$r"
    r=$($A run 5000 -- true || true)
    expect "$k: agent serves after the garbage" "ok 0" "$r"
    expect "$k: agent processes in the container" 1 "$(agents "$c")"
}

inner() { # $1: root|rootless, $2: directory with bin/, $3: test|bench
    BIN=$2/bin
    mode=$3
    RUN=$(mktemp -d "${TMPDIR:-/tmp}/podc-agt-run.XXXXXX")
    chmod 0755 "$RUN"
    CTRS=
    trap inner_cleanup EXIT
    cd "$RUN" # podman needs a cwd it can enter (rootless podman fails in an unreadable one)
    tag=podc-agt-$1-$$
    for kind in default restricted; do
        WHO="$1/$kind"
        start_ctr "$tag-$kind" "$kind" || continue
        if [ "$mode" = bench ]; then
            "$BIN/bench_agent" "$tag-$kind" "$SOCK" "$1/$kind" || FAILS=$((FAILS + 1))
            continue
        fi
        WHO=$1
        confinement "$tag-$kind" "$kind"
        [ "$1" != root ] || control "$tag-$kind" "$kind"
        behaviour "$tag-$kind" "$kind"
    done
    echo "== $1: $FAILS failed"
    [ "$FAILS" = 0 ]
}

if [ "${1:-}" = --inner ]; then
    inner "$2" "$3" "$4"
    exit $?
fi

# ================================================================ driver
BUILD=${1:?usage: tests/agent/podman.sh BUILD_DIR [bench]}
MODE=${2:-test}
skip() {
    if [ "${CI:-}" = true ]; then
        echo "test-agent: FAILED: $*" >&2
        exit 1
    fi
    echo "test-agent: skipped: $*"
    exit 0
}
command -v podman >/dev/null 2>&1 || skip "podman not installed"
podman run --rm --network none "$IMAGE" true >/dev/null 2>&1 ||
    skip "podman cannot run $IMAGE (run ci/podman-setup.sh as root)"

W=$(mktemp -d /tmp/podc-agt.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/bin"
cp "$BUILD/podc" "$W/bin/pod" # any pod executable: __agent is dispatched before the payload
cp "$BUILD/tests/agent/agentctl" "$BUILD/tests/agent/bench_agent" "$SELF" "$W/bin/"
chmod -R a+rX "$W"
rc=0
if [ "$(id -u)" = 0 ]; then
    sh "$W/bin/podman.sh" --inner root "$W" "$MODE" || rc=1
    if U=$(sh "$(dirname "$SELF")/../../ci/rootless-setup.sh"); then
        UH=$(getent passwd "$U" | cut -d: -f6)
        # the production call: setpriv from an unreadable cwd, XDG_RUNTIME_DIR unset
        (cd /root && setpriv --reuid="$U" --regid="$U" --init-groups \
            env -u XDG_RUNTIME_DIR HOME="$UH" USER="$U" LOGNAME="$U" \
            sh -c 'sh "$0" --inner rootless "$1" "$2"' "$W/bin/podman.sh" "$W" "$MODE") || rc=1
    elif [ "${CI:-}" = true ]; then
        echo "test-agent: FAILED: rootless podman could not be set up" >&2
        rc=1
    else
        echo "test-agent: rootless part skipped: ci/rootless-setup.sh failed"
    fi
else
    sh "$W/bin/podman.sh" --inner "$(id -un)" "$W" "$MODE" || rc=1
fi
[ "$rc" = 0 ] && echo "test-agent: all passed" || echo "test-agent: FAILED"
exit $rc
