# SPDX-License-Identifier: MIT
# tests/e2e/t_images.sh - `pod download` against a real registry on loopback (see reg_start).

# reg_start: a registry (Debian's docker-registry, installed by ci/install-deps.sh) serving
# $T/reg on 127.0.0.1:<free port> as $REG, marked insecure (plain HTTP) for podman through
# CONTAINERS_REGISTRIES_CONF, with the test image pushed as $REG/e2e/podtest:1.
reg_start() {
    local bin=/usr/bin/docker-registry p port=""
    [ -x $bin ] || fail "docker-registry is not installed (make deps)"
    mkdir -p "$T/reg/storage"
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { port=$p; break; }
    done
    [ -n "$port" ] || fail "no free port"
    REG=127.0.0.1:$port
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
        "$T/reg/storage" "$REG" >"$T/reg/config.yml"
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" >"$T/reg/registries.conf"
    export CONTAINERS_REGISTRIES_CONF=$T/reg/registries.conf
    setsid $bin serve "$T/reg/config.yml" </dev/null >"$T/reg/log" 2>&1 &
    REG_PID=$!
    trap reg_cleanup EXIT
    wait_for 10 "the registry on $REG" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    (cd / && podman push -q --tls-verify=false "$E2E_IMAGE" "$REG/e2e/podtest:1") >/dev/null ||
        fail "push to $REG"
}

reg_stop() {
    [ -n "${REG_PID:-}" ] || return 0
    kill "$REG_PID" 2>/dev/null || true
    wait "$REG_PID" 2>/dev/null || true
    REG_PID=""
}

# Only the tags under $REG are removed (the image is localhost/podtest:1's).
reg_cleanup() {
    local i
    for i in $(cd / && podman images --format '{{.Repository}}:{{.Tag}}' | grep "^${REG:-none}/"); do
        (cd / && podman rmi "$i" >/dev/null 2>&1) || true
    done
    reg_stop
}

has_image() { (cd / && podman image exists "$1"); }

count() { # count ERE TEXT: lines of TEXT matching ERE
    printf '%s\n' "$2" | grep -Ec -- "$1" || true
}

pod_images() { # pod_images IMAGE...: a pod with one container per image
    local y="api: 1.0.0-beta2
podVersion: 0.0.1
containers:" i=0 img
    for img in "$@"; do
        i=$((i + 1))
        y="$y
    - name: c$i
      image: $img
      command: [sleep, \"1\"]"
    done
    mkpod e2eimg <<<"$y"
}

# Missing images are pulled once each (the original pulled duplicates again); present ones are
# only checked; -f pulls again.
t_download_pulls_missing_images_once() {
    reg_start
    local img=$REG/e2e/podtest:1
    (cd / && podman rmi "$img" >/dev/null 2>&1) || true
    pod_images "$img" "$E2E_IMAGE" "$img"
    has_image "$img" && fail "$img present before download"
    pok download
    eq "stdout" "" "$OUT"
    eq "pull lines" 1 "$(count "^\[INFO\]  Pull image $img\$" "$ERR")"
    has_image "$img" || fail "$img not pulled"
    pok download
    eq "pull lines when present" 0 "$(count 'Pull image' "$ERR")"
    reg_stop
    prc 1 download -f # the registry is gone: -f must really pull
    eq "error lines" 1 "$(count "^\[ERROR\] Could not pull image $img" "$ERR")"
}

# B14: a failure is not hidden by a later success; every image is still tried.
t_download_any_failure_fails() {
    reg_start
    local good=$REG/e2e/podtest:1 bad=$REG/e2e/missing:1
    (cd / && podman rmi "$good" >/dev/null 2>&1) || true
    pod_images "$bad" "$good"
    prc 1 download
    eq "error lines" 1 "$(count "^\[ERROR\] Could not pull image $bad" "$ERR")"
    eq "retries" 2 "$(count "^\[WARN\]  Pull of image $bad failed" "$ERR")"
    has_image "$good" || fail "$good was not pulled after the failure"
}

t_download_usage() {
    pod_images "$E2E_IMAGE"
    prc 100 download --frobnicate
    prc 100 download extra
}
