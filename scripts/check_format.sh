#!/usr/bin/env bash
# Fails when a C++ source differs from .clang-format (run by ctest as the "style" label).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find include src apps tools tests bench -name '*.[ch]pp')
clang-format --dry-run -Werror $files
echo "format: $(echo "$files" | wc -w) files clean"
