#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/e2e/parity-normalise.sh - one container's sequence out of a trace, for comparing a run on
# real podman with podsim's (tests/e2e/t_parity.sh, SPEC 11.6).
#
#   parity-normalise.sh CTR [FILE...]
#
# Reads podsim trace lines (`  12.345 web        exited       instance=3 code=1`) or the
# daemon's log, whose DEBUG lines `trace <the same>` carry the driver's trace (SPACE_LOG_LEVEL=5;
# the record's prefix up to `[DEBUG] trace ` is dropped, every other daemon log line ignored).
# Prints, for container CTR, one line per event of its life, in order: the calls the supervisor
# made (start stop kill signal exec cancel remove), what the backend reported (started
# start-failed exited), what the driver adopted (adopt), the phases and the readiness.  Left
# out: times; jittered delays (`phase backoff delay=733ms` -> `phase backoff`); the error text
# of a failed start; the notes (their wording carries delays); the probe attempts and results
# (how many there are depends on how long a container runs); a first `phase waiting` (a real
# daemon shows its containers waiting before the `start` request reaches it, podsim starts at
# 0 s); a `phase adopting` right before the container's `adopt` (podman's inspect answers
# after the new daemon's first trace, the simulated one at once).  Then, after a line `--`, the
# log writer's events of its streams, once each, sorted (`log-rotated stdout`): how often and
# when a stream rotates depends on the records' timestamps and on when the log pump's stats are
# read, not on the supervisor.
ctr=$1
shift
awk -v ctr="$ctr" '
    function emit(line) {
        if (adopting && line !~ /^adopt /) print "phase adopting"
        adopting = 0
        seen = 1
        print line
    }
    /\[DEBUG\] trace / { sub(/.*\[DEBUG\] trace /, "") }
    /\[(DEBUG|INFO|WARN|ERROR|OK)\]/ { next }
    $2 != ctr { next }
    $3 ~ /^(start|started|exited|stop|kill|signal|exec|cancel|remove|adopt|ready|unready)$/ {
        out = $3
        for (i = 4; i <= NF; i++) out = out " " $i
        emit(out)
        next
    }
    $3 == "start-failed" { emit($3 " " $4); next }
    $3 == "phase" {
        if (!seen && $4 == "waiting") { seen = 1; next }
        if ($4 == "adopting") { if (adopting) print "phase adopting"; adopting = 1; seen = 1; next }
        out = "phase " $4
        for (i = 5; i <= NF; i++) if ($i !~ /^delay=/) out = out " " $i
        emit(out)
        next
    }
    $3 ~ /^log-/ { logev[$3 " " $4] = 1 }
    END {
        if (adopting) print "phase adopting"
        print "--"
        n = 0
        for (k in logev) keys[++n] = k
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && keys[j - 1] > keys[j]; j--) {
                t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t
            }
        for (i = 1; i <= n; i++) print keys[i]
    }' "$@"
