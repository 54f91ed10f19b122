#!/usr/bin/env bash
# Soak at saturation: HTTP (real and bad images mixed) and WebSocket sessions against one real
# server for ROUNDS x ROUND_S seconds, the server's RSS sampled every 10 s. Prints a summary and
# leaves every bench JSON and the RSS samples in OUT_DIR.
# Usage: bench/soak.sh [ROUNDS=3] [ROUND_S=600] [OUT_DIR=build/soak]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
round_s=${2:-600}
out=${3:-$root/build/soak}
bin=$root/build/apps/liveproof
shared=${LIVEPROOF_SHARED_DIR:-$root/../shared}
mkdir -p "$out"
rm -f "$out"/*.json "$out"/rss.csv

# Bad inputs mixed into the HTTP load: a truncated JPEG and a file that is no image at all.
head -c 20000 "$shared/models/samples/image_T1.jpg" >"$out/truncated.jpg"
printf 'this is not an image\n' >"$out/not_an_image.jpg"

"$bin" serve --host 127.0.0.1 --port 0 --models "$root/models" \
    --set max_connections_per_client=64 --set ws_idle_timeout=600 >"$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's/.*liveproof listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/server.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "soak: server did not start"; cat "$out/server.log"; exit 1; }

sample_rss() {
    local start=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        echo "$((SECONDS - start)),$(awk '/VmRSS/ {print $2}' /proc/$pid/status)" >>"$out/rss.csv"
        sleep 10
    done
}
sample_rss &
sampler=$!

for r in $(seq 1 "$rounds"); do
    echo "soak: round $r of $rounds (${round_s} s)"
    "$bin" bench http --url "http://127.0.0.1:$port/liveness" --connections 8 \
        --duration "$round_s" --json --image "$shared/models/samples/image_T1.jpg" \
        "$shared/models/samples/image_F1.jpg" "$out/truncated.jpg" "$out/not_an_image.jpg" \
        >"$out/http_$r.json" 2>"$out/http_$r.err" &
    http=$!
    "$bin" bench ws --url "ws://127.0.0.1:$port/ws" --clients 10 --fps 7 \
        --duration "$round_s" --json --video "$shared/data/video/apfol_real2_live_headturn.webm" \
        >"$out/ws_$r.json" 2>"$out/ws_$r.err"
    wait "$http"
done
kill "$sampler" 2>/dev/null || true
alive=$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)
python3 - "$out" "$rounds" "$alive" <<'PY'
import json, sys, glob, os
out, rounds, alive = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rss = [tuple(map(int, l.split(","))) for l in open(os.path.join(out, "rss.csv")) if "," in l]
status, ws_types, errors = {}, {}, 0
for r in range(1, rounds + 1):
    h = json.load(open(os.path.join(out, f"http_{r}.json")))
    for k, v in h["status"].items():
        status[k] = status.get(k, 0) + v
    errors += h["errors_total"]
    w = json.load(open(os.path.join(out, f"ws_{r}.json")))
    for k, v in w["replies_by_type"].items():
        ws_types[k] = ws_types.get(k, 0) + v
    errors += w["errors_total"]
# Growth is judged from the end of the first round (allocator arenas and caches warmed up).
warm = [kb for t, kb in rss if t >= rss[-1][0] / rounds] or [rss[0][1]]
growth = (rss[-1][1] - warm[0]) / warm[0] * 100
print(json.dumps({"http_status": status, "ws_replies_by_type": ws_types, "errors": errors,
                  "rss_kib_first": rss[0][1], "rss_kib_after_round_1": warm[0],
                  "rss_kib_last": rss[-1][1], "rss_kib_max": max(kb for _, kb in rss),
                  "rss_growth_pct_after_round_1": round(growth, 2), "server_alive": alive},
                 indent=2))
bad = set(status) - {"200", "503", "400"}
sys.exit(1 if bad or alive != "yes" or growth >= 5 else 0)
PY
