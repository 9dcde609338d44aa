#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/golden/run.sh - golden tests of the podc command line and of the compiled pod.
#
#   tests/golden/run.sh PODC WORKDIR [CASE...]     (make golden runs it with $(PODC))
#
# Every directory tests/data/podc/<case>/ is one case.  Its files:
#   args              podc arguments, one per line, no shell evaluation ("<dir>" = the
#                     absolute work directory of the case; an empty line is an empty argument)
#   env               optional: NAME=value lines, the whole environment of podc besides
#                     PATH=/usr/bin:/bin (the run starts from `env -i`)
#   run-in            optional: directory (relative to the work dir) to run podc from
#   inputs-from       optional: directories (relative to tests/data, one per line) whose
#                     files are copied into the work dir first (e.g. examples/nr1)
#   pod-path          optional: path of the pod executable relative to the work dir (default pod)
#   expected.rc       podc's exit status
#   expected.stdout   podc's stdout (absent = must be empty)
#   expected.stderr   podc's stderr; the work dir's absolute path reads as <dir>
#   expected.no-pod   rc 0 without compiling (-h, -V): nothing may be created
# For a successful compile (rc 0):
#   expected.portmappings | expected.no-portmappings   <out>.portmappings.conf (or: absent)
#   expected.ingress | expected.no-ingress             <out>.ingress.conf (or: absent)
#   expected.copy-of   (executable runtime) <out> must equal this file of the work dir;
#                      otherwise <out> is a pod image and:
#   expected.info      stdout of `<out> info`, run as `env -i <abs out> info` from /
#   expected.version   stdout of `<out> version`, same way
#   pod-runs + expected.pod-runs   optional: one pod invocation per line (words split on
#                      spaces, no shell), run from / with env -i; transcript of stdout,
#                      stderr ("! " prefix) and "rc=N" per invocation
#   pod-damage         optional: `truncate N` or `flip N` (N bytes before the end), applied to
#                      <out> before pod-runs
# Any file that a case creates besides <out>, <out>.portmappings.conf and
# <out>.ingress.conf is a failure (no dotfiles, no temporaries); a failing compile must create
# nothing at all.  RUNNER (make valgrind) prefixes every podc run.  On a mismatch the runner prints a unified diff and keeps actual.* files in
# the work dir.  UPDATE=1 writes the expected files from the actual results instead.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 PODC WORKDIR [CASE...]" >&2
    exit 100
fi
PODC=$(realpath "$1")
WORK=$(realpath -m "$2")
shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA="$ROOT/tests/data"
CASES="$DATA/podc"
UPDATE=${UPDATE:-0}
# RUNNER (e.g. valgrind ...) prefixes the podc invocations; the pods run directly.
RUNNER_ARGV=()
read -r -a RUNNER_ARGV <<<"${RUNNER:-}"

# Is podc static (then every pod must be too)?  Sanitizer/valgrind variants are dynamic.
# (No PT_INTERP program header = static.)
PODC_STATIC=1
if LC_ALL=C readelf -lW "$PODC" | grep -q 'INTERP'; then
    PODC_STATIC=0
fi

pass=0
fail=0
failed_cases=()

# compare NAME EXPECTED_FILE ACTUAL_FILE: diff, or in UPDATE mode copy.
compare() {
    local name=$1 exp=$2 act=$3
    if [ "$UPDATE" = 1 ]; then
        cp "$act" "$exp"
        return 0
    fi
    if [ ! -e "$exp" ]; then
        echo "    missing $(basename "$exp") (actual in $act)"
        return 1
    fi
    if ! diff -u --label "expected $name" --label "actual $name" "$exp" "$act" | sed 's/^/    /'; then
        return 1
    fi
    if ! cmp -s "$exp" "$act"; then
        return 1
    fi
    return 0
}

# normalize FILE DIR: replace the case's absolute work dir by <dir>.
normalize() {
    local f=$1 d=$2
    local tmp="$f.norm"
    awk -v d="$d" '{ while ((i = index($0, d)) > 0) $0 = substr($0, 1, i - 1) "<dir>" substr($0, i + length(d)); print }' "$f" >"$tmp"
    mv "$tmp" "$f"
}

listing() { (cd "$1" && find . -mindepth 1 \( -name 'actual.*' -o -name '.golden.*' \) -prune -o -print | LC_ALL=C sort); }

# run_pod WORKDIR OUT ARGS... : one transcript entry.
run_pod() {
    local dir=$1 out=$2
    shift 2
    local o="$dir/.golden.pout" e="$dir/.golden.perr"
    (cd / && env -i "$out" "$@" >"$o" 2>"$e")
    local rc=$?
    echo "\$ pod $*"
    cat "$o"
    sed 's/^/! /' "$e"
    echo "rc=$rc"
    rm -f "$o" "$e"
}

run_case() {
    local name=$1 src="$CASES/$1" dir="$WORK/$1"
    local ok=0
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ -f "$src/inputs-from" ]; then
        while IFS= read -r from || [ -n "$from" ]; do
            [ -n "$from" ] && cp -a "$DATA/$from/." "$dir/"
        done <"$src/inputs-from"
    fi
    # Inputs: everything but the case's control and expected files.
    (cd "$src" && find . -mindepth 1 -maxdepth 1 ! -name 'expected.*' ! -name args ! -name env \
        ! -name run-in ! -name pod-path ! -name inputs-from ! -name pod-runs ! -name pod-damage \
        -exec cp -a {} "$dir/" \;)

    local args=()
    if [ -f "$src/args" ]; then
        while IFS= read -r a || [ -n "$a" ]; do
            args+=("${a//<dir>/$dir}")
        done <"$src/args"
    fi
    local envv=(PATH=/usr/bin:/bin)
    if [ -f "$src/env" ]; then
        while IFS= read -r a || [ -n "$a" ]; do
            [ -n "$a" ] && envv+=("${a//<dir>/$dir}")
        done <"$src/env"
    fi
    local cwd=$dir
    [ -f "$src/run-in" ] && cwd="$dir/$(head -n1 "$src/run-in")"
    local out_rel=pod
    [ -f "$src/pod-path" ] && out_rel=$(head -n1 "$src/pod-path")
    local out="$dir/$out_rel"

    local before after
    before=$(listing "$dir")
    (cd "$cwd" && env -i "${envv[@]}" "${RUNNER_ARGV[@]}" "$PODC" "${args[@]}" >"$dir/actual.stdout" 2>"$dir/actual.stderr")
    echo $? >"$dir/actual.rc"
    after=$(listing "$dir")
    normalize "$dir/actual.stderr" "$dir"
    normalize "$dir/actual.stdout" "$dir"

    compare rc "$src/expected.rc" "$dir/actual.rc" || ok=1
    compare stderr "$src/expected.stderr" "$dir/actual.stderr" || ok=1
    if [ -f "$src/expected.stdout" ] || [ -s "$dir/actual.stdout" ]; then
        if [ "$UPDATE" = 1 ] && [ ! -s "$dir/actual.stdout" ]; then
            rm -f "$src/expected.stdout"
        else
            compare stdout "$src/expected.stdout" "$dir/actual.stdout" || ok=1
        fi
    fi

    local rc
    rc=$(cat "$dir/actual.rc")
    if [ "$rc" != 0 ] || [ -f "$src/expected.no-pod" ]; then
        if [ "$before" != "$after" ]; then
            echo "    a failing compile (or -h/-V) changed the directory:"
            diff <(echo "$before") <(echo "$after") | sed 's/^/      /'
            ok=1
        fi
        return $ok
    fi

    # Successful compile: exactly the outputs, nothing else.
    local allowed
    allowed=$(printf '%s\n' "$before" "./$out_rel" "./$out_rel.portmappings.conf" "./$out_rel.ingress.conf" | grep -v '^$' | LC_ALL=C sort -u)
    local extra
    extra=$(comm -13 <(echo "$allowed") <(echo "$after"))
    if [ -n "$extra" ]; then
        echo "    unexpected files: $extra"
        ok=1
    fi
    if [ ! -x "$out" ]; then
        echo "    $out_rel is missing or not executable"
        return 1
    fi
    local kind
    for kind in portmappings ingress; do
        local f="$out.$kind.conf"
        if [ "$UPDATE" = 1 ]; then
            rm -f "$src/expected.$kind" "$src/expected.no-$kind"
            if [ -e "$f" ]; then cp "$f" "$src/expected.$kind"; else : >"$src/expected.no-$kind"; fi
        elif [ -f "$src/expected.no-$kind" ]; then
            [ -e "$f" ] && { echo "    $out_rel.$kind.conf exists but must not"; ok=1; }
        elif [ -f "$src/expected.$kind" ]; then
            if [ -e "$f" ]; then
                cp "$f" "$dir/actual.$kind"
                compare "$kind" "$src/expected.$kind" "$dir/actual.$kind" || ok=1
            else
                echo "    $out_rel.$kind.conf is missing"
                ok=1
            fi
        else
            echo "    case lacks expected.$kind or expected.no-$kind"
            ok=1
        fi
    done

    if [ -f "$src/expected.copy-of" ]; then
        if ! cmp -s "$out" "$dir/$(head -n1 "$src/expected.copy-of")"; then
            echo "    $out_rel is not a copy of $(head -n1 "$src/expected.copy-of")"
            ok=1
        fi
        return $ok
    fi

    if [ "$PODC_STATIC" = 1 ] && ! LC_ALL=C ldd "$out" 2>&1 | grep -q 'not a dynamic executable'; then
        echo "    $out_rel is dynamically linked (ldd: $(ldd "$out" 2>&1 | head -n1))"
        ok=1
    fi
    (cd / && env -i "$out" info >"$dir/actual.info" 2>"$dir/actual.info.stderr")
    local irc=$?
    normalize "$dir/actual.info" "$dir"
    [ "$irc" = 0 ] || { echo "    pod info exited $irc: $(cat "$dir/actual.info.stderr")"; ok=1; }
    compare info "$src/expected.info" "$dir/actual.info" || ok=1
    (cd / && env -i "$out" version >"$dir/actual.version" 2>&1)
    compare version "$src/expected.version" "$dir/actual.version" || ok=1

    if [ -f "$src/pod-damage" ]; then
        local op n size
        read -r op n <"$src/pod-damage"
        size=$(stat -c %s "$out")
        case $op in
        truncate) truncate -s $((size - n)) "$out" ;;
        flip)
            local off=$((size - n)) byte
            byte=$(od -An -tu1 -j "$off" -N1 "$out" | tr -d ' ')
            printf "$(printf '\\%03o' $((byte ^ 32)))" | dd of="$out" bs=1 seek="$off" conv=notrunc status=none
            ;;
        *) echo "    bad pod-damage: $op"; ok=1 ;;
        esac
    fi
    if [ -f "$src/pod-runs" ]; then
        : >"$dir/actual.pod-runs"
        while IFS= read -r line || [ -n "$line" ]; do
            [ -z "$line" ] && continue
            local words=()
            read -r -a words <<<"$line"
            run_pod "$dir" "$out" "${words[@]}" >>"$dir/actual.pod-runs"
        done <"$src/pod-runs"
        normalize "$dir/actual.pod-runs" "$dir"
        compare pod-runs "$src/expected.pod-runs" "$dir/actual.pod-runs" || ok=1
    fi
    return $ok
}

mkdir -p "$WORK"
if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for d in "$CASES"/*/; do
        names+=("$(basename "$d")")
    done
fi
for name in "${names[@]}"; do
    if [ ! -d "$CASES/$name" ]; then
        echo "FAIL $name (no such case)"
        fail=$((fail + 1))
        continue
    fi
    if out=$(run_case "$name" 2>&1); then
        pass=$((pass + 1))
        [ -n "$out" ] && echo "$out"
    else
        echo "FAIL $name"
        echo "$out"
        fail=$((fail + 1))
        failed_cases+=("$name")
    fi
done
echo "golden (podc CLI): $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed: ${failed_cases[*]}"; exit 1; }
exit 0
