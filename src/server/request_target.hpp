// The request target (path and query) as handlers see it: percent-decoded, split, checked.
#pragma once

#include <string_view>

#include "server/http_types.hpp"

namespace liveproof::server {

/// @brief Fills r.path (percent-decoded, without the query) and r.query (each name and value
/// percent-decoded, '+' as space, the last value of a name wins) from a request target.
/// Malformed escapes ("%zz", a trailing "%") are kept as they are. Never throws.
void SplitTarget(std::string_view target, HttpRequest& r);

}  // namespace liveproof::server
