# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2207  # sourced by bench_runtime.sh: its variables; numbers
# tests/bench/runtime_logs.sh - sourced by bench_runtime.sh: log capture on real podman.
#
# The container (localhost/podtest:1, busybox awk) writes LOG_LINES (default 300 000) lines of
# 100 bytes ("%099d\n" of the line number) to stdout and exits.  LOG_ROUNDS (default 3) rounds,
# each: the bare run, then the pod.
#  - Bare passthrough pipe (the baseline): `podman run --rm --log-driver passthrough IMAGE awk
#    ... | bench_pipe FILE`.  With the passthrough driver the container writes straight into the
#    pipe (no conmon copy), and bench_pipe (tests/bench/bench_pipe.c) copies the pipe to a file
#    like cat, stamping the first and the last read that returned data.  That is the least any
#    capture can do: one pipe, one reader, one file, no timestamps, no fsync.
#  - The pod: the same container with restart: never in a fresh pod; its stdout goes through
#    the holder's pipe to the daemon's log pump and log writer (SPEC 9.9: a timestamp and a
#    sequence number per record, 10 MiB x 5 rotation, fsync at every rotation by default).
#    The first and the last record's stamps are the wall times of the first and the last read
#    (SPEC 9.2), the same window as bench_pipe's.
# Measured in both: first read -> last read, i.e. how long the container took to get its
# output out, since a reader that is slower than the writer holds it up through the pipe
# (container start-up and exit are the same in both and left out; the pod's own start is not
# log capture).  Verified: the pod's files (rotated ones by ascending N, then the current one)
# hold exactly LOG_LINES complete records with consecutive sequence numbers, and their messages
# are byte-exact (count and md5 against the expected content, generated here by awk).

LOG_LINES=${LOG_LINES:-300000}
LOG_ROUNDS=${LOG_ROUNDS:-3}
GEN="awk 'BEGIN { for (i = 1; i <= $LOG_LINES; i++) printf \"%099d\\n\", i }'"
want_md5=$(sh -c "$GEN" | md5sum | cut -d' ' -f1)
echo "log capture: $LOG_ROUNDS rounds of $LOG_LINES lines of 100 bytes, bare pipe then pod ..."
if [ ! -x "$BENCH_BIN/bench_pipe" ]; then
    say "bench_pipe not built (make $BENCH_BIN/bench_pipe): skipped"
    result "log capture, $LOG_LINES x 100 B" "-" "-" "-" "<= 1.25x, byte-exact" "-" "235 lines/s"
    return 0 2>/dev/null || exit 0
fi
bares=() pods=() exact=0 detail=""
for round in $(seq 1 "$LOG_ROUNDS"); do
    # the baseline
    win=$(podman run --rm --pull=never --log-driver passthrough --name benchlogbare \
        localhost/podtest:1 sh -c "$GEN" 2>/dev/null | "$BENCH_BIN/bench_pipe" "$W/bare.out" |
        awk '{printf "%.0f", ($2 - $1) * 1000}')
    okb=$(md5sum <"$W/bare.out" | cut -d' ' -f1)
    [ "$okb" = "$want_md5" ] || say "round $round: the bare pipe's output differs (md5 $okb)"
    rm -f "$W/bare.out"
    bares+=("$win")
    # the pod
    rm -rf "$W/benchlog"
    mk benchlog <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: gen
      image: localhost/podtest:1
      command: [sh, -c, "$(printf '%s' "$GEN" | sed 's/\\/\\\\/g; s/"/\\"/g')"]
      restart: never
YAML
    P=$W/benchlog
    base=$P/log/gen-benchlog-0.0.1-stdout
    "$P/pod" run 2>/dev/null
    last=$((LOG_LINES - 1))
    for k in $(seq 1 600); do # until the last record is on disk (60 s at most)
        [ "$(tail -n1 "$base.log" 2>/dev/null | cut -d' ' -f2)" = "$last" ] && break
        sleep 0.1
    done
    files=$(ls "$base".log.* 2>/dev/null | sort; echo "$base.log")
    # shellcheck disable=SC2086
    read -r n first lastts bad <<<"$(cat $files | awk -v last="$last" '
        {if ($2 !~ /^[0-9]+$/ || $2 != NR - 1) bad++; if (NR == 1) f = $1; l = $1}
        END {printf "%d %s %s %d", NR, f, l, bad + (NR - 1 != last)}')"
    got_md5=$(cat $files | cut -d' ' -f3- | md5sum | cut -d' ' -f1)
    win=$(awk -v a="$first" -v b="$lastts" 'BEGIN {printf "%.0f", (b - a) * 1000}')
    pods+=("$win")
    if [ "$n" = "$LOG_LINES" ] && [ "$bad" = 0 ] && [ "$got_md5" = "$want_md5" ]; then
        exact=$((exact + 1))
    else
        detail="$detail round $round: $n records, $bad out of sequence, md5 $got_md5;"
    fi
    say "round $round: bare pipe $((bares[-1])) ms, pod $win ms ($n records in $(echo $files | wc -w) files)"
    "$P/pod" rm -k >/dev/null 2>&1
done
[ -z "$detail" ] || say "NOT byte-exact:$detail"
lb=$(printf '%s\n' "${bares[@]}" | median)
lp=$(printf '%s\n' "${pods[@]}" | median)
lps=$(awk -v n="$LOG_LINES" -v t="$lp" 'BEGIN {if (t > 0) printf "%.0f", n / t * 1000; else print "-"}')
lr=$(awk -v a="$lp" -v b="$lb" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print 0}')
result "log capture: $LOG_LINES x 100 B, median of $LOG_ROUNDS" \
    "$lp ms ($lps lines/s), byte-exact $exact/$LOG_ROUNDS" "bare passthrough pipe: $lb ms" \
    "$(ratio "$lp" "$lb")" "<= 1.25x, byte-exact" \
    "$([ "$exact" = "$LOG_ROUNDS" ] && verdict "$lr" '<=' 1.25 || echo MISS)" "235 lines/s"
