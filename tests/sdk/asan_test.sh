#!/usr/bin/env bash
# The C ABIs under AddressSanitizer and UBSan: a build of its own (BUILD_DIR/asan,
# -DLIVEPROOF_SANITIZE=ON) of the C API test and libfacesdk.so, then the C API test (every error
# path, the samples, the blink clip, a stream, a challenge) with leak detection, and system C's
# ctypes test with the sanitizer runtime preloaded into python3. Any report fails the test.
# The REST door it compares with is the ordinary build's server (LIVEPROOF_BINARY).
# Usage: asan_test.sh SOURCE_DIR BUILD_DIR LIVEPROOF_BINARY MODEL_DIR SHARED_DIR
set -euo pipefail
src=$1 out=$2/asan binary=$3 models=$4 shared=$5
if [ ! -f "$out/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIVEPROOF_SANITIZE=ON \
        -DLIVEPROOF_BUILD_BENCH=OFF -DLIVEPROOF_SHARED_DIR="$shared" >"$out.configure.log" 2>&1 ||
        { cat "$out.configure.log"; exit 1; }
fi
cmake --build "$out" --target sdk_capi_test liveproof_facesdk >"$out.build.log" 2>&1 ||
    { tail -40 "$out.build.log"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$out/tests/sdk_capi_test" "$models" "$shared"
echo "asan: sdk_capi_test clean"

# python3 itself is not instrumented: preload the runtime, and leave its leaks out.
runtime=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
python=/usr/bin/python3; [ -x "$python" ] || python=python3
LD_PRELOAD="$runtime:$ubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    LIVEPROOF_FACESDK="$out/src/capi/libfacesdk.so" LIVEPROOF_BIN="$binary" \
    LIVEPROOF_SHARED_DIR="$shared" LIVEPROOF_MODEL_DIR="$models" \
    "$python" "$src/tests/sdk/facesdk_ctypes_test.py"
echo "asan: facesdk ctypes test clean"
