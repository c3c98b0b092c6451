#!/usr/bin/env bash
# The README's test command, and what .ci/run runs.
#
# 1. Installs what is missing (tools/system-packages.sh): Mesa's lavapipe (Vulkan) and
#    llvmpipe (GL/EGL) drivers the GPU tests run on, libclang for the camera bindings.
# 2. Checks that no HTTP client is in the library's dependency tree (PRIVACY.md).
# 3. Runs the whole suite on Vulkan, builds the library without its optional features and
#    the documentation without warnings, then the GPU tests again on GL.
#
# A GPU test that finds no adapter fails; none passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/system-packages.sh

echo "== no network client in the library's dependencies"
network=$(cargo tree --locked -e normal --prefix none --format '{p}' | grep -E '^(reqwest|hyper|ureq|curl|isahc|surf|attohttpc|h2|tokio) ' || true)
if [ -n "$network" ]; then
    echo "the library depends on a network crate:"
    echo "$network"
    exit 1
fi

echo "== tests on Vulkan"
WGPU_BACKEND=vulkan cargo test --locked

echo "== the library without the camera and window features"
cargo build --locked --lib --no-default-features

echo "== documentation builds without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

echo "== GPU tests on GL"
WGPU_BACKEND=gl cargo test --locked --test kernels --test runtime --test networks --test engine --test session --test watch
