// Latency histogram and /metrics parsing for the load generators.
#include "loadgen/load_stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>

namespace liveproof::loadgen {

namespace {

constexpr std::uint64_t kExactBelowUs = 256;  // one bucket per microsecond below this
constexpr int kSubBits = 7;                   // 128 buckets per power of two above it
constexpr int kFirstExponent = 8;             // log2(kExactBelowUs)
constexpr int kLastExponent = 47;             // 2^48 us is about 9 years: nothing lasts longer
constexpr std::size_t kSubBuckets = std::size_t{1} << kSubBits;
constexpr std::size_t kBucketCount =
    kExactBelowUs + (kLastExponent - kFirstExponent + 1) * kSubBuckets;

std::size_t BucketOf(std::uint64_t us) {
    if (us < kExactBelowUs) return static_cast<std::size_t>(us);
    const int e = std::min(static_cast<int>(std::bit_width(us)) - 1, kLastExponent);
    const std::uint64_t sub =
        std::min<std::uint64_t>((us >> (e - kSubBits)) - kSubBuckets, kSubBuckets - 1);
    return kExactBelowUs + static_cast<std::size_t>(e - kFirstExponent) * kSubBuckets +
           static_cast<std::size_t>(sub);
}

// The middle of a bucket, in microseconds.
double BucketValueUs(std::size_t index) {
    if (index < kExactBelowUs) return static_cast<double>(index);
    const std::size_t rest = index - kExactBelowUs;
    const int e = kFirstExponent + static_cast<int>(rest / kSubBuckets);
    const std::uint64_t sub = rest % kSubBuckets;
    const std::uint64_t width = std::uint64_t{1} << (e - kSubBits);
    const std::uint64_t lower = (kSubBuckets + sub) * width;
    return static_cast<double>(lower) + static_cast<double>(width - 1) / 2.0;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

void LatencyHistogram::Record(double seconds) {
    const double us_f = std::max(0.0, seconds * 1e6);
    const auto us = static_cast<std::uint64_t>(std::llround(std::min(us_f, 1e15)));
    ++buckets_[BucketOf(us)];
    ++count_;
    max_us_ = std::max(max_us_, us);
    sum_us_ += static_cast<double>(us);
}

double LatencyHistogram::PercentileMs(double p) const {
    if (count_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= rank) return std::min(BucketValueUs(i), static_cast<double>(max_us_)) / 1e3;
    }
    return static_cast<double>(max_us_) / 1e3;
}

LatencySummary LatencyHistogram::Summary() const {
    LatencySummary s;
    s.count = count_;
    if (count_ == 0) return s;
    s.p50_ms = PercentileMs(0.50);
    s.p95_ms = PercentileMs(0.95);
    s.p99_ms = PercentileMs(0.99);
    s.max_ms = static_cast<double>(max_us_) / 1e3;
    s.mean_ms = sum_us_ / static_cast<double>(count_) / 1e3;
    return s;
}

std::map<std::string, double> ParseMetricSamples(std::string_view text,
                                                 std::span<const std::string_view> names) {
    std::map<std::string, double> out;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto space = line.rfind(' ');
        if (space == std::string_view::npos) continue;
        const std::string_view series = line.substr(0, space);
        const std::string_view name = series.substr(0, series.find('{'));
        if (std::find(names.begin(), names.end(), name) == names.end()) continue;
        const std::string value(line.substr(space + 1));
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (end != value.c_str()) out[std::string(series)] = v;
    }
    return out;
}

std::map<std::string, double> MetricDeltas(const std::map<std::string, double>& before,
                                           const std::map<std::string, double>& after) {
    std::map<std::string, double> out;
    for (const auto& [series, value] : after) {
        const auto it = before.find(series);
        const double delta = value - (it == before.end() ? 0.0 : it->second);
        if (delta != 0.0) out[series] = delta;
    }
    return out;
}

}  // namespace liveproof::loadgen
