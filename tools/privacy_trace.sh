#!/usr/bin/env bash
# PRIVACY.md's promises 1 and 6 checked at run time: `check`, `session` and
# `watch --frames` run under strace, and the run fails on
#   - any socket but AF_UNIX, and any AF_UNIX connection but glibc's name-service cache
#     (nscd, asked for the user's home directory by the GPU driver's cache lookup) and the
#     display server's sockets (Wayland's $XDG_RUNTIME_DIR/wayland-N, X11's
#     /tmp/.X11-unix/XN), which the graphics stack probes for when it starts;
#   - any file opened for writing, created, renamed, truncated or removed outside the GPU
#     driver's shader cache (Mesa's mesa_shader_cache) and the GPU's device nodes, and any
#     write through a descriptor (write, pwrite64, writev, ftruncate, fallocate, sendfile,
#     copy_file_range: strace -y names the file behind it) to a file outside those, so that
#     a descriptor inherited or opened before the trace cannot hide a write;
#   - with `--pipeline-cache DIR` (the one file the library writes, when asked), any write
#     outside those and DIR's cache files (liveshade_<adapter>.bin and its temporaries),
#     and any touch of DIR after the first image was opened.
#   bash tools/privacy_trace.sh [path/to/liveshade]       (tools/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/liveshade}
traces=$(mktemp -d)
trap 'rm -rf "$traces"' EXIT
trace() {
    local name=$1
    shift
    # stderr through a pipe, so that a run whose stderr is a log file does not count the
    # CLI's messages as file writes.
    strace -f -qq -y -e trace=%network,%file,write,pwrite64,writev,pwritev,pwritev2,ftruncate,fallocate,sendfile,copy_file_range \
        -o "$traces/$name" "$bin" "$@" 2>&1 > /dev/null | cat >&2
}
trace check check samples/live_T1.jpg samples/spoof_print_F1.jpg
trace session session tests/sequences/brbk7n
trace watch watch --frames tests/sequences/brbk7n --json
cache=$(mktemp -d)
trap 'rm -rf "$traces" "$cache"' EXIT
trace cached check --pipeline-cache "$cache" samples/live_T1.jpg samples/spoof_print_F1.jpg
failed=0
first_image=$(grep -m1 -n -E 'open(at)?\(.*"samples/live_T1.jpg"' "$traces/cached" | cut -d: -f1 || true)
late=$(tail -n "+${first_image:-1}" "$traces/cached" | grep -F "$cache" || true)
if [ -z "$first_image" ] || [ -n "$late" ]; then
    printf 'cached: the pipeline cache directory touched after the first image was opened (or no image opened):\n%s\n' "$late"
    failed=1
fi
for name in check session watch cached; do
    file="$traces/$name"
    sockets=$(grep -E '(^|[^_])socket\(' "$file" | grep -v 'socket(AF_UNIX' || true)
    connects=$(grep -E '(^|[^_])connect\(' "$file" | grep -v -E 'sun_path="(/var/run/nscd/socket|[^"]*/wayland-[0-9]+|/tmp/\.X11-unix/X[0-9]+)"' || true)
    # Path-based writes, then writes through a descriptor to a file (strace -y prints
    # `write(3</path>, ...`; pipes, sockets, terminals and /dev/null are not files).
    writes=$( {
        grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|(^|[ (])(creat|rename|renameat2?|unlink|unlinkat|rmdir|mkdir|mkdirat|truncate|link|linkat|symlink|symlinkat)\(' "$file"
        grep -E '(^|[ (])(write|pwrite64|writev|pwritev2?|ftruncate|fallocate|sendfile|copy_file_range)\([0-9]+</' "$file" | grep -v -E '\([0-9]+</dev/(null|pts/[0-9]+|tty[0-9]*)>'
    } | grep -v -E 'mesa_shader_cache|[<"]/dev/(dri/[^>"]*|null)[>"]' | { if [ "$name" = cached ]; then grep -v -E "[<\"]$cache/liveshade_[A-Za-z0-9_]+\.(bin|tmp[0-9]+-[0-9]+)[>\"]"; else cat; fi; } || true)
    calls=$(wc -l < "$file")
    if [ -n "$sockets$connects$writes" ]; then
        printf '%s: a socket or a write the privacy promises do not allow:\n%s\n%s\n%s\n' "$name" "$sockets" "$connects" "$writes"
        failed=1
    else
        echo "$name: $calls file and network calls traced; no socket but the name-service cache's and the display server's, no file written but the shader cache"
    fi
done
exit "$failed"
