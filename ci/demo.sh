#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/demo.sh - `make demo`: a guided tour that shows, at every stage, what exists.
#
#   bash ci/demo.sh BUILD_DIR        (BUILD_DIR holds podc and podsim, e.g. build/gcc)
#
# Works in BUILD_DIR/demo (recreated on every run).  After podc and the example pods it runs a
# real two-container pod `demoweb` on podman (as root it first runs ci/podman-setup.sh, which
# installs podman when missing, makes it usable here and imports localhost/podtest:1): start,
# readiness, a crash and its restart, a config edit and its SIGHUP, logs, stop and rm.
# The podman objects it makes are the pod `demoweb-0.1.0` and its containers; a previous demo's
# are removed first and this one's on any exit.  Every wait is bounded.
# When podman cannot run containers here (or DEMO_FORCE_SIM=1), it says so and shows a
# simulated run instead (podsim: the real supervisor on a simulated podman).
# Environment: DEMO_PORT (host port of the web container, default: the first free of
# 18090-18099), DEMO_FORCE_SIM=1.  Exit 1 when a step of the real run did not behave as expected.
set -euo pipefail

BUILD=$(realpath "${1:?usage: ci/demo.sh BUILD_DIR}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PODC="$BUILD/podc"
DEMO="$BUILD/demo"
EXAMPLES="$ROOT/tests/data/examples"
IMAGE=localhost/podtest:1
POD_NAME=demoweb
POD_VERSION=0.1.0
POD_FULL="$POD_NAME-$POD_VERSION"
PODDIR="$DEMO/$POD_NAME"
START_MS=$(($(date +%s%N) / 1000000))
STAGE=0
PROBLEMS=0
POD_UP=0 # 1 while the real pod may exist: the exit trap removes it

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
header() {
    STAGE=$((STAGE + 1))
    echo
    bold "=================================================================="
    bold "== $STAGE. $*"
    bold "=================================================================="
}
ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { # secs_since T0_MS: "1.23"
    local d=$(($(ms) - $1))
    printf '%d.%02d' $((d / 1000)) $((d % 1000 / 10))
}
# quoted WORDS...: the words as a shell would need them typed (quotes only where needed).
quoted() {
    local w out=""
    for w in "$@"; do
        if [[ "$w" =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
            out+=" $w"
        else
            out+=" '${w//\'/\'\\\'\'}'"
        fi
    done
    printf '%s' "${out# }"
}
# show CMD...: prints the command, runs it (at most SHOW_TIMEOUT s), prints its exit status and
# how long it took.  Never aborts the demo; sets RC.
show() {
    echo
    bold "\$ $(quoted "$@")"
    local t0
    t0=$(ms)
    set +e
    timeout --foreground -k 5 "${SHOW_TIMEOUT:-120}" "$@"
    RC=$?
    set -e
    echo "[exit status $RC, $(secs_since "$t0") s]"
    return 0
}
# show_sh 'SHELL TEXT': show for a command line with redirections or pipes.
show_sh() {
    echo
    bold "\$ $1"
    local t0
    t0=$(ms)
    set +e
    timeout --foreground -k 5 "${SHOW_TIMEOUT:-120}" bash -c "$1"
    RC=$?
    set -e
    echo "[exit status $RC, $(secs_since "$t0") s]"
    return 0
}
listing() {
    (cd "$1" && find . -maxdepth 1 -type f -printf '%M %10s  %P\n' | LC_ALL=C sort -k3)
}
problem() {
    PROBLEMS=$((PROBLEMS + 1))
    bold "!! $*"
}
# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s; says how long it took.
wait_until() {
    local secs=$1 what=$2 t0
    shift 2
    t0=$(ms)
    printf '(waiting at most %s s for %s) ' "$secs" "$what"
    while ! "$@" >/dev/null 2>&1; do
        if [ $(($(ms) - t0)) -ge $((secs * 1000)) ]; then
            echo "NOT reached after $(secs_since "$t0") s"
            problem "timed out waiting for $what"
            return 1
        fi
        sleep 0.2
    done
    echo "reached after $(secs_since "$t0") s"
}

# ---- the real pod: cleanup -------------------------------------------------------------------
have_podman() { command -v podman >/dev/null 2>&1; }
# remove_pod: the demo pod's own `rm -k`, then whatever podman still has of it.
remove_pod() {
    if [ -x "$PODDIR/pod" ]; then
        (cd / && timeout -k 5 60 "$PODDIR/pod" rm -k) || true
    fi
    have_podman || return 0
    if podman pod exists "$POD_FULL" 2>/dev/null; then
        echo "removing the leftover podman pod $POD_FULL"
        timeout -k 5 60 podman pod rm -f -i "$POD_FULL" >/dev/null 2>&1 || true
    fi
    local c
    for c in $(podman ps -a --filter "label=podc.pod=$POD_FULL" --format '{{.Names}}' 2>/dev/null); do
        echo "removing the leftover container $c"
        timeout -k 5 60 podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
    done
}
on_exit() {
    local rc=$?
    if [ "$POD_UP" = 1 ]; then
        echo
        bold "demo: cleaning up: removing the pod $POD_FULL"
        remove_pod
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A previous demo's pods (also the example pods an older demo started) are removed before its
# directory is.  `pod rm -k` of a pod never created is a no-op without podman calls.
if [ -d "$DEMO" ]; then
    for p in "$DEMO"/*/pod; do
        if [ ! -x "$p" ] || [ ! -e "$(dirname "$p")/.pod.status" ] ||
            grep -q '^status: removed' "$(dirname "$p")/.pod.status"; then
            continue
        fi
        echo "removing the pod of a previous demo: $p rm -k"
        (cd / && timeout -k 5 60 "$p" rm -k >/dev/null 2>&1) || true
    done
fi
[ "${DEMO_FORCE_SIM:-0}" = 1 ] || remove_pod >/dev/null 2>&1 || true
rm -rf "$DEMO"
mkdir -p "$DEMO"

header "podc: one static binary"
show "$PODC" -V
show file "$PODC"
echo "size: $(stat -c %s "$PODC") bytes"

header "Compile the example pods (tests/data/examples)"
first=""
for ex in "$EXAMPLES"/*/; do
    [ -f "$ex/pod.yaml" ] || continue
    name=$(basename "$ex")
    dir="$DEMO/$name"
    cp -a "$ex" "$dir"
    # The pod name: the directory name with '-' made '_' (names are [a-z0-9_]).
    podname=$(echo "$name" | tr '-' '_')
    bold ""
    bold "---- example $name"
    (cd "$dir" && show "$PODC" "$podname")
    bold "---- $name: files after podc"
    listing "$dir"
    for conf in "$dir"/pod.portmappings.conf "$dir"/pod.ingress.conf; do
        if [ -f "$conf" ]; then
            bold "---- $(basename "$conf"):"
            cat "$conf"
        fi
    done
    if [ -z "$first" ] && [ -x "$dir/pod" ] && ! head -c 2 "$dir/pod" | grep -q '#!'; then
        first=$dir
    fi
done
if [ -z "$first" ]; then
    echo "no example compiled to a pod executable" >&2
    exit 1
fi

header "The compiled pod: help, version, info ($(basename "$first"))"
echo "The pod is self-contained: podc, libyaml and jansson are not needed to run it."
show ldd "$first/pod" # ldd exits 1 for a static executable
show "$first/pod" help
show "$first/pod" version
echo "info needs no podman and writes no files; run from / with an empty environment:"
(cd / && show env -i "$first/pod" info)
bold "---- files in $(basename "$first") after info (unchanged):"
listing "$first"

header "A broken pod.yaml: every problem at once, with file:line:col"
broken="$DEMO/broken"
mkdir -p "$broken"
cat >"$broken/pod.yaml" <<'EOF'
api: 1.0.0-beta2
podVersion: 1.0
runtime: podman
volumes:
    - name: Data
      type: disk
containers:
    - name: web
      image: nginx:1.25
      restart: sometimes
      mounts:
          - volume: missing
            dest: relative/path
      expose:
          - targetPort: 80
            hostPort: 99999
    - name: web
      image: busybox
EOF
bold "---- broken/pod.yaml:"
cat -n "$broken/pod.yaml"
(cd "$broken" && show "$PODC" broken)
bold "---- files in broken/ (nothing written):"
listing "$broken"

header "A damaged pod executable refuses to run"
cp "$first/pod" "$DEMO/truncated-pod"
truncate -s -10 "$DEMO/truncated-pod"
show "$DEMO/truncated-pod" info
cp "$first/pod" "$DEMO/flipped-pod"
size=$(stat -c %s "$DEMO/flipped-pod")
printf 'X' | dd of="$DEMO/flipped-pod" bs=1 seek=$((size - 40)) conv=notrunc status=none
show "$DEMO/flipped-pod" version

# ---- the simulated run (the fallback without podman) ------------------------------------------
simulated_run() {
    header "A simulated run: the real supervisor, driver and log writer on a simulated podman"
    # podsim drives src/sup + src/drv + src/logw against a simulated podman, a fake clock and an
    # in-memory file system (sim/README.md).  The scenario runs example 5 for 3 simulated
    # minutes: start, ready, `web` crashes (exit 137) and is restarted with backoff, config
    # `site` changes, `prepare` re-renders it and signals `web` (HUP), then the pod is stopped.
    local podsim="$BUILD/podsim" scn="$ROOT/sim/scenarios/demo-nr5.scn" rc f
    if [ ! -x "$podsim" ]; then
        echo "(podsim was not built: $podsim)"
        return 0
    fi
    show cat "$scn"
    echo
    bold "\$ podsim run sim/scenarios/demo-nr5.scn --dump $DEMO/sim   (trace without probe/status lines)"
    set +e
    "$podsim" run "$scn" --dump "$DEMO/sim" >"$DEMO/sim.trace"
    rc=$?
    set -e
    grep -vE ' (probe|probe-done|status) ' "$DEMO/sim.trace"
    echo "[exit status $rc; full trace: $DEMO/sim.trace, $(wc -l <"$DEMO/sim.trace") events]"
    echo
    bold "What the simulated pod directory holds afterwards:"
    (cd "$DEMO/sim/pod" && find . -type f -printf '%M %8s  %P\n' | LC_ALL=C sort -k3)
    show cat "$DEMO/sim/pod/.pod.status"
    for f in "$DEMO"/sim/pod/log/web-*-stdout.log "$DEMO"/sim/pod/log/web-*-stderr.log; do
        show head -n 3 "$f"
        show tail -n 3 "$f"
    done
}

# ---- the real pod on podman -------------------------------------------------------------------
# podman_usable: sets up podman (as root, ci/podman-setup.sh) and runs a trivial container.
podman_usable() {
    if [ "${DEMO_FORCE_SIM:-0}" = 1 ]; then
        echo "DEMO_FORCE_SIM=1: not using podman."
        return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        echo "ci/podman-setup.sh installs podman when missing, makes it usable on this machine"
        echo "and imports the image $IMAGE (busybox-static: sh, httpd, wget, ...):"
        SHOW_TIMEOUT=900 show sh "$ROOT/ci/podman-setup.sh"
        [ "$RC" = 0 ] || return 1
    else
        echo "(not root: ci/podman-setup.sh is not run; trying podman as it is)"
        have_podman || { echo "podman is not installed"; return 1; }
    fi
    SHOW_TIMEOUT=90 show podman run --rm "$IMAGE" true
    [ "$RC" = 0 ]
}

# free_port: DEMO_PORT, else the first port of 18090-18099 nothing listens on.
free_port() {
    if [ -n "${DEMO_PORT:-}" ]; then
        echo "$DEMO_PORT"
        return 0
    fi
    local p
    for p in $(seq 18090 18099); do
        if command -v ss >/dev/null 2>&1; then
            [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
        elif ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo 18090
}

# Views of the running pod (from its directory).
psj() { ./pod ps --json 2>/dev/null | jq -r "$1" 2>/dev/null; }
cfield() { psj ".containers[] | select(.name == \"$1\") | .$2"; }
is_ready() { ./pod readiness; }
ctr_id() { podman container inspect --format '{{.Id}}' "$1" 2>/dev/null | cut -c1-12; }
web_runs_by_name() { # the standby that became web's instance has been renamed
    [ "$(podman container inspect --format '{{.State.Status}}' "web-$POD_FULL" 2>/dev/null)" = running ]
}
restarted_and_running() {
    [ "$(cfield web restartCount)" -ge 1 ] 2>/dev/null &&
        [ "$(cfield web phase)" = running ] && [ "$(cfield web running)" = true ]
}
hups() { grep -c 'SIGHUP' "log/web-$POD_FULL-stdout.log" 2>/dev/null || true; }
hup_seen() { [ "$(hups)" -ge 1 ]; }
logger_lines_ge() { [ "$(wc -l <"log/logger-$POD_FULL-stdout.log")" -ge "$1" ]; }
page_has() { http_get | grep -q "$1"; }
http_get() { # the page from the host, with whatever HTTP client there is
    if command -v curl >/dev/null 2>&1; then
        curl -s -m 5 "http://127.0.0.1:$PORT/"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -T 5 -O - "http://127.0.0.1:$PORT/"
    else
        busybox wget -q -O - "http://127.0.0.1:$PORT/"
    fi
}
http_cmd() {
    if command -v curl >/dev/null 2>&1; then
        echo "curl -s http://127.0.0.1:$PORT/"
    elif command -v wget >/dev/null 2>&1; then
        echo "wget -q -O - http://127.0.0.1:$PORT/"
    else
        echo "busybox wget -q -O - http://127.0.0.1:$PORT/"
    fi
}
podman_ps() { # our containers as podman sees them
    SHOW_TIMEOUT=30 show podman ps -a --filter "label=podc.pod=$POD_FULL" \
        --format '{{.Names}}  {{.Status}}  {{.Ports}}'
}

real_run() {
    PORT=$(free_port)
    header "A real pod on podman: podc compiles $POD_NAME (web server + log sidecar + config)"
    mkdir -p "$PODDIR/config/site"
    cd "$PODDIR"
    # Quoted heredoc: ${DEMO_PORT} is podc's preprocessing (from pod.env), $x the containers' sh.
    cat >pod.yaml <<'EOF'
# make demo: a web server with a config directory, and a sidecar that writes log lines.
api: 1.0.0-beta2
podVersion: 0.1.0
volumes:
    - name: site                     # config/site/ next to the pod, mounted into web
      type: config
containers:
    - name: logger                   # a sidecar: started before web, stopped after it
      kind: sidecar
      image: localhost/podtest:1
      restart: always
      stopTimeout: 2
      command:
        - sh
        - -c
        - |
          trap 'echo "logger: TERM, bye"; exit 0' TERM
          i=0
          while true; do
              i=$((i + 1))
              page=$(wget -q -O - http://127.0.0.1:80/ 2>/dev/null || echo '(no answer)')
              echo "logger: tick $i: web on localhost:80 says: $page"
              [ $((i % 3)) -ne 0 ] || echo "logger: warning $i (every 3rd tick, on stderr)" >&2
              sleep 1 & wait $!
          done
    - name: web
      image: localhost/podtest:1
      restart: always
      warmStandby: true              # its next instance waits initialised: a restart is fast
      stopTimeout: 2
      signal:
        - sig: HUP                   # sent to web when a file in config/site changes
      mounts:
        - volume: site
          dest: /www
      command:
        - sh
        - -c
        - |
          httpd -f -p 80 -h /www &
          h=$!
          trap 'echo "web: SIGHUP: reloading config, index.html is now: $(cat /www/index.html)"' HUP
          trap 'echo "web: TERM, stopping httpd"; kill $h; exit 0' TERM
          echo "web: httpd (pid $h) serves /www on port 80"
          while true; do sleep 1 & wait $!; done
      expose:
        - targetPort: 80
          hostPort: ${DEMO_PORT}
          hostInterface: 127.0.0.1
      readinessProbe:
        httpGet:
          port: 80
          path: /
        periodSeconds: 1
        timeoutSeconds: 2
EOF
    printf 'DEMO_PORT=%s\n' "$PORT" >pod.env
    printf 'hello from the demo pod\n' >config/site/index.html
    show cat pod.yaml
    show cat pod.env
    show cat config/site/index.html
    show "$PODC" "$POD_NAME"
    [ "$RC" = 0 ] || { problem "podc failed"; return 0; }
    bold "---- files after podc:"
    listing .
    echo "info: the static configuration the pod was compiled with (no podman needed):"
    show ./pod info

    header "Run it: ./pod run returns at once, the pod's daemon runs the containers"
    POD_UP=1
    show ./pod run
    [ "$RC" = 0 ] || problem "./pod run exited $RC"
    bold "---- the pod's files now (lock, pid, status, control socket):"
    (find . -maxdepth 1 -name '.pod.*' -printf '%M %8s  %P\n' | LC_ALL=C sort -k3)
    echo
    wait_until 30 "./pod readiness to exit 0" is_ready || true
    show ./pod readiness
    show ./pod ps
    show cat .pod.status
    show_sh "$(http_cmd)"
    page_has 'hello from the demo pod' || problem "the page is not the one in config/site"
    podman_ps
    echo
    wait_until 20 "the sidecar to write 4 lines (one a second; every 3rd also on stderr)" logger_lines_ge 4 || true

    header "A crash: podman kills web's main process; the daemon restarts it (restart: always)"
    echo "web's restartCount before: $(cfield web restartCount), its podman id: $(ctr_id "web-$POD_FULL"),"
    echo "the id of its warm standby (web has warmStandby: true): $(ctr_id "web-$POD_FULL-standby")"
    echo "(\`pod ps\` says warmStandby: $(cfield web warmStandby))"
    SHOW_TIMEOUT=30 show podman kill "web-$POD_FULL"
    echo
    wait_until 30 "web to be restarted and running" restarted_and_running || true
    wait_until 30 "the pod to be ready again" is_ready || true
    wait_until 10 "the standby, now web's instance, to be renamed web-$POD_FULL" web_runs_by_name || true
    echo "web's podman id now: $(ctr_id "web-$POD_FULL") (instance $(cfield web instance)): the standby's."
    echo "The restart was \`podman start\` of the standby that waited initialised (no \`podman run\`"
    echo "at the exit); the old container was removed, the standby renamed, and a new standby follows."
    show ./pod ps
    podman_ps
    echo "The daemon's own log (-p) says what it did; -l -N shows the last N lines:"
    show ./pod logs -p -l -6

    header "A config edit: the daemon sees it (inotify) and sends web SIGHUP (signal: HUP)"
    show_sh "echo 'hello again, config edited' > config/site/index.html"
    echo
    wait_until 10 "web to log the SIGHUP" hup_seen || true
    show grep SIGHUP "log/web-$POD_FULL-stdout.log"
    show_sh "$(http_cmd)"
    page_has 'hello again' || problem "the page did not change"
    show ./pod logs -p -l -3
    echo "web was signalled, not restarted: restartCount is still $(cfield web restartCount), instance $(cfield web instance)."
    show ./pod ps

    header "Logs: the daemon writes every stream to log/, ./pod logs merges them"
    echo "Every container and the daemon, merged by time; -l 8: the first 8 lines:"
    show ./pod logs -l 8
    echo "One container, one stream, the last 3 lines:"
    show ./pod logs logger -s stderr -l -3
    echo "Other columns (-d): the age in seconds, the name and the stream:"
    show ./pod logs web -d age,name,stream -l -3
    bold "---- log/ on disk (one file per container and stream, and the daemon's own):"
    (cd log && find . -maxdepth 1 -type f -printf '%M %8s  %P\n' | LC_ALL=C sort -k3)
    echo "A record on disk: <seconds>.<nanoseconds> <sequence number> <the line as written>:"
    show tail -n 3 "log/logger-$POD_FULL-stdout.log"

    header "Stop and remove: nothing of the pod is left in podman"
    show ./pod stop
    [ "$RC" = 0 ] || problem "./pod stop exited $RC"
    show ./pod ps
    podman_ps
    show ./pod rm
    [ "$RC" = 0 ] || problem "./pod rm exited $RC"
    POD_UP=0
    show_sh "grep -E '^(status|phase|readiness):' .pod.status"
    SHOW_TIMEOUT=30 show podman ps -a --pod --filter "name=$POD_NAME"
    SHOW_TIMEOUT=30 show podman pod ps --filter "name=$POD_NAME"
    if [ -n "$(podman ps -a --filter "name=$POD_NAME" --format '{{.Names}}' 2>/dev/null)" ] ||
        podman pod exists "$POD_FULL" 2>/dev/null; then
        problem "podman still has objects of $POD_FULL"
    else
        echo "podman has nothing of $POD_FULL any more; its logs stay in $PODDIR/log."
    fi
    cd /
}

header "Is podman usable here?"
if podman_usable; then
    echo "yes: the rest of the demo runs a real pod."
    real_run
else
    if [ "${DEMO_FORCE_SIM:-0}" = 1 ]; then
        bold "!! podman is not used (DEMO_FORCE_SIM=1): this demo shows no real pod."
    else
        bold "!! podman cannot run containers here (see above): this demo shows no real pod."
    fi
    bold "!! What follows is a SIMULATED run instead."
    simulated_run
fi

header "Demo finished in $(secs_since "$START_MS") s"
echo "Everything above lives in $DEMO."
if [ "$PROBLEMS" -gt 0 ]; then
    bold "!! $PROBLEMS step(s) did not behave as expected (marked !! above)."
    exit 1
fi
