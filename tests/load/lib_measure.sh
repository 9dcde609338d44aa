# SPDX-License-Identifier: MIT
# tests/load/lib_measure.sh - what the load and soak runs measure of a set of processes, from
# /proc only (sourced by tests/load/load.sh and tests/stress/soak.sh).
#
#   sup_pids DIR...        the holder and daemon pids of the pods in DIRs (from .pod.pid)
#   measure PID...         one line: "TICKS CTXSW RSS_KB PSS_KB THREADS FDS" summed over the
#                          processes: utime+stime (clock ticks, all threads), voluntary +
#                          involuntary context switches of every thread (each idle wake-up of a
#                          thread that sleeps in epoll_wait/poll is one voluntary switch),
#                          VmRSS, Pss (smaps_rollup), threads, open fds.  A process that is gone
#                          counts 0.
#   zombies_of PID...      the children of those processes in state Z, as "pid(comm)" words

CLK_TCK=$(getconf CLK_TCK)

sup_pids() {
    local d
    for d in "$@"; do
        [ -f "$d/.pod.pid" ] && awk '{print $2}' "$d/.pod.pid"
    done
}

measure() {
    local pid t=0 c=0 rss=0 pss=0 th=0 fds=0 x task v n
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        x=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        # after the comm: state(3) ... utime(14) stime(15) -> fields 12 and 13 here
        set -- $x
        t=$((t + ${12} + ${13}))
        for task in /proc/$pid/task/*; do
            v=$(awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {s += $2} END {print s + 0}' \
                "$task/status" 2>/dev/null) || v=0
            c=$((c + ${v:-0}))
            th=$((th + 1))
        done
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
        pss=$((pss + ${v:-0}))
        n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
        fds=$((fds + n))
    done
    echo "$t $c $rss $pss $th $fds"
}

zombies_of() {
    local want=" $* " p
    for p in /proc/[0-9]*; do
        [ -r "$p/stat" ] || continue
        # pid (comm) state ppid
        read -r pid rest <"$p/stat" 2>/dev/null || continue
        local st ppid
        st=$(sed 's/.*) //' "$p/stat" 2>/dev/null | awk '{print $1, $2}') || continue
        ppid=${st#* }
        [ "${st%% *}" = Z ] || continue
        case "$want" in *" $ppid "*) printf '%s(%s) ' "$pid" "$(cat "$p/comm" 2>/dev/null)" ;; esac
    done
}

# pct TICKS SECONDS: percent of one core, two decimals
pct() {
    awk -v t="$1" -v s="$2" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", (s > 0 ? 100 * t / hz / s : 0)}'
}

# per NUM DEN [SCALE]: NUM/DEN*SCALE with two decimals
per() {
    awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN {printf "%.2f", (b > 0 ? a / b * k : 0)}'
}
