// Service endpoints: info, health, readiness, metrics, and the locally served API docs.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "liveproof/version.hpp"
#include "server/api/api_common.hpp"
#include "server/api/routes.hpp"
#include "server/session_service.hpp"

namespace liveproof::server::api {

namespace {

namespace fs = std::filesystem;
constexpr std::uintmax_t kMaxStaticBytes = 8u << 20;

std::string ContentType(const fs::path& p) {
    const std::string ext = p.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json") return "application/json";
    if (ext == ".png") return "image/png";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".map") return "application/json";
    return "application/octet-stream";
}

// A file under root, refusing any path that escapes it (.., symlinks out, absolute paths).
HttpResponse StaticFile(const std::string& root, const std::string& relative) {
    if (root.empty()) return HttpResponse::Error(404, "not_found", "no web root configured");
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(root, ec);
    const fs::path file = fs::weakly_canonical(base / relative, ec);
    const auto [b, f] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
    if (ec || b != base.end() || !fs::is_regular_file(file, ec)) {
        return HttpResponse::Error(404, "not_found", "no such file: " + relative);
    }
    if (fs::file_size(file, ec) > kMaxStaticBytes)
        return HttpResponse::Error(404, "not_found", "file too large");
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    HttpResponse r;
    r.content_type = ContentType(file);
    r.body = ss.str();
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
}

}  // namespace

void AddServiceRoutes(Router& router, ServerContext& ctx) {
    router.Add(
        {"GET", "/", "root", Door::Open, BodyClass::Small, [&ctx](HttpRequest&&, Reply reply) {
             reply(HttpResponse::Json(
                 200, {{"name", "liveproof"},
                       {"version", LIVEPROOF_VERSION_STRING},
                       // The calibrated thresholds in force (null: the defaults).
                       {"operating_point", ctx.config.operating_point_summary},
                       {"endpoints",
                        {{"health", "/healthz"},
                         {"ready", "/readyz"},
                         {"metrics", "/metrics"},
                         {"openapi", "/openapi.json"},
                         {"docs", "/docs"},
                         {"challenge_ws", "/ws"},
                         {"challenge_poll_start", "/start"},
                         {"challenge_poll_frame", "/frame"},
                         {"liveness", "/liveness"},
                         {"active_blink", "/active/blink"},
                         {"liveness_detection", "/liveness-detection"},
                         {"liveness_detection_base64", "/liveness-detection-base64"},
                         {"check_liveness", "/check_liveness"},
                         {"check_liveness_base64", "/check_liveness_base64"},
                         {"get_machine_code", "/get-machine-code"},
                         {"activate_machine", "/activate-machine"},
                         {"analyze", "/v1/analyze"},
                         {"sessions", "/v1/sessions"},
                         {"jwks", "/.well-known/jwks.json"}}}}));
         }});
    router.Add({"GET", "/healthz", "healthz", Door::Open, BodyClass::Small,
                [](HttpRequest&&, Reply reply) {
                    reply(HttpResponse::Json(200, {{"status", "ok"}}));
                }});
    router.Add({"GET", "/readyz", "readyz", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) {
                    if (!ctx.ready) {
                        reply(HttpResponse::Json(503, {{"status", "not_ready"}}));
                        return;
                    }
                    const auto ready = [&ctx] {
                        return HttpResponse::Json(200, {{"status", "ready"},
                                                        {"workers", ctx.workers->threads()},
                                                        {"queue_depth", ctx.workers->depth()},
                                                        {"models", "verified"}});
                    };
                    if (ctx.sessions == nullptr) return reply(ready());
                    // Sessions need their store: a node that cannot reach it is not ready. The
                    // round trip runs on a store thread (a dead database takes a connect timeout to
                    // say so).
                    RunOnStore(ctx, std::move(reply), [&ctx, ready] {
                        if (auto ok = ctx.sessions->store().Check(); !ok) {
                            return HttpResponse::Json(
                                503,
                                {{"status", "not_ready"}, {"reason", "session store unreachable"}});
                        }
                        return ready();
                    });
                }});
    router.Add({"GET", "/metrics", "metrics", Door::Metrics, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) {
                    if (!ctx.config.metrics_enabled) {
                        // System B's answer with ENABLE_METRICS=false.
                        reply(HttpResponse::Json(404, {{"detail", "Metrics disabled"}}));
                        return;
                    }
                    ctx.metrics->Set("liveproof_inference_queue_depth", {},
                                     static_cast<double>(ctx.workers->depth()));
                    const double up = std::chrono::duration<double>(
                                          std::chrono::steady_clock::now() - ctx.started)
                                          .count();
                    ctx.metrics->Set("liveproof_uptime_seconds", {}, up);
                    HttpResponse r;
                    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                    r.body = ctx.metrics->Render();
                    reply(std::move(r));
                }});
    router.Add({"GET", "/openapi.json", "openapi", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) {
                    reply(StaticFile(ctx.config.web_root, "openapi.json"));
                }});
    router.Add(
        {"GET", "/docs", "docs", Door::Open, BodyClass::Small, [&ctx](HttpRequest&&, Reply reply) {
             reply(StaticFile(ctx.config.web_root, "docs/index.html"));
         }});
    router.Add({"GET", "/docs/", "docs", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    const std::string rel = req.path.size() > 6 ? req.path.substr(6) : "index.html";
                    reply(StaticFile(ctx.config.web_root, "docs/" + rel));
                },
                /*prefix=*/true});
    // A plain GET on the WebSocket endpoint (no Upgrade header): the key is checked like any
    // protected route, then the client is told what /ws expects.
    router.Add(
        {"GET", "/ws", "ws_plain", Door::SystemA, BodyClass::Small, [](HttpRequest&&, Reply reply) {
             HttpResponse r = HttpResponse::Error(
                 426, "upgrade_required",
                 "/ws is a WebSocket endpoint: connect with Upgrade: websocket");
             r.headers.emplace_back("Upgrade", "websocket");
             reply(std::move(r));
         }});
    // The demo page of the WebSocket challenge and its client module (web/test.html,
    // web/liveness-client.js), open like /docs: it holds no data and needs no key to load.
    router.Add({"GET", "/test", "test_page", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&&, Reply reply) {
                    reply(StaticFile(ctx.config.web_root, "test/index.html"));
                }});
    router.Add({"GET", "/test/", "test_page", Door::Open, BodyClass::Small,
                [&ctx](HttpRequest&& req, Reply reply) {
                    const std::string rel = req.path.size() > 6 ? req.path.substr(6) : "index.html";
                    reply(StaticFile(ctx.config.web_root, "test/" + rel));
                },
                /*prefix=*/true});
}

}  // namespace liveproof::server::api
