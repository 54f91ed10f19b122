#!/usr/bin/env bash
# Fresh-machine setup: Debian packages, release build, models from ../shared/models (verified).
# Idempotent; safe to run again. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}

packages=(build-essential cmake ninja-build pkg-config git ca-certificates python3
          libopencv-dev opencv-data nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
          libsodium-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev ffmpeg clang-format
          libjpeg62-turbo-dev libboost-dev clang libclang-rt-14-dev chromium
          python3-pil python3-numpy python3-opencv valgrind
          libsqlite3-dev python3-jwt python3-cryptography
          libpq-dev libsystemd-dev postgresql nginx systemd debootstrap dpkg-dev file
          libxnnpack-dev libpthreadpool-dev libonnx-dev libprotobuf-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js builds the API docs (web/). Some images ship a Node.js that bundles npm outside
# Debian's packages; Debian's npm would conflict with it, so only install what is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Web assets (Swagger UI, YAML parser) pinned by web/package-lock.json, installed here so that
# nothing is downloaded at build or run time.
npm ci --prefix "$root/web" --no-audit --no-fund
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIVEPROOF_WERROR=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
"$root/scripts/install_models.sh"
