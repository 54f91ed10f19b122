#!/usr/bin/env bash
# The C API test under valgrind memcheck (quick mode: no video clip, which would take minutes):
# no invalid read or write, no use of uninitialised memory, nothing definitely lost.
# Skips (77) without valgrind, or on a CPU with AVX-512: valgrind 3.19 does not emulate those
# instructions, and libhwy (under OpenCV's codecs) picks them at start-up, dying with SIGILL.
# Usage: valgrind_test.sh CAPI_TEST MODEL_DIR SHARED_DIR
set -euo pipefail
command -v valgrind >/dev/null || { echo "skip: valgrind not installed"; exit 77; }
if grep -qw avx512f /proc/cpuinfo; then
    echo "skip: this CPU has AVX-512, which valgrind 3.19 cannot run (ASan covers it: sdk_asan)"
    exit 77
fi
LP_TEST_QUICK=1 valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-origins=yes "$@"
echo "valgrind: clean"
