#!/usr/bin/env bash
# The README's test command, and what .ci/run runs.
#
# 1. Installs what is missing (tools/system-packages.sh): Mesa's lavapipe (Vulkan) and
#    llvmpipe (GL/EGL) drivers the GPU tests run on, libclang for the camera bindings.
# 2. Checks that no HTTP client is in the library's dependency tree (PRIVACY.md).
# 3. Checks the formatting (rustfmt.toml) and runs clippy on every target with warnings as
#    errors.
# 4. Runs the whole suite on Vulkan (unit tests of src/, the module layering, the kernel
#    tables against the WGSL included), builds the library without its optional features
#    and the product documentation without warnings, tests the C ABI (bindings/c) and
#    runs the C example (examples/c) against the CLI, then the GPU tests again on GL.
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

echo "== formatting and lints"
for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done
cargo fmt --check
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "== tests on Vulkan"
WGPU_BACKEND=vulkan cargo test --locked

echo "== the library without the camera and window features"
cargo build --locked --lib --no-default-features

echo "== the C ABI: its tests (misuse, threads, sessions), the header, the C example against the CLI"
WGPU_BACKEND=vulkan cargo test --locked -p liveshade-c
cargo build --locked -p liveshade-c
cc -Wall -Wextra -Werror examples/c/check.c -Iinclude -Ltarget/debug -lliveshade_c -o target/debug/check_c
want=$(WGPU_BACKEND=vulkan target/debug/liveshade check samples/*.jpg | sed 's/;.*/)/')
got=$(LD_LIBRARY_PATH=target/debug WGPU_BACKEND=vulkan target/debug/check_c samples/*.jpg)
if [ "$want" != "$got" ]; then
    printf 'the C example disagrees with the CLI:\n%s\nagainst\n%s\n' "$got" "$want"
    exit 1
fi
echo "$got"

echo "== documentation builds without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

echo "== GPU tests on GL"
WGPU_BACKEND=gl cargo test --locked --test kernels --test runtime --test networks --test engine --test session --test watch
