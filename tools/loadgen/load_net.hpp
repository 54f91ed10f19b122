// Socket helpers shared by the two load generators (Boost.Beast: include from src/server only).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/load_client.hpp"

namespace liveproof::loadgen::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

/// @brief The target's resolved addresses as endpoints (no second name resolution).
std::vector<tcp::endpoint> Endpoints(const LoadTarget& target);

/// @brief A short stable name for a socket error: refused, timeout, reset, closed, aborted,
/// unreachable, or the error's own message.
std::string ErrorKind(const beast::error_code& ec);

/// @brief Seconds as a steady-clock duration.
Clock::duration Seconds(double s);

/// @brief Seconds between two time points.
double SecondsBetween(Clock::time_point from, Clock::time_point to);

/// @brief GET /metrics on its own connection (3 s limit) and the counters named in @p names;
/// nullopt when the server does not answer 200 (e.g. a key is needed and none was given).
std::optional<std::map<std::string, double>> ScrapeMetrics(const LoadTarget& target,
                                                           const std::string& api_key,
                                                           std::span<const std::string_view> names);

/// @brief After a run: waits `settle_s` (cut requests finish), reads the counters again and
/// returns their change since @p before; nullopt when either read failed.
std::optional<std::map<std::string, double>> ServerDeltasSince(
    const std::optional<std::map<std::string, double>>& before, const LoadTarget& target,
    const std::string& api_key, std::span<const std::string_view> names, double settle_s);

}  // namespace liveproof::loadgen::detail
