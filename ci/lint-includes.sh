#!/usr/bin/env bash
# ci/lint-includes.sh [ROOT] - checks every #include of src/, include/pod/ and sim/ against the
# include rules in ci/layers.conf (see there).  Prints one line per violation as
# `file:line: message` and exits 1 when there is any.  Plain bash + awk.
set -euo pipefail
root=${1:-.}
cd "$root"
awk '
function module_of(f,   a, n, h) {
    if (f ~ /^src\//) { n = split(f, a, "/"); return a[2] }
    if (f ~ /^sim\//) return "sim"
    if (f ~ /^include\/pod\//) { h = f; sub(/^include\/pod\//, "", h); sub(/\.h$/, "", h)
                                 return (h in owner) ? owner[h] : h }
    return ""
}
function fail(msg) { print msg; bad++ }
FILENAME == conf {
    sub(/#.*/, "")
    if ($1 == "header") owner[$2] = $3
    else if ($1 == "module") {
        known[$2] = 1; kind[$2] = $3
        for (i = 4; i <= NF; i++) if ($i != "-") may[$2, $i] = 1
    } else if ($1 == "pure") for (i = 2; i <= NF; i++) purefile[$i] = 1
    next
}
FNR == 1 {
    mod = module_of(FILENAME); dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
    if (!(mod in known)) fail(FILENAME ":1: module `" mod "` is not in " conf)
    pure = (kind[mod] == "pure") || (FILENAME in purefile)
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
    if (inc ~ /^pod\/[a-z_]+\.h$/) {
        h = inc; sub(/^pod\//, "", h); sub(/\.h$/, "", h)
        to = (h in owner) ? owner[h] : h
        if (!(to in known)) fail(FILENAME ":" FNR ": \"" inc "\": no module owns it in " conf)
        else if (to != mod && !((mod, to) in may))
            fail(FILENAME ":" FNR ": module " mod " may not include \"" inc "\" (module " to ")")
    } else if (inc ~ /\// || (system("test -f \"" dir "/" inc "\"") != 0))
        fail(FILENAME ":" FNR ": \"" inc "\" is neither pod/X.h nor a header of " dir "/")
}
/^[ \t]*#[ \t]*include[ \t]*</ && pure {
    if ($0 ~ /<(unistd|poll|time|fcntl|signal|pthread|dirent)\.h>|<sys\//)
        fail(FILENAME ":" FNR ": pure code (module " mod ") may not include " $2 " (OS header)")
}
END { if (bad) { print bad " include rule violation(s) (rules: " conf ")"; exit 1 } }
' conf=ci/layers.conf ci/layers.conf $(ls src/*/*.[ch] include/pod/*.h sim/*.[ch] | sort)
echo "include rules: ok ($(ls src/*/*.[ch] include/pod/*.h sim/*.[ch] | wc -l) files, ci/layers.conf)"
