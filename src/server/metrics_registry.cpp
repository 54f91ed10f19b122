// Prometheus registry: validation, label normalisation, the label-set cap and text rendering.
#include "server/metrics_registry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace liveproof::server {
namespace {

constexpr std::array<std::string_view, 6> kErrorReasons = {"invalid_describe", "invalid_labels",
                                                           "invalid_value",    "label_set_cap",
                                                           "type_mismatch",    "undeclared"};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidMetricName(std::string_view name) {
    if (name.empty() || IsDigit(name[0])) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == ':'; });
}

// Label names: [a-zA-Z_][a-zA-Z0-9_]*; "__" prefixes are reserved by Prometheus.
bool ValidLabelName(std::string_view name) {
    if (name.empty() || IsDigit(name[0]) || name.starts_with("__")) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; });
}

const char* TypeName(MetricType type) {
    switch (type) {
        case MetricType::Counter:
            return "counter";
        case MetricType::Gauge:
            return "gauge";
        case MetricType::Histogram:
            return "histogram";
    }
    return "untyped";
}

// Shortest text that reads back to the same double, with Prometheus' spellings of the special
// values.
std::string FormatValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::array<char, 64> buf{};
    // Whole numbers (counts, mostly) print in full: to_chars' shortest form of 100000 is 1e+05.
    if (std::trunc(v) == v && std::fabs(v) < 1e15) {
        const auto res =
            std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<long long>(v));
        return std::string(buf.data(), res.ptr);
    }
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), res.ptr);
}

void AppendEscaped(std::string& out, std::string_view s, bool escape_quote) {
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && escape_quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// Appends {a="x",b="y"[,le="..."]} (nothing when there are no labels at all).
void AppendLabels(std::string& out, const Labels& labels, std::string_view le = {}) {
    if (labels.empty() && le.empty()) return;
    out += '{';
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) out += ',';
        first = false;
        out += name;
        out += "=\"";
        AppendEscaped(out, value, true);
        out += '"';
    }
    if (!le.empty()) {
        if (!first) out += ',';
        out += "le=\"";
        out += le;
        out += '"';
    }
    out += '}';
}

void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  const Labels& labels, std::string_view value, std::string_view le = {}) {
    out += name;
    out += suffix;
    AppendLabels(out, labels, le);
    out += ' ';
    out += value;
    out += '\n';
}

}  // namespace

MetricsRegistry::MetricsRegistry(std::size_t max_label_sets) : max_label_sets_(max_label_sets) {
    Family& errors = families_[std::string(kErrorsFamily)];
    errors.type = MetricType::Counter;
    errors.help = "Metric updates or declarations dropped by the registry, by reason.";
    // Zero-valued series up front so that rate() sees the first error.
    for (std::string_view reason : kErrorReasons) {
        errors.series[Labels{{"reason", std::string(reason)}}] = Series{};
    }
}

void MetricsRegistry::CountErrorLocked(std::string_view reason) {
    auto& series = families_.find(kErrorsFamily)->second.series;
    series[Labels{{"reason", std::string(reason)}}].value += 1.0;
}

void MetricsRegistry::Describe(std::string_view name, MetricType type, std::string_view help,
                               std::vector<double> buckets) {
    if (type == MetricType::Histogram) {
        if (buckets.empty()) buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
        if (std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
    } else {
        buckets.clear();  // meaningless for counters and gauges
    }
    const bool buckets_ok =
        std::all_of(buckets.begin(), buckets.end(), [](double b) { return std::isfinite(b); }) &&
        std::adjacent_find(buckets.begin(), buckets.end(), std::greater_equal<>()) == buckets.end();

    std::lock_guard lock(mutex_);
    if (!ValidMetricName(name) || !buckets_ok) {
        CountErrorLocked("invalid_describe");
        return;
    }
    if (auto it = families_.find(name); it != families_.end()) {
        if (it->second.type != type) CountErrorLocked("type_mismatch");
        return;
    }
    Family& family = families_[std::string(name)];
    family.type = type;
    family.help = std::string(help);
    family.buckets = std::move(buckets);
}

void MetricsRegistry::Inc(std::string_view name, const Labels& labels, double value) {
    Update(name, labels, value, Op::Inc);
}

void MetricsRegistry::Set(std::string_view name, const Labels& labels, double value) {
    Update(name, labels, value, Op::Set);
}

void MetricsRegistry::Observe(std::string_view name, const Labels& labels, double value) {
    Update(name, labels, value, Op::Observe);
}

void MetricsRegistry::Update(std::string_view name, const Labels& labels, double value, Op op) {
    // Sorting makes {a,b} and {b,a} the same series and gives Render its stable order.
    Labels key = labels;
    std::sort(key.begin(), key.end());

    std::lock_guard lock(mutex_);
    const auto it = families_.find(name);
    if (it == families_.end()) {
        CountErrorLocked("undeclared");
        return;
    }
    Family& family = it->second;
    const bool type_ok = (op == Op::Inc && family.type != MetricType::Histogram) ||
                         (op == Op::Set && family.type == MetricType::Gauge) ||
                         (op == Op::Observe && family.type == MetricType::Histogram);
    if (!type_ok) {
        CountErrorLocked("type_mismatch");
        return;
    }
    const bool labels_ok =
        std::all_of(key.begin(), key.end(),
                    [&](const auto& l) {
                        return ValidLabelName(l.first) &&
                               !(family.type == MetricType::Histogram && l.first == "le");
                    }) &&
        std::adjacent_find(key.begin(), key.end(), [](const auto& a, const auto& b) {
            return a.first == b.first;
        }) == key.end();
    if (!labels_ok) {
        CountErrorLocked("invalid_labels");
        return;
    }
    // Counters only go up; NaN or infinity would poison a sum for the life of the process.
    if (!std::isfinite(value) || (family.type == MetricType::Counter && value < 0)) {
        CountErrorLocked("invalid_value");
        return;
    }
    auto series_it = family.series.find(key);
    if (series_it == family.series.end()) {
        if (family.series.size() >= max_label_sets_) {
            CountErrorLocked("label_set_cap");
            return;
        }
        series_it = family.series.emplace(std::move(key), Series{}).first;
        series_it->second.buckets.assign(family.buckets.size(), 0);
    }
    Series& s = series_it->second;
    switch (op) {
        case Op::Inc:
            s.value += value;
            break;
        case Op::Set:
            s.value = value;
            break;
        case Op::Observe: {
            // First bucket whose upper bound is >= value (le means "less than or equal").
            const auto b = std::lower_bound(family.buckets.begin(), family.buckets.end(), value);
            if (b != family.buckets.end()) ++s.buckets[b - family.buckets.begin()];
            ++s.count;
            s.value += value;
            break;
        }
    }
}

std::string MetricsRegistry::Render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
        out += "# HELP ";
        out += name;
        out += ' ';
        AppendEscaped(out, family.help, false);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += TypeName(family.type);
        out += '\n';
        std::vector<std::string> bounds;
        for (double b : family.buckets) bounds.push_back(FormatValue(b));
        for (const auto& [labels, s] : family.series) {
            if (family.type != MetricType::Histogram) {
                AppendSample(out, name, "", labels, FormatValue(s.value));
                continue;
            }
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += s.buckets[i];
                AppendSample(out, name, "_bucket", labels, std::to_string(cumulative), bounds[i]);
            }
            AppendSample(out, name, "_bucket", labels, std::to_string(s.count), "+Inf");
            AppendSample(out, name, "_sum", labels, FormatValue(s.value));
            AppendSample(out, name, "_count", labels, std::to_string(s.count));
        }
    }
    return out;
}

}  // namespace liveproof::server
