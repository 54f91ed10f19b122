// The front doors (systems A, B, C, the native API, sessions, metrics) and which of them an
// operator opened to callers without an API key (`public_routes`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"
#include "server/server_config.hpp"

namespace liveproof::server {

/// @brief Which front door a route belongs to: with API keys configured, every door but Open
/// needs a key unless the operator lists it in `public_routes` (docs/security.md "Auth scope").
enum class Door {
    Open,      ///< never a key: health, docs, JWKS, a session's own door (its token instead)
    SystemA,   ///< "system_a": WS /ws, POST /start, /frame
    SystemB,   ///< "system_b": POST /liveness, /active/blink
    SystemC,   ///< "system_c": C's detection endpoints, /get-machine-code, /api/* but activation
    Licence,   ///< "licence": C's activation (/activate-machine, /api/activate)
    Native,    ///< "native": POST /v1/analyze
    Sessions,  ///< "sessions": the integrator's backend API (never public)
    Metrics,   ///< "metrics": GET /metrics
};
/// @brief The name `public_routes` uses for a door ("" for Open).
std::string_view DoorName(Door door);
/// @brief Whether a request through @p door must present an API key under @p config.
bool DoorNeedsKey(Door door, const ServerConfig& config);
/// @brief Checks a `public_routes` list: known door names, and never "sessions".
Expected<void> CheckPublicRoutes(const std::vector<std::string>& names);

}  // namespace liveproof::server
