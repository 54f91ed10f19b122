#!/usr/bin/env bash
# The container's build stage (Dockerfile), also run as it is in a debootstrap root by
# tests/deploy/container_steps.sh: Debian packages, the models from /shared/models checked
# against models/MANIFEST, and liveproof's own Debian packages (packaging/build_debs.sh), which
# the runtime stage installs from /out/debs.
set -euo pipefail
src=${1:-/src}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential cmake ninja-build pkg-config \
    ca-certificates libopencv-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev \
    libsodium-dev libexpected-dev libjpeg62-turbo-dev libboost-dev libsqlite3-dev libpq-dev libsystemd-dev \
    libxnnpack-dev libpthreadpool-dev libonnx-dev libprotobuf-dev \
    dpkg-dev file nodejs npm >/dev/null
npm ci --prefix "$src/web" --no-audit --no-fund >/dev/null
"$src/scripts/install_models.sh" /shared/models "$src/models"
"$src/packaging/build_debs.sh" "$src/build" /out/debs
