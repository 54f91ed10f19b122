// The transport's per-exchange rules on Beast messages (no sockets; see http_exchange.hpp).
#include "server/http_exchange.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <string_view>

#include "common/json_text.hpp"
#include "media/base64.hpp"
#include "server/request_target.hpp"
#include "server/router.hpp"
#include "server/server_context.hpp"

namespace liveproof::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

void CountRejection(const ServerContext& ctx, const char* reason) {
    ctx.metrics->Inc("liveproof_rejections_total", {{"reason", reason}});
}

}  // namespace

std::optional<std::string> FramingError(const WireRequest& req) {
    const auto te = req.count(http::field::transfer_encoding);
    if (te > 0) {
        if (te > 1 || !beast::iequals(req[http::field::transfer_encoding], "chunked")) {
            return "Transfer-Encoding other than a single 'chunked' is not supported";
        }
        if (req.count(http::field::content_length) > 0) {
            return "Transfer-Encoding and Content-Length together are ambiguous";
        }
    }
    const auto hosts = req.count(http::field::host);
    if (hosts > 1) return "more than one Host header";
    if (hosts == 0 && req.version() >= 11) return "an HTTP/1.1 request needs a Host header";
    return std::nullopt;
}

bool IsHealthCheck(http::verb method, const std::string& path) {
    return (method == http::verb::get || method == http::verb::head) &&
           (path == "/healthz" || path == "/readyz");
}

HeaderDecision DecideOnHeader(const RequestParser& parser, const Router& router,
                              const ServerContext& ctx, bool health_only) {
    HeaderDecision d;
    const WireRequest& req = parser.get();
    HttpRequest probe;
    SplitTarget(std::string_view(req.target().data(), req.target().size()), probe);
    if (health_only && !IsHealthCheck(req.method(), probe.path)) {
        CountRejection(ctx, "connections");
        HttpResponse r = HttpResponse::Error(
            503, "overloaded", "too many open connections; only /healthz and /readyz answer");
        r.headers.emplace_back("Retry-After", "1");
        d.refusal = std::move(r);
        return d;
    }
    if (auto bad = FramingError(req)) {
        d.refusal = HttpResponse::Error(400, "bad_request", *bad);
        return d;
    }
    const std::string method(req.method_string());
    d.body_limit = router.BodyLimit(method, probe.path);
    if (parser.content_length() && *parser.content_length() > d.body_limit) {
        CountRejection(ctx, "body_too_large");
        d.refusal = HttpResponse::Error(413, "input_too_large",
                                        "the body is " + std::to_string(*parser.content_length()) +
                                            " bytes; this endpoint accepts at most " +
                                            std::to_string(d.body_limit));
        return d;
    }
    // A request without a valid key is refused before its body is read (and the connection
    // closed), so that unauthenticated clients cannot make the server buffer uploads.
    if (const auto key = req["X-API-KEY"]; !key.empty())
        probe.headers["x-api-key"] = std::string(key);
    if (const auto auth = req[http::field::authorization]; !auth.empty())
        probe.headers["authorization"] = std::string(auth);
    if (!beast::websocket::is_upgrade(req) && !router.AuthorisedEarly(method, probe)) {
        ctx.metrics->Inc("liveproof_auth_failures_total", {{"route", "early"}});
        HttpResponse r = HttpResponse::Json(401, {{"detail", "Invalid or missing API key."}});
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        router.AddCors(std::string(req[http::field::origin]), r);
        d.refusal = std::move(r);
        return d;
    }
    // curl and others wait (about 1 s) for "100 Continue" before sending a large body.
    d.expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    d.needs_worker = router.NeedsWorker(method, probe.path);
    return d;
}

std::optional<HttpResponse> ReadErrorAnswer(beast::error_code ec, const ServerContext& ctx) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
        return std::nullopt;
    }
    if (ec == http::error::body_limit) {
        CountRejection(ctx, "body_too_large");
        return HttpResponse::Error(413, "input_too_large", "the body exceeds this endpoint's cap");
    }
    if (ec == http::error::header_limit) {
        return HttpResponse::Error(431, "headers_too_large", "the request headers exceed the cap");
    }
    return HttpResponse::Error(400, "bad_request", "malformed HTTP request: " + ec.message());
}

HttpRequest ToHttpRequest(WireRequest& msg, std::string remote) {
    HttpRequest req;
    req.method = std::string(msg.method_string());
    SplitTarget(std::string_view(msg.target().data(), msg.target().size()), req);
    for (const auto& field : msg) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.remote = std::move(remote);
    return req;
}

bool IsTrustedProxy(const std::string& peer, const ServerConfig& config) {
    return std::find(config.trusted_proxies.begin(), config.trusted_proxies.end(), peer) !=
           config.trusted_proxies.end();
}

std::string ClientAddress(const HttpRequest& req, const ServerConfig& config) {
    if (!IsTrustedProxy(req.remote, config)) return req.remote;
    // The last entry is the one the proxy itself appended; earlier ones are the client's word.
    std::string_view xff = req.Header("x-forwarded-for");
    const auto comma = xff.rfind(',');
    std::string_view last = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
    while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
    while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
    const bool address =
        !last.empty() && last.size() <= 45 && std::all_of(last.begin(), last.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':';
        });
    return address ? std::string(last) : req.remote;
}

bool OriginAllowed(const std::string& origin, const std::string& host,
                   const std::vector<std::string>& allowed) {
    if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) return true;
    if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) return true;
    // Same origin: the Origin's authority equals the Host header.
    const auto scheme_end = origin.find("://");
    return scheme_end != std::string::npos && origin.substr(scheme_end + 3) == host;
}

std::optional<WsRefusal> UpgradeRefusal(const HttpRequest& req, ServerContext& ctx,
                                        int open_ws_sessions) {
    const ServerConfig& c = ctx.config;
    auto refuse = [&](int status, const char* code, const std::string& detail) {
        ctx.metrics->Inc("liveproof_ws_sessions_total", {{"event", "refused"}, {"reason", code}});
        return WsRefusal{HttpResponse::Error(status, code, detail), ""};
    };
    const bool session_door = IsSessionWsPath(req.path);
    if (req.path != "/ws" && !session_door) {
        return refuse(404, "not_found",
                      "WebSocket endpoints are /v1/sessions/{id}/ws and (anonymous) /ws");
    }
    // RFC 6455 §4.2.1: the key is the base64 of 16 random bytes.
    const auto key_bytes = media::DecodeBase64(req.Header("sec-websocket-key"), 64);
    if (!key_bytes || key_bytes->size() != 16) {
        return refuse(400, "bad_request", "Sec-WebSocket-Key must be the base64 of 16 bytes");
    }
    // The Origin first: a page on another origin (system A's own test client on another port,
    // a page embedding liveness-client.js, file://) learns why, and the operator which setting.
    const std::string origin(req.Header("origin"));
    if (!origin.empty() &&
        !OriginAllowed(origin, std::string(req.Header("host")), c.cors_origins)) {
        const auto v = ctx.log_limiter.Admit("ws origin refused");
        if (v.write) {
            spdlog::warn(
                "WebSocket from Origin \"{}\" refused: not this server's origin and not in "
                "cors_origins (add it there, or \"*\", to let such pages run challenges){}",
                PrintableUtf8(origin.substr(0, 200)), LogLimiter::Suffix(v));
        }
        WsRefusal r = refuse(403, "origin_not_allowed",
                             "this Origin may not open a session: add it to cors_origins");
        r.close_reason =
            "origin_not_allowed: this page's origin is not in the server's "
            "cors_origins setting";
        return r;
    }
    if (!session_door && c.require_sessions) {
        return refuse(403, "sessions_required",
                      "this server runs challenges only in sessions: create one with POST "
                      "/v1/sessions and open its ws_url");
    }
    // A session's door is opened with the session's client token (checked by the transport
    // against the store); the anonymous door with an API key, when keys are set and the
    // operator did not make system A's door public.
    if (!session_door && DoorNeedsKey(Door::SystemA, c)) {
        // As for HTTP routes (X-API-KEY or Bearer); browsers cannot set headers on a
        // WebSocket, so the key may also come as ?api_key=.
        std::string key = PresentedKey(req);
        if (key.empty()) key = req.Query("api_key").value_or("");
        if (!ApiKeyMatches(key, c.api_keys))
            return refuse(401, "unauthorized", "Invalid or missing API key.");
    }
    if (open_ws_sessions >= c.ws_max_sessions) {
        CountRejection(ctx, "ws_sessions");
        return refuse(503, "overloaded", "too many challenge sessions");
    }
    return std::nullopt;
}

bool IsSessionWsPath(const std::string& path) {
    constexpr std::string_view kPrefix = "/v1/sessions/";
    constexpr std::string_view kSuffix = "/ws";
    return path.size() == kPrefix.size() + 32 + kSuffix.size() && path.rfind(kPrefix, 0) == 0 &&
           path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

WireResponse ToWire(HttpResponse r, bool keep_alive, bool head) {
    WireResponse res;
    res.version(11);
    res.result(static_cast<http::status>(r.status));
    res.set(http::field::server, "liveproof");
    res.set("X-Content-Type-Options", "nosniff");
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (head) res.body().clear();  // HEAD: GET's headers (Content-Length too), no body
    return res;
}

}  // namespace liveproof::server
