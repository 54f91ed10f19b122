#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, CMake -DLIVEPROOF_FUZZ=ON) and
# runs each for a bounded time on its seeds and its saved regressions; fails on any crash, leak,
# timeout or out-of-memory finding.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET=20] [OUT_DIR=build-fuzz]
# Environment: FUZZ_TARGETS="json http_request" runs only those; FUZZ_JOBS build jobs (nproc);
# FUZZ_RUNS=N also stops each target after N executions (the long runs: FUZZ_RUNS=10000000 with
# 3600 seconds, "10 million executions or an hour").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
out=${2:-$root/build-fuzz}
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ not installed (apt-get install clang libclang-rt-14-dev)"
    exit 77
fi
fuzz=$root/tests/fuzz
all_targets=(json labels_csv licence config challenge ws_message json_bodies http_request
             image_decode image_header base64 multipart sessions)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"
# Longest input per target: whole requests and images need more than the 4096 default.
declare -A max_len=([http_request]=65536 [json_bodies]=65536 [image_decode]=65536
                    [ws_message]=16384 [multipart]=16384)

start=$SECONDS
mkdir -p "$out"
if [ ! -f "$out/CMakeCache.txt" ]; then
    generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
    # Debug: no NDEBUG, so assertions stay on; the fuzz flags add -O1.
    CC=clang CXX=clang++ cmake -S "$root" -B "$out" "${generator[@]}" -DLIVEPROOF_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=Debug >"$out/configure.log" 2>&1 ||
        { cat "$out/configure.log"; echo "fuzz: configure failed"; exit 1; }
fi
cmake --build "$out" --target liveproof_fuzzers -j "${FUZZ_JOBS:-$(nproc)}" \
    >"$out/build.log" 2>&1 ||
    { tail -50 "$out/build.log"; echo "fuzz: build failed, see $out/build.log"; exit 1; }
echo "fuzz: build took $((SECONDS - start)) s"

# Open findings (tests/fuzz/known_open.txt): skipped while fuzzing, their reproducers replayed.
skip=$(awk '!/^#/ && NF {print $1}' "$fuzz/known_open.txt" | paste -sd, -)
status=0
while read -r id target file; do
    [ -n "${id:-}" ] || continue
    case "$id" in \#*) continue ;; esac
    if "$out/tests/fuzz/fuzz_$target" "$fuzz/regressions/$target/$file" \
        >"$out/open_$id.log" 2>&1; then
        echo "fuzz: open finding $id no longer reproduces:" \
             "delete its line in tests/fuzz/known_open.txt"
        status=1
    else
        echo "fuzz: open finding $id still reproduces (skipped while fuzzing)"
    fi
done <"$fuzz/known_open.txt"

for name in "${targets[@]}"; do
    bin=$out/tests/fuzz/fuzz_$name
    work=$out/corpus/$name
    artifacts=$out/artifacts/$name
    mkdir -p "$work" "$artifacts"
    dirs=("$work" "$fuzz/corpus/$name")
    [ -d "$fuzz/regressions/$name" ] && dirs+=("$fuzz/regressions/$name")
    dict=(); [ -f "$fuzz/dict/$name.dict" ] && dict=(-dict="$fuzz/dict/$name.dict")
    log=$out/fuzz_$name.log
    rc=0
    runs=(); [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
    LIVEPROOF_FUZZ_SKIP=$skip "$bin" -max_total_time="$secs" "${runs[@]}" \
        -max_len="${max_len[$name]:-4096}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
    took=$(awk '/Done [0-9]+ runs in/ {print $(NF-1)}' "$log")
    echo "fuzz: $name: ${execs:-?} executions in ${took:-$secs} s (${rate:-?}/s)"
    if [ "$rc" -ne 0 ]; then
        grep -E "INVARIANT BROKEN|ERROR:|SUMMARY|runtime error|Test unit written" "$log" |
            head -20 || true
        echo "fuzz: $name FAILED (status $rc), see $log and $artifacts"
        status=1
    fi
done
echo "fuzz: done in $((SECONDS - start)) s"
[ "$status" -eq 0 ] && echo "fuzz: all targets clean"
exit "$status"
