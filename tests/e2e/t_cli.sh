# SPDX-License-Identifier: MIT
# tests/e2e/t_cli.sh - how a pod is invoked: any cwd, any path form, no files from queries.

pod_simple() {
    mkpod e2ecli <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: main
      image: localhost/podtest:1
      command: [sleep, "300"]
YAML
}

# `info` from an unreadable cwd: exit 0, creates nothing in the pod directory (sns runs it inside
# the cluster repository).
t_info_creates_nothing() {
    pod_simple
    local before after
    before=$(ls -A "$PODDIR")
    pok info
    match "info output" '^pod: e2ecli-0.0.1' "$OUT"
    after=$(ls -A "$PODDIR")
    eq "pod dir entries" "$before" "$after"
}

# `sub/pod` from the parent directory and `sh -c "/abs/pod ..."` from / both work (B13).
t_relative_and_absolute_invocation() {
    pod_simple
    (cd "$T" && ./e2ecli/pod version) | grep -q '^podVersion 0.0.1$' || fail "sub/pod version"
    (cd / && sh -c "$POD version") | grep -q '^api ' || fail "abs path from /"
}
