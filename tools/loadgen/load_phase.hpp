// What the load generators share without Boost: one timed phase of keep-alive HTTP requests and
// the /metrics reads, so that a client of them (the session flow) needs no Beast translation unit.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/load_client.hpp"

namespace liveproof::loadgen::detail {

/// @brief One phase of `bench http` or `bench sessions`: keep-alive connections, each writing
/// the next prepared request as soon as the previous answer is in.
struct HttpPhase {
    const LoadTarget* target = nullptr;  ///< where; must outlive the run
    std::vector<std::string> requests;   ///< whole requests (head and body), built before the clock
    /// false: requests go round robin until the clock stops; true: each is sent once and the
    /// phase ends early when the last one is answered (a request cut by an error is not retried).
    bool each_once = false;
    int connections = 1;            ///< at least 1
    double duration_s = 10;         ///< requests start only within this time
    double connect_timeout_s = 3;   ///< per connect
    double request_timeout_s = 10;  ///< per request, write to full answer
    int ok_status = 200;            ///< the answers that HttpLoadResult::latency_ok counts
    /// Called on the I/O thread with each answer's status and body (optional); it must be cheap,
    /// since its time is in every later request's latency.
    std::function<void(int status, std::string_view body)> on_answer;
};

/// @brief Runs @p phase on the calling thread (one I/O thread for every connection) and returns
/// within about duration_s + the request timeout; the result's `server` is left empty.
HttpLoadResult RunHttpPhase(const HttpPhase& phase);

/// @brief One HTTP/1.1 request as written on the wire: Host and User-Agent, X-API-KEY when
/// @p api_key is not empty, Content-Type and Content-Length when @p body is not empty.
std::string RequestText(const LoadUrl& url, std::string_view method, std::string_view target,
                        const std::string& api_key, std::string_view content_type,
                        std::string_view body);

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
