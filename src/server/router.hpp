// Route table and the checks every request passes: CORS, authentication, 404/405, metrics.
#pragma once

#include <string>
#include <vector>

#include "server/api_keys.hpp"
#include "server/front_doors.hpp"
#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace liveproof::server {

/// @brief Which body cap a route gets (the transport applies it while reading).
enum class BodyClass { Small, Json, Image, Video };

/// @brief One endpoint.
struct Route {
    std::string method;      ///< "GET", "POST"
    std::string path;        ///< exact path, or a prefix when prefix is true
    std::string name;        ///< label for metrics (never the raw path: bounded cardinality)
    Door door = Door::Open;  ///< whose endpoint: decides whether a key is needed
    BodyClass body = BodyClass::Small;  ///< body cap
    Handler handler;                    ///< the work
    bool prefix = false;                ///< match every path under `path`
    /// A client token may stand in for the key (system A's polling door, which a backend
    /// session's client runs): the request passes with `client_token_only` set, and the
    /// handler must check the token against the session before doing anything.
    bool client_token_instead = false;

    /// @brief The rule for which requests the transport admits before reading their body
    /// (AdmissionGate): every route that takes a media or JSON body runs it on the inference
    /// workers.
    [[nodiscard]] bool NeedsWorker() const { return body != BodyClass::Small; }
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

    /// @brief Route::NeedsWorker of the request line's route (false for unknown routes).
    [[nodiscard]] bool NeedsWorker(const std::string& method, const std::string& path) const;

    /// @brief False when the route needs a key and @p probe (path, query and the two auth
    /// headers of a request line) carries neither a valid one nor, where the route takes one,
    /// a client token; used by the transport to refuse before reading the body. Unknown routes
    /// pass (404 comes later).
    [[nodiscard]] bool AuthorisedEarly(const std::string& method, const HttpRequest& probe) const;

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

/// @brief The client token a request presents: ?token= (browsers cannot set headers on every
/// request they make), else `Authorization: Bearer <token>`; "" if none.
std::string ClientToken(const HttpRequest& request);

}  // namespace liveproof::server
