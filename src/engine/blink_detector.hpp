// Blink finding over a series of eye-closed scores: open -> closed -> open with hysteresis.
#pragma once

#include <optional>
#include <vector>

#include "liveproof/options.hpp"
#include "liveproof/types.hpp"

namespace liveproof::engine {

/// @brief Finds blinks in per-frame mean eye-closed scores (nullopt = no face in that frame).
/// @requires options.open_threshold < options.close_threshold.
/// @ensures each blink starts at a frame scoring > close_threshold that follows a frame seen
/// open (< open_threshold), and ends at the last frame before the score falls below
/// open_threshold again; closures longer than max_closed_frames face frames, closures shallower
/// than min_depth (peak closed score minus the most open score since the previous edge), and
/// closures still open at the end of the video, are not blinks.
std::vector<Blink> FindBlinks(const std::vector<std::optional<float>>& closed_scores,
                              const BlinkOptions& options);

}  // namespace liveproof::engine
