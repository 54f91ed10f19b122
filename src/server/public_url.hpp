// The base of the URLs an answer gives a client (sessions' ws_url, system B's upload_url).
#pragma once

#include <string>

#include "server/http_types.hpp"
#include "server/server_config.hpp"

namespace liveproof::server {

/// @brief public_url when set; else "http://" + the request's Host header when it holds only
/// what a host name and port may ("localhost" otherwise). A Host header is client text: behind
/// a cache or for https, set public_url.
std::string PublicBaseUrl(const HttpRequest& request, const ServerConfig& config);

}  // namespace liveproof::server
