// Statistics of the load generators: a bounded latency histogram and /metrics counter deltas.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace liveproof::loadgen {

/// @brief Percentiles of a set of latencies, in milliseconds (0 when count is 0).
struct LatencySummary {
    std::uint64_t count = 0;  ///< latencies recorded
    double p50_ms = 0;        ///< median
    double p95_ms = 0;        ///< 95th percentile
    double p99_ms = 0;        ///< 99th percentile
    double max_ms = 0;        ///< largest, exact
    double mean_ms = 0;       ///< arithmetic mean, exact
};

/// @brief WHAT THIS OBJECT REPRESENTS: latencies in log-linear buckets (exact below 256 us,
/// then 128 buckets per power of two, so a percentile is within 0.8% of the true value), in
/// fixed memory however long the run: 256 clients x 60 fps x 600 s would be 9 M samples.
///
/// THREAD SAFETY: none; the load generators record from their one I/O thread.
class LatencyHistogram {
  public:
    LatencyHistogram();
    /// @brief Adds one latency (negative values count as 0).
    void Record(double seconds);
    /// @brief Nearest-rank percentiles (the value at rank ceil(p * count)), mean and max.
    [[nodiscard]] LatencySummary Summary() const;

  private:
    [[nodiscard]] double PercentileMs(double p) const;

    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::uint64_t max_us_ = 0;
    double sum_us_ = 0;
};

/// @brief Counter samples ("name{labels}" -> value) of the Prometheus text whose metric name is
/// one of @p names; histogram series (_bucket, _sum, _count) of other names are not matched.
std::map<std::string, double> ParseMetricSamples(std::string_view text,
                                                 std::span<const std::string_view> names);

/// @brief after - before per series, leaving out the series that did not change.
std::map<std::string, double> MetricDeltas(const std::map<std::string, double>& before,
                                           const std::map<std::string, double>& after);

}  // namespace liveproof::loadgen
