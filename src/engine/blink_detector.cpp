// Hysteresis state machine over eye-closed scores; frames without a face are skipped.
#include "engine/blink_detector.hpp"

#include <algorithm>

namespace liveproof::engine {

std::vector<Blink> FindBlinks(const std::vector<std::optional<float>>& scores,
                              const BlinkOptions& options) {
    enum class State { Unknown, Open, Closed };
    State state = State::Unknown;
    std::vector<Blink> blinks;
    int start = 0, last_closed = 0, closed_frames = 0;
    // The most open the eyes were since the last edge and the most closed during a closure: a
    // blink must be this deep, not only cross the thresholds. A still photo encoded as MPEG-4
    // swings between 0.33 (key frames) and 0.61 (the frames between) and used to "blink".
    float open_level = 1.0f, peak = 0.0f;
    for (int i = 0; i < static_cast<int>(scores.size()); ++i) {
        if (!scores[i]) continue;
        const float s = *scores[i];
        switch (state) {
            case State::Unknown:
                // A video that starts with the eyes shut has not shown an open -> closed edge.
                if (s < options.open_threshold) {
                    state = State::Open;
                    open_level = s;
                }
                break;
            case State::Open:
                open_level = std::min(open_level, s);
                if (s > options.close_threshold) {
                    state = State::Closed;
                    start = last_closed = i;
                    closed_frames = 1;
                    peak = s;
                }
                break;
            case State::Closed:
                if (s < options.open_threshold) {
                    if (closed_frames <= options.max_closed_frames &&
                        peak - open_level >= options.min_depth) {
                        blinks.push_back({start, last_closed});
                    }
                    state = State::Open;
                    open_level = s;
                } else {
                    last_closed = i;
                    ++closed_frames;
                    peak = std::max(peak, s);
                }
                break;
        }
    }
    return blinks;
}

}  // namespace liveproof::engine
