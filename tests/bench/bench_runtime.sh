#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/bench_runtime.sh - the runtime on real podman (make bench; issue 10's yardsticks):
#
#   bash tests/bench/bench_runtime.sh PODC [IDLE_S]
#
# With a 2-container pod (httpd + worker) and 3 exec probes (readiness and liveness on web,
# readiness on worker, every 6 s):
#   - steady CPU over IDLE_S (default 60) s of the daemon, the holder and the agents with what
#     they ran (utime+stime+cutime+cstime from /proc), as % of one core; which exec path ran
#     (requests through the agent vs `podman exec` children seen);
#   - daemon + holder RSS (and their peaks);
#   - container exit -> running again (first failure) against a bare `podman run -d --replace`
#     of the same container, from the daemon's log (the backoff delay the supervisor chose is
#     shown and subtracted);
#   - config edit -> signal delivered: the container's HUP line, read by the daemon, stamped in
#     its log (the debounce window included);
#   - `pod stop` and `pod rm` of a pod whose containers exit on TERM (stopTimeout 10 s).
# Prints rows; asserts nothing.  Needs root podman and localhost/podtest:1 (ci/podman-setup.sh).
set -u
PODC=$(realpath "${1:?usage: bench_runtime.sh PODC [IDLE_S]}")
IDLE_S=${2:-60}
command -v podman >/dev/null 2>&1 && podman image exists localhost/podtest:1 2>/dev/null || {
    echo "podman or localhost/podtest:1 missing: skipped"
    exit 0
}
W=$(mktemp -d /tmp/bench-runtime.XXXXXX)
trap 'for p in "$W"/*/pod; do [ -x "$p" ] && "$p" rm -k >/dev/null 2>&1; done; rm -rf "$W"' EXIT
ms() { echo $(($(date +%s%N) / 1000000)); }

mk() { # NAME < yaml
    mkdir -p "$W/$1/config/cfg"
    echo 1 >"$W/$1/config/cfg/a.txt"
    cat >"$W/$1/pod.yaml"
    (cd "$W/$1" && SPACE_LOG_LEVEL=1 "$PODC" "$1" -o pod) || exit 1
}
cpu_ticks() { # PID: utime+stime+cutime+cstime
    awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status" 2>/dev/null; }
agents() { pgrep -f '^/.podc/agent __agent' | tr '\n' ' '; }
hz=$(getconf CLK_TCK)

# ------------------------------------------------------------------ CPU and memory
mk benchcpu <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [httpd, -f, -p, "80", -h, /www]
      expose:
        - targetPort: 80
          hostPort: 18771
      readinessProbe:
        cmd: [wget, -q, -O, /dev/null, "http://127.0.0.1:80/"]
      livenessProbe:
        cmd: [sh, -c, 'test -e /www/index.html']
    - name: worker
      image: localhost/podtest:1
      command: [sh, -c, 'while true; do sleep 5; done']
      readinessProbe:
        cmd: [test, -e, /proc/1]
YAML
P=$W/benchcpu
"$P/pod" run --host-interface=127.0.0.1 2>/dev/null
for i in $(seq 1 100); do grep -q '^readiness: 1' "$P/.pod.status" 2>/dev/null && break; sleep 0.2; done
sleep 8 # the agents are up, the first probes ran
D=$(awk '$1 == "daemon" {print $2}' "$P/.pod.pid")
H=$(awk '$1 == "holder" {print $2}' "$P/.pod.pid")
A=$(agents)
t0=0
for p in $D $H $A; do t0=$((t0 + $(cpu_ticks "$p"))); done
idle0=$(awk '/^cpu / {print $5 + $6}' /proc/stat)
all0=$(awk '/^cpu / {s = 0; for (i = 2; i <= NF; i++) s += $i; print s}' /proc/stat)
execs=0
end=$(($(date +%s) + IDLE_S))
while [ "$(date +%s)" -lt "$end" ]; do # `podman exec` children of the daemon (the fallback)
    n=$(pgrep -P "$D" -f 'podman exec -e PODC_PROBE_TAG' | wc -l)
    execs=$((execs + n))
    sleep 1
done
t1=0
for p in $D $H $A; do t1=$((t1 + $(cpu_ticks "$p"))); done
idle1=$(awk '/^cpu / {print $5 + $6}' /proc/stat)
all1=$(awk '/^cpu / {s = 0; for (i = 2; i <= NF; i++) s += $i; print s}' /proc/stat)
ticks=$((t1 - t0))
printf '%-58s %s\n' "steady CPU (daemon+holder+agents+probes), $IDLE_S s:" \
    "$(awk -v t="$ticks" -v hz="$hz" -v s="$IDLE_S" 'BEGIN {printf "%.3f %% of a core (%d ticks)", 100 * t / hz / s, t}')"
printf '%-58s %s\n' "whole machine busy over the window (all users):" \
    "$(awk -v i=$((idle1 - idle0)) -v a=$((all1 - all0)) 'BEGIN {printf "%.1f %% of all cores", 100 * (a - i) / a}')"
printf '%-58s %s\n' "exec path:" "agents running: $(echo $A | wc -w); podman exec children seen in 1 s samples: $execs"
printf '%-58s %s kB (peak %s kB)\n' "daemon RSS:" "$(rss "$D" VmRSS)" "$(rss "$D" VmHWM)"
printf '%-58s %s kB (peak %s kB)\n' "holder RSS:" "$(rss "$H" VmRSS)" "$(rss "$H" VmHWM)"
printf '%-58s %s kB (PSS %s kB: they share the executable'"'"'s pages)\n' "daemon + holder RSS:" \
    $(($(rss "$D" VmRSS) + $(rss "$H" VmRSS))) \
    $(($(awk '/^Pss:/ {print $2}' "/proc/$D/smaps_rollup") + $(awk '/^Pss:/ {print $2}' "/proc/$H/smaps_rollup")))
for a in $A; do
    printf '%-58s %s kB\n' "agent $a RSS:" "$(rss "$a" VmRSS)"
done
"$P/pod" rm -k 2>/dev/null

# ------------------------------------------------------------------ restart and config latency
mk benchlat <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
containers:
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1; exit 1']
      restart: always
      stopTimeout: 1
    - name: hup
      image: localhost/podtest:1
      command: [sh, -c, 'trap "echo HUP" HUP; while true; do sleep 0.02; done']
      stopTimeout: 1
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /cfg
YAML
P=$W/benchlat
"$P/pod" run 2>/dev/null
LOG=$P/log/benchlat-0.0.1-stderr.log
for i in $(seq 1 100); do grep -q 'crash: exited' "$LOG" 2>/dev/null && break; sleep 0.1; done
sleep 6 # a few restarts
# "<sec>.<ns> <seq> [LEVEL] crash: exited with code 1; restart in N ms ..." then "crash: started"
awk '/crash: exited with code/ {split($0, w, " "); te = w[1]; d = 0;
        if (match($0, /restart in [0-9]+ ms/)) d = substr($0, RSTART + 11, RLENGTH - 14) + 0; next}
     /\[OK\]    crash: started/ && te {split($0, w, " "); n++;
        printf "%-58s %4.0f ms (backoff %d ms, without it %.0f ms)\n",
          "container exit -> running again (restart " n "):", (w[1] - te) * 1000, d, (w[1] - te) * 1000 - d;
        te = 0}' "$LOG"
C=crash-benchlat-0.0.1
bare=()
for i in 1 2 3 4 5 6; do # the previous one has exited, as a crashed instance has
    t0=$(ms)
    podman run -d --replace --pod benchlat-0.0.1 --name benchbare --log-driver passthrough \
        --restart=no localhost/podtest:1 sh -c 'exit 1' >/dev/null 2>&1
    [ "$i" = 1 ] || bare+=($(($(ms) - t0)))
    sleep 0.5
done
podman rm -f -t 0 benchbare >/dev/null 2>&1
printf '%-58s %s ms (5 runs: %s)\n' "bare podman run -d --replace of an exited one (median):" \
    "$(printf '%s\n' "${bare[@]}" | sort -n | sed -n 3p)" "${bare[*]}"
H=$P/log/hup-benchlat-0.0.1-stdout.log
lat=()
for i in 1 2 3 4 5 6; do
    n0=$(grep -c ' HUP$' "$H" 2>/dev/null || true)
    t0=$(date +%s%N)
    printf '%d\n' $((i % 2)) >"$P/config/cfg/a.txt" # same size every time
    for k in $(seq 1 500); do
        [ "$(grep -c ' HUP$' "$H" 2>/dev/null || true)" -gt "$n0" ] && break
        sleep 0.01
    done
    ts=$(grep ' HUP$' "$H" | tail -n1 | cut -d' ' -f1)
    lat+=($(awk -v a="$ts" -v b="$t0" 'BEGIN {printf "%.0f", a * 1000 - b / 1000000}'))
    sleep 0.5
done
printf '%-58s %s ms\n' "config edit -> HUP in the container (same-size edits):" "${lat[*]}"
"$P/pod" rm -k 2>/dev/null

# ------------------------------------------------------------------ stop and rm
mk benchstop <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: a
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.05; done']
    - name: b
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.05; done']
YAML
P=$W/benchstop
for round in 1 2 3; do
    "$P/pod" run 2>/dev/null
    sleep 2
    t0=$(ms)
    "$P/pod" stop 2>/dev/null
    st=$(($(ms) - t0))
    t0=$(ms)
    "$P/pod" rm 2>/dev/null
    printf '%-58s stop %s ms, rm %s ms\n' "stop, then rm (2 containers exiting on TERM):" "$st" \
        "$(($(ms) - t0))"
done
"$P/pod" run 2>/dev/null
sleep 2
t0=$(ms)
"$P/pod" rm 2>/dev/null
printf '%-58s %s ms\n' "rm of the running pod:" "$(($(ms) - t0))"
