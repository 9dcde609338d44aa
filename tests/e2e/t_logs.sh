# SPDX-License-Identifier: MIT
# tests/e2e/t_logs.sh - `pod logs` from an unreadable cwd: log directories written here in the
# formats of SPEC 9.2 (ours, with rotated files and `+`/`!` records) and of the original podc,
# sns's flags, sources, usage errors; and the whole path on a real pod (skipped while `run`
# is not available in the build).

pod_logs() {
    mkpod e2elog <<'YAML'
api: 1.0.0-beta2
podVersion: 0.0.1
containers:
    - name: web
      image: localhost/podtest:1
      command: [sh, -c, 'printf "one\ntwo\n"; printf "x%.0s" $(seq 1 20000); echo; printf "partial"']
    - name: db
      image: localhost/podtest:1
      command: [true]
YAML
}

# Writes the files of a small history: rotated files, both streams, the daemon, a joined line.
write_logs() {
    local L=$PODDIR/log
    mkdir -p "$L"
    printf '1795386830.100000000 1 w-a\n1795386830.300000000 2 w-b\n' >"$L/web-e2elog-0.0.1-stdout.log.00000001"
    printf '1795386831.100000000 3+ w-c1 \n1795386831.100000000 4 w-c2\n' >"$L/web-e2elog-0.0.1-stdout.log.00000002"
    printf '1795386832.000000000 5 w-d\n' >"$L/web-e2elog-0.0.1-stdout.log"
    printf '1795386830.200000000 1 w-err\n' >"$L/web-e2elog-0.0.1-stderr.log"
    printf '1795386830 0 db-old-a\n1795386830 1 db-old-b\n' >"$L/db-e2elog-0.0.1-stdout.log.1795386830"
    printf '1795386831.500000000 9 db-new\n' >"$L/db-e2elog-0.0.1-stdout.log"
    printf '1795386830.000000000 1 [INFO]  daemon started\n1795386833.000000000 2! logw: a notice\n' \
        >"$L/e2elog-0.0.1-stderr.log"
}

t_logs_merges_all_sources_and_rotated_files() {
    pod_logs
    write_logs
    pok logs -l 0 -t 0 -s stdout,stderr # what sns sends; order (ts, seq, source)
    eq "all" "1795386830.000000000 db db-old-a
1795386830.000000000 <pod> [INFO]  daemon started
1795386830.000000000 db db-old-b
1795386830.100000000 web w-a
1795386830.200000000 web w-err
1795386830.300000000 web w-b
1795386831.100000000 web w-c1 w-c2
1795386831.500000000 db db-new
1795386832.000000000 web w-d
1795386833.000000000 <pod> ! logw: a notice" "$OUT"
    eq "stderr" "" "$ERR"
}

t_logs_flags() {
    pod_logs
    write_logs
    pok logs web -d none -s stdout
    eq "web stdout" "w-a
w-b
w-c1 w-c2
w-d" "$OUT"
    pok logs -p -d name,stream
    eq "daemon" "<pod> stderr [INFO]  daemon started
<pod> stderr ! logw: a notice" "$OUT"
    pok logs web db -t 1795386830.25 -l 2 -d ts
    eq "-t -l 2" "1795386830.300000000 w-b
1795386831.100000000 w-c1 w-c2" "$OUT"
    pok logs --limit=-2 --details=name
    eq "-l -2" "web w-d
<pod> ! logw: a notice" "$OUT"
    pok logs -t -60 # relative to now: these records are from the past
    eq "-t -60" "" "$OUT"
    pok logs web --streams=stderr -d age,name
    match "age" '^[0-9]+ web w-err$' "$OUT"
}

t_logs_errors() {
    pod_logs
    prc 1 logs nope
    match "unknown" 'Container nope does not exist in this pod' "$ERR"
    prc 100 logs -l x
    prc 100 logs -t 12ab
    prc 100 logs -s stdin
    prc 100 logs -d ts,colour
    pok logs # no log/ yet: nothing, and nothing created
    eq "out" "" "$OUT"
    [ ! -e "$PODDIR/log" ] || fail "logs created log/"
}

# The whole path: container output -> daemon -> log files -> pod logs, byte-exact, the long
# line (> 16 KiB: cut into + records) and the partial last line whole.
t_logs_of_a_real_pod() {
    pod_logs
    p run
    if [ "$RC" = 111 ]; then
        log "skipped: run is not available in this build"
        return 0
    fi
    [ "$RC" = 0 ] || fail "run exited $RC: $ERR"
    wait_for 60 "web to exit" sh -c "[ \"\$(podman container inspect --format '{{.State.Status}}' web-e2elog-0.0.1 2>/dev/null)\" = exited ]"
    local want
    want=$(printf 'one\ntwo\n'; printf 'x%.0s' $(seq 1 20000); printf '\npartial')
    wait_for 20 "the log" sh -c "cd / && '$POD' logs web -d none | grep -q partial"
    pok logs web -d none -s stdout
    eq "bytes" "$want" "$OUT"
}
