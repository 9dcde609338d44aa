#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/soak.sh - `make soak`: one pod on real podman for SOAK_SECONDS (1800) under
# steady churn, and what its supervisor looks like at the end.
#
#   SOAK_SECONDS=300 bash tests/stress/soak.sh BUILD_DIR
#
# The pod `ldsoak` (localhost/podtest:1, in a fresh /tmp/ldsoak.* directory) has
#   crash  a crash loop: prints `start`, runs 2 s, exits 1 (restartBackoff max 2 s), for ever;
#   flap   numbered lines `n 1`, `n 2`, ... 5 per second, with an exec readiness probe that
#          alternates (passes for 6 s, fails for 6 s);
#   hup    a `signal: HUP` container on the config volume `cfg`, whose file is edited every
#          SOAK_EDIT_S (3) s; it prints `HUP` for each signal.
# Every SOAK_SAMPLE_S (30) s: RSS and open fds of the daemon and the holder (/proc), zombies
# among their children, and whether they are still the same processes.
# At the end (after `pod stop`): the flap log holds every number 1..N exactly once per instance
# (no loss, no duplicate), crash's log holds one `start` per start the supervisor counted, no
# zombie was seen, the daemon never restarted, RSS and fds are flat: the lowest of the last 3
# samples is at most the lowest of the first 3 (taken after a 60 s warm-up) + SOAK_ANON_SLACK_KB
# (256) for the anonymous RSS (heap, stacks: where a leak shows), + SOAK_RSS_SLACK_KB (1024) for
# the whole RSS (it also counts the executable's pages, mapped back as code paths run: SPEC
# 10.3 holder_trim_text) and + SOAK_FD_SLACK (4) for fds; the lowest, because podman calls in
# flight hold fds for a moment (a leak raises the floor).  Prints `FIGURE soak ...` lines; exit 1 on a failed check.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: soak.sh BUILD_DIR}" && pwd)
SECS=${SOAK_SECONDS:-1800}
SAMPLE=${SOAK_SAMPLE_S:-30}
EDIT=${SOAK_EDIT_S:-3}
RSS_SLACK=${SOAK_RSS_SLACK_KB:-1024}
ANON_SLACK=${SOAK_ANON_SLACK_KB:-256}
FD_SLACK=${SOAK_FD_SLACK:-4}
source "$ROOT/tests/load/lib_measure.sh"
unset POD_PODMAN

if ! podman image exists localhost/podtest:1 2>/dev/null; then
    echo "soak: podman with localhost/podtest:1 is needed (as root: ci/install-deps.sh)" >&2
    exit 1
fi
WORK=$(mktemp -d /tmp/ldsoak.XXXXXX)
D=$WORK/ldsoak
mkdir -p "$D/config/cfg"
echo 0 >"$D/config/cfg/value.txt"
cat >"$D/pod.yaml" <<'EOF'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
containers:
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'echo start; sleep 2; exit 1']
      restart: always
      stopTimeout: 1
      restartBackoff:
        maxSeconds: 2
    - name: flap
      image: localhost/podtest:1
      command: [sh, -c, 'i=0; while :; do i=$((i+1)); echo "n $i"; sleep 0.2; done']
      restart: always
      stopTimeout: 1
      readinessProbe:
        cmd: [sh, -c, 'test $(( $(date +%s) / 6 % 2 )) = 0']
        periodSeconds: 1
    - name: hup
      image: localhost/podtest:1
      command: [sh, -c, 'trap "echo HUP" HUP; echo up; while :; do sleep 0.2; done']
      restart: on-config
      stopTimeout: 1
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /cfg
EOF
FAILED=0
fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}
figure() { echo "FIGURE soak $*"; }
cd "$D" || exit 111
SPACE_LOG_LEVEL=1 "$BUILD/podc" ldsoak -o pod || exit 1
if ! ./pod run; then
    echo "soak: pod run failed" >&2
    ./pod rm >/dev/null 2>&1
    exit 1
fi
read -r HOLDER DAEMON <<<"$(sup_pids "$D" | tr '\n' ' ')"
echo "soak: ${SECS} s, daemon $DAEMON, holder $HOLDER, dir $D"

# the config edits, in the background
(
    i=0
    while :; do
        sleep "$EDIT"
        i=$((i + 1))
        echo "$i" >"$D/config/cfg/value.txt.tmp" && mv "$D/config/cfg/value.txt.tmp" "$D/config/cfg/value.txt"
        echo "$i" >"$WORK/edits"
    done
) &
EDITOR=$!

samples=() # "t rss_d rss_h fd_d fd_h anon_d anon_h heap_d heap_h"
anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# heap_kb PID: the resident part of the main malloc arena ([heap], brk) alone: what grows of the
# anonymous RSS there is malloc's; the rest is stacks and the thread arenas (mmap)
heap_kb() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { h = ($NF == "[heap]") } h && /^Rss:/ { s += $2 } END { print s + 0 }' \
        "/proc/$1/smaps" 2>/dev/null || echo 0
}
zombies_seen=""
t0=$(date +%s)
next=$((t0 + 60 < t0 + SECS ? t0 + 60 : t0 + SECS))
while :; do
    now=$(date +%s)
    [ "$now" -ge "$next" ] || { sleep 1; continue; }
    read -r _ _ rss_d _ _ fd_d <<<"$(measure "$DAEMON")"
    read -r _ _ rss_h _ _ fd_h <<<"$(measure "$HOLDER")"
    z=$(zombies_of "$DAEMON" "$HOLDER")
    [ -z "$z" ] || zombies_seen="$zombies_seen $z"
    cur=$(sup_pids "$D" | tr '\n' ' ')
    [ "$cur" = "$HOLDER $DAEMON " ] || fail "at $((now - t0)) s: supervisor is now '$cur' (was $HOLDER $DAEMON)"
    an_d=$(anon_kb "$DAEMON")
    an_h=$(anon_kb "$HOLDER")
    hp_d=$(heap_kb "$DAEMON")
    hp_h=$(heap_kb "$HOLDER")
    samples+=("$((now - t0)) $rss_d $rss_h $fd_d $fd_h ${an_d:-0} ${an_h:-0} ${hp_d:-0} ${hp_h:-0}")
    echo "soak: t=$((now - t0))s daemon RSS ${rss_d} kB (anon ${an_d}, heap ${hp_d}) fds $fd_d, holder RSS ${rss_h} kB (anon ${an_h}, heap ${hp_h}) fds $fd_h${z:+, zombies: $z}"
    [ "$now" -lt $((t0 + SECS)) ] || break
    next=$((next + SAMPLE))
    [ "$next" -le $((t0 + SECS)) ] || next=$((t0 + SECS))
done
kill "$EDITOR" 2>/dev/null
wait "$EDITOR" 2>/dev/null
edits=$(cat "$WORK/edits" 2>/dev/null || echo 0)
pj=$(./pod ps --json 2>/dev/null)
./pod stop >/dev/null 2>&1 || fail "pod stop"

# ---------------------------------------------------------------- verdicts
col() { # col N: column N of every sample
    local s n=$1
    for s in "${samples[@]}"; do
        set -- $s
        echo "${!n}"
    done
}
min3() { sort -n | head -n 1 | awk '{print $1 + 0}'; }
first3() { head -n 3 | min3; }
last3() { tail -n 3 | min3; }
sum_cols() { # sum_cols A B: per sample, column A + column B
    local s a=$1 b=$2
    for s in "${samples[@]}"; do
        set -- $s
        echo $((${!a} + ${!b}))
    done
}
n=${#samples[@]}
rss_first=$(sum_cols 2 3 | first3)
rss_last=$(sum_cols 2 3 | last3)
rss_max=$(sum_cols 2 3 | sort -n | tail -1)
anon_first=$(sum_cols 6 7 | first3)
anon_last=$(sum_cols 6 7 | last3)
anon_max=$(sum_cols 6 7 | sort -n | tail -1)
fd_first=$(sum_cols 4 5 | first3)
fd_last=$(sum_cols 4 5 | last3)
fd_max=$(sum_cols 4 5 | sort -n | tail -1)
figure "duration $SECS s, $n samples every $SAMPLE s (after 60 s)"
figure "daemon+holder RSS first/last/max $rss_first / $rss_last / $rss_max kB (daemon $(col 2 | first3) -> $(col 2 | last3), holder $(col 3 | first3) -> $(col 3 | last3))"
figure "daemon+holder anonymous RSS (heap, stacks) first/last/max $anon_first / $anon_last / $anon_max kB"
figure "daemon+holder open fds first/last/max $fd_first / $fd_last / $fd_max"
figure "malloc's main arena ([heap]) resident first/last/max: daemon $(col 8 | first3) / $(col 8 | last3) / $(col 8 | sort -n | tail -1) kB, holder $(col 9 | first3) / $(col 9 | last3) / $(col 9 | sort -n | tail -1) kB"
[ "$anon_last" -le $((anon_first + ANON_SLACK)) ] || fail "anonymous RSS grew: $anon_first -> $anon_last kB (slack $ANON_SLACK)"
[ "$rss_last" -le $((rss_first + RSS_SLACK)) ] || fail "RSS grew: $rss_first -> $rss_last kB (slack $RSS_SLACK)"
[ "$fd_last" -le $((fd_first + FD_SLACK)) ] || fail "fds grew: $fd_first -> $fd_last (slack $FD_SLACK)"
[ -z "$zombies_seen" ] || fail "zombies among the daemon's/holder's children:$zombies_seen"
figure "zombies seen: ${zombies_seen:-none}"

cfield() { # cfield CTR KEY: from the `pod ps --json` taken before the stop
    printf '%s' "$pj" | tr '{' '\n' | grep "\"name\":\"$1\"" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}
starts_crash=$(cfield crash startCount)
restarts_crash=$(cfield crash restartCount)
starts_flap=$(cfield flap startCount)
# flap: per instance (a restart begins again at 1) every number exactly once, in order
flap_check=$(cat "$D/log/flap-ldsoak-0.0.1-stdout.log"* | sort -s -k2,2n | awk '
    { sub(/^[^ ]+ [^ ]+ /, "") }              # drop "<sec>.<nsec> <seq>" (sorted by seq)
    /^n [0-9]+$/ {
        v = $2
        if (v == 1) { inst++; want = 1 }
        if (v != want) { bad++; if (!first) first = "instance " inst ": got " v " want " want }
        want = v + 1; lines++
    }
    END { printf "%d %d %d %s", lines + 0, inst + 0, bad + 0, first }')
read -r flap_lines flap_inst flap_bad flap_first <<<"$flap_check"
figure "flap: $flap_lines numbered lines in $flap_inst instance(s), $flap_bad out of sequence (0 = no loss, no duplicate)"
[ "$flap_bad" = 0 ] || fail "flap log: $flap_bad lines out of sequence ($flap_first)"
[ "$flap_inst" = "${starts_flap:-x}" ] || fail "flap: $flap_inst numbered runs in the log, $starts_flap starts"
crash_lines=$(cat "$D/log/crash-ldsoak-0.0.1-stdout.log"* 2>/dev/null | grep -c ' start$')
figure "crash: $starts_crash starts ($restarts_crash restarts), $crash_lines \`start\` lines in its log"
[ "$crash_lines" = "${starts_crash:-x}" ] || fail "crash: $crash_lines start lines for $starts_crash starts"
hups=$(cat "$D/log/hup-ldsoak-0.0.1-stdout.log"* 2>/dev/null | grep -c ' HUP$')
figure "hup: $edits config edits, $hups HUP signals received (edits within the 250 ms debounce merge)"
[ "$hups" -ge 1 ] || fail "no HUP reached the hup container"
ready_flips=$(grep -c 'ready' "$D/log/ldsoak-0.0.1-stderr.log"* 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}')
figure "flap readiness: $ready_flips daemon log lines about readiness"

./pod rm >/dev/null 2>&1 || fail "pod rm"
left=$(podman ps -a --filter label=podc.pod=ldsoak-0.0.1 --format '{{.Names}}' | wc -l)
[ "$left" = 0 ] || fail "$left podman containers left after rm"
if [ "$FAILED" = 0 ]; then
    rm -rf "$WORK"
    echo "soak: PASS"
else
    echo "soak: FAIL (work dir kept: $WORK)"
fi
exit "$FAILED"
