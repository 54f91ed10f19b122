// One table of door names, read by the router, the WebSocket handshake and the settings check.
#include "server/front_doors.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "common/json_text.hpp"

namespace liveproof::server {

namespace {
constexpr std::array<std::pair<Door, std::string_view>, 7> kDoorNames{{
    {Door::SystemA, "system_a"},
    {Door::SystemB, "system_b"},
    {Door::SystemC, "system_c"},
    {Door::Licence, "licence"},
    {Door::Native, "native"},
    {Door::Sessions, "sessions"},
    {Door::Metrics, "metrics"},
}};
}  // namespace

std::string_view DoorName(Door door) {
    for (const auto& [d, name] : kDoorNames)
        if (d == door) return name;
    return "";
}

bool DoorNeedsKey(Door door, const ServerConfig& config) {
    if (door == Door::Open || config.api_keys.empty()) return false;
    const std::string_view name = DoorName(door);
    return std::find(config.public_routes.begin(), config.public_routes.end(), name) ==
           config.public_routes.end();
}

Expected<void> CheckPublicRoutes(const std::vector<std::string>& names) {
    for (const auto& n : names) {
        if (n == "sessions") {
            return MakeError(ErrorCode::InvalidArgument,
                             "\"sessions\" cannot be public: that API issues client tokens and "
                             "reads verdicts, for the integrator's backend only");
        }
        const bool known = std::any_of(kDoorNames.begin(), kDoorNames.end(),
                                       [&](const auto& d) { return d.second == n; });
        if (!known) {
            return MakeError(ErrorCode::InvalidArgument,
                             "unknown front door \"" + PrintableUtf8(n) +
                                 "\" (known: system_a, system_b, system_c, licence, native, "
                                 "metrics)");
        }
    }
    return {};
}

}  // namespace liveproof::server
