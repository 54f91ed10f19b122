#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET=20] [OUT_DIR=build-fuzz]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
out=${2:-$root/build-fuzz}
command -v clang++ >/dev/null || { echo "fuzz: clang++ not installed (apt-get install clang libclang-rt-14-dev)"; exit 77; }
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I"$root/src")
declare -A sources=(
    [image_header]="src/media/image_header.cpp"
    [base64]="src/media/base64.cpp"
    [multipart]="src/server/multipart.cpp"
)
for name in image_header base64 multipart; do
    bin=$out/fuzz_$name
    srcs=("$root/tests/fuzz/fuzz_$name.cpp")
    for s in ${sources[$name]}; do srcs+=("$root/$s"); done
    clang++ "${flags[@]}" "${srcs[@]}" "$root/src/engine/error.cpp" -o "$bin"
    corpus=$out/corpus_$name
    mkdir -p "$corpus"
    cp -n "$root/tests/fuzz/corpus/$name/"* "$corpus/" 2>/dev/null || true
    echo "fuzz: $name for ${secs}s"
    log=$out/fuzz_$name.log
    status=0
    (cd "$out" && "$bin" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=1024 \
        "$corpus" >"$log" 2>&1) || status=$?
    grep -E "^#[0-9]+.*DONE|ERROR|SUMMARY|crash-" "$log" || true
    # libFuzzer exits non-zero on a finding (the input is saved as $out/crash-*).
    [ "$status" -eq 0 ] || { echo "fuzz: $name FAILED (status $status), see $log"; exit 1; }
done
echo "fuzz: all targets clean"
