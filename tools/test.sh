#!/usr/bin/env bash
# The README's test command, and what .ci/run runs.
#
# 1. Installs what is missing (tools/system-packages.sh): Mesa's lavapipe (Vulkan) and
#    llvmpipe (GL/EGL) drivers the GPU tests run on, libclang for the camera bindings.
# 2. Checks that no HTTP client is in the library's dependency tree (PRIVACY.md).
# 3. Checks the formatting (rustfmt.toml) and runs clippy on every target with warnings as
#    errors.
# 4. Runs the whole suite on Vulkan (unit tests of src/, the module layering, the kernel
#    tables against the WGSL included), runs the CLI under strace (tools/privacy_trace.sh:
#    no socket, no file written), builds the library without its optional features
#    and the product documentation without warnings, tests the C ABI (bindings/c), runs
#    the C example (examples/c) against the CLI and under LeakSanitizer, installs the
#    Python package (bindings/python) into a fresh venv and runs its pytest suite, then
#    the GPU tests again on GL.
#
# A GPU test that finds no adapter fails; none passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# Each step's title with the seconds since the start, so CI's log says where the time goes.
step() {
    echo "== [$((SECONDS - started)) s] $*"
}

source tools/system-packages.sh

step "no network client in the library's dependencies"
network=$(cargo tree --locked -e normal --prefix none --format '{p}' | grep -E '^(reqwest|hyper|ureq|curl|isahc|surf|attohttpc|h2|tokio) ' || true)
if [ -n "$network" ]; then
    echo "the library depends on a network crate:"
    echo "$network"
    exit 1
fi

step "formatting and lints"
for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done
cargo fmt --check
cargo clippy --locked --workspace --all-targets -- -D warnings

# One build for everything: the whole workspace is selected, so the dependencies' features
# unify once (the Python crate has no Rust test binary: its tests are pytest's, below), and
# the dev and test profiles are the same (Cargo.toml), so the CLI, the C library and the
# Python extension built below reuse what the tests compiled.
tests=(--locked --workspace)

step "tests on Vulkan (the library, the CLI, the C ABI: misuse, threads, sessions, the header)"
WGPU_BACKEND=vulkan cargo test "${tests[@]}"

step "no socket, no file written: check, session and watch under strace (PRIVACY.md 1, 6)"
WGPU_BACKEND=vulkan bash tools/privacy_trace.sh

step "the library without the camera and window features"
cargo check --locked --lib --no-default-features

step "the C example against the CLI"
# The C library and the Python extension, on the test build's dependencies: the features
# the tests' dev-dependencies add are pinned for them (tools/feature-unify), so this
# compiles the three workspace crates and nothing below them. The Python extension is built
# here so that maturin's build below finds it; PYO3_BUILD_EXTENSION_MODULE (which maturin
# sets too) leaves libpython unlinked.
PYO3_BUILD_EXTENSION_MODULE=1 cargo build --locked -p liveshade-c -p liveshade-python
cc -Wall -Wextra -Werror examples/c/check.c -Iinclude -Ltarget/debug -lliveshade_c -o target/debug/check_c
want=$(WGPU_BACKEND=vulkan target/debug/liveshade check samples/*.jpg | sed 's/;.*/)/')
got=$(LD_LIBRARY_PATH=target/debug WGPU_BACKEND=vulkan target/debug/check_c samples/*.jpg)
if [ "$want" != "$got" ]; then
    printf 'the C example disagrees with the CLI:\n%s\nagainst\n%s\n' "$got" "$want"
    exit 1
fi
echo "$got"

step "no leak through the C ABI: the example under AddressSanitizer's leak checker"
# keep_loaded.so keeps the Vulkan driver mapped at exit so its own leftovers are named and
# suppressed (tools/leaks/lsan.supp); the same leftovers after 3 checks and after 12 show
# that none grows per check. Any other leak (the library, the example) fails here.
cc -shared -fPIC tools/leaks/keep_loaded.c -o target/debug/keep_loaded.so
cc -fsanitize=address -g -Wall -Wextra -Werror examples/c/check.c -Iinclude -Ltarget/debug -lliveshade_c -o target/debug/check_c_asan
residue=()
for repeat in 1 4; do
    images=()
    for _ in $(seq "$repeat"); do images+=(samples/*.jpg); done
    out=$(LD_PRELOAD="$(cc -print-file-name=libasan.so) $PWD/target/debug/keep_loaded.so" LD_LIBRARY_PATH=target/debug WGPU_BACKEND=vulkan \
        ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tools/leaks/lsan.supp:print_suppressions=1 \
        target/debug/check_c_asan "${images[@]}" 2>&1) || { echo "$out"; echo "the C example leaks"; exit 1; }
    residue+=("$(echo "$out" | grep -E '^ +[0-9]+ +[0-9]+ ' || true)")
done
if [ "${residue[0]}" != "${residue[1]}" ]; then
    printf "the driver's leftovers grow with the checks:\n%s\nagainst\n%s\n" "${residue[1]}" "${residue[0]}"
    exit 1
fi
echo "no leak; the driver's own leftovers, the same after 3 and 12 checks:"
echo "${residue[0]}"

step "the Python package: pip install ./bindings/python into a fresh venv, then pytest"
# maturin (the build backend, from PyPI) builds the dev profile here so that it reuses the
# builds above; a plain `pip install ./bindings/python` builds --release.
venv=target/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy pytest
MATURIN_PEP517_ARGS="--profile dev --locked" "$venv/bin/pip" install --quiet --disable-pip-version-check ./bindings/python
WGPU_BACKEND=vulkan LIVESHADE_CLI="$PWD/target/debug/liveshade" "$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests

step "the crate as crates.io would get it: the weights in, the tests' data out, under 10 MiB"
cargo package --locked --no-verify --allow-dirty -p liveshade --quiet
crate_file=target/package/liveshade-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1).crate
size=$(stat -c %s "$crate_file")
echo "$crate_file: $size bytes"
if [ "$size" -gt $((10 * 1024 * 1024)) ]; then
    echo "the crate is over crates.io's 10 MiB limit"
    exit 1
fi

step "documentation builds without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

step "GPU tests on GL"
WGPU_BACKEND=gl cargo test "${tests[@]}" --test kernels --test runtime --test networks --test engine --test session --test watch

step "fuzzing: each target (fuzz/fuzz_targets) for 20 s from its seeds"
# A smoke run: that the targets build and run, and a little search on every change. Every
# seed and every crash once found also runs in the tests above (tests/fuzz_regressions.rs);
# the long runs are `bash tools/fuzz.sh 3600` (fuzz/README.md).
bash tools/fuzz.sh "${LIVESHADE_FUZZ_SECONDS:-20}"

step "done"
