#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages liveshade needs when they are missing (as root or
# through sudo): Mesa's lavapipe (Vulkan) and llvmpipe (GL/EGL) software drivers, which the
# engine runs on without a GPU, and libclang, which nokhwa's V4L2 bindings (the `camera`
# feature) generate their code with, and Xvfb, xwd and the X11 client libraries winit loads
# for the preview window test; strace for the privacy trace; python3-venv and libasan8 where missing (the bindings'
# tests). Sourced by tools/run.sh and tools/test.sh.
packages=(mesa-vulkan-drivers libegl1 libgl1-mesa-dri libclang1-14 xvfb x11-apps libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 strace)
# The Python package's tests need a venv; the C ABI's leak check gcc's AddressSanitizer.
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3 python3-venv)
[ -e "$(cc -print-file-name=libasan.so 2>/dev/null)" ] || packages+=(libasan8)
if command -v dpkg >/dev/null 2>&1; then
    missing=()
    for package in "${packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ((${#missing[@]})); then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        echo "installing ${missing[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
fi
# Mesa's EGL warns on every adapter enumeration without a runtime directory.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
fi
