# SPDX-License-Identifier: MIT
# tests/e2e/t_volumes.sh - `create-volumes` and `purge` on real podman volumes: names per
# `shared`, idempotence, purge refused while the pod exists, purge removes only this version's
# own volumes (B17) and only exact names (`podman volume rm` matches prefixes).  Every volume a
# test may leave is removed by its EXIT trap.

pod_vols() {
    mkpod e2evol <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: own
      type: volume
    - name: bypod
      type: volume
      shared: pod
    - name: e2ehostvol
      type: volume
      shared: host
containers:
    - name: main
      image: localhost/podtest:1
      command: [sleep, "300"]
      mounts:
          - volume: own
            dest: /own
          - volume: bypod
            dest: /bypod
          - volume: e2ehostvol
            dest: /host
YAML
    VOLS="own-e2evol-0.0.1 bypod-e2evol e2ehostvol"
    trap vol_cleanup EXIT
}

vol_cleanup() {
    local v
    for v in $VOLS ${EXTRA_VOLS:-}; do
        (cd / && podman volume rm -f "$v" >/dev/null 2>&1) || true
    done
}

vol_exists() { (cd / && podman volume exists "$1"); }

t_create_volumes_names_and_idempotence() {
    pod_vols
    pok create-volumes
    eq "stdout" "" "$OUT"
    local v
    for v in $VOLS; do
        vol_exists "$v" || fail "volume $v missing"
        match "created $v" "Volume $v created" "$ERR"
    done
    eq "label" "e2evol-0.0.1" \
        "$(cd / && podman volume inspect --format '{{index .Labels "podc.pod"}}' own-e2evol-0.0.1)"
    pok create-volumes
    for v in $VOLS; do
        match "again $v" "\[INFO\]  Volume $v already exists" "$ERR"
    done
}

# B17: shared: pod|host volumes survive purge.
t_purge_removes_only_own_volumes() {
    pod_vols
    pok create-volumes
    pok purge
    eq "stdout" "" "$OUT"
    match "removed" "Volume own-e2evol-0.0.1 removed" "$ERR"
    vol_exists own-e2evol-0.0.1 && fail "own volume still there"
    vol_exists bypod-e2evol || fail "shared: pod volume removed"
    vol_exists e2ehostvol || fail "shared: host volume removed"
    pok purge # nothing left to do
}

t_purge_refused_while_pod_exists() {
    pod_vols
    pok create-volumes
    (cd / && podman pod create --name e2evol-0.0.1 >/dev/null)
    prc 1 purge
    match "message" "\[ERROR\] Pod e2evol-0.0.1 exists. Remove it before purging" "$ERR"
    vol_exists own-e2evol-0.0.1 || fail "volume removed although the pod exists"
}

# `podman volume rm own-e2evol-0.0.1` would remove own-e2evol-0.0.10 (prefix match).
t_purge_exact_names_only() {
    pod_vols
    EXTRA_VOLS=own-e2evol-0.0.10
    (cd / && podman volume create own-e2evol-0.0.10 >/dev/null)
    pok purge
    vol_exists own-e2evol-0.0.10 || fail "purge removed another version's volume"
}

t_volume_actions_usage() {
    pod_vols
    prc 100 create-volumes extra
    prc 100 purge -f
}
