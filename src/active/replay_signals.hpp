// What the frames of one challenge run say about their source, beyond the faces in them: exact
// repeats, a change of resolution or of JPEG tables, and the rhythm they arrive in. A live camera
// sends new pixels at a steady size and encoding; a stitched replay of stored frames does not.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "liveproof/challenge_session.hpp"

namespace liveproof::active {

/// @brief Which frame signals end a run (settings, documented in docs/sessions.md).
struct FrameSignalRules {
    /// Repeats tolerated (byte-identical, and near-duplicates: the same picture re-encoded or
    /// slightly edited); -1 = never fail.
    int max_duplicate_frames = 2;
    bool fail_on_source_change = true;  ///< a new resolution or new JPEG tables fails
    bool enforce = true;                ///< false: record only, never fail (anonymous doors)
    /// A frame is a near-duplicate of an earlier one when at most this many of its 768
    /// fingerprint points differ by more than kNearDuplicateTolerance levels; -1 = not checked.
    /// Measured on the shared videos' frames at 30 fps: byte-distinct frames of a live camera
    /// differ in 24 points or more (adjacent frames), the same frame re-encoded at quality 92
    /// (with or without a pixel changed and the brightness raised by one level) in at most 4.
    int near_duplicate_points = 8;
};

/// @brief WHAT THIS OBJECT REPRESENTS: the frame-level replay signals of one run, recorded for
/// the session's result and, when decisive, the reason to end it "injection_suspected".
/// THREAD SAFETY: not thread safe; fed on the run's session side in arrival order.
class ReplaySignals {
  public:
    explicit ReplaySignals(FrameSignalRules rules) : rules_(rules) {}

    /// @brief One frame arrived at @p t seconds (before analysis), @p width x @p height from its
    /// header. Returns InjectionSuspected when this frame makes the run fail by the rules.
    std::optional<challenge::FailReason> OnFrame(double t, std::span<const std::uint8_t> bytes,
                                                 int width, int height);

    /// @brief The same frame (its bytes' Digest) once decoded, with its luminance
    /// @p fingerprint (StreamObservation::fingerprint; empty: nothing to compare). Returns
    /// InjectionSuspected when it is a near-duplicate that makes the run fail by the rules.
    /// Frames whose bytes repeat an earlier frame's were counted by OnFrame and are not
    /// counted again.
    std::optional<challenge::FailReason> OnDecoded(std::uint64_t digest,
                                                   std::span<const std::uint8_t> fingerprint);

    /// @brief The digest OnFrame keeps of a frame's bytes.
    static std::uint64_t Digest(std::span<const std::uint8_t> bytes);

    /// Levels two fingerprint points may differ by and still count as the same.
    static constexpr int kNearDuplicateTolerance = 3;

    /// @brief The signals as recorded: frames, duplicates, resolution and table changes,
    /// inter-arrival mean / standard deviation / longest gap (ms), and the challenges' timings
    /// from @p session (reaction time, transition frames).
    [[nodiscard]] nlohmann::ordered_json ToJson(const challenge::ChallengeSession& session) const;

    [[nodiscard]] int frames() const { return frames_; }

  private:
    FrameSignalRules rules_;
    int frames_ = 0;
    int duplicates_ = 0;
    int near_duplicates_ = 0;
    // The fingerprints of the latest decoded frames (a ring of kMaxFingerprints), with the
    // digest of their bytes.
    std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> fingerprints_;
    std::size_t next_fingerprint_ = 0;
    int resolution_changes_ = 0;
    int table_changes_ = 0;
    std::optional<std::pair<int, int>> size_;
    std::optional<std::uint64_t> tables_;
    std::unordered_set<std::uint64_t> seen_;  // digests of earlier frames (capped)
    std::optional<double> last_t_;
    double gap_sum_ = 0;
    double gap_sq_sum_ = 0;
    double gap_max_ = 0;
    int gaps_ = 0;
    std::string first_trigger_;  // what failed the run, if anything did
    std::optional<challenge::FailReason> Triggered(const std::string& trigger);
};

}  // namespace liveproof::active
