#!/bin/sh
# SPDX-License-Identifier: MIT
# ci/rootless-setup.sh - an unprivileged user with working rootless podman, for the tests that
# call a pod the way production does (the host daemon, as root, runs each pod with
# `setpriv --reuid --regid --init-groups` as the owner of its host home, XDG_RUNTIME_DIR unset,
# /run/user/UID pre-created, cwd unreadable).
#
# Idempotent; run as root after ci/podman-setup.sh (rootful podman and localhost/podtest:1 work).
#   1. installs uidmap and slirp4netns when missing;
#   2. creates the user (default podc-rootless, or $PODC_ROOTLESS_USER) with a home, and
#      /etc/subuid + /etc/subgid ranges when it has none;
#   3. /dev/net/tun mode 0666 when it exists (slirp4netns must open it; a sandbox setting, ordinary
#      hosts do not need it);
#   4. /run/user/UID owned by the user, mode 0700 (what the host daemon pre-creates);
#   5. loads localhost/podtest:1 into the user's image store (podman save as root | podman load
#      as the user) when it is missing there, and repairs it when a non-root container user
#      cannot run it (see below).
# Prints the user name on stdout.  Exit 0 when `podman run --rm` works as the user, 1 otherwise.
# as_user (below) is how the tests call things as that user.
set -eu

U=${PODC_ROOTLESS_USER:-podc-rootless}
IMAGE=localhost/podtest:1

say() { echo "rootless-setup: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"

# ---- 1. packages ---------------------------------------------------------------------------
missing=
for p in uidmap slirp4netns; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # shellcheck disable=SC2086 # a list of package names
    apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        die "apt-get install$missing failed"
fi

# ---- 2. the user and its subordinate ids ---------------------------------------------------
if ! id -u "$U" >/dev/null 2>&1; then
    useradd -m -s /bin/sh "$U" || die "useradd $U failed"
    say "created user $U"
fi
UID_U=$(id -u "$U")
GID_U=$(id -g "$U")
HOME_U=$(getent passwd "$U" | cut -d: -f6)
# The next free range above every range in the file (65536 ids from 100000 on).
next_range() { # $1: /etc/subuid or /etc/subgid
    awk -F: 'BEGIN { m = 100000 } NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' "$1"
}
for f in /etc/subuid /etc/subgid; do
    [ -f "$f" ] || : >"$f"
    if ! grep -q "^$U:" "$f" && ! grep -q "^$UID_U:" "$f"; then
        echo "$U:$(next_range "$f"):65536" >>"$f"
        say "added a range for $U to $f"
    fi
done

# ---- 3. /dev/net/tun -------------------------------------------------------------------------
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    chmod 666 /dev/net/tun
    say "chmod 666 /dev/net/tun"
fi

# ---- 4. /run/user/UID --------------------------------------------------------------------------
mkdir -p "/run/user/$UID_U"
chown "$UID_U:$GID_U" "/run/user/$UID_U"
chmod 0700 "/run/user/$UID_U"

# ---- 5. the test image -----------------------------------------------------------------------
# As production calls the pod: XDG_RUNTIME_DIR unset, HOME the user's, started from an unreadable
# cwd.  Rootless podman itself cannot run there ("cannot chdir to /root: Permission denied",
# "Error: setting up the process": it re-executes itself in its user namespace and returns to
# the cwd), so whatever runs podman must give it a cwd it can enter (the pod: its directory).
as_user() {
    (cd /root && setpriv --reuid="$UID_U" --regid="$GID_U" --init-groups \
        env -u XDG_RUNTIME_DIR HOME="$HOME_U" USER="$U" LOGNAME="$U" \
        sh -c 'cd / && exec "$0" "$@"' "$@")
}
if ! as_user podman image exists "$IMAGE" 2>/dev/null; then
    podman image exists "$IMAGE" || die "$IMAGE missing for root (run ci/podman-setup.sh first)"
    podman save "$IMAGE" | as_user podman load -q >/dev/null 2>&1 ||
        die "podman load of $IMAGE as $U failed"
    say "loaded $IMAGE for $U"
fi
# An image whose root directory is 0700 (ci/podman-setup.sh imports a tar made in a `mktemp -d`
# directory) cannot run as a non-root user under rootless podman (vfs keeps the tar's mode for
# "/"; overlay as root shows 0555): "exec: sleep: executable file not found in $PATH".  Repair
# the user's copy once: the same files, exported from a root container (whose "/" is 0555).
if ! as_user podman run --rm --network none --user 1000:1000 "$IMAGE" true >/dev/null 2>&1; then
    ctr=podc-agt-export-$$
    podman create --name "$ctr" "$IMAGE" true >/dev/null || die "podman create $IMAGE failed"
    podman export "$ctr" | as_user podman import -q --change 'CMD ["/bin/sh"]' - "$IMAGE" \
        >/dev/null 2>&1 || { podman rm -f "$ctr" >/dev/null 2>&1; die "re-import as $U failed"; }
    podman rm -f "$ctr" >/dev/null 2>&1 || true
    as_user podman image prune -f >/dev/null 2>&1 || true
    say "re-imported $IMAGE for $U with a searchable / (its root directory was 0700)"
fi
out=$(as_user podman run --rm --network none --user 1000:1000 "$IMAGE" /bin/sh -c 'echo rootless-ok' 2>&1) ||
    die "podman run as $U failed: $out"
case "$out" in
*rootless-ok*) ;;
*) die "podman run as $U: unexpected output: $out" ;;
esac
echo "$U"
