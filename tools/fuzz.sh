#!/usr/bin/env bash
# Runs each fuzz target (fuzz/fuzz_targets: libFuzzer, in cargo-fuzz's layout) for SECONDS
# (default 60) from its committed seeds (fuzz/seeds/TARGET) plus what earlier runs found
# (fuzz/corpus/TARGET, not committed). A crash stops the run with the input in
# fuzz/artifacts/TARGET: add it to fuzz/regressions/TARGET (tests/fuzz_regressions.rs runs
# every file there) and fix the code.
#
#   bash tools/fuzz.sh            # a minute each (CI runs 20 s: tools/test.sh)
#   bash tools/fuzz.sh 3600       # an hour each
#   bash tools/fuzz.sh 600 verify # one target
#
# The targets are built here with plain cargo and the coverage instrumentation cargo-fuzz
# passes (rustc's sanitizer-coverage pass: stable flags, no nightly compiler) on the crates
# that parse input (tools/fuzz_rustc.sh), without
# AddressSanitizer (which needs a nightly compiler's -Zsanitizer): the code under test is
# safe Rust, and a panic, an overflow (overflow checks are on) or an out-of-bounds index is
# what a crash is. With cargo-fuzz installed, `cargo fuzz run --fuzz-dir fuzz TARGET` works
# too (with RUSTC_BOOTSTRAP=1 on a stable toolchain) and adds AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_image frame_new weights verify)
# A fresh clone builds the targets once: incremental state would only fill the disk.
export CARGO_INCREMENTAL=0
# The coverage instrumentation goes only to the crates that parse the fuzzed bytes
# (tools/fuzz_rustc.sh); `fuzzing` is the cfg cargo-fuzz sets.
export RUSTC_WRAPPER="$PWD/tools/fuzz_rustc.sh"
export RUSTFLAGS="--cfg fuzzing"
# An explicit --target keeps the flags off the build scripts and procedural macros.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --quiet --locked --release --manifest-path fuzz/Cargo.toml --bins --target "$host"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    started=$SECONDS
    status=0
    # -rss_limit_mb: a decoded image may take memory; a leak of it must not grow past this.
    "fuzz/target/$host/release/$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -artifact_prefix="fuzz/artifacts/$target/" \
        -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=262144 -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $target: ${runs:-?} runs in $((SECONDS - started)) s, $(find "fuzz/corpus/$target" -type f | wc -l) inputs in the corpus"
    if [ "$status" != 0 ]; then
        tail -n 60 "$log"
        echo "fuzz $target failed (exit $status): the input is in fuzz/artifacts/$target"
        exit "$status"
    fi
done
