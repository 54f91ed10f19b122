// Error-rate arithmetic for the evaluator; conventions are documented in metrics.hpp.
#include "eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace liveproof::eval {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// floor(target * n) must not lose a whole sample to rounding (0.07 * 100 = 7.000000000000001 is
// harmless, but 0.29 * 100 = 28.999999999999996 would allow 28 instead of 29).
constexpr double kCountEpsilon = 1e-9;

std::string AttackKey(const ScoredSample& s) {
    return s.attack_type.empty() ? "unknown" : s.attack_type;
}

long AllowedErrors(double target, std::size_t n) {
    return static_cast<long>(std::floor(target * static_cast<double>(n) + kCountEpsilon));
}

std::string PercentLabel(const char* what, double target) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s=%g%%", what, target * 100.0);
    return buf;
}

}  // namespace

ErrorRates ComputeErrorRates(std::span<const ScoredSample> samples, double threshold,
                             std::span<const std::string> expected_attack_types) {
    ErrorRates r;
    r.threshold = threshold;
    std::map<std::string, AttackRate> by_type;
    for (const std::string& t : expected_attack_types) by_type[t].attack_type = t;
    for (const ScoredSample& s : samples) {
        const bool accepted = s.score >= threshold;
        if (s.is_live) {
            ++r.live;
            if (!accepted) ++r.live_rejected;
            continue;
        }
        AttackRate& a = by_type[AttackKey(s)];
        a.attack_type = AttackKey(s);
        ++a.attacks;
        ++r.attacks;
        if (accepted) {
            ++a.accepted;
            ++r.attacks_accepted;
        }
    }
    for (auto& [type, a] : by_type) {
        if (a.attacks > 0) {
            a.apcer = static_cast<double>(a.accepted) / a.attacks;
            // Strictly greater: on a tie the alphabetically first type is named, deterministically.
            if (!r.max_apcer || *a.apcer > *r.max_apcer) {
                r.max_apcer = a.apcer;
                r.worst_attack = type;
            }
        }
        r.per_attack.push_back(a);
    }
    if (r.live > 0) r.bpcer = static_cast<double>(r.live_rejected) / r.live;
    if (r.max_apcer && r.bpcer) r.acer = (*r.max_apcer + *r.bpcer) / 2.0;
    return r;
}

std::optional<double> Auc(std::span<const ScoredSample> samples) {
    std::vector<std::pair<double, bool>> v;
    v.reserve(samples.size());
    std::size_t n_live = 0;
    for (const ScoredSample& s : samples) {
        v.emplace_back(s.score, s.is_live);
        if (s.is_live) ++n_live;
    }
    const std::size_t n_attack = v.size() - n_live;
    if (n_live == 0 || n_attack == 0) return std::nullopt;
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // Mid-ranks: a run of equal scores shares the mean of its ranks, which counts each
    // live/attack tie as half a correct ordering.
    double live_rank_sum = 0;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j < v.size() && v[j].first == v[i].first) ++j;
        const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (std::size_t k = i; k < j; ++k) {
            if (v[k].second) live_rank_sum += mid_rank;
        }
        i = j;
    }
    const double nl = static_cast<double>(n_live);
    const double u = live_rank_sum - nl * (nl + 1.0) / 2.0;
    return u / (nl * static_cast<double>(n_attack));
}

std::optional<std::pair<double, double>> WilsonInterval(int k, int n, double z) {
    if (n <= 0 || k < 0 || k > n) return std::nullopt;
    const double nn = n;
    const double p = k / nn;
    const double z2 = z * z;
    const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    return std::pair{std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::optional<double> ThresholdForBpcer(std::span<const ScoredSample> samples,
                                        double target_bpcer) {
    if (!(target_bpcer >= 0.0 && target_bpcer <= 1.0)) return std::nullopt;
    std::vector<double> live;
    for (const ScoredSample& s : samples) {
        if (s.is_live) live.push_back(s.score);
    }
    if (live.empty()) return std::nullopt;
    std::sort(live.begin(), live.end());
    const long k = AllowedErrors(target_bpcer, live.size());
    if (k >= static_cast<long>(live.size())) return kInf;
    return live[static_cast<std::size_t>(k)];
}

std::optional<double> ThresholdForApcer(std::span<const ScoredSample> samples,
                                        double target_apcer) {
    if (!(target_apcer >= 0.0 && target_apcer <= 1.0)) return std::nullopt;
    std::map<std::string, std::vector<double>> by_type;
    for (const ScoredSample& s : samples) {
        if (!s.is_live) by_type[AttackKey(s)].push_back(s.score);
    }
    if (by_type.empty()) return std::nullopt;
    double threshold = -kInf;
    for (auto& [type, scores] : by_type) {
        std::sort(scores.begin(), scores.end(), std::greater<>());
        const long a = AllowedErrors(target_apcer, scores.size());
        if (a < static_cast<long>(scores.size())) {
            // Just above the first attack that must be rejected; everything at or below it is.
            threshold =
                std::max(threshold, std::nextafter(scores[static_cast<std::size_t>(a)], kInf));
        }
    }
    return threshold;
}

std::vector<OperatingPoint> Sweep(std::span<const ScoredSample> samples,
                                  std::span<const double> bpcer_targets,
                                  std::span<const double> apcer_targets) {
    std::vector<OperatingPoint> out;
    auto fill = [&](OperatingPoint p) {
        if (p.threshold) {
            const ErrorRates r = ComputeErrorRates(samples, *p.threshold);
            p.max_apcer = r.max_apcer;
            p.bpcer = r.bpcer;
        }
        out.push_back(std::move(p));
    };
    for (double t : bpcer_targets) {
        fill({PercentLabel("BPCER", t), t, ThresholdForBpcer(samples, t), {}, {}});
    }
    for (double t : apcer_targets) {
        fill({PercentLabel("APCER", t), t, ThresholdForApcer(samples, t), {}, {}});
    }
    return out;
}

std::vector<ScoredSample> ToSamples(std::span<const AntispoofItem> items, bool strict) {
    std::vector<ScoredSample> out;
    out.reserve(items.size());
    for (const AntispoofItem& it : items) {
        if (it.score) {
            out.push_back({*it.score, it.is_live, it.attack_type});
        } else if (strict) {
            out.push_back({-kInf, it.is_live, it.attack_type});
        }
    }
    return out;
}

AntispoofReport EvaluateAntispoof(std::string name, std::span<const AntispoofItem> items,
                                  double threshold,
                                  std::span<const std::string> expected_attack_types,
                                  std::span<const double> bpcer_targets,
                                  std::span<const double> apcer_targets) {
    AntispoofReport r;
    r.name = std::move(name);
    r.items = static_cast<int>(items.size());
    for (const AntispoofItem& it : items) {
        if (!it.score) {
            ++(it.is_live ? r.no_face_live : r.no_face_attack);
            r.no_face_files.push_back(it.file);
            continue;
        }
        const bool accepted = *it.score >= threshold;
        if (it.is_live && !accepted) r.false_rejects.push_back(it.file);
        if (!it.is_live && accepted) r.false_accepts.push_back(it.file);
    }
    const std::vector<ScoredSample> excluded = ToSamples(items, false);
    const std::vector<ScoredSample> strict = ToSamples(items, true);
    r.excluded = ComputeErrorRates(excluded, threshold, expected_attack_types);
    r.auc_excluded = Auc(excluded);
    r.strict = ComputeErrorRates(strict, threshold, expected_attack_types);
    r.auc_strict = Auc(strict);
    r.sweep = Sweep(excluded, bpcer_targets, apcer_targets);
    return r;
}

void AccuracyTally::Add(const std::string& file, const std::string& expected,
                        const std::string& got) {
    ++total;
    if (got == "no_face") ++no_face;
    if (got == expected) {
        ++correct;
    } else {
        misses.push_back({file, expected, got});
    }
}

std::optional<double> AccuracyTally::Accuracy() const {
    if (total == 0) return std::nullopt;
    return static_cast<double>(correct) / total;
}

PoseErrors ComputePoseErrors(std::span<const PosePair> pairs) {
    PoseErrors e;
    e.n = static_cast<int>(pairs.size());
    if (pairs.empty()) return e;
    auto diff = [](double a, double b) {
        double d = std::fmod(a - b + 180.0, 360.0);
        if (d < 0) d += 360.0;
        return std::abs(d - 180.0);
    };
    double sy = 0, sp = 0, sr = 0;
    for (const PosePair& p : pairs) {
        sy += diff(p.yaw, p.yaw_true);
        sp += diff(p.pitch, p.pitch_true);
        sr += diff(p.roll, p.roll_true);
    }
    e.yaw = sy / e.n;
    e.pitch = sp / e.n;
    e.roll = sr / e.n;
    return e;
}

}  // namespace liveproof::eval
