# SPDX-License-Identifier: MIT
# tests/e2e/t_chaos.sh - the daemon SIGKILLed at random points on real podman while a container
# crash-loops, probes run, the config is edited and a container logs numbered lines (SPEC 10.3,
# 9.9, 8.9; tests/e2e/lib_chaos.sh says what is checked).  A few kills here (3: the modes h, d,
# dd; CHAOS_MODES_FIRST changes them); tests/stress/part_chaos.sh runs >= 50
# (CHAOS_KILLS_WANTED; CHAOS_SECONDS ends the kills earlier).
# Replay a run: CHAOS_SEED=N make e2e E2E_FILTER=chaos_kill.
source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_chaos.sh"

chaos_hups() { wc -l <"$PODDIR/out/hup" 2>/dev/null || echo 0; }
chaos_hups_gt() { [ "$(chaos_hups)" -gt "$1" ]; }

t_chaos_kill() {
    chaos_pod "${CHAOS_POD:-e2echaos}"
    chaos_start
    # make e2e: the holder alone, the daemon alone, the daemon twice in a row during an
    # adoption: 3 kills (~40 s; 120-170 s under a load average of 12-17).  Holder and daemon
    # together (hd: `pod run` adopts, up to a minute on a loaded machine) is drawn in the long
    # run (CHAOS_KILLS_WANTED, make stress), with t_recover.sh covering it here.
    local modes=${CHAOS_MODES_FIRST:-h d dd} m i=0 n=${CHAOS_KILLS_WANTED:-3} end=$(($(date +%s) + ${CHAOS_SECONDS:-100000}))
    while [ "$CHAOS_KILLS" -lt "$n" ] && [ "$(date +%s)" -lt "$end" ]; do
        i=$((i + 1))
        m=$(echo $modes | cut -d' ' -f$i 2>/dev/null)
        # then at random, mostly the daemon alone: a holder kill (hd) costs a `pod run`, an
        # adoption and a rerun of the ticker
        [ -n "$m" ] || m=$(echo "d d d dd dd hd h" | cut -d' ' -f$(($(chaos_rand 7) + 1)))
        chaos_round "$m"
    done
    # config edits reach the hup container (its handler counts its HUPs in out/hup)
    local h
    h=$(chaos_hups)
    chaos_edit
    wait_for 20 "a HUP after the last edit" chaos_hups_gt "$h"
    chaos_finish
}

# A config edit made while no daemon runs (SPEC 8.7): the next daemon compares the config's
# checksums with the ones its predecessor acted on (.pod.run/.config-sums) and reloads: the
# signal container gets its HUP, the on-config one is restarted; a daemon restart without an
# edit reloads nothing.  Without the comparison the edit is never acted on (the new daemon's
# inotify watches did not exist when it was made).
t_config_edit_while_no_daemon() {
    CONFIGS="cfg:a.txt=0" mkpod e2echcfg <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: cfg
      type: config
    - name: out
      type: host
      bind: ./out
containers:
    - name: hup
      image: localhost/podtest:1
      command: [sh, -c, 'trap "echo x >>/out/hup" HUP; while true; do sleep 0.05; done']
      stopTimeout: 1
      signal:
        - sig: HUP
      mounts:
        - volume: cfg
          dest: /cfg
        - volume: out
          dest: /out
    - name: cyc
      image: localhost/podtest:1
      command: [sleep, "600"]
      restart: on-config
      stopTimeout: 1
      mounts:
        - volume: cfg
          dest: /cfg
YAML
    mkdir -p "$PODDIR/out"
    CHAOS_CTRS="hup cyc"
    pok run
    wait_for 30 "hup running" cfield_is hup phase running
    wait_for 30 "cyc running" cfield_is cyc phase running
    echo 1 >"$PODDIR/config/cfg/a.txt"
    wait_for 10 "a HUP after an edit" chaos_hups_gt 0
    wait_for 40 "cyc restarted after an edit" cfield_is cyc instance 2
    wait_for 40 "cyc running" cfield_is cyc phase running
    # a restart without an edit: nothing reloaded
    local dp hp
    dp=$(daemon_pid)
    kill -9 "$dp"
    wait_for 30 "a new daemon" chaos_recovered "$dp"
    sleep 2
    eq "HUPs after a daemon restart without an edit" 1 "$(chaos_hups)"
    eq "cyc after a daemon restart without an edit" 2 "$(cfield cyc instance)"
    # the daemon dies, the holder waits (stopped), the config is edited, the holder goes on
    hp=$(holder_pid)
    dp=$(daemon_pid)
    kill -STOP "$hp"
    kill -9 "$dp"
    sleep 0.5
    echo 2 >"$PODDIR/config/cfg/a.txt"
    kill -CONT "$hp"
    wait_for 30 "a new daemon" chaos_recovered "$dp"
    wait_for 10 "a HUP for the edit made while no daemon ran" chaos_hups_gt 1
    wait_for 40 "cyc restarted for the edit made while no daemon ran" cfield_is cyc instance 3
    wait_for 40 "cyc running" cfield_is cyc phase running
    has_line "$PODDIR/log/e2echcfg-0.0.1-stderr.log" 'config cfg changed while no daemon ran'
    # holder and daemon dead, an edit, `pod run` adopts
    dp=$(daemon_pid)
    kill_supervisor
    wait_for 10 "supervisor gone" no_supervisor_of "$PODDIR"
    echo 3 >"$PODDIR/config/cfg/a.txt"
    pok run
    match "run" 'adopts them' "$ERR"
    wait_for 30 "a new daemon" chaos_recovered "$dp"
    wait_for 10 "a HUP for the edit made while no supervisor ran" chaos_hups_gt 2
    wait_for 40 "cyc restarted for the edit made while no supervisor ran" cfield_is cyc instance 4
    wait_for 40 "cyc running" cfield_is cyc phase running
    eq "hup: same instance" 1 "$(cfield hup instance)"
    cfg_in_cyc_is() { [ "$(in_ctr cyc cat /cfg/a.txt)" = "$1" ]; }
    wait_for 20 "the config in cyc" cfg_in_cyc_is 3
    pok rm
    nothing_left
}
