// One rule for absolute URLs in answers, for every front door.
#include "server/public_url.hpp"

#include <algorithm>
#include <cctype>

namespace liveproof::server {

std::string PublicBaseUrl(const HttpRequest& request, const ServerConfig& config) {
    if (!config.public_url.empty()) return config.public_url;  // Finalize strips a trailing /
    const std::string host(request.Header("host"));
    const bool sane =
        !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '.' || ch == '-' ||
                   ch == ':' || ch == '[' || ch == ']';
        });
    return "http://" + (sane ? host : std::string("localhost"));
}

}  // namespace liveproof::server
