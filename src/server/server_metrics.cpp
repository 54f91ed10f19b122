// The metrics a server publishes, declared once: `liveproof serve` and the fuzz harness use the
// same list, so no sample is dropped as undeclared in either.
#include "server/server_metrics.hpp"

namespace liveproof::server {

void DescribeServerMetrics(MetricsRegistry& m) {
    m.Describe("liveproof_http_requests_total", MetricType::Counter,
               "HTTP requests by route and status");
    m.Describe("liveproof_http_request_duration_seconds", MetricType::Histogram,
               "HTTP request latency by route");
    m.Describe("liveproof_stage_duration_seconds", MetricType::Histogram, "Engine stage latency");
    m.Describe("liveproof_inference_queue_depth", MetricType::Gauge,
               "Inference jobs waiting or running");
    m.Describe("liveproof_worker_jobs_total", MetricType::Counter,
               "Jobs run by the inference workers (requests, frames, video slices)");
    m.Describe("liveproof_worker_page_faults_total", MetricType::Counter,
               "First-touch (minor) page faults the inference workers took while running jobs");
    m.Describe("liveproof_rejections_total", MetricType::Counter,
               "Requests refused by admission or size limits");
    m.Describe("liveproof_internal_errors_total", MetricType::Counter,
               "Unexpected exceptions caught by a last-resort guard (answered 500 or closed 1011), "
               "by where");
    m.Describe("liveproof_time_budget_exceeded_total", MetricType::Counter,
               "Decodes and analyses abandoned at analysis_budget_seconds, by kind");
    m.Describe("liveproof_auth_failures_total", MetricType::Counter,
               "Requests refused for a missing or wrong API key");
    m.Describe("liveproof_uptime_seconds", MetricType::Gauge, "Seconds since the server started");
    m.Describe(
        "liveproof_ws_sessions_total", MetricType::Counter,
        "WebSocket challenge sessions by event (started, completed, failed by reason, refused, "
        "abandoned)");
    m.Describe("liveproof_ws_frames_total", MetricType::Counter,
               "WebSocket frames by outcome (processed, dropped by latest-frame-wins)");
    m.Describe("liveproof_ws_frame_seconds", MetricType::Histogram,
               "Per-frame analysis latency on /ws");
    m.Describe("liveproof_sessions_total", MetricType::Counter,
               "Liveness sessions by event (created, started, succeeded, failed, expired, "
               "locked_out)");
    m.Describe("liveproof_poll_sessions_total", MetricType::Counter,
               "System A polling sessions (POST /start, /frame) by event (started, completed, "
               "failed by reason, refused at the session cap)");
    // System B's names (its middleware's), kept for B's dashboards and its own test.
    m.Describe("liveness_requests_total", MetricType::Counter,
               "HTTP requests by method, endpoint and status (system B's name)");
    m.Describe("liveness_requests_success", MetricType::Counter,
               "HTTP requests answered below 400 (system B's name)");
    m.Describe("liveness_requests_error", MetricType::Counter,
               "HTTP requests answered 400 or above (system B's name)");
    m.Describe("liveness_request_latency_seconds", MetricType::Histogram,
               "HTTP request latency by method and endpoint (system B's name)");
}

namespace {
// A method is client text: only the ones the server has routes or answers for become labels.
std::string MethodLabel(const std::string& method) {
    for (const char* known : {"GET", "POST", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH"})
        if (method == known) return method;
    return "other";
}
}  // namespace

void CountHttpAnswer(MetricsRegistry& m, const std::string& route, const std::string& endpoint,
                     const std::string& method, int status, double seconds) {
    const std::string code = std::to_string(status);
    m.Inc("liveproof_http_requests_total", {{"route", route}, {"status", code}});
    m.Observe("liveproof_http_request_duration_seconds", {{"route", route}}, seconds);
    const std::string verb = MethodLabel(method);
    m.Inc("liveness_requests_total", {{"method", verb}, {"endpoint", endpoint}, {"status", code}});
    m.Inc(status < 400 ? "liveness_requests_success" : "liveness_requests_error");
    m.Observe("liveness_request_latency_seconds", {{"method", verb}, {"endpoint", endpoint}},
              seconds);
}

}  // namespace liveproof::server
