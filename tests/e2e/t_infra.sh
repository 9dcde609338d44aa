# SPDX-License-Identifier: MIT
# tests/e2e/t_infra.sh - the podman pod's infra container dies under a running pod (SPEC 8.11
# "Infra container"): its process SIGKILLed from the host (a host event, an OOM kill), alone or
# together with its conmon.  Without a repair, podman 4.3.1 either starts a new infra (a new
# network namespace) at the next `run --pod` and leaves the running containers in the dead one
# (the published port reaches nobody), or, with its conmon gone too, fails every later start in
# the pod ("failed to open /proc/PID/ns/ipc") for good.  The daemon sees the infra's process
# end, makes the podman pod anew and restarts the pod's containers in it; `pod ps` says so.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# infra_id / infra_pids: the current pod's infra container; its PID 1 and its conmon.
infra_id() { podman pod inspect --format '{{.InfraContainerID}}' "$PODNAME-0.0.1" 2>/dev/null; }
infra_pids() { podman container inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' "$(infra_id)" 2>/dev/null; }
infra_state() { podman container inspect --format '{{.State.Status}}' "$(infra_id)" 2>/dev/null; }
web_ok() { [ "$(http_get 28931 /)" = ok ]; }
# started_n CTR: how often the daemon logged that CTR started (a failed start is not counted)
started_n() { grep -ac "\] *$1: started\$" "$PODDIR/log/$PODNAME-0.0.1-stderr.log" || true; }
started_ge() { [ "$(started_n "$1")" -ge "$2" ]; }

# infra_case MODE: MODE pid = SIGKILL of the infra's PID 1; both = of its PID 1 and its conmon.
infra_case() {
    local mode=$1
    mkpod e2einfra <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [httpd, -f, -p, "80", -h, /www]
      restart: always
      stopTimeout: 1
      expose:
        - targetPort: 80
          hostPort: 28931
    - name: crash
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1; exit 1']
      restart: always
      stopTimeout: 1
      restartBackoff:
        maxSeconds: 2
YAML
    pok run
    wait_for 30 "crash restarted" cfield_ge crash restartCount 1
    wait_for 20 "web answers on the published port" web_ok
    local ipid cpid dp s0 web0 id0 t0
    read -r ipid cpid <<<"$(infra_pids)"
    [ -n "$ipid" ] && [ "$ipid" -gt 0 ] || fail "no infra pid: '$ipid'"
    dp=$(daemon_pid)
    web0=$(ctr_id web)
    id0=$(infra_id)
    s0=$(started_n crash)
    if [ "$mode" = both ]; then
        log "infra $id0: SIGKILL of its process $ipid and its conmon $cpid"
        kill -9 "$ipid" "$cpid"
    else
        log "infra $id0: SIGKILL of its process $ipid"
        kill -9 "$ipid"
    fi
    t0=$(ms)
    # the crash-looping container runs again, more than once, without anyone's help (without
    # the repair, after the kill of both: every start fails, for good)
    wait_for 60 "crash started twice more" started_ge crash $((s0 + 2))
    # web, which ran in the old network namespace, was restarted into the new one, and the
    # published port reaches it again (without the repair, after the kill of the PID 1 alone:
    # crash's next `run` starts a new infra, the port leads into its new namespace, where
    # nothing listens, and web runs on unreachable in the old one)
    wait_for 30 "web answers again" web_ok
    # the daemon says what happened
    wait_for 10 "infraRestarts 1" sh -c "[ \"\$(cd '$PODDIR' && '$POD' ps --json | jq -r .infraRestarts)\" = 1 ]"
    local took
    took=$(ms_since "$t0")
    echo "FIGURE infra $mode recovered_ms=$took"
    [ -z "${E2E_FIGURES:-}" ] || { echo "FIGURE infra $mode recovered_ms=$took" >>"$E2E_FIGURES"; } 2>/dev/null || true
    [ "$(ctr_id web)" != "$web0" ] || fail "web is still the container of the dead namespace"
    [ "$(infra_id)" != "$id0" ] || fail "the same infra container"
    eq "infra" running "$(infra_state)"
    eq "same daemon" "$dp" "$(daemon_pid)"
    eq "web phase" running "$(cfield web phase)"
    eq "web restarts" 1 "$(cfield web restartCount)"
    eq "infra restarts" 1 "$(psj .infraRestarts)"
    p ps
    match "ps" 'infraRestarts: 1' "$OUT"
    match "ps" 'lastWarning: .*infra container down' "$OUT"
    has_line "$PODDIR/log/$PODNAME-0.0.1-stderr.log" 'infra container down .*making the pod anew'
    has_line "$STATUS" '^infraRestarts: 1$'
    # one pod, its containers once each: nothing of the old pod left
    eq "pods" 1 "$(podman pod ps --filter "name=^$PODNAME-0.0.1\$" -q | wc -l)"
    eq "containers of the pod" 2 "$(podman ps -a --filter "label=podc.pod=$PODNAME-0.0.1" --filter label=podc.container -q | wc -l)"
    pok rm -k
    nothing_left
}

t_infra_killed() { infra_case pid; }
t_infra_and_conmon_killed() { infra_case both; }
