#!/usr/bin/env bash
# The real-GPU figures of the benchmark issue (BENCHMARKS.md), for a session whose task is
# lent a device machine: one prepared script, run there once. That machine has no Rust, so
# the binaries (built without the camera and window features: they need only libc, and
# wgpu loads Vulkan at run time) and the Vulkan loader travel in .gpu/ (ignored by git).
#
#   here:   bash tools/gpu_check.sh --prepare
#   there:  the device tool's run, carry [".gpu"], command `bash tools/gpu_check.sh`
#           (FRAMES=500 by default); devices, bench (JSON and table) and the per-dispatch
#           profile come back in $OUT. Right after it, while the machine is warm: carry
#           [".gpu-peers"], command `bash tools/gpu_check.sh --peers`: the same-GPU peers.
# The peers: ncnn on Vulkan on the same GPU and on its CPU path (tools/peers/gpu_peers.py,
# each network held against the goldens first), from its Python 3.12 wheel and the models
# converted here by pnnx (the machine's python3 has numpy; it cannot fetch). They travel
# apart: the tree (26 MiB) with the binaries (33 MiB) and with them (17 MiB) is over the
# 64 MiB a run carries. ONNX Runtime with CUDA (onnxruntime-gpu, hundreds of MB) does not
# fit at all, nor WebGPU (25 MB) beside ncnn; the machine's own onnxruntime is CPU-only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
    cargo build --release --locked --no-default-features --bin liveshade --example profile_layers
    mkdir -p .gpu/debs /tmp/amd64/partial
    grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >> .git/info/exclude
    cp target/release/liveshade target/release/examples/profile_layers .gpu/
    strip .gpu/liveshade .gpu/profile_layers
    peers=tools/peers/.venv-gpu
    [ -x "$peers/bin/python" ] || { python3 -m venv "$peers" && "$peers/bin/pip" install -q -r tools/peers/requirements-gpu.txt; }
    rm -rf .gpu-peers
    grep -qx '/.gpu-peers/' .git/info/exclude || echo '/.gpu-peers/' >> .git/info/exclude
    "$peers/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 -d .gpu-peers/wheels "ncnn==1.0.20261020"
    "$peers/bin/python" tools/peers/gpu_peers.py ../shared/models tests/golden tools/peers/.models --convert-only >/dev/null
    for network in tools/peers/.models/*/; do
        mkdir -p ".gpu-peers/ncnn-models/$(basename "$network")"
        cp "$network"model.ncnn.param "$network"model.ncnn.bin ".gpu-peers/ncnn-models/$(basename "$network")/"
    done
    apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${apt_options[@]}" update -qq
    (cd .gpu/debs && apt-get "${apt_options[@]}" download libvulkan1)
    mkdir -p .gpu-peers/debs && cp .gpu/debs/*.deb .gpu-peers/debs/
    tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
    for carried in .gpu .gpu-peers; do
        total=$((tree + $(du -sb "$carried" | cut -f1)))
        echo "the tree and $carried: $((total / 1048576)) MiB of the 64 MiB a run carries"
        [ "$total" -le $((64 * 1048576)) ] || { echo "$carried: too large to carry" >&2; exit 1; }
    done
    exit 0
fi
out="${OUT:-gpu-check}"
frames="${FRAMES:-500}"
mkdir -p "$out"
if [ "${1:-}" = "--peers" ]; then
    # ncnn loads libvulkan.so.1 (the loader travels here too), then the NVIDIA driver.
    for deb in .gpu-peers/debs/*.deb; do dpkg -x "$deb" /; done
    ldconfig
    nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -f "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$nvidia_icd"; fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu-peers/wheels/*.whl
    PYTHONPATH=/tmp/site python3 tools/peers/gpu_peers.py none tests/golden .gpu-peers/ncnn-models --runs "$frames" 2>"$out/gpu_peers.log" | tail -n 1 | tee "$out/gpu_peers.json"
    exit 0
fi
for deb in .gpu/debs/*.deb; do dpkg -x "$deb" /; done
ldconfig
# The NVIDIA driver's Vulkan manifest, where no loader search path names it.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$nvidia_icd"; fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee "$out/gpu.txt" || true
./.gpu/liveshade devices 2>&1 | tee "$out/devices.txt"
./.gpu/liveshade bench --backend vulkan --frames "$frames" --image samples/live_T1.jpg --json 2>&1 | tee "$out/bench.json"
./.gpu/liveshade bench --backend vulkan --frames "$frames" --image samples/live_T1.jpg 2>&1 | tee "$out/bench.txt"
WGPU_BACKEND=vulkan ./.gpu/profile_layers samples/live_T1.jpg 2>&1 | tee "$out/profile_layers.txt"
