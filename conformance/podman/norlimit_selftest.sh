#!/bin/sh
# SPDX-License-Identifier: MIT
# conformance/podman/norlimit_selftest.sh WRAPPER - golden test of the rlimit stripper in
# runc_norlimit.c: for each norlimit/<kind>-<case>.json (kind: config = bundle config.json,
# process = exec --process file) `WRAPPER --strip-only <kind> COPY` must turn COPY into
# <kind>-<case>.expected byte for byte, keep the file mode, and leave no temporary file.
set -eu
wrapper=$1
dir=$(dirname "$0")/norlimit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
for f in "$dir"/*.json; do
    name=$(basename "$f" .json)
    kind=${name%%-*}
    cp "$f" "$tmp/$name"
    chmod 0640 "$tmp/$name"
    if ! "$wrapper" --strip-only "$kind" "$tmp/$name"; then
        echo "FAIL runc-norlimit $name: exit status $?"; bad=$((bad + 1))
    elif ! cmp -s "$tmp/$name" "$dir/$name.expected"; then
        echo "FAIL runc-norlimit $name: output differs from $name.expected"; bad=$((bad + 1))
    elif [ "$(stat -c %a "$tmp/$name")" != 640 ]; then
        echo "FAIL runc-norlimit $name: mode changed to $(stat -c %a "$tmp/$name")"; bad=$((bad + 1))
    fi
    n=$((n + 1))
done
if [ "$(find "$tmp" -type f | wc -l)" != "$n" ]; then
    echo "FAIL runc-norlimit: temporary files left behind: $(ls "$tmp")"; bad=$((bad + 1))
fi
[ "$n" -gt 0 ] || { echo "FAIL runc-norlimit: no cases in $dir"; exit 1; }
echo "runc-norlimit stripper: $((n - bad)) of $n golden cases ok"
[ "$bad" = 0 ]
