#!/usr/bin/env bash
# liveshade against its CPU peers, in the same run on the same machine:
#   bash tools/peers/bench.sh [FRAMES] [IMAGE]
# Installs the pinned peers (tools/peers/requirements.txt) into tools/peers/.venv, runs
# `liveshade bench --json` on every adapter and tools/peers/bench_peers.py on the CPU, and
# prints a markdown table of the medians and their ratios (BENCHMARKS.md has one).
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
engine=$(cargo run --quiet --release -- bench --json --backend all --frames "$frames" --image "$image")
peer=$("$here/.venv/bin/python" "$here/bench_peers.py" "$models" "$image" --frames "$frames" 2>/dev/null)
python3 - "$peer" <<PY
import json, sys
peer = json.loads(sys.argv[1])
rows = [json.loads(l) for l in """$engine""".splitlines() if l.strip()]
p = peer['end_to_end_ms']['median']
print('| runner | end-to-end median ms | p99 ms | ratio to the CPU peers | stages (median ms) |')
print('|---|---|---|---|---|')
print('| CPU peers: %s | %.2f | %.2f | 1.00 | %s |' % (peer['runtime'], p, peer['end_to_end_ms']['p99'],
      ', '.join('%s %.2f' % (k, v['median']) for k, v in peer['stages'].items())))
for r in rows:
    m = r['end_to_end_ms']['median']
    print('| liveshade, %s (%s), %d dispatches | %.2f | %.2f | %.2f | %s |' % (r['adapter'], r['backend'], r['dispatches_per_frame'], m,
          r['end_to_end_ms']['p99'], m / p, ', '.join('%s %.2f' % (k, v['median']) for k, v in r['stages'].items())))
PY
