#!/usr/bin/env bash
# The README's main job: installs what the build and the software GPU drivers need, then
# runs the liveshade CLI with the given arguments, e.g. `bash tools/run.sh check samples/*.jpg`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/system-packages.sh
exec cargo run --quiet --release -- "$@"
