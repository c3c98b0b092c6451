#!/usr/bin/env bash
# liveshade against its peers, in the same run on the same machine:
#   [ROUNDS=3] bash tools/peers/bench.sh [FRAMES] [IMAGE]
# Installs the pinned peers into tools/peers/.venv (CPU: TFLite + ONNX Runtime,
# requirements.txt) and tools/peers/.venv-gpu (ncnn on Vulkan and on its CPU, the models
# converted by pnnx, and ONNX Runtime's WebGPU provider: requirements-gpu.txt), then in
# alternating rounds runs `liveshade bench --json` on every adapter, bench_peers.py (the CPU
# pipeline) and gpu_peers.py (each network alone, after its outputs are held against the
# goldens), and prints markdown tables of the medians and the per-round ratios: end to
# end, then each network per adapter (BENCHMARKS.md has them).
# The models come from ../shared/models (MODELS=... to point elsewhere).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
frames="${1:-50}"
image="${2:-$root/samples/live_T1.jpg}"
models="${MODELS:-$root/../shared/models}"
cd "$root"
source tools/system-packages.sh
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
if [ ! -x "$here/.venv-gpu/bin/python" ]; then
    python3 -m venv "$here/.venv-gpu"
    "$here/.venv-gpu/bin/pip" install -q -r "$here/requirements-gpu.txt"
fi
cargo build --quiet --release
# Alternate rounds of liveshade and the peers, so that the machine's slow and fast spells
# (20-30 % on the shared development machines) fall on both: each round's ratio compares
# figures taken minutes apart at most.
rounds="${ROUNDS:-3}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
    ./target/release/liveshade bench --json --backend all --frames "$frames" --image "$image" | sed "s/^/engine $round /" >> "$results"
    echo "peer $round $("$here/.venv/bin/python" "$here/bench_peers.py" "$models" "$image" --frames "$frames" 2>/dev/null)" >> "$results"
    # ONNX Runtime prints its provider errors on stdout: the JSON is the last line.
    echo "gpu $round $("$here/.venv-gpu/bin/python" "$here/gpu_peers.py" "$models" tests/golden "$here/.models" --runs "$frames" 2>/dev/null | tail -n 1)" >> "$results"
done
python3 - "$results" <<'PY'
import json, statistics, sys
engine, peer, gpu = {}, {}, {}
for line in open(sys.argv[1]):
    kind, round_, text = line.split(' ', 2)
    record = json.loads(text)
    if kind == 'peer':
        peer[int(round_)] = record
    elif kind == 'gpu':
        gpu[int(round_)] = record
    else:
        engine.setdefault((record['adapter'], record['backend']), {})[int(round_)] = record
rounds = sorted(peer)
median = statistics.median
p = [peer[r]['end_to_end_ms']['median'] for r in rounds]
last = peer[rounds[-1]]
print('%d rounds; per round: median of the frames; the table: median over rounds (range)' % len(rounds))
print()
print('| runner | end-to-end ms | ratio to the CPU peers | fps pipelined | record+submit ms | stages (ms, last round) |')
print('|---|---|---|---|---|---|')
print('| CPU peers: %s | %.2f (%.2f-%.2f) | 1.00 | | | %s |' % (last['runtime'], median(p), min(p), max(p),
      ', '.join('%s %.2f' % (k, v['median']) for k, v in last['stages'].items())))
for (adapter, backend), by_round in engine.items():
    e = [by_round[r]['end_to_end_ms']['median'] for r in rounds]
    ratios = [by_round[r]['end_to_end_ms']['median'] / peer[r]['end_to_end_ms']['median'] for r in rounds]
    fps = [by_round[r]['fps_pipelined'] for r in rounds]
    cpu = [by_round[r]['cpu_ms_per_frame'] for r in rounds]
    r = by_round[rounds[-1]]
    print('| liveshade, %s (%s), %d dispatches | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.1f | %.3f | %s |' % (
        adapter, backend, r['dispatches_per_frame'], median(e), min(e), max(e), median(ratios), min(ratios), max(ratios),
        median(fps), median(cpu), ', '.join('%s %.2f' % (k, v['median']) for k, v in r['stages'].items())))
# Each network alone, per adapter: liveshade's stage against every peer's network. The
# stages hold a little more than the network (detection: the letterbox, decoding and NMS,
# the regions; landmarks: the warp and the projection; liveness: both crops and both
# MiniFASNets, against the peers' two networks summed). A peer whose outputs miss the
# goldens is marked.
networks = [('detection', ['blazeface'], 'blazeface'), ('landmarks', ['facemesh'], 'facemesh'),
            ('liveness', ['minifasnet_v2', 'minifasnet_v1se'], 'minifasnet')]
devices = [('vulkan-fp32', 'ncnn Vulkan, fp32'), ('vulkan', 'ncnn Vulkan, its fp16 defaults'), ('cpu', 'ncnn CPU')]
g = gpu[rounds[-1]]
print()
print('GPU peers: %s on %s; ONNX Runtime WebGPU: %s' % (g['runtime'], g['vulkan_device'], g['onnxruntime_webgpu']))
for (adapter, backend), by_round in engine.items():
    print()
    print('#### %s (%s)' % (adapter, backend))
    print()
    print('| network | liveshade stage ms | peer | peer ms | liveshade faster by (per round) | peer within the goldens |')
    print('|---|---|---|---|---|---|')
    for stage, nets, cpu_stage in networks:
        mine = [by_round[r]['stages'][stage]['median'] for r in rounds]
        for device, label in devices + [('onnxruntime-webgpu', 'ONNX Runtime WebGPU')]:
            if not all(device in gpu[r]['networks'][nets[0]] for r in rounds):
                continue
            theirs = [sum(gpu[r]['networks'][n][device]['median_ms'] for n in nets) for r in rounds]
            exact = all(gpu[r]['networks'][n][device]['within_tolerance'] for r in rounds for n in nets)
            ratios = ['%.2f' % (t / m) for t, m in zip(theirs, mine)]
            print('| %s | %.2f | %s | %.2f | %s | %s |' % ('+'.join(nets), median(mine), label, median(theirs), ' / '.join(ratios),
                  'yes' if exact else 'no: ' + ', '.join('%s %.1e' % (o, d) for n in nets for o, d in gpu[rounds[-1]]['networks'][n][device]['max_abs_diff'].items())))
        theirs = [peer[r]['stages'][cpu_stage]['median'] for r in rounds]
        print('| %s | %.2f | %s | %.2f | %s | (tests/networks.rs) |' % ('+'.join(nets), median(mine), last['runtime'], median(theirs),
              ' / '.join('%.2f' % (t / m) for t, m in zip(theirs, mine))))
PY
