// The metrics a server publishes (names, types and help text for /metrics).
#pragma once

#include <string>

#include "server/metrics_registry.hpp"

namespace liveproof::server {

/// @brief Declares every metric the server's routes, doors and sweeper record.
void DescribeServerMetrics(MetricsRegistry& m);

/// @brief Counts one HTTP answer: liveproof's own series by route name, and system B's series
/// (liveness_requests_total{method,endpoint,status} and the rest, compat.md §2.6) so that B's
/// dashboards and tests keep working. @p endpoint is the route's path ("unmatched" for none).
void CountHttpAnswer(MetricsRegistry& m, const std::string& route, const std::string& endpoint,
                     const std::string& method, int status, double seconds);

}  // namespace liveproof::server
