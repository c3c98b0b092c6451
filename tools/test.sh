#!/usr/bin/env bash
# The README's test command, and what .ci/run runs.
#
# 1. Installs the software GPU drivers the tests run on when they are missing (Debian or
#    Ubuntu; as root, or through sudo): Mesa's lavapipe (Vulkan) and llvmpipe (GL/EGL).
# 2. Checks that no HTTP client is in the library's dependency tree (PRIVACY.md).
# 3. Runs the whole suite on Vulkan, then the GPU tests again on GL, so both stay working.
#
# A GPU test that finds no adapter fails; none passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mesa-vulkan-drivers libegl1 libgl1-mesa-dri)
if command -v dpkg >/dev/null 2>&1; then
    missing=()
    for package in "${packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ((${#missing[@]})); then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        echo "installing ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# Mesa's EGL warns on every adapter enumeration without a runtime directory.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
fi

echo "== no network client in the library's dependencies"
network=$(cargo tree --locked -e normal --prefix none --format '{p}' | grep -E '^(reqwest|hyper|ureq|curl|isahc|surf|attohttpc|h2|tokio) ' || true)
if [ -n "$network" ]; then
    echo "the library depends on a network crate:"
    echo "$network"
    exit 1
fi

echo "== tests on Vulkan"
WGPU_BACKEND=vulkan cargo test --locked

echo "== GPU tests on GL"
WGPU_BACKEND=gl cargo test --locked --test kernels --test runtime --test networks --test engine --test session
