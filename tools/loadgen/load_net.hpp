// Socket helpers shared by the load generators (Boost.Beast: include from src/server only).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "loadgen/load_client.hpp"
#include "loadgen/load_phase.hpp"

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

}  // namespace liveproof::loadgen::detail
