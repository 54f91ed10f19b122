-- wrk script: POST /liveness with a real 640x480 webcam JPEG as base64 JSON (system B's request).
-- The body file is prepared by bench/load_http.sh (wrk's Lua has no base64 of its own).
local f = assert(io.open(os.getenv("LIVEPROOF_LOAD_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f requests=%d errors_connect=%d errors_read=%d errors_timeout=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.timeout, summary.errors.status))
end
