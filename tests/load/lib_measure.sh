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
    local pid files=() fdd=() fds=0
    for pid in "$@"; do
        [ -d "/proc/$pid" ] || continue
        files+=("/proc/$pid/stat" "/proc/$pid/status" "/proc/$pid/smaps_rollup" /proc/$pid/task/*/status)
        fdd+=("/proc/$pid/fd")
    done
    [ ${#fdd[@]} -gt 0 ] || { echo "0 0 0 0 0 0"; return; }
    fds=$(ls -U "${fdd[@]}" 2>/dev/null | grep -c '^[0-9]')
    awk -v fds="$fds" '
        FILENAME ~ /\/task\// {
            if (FNR == 1) th++
            if (/^(non)?voluntary_ctxt_switches:/) c += $2
            next
        }
        FILENAME ~ /^\/proc\/[0-9]+\/stat$/ { sub(/.*\) /, ""); t += $12 + $13; next }
        FILENAME ~ /\/status$/ && /^VmRSS:/ { rss += $2; next }
        FILENAME ~ /smaps_rollup$/ && /^Pss:/ { pss += $2 }
        END { printf "%d %d %d %d %d %d\n", t, c, rss, pss, th, fds }' "${files[@]}" 2>/dev/null
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
