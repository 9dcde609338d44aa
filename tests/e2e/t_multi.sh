# SPDX-License-Identifier: MIT
# tests/e2e/t_multi.sh - a multi-container pod on real podman: ports reachable from the host,
# `proxy` resolving inside the containers, rerun of one container and of the whole pod.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

pod_web_side() {
    mkpod e2emulti <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [httpd, -f, -p, "80", -h, /www]
      stopTimeout: 1
      expose:
        - targetPort: 80
          hostPort: 18181
      readinessProbe:
        httpGet:
          port: 80
          path: /
        periodSeconds: 1
        timeoutSeconds: 2
    - name: side
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
      stopTimeout: 2
YAML
}

t_ports_proxy_rerun() {
    pod_web_side
    pok run --host-interface=127.0.0.1
    wait_for 30 "web running" state_is web running
    wait_for 30 "side running" state_is side running
    wait_for 15 "pod ready" ready_is 1
    eq "page from the host" ok "$(http_get 18181 /)"
    # proxy: the host interface inside the pod (here 127.0.0.1: the pod's own loopback, so
    # `proxy:80` is web's httpd)
    match "/etc/hosts of side" '127\.0\.0\.1[[:space:]]+proxy' "$(in_ctr side cat /etc/hosts)"
    eq "proxy:80 from side" ok "$(in_ctr side wget -q -O - http://proxy:80/)"
    # podman: the containers are in the pod, the port is published on the host interface
    eq "web's pod" "$(podman pod inspect --format '{{.Id}}' e2emulti-0.0.1)" \
        "$(podman container inspect --format '{{.Pod}}' "$(ctr web)")"
    match "published" '127\.0\.0\.1:18181' "$(podman port "$(ctr web)")"
    # rerun one container: only it is cycled
    local side_id
    side_id=$(ctr_id side)
    pok rerun web
    wait_for 20 "web instance 2" cfield_is web instance 2
    wait_for 20 "web running again" cfield_is web phase running
    eq "podman's instance label of web" 2 "$(ctr_label_instance web)"
    eq "side untouched" "$side_id" "$(ctr_id side)"
    eq "side instance" 1 "$(cfield side instance)"
    wait_for 15 "pod ready again" ready_is 1
    # rerun the pod: everything anew (a fresh supervisor: instance 1 again, new containers)
    local dp
    dp=$(daemon_pid)
    pok rerun --host-interface=127.0.0.1
    wait_for 30 "side running" state_is side running
    [ "$(ctr_id side)" != "$side_id" ] || fail "rerun kept side's container"
    [ "$(daemon_pid)" != "$dp" ] || fail "rerun kept the daemon"
    eq "web instance after rerun" 1 "$(cfield web instance)"
    eq "containers running" 2 "$(running_count)"
    wait_for 15 "pod ready after rerun" ready_is 1
    pok rm -k
    nothing_left
}

# The ps views: live (daemon alive) with per-container data and probe results, and dead (the
# status file plus daemon: dead).
t_ps_views() {
    pod_web_side
    pok run
    wait_for 15 "pod ready" ready_is 1
    wait_for 10 "readiness probe result" cfield_is web probes.readiness.result ok
    pok ps
    match "ps" 'daemon: alive' "$OUT"
    match "ps" 'readinessProbe: ok' "$OUT"
    match "ps" '    - name: side' "$OUT"
    eq "ps --json daemon alive" true "$(psj .daemon.alive)"
    eq "ps --json containers" 2 "$(psj '.containers | length')"
    kill_supervisor
    wait_for 5 "supervisor gone" no_supervisor_of "$PODDIR"
    pok ps
    match "ps without daemon" 'daemon: dead' "$OUT"
    match "ps without daemon" 'readiness: 0' "$OUT"
    eq "ps --json without daemon" false "$(psj .daemon.alive)"
    prc 1 readiness
    eq "readiness stdout" "" "$OUT"
    pok rm
    nothing_left
}
