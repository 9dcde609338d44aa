# SPDX-License-Identifier: MIT
# tests/e2e/t_config.sh - config volumes on real podman (SPEC 7.6, 8.7): an edit of a config file
# (a same-size edit included) signals the container that has a signal and restarts an
# on-config one without; `reload-configs` and `signal` do the same by hand.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

# hups: the HUP lines the container `hup` wrote to its stdout log so far.
hups() { grep -c ' HUP$' "$PODDIR/log/hup-e2econfig-0.0.1-stdout.log" 2>/dev/null || true; }
hups_ge() { [ "$(hups)" -ge "$1" ]; }

t_edit_signals_and_restarts() {
    CONFIGS="cfg:a.txt=1" mkpod e2econfig <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
containers:
    - name: hup
      image: localhost/podtest:1
      command: [sh, -c, 'trap "echo HUP" HUP; echo up; while true; do sleep 0.05; done']
      restart: on-config
      stopTimeout: 1
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /cfg
    - name: cyc
      image: localhost/podtest:1
      command: [sleep, "300"]
      restart: on-config
      stopTimeout: 1
      mounts:
        - volume: cfg
          dest: /cfg
YAML
    pok run
    wait_for 20 "hup running" cfield_is hup phase running
    wait_for 20 "cyc running" cfield_is cyc phase running
    wait_for 10 "hup's first line" grep -q ' up$' "$PODDIR/log/hup-e2econfig-0.0.1-stdout.log"
    eq "the config in the container" 1 "$(in_ctr cyc cat /cfg/a.txt)"
    local t0
    t0=$(ms)
    printf '2\n' >"$PODDIR/config/cfg/a.txt" # same size
    wait_for 10 "HUP after the edit" hups_ge 1
    log "config edit -> HUP in the container's log: $(ms_since "$t0") ms"
    wait_for 20 "cyc restarted" cfield_is cyc instance 2
    eq "hup not restarted" 1 "$(cfield hup instance)"
    wait_for 10 "cyc running again" cfield_is cyc phase running
    eq "the new config in cyc" 2 "$(in_ctr cyc cat /cfg/a.txt)"
    pok reload-configs cfg
    wait_for 10 "HUP after reload-configs" hups_ge 2
    pok signal hup
    wait_for 10 "HUP after signal" hups_ge 3
    prc 1 reload-configs nope
    pok rm
    nothing_left
}
