# SPDX-License-Identifier: MIT
# tests/e2e/t_probes.sh - startup, readiness and liveness probes on real podman (SPEC 8.3, 8.6):
# exec probes through the in-container agent, tcp and http from the host, a hanging probe
# killed inside the container, a failing liveness probe restarting its container.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

t_exec_tcp_http() {
    mkpod e2eprobe <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [sh, -c, 'sleep 1; touch /tmp/up; exec httpd -f -p 80 -h /www']
      stopTimeout: 1
      expose:
        - targetPort: 80
          hostPort: 18281
      startupProbe:
        timeout: 20
        cmd: [test, -f, /tmp/up]
      readinessProbe:
        httpGet:
          port: 80
          path: /
        periodSeconds: 1
      livenessProbe:
        tcpSocket:
          port: 80
        periodSeconds: 1
    - name: worker
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
      readinessProbe:
        cmd: [sh, -c, 'test -e /proc/1']
        periodSeconds: 1
      livenessProbe:
        cmd: [true]
        periodSeconds: 1
YAML
    pok run
    # web's startup probe passes after ~1 s; worker starts only then (the startup order)
    wait_for 30 "web started" cfield_is web phase running
    wait_for 30 "pod ready" ready_is 1
    wait_for 10 "http readiness ok" cfield_is web probes.readiness.result ok
    wait_for 10 "tcp liveness ok" cfield_is web probes.liveness.result ok
    wait_for 10 "exec readiness ok" cfield_is worker probes.readiness.result ok
    wait_for 10 "exec liveness ok" cfield_is worker probes.liveness.result ok
    if ! pod_dynamic; then
        # the exec probes run through the agent: one agent process in each container with one
        eq "agents in worker" 1 "$(count_in worker '^/\.podc/agent __agent')"
        eq "agents in web" 1 "$(count_in web '^/\.podc/agent __agent')"
    else
        # a dynamically linked pod (make e2e-asan, e2e-valgrind) cannot run in this static image:
        # no agent, the exec probes (passing above) took `podman exec` (SPEC 7.9)
        eq "agents in worker" 0 "$(count_in worker '^/\.podc/agent __agent')"
        wait_for 15 "the daemon's note on the agent" grep -q 'worker: exec probes of instance 1 through podman exec: agent' "$PODDIR/log/e2eprobe-0.0.1-stderr.log"
    fi
    local w0
    w0=$(cfield worker restartCount)
    sleep 3
    eq "worker restarts" "$w0" "$(cfield worker restartCount)"
    eq "worker still ready" true "$(cfield worker ready)"
    pok rm
    nothing_left
}

# A readiness probe that hangs: each attempt is killed inside the container at its timeout, so
# at most one runs at any time; a liveness probe that fails restarts its container.
t_hanging_and_failing() {
    mkpod e2ehang <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: hang
      image: localhost/podtest:1
      command: [sleep, "300"]
      stopTimeout: 1
      readinessProbe:
        cmd: [sh, -c, 'exec sleep 301']
        timeoutSeconds: 1
        periodSeconds: 2
    - name: sick
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
      restart: always
      stopTimeout: 1
      livenessProbe:
        cmd: [sh, -c, 'exit 1']
        initialDelaySeconds: 1
        periodSeconds: 1
YAML
    pok run
    wait_for 20 "hang running" cfield_is hang phase running
    wait_for 15 "a readiness timeout" cfield_is hang probes.readiness.result timeout
    local i n max=0 zero=0
    for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
        n=$(count_in hang 'sleep 301')
        [ "$n" -gt "$max" ] && max=$n
        [ "$n" = 0 ] && zero=$((zero + 1))
        sleep 0.25
    done
    log "hanging probe: at most $max at once, none running in $zero of 12 samples"
    [ "$max" -le 1 ] || fail "$max runs of one probe at once"
    [ "$zero" -ge 1 ] || fail "the hanging probe was never killed"
    eq "hang not ready" false "$(cfield hang ready)"
    eq "hang not restarted" 0 "$(cfield hang restartCount)"
    wait_for 20 "sick restarted by liveness" cfield_ge sick restartCount 1
    pok stop
    no_supervisor_of "$PODDIR"
    eq "running after stop" 0 "$(running_count)"
}
