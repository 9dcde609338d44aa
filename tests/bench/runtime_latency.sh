# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2207  # sourced by bench_runtime.sh: its variables; numbers
# tests/bench/runtime_latency.sh - sourced by bench_runtime.sh: restart, config signal, stop.
#
# Restart (RESTARTS samples, default 6): a container that prints "bye", exits 1 after ~5 s
# (more than 1 s: SPEC 8.5 restarts a first failure at once) and has restart: always.  After
# each restart `pod rerun` clears its backoff, so every sample is a first failure.  Measured:
# the "bye" record's stamp (the daemon read the container's last line just before it exited)
# -> the daemon's "crash: started" line.  Baselines, interleaved (while the next instance runs,
# in the same pod): a bare `podman run -d --replace --pull=never --pod ... --log-driver
# passthrough` of the same image over an exited container of the same name, (1) "settled":
# it exited 0.5 s before (the issue's yardstick, judged), (2) "at the exit": issued the moment
# it exited, as the daemon does, while podman's clean-up of that container still runs; on
# podman 4.3.1 that costs --replace 100-200 ms more, for any supervisor that restarts by name.
#
# Restart from a warm standby (RESTARTS samples too): the same container with `warmStandby:
# true`, in a pod of its own (benchwarm, the same two containers), measured the same way (the
# "bye" stamp -> "crash: started", each sample a first failure after `pod rerun`); a sample
# counts as warm when the daemon logged "from its warm standby" between the exit and the start,
# and before each exit the bench waits until the standby is initialized.  Judged against the
# same settled floor.  One more floor, not judged, measured while each warm instance runs (after
# its standby is made, before it exits): a bare `podman run -d` of a fresh name (no --replace)
# issued the moment another bare container of the pod exited, i.e. removing the old instance off
# the critical path and nothing else.
#
# Config edit -> signal (EDITS, default 30): a container traps HUP and echoes "HUP"; each edit
# rewrites config/cfg/a.txt in place, odd edits with the same size as before, even ones one
# byte longer.  Measured: the time before the write -> the stamp of the "HUP" record (the daemon
# read the container's line), so it includes the 250 ms debounce (SPEC 8.7), the signal and the
# container's reaction (a 20 ms sleep loop).  Floor: the debounce window.
#
# Stop: a pod of 2 containers that exit on TERM (stopTimeout 10 s): `pod stop` then `pod rm`,
# and `pod rm` of the running pod, 3 rounds each; a pod of 2 containers that ignore TERM
# (stopTimeout 2 s, so the schedule ends with SIGKILL after 2 s): `pod stop`, 2 rounds.  The
# SPEC 8.8 stop schedule (main containers in parallel, stop signal, SIGKILL after stopTimeout)
# is done by bare `podman stop -t T` of two identical bare containers in parallel, interleaved
# in the same run: that time is the floor, the target is floor + 0.5 s.

RESTARTS=${RESTARTS:-6}
EDITS=${EDITS:-30}

# ------------------------------------------------------------------ restart after a first failure
# lat_yaml [EXTRA]: the restart pod (a crash container, a HUP container with a config volume);
# EXTRA is one more line of crash's fields
lat_yaml() {
    cat <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
containers:
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'echo up; trap "exit 0" TERM; i=0; while [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done; echo bye; exit 1']
      restart: always
$1      stopTimeout: 1
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
}
mk benchlat < <(lat_yaml '')
P=$W/benchlat
LOG=$P/log/benchlat-0.0.1-stderr.log
OUT=$P/log/crash-benchlat-0.0.1-stdout.log
echo "restart: $RESTARTS first failures, each followed by a bare podman run -d --replace ..."
"$P/pod" run 2>/dev/null
count() { grep -c "$1" "$2" 2>/dev/null || true; }
wait_for() { # PATTERN FILE N: until FILE has >= N lines matching PATTERN (30 s at most)
    local k
    for k in $(seq 1 600); do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
bare_run() { # RUN_CMD: the wall ms of one bare podman run -d --replace of benchbare
    local t0
    t0=$(ms)
    podman run -d --replace --pull=never --pod benchlat-0.0.1 --name benchbare --restart=no \
        --log-driver passthrough --stop-timeout 1 localhost/podtest:1 sh -c "$1" >/dev/null 2>&1
    echo $(($(ms) - t0))
}
# Two bare runs per sample: "at exit" replaces a container the moment it exited (its output
# pipe closed, as the daemon learns it), when podman's own clean-up of it (conmon's exit
# command) runs too; "settled" replaces one that exited 0.5 s before.  Prints "AT_EXIT SETTLED".
bare_pair() {
    podman run -d --replace --pull=never --pod benchlat-0.0.1 --name benchbare --restart=no \
        --log-driver passthrough localhost/podtest:1 sh -c 'sleep 1; exit 1' 2>/dev/null | cat >/dev/null
    local a
    a=$(bare_run 'sleep 1; exit 1')
    podman wait benchbare >/dev/null 2>&1
    sleep 0.5
    echo "$a $(bare_run 'exit 1')"
}
bare_run 'exit 1' >/dev/null # create it once: every timed run replaces an exited one
bare=() bare_exit=()
wait_for 'crash: started' "$LOG" 1
s=1 # "crash: started" lines so far
for k in $(seq 1 "$RESTARTS"); do
    # the k-th first failure and its restart; then `pod rerun` (a fresh backoff) and, while the
    # new instance runs (5 s), the bare runs
    wait_for 'restart in 0 ms' "$LOG" "$k" && wait_for 'crash: started' "$LOG" $((s + 1)) &&
        "$P/pod" rerun crash >/dev/null 2>&1 && wait_for 'crash: started' "$LOG" $((s + 2)) ||
        { say "restart $k: timed out; the daemon's log ends:"; tail -n 4 "$LOG" | sed 's/^/    /'; break; }
    s=$((s + 2))
    read -r a b <<<"$(bare_pair)"
    bare_exit+=("$a")
    bare+=("$b")
done
# Pair each "restart in 0 ms" exit with the last "bye" before it and the next "started".
rs=$(awk 'FNR == NR {if ($3 == "bye") bye[++nb] = $1; next}
     /crash: exited with code 1; restart in 0 ms/ {te = 0; for (i = 1; i <= nb; i++) if (bye[i] <= $1) te = bye[i]; next}
     /crash: started/ && te {printf "%.0f\n", ($1 - te) * 1000; te = 0}' "$OUT" "$LOG")
read -r r50 r99 rmax rmin rn <<<"$(echo "$rs" | pct)"
read -r b50 b99 bmax bmin bn <<<"$(printf '%s\n' "${bare[@]}" | pct)"
read -r x50 x99 xmax xmin xn <<<"$(printf '%s\n' "${bare_exit[@]}" | pct)"
say "exit -> running (ms): $(echo $rs)"
say "of which the daemon's podman run -d (start instance -> started, ms): $(awk '/restart in 0 ms/ {r = 1}
    /crash: start instance/ && r {t = $1; r = 0} /crash: started/ && t {printf "%.0f ", ($1 - t) * 1000; t = 0}' "$LOG")"
# (the floors' line and the result rows: after the warm standby's samples, below)

# ------------------------------------------------------------------ config edit -> signal
echo "config edit -> signal: $EDITS edits (alternately same size and one byte longer) ..."
HUP=$P/log/hup-benchlat-0.0.1-stdout.log
lat=()
len=1
for k in $(seq 1 "$EDITS"); do
    [ $((k % 2)) = 0 ] && len=$((len + 1))
    n0=$(count ' HUP$' "$HUP")
    t0=$(date +%s%N)
    printf "%0${len}d\n" $((k % 10)) >"$P/config/cfg/a.txt"
    wait_for ' HUP$' "$HUP" $((n0 + 1)) || { say "edit $k: no HUP within 10 s"; continue; }
    ts=$(grep ' HUP$' "$HUP" | tail -n1 | cut -d' ' -f1)
    lat+=($(awk -v a="$ts" -v b="$t0" 'BEGIN {printf "%.0f", a * 1000 - b / 1000000}'))
    sleep 0.4 # past the debounce window: the next edit is a burst of its own
done
read -r e50 e99 emax emin en <<<"$(printf '%s\n' "${lat[@]}" | pct)"
say "edit -> HUP (ms): ${lat[*]}"
"$P/pod" rm -k >/dev/null 2>&1
podman rm -f -t 0 benchbare >/dev/null 2>&1

# ------------------------------------------------------------------ restart from a warm standby
mk benchwarm < <(lat_yaml $'      warmStandby: true\n')
P=$W/benchwarm
WLOG=$P/log/benchwarm-0.0.1-stderr.log
WOUT=$P/log/crash-benchwarm-0.0.1-stdout.log
echo "restart from a warm standby: $RESTARTS first failures, each followed by a bare podman run -d of a fresh name ..."
standby_ready() { # until crash's standby is initialized (10 s at most)
    local k
    for k in $(seq 1 50); do
        [ "$(podman container inspect --format '{{.State.Status}}' crash-benchwarm-0.0.1-standby 2>/dev/null)" = initialized ] &&
            return 0
        sleep 0.2
    done
    return 1
}
# bare_fresh: the wall ms of a bare podman run -d of a name that does not exist (benchfresh, no
# --replace), issued the moment the bare container benchbare of the pod exited (its output pipe
# closed), while podman's clean-up of it runs; benchfresh is removed afterwards, off the clock.
bare_fresh() {
    podman run -d --replace --pull=never --pod benchwarm-0.0.1 --name benchbare --restart=no \
        --log-driver passthrough localhost/podtest:1 sh -c 'sleep 1; exit 1' 2>/dev/null | cat >/dev/null
    local t0 r
    t0=$(ms)
    podman run -d --pull=never --pod benchwarm-0.0.1 --name benchfresh --restart=no \
        --log-driver passthrough --stop-timeout 1 localhost/podtest:1 sh -c 'exit 1' >/dev/null 2>&1
    r=$(($(ms) - t0))
    podman rm -f -t 0 benchfresh >/dev/null 2>&1
    echo "$r"
}
podman rm -f -t 0 benchfresh >/dev/null 2>&1
"$P/pod" run 2>/dev/null
fresh=()
cold=0 # exits with no standby ready before them
wait_for 'crash: started' "$WLOG" 1
standby_ready || cold=$((cold + 1))
s=1
for k in $(seq 1 "$RESTARTS"); do
    wait_for 'restart in 0 ms' "$WLOG" "$k" && wait_for 'crash: started' "$WLOG" $((s + 1)) &&
        "$P/pod" rerun crash >/dev/null 2>&1 && wait_for 'crash: started' "$WLOG" $((s + 2)) ||
        { say "warm restart $k: timed out; the daemon's log ends:"; tail -n 4 "$WLOG" | sed 's/^/    /'; break; }
    s=$((s + 2))
    standby_ready || cold=$((cold + 1))
    fresh+=("$(bare_fresh)")
done
# As above (the first RESTARTS: a slow wait may let one more first failure in before the rm); a
# second column: 1 when the daemon said "from its warm standby" in between.
ws=$(awk 'FNR == NR {if ($3 == "bye") bye[++nb] = $1; next}
     /crash: exited with code 1; restart in 0 ms/ {te = 0; w = 0; for (i = 1; i <= nb; i++) if (bye[i] <= $1) te = bye[i]; next}
     /from its warm standby/ && te {w = 1}
     /crash: started/ && te {printf "%.0f %d\n", ($1 - te) * 1000, w; te = 0}' "$WOUT" "$WLOG" |
    head -n "$RESTARTS")
read -r w50 w99 wmax wmin wn <<<"$(echo "$ws" | cut -d' ' -f1 | pct)"
wwarm=$(echo "$ws" | awk '$2 == 1' | wc -l)
read -r f50 f99 fmax fmin fn <<<"$(printf '%s\n' "${fresh[@]}" | pct)"
say "exit -> running from the standby (ms): $(echo "$ws" | awk '{printf "%s%s ", $1, ($2 == 1 ? "" : "(cold)")}')"
say "of those, from the standby: $wwarm of $wn (standby not ready before $cold exit(s))"
say "of which the daemon's start (start instance -> started, ms): $(awk '/restart in 0 ms/ {r = 1}
    /crash: start instance/ && r {t = $1; r = 0} /crash: started/ && t {printf "%.0f ", ($1 - t) * 1000; t = 0}' "$WLOG")"
"$P/pod" rm -k >/dev/null 2>&1
podman rm -f -t 0 benchbare benchfresh >/dev/null 2>&1

say "bare podman run -d --replace, settled (ms): ${bare[*]}; at the exit (ms): ${bare_exit[*]}; fresh name (no --replace) at the exit (ms): ${fresh[*]} (medians $b50 / $x50 / $f50)"
result "container exit -> running (first failure), median of $rn" "$r50 ms ($rmin-$rmax)" \
    "bare podman run -d: $b50 ms; at the exit: $x50 ms" "$(ratio "$r50" "$b50"); $(ratio "$r50" "$x50")" "<= 1.2x" \
    "$(verdict "$r50" '<=' "$(awk -v b="$b50" 'BEGIN {print 1.2 * b}')")" "4.7 s"
result "container exit -> running, first failure, warm standby, median of $wn ($wwarm warm)" "$w50 ms ($wmin-$wmax)" \
    "bare podman run -d: $b50 ms; fresh name at the exit: $f50 ms" "$(ratio "$w50" "$b50"); $(ratio "$w50" "$f50")" "<= 1.2x" \
    "$(verdict "$w50" '<=' "$(awk -v b="$b50" 'BEGIN {print 1.2 * b}')")" "4.7 s"
result "config edit -> signal, p50 / p99 / max of $en" "$e50 / $e99 / $emax ms" "250 ms debounce" \
    "-" "p99 <= 500 ms" "$(verdict "$e99" '<=' 500)" "5.5 s (same size: never)"

# ------------------------------------------------------------------ stop and rm
bare_stop() { # TIMEOUT CMD: ms of 2 bare containers stopped in parallel by podman stop -t TIMEOUT
    local t0 c
    for c in benchbare-a benchbare-b; do
        podman run -d --replace --pull=never --name "$c" --log-driver passthrough --stop-timeout "$1" \
            localhost/podtest:1 sh -c "$2" >/dev/null 2>&1
    done
    sleep 1
    t0=$(ms)
    podman stop -t "$1" benchbare-a >/dev/null 2>&1 &
    podman stop -t "$1" benchbare-b >/dev/null 2>&1 &
    wait
    echo $(($(ms) - t0))
    podman rm -f -t 0 benchbare-a benchbare-b >/dev/null 2>&1
}
TERM_EXIT='trap "exit 0" TERM; while true; do sleep 0.05; done'
TERM_IGNORE='trap "" TERM; while true; do sleep 0.05; done'
mk benchstop <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: a
      image: localhost/podtest:1
      command: [sh, -c, '$TERM_EXIT']
    - name: b
      image: localhost/podtest:1
      command: [sh, -c, '$TERM_EXIT']
YAML
mk benchkill <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: a
      image: localhost/podtest:1
      command: [sh, -c, '$TERM_IGNORE']
      stopTimeout: 2
    - name: b
      image: localhost/podtest:1
      command: [sh, -c, '$TERM_IGNORE']
      stopTimeout: 2
YAML
echo "stop and rm: 3 rounds (containers exit on TERM), 2 rounds (they ignore TERM, stopTimeout 2 s) ..."
P=$W/benchstop
stops=() rms=() rmruns=() floor=() floor2=() kills=()
for round in 1 2 3; do
    floor+=($(bare_stop 10 "$TERM_EXIT"))
    "$P/pod" run 2>/dev/null
    sleep 2
    t0=$(ms)
    "$P/pod" stop 2>/dev/null
    stops+=($(($(ms) - t0)))
    t0=$(ms)
    "$P/pod" rm 2>/dev/null
    rms+=($(($(ms) - t0)))
    "$P/pod" run 2>/dev/null
    sleep 2
    t0=$(ms)
    "$P/pod" rm 2>/dev/null
    rmruns+=($(($(ms) - t0)))
done
P=$W/benchkill
for round in 1 2; do
    floor2+=($(bare_stop 2 "$TERM_IGNORE"))
    "$P/pod" run 2>/dev/null
    sleep 2
    t0=$(ms)
    "$P/pod" stop 2>/dev/null
    kills+=($(($(ms) - t0)))
    "$P/pod" rm -k 2>/dev/null
done
f=$(printf '%s\n' "${floor[@]}" | median)
f2=$(printf '%s\n' "${floor2[@]}" | median)
say "bare podman stop -t 10 of 2 in parallel (ms): ${floor[*]}; pod stop: ${stops[*]}; rm after it: ${rms[*]}; rm running: ${rmruns[*]}"
say "bare podman stop -t 2 of 2 ignoring TERM (ms): ${floor2[*]}; pod stop: ${kills[*]}"
s=$(printf '%s\n' "${stops[@]}" | median)
r=$(printf '%s\n' "${rmruns[@]}" | median)
k=$(printf '%s\n' "${kills[@]}" | median)
ra=$(printf '%s\n' "${rms[@]}" | median)
result "pod stop, 2 containers exiting on TERM (median of 3)" "$s ms" "bare podman stop: $f ms" \
    "$(ratio "$s" "$f")" "<= floor + 500 ms" "$(verdict "$s" '<=' $((f + 500)))" "-"
result "pod rm after the stop (median of 3)" "$ra ms" "nothing left to stop: 0 ms" "-" \
    "<= 500 ms" "$(verdict "$ra" '<=' 500)" "-"
result "pod rm of the running pod (median of 3)" "$r ms" "bare podman stop: $f ms" \
    "$(ratio "$r" "$f")" "<= floor + 500 ms" "$(verdict "$r" '<=' $((f + 500)))" "22.6 s"
result "pod stop, 2 containers ignoring TERM, stopTimeout 2 s" "$k ms" "bare podman stop -t 2: $f2 ms" \
    "$(ratio "$k" "$f2")" "<= floor + 500 ms" "$(verdict "$k" '<=' $((f2 + 500)))" "-"
