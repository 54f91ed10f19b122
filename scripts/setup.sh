#!/usr/bin/env bash
# Fresh-machine setup: Debian packages, release build, models from ../shared/models (verified).
# Idempotent; safe to run again. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}

packages=(build-essential cmake ninja-build pkg-config git ca-certificates python3
          libopencv-dev opencv-data nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
          libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev ffmpeg clang-format
          libjpeg62-turbo-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIVEPROOF_WERROR=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
"$root/scripts/install_models.sh"
