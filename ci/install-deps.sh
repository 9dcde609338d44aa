#!/usr/bin/env bash
# ci/install-deps.sh - installs the Debian packages the build, the tests and the demo need.
# Idempotent; as root on a fresh Debian 12.  With --if-missing it returns at once when every
# package is already installed (make calls it that way before check and demo).
set -euo pipefail
PKGS=(build-essential gcc clang clang-tools-14 libclang-rt-14-dev llvm
      libyaml-dev libjansson-dev libcmocka-dev libfaketime faketime
      valgrind cppcheck clang-format git jq
      podman runc conmon catatonit busybox-static uidmap slirp4netns
      util-linux procps iproute2 e2fsprogs
      docker-registry)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${1:-}" = "--if-missing" ] && [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
