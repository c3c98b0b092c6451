#!/usr/bin/env bash
# Rebuilds weights/ from the original model files: the one documented command.
#   bash tools/convert_weights.sh            write weights/
#   bash tools/convert_weights.sh --check    rebuild into a temporary folder and compare
# Needs Python 3 and PyPI (for the pinned tools/requirements.txt and the mediapipe wheel);
# the MiniFASNet .pth files come from ../shared/models (MODELS=... to point elsewhere).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
models="${MODELS:-$root/../shared/models}"
venv="$here/.venv"
cache="$here/.cache"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
wheel=$(ls "$cache"/mediapipe-0.10.14-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    mkdir -p "$cache"
    "$venv/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.11 \
        --platform manylinux_2_17_x86_64 -d "$cache" mediapipe==0.10.14
    wheel=$(ls "$cache"/mediapipe-0.10.14-*.whl | head -n 1)
fi
out="$root/weights"
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp -d)
fi
"$venv/bin/python" "$here/convert_weights.py" --wheel "$wheel" --pth-dir "$models" --out "$out"
if [ "${1:-}" = "--check" ]; then
    for file in "$out"/*.safetensors; do
        cmp "$file" "$root/weights/$(basename "$file")"
    done
    echo "weights/ is exactly what the converter builds from the original files"
    rm -rf "$out"
fi
