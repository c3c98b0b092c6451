#!/usr/bin/env bash
# Start and first-check times on a cold and a warm driver cache, with and without the
# engine's pipeline cache file (BENCHMARKS.md, "Cold start"): `liveshade bench --json`
# on one adapter, each run a new process. "Cold" is an empty MESA_SHADER_CACHE_DIR (a
# fresh machine, or the first start after a driver update); "warm" is the same directory
# again. The pipeline cache directory starts empty and is kept across the runs.
#   bash tools/cold_start.sh [--backend vulkan] [--frames 10]
# Another Vulkan driver: VK_ICD_FILENAMES=... bash tools/cold_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/liveshade
args=(--backend vulkan --frames 10)
(($#)) && args=("$@")
driver_cache=$(mktemp -d)
pipelines=$(mktemp -d)
runtime=""
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    runtime=$(mktemp -d)
    export XDG_RUNTIME_DIR=$runtime
fi
trap 'rm -rf "$driver_cache" "$pipelines" ${runtime:+"$runtime"}' EXIT
run() {
    local label=$1
    shift
    MESA_SHADER_CACHE_DIR=$driver_cache "$bin" bench "${args[@]}" --json "$@" | python3 -c '
import json, sys
label = sys.argv[1]
for line in sys.stdin:
    d = json.loads(line)
    first, steady = d["first_check_ms"], d["end_to_end_ms"]["median"]
    loaded = d.get("pipeline_cache_offered_bytes")
    adapter, start = d["adapter"][:30], d["engine_start_ms"]
    loaded = "-" if loaded is None else loaded
    print(f"| {label} | {adapter} | {start:,.0f} | {first:.1f} | {steady:.1f} | {first / steady:.2f} | {loaded} |")
' "$label"
}
echo "| run | adapter | start ms | first check ms | steady ms | first / steady | pipeline cache bytes offered |"
echo "|---|---|---|---|---|---|---|"
run "driver cache cold, pipeline cache file empty" --pipeline-cache "$pipelines"
rm -rf "$driver_cache" && mkdir "$driver_cache"
run "driver cache cold, pipeline cache file from the run before" --pipeline-cache "$pipelines"
run "driver cache warm, no pipeline cache"
run "driver cache warm, pipeline cache file" --pipeline-cache "$pipelines"
du -sh "$driver_cache" | sed 's/^/driver cache: /'
ls -l "$pipelines" | tail -n +2 | sed 's/^/pipeline cache: /'
