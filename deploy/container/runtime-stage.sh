#!/usr/bin/env bash
# The container's runtime stage (Dockerfile), also run in a debootstrap root by
# tests/deploy/container_steps.sh: the server's Debian packages from the build stage (in
# /out/debs); apt pulls the libraries they depend on, and their postinst makes the user
# liveproof and /var/lib/liveproof.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends /out/debs/liveproof_*.deb \
    /out/debs/liveproof-models_*.deb >/dev/null
rm -rf /var/lib/apt/lists/*
