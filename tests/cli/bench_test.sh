#!/usr/bin/env bash
# `liveproof bench http|ws|sessions` against a real `liveproof serve` on loopback (with an API
# key): JSON counts and latencies, the caps and the loopback-only rule (exit 2), and an
# unreachable port (a clear error, non-zero, at once). Usage: bench_test.sh BIN SHARED_DIR MODEL_DIR
set -euo pipefail
bin=$1; shared=$2; models=$3
image=$shared/data/antispoof/video_frames/apfol_real2_f000.jpg  # a live webcam frame (labels.csv)
video=$shared/data/video/apfol_real2_live_headturn.webm
[ -f "$image" ] && [ -f "$video" ] || { echo "skip: shared data absent under $shared"; exit 77; }
[ -f "$models/MANIFEST" ] && ls "$models"/*.onnx >/dev/null 2>&1 ||
    { echo "skip: models not installed in $models"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# -- refusals: exit 2 and a message on stderr, before any connection ----------------------
expect_refused() {  # expect_refused PATTERN ARGS...
    local pattern=$1; shift
    set +e; "$bin" bench "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; set -e
    [ $rc -eq 2 ] || fail "bench $*: expected exit 2, got $rc ($(cat "$tmp/err"))"
    grep -q -- "$pattern" "$tmp/err" || fail "bench $*: stderr lacks '$pattern': $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "bench $*: printed on stdout: $(cat "$tmp/out")"
}
expect_refused "refusing non-loopback host 192.0.2.1" \
    http --url http://192.0.2.1/liveness --image "$image" --duration 1
expect_refused "refusing non-loopback host 192.0.2.1" \
    ws --url ws://192.0.2.1:8001/ws --video "$video" --duration 1
expect_refused "--clients must be in 1..256" ws --clients 0 --video "$video"
expect_refused "--clients must be in 1..256" ws --clients 257 --video "$video"
expect_refused "--duration must be in 1..600" ws --duration 100000 --video "$video"
expect_refused "--duration must be in 1..600" http --duration 100000 --image "$image"
expect_refused "--connections must be in 1..256" http --connections 0 --image "$image"
expect_refused "--fps must be in 1..60" ws --fps 61 --video "$video"
expect_refused "--width must be in 16..4096" ws --width 8 --video "$video"
expect_refused "either --video FILE or --image" ws --video "$video" --image "$image"
expect_refused "at least one --image" http
expect_refused "TLS is not supported" http --url https://127.0.0.1/liveness --image "$image"
expect_refused "not a readable file" http --image "$tmp/missing.jpg"
expect_refused "refusing non-loopback host 192.0.2.1" \
    sessions --url http://192.0.2.1:8001 --duration 1
expect_refused "--connections must be in 1..256" sessions --connections 257
expect_refused "--duration must be in 1..600" sessions --duration 0.5
expect_refused "--mode must be active, passive or blink" sessions --mode selfie
expect_refused "no query" sessions --url "http://127.0.0.1:8001/?x=1"
echo "bench refusals: ok"

# -- an unreachable loopback port: a clear error, non-zero, quickly ------------------------
port=$(free_port)
t0=$(now)
set +e
"$bin" bench http --url "http://127.0.0.1:$port/liveness" --image "$image" --duration 5 \
    >"$tmp/out" 2>"$tmp/err"
rc_http=$?
"$bin" bench ws --url "ws://localhost:$port/ws" --video "$video" --duration 5 \
    >/dev/null 2>"$tmp/err_ws"
rc_ws=$?
"$bin" bench sessions --url "http://127.0.0.1:$port" --duration 5 >/dev/null 2>"$tmp/err_s"
rc_s=$?
set -e
took=$(elapsed "$t0" "$(now)")
[ $rc_http -ne 0 ] && [ $rc_ws -ne 0 ] && [ $rc_s -ne 0 ] ||
    fail "unreachable: exits $rc_http, $rc_ws, $rc_s"
grep -q "cannot connect to 127.0.0.1:$port" "$tmp/err_s" ||
    fail "unreachable sessions: $(cat "$tmp/err_s")"
grep -q "cannot connect to 127.0.0.1:$port" "$tmp/err" || fail "unreachable http: $(cat "$tmp/err")"
grep -q "cannot connect to localhost:$port" "$tmp/err_ws" || fail "unreachable ws: $(cat "$tmp/err_ws")"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 6 else 1)" "$took" ||
    fail "unreachable server took ${took} s to report"
echo "bench unreachable: ok (${took} s for all three)"

# -- a real server --------------------------------------------------------------------------
for v in $(compgen -e | grep '^LIVEPROOF_' || true); do unset "$v"; done
unset API_KEY MODEL_PATH CONFIDENCE_THRESHOLD
key=bench-test-key
"$bin" serve --host 127.0.0.1 --port 0 --workers 2 --models "$models" --api-key "$key" \
    --set data_dir="$tmp/data" \
    --set session_timeout=600 --set challenge_timeout=600 --set max_wrong_attempts=100 \
    --set ws_idle_timeout=600 >"$tmp/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 600); do
    port=$(sed -n 's/.*liveproof listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server.log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "server exited: $(cat "$tmp/server.log")"
    sleep 0.1
done
[ -n "$port" ] || fail "server did not listen within 60 s: $(cat "$tmp/server.log")"
python3 - "$port" <<'PY' || fail "server not ready: $(cat "$tmp/server.log")"
import sys, time, urllib.request
for _ in range(300):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=5).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY

# HTTP: 2 keep-alive connections for 3 s, system B's base64 JSON body.
"$bin" bench http --url "http://127.0.0.1:$port/liveness" --image "$image" --duration 3 \
    --connections 2 --api-key "$key" --json >"$tmp/http.json" 2>"$tmp/http.err" ||
    fail "bench http: $(cat "$tmp/http.err")"
python3 - "$tmp/http.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "http" and j["connections"] == 2 and j["addresses"] == ["127.0.0.1"], j
assert j["requests"] > 0 and j["requests_per_s"] > 0, j
assert j["status"].get("200", 0) > 0, j["status"]
assert set(j["status"]) <= {"200", "503"}, j["status"]
assert j["errors"] == {} and j["errors_total"] == 0, j["errors"]
for k in ("latency_ms", "latency_200_ms"):
    lat = j[k]
    assert lat["count"] > 0 and 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"], lat
assert j["latency_ms"]["count"] == j["requests"], j
assert 2.9 <= j["elapsed_s"] < 5, j["elapsed_s"]
m = j["server_metrics"]  # read with the key
assert m is not None and any(k.startswith("liveproof_http_requests_total") for k in m), m
print(f"cli bench http --json: ok ({j['requests']} requests, p50 {j['latency_ms']['p50']} ms)")
PY

# Without the key every answer is a 401; multipart goes to system C's endpoint.
"$bin" bench http --url "http://127.0.0.1:$port/liveness" --image "$image" --duration 1 \
    --connections 1 --json >"$tmp/nokey.json" 2>/dev/null || fail "bench http without key"
python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert j['status'].get('401', 0) > 0 and '200' not in j['status'], j['status']
assert j['server_metrics'] is None, j['server_metrics']
" "$tmp/nokey.json" || fail "bench http without key: $(cat "$tmp/nokey.json")"
"$bin" bench http --url "http://127.0.0.1:$port/liveness-detection" --image "$image" \
    --duration 1 --connections 1 --body multipart --field file --api-key "$key" \
    >"$tmp/http.txt" 2>/dev/null || fail "bench http multipart"
grep -q 'by status .*200 ' "$tmp/http.txt" && grep -q 'requests/s' "$tmp/http.txt" ||
    fail "bench http text output: $(cat "$tmp/http.txt")"
echo "cli bench http (no key, multipart, text): ok"

# WebSocket: 2 sessions streaming the head-turn clip at 7 fps for 3 s.
t0=$(now)
"$bin" bench ws --url "ws://127.0.0.1:$port/ws" --video "$video" --duration 3 --clients 2 \
    --api-key "$key" --json >"$tmp/ws.json" 2>"$tmp/ws.err" || fail "bench ws: $(cat "$tmp/ws.err")"
took=$(elapsed "$t0" "$(now)")
python3 - "$tmp/ws.json" "$took" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "ws" and j["clients"] == 2 and j["fps"] == 7, j
assert j["frames_sent"] > 0 and j["replies"] > 0, j
# 2 clients x 7 fps x 3 s, give or take a tick each
assert 38 <= j["frames_sent"] <= 46, j["frames_sent"]
assert j["sessions"]["opened"] >= 2, j["sessions"]
assert j["source"]["frames"] > 30 and j["source"]["width"] == 640, j["source"]
assert j["errors"] == {}, j["errors"]
types = j["replies_by_type"]
assert sum(types.values()) == j["replies"] and "start" not in types, types
assert set(types) & {"waiting", "challenge", "success", "no_face"}, types
f = j["frames"]
assert f["answered"] + f["unanswered_at_end"] + f["unanswered_when_session_ended"] \
    == f["sent"] == j["frames_sent"] == f["answered"] + j["frames_unanswered"], f
lat = j["latency_ms"]
assert lat["count"] > 0 and 0 < lat["p50"] <= lat["p95"] <= lat["max"], lat
assert j["answered_latency_ms"]["count"] > 0, j["answered_latency_ms"]
assert j["server_frames"]["processed"] > 0, j["server_frames"]
assert float(sys.argv[2]) < 9, f"took {sys.argv[2]} s"
print(f"cli bench ws --json: ok ({j['frames_sent']} frames, {j['replies']} replies, "
      f"p50 {lat['p50']} ms, {sys.argv[2]} s)")
PY

# Stop-and-wait with still images, text output.
"$bin" bench ws --url "ws://127.0.0.1:$port/ws" --image "$image" --duration 1 --clients 1 \
    --stop-and-wait --api-key "$key" >"$tmp/ws.txt" 2>/dev/null || fail "bench ws stop-and-wait"
grep -q 'frames sent' "$tmp/ws.txt" && grep -q "frame's own reply" "$tmp/ws.txt" ||
    fail "bench ws text output: $(cat "$tmp/ws.txt")"
echo "cli bench ws (stop-and-wait, text): ok"

# Sessions: create for 2 s, read the created ones for 2 s, then delete them (2 s at most).
"$bin" bench sessions --url "http://127.0.0.1:$port" --duration 2 --connections 2 --delete \
    --api-key "$key" --json >"$tmp/sessions.json" 2>"$tmp/sessions.err" ||
    fail "bench sessions: $(cat "$tmp/sessions.err")"
python3 - "$tmp/sessions.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "sessions" and j["connections"] == 2 and j["delete"] is True, j
assert j["sessions_created"] > 0 and j["sessions_kept"] == j["sessions_created"], j
phases = j["phases"]
for name, ok in (("create", "201"), ("read", "200"), ("delete", "204")):
    p = phases[name]
    assert p["requests"] > 0 and p["requests_per_s"] > 0, (name, p)
    assert set(p["status"]) == {ok} and p["errors"] == {}, (name, p["status"], p["errors"])
    lat = p["latency_ok_ms"]
    assert lat["count"] == p["status"][ok] and 0 < lat["p50"] <= lat["p95"] <= lat["p99"], lat
    assert p["server_mean_ms"] is not None and p["server_mean_ms"] > 0, (name, p)
assert phases["create"]["status"]["201"] == j["sessions_created"], j
assert 1.9 <= phases["create"]["elapsed_s"] < 3 and 1.9 <= phases["read"]["elapsed_s"] < 3, j
# each created session is deleted once at most: the phase ends early when all are gone
assert phases["delete"]["status"]["204"] <= j["sessions_created"], phases["delete"]
m = j["server_metrics"]
assert m['liveproof_sessions_total{event="created"}'] >= j["sessions_created"], m
print(f"cli bench sessions --json: ok ({j['sessions_created']} created at "
      f"{phases['create']['requests_per_s']}/s, {phases['read']['requests']} reads, "
      f"{phases['delete']['requests']} deleted)")
PY

# Text output; without the key nothing is created: exit 1, and why.
"$bin" bench sessions --url "http://127.0.0.1:$port" --duration 1 --connections 1 \
    --api-key "$key" >"$tmp/sessions.txt" 2>/dev/null || fail "bench sessions text"
grep -q 'create (POST /v1/sessions)' "$tmp/sessions.txt" &&
    grep -q 'requests/s' "$tmp/sessions.txt" ||
    fail "bench sessions text output: $(cat "$tmp/sessions.txt")"
set +e
"$bin" bench sessions --url "http://127.0.0.1:$port" --duration 1 >/dev/null 2>"$tmp/sessions.err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'no session was created (answers by status: 401' "$tmp/sessions.err" ||
    fail "bench sessions without key: exit $rc, $(cat "$tmp/sessions.err")"
echo "cli bench sessions (text, no key): ok"

kill -0 "$pid" 2>/dev/null || fail "the server died: $(tail -20 "$tmp/server.log")"
