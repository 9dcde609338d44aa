# SPDX-License-Identifier: MIT
# tests/e2e/t_eio.sh - the log directory's file system dies with EIO under a running pod, and
# is then replaced (SPEC 9.5, 9.9, 7.2 'Log loss in ps').  log/ is an ext4 file system on a loop
# device (a mount point, not a symlink: SPEC 7.5.1).  While a container floods numbered lines,
# the test shuts the file system down with FS_IOC_SHUTDOWN (flag 0: everything written so far
# is synced first): from then on every write, fsync, open, rename and listing on it fails with
# EIO, which is what a disk that fails under ext4 ends in (an aborted journal); the kernel
# offers no way back but a new mount.  So recovery is what an operator does: the dead mount is
# detached (umount -l) and a fresh ext4 (a second loop device) mounted on log/.  Asserted: the
# containers keep running (same instances, the pod ready), the daemon stays (same pid), the
# loss is counted in `pod ps` (logDroppedLines, logWriteErrors, logFailing); once the new
# file system is there the writers open their files on it by themselves (the daemon keeps no
# descriptor on the dead mount), the `!` notice is written at the gap and logging goes on;
# across both file systems every record of every stream is whole, seq runs on (gaps only at
# notices), rotated numbers are never reused, no line is written twice, and the lines missing
# are exactly the lines `pod ps` counted and the notices name.
# Why not device-mapper (a dm `error` target, dm-flakey): this machine's kernel (and CI's, the
# same kind) has no device-mapper (CONFIG_BLK_DEV_DM unset: /dev/mapper/control missing).
# Needs root (loop devices, mount), losetup, mkfs.ext4 and perl (the ioctl); skipped otherwise,
# with a `# skipped:` line (run.sh then prints the test as skipped).
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_chaos.sh"

EIO_LOOPS=""
EIO_MNTS=""

# everything the test attached or mounted goes, whatever happens (the subshell exits here)
eio_cleanup() {
    [ -n "${POD:-}" ] && (cd / && timeout 60 "$POD" rm -k >/dev/null 2>&1) || true
    local m l
    for m in $EIO_MNTS; do
        while mountpoint -q "$m"; do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || break
        done
    done
    EIO_MNTS=""
    for l in $EIO_LOOPS; do
        losetup -d "$l" 2>/dev/null || true
    done
    EIO_LOOPS=""
}

# eio_fs IMAGE MOUNTPOINT: a fresh 64 MiB ext4 on a new loop device (EIO_DEV), mounted
eio_fs() {
    truncate -s 64M "$1"
    mkfs.ext4 -q -F -m 0 "$1" >/dev/null 2>&1 || fail "mkfs.ext4 $1"
    local l
    l=$(losetup -f --show "$1") || fail "losetup $1"
    EIO_LOOPS="$EIO_LOOPS $l"
    mount -t ext4 "$l" "$2" || fail "mount $l on $2"
    EIO_MNTS="$2 $EIO_MNTS"
    chmod 0755 "$2"
    EIO_DEV=$l
}

# eio_shutdown DIR: every call on DIR's file system fails with EIO from now on
# (FS_IOC_SHUTDOWN = EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32); flag 0 = sync first)
eio_shutdown() {
    perl -e 'open(my $d, "<", $ARGV[0]) or die "$ARGV[0]: $!\n"; my $flag = pack("L", 0);
             ioctl($d, 0x8004587D, $flag) or die "FS_IOC_SHUTDOWN: $!\n"' "$1"
}

# eio_mnt_id DIR: the mount id of what is mounted on DIR
eio_mnt_id() { awk -v m="$1" '$5 == m {id = $1} END {print id}' /proc/self/mountinfo; }

# eio_fds_on PID MNT_ID: what the descriptors of PID on that mount name, one per line
eio_fds_on() {
    local f
    for f in /proc/"$1"/fdinfo/*; do
        [ "$(awk '$1 == "mnt_id:" {print $2}' "$f" 2>/dev/null)" = "$2" ] || continue
        readlink "/proc/$1/fd/${f##*/}" 2>/dev/null || true
    done
}

# eio_files DIR BASE: a stream's files in DIR, oldest first (SPEC 9.3)
eio_files() {
    ls "$1" | grep -E "^$2\\.log\\.[0-9]+\$" | sort -t. -k3,3n | sed "s|^|$1/|"
    [ ! -f "$1/$2.log" ] || echo "$1/$2.log"
}

# eio_busy_off PID MNT_ID: PID has no file of a stream that wrote since on that mount (the
# streams that were silent since keep theirs until their next write fails and reopens)
eio_busy_off() { ! eio_fds_on "$1" "$2" | grep -Eq -- '-stdout\.log'; }

flood_last() { cat "$PODDIR/ctl/n" 2>/dev/null || echo 0; }
flood_new_n() { # the highest `n K` in the new file system's files
    chaos_ticks $(eio_files "$PODDIR/log" "flood-$PODNAME-0.0.1-stdout") | awk '{print $1}' | sort -n | tail -1
}
flood_new_n_gt() { [ "$(flood_new_n)" -gt "$1" ] 2>/dev/null; }

# the old file system, once nothing holds it any more, mounted read-only for reading
eio_mount_old() {
    mountpoint -q "$EIO_OLD" && umount "$EIO_OLD"
    mount -t ext4 -o ro "$EIO_L1" "$EIO_OLD" 2>/dev/null || return 1
    ls "$EIO_OLD" >/dev/null 2>&1 && cat "$EIO_OLD"/*.log >/dev/null 2>&1
}

t_eio_logs() {
    local why=""
    if [ "$(id -u)" != 0 ] || [ -n "${E2E_ROOTLESS:-}" ]; then
        why="loop devices and mounts need root"
    elif ! command -v losetup >/dev/null || ! command -v mkfs.ext4 >/dev/null || ! command -v perl >/dev/null; then
        why="losetup, mkfs.ext4 or perl missing (ci/install-deps.sh)"
    elif [ ! -e /dev/loop-control ] || ! grep -qw ext4 /proc/filesystems; then
        why="no loop devices or no ext4 in this kernel"
    fi
    if [ -n "$why" ]; then
        log "skipped: $why"
        echo "SKIP eio/logs: $why"
        return 0
    fi
    mkpod e2eeio <<'YAML'
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
      command: [sh, -c, 'p=$(printf "%0400d" 0); i=0; while true; do if [ -e /ctl/fast ]; then n=10 s=0.02; else n=1 s=0.1; fi; j=0; while [ $j -lt $n ]; do i=$((i+1)); echo "n $i $p"; j=$((j+1)); done; echo $i >/ctl/n; sleep $s; done']
      stopTimeout: 1
      mounts:
        - volume: ctl
          dest: /ctl
    - name: quiet
      image: localhost/podtest:1
      command: [sh, -c, 'while true; do echo tick; sleep 1; done']
      stopTimeout: 1
      readinessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    mkdir -p "$PODDIR/ctl" "$PODDIR/log"
    EIO_OLD=$T/podeio-old
    mkdir -p "$EIO_OLD"
    trap eio_cleanup EXIT
    trap 'exit 143' TERM
    eio_fs "$T/podeio-1.img" "$PODDIR/log"
    EIO_L1=$EIO_DEV
    local old_id
    old_id=$(eio_mnt_id "$PODDIR/log")
    pok run
    wait_for 30 "pod ready" ready_is 1
    wait_for 20 "flood lines" sh -c "[ \$(cat '$PODDIR/ctl/n' 2>/dev/null || echo 0) -gt 20 ]"
    local fid qid dp
    fid=$(ctr_id flood)
    qid=$(ctr_id quiet)
    dp=$(daemon_pid)
    [ -n "$(eio_fds_on "$dp" "$old_id")" ] || fail "the daemon has no file open on log/'s mount (mnt_id $old_id)"
    # the flood goes fast (a few rotations on the old disk first), the file system dies: 1 MiB
    # of backlog is soon full, then lines drop
    touch "$PODDIR/ctl/fast"
    wait_for 30 "a few rotations on the old disk" sh -c "[ \$(cat '$PODDIR/ctl/n' 2>/dev/null || echo 0) -gt 400 ]"
    eio_shutdown "$PODDIR/log" || fail "FS_IOC_SHUTDOWN on log/"
    local at_death
    at_death=$(flood_last)
    { : >"$PODDIR/log/probe"; } 2>/dev/null && fail "log/ still writable after the shutdown"
    log "log/ shut down (EIO) at flood line $at_death"
    wait_for 60 "pod ps to show dropped lines" cfield_ge flood logDroppedLines 1
    wait_for 10 "pod ps to show the log failing" cfield_is flood logFailing true
    wait_for 10 "pod ps to show write errors" cfield_ge flood logWriteErrors 1
    p ps
    match "ps text" 'logDroppedLines: [1-9]' "$OUT"
    match "ps text" 'logFailing: 1' "$OUT"
    match "ps text" 'logLastError: .*Input/output error' "$OUT"
    log "while dead: $(cfield flood logDroppedLines) lines dropped, $(cfield flood logWriteErrors) write errors, logLastError: $(cfield flood logLastError)"
    eq "flood: same container" "$fid" "$(ctr_id flood)"
    eq "quiet: same container" "$qid" "$(ctr_id quiet)"
    eq "flood: running" running "$(ctr_state flood)"
    eq "flood: instance" 1 "$(cfield flood instance)"
    eq "quiet: instance" 1 "$(cfield quiet instance)"
    eq "pod ready" 1 "$(status readiness)"
    eq "same daemon" "$dp" "$(daemon_pid)"
    kill -0 "$dp" || fail "the daemon is gone"
    rm -f "$PODDIR/ctl/fast"
    sleep 1
    # a new disk: the dead mount is detached (the daemon's descriptors keep it alive until it
    # lets go of them), a fresh file system mounted on log/
    local before
    before=$(flood_last)
    umount -l "$PODDIR/log" || fail "umount -l log/"
    eio_fs "$T/podeio-2.img" "$PODDIR/log"
    wait_for 30 "logging to resume" cfield_is flood logFailing false
    wait_for 30 "new lines after the gap" flood_new_n_gt $((before + 20))
    wait_for 10 "the daemon to let go of the dead mount's busy files" eio_busy_off "$dp" "$old_id"
    log "still open on the dead mount (streams silent since): $(eio_fds_on "$dp" "$old_id" | tr '\n' ' ')"
    eq "same daemon after recovery" "$dp" "$(daemon_pid)"
    eq "flood: same container after recovery" "$fid" "$(ctr_id flood)"
    eq "flood: instance after recovery" 1 "$(cfield flood instance)"
    local dropped werr
    dropped=$(cfield flood logDroppedLines)
    werr=$(cfield flood logWriteErrors)
    log "dropped $dropped lines ($(cfield flood logDroppedBytes) bytes), $werr write errors; daemon log: $(psj .daemon.logDroppedLines) dropped"
    pok stop
    # the old file system: readable again once nothing holds the detached mount
    EIO_MNTS="$EIO_OLD $EIO_MNTS"
    wait_for 30 "the old file system to mount again" eio_mount_old
    # per stream, old files then new ones: whole records, seq on across the swap, gaps only
    # at notices; rotated numbers never reused
    local b bases bad=0 files lastold firstnew
    bases=$( (ls "$EIO_OLD"; ls "$PODDIR/log") | sed -n 's/\.log\(\.[0-9]*\)\{0,1\}$//p' | sort -u)
    for b in $bases; do
        files="$(eio_files "$EIO_OLD" "$b") $(eio_files "$PODDIR/log" "$b")"
        bad=$((bad + $(chaos_wellformed $files)))
        lastold=$(ls "$EIO_OLD" | sed -n "s/^$b\\.log\\.0*\\([0-9][0-9]*\\)\$/\\1/p" | sort -n | tail -1)
        firstnew=$(ls "$PODDIR/log" | sed -n "s/^$b\\.log\\.0*\\([0-9][0-9]*\\)\$/\\1/p" | sort -n | head -1)
        [ -z "$lastold" ] || [ -z "$firstnew" ] || [ "$firstnew" -gt "$lastold" ] ||
            fail "$b: rotated number $firstnew on the new disk, $lastold on the old one"
    done
    eq "malformed records or unexplained seq gaps (all streams, both disks)" 0 "$bad"
    files="$(eio_files "$EIO_OLD" "flood-$PODNAME-0.0.1-stdout") $(eio_files "$PODDIR/log" "flood-$PODNAME-0.0.1-stdout")"
    local ticks max min distinct lost notice nold nnew
    ticks=$(chaos_ticks $files | awk '{print $1}')
    max=$(printf '%s\n' "$ticks" | sort -n | tail -1)
    min=$(printf '%s\n' "$ticks" | sort -n | head -1)
    distinct=$(printf '%s\n' "$ticks" | sort -un | grep -c .)
    eq "flood: first line" 1 "$min"
    eq "flood: duplicated lines" "$distinct" "$(printf '%s\n' "$ticks" | grep -c .)"
    eq "flood: lines in order" "$ticks" "$(printf '%s\n' "$ticks" | sort -n)"
    lost=$((max - distinct))
    notice=$(cat $files | sed -n 's/.*! logw: dropped [0-9]* bytes in \([0-9]*\) lines while the disk failed (Input\/output error)$/\1/p' |
        awk '{s += $1} END {print s + 0}')
    nold=$(eio_files "$EIO_OLD" "flood-$PODNAME-0.0.1-stdout" | wc -l)
    nnew=$(eio_files "$PODDIR/log" "flood-$PODNAME-0.0.1-stdout" | wc -l)
    log "flood: $distinct lines, max n $max (died at ~$at_death, new disk at ~$before), missing $lost; ps counted $dropped; the notices say $notice; files: $nold old, $nnew new"
    local fig="FIGURE eio lines=$distinct lost_lines=$lost counted=$dropped noticed=$notice write_errors=$werr files_old=$nold files_new=$nnew"
    echo "$fig"
    [ -z "${CHAOS_FIGURES:-}" ] || echo "$fig" >>"$CHAOS_FIGURES"
    [ "$dropped" -ge 1 ] || fail "nothing dropped"
    eq "lines missing from the files = lines counted in ps" "$dropped" "$lost"
    eq "lines missing from the files = lines in the notices" "$notice" "$lost"
    local f
    for f in "$PODDIR"/log/* "$EIO_OLD"/*; do
        case $f in *.log | *.log.[0-9]* | */lost+found) ;; *) fail "unexpected file in log/: $f" ;; esac
    done
    pok rm
    nothing_left
    eio_cleanup
    trap - EXIT
    mountpoint -q "$PODDIR/log" && fail "log/ still mounted"
    return 0
}
