#!/usr/bin/env bash
# Runs every test suite (unit, models, cli, integration, e2e, web, style, fuzz) of an already
# set-up build. Usage: scripts/test.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
# The model, integration and browser tests skip (and ctest counts them as passed) without the
# shared data or the installed models; the suite as a whole must not pass vacuously, so both are
# required here (LIVEPROOF_SHARED_DIR and LIVEPROOF_MODEL_DIR override the defaults, as in
# CMakeLists.txt and scripts/install_models.sh).
shared=${LIVEPROOF_SHARED_DIR:-$root/../shared}
models=${LIVEPROOF_MODEL_DIR:-$root/models}
missing=()
for need in "$shared/data/labels.csv" "$shared/data/video"; do
    [ -e "$need" ] || missing+=("$need")
done
while IFS='|' read -r file _rest; do
    file=$(echo "$file" | xargs)
    [ -z "$file" ] || [ "${file:0:1}" = "#" ] || [ -e "$models/$file" ] || missing+=("$models/$file")
done <"$root/models/MANIFEST"
if [ ${#missing[@]} -gt 0 ]; then
    echo "test: missing ${missing[*]}" >&2
    echo "test: the shared data and the models (scripts/install_models.sh) are required" >&2
    exit 1
fi
cd "$build"
ctest --output-on-failure --timeout 900 -j 2
