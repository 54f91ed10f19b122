// Frame-level replay signals: repeats by digest and by fingerprint, source changes by header and
// JPEG tables.
#include "active/replay_signals.hpp"

#include <sodium.h>

#include <cmath>
#include <cstring>

#include "media/fingerprint.hpp"
#include "media/jpeg_tables.hpp"

namespace liveproof::active {

namespace {

// Enough for any run the session caps allow (30 s at 30 fps is 900 frames).
constexpr std::size_t kMaxDigests = 4096;

// The latest decoded frames a new one is compared with: 18 s at 7 frames/s, 96 KiB a run.
constexpr std::size_t kMaxFingerprints = 128;

double Round1(double x) { return std::round(x * 10) / 10; }

}  // namespace

std::uint64_t ReplaySignals::Digest(std::span<const std::uint8_t> bytes) {
    unsigned char out[crypto_generichash_BYTES_MIN];
    crypto_generichash(out, sizeof out, bytes.data(), bytes.size(), nullptr, 0);
    std::uint64_t d = 0;
    std::memcpy(&d, out, sizeof d);
    return d;
}

std::optional<challenge::FailReason> ReplaySignals::Triggered(const std::string& trigger) {
    if (trigger.empty()) return std::nullopt;
    if (first_trigger_.empty()) first_trigger_ = trigger;
    if (!rules_.enforce) return std::nullopt;
    return challenge::FailReason::InjectionSuspected;
}

std::optional<challenge::FailReason> ReplaySignals::OnDecoded(
    std::uint64_t digest, std::span<const std::uint8_t> fingerprint) {
    if (fingerprint.empty() || rules_.near_duplicate_points < 0) return std::nullopt;
    bool near = false;
    for (const auto& [earlier_digest, earlier] : fingerprints_) {
        // The same bytes again: an exact repeat, which OnFrame counted.
        if (earlier_digest == digest) return std::nullopt;
        near = near || media::FingerprintDistance(fingerprint, earlier, kNearDuplicateTolerance) <=
                           rules_.near_duplicate_points;
    }
    const std::vector<std::uint8_t> copy(fingerprint.begin(), fingerprint.end());
    if (fingerprints_.size() < kMaxFingerprints) {
        fingerprints_.emplace_back(digest, copy);
    } else {
        fingerprints_[next_fingerprint_] = {digest, copy};
        next_fingerprint_ = (next_fingerprint_ + 1) % kMaxFingerprints;
    }
    if (!near) return std::nullopt;
    ++near_duplicates_;
    const bool over = rules_.max_duplicate_frames >= 0 &&
                      duplicates_ + near_duplicates_ > rules_.max_duplicate_frames;
    return Triggered(over ? "near_duplicate_frames" : "");
}

std::optional<challenge::FailReason> ReplaySignals::OnFrame(double t,
                                                            std::span<const std::uint8_t> bytes,
                                                            int width, int height) {
    ++frames_;
    if (last_t_) {
        const double gap = (t - *last_t_) * 1000;
        gap_sum_ += gap;
        gap_sq_sum_ += gap * gap;
        gap_max_ = std::max(gap_max_, gap);
        ++gaps_;
    }
    last_t_ = t;
    std::string trigger;
    const std::uint64_t digest = Digest(bytes);
    if (seen_.count(digest) != 0) {
        ++duplicates_;
        if (rules_.max_duplicate_frames >= 0 &&
            duplicates_ + near_duplicates_ > rules_.max_duplicate_frames) {
            trigger = "duplicate_frames";
        }
    } else if (seen_.size() < kMaxDigests) {
        seen_.insert(digest);
    }
    const std::pair<int, int> size{width, height};
    if (size_ && *size_ != size) {
        ++resolution_changes_;
        if (rules_.fail_on_source_change) trigger = "resolution_change";
    }
    size_ = size;
    if (const auto tables = media::JpegQuantTablesDigest(bytes)) {
        if (tables_ && *tables_ != *tables) {
            ++table_changes_;
            if (rules_.fail_on_source_change) trigger = "jpeg_tables_change";
        }
        tables_ = tables;
    }
    return Triggered(trigger);
}

nlohmann::ordered_json ReplaySignals::ToJson(const challenge::ChallengeSession& session) const {
    nlohmann::ordered_json j;
    j["frames_received"] = frames_;
    j["duplicate_frames"] = duplicates_;
    j["near_duplicate_frames"] = near_duplicates_;
    j["resolution_changes"] = resolution_changes_;
    j["jpeg_table_changes"] = table_changes_;
    if (size_) j["resolution"] = std::to_string(size_->first) + "x" + std::to_string(size_->second);
    if (gaps_ > 0) {
        const double mean = gap_sum_ / gaps_;
        const double var = std::max(0.0, gap_sq_sum_ / gaps_ - mean * mean);
        j["inter_arrival_ms"] = {
            {"mean", Round1(mean)}, {"stddev", Round1(std::sqrt(var))}, {"max", Round1(gap_max_)}};
    }
    nlohmann::ordered_json challenges = nlohmann::ordered_json::array();
    for (const auto& c : session.Timings()) {
        nlohmann::ordered_json one;
        one["challenge"] = challenge::DirectionName(c.direction);
        one["issued_ms"] = std::lround(c.issued_at * 1000);
        if (c.passed_at) {
            one["passed_ms"] = std::lround(*c.passed_at * 1000);
            one["reaction_ms"] = std::lround((*c.passed_at - c.issued_at) * 1000);
        } else {
            one["passed_ms"] = nullptr;
        }
        one["transition_frames"] = c.transition_frames;
        challenges.push_back(std::move(one));
    }
    j["challenges"] = std::move(challenges);
    if (!first_trigger_.empty()) j["trigger"] = first_trigger_;
    return j;
}

}  // namespace liveproof::active
