#!/usr/bin/env bash
# Per-stage benchmarks, single thread, 5 repetitions, medians reported. Usage: bench/run_stage_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target liveproof_bench_stages >/dev/null
"$build/bench/liveproof_bench_stages" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=1 "${@:2}"
