#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/idle-text/gen.sh [BUILD] - regenerates src/idle-text.ld (as root, real podman):
# runs the bench's yardstick pod (2 containers, 3 exec probes), single-steps its daemon for
# 40 s once it is idle and its holder over a container restart (sstep.c, ptrace), maps the executed addresses
# to the link's input sections (a link map of the same objects) and writes the ordering
# (gen.py).  Then `make` relinks podc with it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
B=${1:-build/gcc}
W=$(mktemp -d /tmp/idle-text.XXXXXX)
trap 'cd "$W/pod" 2>/dev/null && ./pod rm >/dev/null 2>&1; rm -rf "$W"' EXIT
make --no-print-directory BUILD="$B" all >/dev/null
gcc -O2 -o "$W/sstep" tests/bench/idle-text/sstep.c
# The same link as the Makefile's, with a map (same inputs, same order: the same layout).
gcc -static -Wl,-T,src/idle-text.ld -o "$W/podc" "$B"/src/cli/*.o "$B/libpod.a" \
    -lyaml -ljansson -pthread -Wl,-Map="$W/podc.map"
cmp -s <(objcopy -O binary --only-section=.text "$W/podc" /dev/stdout) \
    <(objcopy -O binary --only-section=.text "$B/podc" /dev/stdout) ||
    { echo "gen.sh: the relinked podc differs from $B/podc" >&2; exit 1; }
mkdir -p "$W/pod"
sed -n '/^mk benchcpu <<.YAML.$/,/^YAML$/p' tests/bench/runtime_cpu.sh | sed '1d;$d' |
    sed 's/18771/18772/' >"$W/pod/pod.yaml"
(cd "$W/pod" && SPACE_LOG_LEVEL=1 "$OLDPWD/$B/podc" idletext -o pod >/dev/null &&
    ./pod run --host-interface=127.0.0.1 >/dev/null 2>&1)
for _ in $(seq 1 100); do grep -q '^readiness: 1' "$W/pod/.pod.status" 2>/dev/null && break; sleep 0.2; done
sleep 15
D=$(awk '$1 == "daemon" {print $2}' "$W/pod/.pod.pid")
H=$(awk '$1 == "holder" {print $2}' "$W/pod/.pod.pid")
"$W/sstep" "$D" 40 "$W/daemon.rips"
# The holder sleeps in poll when nothing happens: trace it over a container restart (the
# daemon hands it the new log pipes) and a `pod ps`.
"$W/sstep" "$H" 25 "$W/holder.rips" &
sleep 2
(cd "$W/pod" && ./pod rerun worker >/dev/null 2>&1 && ./pod ps >/dev/null 2>&1)
wait
python3 tests/bench/idle-text/gen.py "$W/podc.map" "$W/holder.rips" "$W/daemon.rips" >src/idle-text.ld
echo "src/idle-text.ld: $(grep -c '^    \*' src/idle-text.ld) input sections"
