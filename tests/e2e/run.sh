#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/e2e/run.sh - end-to-end tests: compiled pods on real podman (make e2e, make e2e-rootless).
#
#   tests/e2e/run.sh BUILD_DIR [--rootless] [FILTER-ERE]
#
# Runs every function t_<name> of every tests/e2e/t_<topic>.sh whose "<topic>/<name>" matches
# FILTER, each in its own subshell with `set -eu`, a fresh work directory $T, the helpers of
# tests/e2e/lib.sh, and a deadline (E2E_TIMEOUT, default 180 s).  After each test, whatever it
# left is removed: `pod rm -k` of every pod it compiled, then podman objects of those pods
# (label podc.pod=<name>-<version>, pod <name>-<version>) and the work directory; other runs'
# pods are never touched.  Prints one line per test (`ok`/`FAIL`, name, seconds; a failed
# test's last E2E_TAIL lines of output, 40; a passed one's `# skipped: ...` and `FIGURE ...`
# lines) and last
# `N passed, N failed`; exits 1 when any failed.
# --rootless: runs the whole suite as the unprivileged user of ci/rootless-setup.sh, the way
# production does (setpriv --reuid --regid --init-groups, XDG_RUNTIME_DIR unset with
# /run/user/UID pre-created, cwd unreadable).  Without usable podman: skipped (exit 0) unless
# CI=true (then exit 1).
# E2E_PODC_DYN: a dynamically linked podc for t_faketime.sh (skipped without it).
# E2E_EXCLUDE: an ERE of test names not to run (make e2e-rootless leaves out the long tests
# whose subject is not the user: E2E_ROOTLESS_EXCLUDE in tests/e2e.mk).
# E2E_SANITIZE=asan (make e2e-asan): BUILD_DIR's podc is an ASan+UBSan build; every process of
# the pods (the actions, holder, daemon) writes its sanitizer reports to <work>/san/<test>/
# (ASAN_OPTIONS/UBSAN_OPTIONS log_path, inherited by the holder and the daemon); a test whose
# processes left any report fails, after its cleanup (so leaks at the daemon's exit count too).
# E2E_VALGRIND=1 (make e2e-valgrind): BUILD_DIR's podc is the -O0 dynamic build of `make
# valgrind`; the pod actions of E2E_VG_ACTIONS called through `p` (lib.sh) run under valgrind
# (memcheck, definite leaks are errors), and so do the holder and the daemon they start
# (--trace-children=yes, everything under /usr, /bin, /sbin and any *podman* left out; with
# POD_SELF_EXE_BY_PATH=1 they are exec'd by path, not through /proc/self/exe, which valgrind
# cannot follow, and POD_PIDFD_EMULATE=1 gives them emulated pidfds without asking valgrind
# 3.19 for the pidfd_open it lacks); every such process writes <work>/san/<test>/vg.<pid>; a
# test whose valgrind logs are not all empty fails (an error, a definite leak, or an
# unhandled system call: SPEC 11.7).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--rootless] [FILTER]" >&2; exit 100; }
build=$(cd "$1" && pwd)
shift
rootless=0
if [ "${1:-}" = --rootless ]; then
    rootless=1
    shift
fi
filter=${1:-.}

skip_or_fail() {
    if [ "${CI:-}" = true ]; then
        echo "e2e: FAILED: $*" >&2
        exit 1
    fi
    echo "e2e: skipped: $*"
    exit 0
}

if [ $rootless = 1 ] && [ "$(id -u)" = 0 ]; then
    user=$(sh "$root/ci/rootless-setup.sh") || skip_or_fail "rootless setup failed"
    uid=$(id -u "$user")
    mkdir -p "/run/user/$uid" && chown "$user:" "/run/user/$uid" && chmod 700 "/run/user/$uid"
    work=$(mktemp -d /tmp/podc-e2e-rootless.XXXXXX)
    chmod 755 "$work"
    cp -r "$root/tests/e2e" "$work/e2e"
    cp "$build/podc" "$work/podc"
    [ ! -x "${E2E_PODC_DYN:-}" ] || cp "$E2E_PODC_DYN" "$work/podc-dyn"
    mkdir -p "$work/scenarios"
    cp "$root"/sim/scenarios/parity-*.trace "$work/scenarios/" 2>/dev/null || true
    chown -R "$user:" "$work"
    nocwd=$(mktemp -d /tmp/podc-e2e-nocwd.XXXXXX)
    chmod 000 "$nocwd"
    cd "$nocwd"
    env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS HOME="$(getent passwd "$user" | cut -d: -f6)" \
        USER="$user" LOGNAME="$user" E2E_ROOTLESS=1 E2E_PODC="$work/podc" E2E_WORK="$work/run" \
        E2E_EXCLUDE="${E2E_EXCLUDE:-}" \
        E2E_PODC_DYN="$work/podc-dyn" E2E_SCENARIOS="$work/scenarios" \
        setpriv --reuid "$user" --regid "$(id -g "$user")" --init-groups \
        bash "$work/e2e/run.sh" "$work" "$filter"
    rc=$?
    cd /
    rm -rf "$work"
    rmdir "$nocwd" 2>/dev/null || { chmod 700 "$nocwd"; rmdir "$nocwd"; }
    exit $rc
fi

cd / # podman itself needs a cwd it can enter (rootless podman fails in an unreadable one)
export PODC=${E2E_PODC:-$build/podc}
# the dynamically linked podc of t_faketime.sh (tests/e2e.mk builds it), the golden traces of
# t_parity.sh (sim/scenarios/parity-*.trace)
export PODC_DYN=${E2E_PODC_DYN:-}
export E2E_SCENARIOS=${E2E_SCENARIOS:-$root/sim/scenarios}
[ -x "$PODC" ] || { echo "e2e: no podc at $PODC" >&2; exit 100; }
command -v podman >/dev/null 2>&1 || skip_or_fail "podman is not installed"
podman image exists "${E2E_IMAGE:-localhost/podtest:1}" 2>/dev/null ||
    skip_or_fail "image ${E2E_IMAGE:-localhost/podtest:1} missing (ci/podman-setup.sh)"
export E2E_WORK=${E2E_WORK:-$(mktemp -d /tmp/podc-e2e.XXXXXX)}
mkdir -p "$E2E_WORK"
export E2E_NOCWD=$E2E_WORK/nocwd
mkdir -p "$E2E_NOCWD" && chmod 000 "$E2E_NOCWD"
timeout_s=${E2E_TIMEOUT:-180}
export E2E_SANITIZE=${E2E_SANITIZE:-}
export E2E_VALGRIND=${E2E_VALGRIND:-}
export E2E_VG_ACTIONS=${E2E_VG_ACTIONS:-ps readiness logs info help version signal reload-configs run create start stop kill rm rerun}
case $E2E_SANITIZE in
'' | asan) ;;
*) echo "e2e: E2E_SANITIZE must be empty or asan" >&2; exit 100 ;;
esac

cleanup_test() { # $1: the test's work dir
    # Only this test's pods (the directories it compiled a pod in): other e2e runs on the same
    # machine (a second worktree, a rootless run) keep theirs.
    # A pod executable may have another name (`podc -o svc`): every ELF executable next to a
    # pod.yaml is one.
    local pod names="" name
    for pod in "$1"/*/*; do
        [ -f "$pod" ] && [ -x "$pod" ] && [ -f "$(dirname "$pod")/pod.yaml" ] || continue
        [ "$(head -c 4 "$pod" | od -An -c | tr -d ' ')" = 177ELF ] || continue
        names="$names $(basename "$(dirname "$pod")")"
        (cd / && timeout 60 "$pod" rm -k >/dev/null 2>&1) || true
    done
    local c
    for name in $names; do
        for c in $(podman ps -a --filter label=podc.pod --format '{{.Names}} {{.Labels}}' 2>/dev/null |
            awk -v p="podc.pod:$name-" 'index($0, p) {print $1}'); do
            podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
        done
        for c in $(podman pod ps --format '{{.Name}}' 2>/dev/null | grep -F -- "$name-"); do
            case ${c#"$name"-} in [0-9]*) ;; *) continue ;; esac
            podman pod rm -f "$c" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$1"
}

# san_env DIR: the sanitizer options of a test's processes (reports into DIR).
san_env() {
    export ASAN_OPTIONS="log_path=$1/report:detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
    export UBSAN_OPTIONS="log_path=$1/report:print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="log_path=$1/report"
}

# san_check DIR NAME: after the test's cleanup, once no process of its pods is left (a daemon's
# leak report is written at its exit), fails with the reports when DIR has any.
san_check() {
    local d=$1 pid end=$(($(date +%s) + 30)) left
    while :; do
        left=""
        for pid in $(ls /proc | grep -E '^[0-9]+$'); do
            { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$2/" && left="$left $pid"
        done
        [ -n "$left" ] && [ "$(date +%s)" -lt $end ] || break
        sleep 0.2
    done
    [ -z "$left" ] || echo "     | sanitizer check: processes of the test still alive:$left"
    find "$d" -type f -empty -delete # valgrind's log of a clean run
    [ -n "$(ls -A "$d" 2>/dev/null)" ] || return 0
    local r
    for r in "$d"/*; do
        echo "     | sanitizer report ${r##*/}:"
        sed 's/^/     |   /' "$r" | head -n 60
    done
    return 1
}

passed=0
failed=0
failures=""
for f in "$here"/t_*.sh; do
    [ -f "$f" ] || continue
    topic=$(basename "$f" .sh)
    topic=${topic#t_}
    for fn in $(bash -c "source '$f'; declare -F" | awk '{print $3}' | grep '^t_'); do
        name="$topic/${fn#t_}"
        printf '%s\n' "$name" | grep -Eq -- "$filter" || continue
        [ -z "${E2E_EXCLUDE:-}" ] || ! printf '%s\n' "$name" | grep -Eq -- "$E2E_EXCLUDE" || continue
        T="$E2E_WORK/$topic-${fn#t_}"
        rm -rf "$T"
        mkdir -p "$T"
        start=$(date +%s)
        san=""
        if [ -n "$E2E_SANITIZE$E2E_VALGRIND" ]; then
            san="$E2E_WORK/san/$topic-${fn#t_}"
            rm -rf "$san"
            mkdir -p "$san"
        fi
        (
            export T
            [ -z "$E2E_SANITIZE" ] || san_env "$san"
            [ -z "$E2E_VALGRIND" ] || export E2E_VG="env POD_PIDFD_EMULATE=1 POD_SELF_EXE_BY_PATH=1 valgrind -q --trace-children=yes --trace-children-skip='/usr/*,/bin/*,/sbin/*,*podman*' --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-fds=no --log-file=$san/vg.%p"
            cd "$T"
            set -eu
            source "$here/lib.sh"
            source "$f"
            "$fn"
        ) >"$T.log" 2>&1 &
        tpid=$!
        # the watchdog holds none of our output (a reader of it would wait for its sleep)
        (
            trap 'kill "$s" 2>/dev/null; exit 0' TERM
            sleep "$timeout_s" &
            s=$!
            wait "$s" && kill -TERM "$tpid" 2>/dev/null
        ) >/dev/null 2>&1 &
        wpid=$!
        wait "$tpid"
        trc=$?
        kill "$wpid" 2>/dev/null
        wait "$wpid" 2>/dev/null
        took=$(($(date +%s) - start))
        # the cleanup's `pod rm -k` runs under the test's sanitizer options too
        (
            [ -z "$E2E_SANITIZE" ] || san_env "$san"
            cleanup_test "$T"
        )
        sanrep=""
        if [ -n "$san" ] && ! sanrep=$(san_check "$san" "$T"); then
            trc=san
        fi
        if [ $trc = 0 ]; then
            printf 'ok   %-48s %3ss\n' "$name" "$took"
            # a test that skipped itself says so (`log "skipped: ..."`), and figures are kept
            grep -E '^(# skipped|FIGURE )' "$T.log" | sed 's/^/     | /' || true
            passed=$((passed + 1))
        else
            printf 'FAIL %-48s %3ss (rc %s)\n' "$name" "$took" "$trc"
            # the assertion first: the diag after it may be longer than the tail
            why=$(grep -m 3 '^FAIL: ' "$T.log" || true)
            [ -z "$why" ] || printf '%s\n' "$why" | sed 's/^/     | /'
            sed 's/^/     | /' "$T.log" | tail -n ${E2E_TAIL:-40}
            failures="$failures${failures:+
}  $name: ${why:-exit $trc, no FAIL: line (a command failed under set -e)}"
            [ -z "$sanrep" ] || printf '%s\n' "$sanrep"
            failed=$((failed + 1))
        fi
        rm -f "$T.log"
    done
done
chmod 700 "$E2E_NOCWD" 2>/dev/null
[ -z "$failures" ] || printf 'failed:\n%s\n' "$failures"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
