#!/usr/bin/env bash
# The container's build stage (Dockerfile), also run as it is in a debootstrap root by
# tests/deploy/container_steps.sh: Debian packages, a release build of the server (no tests, no
# benchmarks), the models from /shared/models checked against models/MANIFEST, everything the
# runtime stage needs collected in /out.
set -euo pipefail
src=${1:-/src}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential cmake ninja-build pkg-config \
    ca-certificates libopencv-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev \
    libsodium-dev libexpected-dev libjpeg62-turbo-dev libboost-dev libsqlite3-dev libpq-dev \
    nodejs npm >/dev/null
npm ci --prefix "$src/web" --no-audit --no-fund >/dev/null
cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIVEPROOF_BUILD_TESTS=OFF \
    -DLIVEPROOF_BUILD_BENCH=OFF >/dev/null
cmake --build "$src/build" --target liveproof liveproof_web --parallel "$(nproc)"
mkdir -p /out/bin /out/share/liveproof
cp "$src/build/apps/liveproof" /out/bin/liveproof
cp -r "$src/build/web" /out/share/liveproof/web
"$src/scripts/install_models.sh" /shared/models /out/share/liveproof/models
