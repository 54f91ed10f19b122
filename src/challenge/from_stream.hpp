// What a challenge session reads from the stream core's observation of a frame. (Header-only:
// the challenge library itself knows nothing of the engine; the doors that join them include
// this.)
#pragma once

#include "challenge/challenge_session.hpp"
#include "liveproof/face_stream.hpp"

namespace liveproof::challenge {

/// @brief The session's observation of a frame the stream core analysed.
inline Observation FromStream(const StreamObservation& o) {
    Observation obs;
    obs.face = o.face_count >= 1;
    obs.face_count = o.face_count;
    if (o.pose) {
        obs.yaw = o.pose->yaw;
        obs.pitch = o.pose->pitch;
    }
    obs.eyes_closed = o.eyes_closed;
    obs.track_jump = o.face_jump;
    return obs;
}

/// @brief The stream core's "decisive frame" test for this session's awaited action: a frame
/// whose pose could complete it (within @p slack_deg) gets passive evidence.
inline FaceStream::Decisive DecisiveFor(const ActionCheck& check, float slack_deg) {
    return [check, slack_deg](const FaceResult& f) {
        std::optional<std::pair<float, float>> pose;
        if (f.pose) pose = std::make_pair(f.pose->yaw, f.pose->pitch);
        return check.MayComplete(pose, slack_deg);
    };
}

}  // namespace liveproof::challenge
