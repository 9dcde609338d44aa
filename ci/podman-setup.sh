#!/bin/sh
# SPDX-License-Identifier: MIT
# ci/podman-setup.sh - make real podman usable for the project's tests on this machine.
#
# Idempotent; run as root on Debian 12 (a fresh machine or an already prepared one; < 2 s then).
#   1. installs podman and its helpers from Debian when missing;
#   2. without systemd as PID 1: containers.conf.d drop-in with the cgroupfs manager and the
#      file events logger (the defaults, systemd + journald, are not available);
#   3. imports the local test image localhost/podtest:1 (busybox-static: sh, sleep, httpd, nc,
#      wget, ...) when missing: no container registry is reachable from CI;
#   4. only if a trivial `podman run` fails with "setrlimit RLIMIT_NOFILE: Operation not
#      permitted" (VMs without CAP_SYS_RESOURCE): builds and installs the OCI runtime wrapper
#      conformance/podman/runc_norlimit.c (drops rlimits, then execs runc) and selects it in the
#      drop-in;
#   5. smoke test: `podman run --rm localhost/podtest:1` must print what it is told to.
# Exit 0 when podman works, 1 (with a message on stderr) when it does not.
# Removing the drop-in, /usr/local/libexec/podc-ci and the image resets it to a fresh machine.
set -eu

IMAGE=localhost/podtest:1
LIBEXEC=/usr/local/libexec/podc-ci
WRAPPER=$LIBEXEC/runc-norlimit
CONF_DIR=/etc/containers/containers.conf.d
CONF=$CONF_DIR/50-podc-ci.conf
HERE=$(cd "$(dirname "$0")" && pwd)
WRAPPER_SRC=$HERE/../conformance/podman/runc_norlimit.c

say() { echo "podman-setup: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# ---- 1. packages ---------------------------------------------------------------------------
pkg_missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}
apt_install() {
    [ "$(id -u)" = 0 ] || die "missing packages: $* (run as root to install them)"
    say "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
missing=$(pkg_missing podman runc conmon catatonit busybox-static jq uidmap slirp4netns)
# shellcheck disable=SC2086 # a list of package names
[ -z "$missing" ] || apt_install $missing
command -v podman >/dev/null 2>&1 || die "podman is not on PATH after installing it"

# Writes the drop-in from the decisions below; only rewrites it when its content changes.
write_conf() { # $1: 1 = no systemd, $2: 1 = use the wrapper
    want=$(conf_text "$1" "$2")
    [ "$want" != "$(cat "$CONF" 2>/dev/null)" ] || return 0
    [ "$(id -u)" = 0 ] || die "podman needs configuration in $CONF (run as root)"
    mkdir -p "$CONF_DIR"
    printf '%s\n' "$want" >"$CONF.tmp.$$"
    mv "$CONF.tmp.$$" "$CONF"
    say "wrote $CONF"
}
conf_text() {
    {
        echo "# Written by pod/podc ci/podman-setup.sh; delete it (and $LIBEXEC) to re-detect."
        echo "[engine]"
        if [ "$1" = 1 ]; then
            echo 'cgroup_manager = "cgroupfs"'
            echo 'events_logger = "file"'
        fi
        if [ "$2" = 1 ]; then
            echo 'runtime = "podc-norlimit"'
            echo ""
            echo "[engine.runtimes]"
            echo "podc-norlimit = [\"$WRAPPER\"]"
        fi
    }
}

# Builds the wrapper when it is missing or its source changed (the installed copy of the
# source is the stamp).  Needs a C compiler; installs gcc when there is none.
install_wrapper() {
    [ -f "$WRAPPER_SRC" ] || die "wrapper source $WRAPPER_SRC not found"
    if [ -x "$WRAPPER" ] && cmp -s "$WRAPPER_SRC" "$WRAPPER.c"; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "the OCI runtime wrapper must be installed (run as root)"
    cc=$(command -v cc || command -v gcc || true)
    if [ -z "$cc" ]; then
        apt_install gcc libc6-dev
        cc=$(command -v cc || command -v gcc) || die "no C compiler after installing gcc"
    fi
    runc=$(command -v runc || { [ -x /usr/sbin/runc ] && echo /usr/sbin/runc; }) ||
        die "runc not found"
    mkdir -p "$LIBEXEC"
    "$cc" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -DRUNC_PATH="\"$runc\"" \
        -o "$WRAPPER.tmp.$$" "$WRAPPER_SRC" || die "cannot compile $WRAPPER_SRC"
    mv "$WRAPPER.tmp.$$" "$WRAPPER"
    cp "$WRAPPER_SRC" "$WRAPPER.c.tmp.$$" && mv "$WRAPPER.c.tmp.$$" "$WRAPPER.c"
    say "installed OCI runtime wrapper $WRAPPER (execs $runc)"
}

# ---- 2. cgroup manager and events logger ----------------------------------------------------
no_systemd=0
[ -d /run/systemd/system ] || no_systemd=1
use_wrapper=0
if [ -f "$CONF" ] && grep -q '^runtime = "podc-norlimit"' "$CONF"; then
    use_wrapper=1 # detected on an earlier run; keep it (delete $CONF to re-detect)
    install_wrapper
fi
if [ "$no_systemd" = 1 ] || [ "$use_wrapper" = 1 ] || [ -f "$CONF" ]; then
    write_conf "$no_systemd" "$use_wrapper"
fi

# ---- 3. the test image -----------------------------------------------------------------------
if ! podman image exists "$IMAGE" 2>/dev/null; then
    [ -x /bin/busybox ] || die "/bin/busybox (busybox-static) is missing"
    d=$(mktemp -d)
    trap 'rm -rf "$d" "$d.tar"' EXIT
    mkdir -p "$d/bin" "$d/tmp" "$d/etc" "$d/www" "$d/proc" "$d/sys" "$d/dev"
    chmod 755 "$d" # mktemp -d makes it 0700: a non-root container user (rootless vfs) could not exec
    chmod 1777 "$d/tmp"
    cp /bin/busybox "$d/bin/busybox"
    for t in $("$d/bin/busybox" --list); do
        [ "$t" = busybox ] || ln -s busybox "$d/bin/$t"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$d/etc/passwd"
    echo 'root:x:0:' >"$d/etc/group"
    echo ok >"$d/www/index.html"
    tar -C "$d" -cf "$d.tar" .
    podman import --quiet --change 'CMD ["/bin/sh"]' "$d.tar" "$IMAGE" >/dev/null ||
        die "podman import of $IMAGE failed"
    rm -rf "$d" "$d.tar"
    trap - EXIT
    say "imported $IMAGE from $(readlink -f /bin/busybox)"
fi

# ---- 4. the rlimit problem -------------------------------------------------------------------
smoke() { podman run --rm --network none "$IMAGE" /bin/sh -c 'echo podman-ok' 2>&1; }
if ! out=$(smoke) && [ "$use_wrapper" = 0 ]; then
    case "$out" in
    # runc: "error setting rlimit type 7: operation not permitted";
    # crun: "setrlimit `RLIMIT_NOFILE`: Operation not permitted"
    *[Rr][Ll][Ii][Mm][Ii][Tt]*[Oo]"peration not permitted"*)
        say "containers cannot raise RLIMIT_NOFILE here (no CAP_SYS_RESOURCE): using the wrapper"
        install_wrapper
        use_wrapper=1
        write_conf "$no_systemd" 1
        ;;
    *) die "podman run fails: $out" ;;
    esac
    out=$(smoke) || true
fi

# ---- 5. smoke test ---------------------------------------------------------------------------
[ "$out" = podman-ok ] || die "smoke test (podman run --rm $IMAGE) failed: $out"
say "ok: $(podman --version), image $IMAGE, runtime $([ "$use_wrapper" = 1 ] && echo "$WRAPPER" || echo default)"
