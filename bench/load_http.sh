#!/usr/bin/env bash
# Bounded wrk load on POST /liveness at rising concurrency against a server this script starts on
# loopback; prints throughput, latency percentiles, status counts and the server's peak RSS.
# Usage: bench/load_http.sh [SECONDS_PER_STEP=20] [CONCURRENCY_LIST="1 2 4 8 16 32"] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
levels=${2:-"1 2 4 8 16 32"}
build=${3:-$root/build}
image=${LIVEPROOF_LOAD_IMAGE:-$root/../shared/data/antispoof/video_frames/apfol_real2_f000.jpg}
port=${LIVEPROOF_LOAD_PORT:-18091}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

body=$(mktemp); log=$(mktemp)
printf '{"image": "%s"}' "$(base64 -w0 "$image")" > "$body"
"$build/apps/liveproof" serve --host 127.0.0.1 --port "$port" --set log_level=error > "$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$body" "$log"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

echo "image: $image ($(stat -c %s "$image") bytes), ${secs}s per step, server pid $pid"
echo "| connections | requests/s | p50 ms | p90 ms | p99 ms | p99/p50 | non-2xx | socket errors | RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $levels; do
    out=$(LIVEPROOF_LOAD_BODY=$body wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "${secs}s" --timeout 10s \
          -s "$root/bench/liveness_post.lua" "http://127.0.0.1:$port/liveness" | grep RESULT)
    eval "$(echo "$out" | sed 's/RESULT //')"
    rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$pid/status)
    ratio=$(awk -v a="$p99_ms" -v b="$p50_ms" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')
    echo "| $c | $rps | $p50_ms | $p90_ms | $p99_ms | $ratio | $non2xx | $((errors_connect + errors_read + errors_timeout)) | $rss |"
done
hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$pid/status)
echo "peak RSS (VmHWM): ${hwm} MiB"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^liveproof_(http_requests_total|rejections_total)' || true
