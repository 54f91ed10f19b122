// Process-wide counters, gauges and histograms rendered in the Prometheus text format 0.0.4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveproof::server {

/// @brief Label name/value pairs of one sample; order does not matter (they are sorted by name).
using Labels = std::vector<std::pair<std::string, std::string>>;

/// @brief Prometheus metric family types supported.
enum class MetricType { Counter, Gauge, Histogram };

/// @brief Registry of metric families that renders the Prometheus text exposition format.
///
/// Misuse never throws or crashes: an undeclared name, a type mismatch, an invalid label name, a
/// negative or non-finite counter increment, or a sample past the label-set cap is dropped and
/// counted in the counter family kErrorsFamily, labelled by reason (undeclared, type_mismatch,
/// invalid_labels, invalid_value, label_set_cap, invalid_describe).
///
/// THREAD SAFETY: every member function may be called concurrently from any thread; one mutex
/// guards all state (updates are a map lookup and an add, far cheaper than a request).
class MetricsRegistry {
  public:
    /// @brief Counter family that records dropped samples and bad declarations.
    static constexpr std::string_view kErrorsFamily = "liveproof_metrics_errors_total";
    /// @brief Default cap on the label sets of one family.
    static constexpr std::size_t kDefaultMaxLabelSets = 1000;

    /// @brief Creates a registry holding only kErrorsFamily; @p max_label_sets caps the label
    /// sets of each family so that unbounded label values cannot grow memory without bound.
    explicit MetricsRegistry(std::size_t max_label_sets = kDefaultMaxLabelSets);

    /// @brief Declares a family. @p name must match [a-zA-Z_:][a-zA-Z0-9_:]*; histogram @p buckets
    /// must be finite and strictly ascending (a trailing +Inf is dropped: it is always implied),
    /// default 0.005 .. 10 seconds. Declaring again with the same type is a no-op (the first help
    /// and buckets stay); with another type, or invalid arguments, it is ignored and counted.
    void Describe(std::string_view name, MetricType type, std::string_view help,
                  std::vector<double> buckets = {});

    /// @brief Adds @p value to a counter (must be finite and >= 0) or a gauge (any finite value).
    void Inc(std::string_view name, const Labels& labels = {}, double value = 1.0);

    /// @brief Sets a gauge.
    void Set(std::string_view name, const Labels& labels, double value);

    /// @brief Records one observation (finite) in a histogram.
    void Observe(std::string_view name, const Labels& labels, double value);

    /// @brief The whole registry in text format 0.0.4: per family "# HELP", "# TYPE", then its
    /// samples; families sorted by name, label sets sorted by their (sorted) label pairs.
    [[nodiscard]] std::string Render() const;

  private:
    struct Series {
        double value = 0.0;                  // counter or gauge value; histogram sum
        std::vector<std::uint64_t> buckets;  // histogram: per-bucket (non-cumulative) counts
        std::uint64_t count = 0;             // histogram: number of observations
    };
    struct Family {
        MetricType type = MetricType::Counter;
        std::string help;
        std::vector<double> buckets;  // upper bounds, +Inf implied
        std::map<Labels, Series> series;
    };
    enum class Op { Inc, Set, Observe };

    // Applies one update under the lock, or counts why it was dropped.
    void Update(std::string_view name, const Labels& labels, double value, Op op);
    // Counts a dropped sample; requires mutex_ held.
    void CountErrorLocked(std::string_view reason);

    const std::size_t max_label_sets_;
    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
};

}  // namespace liveproof::server
