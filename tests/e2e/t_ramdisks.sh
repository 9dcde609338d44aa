# SPDX-License-Identifier: MIT
# tests/e2e/t_ramdisks.sh - `create-ramdisks`: tmpfs through mount(2) as root, owned by the pod
# directory's owner, idempotent; `-d` unmounts and keeps the directories; not root: refused.
# The root-only tests return early (ok) in the rootless run.

pod_rd() {
    mkpod e2erd <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: tmpa
      type: ramdisk
      size: 5M
    - name: tmpb
      type: ramdisk
      size: 2M
containers:
    - name: main
      image: localhost/podtest:1
      command: [sleep, "300"]
      mounts:
          - volume: tmpa
            dest: /a
          - volume: tmpb
            dest: /b
YAML
    trap rd_cleanup EXIT
}

rd_cleanup() {
    local d
    for d in "$PODDIR"/ramdisk/*; do
        mountpoint -q "$d" 2>/dev/null && umount "$d"
    done
    return 0
}

is_root() { [ "$(id -u)" = 0 ]; }

t_create_ramdisks_mounts_tmpfs() {
    is_root || { log "skipped: not root"; return 0; }
    pod_rd
    chown 65534:65534 "$PODDIR" # the owner of the pod directory owns the ramdisks
    pok create-ramdisks
    eq "stdout" "" "$OUT"
    local d
    for d in tmpa tmpb; do
        mountpoint -q "$PODDIR/ramdisk/$d" || fail "$d not mounted"
        eq "$d fstype" tmpfs "$(stat -f -c %T "$PODDIR/ramdisk/$d")"
        eq "$d owner/mode" "65534:65534 700" "$(stat -c '%u:%g %a' "$PODDIR/ramdisk/$d")"
    done
    eq "ramdisk/ owner" "65534:65534" "$(stat -c '%u:%g' "$PODDIR/ramdisk")"
    match "size" 'size=5120k' "$(grep " $PODDIR/ramdisk/tmpa " /proc/mounts)"
    match "size" 'size=2048k' "$(grep " $PODDIR/ramdisk/tmpb " /proc/mounts)"
    echo data >"$PODDIR/ramdisk/tmpa/f"
    pok create-ramdisks # idempotent: no second mount on top
    eq "mounts of tmpa" 1 "$(grep -c " $PODDIR/ramdisk/tmpa " /proc/mounts)"
    eq "data kept" data "$(cat "$PODDIR/ramdisk/tmpa/f")"
    pok create-ramdisks -d
    for d in tmpa tmpb; do
        mountpoint -q "$PODDIR/ramdisk/$d" && fail "$d still mounted"
        [ -d "$PODDIR/ramdisk/$d" ] || fail "$d directory removed"
    done
    pok create-ramdisks --delete # nothing mounted: fine
}

t_create_ramdisks_needs_root() {
    pod_rd
    if is_root; then
        chmod o+x "$E2E_WORK" "$T" "$PODDIR"
        RC=0
        ERR=$(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$POD" create-ramdisks 2>&1) || RC=$?
    else
        p create-ramdisks
    fi
    eq "rc" 1 "$RC"
    match "message" '^\[ERROR\] Must be root to create/delete ramdisks$' "$ERR"
    [ ! -e "$PODDIR/ramdisk" ] || fail "ramdisk/ created by a refused call"
}

t_create_ramdisks_list_and_usage() {
    pod_rd
    pok create-ramdisks -l
    eq "list" "tmpa:5M
tmpb:2M" "$OUT"
    prc 100 create-ramdisks -l -d
    prc 100 create-ramdisks extra
}
