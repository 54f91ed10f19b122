#!/usr/bin/env bash
# The container's runtime stage (Dockerfile), also run in a debootstrap root by
# tests/deploy/container_steps.sh: only the shared libraries the server links, a system user,
# and the files the build stage collected (expected in /out).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libopencv-core406 libopencv-imgproc406 \
    libopencv-imgcodecs406 libopencv-dnn406 libopencv-objdetect406 libopencv-videoio406 \
    libopencv-calib3d406 libopencv-features2d406 libopencv-flann406 opencv-data \
    libsodium23 libsqlite3-0 libpq5 libspdlog1.10 libfmt9 ca-certificates >/dev/null
rm -rf /var/lib/apt/lists/*
install -m 0755 /out/bin/liveproof /usr/bin/liveproof
mkdir -p /usr/share/liveproof
cp -r /out/share/liveproof/web /out/share/liveproof/models /usr/share/liveproof/
id liveproof >/dev/null 2>&1 || useradd --system --home-dir /var/lib/liveproof --shell /usr/sbin/nologin liveproof
install -d -m 0700 -o liveproof -g liveproof /var/lib/liveproof
