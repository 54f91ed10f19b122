// The metrics a server publishes (names, types and help text for /metrics).
#pragma once

#include "server/metrics_registry.hpp"

namespace liveproof::server {

/// @brief Declares every metric the server's routes, doors and sweeper record.
void DescribeServerMetrics(MetricsRegistry& m);

}  // namespace liveproof::server
