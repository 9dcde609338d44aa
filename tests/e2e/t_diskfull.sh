# SPDX-License-Identifier: MIT
# tests/e2e/t_diskfull.sh - the log directory on a full disk (SPEC 9.5, 9.9, 7.7): log/ is a
# 2 MiB tmpfs (a mount point, not a symlink), filled up by a file of the test while a container
# floods numbered lines.  The containers keep running (same instances, the pod ready); the
# loss is counted and shown by `pod ps` (logDroppedLines, logFailing); once space returns the
# writer resumes by itself, writes the `!` notice at the gap and logging goes on; every record
# of every file (rotated ones included) is whole and the seq gaps are exactly the notices; the
# lines missing from the files are exactly the lines `pod ps` counted as dropped.
# Needs root (mount); skipped rootless.  EIO on log/: tests/e2e/t_eio.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_chaos.sh"

# the tmpfs is unmounted whatever happens (the test's subshell exits through here)
diskfull_cleanup() {
    [ -n "${DF_MNT:-}" ] || return 0
    (cd / && timeout 60 "$POD" rm -k >/dev/null 2>&1) || true
    if mountpoint -q "$DF_MNT"; then
        umount "$DF_MNT" 2>/dev/null || umount -l "$DF_MNT" 2>/dev/null || true
    fi
    DF_MNT=
}

# fill: one file of the test takes every free byte of the tmpfs
df_fill() { dd if=/dev/zero of="$DF_MNT/e2ech-filler" bs=4k >/dev/null 2>&1 || true; }
df_free_kb() { df -k --output=avail "$DF_MNT" | tail -1 | tr -d ' '; }

flood_n() { # the highest `n K` of the flood's files
    chaos_ticks $(chaos_stream_files "flood-$PODNAME-0.0.1-stdout") | awk '{print $1}' | sort -n | tail -1
}
flood_n_gt() { [ "$(flood_n)" -gt "$1" ] 2>/dev/null; }

t_diskfull_logs() {
    if [ "$(id -u)" != 0 ] || [ -n "${E2E_ROOTLESS:-}" ]; then
        log "skipped: mounting a tmpfs on log/ needs root"
        return 0
    fi
    mkpod e2echdisk <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: ctl
      type: host
      bind: ./ctl
logs:
    maxSize: 64K
    maxFiles: 1000
containers:
    - name: flood
      image: localhost/podtest:1
      command: [sh, -c, 'p=$(printf "%0400d" 0); i=0; while true; do if [ -e /ctl/fast ]; then n=10 s=0.02; else n=1 s=0.1; fi; j=0; while [ $j -lt $n ]; do i=$((i+1)); echo "n $i $p"; j=$((j+1)); done; sleep $s; done']
      stopTimeout: 1
      mounts:
        - volume: ctl
          dest: /ctl
    - name: quiet
      image: localhost/podtest:1
      command: [sleep, "600"]
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    mkdir -p "$PODDIR/ctl" "$PODDIR/log"
    DF_MNT=$PODDIR/log
    trap diskfull_cleanup EXIT
    trap 'exit 143' TERM
    mount -t tmpfs -o size=2m,mode=0755 e2ech-diskfull "$DF_MNT" || fail "mount tmpfs"
    pok run
    wait_for 30 "pod ready" ready_is 1
    wait_for 20 "flood lines" flood_n_gt 20
    local fid qid
    fid=$(ctr_id flood)
    qid=$(ctr_id quiet)
    # the disk fills up; the flood goes fast: 1 MiB of backlog is soon full, then lines drop
    df_fill
    log "tmpfs full: $(df_free_kb) KiB free"
    touch "$PODDIR/ctl/fast"
    wait_for 40 "pod ps to show dropped lines" cfield_ge flood logDroppedLines 1
    wait_for 10 "pod ps to show the log failing" cfield_is flood logFailing true
    p ps
    match "ps text" 'logDroppedLines: [1-9]' "$OUT"
    match "ps text" 'logFailing: 1' "$OUT"
    # the containers do not care
    eq "flood: same container" "$fid" "$(ctr_id flood)"
    eq "quiet: same container" "$qid" "$(ctr_id quiet)"
    eq "flood: running" running "$(ctr_state flood)"
    eq "flood: instance" 1 "$(cfield flood instance)"
    eq "pod ready" 1 "$(status readiness)"
    local before dropped
    before=$(flood_n)
    rm -f "$PODDIR/ctl/fast"
    sleep 1
    # space returns: the writer resumes on its own (retry every second)
    rm -f "$DF_MNT/e2ech-filler"
    wait_for 30 "logging to resume" cfield_is flood logFailing false
    wait_for 30 "new lines after the gap" flood_n_gt $((before + 20))
    dropped=$(cfield flood logDroppedLines)
    log "dropped $dropped lines ($(cfield flood logDroppedBytes) bytes), $(cfield flood logWriteErrors) write errors"
    pok stop
    # every file whole; the seq gaps are the notices; what is missing is what was counted
    local files ticks max distinct lost notice f
    files=$(chaos_stream_files "flood-$PODNAME-0.0.1-stdout")
    eq "malformed records or unexplained seq gaps" 0 "$(chaos_all_wellformed)"
    ticks=$(chaos_ticks $files | awk '{print $1}')
    max=$(printf '%s\n' "$ticks" | sort -n | tail -1)
    distinct=$(printf '%s\n' "$ticks" | sort -un | grep -c .)
    lost=$((max - distinct))
    eq "flood: duplicated lines" "$distinct" "$(printf '%s\n' "$ticks" | grep -c .)"
    notice=$(cat $files | sed -n 's/.*! logw: dropped [0-9]* bytes in \([0-9]*\) lines while the disk failed (No space left on device)$/\1/p' |
        awk '{s += $1} END {print s + 0}')
    log "flood: $distinct lines, max n $max, missing $lost; ps counted $dropped; the notices say $notice"
    local fig="FIGURE diskfull lines=$distinct lost_lines=$lost counted=$dropped noticed=$notice rotated_files=$(($(printf '%s\n' "$files" | wc -l) - 1))"
    echo "$fig"
    [ -z "${CHAOS_FIGURES:-}" ] || echo "$fig" >>"$CHAOS_FIGURES"
    [ "$dropped" -ge 1 ] || fail "nothing dropped"
    eq "lines missing from the files = lines counted in ps" "$dropped" "$lost"
    eq "lines missing from the files = lines in the notices" "$notice" "$lost"
    for f in "$DF_MNT"/*; do
        case $f in *.log | *.log.[0-9]*) ;; *) fail "unexpected file in log/: $f" ;; esac
    done
    pok rm
    nothing_left
    diskfull_cleanup
    trap - EXIT
    mountpoint -q "$PODDIR/log" && fail "log/ still mounted"
    return 0
}
