# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2207  # sourced by bench_runtime.sh: its variables; numbers
# tests/bench/runtime_cpu.sh - sourced by bench_runtime.sh: steady CPU, memory, exec path.
#
# 1. Idle baseline: IDLE_S seconds with no pod of ours running; whole-machine busy time from
#    /proc/stat (all cores: everything but idle and iowait).
# 2. The yardstick pod (httpd + worker, 3 exec probes every 6 s), once its probes ran: over the
#    same IDLE_S, (a) the CPU time (utime + stime + cutime + cstime from /proc) of the daemon,
#    the holder, every live descendant of theirs and the exec agents inside this pod's containers
#    (the probes are the agents' children, reaped by them: counted in the agents' cutime); a
#    process that exits during the window is counted through its parent's cutime; (b) the
#    whole-machine busy time again (also per 10 s slice: the quietest slice of each window is a
#    second, less disturbed estimate).  "Whole machine minus idle" includes what podman adds
#    (conmon, the infra container, the containers' own work) and whatever else ran meanwhile:
#    on a shared machine it is only as good as the quiet of the two windows.  (c) Not disturbed
#    by other jobs: the pod's podman cgroup (cpuacct v1: its containers with the agents and the
#    probes, the infra container, conmon) plus the daemon's and holder's process tree.
# 3. RSS and peak RSS (VmHWM) of daemon + holder at the end of the window; PSS for reference.
# 4. The exec path: agents running in the pod's containers, and the daemon's INFO line
#    "exec probes ... through podman exec" (the fallback), counted in its log.

hz=$(getconf CLK_TCK)
# Busy ticks of the whole machine (all cores).
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# tree_ticks PID...: utime+stime+cutime+cstime of the PIDs and all their live descendants.
tree_ticks() {
    local roots="$*"
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$roots" '
        {pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
         ppid[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15]}
        END {
            n = split(roots, r, " "); for (i = 1; i <= n; i++) in_[r[i]] = 1
            do {grew = 0; for (p in ppid) if (!(p in in_) && (ppid[p] in in_)) {in_[p] = 1; grew = 1}} while (grew)
            s = 0; for (p in in_) if (p in t) s += t[p]; print s
        }'
}
# pod_agents POD: pids of the exec agents running in that podman pod's containers.
pod_agents() {
    local ids id a
    ids=$(podman ps -q --no-trunc --filter "pod=$1" 2>/dev/null)
    for a in $(pgrep -f '^/.podc/agent __agent'); do
        for id in $ids; do
            grep -q "$id" "/proc/$a/cgroup" 2>/dev/null && { echo "$a"; break; }
        done
    done | tr '\n' ' '
}
rss() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status" 2>/dev/null; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }

# busy_window: sleeps IDLE_S s in slices of at most 10 s; sets BUSY (ticks of the whole window)
# and BUSY_MIN (busy ticks per second of the quietest slice, a less disturbed estimate).
busy_window() {
    local left=$IDLE_S n b0 b1 start
    start=$(machine_busy)
    BUSY_MIN=""
    while [ "$left" -gt 0 ]; do
        n=$((left < 10 ? left : 10))
        b0=$(machine_busy)
        sleep "$n"
        b1=$(machine_busy)
        BUSY_MIN=$(awk -v m="$BUSY_MIN" -v d=$((b1 - b0)) -v n="$n" 'BEGIN {v = d / n; print (m == "" || v < m) ? v : m}')
        left=$((left - n))
    done
    BUSY=$(($(machine_busy) - start))
}
pct_core() { awk -v t="$1" -v hz="$hz" -v s="$2" 'BEGIN {printf "%.2f", 100 * t / hz / s}'; }

# ------------------------------------------------------------------ idle baseline
echo "steady CPU: idle baseline, $IDLE_S s with no pod of ours ..."
busy_window
idle_busy=$BUSY idle_min=$BUSY_MIN

# ------------------------------------------------------------------ the yardstick pod
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
A=$(pod_agents benchcpu-0.0.1)
echo "steady CPU: the pod (daemon $D, holder $H, agents ${A:-none}), $IDLE_S s ..."
CG=/sys/fs/cgroup/cpuacct$(podman pod inspect benchcpu-0.0.1 --format '{{.CgroupPath}}' 2>/dev/null)/cpuacct.usage
[ -r "$CG" ] || CG=/dev/null
cg0=$(cat "$CG") dh0=$(tree_ticks $D $H)
t0=$(tree_ticks $D $H $A)
busy_window
t1=$(tree_ticks $D $H $A)
cg1=$(cat "$CG") dh1=$(tree_ticks $D $H)
pod_busy=$BUSY pod_min=$BUSY_MIN
ticks=$((t1 - t0))
fallback=$(grep -c 'through podman exec' "$P/log/benchcpu-0.0.1-stderr.log" 2>/dev/null)
n_agents=$(echo $A | wc -w)
if [ "$n_agents" -gt 0 ] && [ "$fallback" -eq 0 ]; then
    EXEC_PATH="agent ($n_agents agents running in the pod's containers; no podman exec fallback logged)"
else
    EXEC_PATH="podman exec ($n_agents agents; $fallback fallback line(s) in the daemon's log)"
fi
cpu=$(awk -v t="$ticks" -v hz="$hz" -v s="$IDLE_S" 'BEGIN {printf "%.3f", 100 * t / hz / s}')
m_idle=$(pct_core "$idle_busy" "$IDLE_S") m_pod=$(pct_core "$pod_busy" "$IDLE_S")
m_diff=$(awk -v a="$m_pod" -v b="$m_idle" 'BEGIN {printf "%.2f", a - b}')
q_idle=$(pct_core "$idle_min" 1) q_pod=$(pct_core "$pod_min" 1)
q_diff=$(awk -v a="$q_pod" -v b="$q_idle" 'BEGIN {printf "%.2f", a - b}')
say "pod's processes: $ticks ticks in $IDLE_S s = $cpu % of a core"
say "whole machine: $m_pod % of a core with the pod, $m_idle % idle baseline (quietest 10 s: $q_pod %, $q_idle %)"
result "steady CPU: daemon+holder+children+agents+probes, ${IDLE_S}s" "$cpu %" "0 (no pod)" "-" \
    "<= 0.8 % of a core" "$(verdict "$cpu" '<=' 0.8)" "8.2 %"
if [ "$CG" != /dev/null ]; then
    cgp=$(awk -v c=$((cg1 - cg0)) -v t=$((dh1 - dh0)) -v hz="$hz" -v s="$IDLE_S" \
        'BEGIN {printf "%.3f", 100 * (c / 1e9 + t / hz) / s}')
    say "the pod's cgroup: $(((cg1 - cg0) / 1000000)) ms CPU, daemon + holder tree $((dh1 - dh0)) ticks"
    result "steady CPU: + podman's part (pod cgroup: ctrs, infra, conmon)" "$cgp %" "0 (no pod)" "-" \
        "<= 0.8 % of a core" "$(verdict "$cgp" '<=' 0.8)" "-"
fi
result "steady CPU: whole machine minus idle baseline" "$m_diff %" "idle: $m_idle % (pod: $m_pod %)" \
    "$(ratio "$m_pod" "$m_idle")" "<= 0.8 % of a core" "$(verdict "$m_diff" '<=' 0.8)" "8.2 %"
result "  the same, quietest 10 s slice of each window" "$q_diff %" "idle: $q_idle % (pod: $q_pod %)" \
    "$(ratio "$q_pod" "$q_idle")" "<= 0.8 % of a core" "$(verdict "$q_diff" '<=' 0.8)" "-"

d_rss=$(rss "$D" VmRSS) h_rss=$(rss "$H" VmRSS)
d_hwm=$(rss "$D" VmHWM) h_hwm=$(rss "$H" VmHWM)
both=$((d_rss + h_rss)) peak=$((d_hwm + h_hwm))
say "daemon RSS $d_rss kB (peak $d_hwm), holder RSS $h_rss kB (peak $h_hwm), PSS of both $(($(pss "$D") + $(pss "$H"))) kB"
for a in $A; do say "agent $a RSS: $(rss "$a" VmRSS) kB"; done
result "daemon + holder RSS, idle" "$both kB" "-" "-" "<= 2048 kB" "$(verdict "$both" '<=' 2048)" "4.6 MB (daemon)"
result "daemon + holder peak RSS (VmHWM)" "$peak kB" "-" "-" "(reported)" "-" "-"
result "daemon + holder PSS (shared pages split)" "$(($(pss "$D") + $(pss "$H"))) kB" "-" "-" "(reported)" "-" "-"
priv=$(cat "/proc/$D/smaps_rollup" "/proc/$H/smaps_rollup" 2>/dev/null | awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s + 0}')
result "daemon + holder private memory (not shared)" "$priv kB" "-" "-" "(reported)" "-" "-"
result "probes' exec path" "$(echo "$EXEC_PATH" | cut -d' ' -f1)" "-" "-" "agent" \
    "$([ "${EXEC_PATH%% *}" = agent ] && echo PASS || echo MISS)" "podman exec"
"$P/pod" rm -k >/dev/null 2>&1
