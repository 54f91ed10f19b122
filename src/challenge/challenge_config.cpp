// Range checks of ChallengeConfig and the LIVEPROOF_CHALLENGES parsers.
#include "liveproof/challenge_config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace liveproof::challenge {
namespace {

constexpr std::array<std::pair<Direction, std::string_view>, 5> kNames = {{
    {Direction::Left, "LEFT"},
    {Direction::Right, "RIGHT"},
    {Direction::Up, "UP"},
    {Direction::Down, "DOWN"},
    {Direction::Blink, "BLINK"},
}};

std::string_view Trim(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

Unexpected Invalid(std::string detail) {
    return MakeError(ErrorCode::InvalidArgument, std::move(detail));
}

// Written as !(lo < x && x < hi) so that NaN fails every range.
bool OpenRange(double x, double lo, double hi) { return lo < x && x < hi; }

}  // namespace

std::string_view DirectionName(Direction direction) {
    for (const auto& [d, name] : kNames) {
        if (d == direction) return name;
    }
    return "UNKNOWN";
}

Expected<Direction> ParseDirection(std::string_view text) {
    const std::string_view t = Trim(text);
    for (const auto& [d, name] : kNames) {
        if (EqualsIgnoreCase(t, name)) return d;
    }
    return Invalid("unknown challenge '" + std::string(t) +
                   "' (expected LEFT, RIGHT, UP, DOWN or BLINK)");
}

Expected<std::vector<Direction>> ParseChallengeList(std::string_view text) {
    std::vector<Direction> out;
    if (Trim(text).empty()) return Invalid("challenge list is empty");
    while (true) {
        const std::size_t comma = text.find(',');
        const std::string_view item = Trim(text.substr(0, comma));
        if (item.empty()) return Invalid("challenge list has an empty item");
        auto d = ParseDirection(item);
        if (!d) return Unexpected{d.error()};
        if (std::find(out.begin(), out.end(), *d) != out.end()) {
            return Invalid("challenge '" + std::string(DirectionName(*d)) + "' listed twice");
        }
        out.push_back(*d);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

void ChallengeConfig::SetAllowed(std::vector<Direction> directions) {
    allowed = std::move(directions);
    blink_enabled = std::find(allowed.begin(), allowed.end(), Direction::Blink) != allowed.end();
}

Expected<void> ChallengeConfig::Validate() const {
    if (required_successes < 1 || required_successes > 10) {
        return Invalid("required_successes must be in 1..10");
    }
    if (!OpenRange(challenge_timeout_s, 0, HUGE_VAL)) {
        return Invalid("challenge_timeout_s must be finite and > 0");
    }
    if (!OpenRange(session_timeout_s, 0, HUGE_VAL)) {
        return Invalid("session_timeout_s must be finite and > 0");
    }
    if (!OpenRange(idle_timeout_s, 0, HUGE_VAL)) {
        return Invalid("idle_timeout_s must be finite and > 0");
    }
    if (max_wrong_attempts < 1 || max_wrong_attempts > 100) {
        return Invalid("max_wrong_attempts must be in 1..100");
    }
    if (!OpenRange(center_yaw, 0, 90) || !OpenRange(center_pitch, 0, 90)) {
        return Invalid("center_yaw and center_pitch must be in (0, 90) degrees");
    }
    if (!(center_exit_margin >= 0 && center_exit_margin <= 30)) {
        return Invalid("center_exit_margin must be in [0, 30] degrees");
    }
    // An action inside the centre box could be "met" by the very frame that issued it.
    if (!(action_yaw >= center_yaw && action_yaw < 90)) {
        return Invalid("action_yaw must be in [center_yaw, 90) degrees");
    }
    if (!(action_pitch >= center_pitch && action_pitch < 90)) {
        return Invalid("action_pitch must be in [center_pitch, 90) degrees");
    }
    if (center_hold_frames < 1 || center_hold_frames > 30 || action_hold_frames < 1 ||
        action_hold_frames > 30) {
        return Invalid("center_hold_frames and action_hold_frames must be in 1..30");
    }
    if (allowed.empty()) return Invalid("allowed challenges must not be empty");
    for (const Direction d : allowed) {
        if (std::count(allowed.begin(), allowed.end(), d) > 1) {
            return Invalid("allowed challenges must not repeat");
        }
    }
    const bool blink_allowed =
        std::find(allowed.begin(), allowed.end(), Direction::Blink) != allowed.end();
    // Without blink_enabled the transport does not run the eye model, so BLINK could never pass.
    if (blink_allowed && !blink_enabled) {
        return Invalid("BLINK is allowed but blink_enabled is false (no eyes_closed scores)");
    }
    if (!(blink_open_threshold >= 0 && blink_open_threshold < blink_close_threshold &&
          blink_close_threshold <= 1)) {
        return Invalid("blink thresholds need 0 <= open < close <= 1");
    }
    if (blink_max_closed_frames < 1) return Invalid("blink_max_closed_frames must be >= 1");
    if (!(min_action_s >= 0 && min_action_s < challenge_timeout_s)) {
        return Invalid("min_action_s must be >= 0 and below challenge_timeout_s");
    }
    if (min_transition_frames < 0 || min_transition_frames > 30) {
        return Invalid("min_transition_frames must be in 0..30");
    }
    return {};
}

}  // namespace liveproof::challenge
