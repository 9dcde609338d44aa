# SPDX-License-Identifier: MIT
# tests/e2e/t_untrusted.sh - the pod directory is not trusted (SPEC 7.5.1): it arrives by a git
# sync and may carry symbolic links, FIFOs, huge files where the pod keeps its own.  A link is
# never followed out of the directory and never written through; the action refuses with a
# clear message (exit 1).  Every "victim" is a directory of the test standing in for /etc or
# another pod's directory: it must be left exactly as it was.  Also: spec strings with shell
# syntax reach podman as single argv elements (no injection), and the modes of the files a
# real run leaves (none world-writable, also under umask 000).

source "$(dirname "${BASH_SOURCE[0]}")/lib_life.sh"

un_pod() { # un_pod NAME: a container printing a line every 0.1 s, a config and a ramdisk
    CONFIGS="conf:a.txt=hello" mkpod "$1" <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
logs:
    maxSize: 4K
    maxFiles: 2
volumes:
    - name: conf
      type: config
    - name: scratch
      type: ramdisk
      size: 1M
containers:
    - name: main
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do echo tick-012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789; sleep 0.1; done']
      mounts:
          - volume: conf
            dest: /conf
          - volume: scratch
            dest: /scratch
YAML
    VICTIM=$T/victim
    mkdir -p "$VICTIM"
    echo precious >"$VICTIM/keep"
}

victim_intact() {
    eq "victim directory" "keep" "$(ls -A "$VICTIM" | tr '\n' ' ' | sed 's/ $//')"
    eq "victim file" "precious" "$(cat "$VICTIM/keep")"
}

t_untrusted_log_links_refused() {
    un_pod e2eunlog
    ln -s "$VICTIM" "$PODDIR/log"
    prc 1 run
    match "message" '`log` in the pod directory is a symbolic link: refused' "$ERR"
    eq "podman objects" "" "$(pod_objects)"
    victim_intact
    rm "$PODDIR/log"
    mkdir "$PODDIR/log"
    ln -s "$VICTIM/keep" "$PODDIR/log/main-e2eunlog-0.0.1-stdout.log"
    prc 1 run
    match "message" '`log/main-e2eunlog-0.0.1-stdout.log` in the pod directory is a symbolic link' "$ERR"
    prc 1 logs # `pod logs` refuses too, it does not print the link's target
    match "logs message" 'symbolic link: refused' "$ERR"
    case "$OUT" in *precious*) fail "pod logs printed the target of a link: $OUT" ;; esac
    victim_intact
}

t_untrusted_status_state_links_and_fifo() {
    un_pod e2eunst
    ln -s "$VICTIM/keep" "$PODDIR/.pod.status"
    prc 1 run
    match "message" '`.pod.status` in the pod directory is a symbolic link: refused' "$ERR"
    victim_intact
    rm "$PODDIR/.pod.status"
    mkfifo "$PODDIR/.pod.state"
    prc 1 run
    match "message" '`.pod.state` in the pod directory is a fifo, not a regular file: refused' "$ERR"
    # the queries read the files: a FIFO is never waited on, a link never followed
    ln -s "$VICTIM/keep" "$PODDIR/.pod.status"
    local t0
    t0=$(ms)
    p ps
    [ $(($(ms) - t0)) -lt 20000 ] || fail "pod ps blocked on a FIFO"
    case "$OUT" in *precious*) fail "pod ps showed the target of a link: $OUT" ;; esac
    p readiness
    [ "$RC" != 0 ] || fail "readiness through a link to a file: rc 0"
    victim_intact
    # a huge status file is refused before it is read
    rm "$PODDIR/.pod.state" "$PODDIR/.pod.status"
    truncate -s 64M "$PODDIR/.pod.status"
    p ps
    match "ps message" '`.pod.status` in the pod directory is larger than [0-9]+ bytes: refused' "$ERR"
}

t_untrusted_config_and_ramdisk_links() {
    un_pod e2euncf
    mv "$PODDIR/config/conf" "$T/conf.real"
    ln -s "$VICTIM" "$PODDIR/config/conf"
    prc 1 run
    match "message" '`config/conf` in the pod directory is a symbolic link: refused' "$ERR"
    prc 1 create
    eq "podman objects" "" "$(pod_objects)"
    victim_intact
    rm "$PODDIR/config/conf"
    mv "$T/conf.real" "$PODDIR/config/conf"
    # ramdisk -> the victim: refused by run; `rm` (which removes fake ramdisks) must not
    # remove the victim's subdirectory of the ramdisk's name
    mkdir -p "$VICTIM/scratch"
    ln -s "$VICTIM" "$PODDIR/ramdisk"
    prc 1 run
    match "message" '`ramdisk` in the pod directory is a symbolic link: refused' "$ERR"
    p rm
    [ -d "$VICTIM/scratch" ] || fail "rm removed a directory through the ramdisk link"
    rm "$PODDIR/ramdisk"
    rmdir "$VICTIM/scratch"
    victim_intact
}

t_untrusted_log_link_while_running() {
    un_pod e2eunrun
    pok run
    local f=$PODDIR/log/main-e2eunrun-0.0.1-stdout.log
    wait_for 60 "output in the log" grep -q tick "$f"
    # a sync replaces log/ by a link while the pod runs: rotation (4K) must not follow it
    mv "$PODDIR/log" "$PODDIR/log.away"
    ln -s "$VICTIM" "$PODDIR/log"
    # ~2 KB/s of output: past two 4K rotations
    sleep 6
    victim_intact
    rm "$PODDIR/log"
    mv "$PODDIR/log.away" "$PODDIR/log"
    pok rm
    victim_intact
}

# A podman wrapper that records every argv element on its own line (NUL-separated file), then
# runs the real podman.
write_argv_recorder() {
    REC=$T/argv.rec
    cat >"$T/podman-rec" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\0' "\$a" >>"$REC"; done
printf '\0' >>"$REC"
exec podman "\$@"
EOF
    chmod +x "$T/podman-rec"
    : >"$REC"
}

t_untrusted_spec_strings_single_argv() {
    local long
    long=$(head -c 20000 /dev/zero | tr '\0' 'x')
    mkpod e2euninj <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: main
      image: localhost/podtest:1
      command: [sh, -c, 'trap "exit 0" TERM; printf "%s|" "\$X" "\$Y" "\$Z"; while sleep 0.2; do :; done', 'a;b', '\$(touch $T/pwned)']
      env:
          - name: X
            value: "a\$(touch $T/pwned)b\`touch $T/pwned\`;c'd\"e"
          - name: Y
            value: "line1\nline2 ../../etc"
          - name: Z
            value: "$long"
YAML
    write_argv_recorder
    POD_PODMAN=$T/podman-rec pok run
    wait_for 60 "main running" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' $(ctr main) 2>/dev/null)\" = running ]"
    [ ! -e "$T/pwned" ] || fail "a spec string was run by a shell"
    local env
    env=$(podman container inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$(ctr main)")
    printf '%s\n' "$env" | grep -qxF "X=a\$(touch $T/pwned)b\`touch $T/pwned\`;c'd\"e" ||
        fail "X not passed verbatim: $(printf '%s\n' "$env" | grep '^X=')"
    printf '%s\n' "$env" | grep -qxF "Z=$long" || fail "the 20000-byte value was not passed whole"
    eq "argv element with a newline" 1 \
        "$(tr '\0' '\n' <"$REC" | grep -c '^Y=line1$')"
    tr '\0' '\n' <"$REC" | grep -qx 'line2 ../../etc' || fail "Y's second line is not in its element"
    # the command: one argv element after --entrypoint, a JSON array with one string per word
    # (podman 4's inspect joins Entrypoint with spaces, so the recorded argv is the evidence)
    local cmd
    cmd=$(tr '\0' '\n' <"$REC" | grep -A1 -x -- '--entrypoint' | grep '^\[' | head -1)
    case "$cmd" in *'"a;b","$(touch '*'/pwned)"]') ;; *) fail "the command's words are not whole elements: $cmd" ;; esac
    eq "entrypoint" "sh -c trap \"exit 0\" TERM; printf \"%s|\" \"\$X\" \"\$Y\" \"\$Z\"; while sleep 0.2; do :; done a;b \$(touch $T/pwned)" \
        "$(podman container inspect --format '{{.Config.Entrypoint}}' "$(ctr main)")"
    # what the container's shell printed: the values, verbatim
    wait_for 30 "the container's output" grep -q 'line2' "$PODDIR/log/main-e2euninj-0.0.1-stdout.log"
    pok rm
    [ ! -e "$T/pwned" ] || fail "a spec string was run by a shell"
}

t_untrusted_names_cannot_escape() {
    local name
    for name in '../x' 'a/b' 'x;y' '$(id)'; do
        mkdir -p "$T/esc"
        cat >"$T/esc/pod.yaml" <<YAML
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: "$name"
      type: config
containers:
    - name: "$name"
      image: localhost/podtest:1
YAML
        local rc=0
        (cd "$T/esc" && "$PODC" e2eunesc -o pod) >"$T/esc.out" 2>&1 || rc=$?
        eq "podc rc for name $name" 1 "$rc"
        grep -q 'invalid volume name' "$T/esc.out" || fail "no diagnostic for volume name $name: $(cat "$T/esc.out")"
        grep -q 'containers\[0\].name' "$T/esc.out" || fail "no diagnostic for container name $name: $(cat "$T/esc.out")"
        [ ! -e "$T/esc/pod" ] || fail "a pod was written for name $name"
    done
}

t_untrusted_file_modes() {
    un_pod e2eunmode
    (
        umask 000
        cd "$E2E_NOCWD" 2>/dev/null # as p does (not enterable by the rootless user)
        "$POD" run
    ) >/dev/null 2>"$T/run.err" || fail "run under umask 000: $(cat "$T/run.err")"
    wait_for 60 "output in the log" grep -q tick "$PODDIR/log/main-e2eunmode-0.0.1-stdout.log"
    wait_for 30 "the state file" test -f "$PODDIR/.pod.state"
    local f got
    for f in .pod.status .pod.state .pod.lock .pod.pid .pod.sock .pod.hostif .pod.run log \
        log/main-e2eunmode-0.0.1-stdout.log log/main-e2eunmode-0.0.1-stderr.log \
        log/e2eunmode-0.0.1-stderr.log; do
        [ -e "$PODDIR/$f" ] || continue
        got=$(stat -c '%a' "$PODDIR/$f")
        case "$f" in
        .pod.lock | .pod.sock) eq "mode of $f" 600 "$got" ;;
        .pod.run) eq "mode of $f" 700 "$got" ;;
        log) eq "mode of $f" 755 "$got" ;;
        *) eq "mode of $f" 644 "$got" ;;
        esac
    done
    # nothing in the pod directory is world-writable, but the agents' directories under the
    # 0700 .pod.run (SPEC 7.5)
    got=$(find "$PODDIR" -perm -o+w ! -type l ! -path "$PODDIR/.pod.run/*" -printf '%P\n')
    eq "world-writable files" "" "$got"
    pok rm
}

t_untrusted_config_link_while_running() {
    CONFIGS="conf:a.txt=hello" mkpod e2eunswap <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: conf
      type: config
containers:
    - name: main
      image: localhost/podtest:1
      restart: always
      command: [sh, -c, 'trap "exit 0" TERM; while sleep 0.2; do :; done']
      mounts:
          - volume: conf
            dest: /conf
YAML
    VICTIM=$T/victim
    mkdir -p "$VICTIM"
    echo precious >"$VICTIM/keep"
    pok run
    wait_for 60 "main running" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' $(ctr main) 2>/dev/null)\" = running ]"
    # a sync swaps config/conf for a link, then the container dies: the daemon's next
    # `podman run` would bind-mount the link's target; it is refused and retried instead
    mv "$PODDIR/config/conf" "$T/conf.real"
    ln -s "$VICTIM" "$PODDIR/config/conf"
    podman kill "$(ctr main)" >/dev/null
    wait_for 60 "the refusal in the daemon log" grep -q '`config/conf` in the pod directory is a symbolic link' "$PODDIR/log/e2eunswap-0.0.1-stderr.log"
    local mounted
    mounted=$(podman exec "$(ctr main)" ls /conf 2>/dev/null || true)
    case "$mounted" in *keep*) fail "the container mounted the link's target: $mounted" ;; esac
    # the link goes away: the retry succeeds
    rm "$PODDIR/config/conf"
    mv "$T/conf.real" "$PODDIR/config/conf"
    wait_for 90 "main running again" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' $(ctr main) 2>/dev/null)\" = running ]"
    eq "the config mounted" "a.txt" "$(podman exec "$(ctr main)" ls /conf)"
    pok rm
}

run_pod() { # run_pod NAME: restart always, an exec probe (the agent), a config with a signal
    CONFIGS="conf:a.txt=hello" mkpod "$1" <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
volumes:
    - name: conf
      type: config
containers:
    - name: main
      image: localhost/podtest:1
      restart: always
      command: [sh, -c, 'trap "exit 0" TERM; trap "echo HUP" HUP; while sleep 0.2; do :; done']
      signal:
        - sig: HUP
      readinessProbe:
        cmd: [sh, -c, 'test -e /proc/1']
        periodSeconds: 1
      mounts:
          - volume: conf
            dest: /conf
YAML
}

# `.pod.run` (the agents' sockets, `.config-sums`) swapped for a link to a directory outside
# while the pod runs (SPEC 7.5.1): the daemon's writes there (the config checksums after an
# edit), its unlink of a dead agent's socket and the bind mount of `.pod.run/main` at the
# restart are refused with a WARN; nothing in the victim is written, removed or mounted; the
# daemon keeps running and the pod recovers once the link is gone.
t_untrusted_run_dir_link_while_running() {
    run_pod e2eunrund
    local dlog=$PODDIR/log/e2eunrund-0.0.1-stderr.log
    VICTIM=$T/victim
    mkdir -p "$VICTIM/main"
    echo precious >"$VICTIM/keep"
    echo precious >"$VICTIM/.config-sums"
    echo precious >"$VICTIM/main/agent.sock"
    pok run
    wait_for 60 "main running" cfield_is main phase running
    wait_for 60 "the agent's socket" test -S "$PODDIR/.pod.run/main/agent.sock"
    local dpid
    dpid=$(daemon_pid)
    [ -n "$dpid" ] || fail "no daemon pid"
    mv "$PODDIR/.pod.run" "$T/run.away"
    ln -s "$VICTIM" "$PODDIR/.pod.run"
    # an edit: the daemon saves the config checksums in .pod.run/.config-sums (the waits end
    # early when the victim was changed: the assertion after it then names the harm)
    echo edited >"$PODDIR/config/conf/a.txt"
    wait_for 60 "the refused checksum write (or a write through the link)" sh -c "grep -q 'cannot save the config checksums: \`.pod.run\` in the pod directory is a symbolic link' '$dlog' || ! grep -qx precious '$VICTIM/.config-sums'"
    eq "victim's checksums" precious "$(cat "$VICTIM/.config-sums")"
    # the container dies: its agent's socket is removed, and the restart bind-mounts
    # .pod.run/main; both are refused
    podman kill "$(ctr main)" >/dev/null
    wait_for 60 "the refused socket unlink (or an unlink through the link)" sh -c "grep -q 'main: agent socket not removed: \`.pod.run\` in the pod directory is a symbolic link' '$dlog' || ! test -e '$VICTIM/main/agent.sock'"
    eq "victim's socket name" precious "$(cat "$VICTIM/main/agent.sock" 2>&1)"
    wait_for 60 "the refused restart (or a restart mounting the link's target)" sh -c "grep -v 'cannot save\\|agent socket not removed' '$dlog' | grep -q '\`.pod.run\` in the pod directory is a symbolic link' || [ \"\$(podman container inspect --format '{{.State.Status}}' $(ctr main) 2>/dev/null)\" = running ]"
    eq "victim entries" ".config-sums keep main" "$(ls -A "$VICTIM" | tr '\n' ' ' | sed 's/ $//')"
    eq "victim's main" "agent.sock" "$(ls -A "$VICTIM/main")"
    eq "victim file" precious "$(cat "$VICTIM/keep")"
    local st
    st=$(podman container inspect --format '{{.State.Status}}' "$(ctr main)" 2>/dev/null || true)
    [ "$st" != running ] || fail "main restarted with the link's target mounted"
    wait_for 30 "ps: main's last warning" sh -c "$POD ps 2>/dev/null | grep -q 'lastWarning: .*\`.pod.run\` in the pod directory is a symbolic link'"
    kill -0 "$dpid" || fail "the daemon exited"
    eq "daemon pid" "$dpid" "$(daemon_pid)"
    # the link goes away: the retry succeeds
    rm "$PODDIR/.pod.run"
    mv "$T/run.away" "$PODDIR/.pod.run"
    wait_for 120 "main running again" cfield_is main phase running
    pok rm
    eq "victim entries after rm" ".config-sums keep main" "$(ls -A "$VICTIM" | tr '\n' ' ' | sed 's/ $//')"
}

# Only the agent's directory `.pod.run/main` is swapped for a link: a dead agent's socket is
# not removed through it, the restart does not bind-mount its target (SPEC 7.5.1).
t_untrusted_agent_dir_link_while_running() {
    run_pod e2eunagd
    local dlog=$PODDIR/log/e2eunagd-0.0.1-stderr.log
    VICTIM=$T/victim
    mkdir -p "$VICTIM"
    echo precious >"$VICTIM/agent.sock"
    pok run
    wait_for 60 "main running" cfield_is main phase running
    wait_for 60 "the agent's socket" test -S "$PODDIR/.pod.run/main/agent.sock"
    local dpid
    dpid=$(daemon_pid)
    mv "$PODDIR/.pod.run/main" "$T/main.away"
    ln -s "$VICTIM" "$PODDIR/.pod.run/main"
    podman kill "$(ctr main)" >/dev/null
    wait_for 60 "the refused socket unlink (or an unlink through the link)" sh -c "grep -q 'main: agent socket not removed: \`.pod.run/main\` in the pod directory is a symbolic link' '$dlog' || ! test -e '$VICTIM/agent.sock'"
    eq "victim's socket name" precious "$(cat "$VICTIM/agent.sock" 2>&1)"
    wait_for 60 "the refused restart (or a restart mounting the link's target)" sh -c "grep -v 'agent socket not removed' '$dlog' | grep -q '\`.pod.run/main\` in the pod directory is a symbolic link' || [ \"\$(podman container inspect --format '{{.State.Status}}' $(ctr main) 2>/dev/null)\" = running ]"
    local st
    st=$(podman container inspect --format '{{.State.Status}}' "$(ctr main)" 2>/dev/null || true)
    [ "$st" != running ] || fail "main restarted with the link's target mounted"
    eq "victim entries" "agent.sock" "$(ls -A "$VICTIM")"
    kill -0 "$dpid" || fail "the daemon exited"
    rm "$PODDIR/.pod.run/main"
    mv "$T/main.away" "$PODDIR/.pod.run/main"
    wait_for 120 "main running again" cfield_is main phase running
    pok rm
    eq "victim entries after rm" "agent.sock" "$(ls -A "$VICTIM")"
}
