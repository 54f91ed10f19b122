// Hysteresis state machine over eye-closed scores; frames without a face are skipped.
#include "engine/blink_detector.hpp"

namespace liveproof::engine {

std::vector<Blink> FindBlinks(const std::vector<std::optional<float>>& scores,
                              const BlinkOptions& options) {
    enum class State { Unknown, Open, Closed };
    State state = State::Unknown;
    std::vector<Blink> blinks;
    int start = 0, last_closed = 0, closed_frames = 0;
    for (int i = 0; i < static_cast<int>(scores.size()); ++i) {
        if (!scores[i]) continue;
        const float s = *scores[i];
        switch (state) {
            case State::Unknown:
                // A video that starts with the eyes shut has not shown an open -> closed edge.
                if (s < options.open_threshold) state = State::Open;
                break;
            case State::Open:
                if (s > options.close_threshold) {
                    state = State::Closed;
                    start = last_closed = i;
                    closed_frames = 1;
                }
                break;
            case State::Closed:
                if (s < options.open_threshold) {
                    if (closed_frames <= options.max_closed_frames) {
                        blinks.push_back({start, last_closed});
                    }
                    state = State::Open;
                } else {
                    last_closed = i;
                    ++closed_frames;
                }
                break;
        }
    }
    return blinks;
}

}  // namespace liveproof::engine
