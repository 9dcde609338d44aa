#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/stress/part_hostile.sh - the long flood of the hostile-container tests (make stress):
#
#   bash tests/stress/part_hostile.sh BUILD_DIR BUDGET_SECONDS
#
# One container writes HOSTILE_FLOOD_MB (default 1024) MiB on stdout and stderr at once (half
# each, 100-byte lines, the last line without newline) and exits; a second one writes 1 MiB
# lines meanwhile.  While it runs, the daemon's VmRSS is sampled every 0.2 s.  Passes when:
# the daemon's VmHWM stays <= HOSTILE_RSS_MAX_KB (32768), it is the same daemon at the end,
# each stream's last record has the seq of the last line written (every line got its record:
# nothing dropped, SPEC 9.2; rotation and retention delete whole old files, 9.4), the records
# kept are contiguous (no seq gap) without a drop notice, the last one is the `+` partial line,
# and `pod stop` ends everything.  Prints FIGURE lines: peak RSS, VmHWM, MiB/s.  Needs root
# podman and localhost/podtest:1; if the flood does not end within the budget, FAIL.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUDGET_SECONDS" >&2; exit 100; }
build=$(cd "$1" && pwd)
budget=$2
mb=${HOSTILE_FLOOD_MB:-1024}
rss_max=${HOSTILE_RSS_MAX_KB:-32768}
image=${E2E_IMAGE:-localhost/podtest:1}

die() {
    echo "part_hostile: FAIL: $*" >&2
    exit 1
}
command -v podman >/dev/null && podman image exists "$image" ||
    { echo "part_hostile: skipped: no podman or no $image"; exit 0; }

work=$(mktemp -d /tmp/e2eho-stress.XXXXXX)
dir=$work/e2ehoflood
mkdir -p "$dir"
cleanup() {
    (cd / && timeout 120 "$dir/pod" rm -k >/dev/null 2>&1) || true
    rm -rf "$work"
}
trap cleanup EXIT

half=$((mb * 1024 * 1024 / 2))
# 99 x's and the newline: 100 bytes a line
cat >"$dir/pod.yaml" <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: flood
      image: $image
      command: [sh, -c, 'l=\$(head -c 99 /dev/zero | tr "\\\\0" x); yes "\$l" | head -c $half & yes "\$l" | head -c $half >&2; wait; exit 0']
      stopTimeout: 1
    - name: long
      image: $image
      command: [sh, -c, 'for i in \$(seq 1 32); do head -c 1048576 /dev/zero | tr "\\\\0" L; echo; done; trap "exit 0" TERM; while true; do sleep 1; done']
      stopTimeout: 1
YAML
(cd "$dir" && SPACE_LOG_LEVEL=1 "$build/podc" e2ehoflood -o pod) || die "podc"
t0=$(date +%s%N)
(cd / && "$dir/pod" run) >/dev/null 2>"$work/run.err" || die "pod run: $(cat "$work/run.err")"
dp=$(awk '$1 == "daemon" {print $2}' "$dir/.pod.pid")
[ -n "$dp" ] || die "no daemon"
: >"$work/rss"
state() { podman container inspect --format '{{.State.Status}}' "$1-e2ehoflood-0.0.1" 2>/dev/null; }
end=$(($(date +%s) + budget - 30))
while [ "$(state flood)" != exited ]; do
    [ "$(date +%s)" -lt $end ] || die "the flood did not end within the budget ($budget s)"
    awk '$1 == "VmRSS:" {print $2}' "/proc/$dp/status" >>"$work/rss" 2>/dev/null || die "the daemon died"
    sleep 0.2
done
secs_ns=$(($(date +%s%N) - t0))
hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$dp/status")
peak=$(sort -n "$work/rss" | tail -1)
echo "FIGURE hostile_flood mib=$mb daemon_rss_peak_kb=$peak daemon_vmhwm_kb=$hwm samples=$(wc -l <"$work/rss")"
echo "FIGURE hostile_flood seconds=$((secs_ns / 1000000000)) mib_per_s=$((mb * 1000000000 / (secs_ns > 0 ? secs_ns : 1)))"
[ "$hwm" -le "$rss_max" ] || die "daemon VmHWM $hwm kB > $rss_max kB"
[ "$(awk '$1 == "daemon" {print $2}' "$dir/.pod.pid")" = "$dp" ] || die "the daemon changed"

lines=$((half / 100)) # whole lines, then a partial one of half % 100 bytes
for s in stdout stderr; do
    f=$dir/log/flood-e2ehoflood-0.0.1-$s.log
    want=$lines
    [ $((half % 100)) = 0 ] && want=$((lines - 1)) # seq starts at 0
    # the records reach the files a little after the exit: wait for the partial last one
    for _ in $(seq 1 100); do
        tail -n 1 "$f" 2>/dev/null | grep -q '+ x*$' && break
        sleep 0.2
    done
    last=$(tail -n 1 "$f" | awk '{print $2}')
    [ "$last" = "$want+" ] || die "$s: last record seq '$last', want '$want+' (lines lost?)"
    # every kept file, oldest first: contiguous seq, no drop notice
    cat $(ls "$f".* 2>/dev/null | sort) "$f" |
        awk '{ q = $2; if (q ~ /!$/) { print "drop notice: " $0; exit 1 } sub(/\+$/, "", q);
               if (NR > 1 && q != prev + 1) { print "gap after " prev; exit 1 } prev = q }' ||
        die "$s: records not contiguous"
done
f=$dir/log/long-e2ehoflood-0.0.1-stdout.log
long_recs() { cat $(ls "$f".* 2>/dev/null | sort) "$f" 2>/dev/null; }
for _ in $(seq 1 600); do
    [ "$(long_recs | grep -c ' [0-9]* L*$')" = 32 ] && break
    sleep 0.2
done
[ "$(long_recs | grep -c ' [0-9]* L*$')" = 32 ] || die "long: not 32 whole lines"
[ "$(long_recs | grep -c ' [0-9]*+ L*$')" = $((32 * 63)) ] || die "long: not 63 + records per 1 MiB line"

(cd / && timeout 120 "$dir/pod" stop) >/dev/null 2>&1 || die "pod stop"
[ -z "$(podman ps --filter label=podc.pod=e2ehoflood-0.0.1 -q)" ] || die "containers run after stop"
[ ! -d "/proc/$dp" ] || die "the daemon runs after stop"
echo "part_hostile: PASS"
