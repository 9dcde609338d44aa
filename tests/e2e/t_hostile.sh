# SPDX-License-Identifier: MIT
# tests/e2e/t_hostile.sh - hostile containers on real podman (SPEC 9.10): 1 MiB lines, binary
# output (NUL bytes, invalid UTF-8, random bytes), output without a final newline, a flood on
# both streams at once, a container that closes its stdout and goes on, one that forks daemons
# (setsid, outliving its main process), one that ignores SIGTERM.  Asserted: the daemon's memory
# stays bounded (VmRSS/VmHWM sampled during the flood, printed as FIGURE lines), every byte
# written is in the log files (records as SPEC 9.2 says: `+` parts of at most 16 KiB, a `+`
# record at a stream's end without newline), `pod logs` of binary output works, and `pod stop`
# ends every process of every container (daemons included) within the stop schedule.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# The bound asserted on the daemon's VmHWM (kB) during the flood: generous (idle it is ~2 MB,
# SPEC 9.9 bounds the log path to 512 KiB of buffers per pod).
HO_RSS_MAX_KB=${HO_RSS_MAX_KB:-32768}

ho_log() { printf '%s/log/%s-%s-0.0.1-%s.log' "$PODDIR" "$1" "$PODNAME" "$2"; }

# ho_stream CTR STREAM: the stream's messages re-joined, byte-exact, as `pod logs` shows them.
ho_stream() {
    (cd / && "$POD" logs "$1" -d none -s "$2")
}

# ho_records CTR STREAM: every record of the stream's files, oldest first (9.3).
ho_records() {
    local b
    b=$(ho_log "$1" "$2")
    cat $(ls "$b".* 2>/dev/null | sort) "$b" 2>/dev/null
}

# ho_sample_rss PID OUT: samples VmRSS (kB) of PID into OUT every 0.1 s until PID is gone or
# $OUT.stop exists.
ho_sample_rss() {
    local pid=$1 out=$2
    while [ ! -e "$out.stop" ] && [ -r "/proc/$pid/status" ]; do
        awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status" >>"$out" 2>/dev/null || break
        sleep 0.1
    done
}

# ho_figure TEXT: a `FIGURE ` line in the test's output, and appended to $E2E_FIGURES when set
# (run.sh shows a passing test's output nowhere).
ho_figure() {
    echo "FIGURE $*"
    [ -z "${E2E_FIGURES:-}" ] || { echo "FIGURE $*" >>"$E2E_FIGURES"; } 2>/dev/null || true
}

hwm_kb() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status"; }

ctr_exited() { state_is "$1" exited; }

# Output that would break a line-oriented logger: 1 MiB lines, binary bytes, a last line
# without newline, a flood on stdout and stderr at once, a stdout closed by the container.
t_output() {
    mkdir -p "$T/e2ehoout/data"
    mkpod e2ehoout <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: data
      type: host
      bind: ./data
containers:
    - name: longline
      image: localhost/podtest:1
      command: [sh, -c, 'for c in a b c; do head -c 1048576 /dev/zero | tr "\0" "$c"; echo; done; echo short; exit 0']
      stopTimeout: 1
    - name: binary
      image: localhost/podtest:1
      command: [sh, -c, 'head -c 300000 /dev/urandom >/d/bin; printf "nul\000in\000line\nbad utf8 \377\376\300\257 end\ncr\rlf\n" >>/d/bin; cat /d/bin; cat /d/bin >&2; printf "no newline at the end"; exit 0']
      stopTimeout: 1
      mounts:
        - volume: data
          dest: /d
    - name: flood
      image: localhost/podtest:1
      command: [sh, -c, 'seq 1 1500000 & seq 1 1500000 >&2 & wait; printf tail-without-newline; exit 0']
      stopTimeout: 1
    - name: closer
      image: localhost/podtest:1
      command: [sh, -c, 'echo before-close; printf partial-before-close; exec >&-; trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "err $i" >&2; echo "to closed" 2>/dev/null; sleep 0.2; done']
      stopTimeout: 2
YAML
    pok run
    local dp
    wait_for 30 "daemon" sh -c '[ -n "$(awk '\''$1 == "daemon" {print $2}'\'' "$0")" ]' "$PODDIR/.pod.pid"
    dp=$(daemon_pid)
    ho_sample_rss "$dp" "$T/rss" &
    local sampler=$!
    wait_for 60 "longline exited" ctr_exited longline
    wait_for 60 "binary exited" ctr_exited binary
    wait_for 60 "flood exited" ctr_exited flood
    touch "$T/rss.stop"
    wait "$sampler" || true
    local peak hwm n
    peak=$(sort -n "$T/rss" | tail -1)
    n=$(wc -l <"$T/rss")
    hwm=$(hwm_kb "$dp")
    ho_figure "hostile daemon_rss_peak_kb=$peak daemon_vmhwm_kb=$hwm samples=$n"
    [ "$hwm" -le "$HO_RSS_MAX_KB" ] || fail "daemon VmHWM $hwm kB > $HO_RSS_MAX_KB kB"
    kill -0 "$dp" || fail "the daemon died"
    eq "same daemon" "$dp" "$(daemon_pid)"

    # -- 1 MiB lines: cut into + records of at most 16 KiB, re-joined byte-exact
    local want got
    wait_for 20 "longline's last line" sh -c "grep -q ' short\$' '$(ho_log longline stdout)'"
    want=$(for c in a b c; do head -c 1048576 /dev/zero | tr '\0' "$c"; echo; done; echo short)
    got=$(ho_stream longline stdout)
    [ "$got" = "$want" ] || fail "longline: the re-joined stream differs (${#got} bytes, want ${#want})"
    ho_records longline stdout >"$T/ll.rec"
    # 3 lines of 1 MiB: 64 records each, 63 of them `+`; plus `short`; no message > 16 KiB
    eq "longline records" 193 "$(wc -l <"$T/ll.rec")"
    eq "longline + records" 189 "$(awk '$2 ~ /\+$/' "$T/ll.rec" | wc -l)"
    local longest
    longest=$(awk '{ sub(/^[^ ]* [^ ]* /, ""); if (length($0) > m) m = length($0) } END {print m}' "$T/ll.rec")
    [ "$longest" -le 16384 ] || fail "a record of $longest bytes (max_line 16 KiB)"

    # -- binary: every byte on both streams, NUL/invalid UTF-8/CR kept; the last line is a
    #    `+` record at the stream's end
    wait_for 20 "binary's files" sh -c "grep -aq 'no newline at the end\$' '$(ho_log binary stdout)'"
    ho_stream binary stdout >"$T/bin.out" || fail "pod logs of the binary container exited $?"
    # (`pod logs` ends every line it shows with a newline, the stream's unfinished one too)
    { cat "$T/e2ehoout/data/bin"; printf 'no newline at the end\n'; } >"$T/bin.want"
    cmp "$T/bin.want" "$T/bin.out" || fail "binary stdout: the logs differ from what was written"
    ho_stream binary stderr >"$T/bin.err" || fail "pod logs of binary stderr exited $?"
    cmp "$T/e2ehoout/data/bin" "$T/bin.err" || fail "binary stderr: the logs differ from what was written"
    tail -n 1 "$(ho_log binary stdout)" | grep -aEq '^[0-9]+\.[0-9]{9} [0-9]+\+ no newline at the end$' ||
        fail "the last line without newline is not a + record: $(tail -n 1 "$(ho_log binary stdout)" | cat -v)"
    # the merged view of everything (both streams, the daemon) survives the binary bytes too
    (cd / && "$POD" logs >/dev/null) || fail "pod logs (all) exited $?"
    (cd / && "$POD" logs binary -t 0 >/dev/null) || fail "pod logs binary -t 0 exited $?"

    # -- the flood: both streams complete, in order, no gap in seq
    local s
    for s in stdout stderr; do
        wait_for 30 "flood $s complete" sh -c "grep -q ' 1500000\$' '$(ho_log flood "$s")'"
        ho_stream flood "$s" | head -n 1500000 | cmp - <(seq 1 1500000) ||
            fail "flood $s: lines lost or reordered"
        ho_records flood "$s" | awk '{ s = $2; sub(/[+!]$/, "", s); if (NR > 1 && s != prev + 1) { print "gap after " prev; exit 1 } prev = s }' ||
            fail "flood $s: a gap in seq"
        ! grep -aq ' [0-9]*! ' "$(ho_log flood "$s")" || fail "flood $s: a drop notice"
    done
    tail -n 1 "$(ho_log flood stdout)" | grep -aq '+ tail-without-newline$' ||
        fail "flood: the partial last line is missing"

    # -- stdout closed: the container runs on, its stderr keeps coming, stdout has its line
    eq "closer" running "$(ctr_state closer)"
    has_line "$(ho_log closer stdout)" ' before-close$'
    # its stdout ended while it runs: the partial line is written as a + record at once
    wait_for 10 "closer's stdout ended" sh -c "tail -n 1 '$(ho_log closer stdout)' | grep -q '+ partial-before-close\$'"
    local e0
    e0=$(grep -c ' err [0-9]*$' "$(ho_log closer stderr)")
    wait_for 20 "closer's stderr goes on" sh -c "[ \$(grep -c ' err [0-9]*\$' '$(ho_log closer stderr)') -gt $((e0 + 3)) ]"
    eq "closer restarts" 0 "$(cfield closer restartCount)"
    eq "same daemon" "$dp" "$(daemon_pid)"

    pok stop
    no_supervisor_of "$PODDIR"
    eq "closer after stop" exited "$(ctr_state closer)"
    eq "running" 0 "$(running_count)"
}

# ho_hpids CTR: the host pids of every process of the container (podman top).
ho_hpids() { podman top "$(ctr "$1")" hpid 2>/dev/null | tail -n +2 | tr -d ' '; }

# Containers that fork daemons and one that ignores SIGTERM: `pod stop` ends every process of
# every container (the pid namespace ends with its PID 1), the deaf one by SIGKILL at its
# stopTimeout.
t_stop_ends_everything() {
    mkpod e2ehostop <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: forker
      image: localhost/podtest:1
      command: [sh, -c, 'for i in 1 2 3; do setsid sh -c "trap \"\" TERM HUP; while true; do echo daemon $i; sleep 0.3; done" & done; (setsid sleep 100000 </dev/null >/dev/null 2>&1 &); trap "exit 0" TERM; while true; do sleep 0.2; done']
      stopTimeout: 2
    - name: orphaner
      image: localhost/podtest:1
      command: [sh, -c, 'setsid sh -c "trap \"\" TERM HUP; while true; do echo orphan; sleep 0.3; done" & sleep 1; exit 3']
      restart: never
      stopTimeout: 2
    - name: deaf
      image: localhost/podtest:1
      command: [sh, -c, 'trap "" TERM; while true; do sleep 0.2; done']
      stopTimeout: 3
YAML
    pok run
    wait_for 30 "forker running" state_is forker running
    wait_for 30 "deaf running" state_is deaf running
    # forker: PID 1 plus 3 daemons, their sleeps and the detached sleep
    wait_for 20 "forker's daemons" sh -c "[ \$(podman top '$(ctr forker)' args 2>/dev/null | grep -c 'trap') -ge 3 ]"
    local pids
    pids="$(ho_hpids forker) $(ho_hpids deaf)"
    log "host pids of forker and deaf: $(echo $pids)"
    # orphaner: its main process exits 3 with a daemon still writing into its stdout: PID 1's
    # exit ends the pid namespace, the container is exited, the stream reaches its end
    wait_for 30 "orphaner exited" ctr_exited orphaner
    eq "orphaner exit code" 3 "$(ctr_exit_code orphaner)"
    wait_for 10 "orphaner phase" cfield_is orphaner phase exited
    has_line "$(ho_log orphaner stdout)" ' orphan$'
    local o1 o2
    o1=$(wc -l <"$(ho_log orphaner stdout)")
    sleep 1
    o2=$(wc -l <"$(ho_log orphaner stdout)")
    eq "orphaner's daemon writes after its exit" "$o1" "$o2"
    wait_for 10 "forker's daemons log" has_line "$(ho_log forker stdout)" ' daemon 3$'

    local t0 took
    t0=$(ms)
    pok stop
    took=$(ms_since "$t0")
    [ "$took" -ge 3000 ] || fail "stop returned after $took ms, before deaf's stopTimeout"
    ho_figure "hostile stop_ms=$took (deaf stopTimeout 3 s)"
    no_supervisor_of "$PODDIR"
    eq "running" 0 "$(running_count)"
    eq "forker" exited "$(ctr_state forker)"
    eq "forker exit code" 0 "$(ctr_exit_code forker)"
    eq "deaf" exited "$(ctr_state deaf)"
    eq "deaf exit code (SIGKILL at its stopTimeout)" 137 "$(ctr_exit_code deaf)"
    local pid alive=""
    for pid in $pids; do
        [ ! -d "/proc/$pid" ] || alive="$alive $pid($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
    done
    [ -z "$alive" ] || fail "processes of the containers alive after stop:$alive"
    # the stop schedule: stopTimeout + 2 s then SIGKILL (8.8) + the stop's own margin
    [ "$took" -le 60000 ] || fail "stop took $took ms"
    pok rm
}
