#!/bin/bash
# SPDX-License-Identifier: MIT
# conformance/rootless.sh - the conformance suite at --level all on our compiled podman pod as
# the unprivileged user of ci/rootless-setup.sh, called the production way: setpriv to the
# user, XDG_RUNTIME_DIR unset (with /run/user/UID pre-created, as the host daemon does), the
# pod compiled by that user in a directory it owns.  Root only (it creates the user); exits 0
# with a SKIP line when podman is not usable, unless CI=true.
#
#   bash conformance/rootless.sh BUILD_DIR
set -u
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
root=$(cd "$(dirname "$0")/.." && pwd)
skip() {
    echo "conformance-rootless: SKIP: $*"
    [ "${CI:-}" = true ] && exit 1
    exit 0
}
[ "$(id -u)" = 0 ] || skip "not root (the user is created by ci/rootless-setup.sh)"
command -v podman >/dev/null || skip "no podman"
user=$(sh "$root/ci/rootless-setup.sh") || skip "rootless setup failed"
uid=$(id -u "$user")
mkdir -p "/run/user/$uid" && chown "$user:" "/run/user/$uid" && chmod 700 "/run/user/$uid"
w=$(mktemp -d /tmp/podc-conf-rootless.XXXXXX)
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
cp "$build/podc" "$build/conformance/pod-conformance" "$root/conformance/pods/podman/pod.yaml" "$w/"
cp -r "$root/conformance/cases" "$w/cases"
mkdir "$w/pod"
chown -R "$user:" "$w"
cd /
env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS HOME="$(getent passwd "$user" | cut -d: -f6)" \
    USER="$user" LOGNAME="$user" \
    setpriv --reuid "$user" --regid "$(id -g "$user")" --init-groups \
    sh -c 'cd "$1" && SPACE_LOG_LEVEL=1 ./podc confpodman -f pod.yaml -o "$1/pod/pod" &&
           cd / && "$1/pod-conformance" --cases "$1/cases" --level all "$1/pod/pod"' sh "$w"
