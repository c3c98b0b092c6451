#!/usr/bin/env bash
# liveshade against its CPU peers, in the same run on the same machine:
#   [ROUNDS=3] bash tools/peers/bench.sh [FRAMES] [IMAGE]
# Installs the pinned peers (tools/peers/requirements.txt) into tools/peers/.venv, runs
# `liveshade bench --json` on every adapter and tools/peers/bench_peers.py on the CPU in
# alternating rounds, and prints a markdown table of the medians and their ratios
# (BENCHMARKS.md has one).
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
done
python3 - "$results" <<'PY'
import json, statistics, sys
engine, peer = {}, {}
for line in open(sys.argv[1]):
    kind, round_, text = line.split(' ', 2)
    record = json.loads(text)
    if kind == 'peer':
        peer[int(round_)] = record
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
PY
