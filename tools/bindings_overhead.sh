#!/usr/bin/env bash
# The per-check overhead of the C ABI and the Python package against the Rust API, in one
# run on one adapter: release builds of the C crate's overhead example (Rust API,
# liveshade_check, liveshade_check_json interleaved in one process) and of the Python
# package (array, path, bytes), then both, one after the other, twice. Medians in ms.
#   bash tools/bindings_overhead.sh [checks]      (WGPU_BACKEND picks the backend)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/system-packages.sh
checks=${1:-40}
cargo build --locked --release -p liveshade-c --example overhead
venv=target/overhead-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./bindings/python
for round in 1 2; do
    echo "round $round"
    target/release/examples/overhead "$checks"
    "$venv/bin/python" bindings/python/bench/overhead.py "$checks"
done
