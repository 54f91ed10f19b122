// The transport's rules for one HTTP exchange, apart from sockets: what a request header must
// satisfy before its body is read, how a Beast message becomes the handlers' HttpRequest, which
// WebSocket upgrades are refused, and how an HttpResponse goes on the wire. http_server.cpp runs
// them on its connections; fuzz_http_request runs the same functions on bytes.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "server/http_types.hpp"
#include "server/server_config.hpp"

namespace liveproof::server {

class Router;
struct ServerContext;

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;
using WireResponse = boost::beast::http::response<boost::beast::http::string_body>;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// @brief What to do once a request's header has been read.
struct HeaderDecision {
    std::optional<HttpResponse> refusal;  ///< answer this and close (no body byte is read)
    std::size_t body_limit = 0;           ///< otherwise: read the body under this cap
    bool expect_continue = false;         ///< the client waits for "100 Continue" first
    bool needs_worker = false;  ///< the route runs on the inference workers: admit it first
};

/// @brief The checks between header and body, in order: health-only slots, framing, the
/// route's body cap against Content-Length, the key (WebSocket upgrades are checked later, as
/// they may carry ?api_key=). Counts refusals in ctx.metrics.
HeaderDecision DecideOnHeader(const RequestParser& parser, const Router& router,
                              const ServerContext& ctx, bool health_only);

/// @brief Requests whose framing is ambiguous (RFC 9112 §3.2, §6.1, §6.3): answering them would
/// let a proxy and this server disagree on where a request ends (request smuggling).
std::optional<std::string> FramingError(const WireRequest& req);

/// @brief GET or HEAD of /healthz or /readyz (what the reserved health slots may ask).
bool IsHealthCheck(boost::beast::http::verb method, const std::string& path);

/// @brief The answer to a read error, or nullopt when the connection just closes (end of
/// stream, timeout, reset). Counts body-cap refusals in ctx.metrics.
std::optional<HttpResponse> ReadErrorAnswer(boost::beast::error_code ec, const ServerContext& ctx);

/// @brief The request as handlers see it: split target, lower-case header names, the body
/// moved out of msg.
HttpRequest ToHttpRequest(WireRequest& msg, std::string remote);

/// @brief True for a session's WebSocket door, /v1/sessions/{32 hex}/ws.
bool IsSessionWsPath(const std::string& path);

/// @brief A refused WebSocket upgrade.
struct WsRefusal {
    HttpResponse answer;  ///< the HTTP answer to the handshake
    /// Non-empty: accept the handshake, then close at once with 1008 and this reason, sending
    /// and reading nothing else. A browser shows no HTTP answer to a refused handshake, only
    /// "connection error"; a close reason it does show (CloseEvent.reason).
    std::string close_reason;
};

/// @brief Why a WebSocket upgrade is refused (path, Origin, key, session cap), or nullopt to
/// accept it. Counts refusals in ctx.metrics.
std::optional<WsRefusal> UpgradeRefusal(const HttpRequest& req, ServerContext& ctx,
                                        int open_ws_sessions);

/// @brief True when @p peer is one of the configured trusted_proxies.
bool IsTrustedProxy(const std::string& peer, const ServerConfig& config);

/// @brief The client's address: the last X-Forwarded-For entry when the request came from a
/// trusted proxy (the one the proxy appended), else the peer (@p req.remote).
std::string ClientAddress(const HttpRequest& req, const ServerConfig& config);

/// @brief Origin allowed by the list ("*" or exact) or the same origin as the Host header.
bool OriginAllowed(const std::string& origin, const std::string& host,
                   const std::vector<std::string>& allowed);

/// @brief The response as sent: the handler's fields plus the transport's headers; a HEAD
/// answer keeps GET's Content-Length without the body.
WireResponse ToWire(HttpResponse r, bool keep_alive, bool head);

}  // namespace liveproof::server
