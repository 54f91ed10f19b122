// Request checks in a fixed order: CORS preflight, route lookup, auth, handler; all counted.
#include "server/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/json_text.hpp"
#include "server/server_metrics.hpp"

namespace liveproof::server {

namespace {

std::string Join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

}  // namespace

std::string PresentedKey(const HttpRequest& r) {
    std::string key(r.Header("x-api-key"));
    if (!key.empty()) return key;
    const std::string_view auth = r.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        })) {
        return std::string(auth.substr(kBearer.size()));
    }
    return "";
}

std::string ClientToken(const HttpRequest& request) {
    if (auto t = request.Query("token")) return *t;
    return PresentedKey(request);
}

const Route* Router::Find(const std::string& method, const std::string& path,
                          std::vector<std::string>* allowed) const {
    const Route* found = nullptr;
    for (const auto& r : routes_) {
        const bool path_ok = r.prefix ? path.rfind(r.path, 0) == 0 : path == r.path;
        if (!path_ok) continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET"))
            found = found ? found : &r;
        if (allowed) allowed->push_back(r.method);
    }
    return found;
}

std::size_t Router::BodyLimit(const std::string& method, const std::string& path) const {
    const Route* r = Find(method, path, nullptr);
    const ServerConfig& c = ctx_.config;
    if (r == nullptr) return static_cast<std::size_t>(c.max_small_body_bytes);
    switch (r->body) {
        case BodyClass::Json:
            return static_cast<std::size_t>(c.max_json_bytes);
        case BodyClass::Image:
            return c.engine.limits.max_image_bytes;
        case BodyClass::Video:
            return c.engine.limits.max_video_bytes;
        case BodyClass::Small:
            break;
    }
    return static_cast<std::size_t>(c.max_small_body_bytes);
}

bool Router::NeedsWorker(const std::string& method, const std::string& path) const {
    const Route* r = Find(method, path, nullptr);
    return r != nullptr && r->NeedsWorker();
}

bool Router::AuthorisedEarly(const std::string& method, const HttpRequest& probe) const {
    if (ctx_.config.api_keys.empty() || method == "OPTIONS") return true;
    const Route* r = Find(method, probe.path, nullptr);
    if (r == nullptr || !DoorNeedsKey(r->door, ctx_.config)) return true;
    if (r->client_token_instead && !ClientToken(probe).empty()) return true;  // checked later
    return Authorised(probe).has_value();
}

std::optional<std::string> Router::Authorised(const HttpRequest& request) const {
    if (ctx_.config.api_keys.empty()) return std::string();
    return MatchApiKey(PresentedKey(request), ctx_.config.api_keys);
}

void Router::AddCors(const std::string& origin, HttpResponse& response) const {
    const auto& allowed = ctx_.config.cors_origins;
    if (origin.empty()) return;
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
    response.headers.emplace_back("Access-Control-Allow-Origin", origin);
    response.headers.emplace_back("Vary", "Origin");
}

void Router::LogAnswer(const std::string& method, const std::string& route, int status,
                       double seconds) const {
    // A 503 is a refusal under load, not an error: at debug (a 10-minute overload wrote 226,528
    // error lines). Client mistakes and failures are rate-limited per route and status.
    if (status == 503) {
        spdlog::debug("{} {} -> 503 ({:.1f} ms)", method, route, seconds * 1e3);
        return;
    }
    if (status < 400) return;
    const auto v = ctx_.log_limiter.Admit(method + " " + route + " " + std::to_string(status));
    if (!v.write) return;
    const auto level = status >= 500 ? spdlog::level::err : spdlog::level::warn;
    spdlog::log(level, "{} {} -> {} ({:.1f} ms){}", method, route, status, seconds * 1e3,
                LogLimiter::Suffix(v));
}

void Router::Dispatch(HttpRequest&& request, Reply reply) const {
    std::vector<std::string> allowed;
    const Route* route = Find(request.method, request.path, &allowed);
    const std::string name =
        route ? route->name : (allowed.empty() ? "unmatched" : "method_not_allowed");
    const auto start = std::chrono::steady_clock::now();
    // Every answer goes through here: CORS headers, then the request metrics.
    // Labels are bounded: a route's own path (a prefix route's prefix), never the request's.
    const std::string endpoint = route ? route->path : "unmatched";
    auto counted = [this, name, endpoint, start, method = request.method,
                    origin = std::string(request.Header("origin")),
                    reply = std::move(reply)](HttpResponse response) {
        AddCors(origin, response);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CountHttpAnswer(*ctx_.metrics, name, endpoint, method, response.status, seconds);
        LogAnswer(method, name, response.status, seconds);
        reply(std::move(response));
    };

    // A path is echoed in 404s and logs: bytes that are not UTF-8 (GET /%ff) or control
    // characters are a client mistake, answered before anything else looks at the path.
    if (!IsValidUtf8(request.path) ||
        std::any_of(request.path.begin(), request.path.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
        counted(HttpResponse::Error(400, "invalid_path",
                                    "the request path (after percent-decoding) must be UTF-8 "
                                    "without control characters"));
        return;
    }
    if (request.method == "OPTIONS" && !request.Header("access-control-request-method").empty()) {
        HttpResponse r;
        r.status = 204;
        r.content_type.clear();
        r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        r.headers.emplace_back("Access-Control-Allow-Headers",
                               "Content-Type, X-API-KEY, Authorization");
        r.headers.emplace_back("Access-Control-Max-Age", "600");
        counted(std::move(r));
        return;
    }
    if (route == nullptr) {
        if (allowed.empty()) {
            counted(HttpResponse::Error(404, "not_found", "no endpoint at " + request.path));
        } else {
            std::sort(allowed.begin(), allowed.end());
            allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
            HttpResponse r = HttpResponse::Error(
                405, "method_not_allowed", request.method + " is not allowed on " + request.path);
            r.headers.emplace_back("Allow", Join(allowed, ", "));
            counted(std::move(r));
        }
        return;
    }
    std::optional<std::string> key_id =
        // A public door still records the key a client presents (its per-key limits and the
        // sessions it starts belong to that key).
        DoorNeedsKey(route->door, ctx_.config) ? Authorised(request)
                                               : std::optional(Authorised(request).value_or(""));
    if (!key_id && route->client_token_instead && !ClientToken(request).empty()) {
        request.client_token_only = true;  // the handler checks it against the session
        key_id = "";
    }
    if (!key_id) {
        ctx_.metrics->Inc("liveproof_auth_failures_total", {{"route", name}});
        // System B's exact 401 body and header.
        HttpResponse r = HttpResponse::Json(401, {{"detail", "Invalid or missing API key."}});
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        counted(std::move(r));
        return;
    }
    request.key_id = *key_id;
    try {
        route->handler(std::move(request), counted);
    } catch (const std::exception& e) {
        ctx_.metrics->Inc("liveproof_internal_errors_total", {{"where", "http_handler"}});
        spdlog::error("handler {} threw: {}", name, PrintableUtf8(e.what()));
        counted(HttpResponse::Error(500, "internal", "an unexpected error occurred"));
    } catch (...) {
        ctx_.metrics->Inc("liveproof_internal_errors_total", {{"where", "http_handler"}});
        spdlog::error("handler {} threw a non-standard exception", name);
        counted(HttpResponse::Error(500, "internal", "an unexpected error occurred"));
    }
}

}  // namespace liveproof::server
