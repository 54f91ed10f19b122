#!/usr/bin/env bash
# Builds the Debian packages (packaging/CMakeLists.txt) in their own build folder: a release
# build for /usr whose binary defaults to the installed model and web folders, then CPack.
# The models must be installed first (scripts/install_models.sh); the package build checks them.
# Usage: packaging/build_debs.sh [BUILD_DIR=build-deb] [OUT_DIR=BUILD_DIR/debs]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build-deb}")
out=$(realpath -m "${2:-$build/debs}")
# CPack's dependency list needs dpkg-shlibdeps (dpkg-dev) and file.
for tool in dpkg-shlibdeps:dpkg-dev file:file; do
    command -v "${tool%%:*}" >/dev/null ||
        { echo "build_debs: ${tool%%:*} is missing: apt-get install ${tool#*:}" >&2; exit 1; }
done
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DLIVEPROOF_FOR_PACKAGE=ON -DLIVEPROOF_BUILD_TESTS=OFF -DLIVEPROOF_BUILD_BENCH=OFF \
    -DLIVEPROOF_WERROR=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
mkdir -p "$out"
rm -f "$out"/*.deb
(cd "$build" && cpack -G DEB -B "$out" >"$build/cpack.log") ||
    { cat "$build/cpack.log" >&2; exit 1; }
rm -rf "$out/_CPack_Packages"
ls "$out"/*.deb
