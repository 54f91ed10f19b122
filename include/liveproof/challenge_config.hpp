// Knobs of the active head-pose challenge (system A's values as defaults) and their parsers.
#pragma once

#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/export.hpp"

namespace liveproof::challenge {

/// @brief One thing the user is asked to do, in the user's own terms: Left = turn towards
/// their own left (yaw < 0 on unmirrored frames), Up = look up (pitch < 0), Blink = close and
/// reopen the eyes.
enum class Direction { Left, Right, Up, Down, Blink };

/// @brief The wire name: "LEFT", "RIGHT", "UP", "DOWN" or "BLINK".
LIVEPROOF_EXPORT std::string_view DirectionName(Direction direction);

/// @brief Parses one wire name, ignoring ASCII case and surrounding blanks ("left " -> Left).
/// @ensures an InvalidArgument error naming the text when it is not one of the five names.
LIVEPROOF_EXPORT Expected<Direction> ParseDirection(std::string_view text);

/// @brief Parses a comma-separated list such as the value of LIVEPROOF_CHALLENGES.
/// @ensures an InvalidArgument error for an empty list, an empty item or a repeated item
/// (a repeat would silently bias the uniform draw), in input order otherwise.
LIVEPROOF_EXPORT Expected<std::vector<Direction>> ParseChallengeList(std::string_view text);

/// @brief Everything that decides a challenge session. Defaults reproduce system A's
/// WebSocket protocol (3 successes, 5 s per challenge, 30 s per session, one wrong move fails)
/// with the fixes of compat.md §6 that do not change a compliant user's experience.
/// Angles are in the engine's true degrees (architecture.md: yaw < 0 = the person's own left
/// on unmirrored frames, pitch < 0 = looking up).
///
/// THREAD SAFETY: a plain value type; distinct objects may be used from distinct threads.
struct LIVEPROOF_EXPORT ChallengeConfig {
    int required_successes = 3;      ///< challenges to pass; A's "total" (1..10)
    double challenge_timeout_s = 5;  ///< time to perform one issued challenge
    double session_timeout_s = 30;   ///< whole session, counted from Start() (A: from accept)
    double idle_timeout_s = 10;      ///< no client message at all for this long ends it
    int max_wrong_attempts = 1;      ///< wrong moves per challenge that fail the session (A: 1)
    float center_yaw = 15;           ///< centred needs |yaw| < this (A's CENTER)
    float center_pitch = 12;         ///< centred needs |pitch| < this (A's CENTER)
    float center_exit_margin = 3;    ///< once centred, stays centred until |angle| >= limit+this
    float action_yaw = 20;           ///< LEFT: yaw < -this; RIGHT: yaw > this
    float action_pitch = 12;         ///< UP: pitch < -this; DOWN: pitch > this (vs baseline)
    int center_hold_frames = 1;      ///< consecutive centred face frames before a challenge
    int action_hold_frames = 1;      ///< consecutive frames an asked pose must hold (A: 1)
    std::vector<Direction> allowed = {Direction::Left, Direction::Right, Direction::Up,
                                      Direction::Down};  ///< drawn uniformly, no immediate repeat
    bool blink_enabled = false;          ///< the transport computes eyes_closed; BLINK may be drawn
    float blink_close_threshold = 0.6f;  ///< eyes-closed score above which a blink starts
    float blink_open_threshold = 0.35f;  ///< score below which the eyes count as open
    int blink_max_closed_frames = 15;    ///< a longer closure is eyes shut, not a blink
    bool mirrored = false;               ///< the client sends mirrored frames: yaw sign flips
    bool require_passive_verdict = false;  ///< never complete before SetPassiveVerdict(false)
    /// A challenge passed sooner than this after it was issued fails the session "too_fast": a
    /// person needs a few hundred ms to read and turn, a replay of stored frames does not.
    /// 0 = off (A).
    double min_action_s = 0;
    /// Head turns: frames between rest and the action threshold (a pose beyond 30% of it) that
    /// each turn must show; fewer fails the session "injection_suspected" (a head passes
    /// through intermediate poses, a stitched replay jumps). 0 = off (A).
    int min_transition_frames = 0;

    /// @brief Sets the challenges that may be drawn; eye closure (blink_enabled) is on exactly
    /// when BLINK is among them.
    void SetAllowed(std::vector<Direction> directions);

    /// @brief Checks every range; the first violation is returned as InvalidArgument.
    /// @ensures success iff required_successes in 1..10; every timeout finite and > 0;
    /// max_wrong_attempts in 1..100; 0 < center angles < 90; 0 <= margin <= 30;
    /// center_yaw <= action_yaw < 90 and center_pitch <= action_pitch < 90; hold frames in
    /// 1..30; allowed non-empty without repeats; BLINK allowed only with blink_enabled;
    /// 0 <= blink_open_threshold < blink_close_threshold <= 1; blink_max_closed_frames >= 1;
    /// 0 <= min_action_s < challenge_timeout_s; min_transition_frames in 0..30.
    [[nodiscard]] Expected<void> Validate() const;
};

}  // namespace liveproof::challenge
