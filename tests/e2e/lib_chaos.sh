# SPDX-License-Identifier: MIT
# tests/e2e/lib_chaos.sh - the daemon SIGKILLed at random points on real podman (SPEC 10.3, 9.9,
# 8.9), shared by tests/e2e/t_chaos.sh (a few kills, make e2e) and tests/stress/part_chaos.sh
# (>= 50 kills, make stress).  On top of lib.sh and lib_life.sh.
#
# The pod (chaos_pod): `ticker` prints numbered lines at a steady rate (`n 1`, `n 2`, ...;
# readiness: an exec probe through the agent), `crash` crash-loops (backoff), `web` serves http
# with tcp liveness and http readiness probes from the host, `hup` gets SIGHUP for every edit of
# the config volume `cfg` (exec liveness probe).  Logs rotate at 16 KiB, so kills also hit
# rotations.
#
# chaos_round MODE: edits the config (sometimes), waits a random time, kills, waits for the
# recovery, checks (chaos_check).  Modes: d = the daemon alone (the holder respawns it), dd =
# the daemon, then its successor at once (a kill during the adoption), hd = holder and daemon
# together (`pod run` re-adopts), h = the holder alone (the daemon starts a new one; not a
# daemon kill).  Random numbers come from bash's RANDOM, seeded with CHAOS_SEED (printed), so a
# run can be replayed: CHAOS_SEED=N.
#
# Invariants after every recovery (chaos_check): each spec container at most once in podman
# (none twice, no stray names), one holder and one daemon process, the ticker's container
# untouched (same id and instance; after an hd kill the rerun's), and per container instance,
# startCount, restartCount and failures never going back; at most one agent per container with
# an exec probe or a signal (podman exec is slow: at the end, after every recovery with
# CHAOS_AGENTS=1).  At the end (chaos_finish): per run of the ticker, the lines missing from
# its log files (rotated ones included) and the lines found twice, `pod logs` showing the same
# lines, printed as `FIGURE chaos kills=N lost_lines=L dup_lines=D holder_kill_lost_lines=H`;
# every record of every file well formed; after `pod rm`, no podman object of the pod.

CHAOS_PORT=${CHAOS_PORT:-18947}

chaos_pod() {
    CHAOS_TICK=${CHAOS_TICK:-0.02}
    CONFIGS="cfg:a.txt=0" mkpod "$1" <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
    - name: out
      type: host
      bind: ./out
logs:
    maxSize: 16K
    maxFiles: 1000
containers:
    - name: ticker
      image: localhost/podtest:1
      command: [sh, -c, 'r=\$(cut -c1-8 /proc/sys/kernel/random/uuid); i=0; while true; do i=\$((i+1)); echo "n \$r \$i"; echo \$i >/out/n.\$r; sleep $CHAOS_TICK; done']
      stopTimeout: 1
      mounts:
        - volume: out
          dest: /out
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'echo start; sleep 1; exit 3']
      restart: always
      stopTimeout: 1
    - name: web
      image: localhost/podtest:1
      command: [httpd, -f, -p, "80", -h, /www]
      stopTimeout: 1
      expose:
        - targetPort: 80
          hostPort: $CHAOS_PORT
      readinessProbe:
        httpGet:
          port: 80
          path: /
        periodSeconds: 1
      livenessProbe:
        tcpSocket:
          port: 80
        periodSeconds: 1
    - name: hup
      image: localhost/podtest:1
      command: [sh, -c, 'trap "echo HUP; echo x >>/out/hup" HUP; echo up; while true; do sleep 0.05; done']
      stopTimeout: 1
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /cfg
        - volume: out
          dest: /out
      livenessProbe:
        cmd: [sh, -c, 'test -e /cfg/a.txt']
        periodSeconds: 1
YAML
    mkdir -p "$PODDIR/out"
    CHAOS_CTRS="ticker crash web hup"
    CHAOS_VER=0.0.1
}

# chaos_rand N: a number in 0..N-1 from the seeded RANDOM.
chaos_rand() { echo $((RANDOM % $1)); }

chaos_sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

chaos_start() {
    CHAOS_SEED=${CHAOS_SEED:-$(($(date +%s%N) % 1000000 + 1))}
    RANDOM=$CHAOS_SEED
    log "chaos seed $CHAOS_SEED (replay: CHAOS_SEED=$CHAOS_SEED)"
    export POD_SEED=$CHAOS_SEED # the supervisor's jitter too
    CHAOS_KILLS=0
    CHAOS_EDITS=0
    CHAOS_MODES=""
    pok run
    wait_for 60 "pod ready" ready_is 1
    wait_for 30 "crash restarted" cfield_ge crash restartCount 1
    CHAOS_TICKER_ID=$(ctr_id ticker)
    CHAOS_TICKER_INST=1
    CHAOS_TICKER_RESTARTS=0
    CHAOS_HD_RUNS=""
    local c
    for c in $CHAOS_CTRS; do
        eval "CHAOS_PREV_$c='0 0 0 0'"
    done
    chaos_check
}

# supervisors: `__holder|__daemon` processes of this pod directory, as "holder N daemon M".
chaos_supervisors() {
    local pid args h=0 dm=0
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        args=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
        case $args in
        *" __holder --dir $PODDIR "*) h=$((h + 1)) ;;
        *" __daemon --dir $PODDIR "*) dm=$((dm + 1)) ;;
        esac
    done
    echo "holder $h daemon $dm"
}

# the live view answers, from a daemon other than $1, and no container is adopting
chaos_recovered() {
    local j
    sleep 0.2 # (wait_for polls every 0.1 s: this is heavier than most)
    j=$(cd "$E2E_NOCWD" 2>/dev/null; sh -c "$POD ps --json" 2>/dev/null) || return 1
    [ "$(printf '%s' "$j" | jq -r --arg old "$1" '.daemon.alive == true and (.daemon.pid | tostring) != $old
        and ([.containers[] | select(.phase == "adopting")] | length) == 0')" = true ] || return 1
    [ "$(chaos_supervisors)" = "holder 1 daemon 1" ]
}

chaos_edit() {
    CHAOS_EDITS=$((CHAOS_EDITS + 1))
    printf '%s\n' "$CHAOS_EDITS" >"$PODDIR/config/cfg/a.txt.tmp"
    mv "$PODDIR/config/cfg/a.txt.tmp" "$PODDIR/config/cfg/a.txt"
}

# chaos_round MODE
chaos_round() {
    local mode=$1 dp hp t0
    [ "$(chaos_rand 2)" = 0 ] && chaos_edit
    chaos_sleep_ms "$(chaos_rand 2500)"
    [ "$(chaos_rand 3)" = 0 ] && chaos_edit # an edit just before the kill
    dp=$(daemon_pid)
    hp=$(holder_pid)
    [ -n "$dp" ] && [ -n "$hp" ] || fail "no daemon/holder in .pod.pid before kill $((CHAOS_KILLS + 1))"
    t0=$(ms)
    case $mode in
    d)
        kill -9 "$dp"
        ;;
    dd)
        kill -9 "$dp"
        wait_for 60 "a new daemon" daemon_is_not "$dp"
        chaos_sleep_ms "$(chaos_rand 400)"
        dp=$(daemon_pid)
        kill -9 "$dp"
        CHAOS_KILLS=$((CHAOS_KILLS + 1))
        ;;
    hd)
        # the ticker's run now: its output dies with the holder (SPEC 7.2 run, 10.3)
        CHAOS_HD_RUNS="$CHAOS_HD_RUNS $(chaos_ticker_run)"
        kill_supervisor
        wait_for 10 "supervisor gone" no_supervisor_of "$PODDIR"
        pok run
        match "run after the supervisor's death" 'adopts them' "$ERR"
        ;;
    h)
        kill -9 "$hp"
        ;;
    esac
    [ "$mode" = h ] || CHAOS_KILLS=$((CHAOS_KILLS + 1))
    CHAOS_MODES="$CHAOS_MODES$mode "
    if [ "$mode" = h ]; then
        wait_for 30 "a new holder" sh -c "h=\$(awk '\$1 == \"holder\" {print \$2}' '$PODDIR/.pod.pid'); [ -n \"\$h\" ] && [ \"\$h\" != $hp ]"
        wait_for 30 "one holder, one daemon" chaos_recovered 0
    else
        # the holder's respawn backoff grows to 30 s over kills in a row (SPEC 10.3)
        wait_for 90 "recovery after kill $CHAOS_KILLS ($mode)" chaos_recovered "$dp"
    fi
    log "kill $CHAOS_KILLS ($mode): recovered in $(ms_since "$t0") ms"
    chaos_check
    if [ "$mode" = hd ]; then
        # a new start reconnects the ticker's output (its old run's output is lost until then)
        pok rerun ticker
        CHAOS_TICKER_INST=$((CHAOS_TICKER_INST + 1))
        wait_for 60 "ticker instance $CHAOS_TICKER_INST running" chaos_ticker_up
        CHAOS_TICKER_ID=$(ctr_id ticker)
        CHAOS_TICKER_RESTARTS=$(cfield ticker restartCount)
    fi
}

# chaos_ticker_run: the run id of the ticker's newest counter file (out/n.<run>)
chaos_ticker_run() {
    local f
    f=$(ls -t "$PODDIR/out/" | grep '^n\.' | head -1)
    echo "${f#n.}"
}

chaos_ticker_up() {
    cfield_is ticker instance "$CHAOS_TICKER_INST" && cfield_is ticker phase running &&
        [ "$(ctr_state ticker)" = running ]
}

# chaos_check: the invariants after a recovery (see the header).
chaos_check() {
    local names dup stray c
    names=$(podman ps -a --filter "label=podc.pod=$PODNAME-$CHAOS_VER" --filter label=podc.container \
        --format '{{index .Labels "podc.container"}} {{.Names}}')
    dup=$(printf '%s\n' "$names" | awk 'NF {print $1}' | sort | uniq -d)
    [ -z "$dup" ] || fail "containers twice in podman: $dup ($(printf '%s' "$names" | tr '\n' ';'))"
    stray=$(printf '%s\n' "$names" | awk -v p="-$PODNAME-$CHAOS_VER" 'NF && $2 != $1 p')
    [ -z "$stray" ] || fail "stray containers in podman: $stray"
    eq "supervisor processes" "holder 1 daemon 1" "$(chaos_supervisors)"
    eq "ticker: same container" "$CHAOS_TICKER_ID" "$(ctr_id ticker)"
    p ps --json
    [ "$RC" = 0 ] || fail "ps --json exited $RC: $ERR"
    local now prev name
    # one line per container: name instance startCount restartCount failures
    while read -r name now; do
        case " $CHAOS_CTRS " in *" $name "*) ;; *) continue ;; esac
        if [ "$name" = ticker ]; then
            eq "ticker: instance" "$CHAOS_TICKER_INST" "${now%% *}"
            eq "ticker: restarts" "$CHAOS_TICKER_RESTARTS" "$(echo "$now" | cut -d' ' -f3)"
        fi
        eval "prev=\$CHAOS_PREV_$name"
        chaos_not_back "$name" "$prev" "$now"
        eval "CHAOS_PREV_$name='$now'"
    done <<<"$(printf '%s' "$OUT" | jq -r '.containers[] | "\(.name) \(.instance) \(.startCount) \(.restartCount) \(.failures)"')"
    [ "${1:-}" = agents ] || [ "${CHAOS_AGENTS:-0}" = 1 ] || return 0
    # one agent per container with an exec probe or a signal (a new daemon adopts the agent
    # or replaces it; it never starts a second one): podman exec is slow, so at the end only
    # unless CHAOS_AGENTS=1
    for c in ticker hup; do
        [ "$(ctr_state "$c")" = running ] || continue
        local n
        n=$(count_in "$c" '^/\.podc/agent __agent')
        [ "$n" -le 1 ] || fail "$c: $n agents"
    done
}

# chaos_not_back CTR "i s r f" "i s r f": instance, startCount, restartCount, failures never
# go back.  (failures: crash never runs long enough for a backoff reset, SPEC 8.5.)
chaos_not_back() {
    local c=$1 k=0 a b
    set -- $2 $3
    local names="instance startCount restartCount failures"
    for k in 1 2 3 4; do
        eval "a=\${$k}; b=\${$((k + 4))}"
        [ "$b" -ge "$a" ] 2>/dev/null ||
            fail "$c: $(echo $names | cut -d' ' -f$k) went back from $a to $b after kill $CHAOS_KILLS"
    done
}

# chaos_ticks FILE...: the messages of the `n ...` records (the ticker's "n RUN K": "RUN K"), in
# file order.
chaos_ticks() { cat "$@" 2>/dev/null | sed -n 's/^[0-9]*\.[0-9]* [0-9]* n \(.*\)$/\1/p'; }

# chaos_wellformed FILE...: every line of every file is a record (SPEC 9.2) whose seq is the
# previous one + 1, or a gap explained by a `!` dropped notice right at it.  Prints the number
# of bad lines (0 = all good) after the details on stderr.
chaos_wellformed() {
    awk '
        FNR == 1 { fname = FILENAME }
        !/^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9] [0-9]+[+!]?( |$)/ {
            print "malformed " fname ":" FNR ": " substr($0, 1, 80) > "/dev/stderr"; bad++; next
        }
        {
            s = $2; mark = ""
            if (s ~ /[+!]$/) { mark = substr(s, length(s)); s = substr(s, 1, length(s) - 1) }
            if (last != "" && s + 0 != last + 1 && !(mark == "!" && s + 0 > last + 0)) {
                print "seq gap " fname ":" FNR ": " last " -> " s > "/dev/stderr"; bad++
            }
            last = s
        }
        END { print bad + 0 }' "$@"
}

# chaos_account RUNS TICKS: RUNS has "RUN LAST HD" per run of the ticker, TICKS "RUN K" per
# line found.  Prints "LOST HD_LOST DUP PLACES GAPS": lines missing inside a run or at its end
# (not counting a holder-killed run's end), lines missing at the end of holder-killed runs,
# lines found twice, the number of contiguous missing ranges and those ranges (RUN:a-b,...).
chaos_account() {
    sort -k1,1 -k2,2n "$2" | awk -v runs="$1" '
        BEGIN { while ((getline l < runs) > 0) { split(l, f, " "); last[f[1]] = f[2]; hd[f[1]] = f[3] } }
        $1 == pr && $2 == pk { dup++; next }
        {
            if ($1 != pr) { if (pr != "") tail(pr, pk); p = 0 }
            if ($2 != p + 1) { lost += $2 - p - 1; places++; gaps = gaps $1 ":" (p + 1) "-" ($2 - 1) "," }
            p = $2; pr = $1; pk = $2; found[$1] = 1
        }
        function tail(r, k,   t) {
            t = last[r] - k
            if (t <= 0) return
            if (hd[r]) { hd_lost += t; return }
            lost += t; places++; gaps = gaps r ":" (k + 1) "-" last[r] ","
        }
        END {
            if (pr != "") tail(pr, pk)
            for (r in last) if (!(r in found)) tail(r, 0)
            sub(/,$/, "", gaps)
            print lost + 0, hd_lost + 0, dup + 0, places + 0, gaps
        }'
}

# chaos_all_wellformed: chaos_wellformed over every stream of log/ (all bad lines counted).
chaos_all_wellformed() {
    local f b bad=0 seen=""
    for f in $(ls "$PODDIR/log/"); do
        case $f in *.log | *.log.[0-9]*) ;; *) continue ;; esac
        b=${f%.log*}
        case " $seen " in *" $b "*) continue ;; esac
        seen="$seen $b"
        bad=$((bad + $(chaos_wellformed $(chaos_stream_files "$b"))))
    done
    echo "$bad"
}

# chaos_stream_files BASE: the files of one stream, oldest first (SPEC 9.3).
chaos_stream_files() {
    local f
    ls "$PODDIR/log/" | grep -E "^$1\\.log\\.[0-9]+\$" | sort -t. -k3,3n | while read -r f; do
        echo "$PODDIR/log/$f"
    done
    [ ! -f "$PODDIR/log/$1.log" ] || echo "$PODDIR/log/$1.log"
}

# chaos_finish: stop, count the ticker's lines, rm, nothing left.  Prints the FIGURE line
# (also appended to $CHAOS_FIGURES when set).
chaos_finish() {
    chaos_check agents
    pok stop
    no_supervisor_of "$PODDIR"
    local base=ticker-$PODNAME-$CHAOS_VER-stdout files total acc f
    files=$(chaos_stream_files "$base")
    [ -n "$files" ] || fail "no log files of the ticker"
    total=$(chaos_ticks $files | grep -c .)
    # per run of the ticker: its last number (out/n.RUN, written after each line) and whether
    # its holder was killed (hd: lost from there on, documented); the lines in the files
    for f in "$PODDIR"/out/n.*; do
        case " $CHAOS_HD_RUNS " in *" ${f##*/n.} "*) echo "${f##*/n.} $(cat "$f") 1" ;;
        *) echo "${f##*/n.} $(cat "$f") 0" ;; esac
    done >"$T/chaos-runs"
    chaos_ticks $files >"$T/chaos-ticks"
    acc=$(chaos_account "$T/chaos-runs" "$T/chaos-ticks")
    local lost hd_lost dup runs gaps
    read -r lost hd_lost dup runs gaps <<<"$acc"
    log "ticker: $total lines in $(wc -l <"$T/chaos-runs") runs; lost $lost in $runs places (${gaps:-none}), after a holder kill $hd_lost, duplicated $dup"
    log "kills: $CHAOS_KILLS (modes: $CHAOS_MODES), config edits: $CHAOS_EDITS, HUPs seen: $(wc -l <"$PODDIR/out/hup" 2>/dev/null || echo 0)"
    local fig="FIGURE chaos kills=$CHAOS_KILLS lost_lines=$lost dup_lines=$dup holder_kill_lost_lines=$hd_lost seed=$CHAOS_SEED lines=$total rotated_files=$(($(printf '%s\n' "$files" | wc -l) - 1)) modes=$(echo $CHAOS_MODES | tr ' ' ,)"
    echo "$fig"
    [ -z "${CHAOS_FIGURES:-}" ] || echo "$fig" >>"$CHAOS_FIGURES"
    # pod logs shows the same lines
    pok logs ticker -d none -s stdout
    eq "pod logs: ticker lines" "$total" "$(printf '%s\n' "$OUT" | grep -Ec '^n [0-9a-f]+ [0-9]+$')"
    # every record of every file well formed, seq contiguous
    eq "malformed records or unexplained seq gaps" 0 "$(chaos_all_wellformed)"
    [ "$dup" = 0 ] || fail "$dup ticker lines duplicated"
    [ "$runs" -le "$CHAOS_KILLS" ] || fail "$runs places of lost lines for $CHAOS_KILLS kills: $gaps"
    # a loss is only what SPEC 9.9 allows: the pump's chunks, at most 512 KiB per kill
    [ "$lost" -le $((CHAOS_KILLS * 512 * 1024 / 4)) ] || fail "lost $lost lines"
    [ "${CHAOS_ALLOW_LOSS:-1}" = 1 ] || [ "$lost" = 0 ] || fail "lost $lost lines: $gaps"
    pok rm
    nothing_left
    local left
    left=$(podman ps -a --format '{{.Names}}' | grep -F -- "$PODNAME" || true)
    [ -z "$left" ] || fail "podman still has containers: $left"
    left=$(podman volume ls --format '{{.Name}}' | grep -F -- "$PODNAME" || true)
    [ -z "$left" ] || fail "podman still has volumes: $left"
    left=$(podman network ls --format '{{.Name}}' | grep -F -- "$PODNAME" || true)
    [ -z "$left" ] || fail "podman still has networks: $left"
    [ ! -e "$PODDIR/.pod.run" ] || fail ".pod.run left after rm"
}

# fail, with the message repeated after the (long) diag, so that the runner's tail of a failed
# test shows it, with the seed that replays the run
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    diag >&2
    printf 'FAIL: %s (chaos seed %s, kills %s, modes %s)\n' "$*" "${CHAOS_SEED:-}" \
        "${CHAOS_KILLS:-}" "${CHAOS_MODES:-}" >&2
    return 1
}
