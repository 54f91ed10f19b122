// Plain request/response types between the Beast transport and the Beast-free route handlers.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_text.hpp"

namespace liveproof::server {

/// @brief An HTTP request as the handlers see it (header names lower-cased).
/// THREAD SAFETY: a plain value.
struct HttpRequest {
    std::string method;                          ///< "GET", "POST", ...
    std::string path;                            ///< decoded path without the query
    std::map<std::string, std::string> query;    ///< query parameters (last value wins)
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;                            ///< whole body (already capped by the route)
    std::string remote;                          ///< peer address, for logs
    /// The id of the API key that authorised this request (set by the router on routes that
    /// need a key; "" when authentication is off or the route is public).
    std::string key_id;
    /// Set by the router on a route that takes a client token instead of a key
    /// (Route::client_token_instead) when keys are configured and none matched: only a run of a
    /// session whose token this request presents may proceed.
    bool client_token_only = false;

    /// @brief A header value or an empty string.
    [[nodiscard]] std::string_view Header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? std::string_view() : std::string_view(it->second);
    }
    /// @brief A query parameter or nullopt.
    [[nodiscard]] std::optional<std::string> Query(const std::string& name) const {
        const auto it = query.find(name);
        if (it == query.end()) return std::nullopt;
        return it->second;
    }
};

/// @brief An HTTP response built by a handler.
/// THREAD SAFETY: a plain value.
struct HttpResponse {
    int status = 200;                                          ///< HTTP status code
    std::string content_type = "application/json";             ///< Content-Type
    std::string body;                                          ///< payload
    std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers

    /// @brief A JSON response.
    static HttpResponse Json(int status, const nlohmann::json& j) {
        HttpResponse r;
        r.status = status;
        r.body = ToJsonText(j);  // never throws: client text in j may be invalid UTF-8
        return r;
    }
    /// @brief The native error shape {"error": code, "detail": text}.
    static HttpResponse Error(int status, std::string_view code, std::string_view detail) {
        return Json(status, {{"error", code}, {"detail", detail}});
    }
};

/// @brief Delivers a handler's response; may be called from any thread, exactly once.
using Reply = std::function<void(HttpResponse)>;

/// @brief A route handler: answers now or later (after inference) through reply.
using Handler = std::function<void(HttpRequest&&, Reply)>;

}  // namespace liveproof::server
