# SPDX-License-Identifier: MIT
# tests/e2e/t_shell.sh - `pod shell`: exactly the given argv (B14), exit codes passed through,
# stdin passed through, sns's positional container, the last container by default, unknown
# containers, an empty command word (usage).  The containers are started by hand with the pod's names and labels (the runner
# removes everything labelled podc.pod=e2esh-*), so these tests need no `pod run`.

pod_sh() {
    mkpod e2esh <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: one
      image: localhost/podtest:1
      command: [sleep, "300"]
    - name: two
      image: localhost/podtest:1
      command: [sleep, "300"]
YAML
    local c
    for c in one two; do
        (cd / && podman run -d --name "$c-e2esh-0.0.1" --label podc.pod=e2esh-0.0.1 \
            -e WHO=$c "$E2E_IMAGE" sleep 300 >/dev/null) || fail "podman run $c"
    done
}

# px ARGS...: the pod called directly (argv kept as is) from an unreadable cwd; OUT ERR RC.
px() {
    RC=0
    OUT=$(cd "$E2E_NOCWD" 2>/dev/null; "$POD" "$@" 2>"$T/.err" </dev/null) || RC=$?
    ERR=$(cat "$T/.err")
}

t_shell_keeps_argument_boundaries() {
    pod_sh
    px shell -c one -- sh -c 'printf "[%s]" "$@"' x "a b" "" 'c "d"' '$HOME'
    eq "rc" 0 "$RC"
    eq "argv" '[a b][][c "d"][$HOME]' "$OUT"
    px shell -c one -- sh -c 'echo a "b c"'
    eq "echo" 'a b c' "$OUT"
}

t_shell_exit_code_passes_through() {
    pod_sh
    px shell -c two -- sh -c 'exit 7'
    eq "rc" 7 "$RC"
    px shell -- false
    eq "rc" 1 "$RC"
}

t_shell_default_and_positional_container() {
    pod_sh
    px shell -- sh -c 'echo $WHO'
    eq "default (last)" two "$OUT"
    px shell one sh -c 'echo $WHO' # sns: container first, no --
    eq "positional" one "$OUT"
    px shell "" sh -c 'echo $WHO' # sns with no container
    eq "empty positional" two "$OUT"
    px shell --container=one -- sh -c 'echo $WHO'
    eq "--container" one "$OUT"
}

t_shell_stdin_passes_through() {
    pod_sh
    RC=0
    OUT=$(cd "$E2E_NOCWD" 2>/dev/null; printf 'hello\nworld\n' | "$POD" shell -c one -- wc -l) || RC=$?
    eq "rc" 0 "$RC"
    eq "lines" 2 "$(echo $OUT)"
    OUT=$(cd "$E2E_NOCWD" 2>/dev/null; echo 'echo from-stdin $WHO' | "$POD" shell one)
    eq "interactive sh reads stdin" "from-stdin one" "$OUT"
}

t_shell_unknown_container() {
    pod_sh
    px shell -c nope -- true
    eq "rc" 1 "$RC"
    match "message" 'Container nope does not exist in this pod' "$ERR"
    px shell -x
    eq "usage rc" 100 "$RC"
}

# An empty command word is refused before podman (usage, 100), where the command starts after
# `--` or after sns's positional container; an empty word later in the command is data.
t_shell_empty_command_word() {
    pod_sh
    px shell -- ''
    eq "rc" 100 "$RC"
    match "message" 'empty command word' "$ERR"
    px shell one '' x
    eq "positional rc" 100 "$RC"
    px shell -c one -- sh -c 'printf "[%s]" "$1"' x ''
    eq "empty later word rc" 0 "$RC"
    eq "empty later word" '[]' "$OUT"
}
