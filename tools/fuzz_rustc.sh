#!/usr/bin/env bash
# RUSTC_WRAPPER for tools/fuzz.sh: adds libFuzzer's coverage instrumentation (rustc's
# sanitizer-coverage pass, the flags cargo-fuzz passes) to the crates that parse the
# fuzzed bytes, and to no other. The GPU stack (wgpu, naga, the drivers' bindings) is
# linked but never reached from a target; instrumenting it tripled its compile for
# counters no input can move.
set -euo pipefail
rustc=$1
shift
crate=
previous=
for arg in "$@"; do
    if [ "$previous" = "--crate-name" ]; then
        crate=$arg
        break
    fi
    previous=$arg
done
case "$crate" in
    # The library and the targets; the image decoders and their inflate; the weights'
    # container; the verifier's JSON and hex.
    liveshade | liveshade_fuzz | decode_image | frame_new | weights | verify | \
        image | png | zune_jpeg | zune_core | fdeflate | miniz_oxide | flate2 | \
        safetensors | serde_json | hex)
        exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
            -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
            -Cllvm-args=-sanitizer-coverage-pc-table \
            -Cllvm-args=-sanitizer-coverage-trace-compares
        ;;
    *)
        exec "$rustc" "$@"
        ;;
esac
