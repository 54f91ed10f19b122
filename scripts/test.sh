#!/usr/bin/env bash
# Runs every test suite (unit, models, cli) of an already set-up build. Usage: scripts/test.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$build"
ctest --output-on-failure --timeout 900 -j 2
