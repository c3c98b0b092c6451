#!/usr/bin/env bash
# Wall time of `liveshade check` against `liveshade watch` (sessions with the face followed
# between detections, and with BlazeFace on every frame: --detect-every 1) over the same
# frames: every folder of shared/faces/sequences, in alternating rounds, one process per
# folder and command (engine start included). Prints one line per round and the medians.
#
#   bash tools/watch_vs_check.sh [ROUNDS=3] [SHARED=../shared]
# Uses target/release/liveshade (cargo build --release first).
set -euo pipefail
shopt -s inherit_errexit
rounds=${1:-3}
shared=${2:-../shared}
cli=${LIVESHADE_CLI:-target/release/liveshade}
[ -x "$cli" ] || { echo "build the CLI first: cargo build --release" >&2; exit 2; }
# The folder's frames, in order (JPEG or PNG).
frames_of() { ls "$1" | grep -E '\.(jpg|png)$' | sort | sed "s|^|$1|"; }
folders=("$shared"/faces/sequences/*/)
frames=0
for folder in "${folders[@]}"; do frames=$((frames + $(frames_of "$folder" | wc -l))); done
# Milliseconds a command takes; a command that fails stops the script (a failed check took
# no time, and counting it made `check` look faster: one folder is PNG).
ms() {
    local start
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
    echo $((($(date +%s%N) - start) / 1000000))
}
over_folders() {
    local total=0 t files
    for folder in "${folders[@]}"; do
        case $1 in
            check) mapfile -t files < <(frames_of "$folder"); t=$(ms "$cli" check --json "${files[@]}") ;;
            watch) t=$(ms "$cli" watch --consent --json --frames "$folder") ;;
            every) t=$(ms "$cli" watch --consent --json --detect-every 1 --frames "$folder") ;;
        esac
        total=$((total + t))
    done
    echo "$total"
}
echo "$frames frames in ${#folders[@]} folders, $rounds rounds"
declare -a checks watches everys
for round in $(seq 1 "$rounds"); do
    c=$(over_folders check); w=$(over_folders watch); e=$(over_folders every)
    checks+=("$c"); watches+=("$w"); everys+=("$e")
    awk -v r="$round" -v c="$c" -v w="$w" -v e="$e" 'BEGIN { printf "round %d: check %.2f s, watch %.2f s (%.3fx), watch --detect-every 1 %.2f s (%.3fx)\n", r, c / 1e3, w / 1e3, w / c, e / 1e3, e / c }'
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "${checks[@]}"); mw=$(median "${watches[@]}"); me=$(median "${everys[@]}")
awk -v c="$mc" -v w="$mw" -v e="$me" 'BEGIN { printf "median: check %.2f s, watch %.2f s (%.3fx), watch --detect-every 1 %.2f s (%.3fx)\n", c / 1e3, w / 1e3, w / c, e / 1e3, e / c }'
