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

#include "liveproof/challenge_session.hpp"

namespace liveproof::active {

/// @brief Which frame signals end a run (settings, documented in docs/sessions.md).
struct FrameSignalRules {
    int max_duplicate_frames = 2;       ///< byte-identical repeats tolerated; -1 = never fail
    bool fail_on_source_change = true;  ///< a new resolution or new JPEG tables fails
    bool enforce = true;                ///< false: record only, never fail (anonymous doors)
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

    /// @brief The signals as recorded: frames, duplicates, resolution and table changes,
    /// inter-arrival mean / standard deviation / longest gap (ms), and the challenges' timings
    /// from @p session (reaction time, transition frames).
    [[nodiscard]] nlohmann::ordered_json ToJson(const challenge::ChallengeSession& session) const;

    [[nodiscard]] int frames() const { return frames_; }

  private:
    FrameSignalRules rules_;
    int frames_ = 0;
    int duplicates_ = 0;
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
};

}  // namespace liveproof::active
