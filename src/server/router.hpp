// Route table and the checks every request passes: CORS, authentication, 404/405, metrics.
#pragma once

#include <string>
#include <vector>

#include "server/api_keys.hpp"
#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace liveproof::server {

/// @brief Which body cap a route gets (the transport applies it while reading).
enum class BodyClass { Small, Json, Image, Video };

/// @brief One endpoint.
struct Route {
    std::string method;  ///< "GET", "POST"
    std::string path;    ///< exact path, or a prefix when prefix is true
    std::string name;    ///< label for metrics (never the raw path: bounded cardinality)
    bool auth = true;    ///< needs an API key when keys are configured
    BodyClass body = BodyClass::Small;  ///< body cap
    Handler handler;                    ///< the work
    bool prefix = false;                ///< match every path under `path`
};

/// @brief WHAT THIS OBJECT REPRESENTS: the endpoints and the request checks.
/// THREAD SAFETY: Add before serving; BodyLimit and Dispatch are const and thread-safe.
class Router {
  public:
    explicit Router(ServerContext& ctx) : ctx_(ctx) {}

    /// @brief Adds an endpoint.
    void Add(Route route) { routes_.push_back(std::move(route)); }

    /// @brief The body cap for a request line (the small cap for unknown routes).
    [[nodiscard]] std::size_t BodyLimit(const std::string& method, const std::string& path) const;

    /// @brief False when the route needs a key and neither header carries a valid one; used by
    /// the transport to refuse before reading the body. Unknown routes pass (404 comes later).
    [[nodiscard]] bool AuthorisedEarly(const std::string& method, const std::string& path,
                                       const std::string& x_api_key,
                                       const std::string& authorization) const;

    /// @brief Adds Access-Control-Allow-Origin (and Vary) when origin is on the allow-list.
    void AddCors(const std::string& origin, HttpResponse& response) const;

    /// @brief Answers a request: CORS preflight, 404/405, 401, then the handler; counts it.
    void Dispatch(HttpRequest&& request, Reply reply) const;

  private:
    const Route* Find(const std::string& method, const std::string& path,
                      std::vector<std::string>* allowed) const;
    // The key id of an authorised request ("" with auth off), or nullopt when refused.
    [[nodiscard]] std::optional<std::string> Authorised(const HttpRequest& request) const;
    void LogAnswer(const std::string& method, const std::string& route, int status,
                   double seconds) const;

    ServerContext& ctx_;
    std::vector<Route> routes_;
};

/// @brief The key a request presents: X-API-KEY, else `Authorization: Bearer <key>`; "" if none.
std::string PresentedKey(const HttpRequest& request);

}  // namespace liveproof::server
