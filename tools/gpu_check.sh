#!/usr/bin/env bash
# The real-GPU figures of the benchmark issue (BENCHMARKS.md), for a session whose task is
# lent a device machine: one prepared script, run there once. That machine has no Rust, so
# the binaries (built without the camera and window features: they need only libc, and
# wgpu loads Vulkan at run time) and the Vulkan loader travel in .gpu/ (ignored by git).
#
#   here:   bash tools/gpu_check.sh --prepare
#   there:  the device tool's run, carry [".gpu"], command `bash tools/gpu_check.sh`
#           (FRAMES=500 by default); devices, bench (JSON and table) and the per-dispatch
#           profile come back in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
    cargo build --release --locked --no-default-features --bin liveshade --example profile_layers
    mkdir -p .gpu/debs /tmp/amd64/partial
    grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >> .git/info/exclude
    cp target/release/liveshade target/release/examples/profile_layers .gpu/
    apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${apt_options[@]}" update -qq
    (cd .gpu/debs && apt-get "${apt_options[@]}" download libvulkan1)
    du -sh .gpu
    exit 0
fi
for deb in .gpu/debs/*.deb; do dpkg -x "$deb" /; done
ldconfig
# The NVIDIA driver's Vulkan manifest, where no loader search path names it.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$nvidia_icd"; fi
out="${OUT:-gpu-check}"
frames="${FRAMES:-500}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee "$out/gpu.txt" || true
./.gpu/liveshade devices 2>&1 | tee "$out/devices.txt"
./.gpu/liveshade bench --backend vulkan --frames "$frames" --image samples/live_T1.jpg --json 2>&1 | tee "$out/bench.json"
./.gpu/liveshade bench --backend vulkan --frames "$frames" --image samples/live_T1.jpg 2>&1 | tee "$out/bench.txt"
WGPU_BACKEND=vulkan ./.gpu/profile_layers samples/live_T1.jpg 2>&1 | tee "$out/profile_layers.txt"
