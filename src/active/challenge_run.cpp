// The one place where the stream core and the challenge session meet.
#include "liveproof/challenge_run.hpp"

#include <algorithm>

#include "challenge/a_protocol.hpp"

namespace liveproof::active {

namespace {

// Degrees of slack when deciding that a frame could complete a challenge (the session judges
// the same frame with its exact thresholds; this covers rounding).
constexpr float kDecisiveSlackDeg = 1.0f;

// The session's reading of a frame the stream core analysed.
challenge::Observation FromStream(const StreamObservation& o) {
    challenge::Observation obs;
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

// The stream core's "decisive frame" test for the awaited action: a frame whose pose could
// complete it gets passive evidence.
FaceStream::Decisive DecisiveFor(const challenge::ActionCheck& check) {
    return [check](const FaceResult& f) {
        std::optional<std::pair<float, float>> pose;
        if (f.pose) pose = std::make_pair(f.pose->yaw, f.pose->pitch);
        return check.MayComplete(pose, kDecisiveSlackDeg);
    };
}

}  // namespace

std::string FrameErrorMessage(const Error& error) {
    if (error.code == ErrorCode::TimeBudgetExceeded)
        return "Frame took too long to analyse; send smaller frames";
    return std::string(challenge::kAErrorCouldNotDecode);
}

Expected<ChallengeRun> ChallengeRun::Create(const Engine* engine, challenge::ChallengeConfig config,
                                            StreamOptions stream, challenge::Clock clock,
                                            challenge::Random random) {
    // Never "complete" before the fused passive evidence said live.
    config.require_passive_verdict = true;
    // BLINK is judged from the eye closure the stream measures.
    stream.eyes = stream.eyes || config.blink_enabled;
    auto session =
        challenge::ChallengeSession::Create(std::move(config), std::move(clock), std::move(random));
    if (!session) return Unexpected{session.error()};
    return ChallengeRun(std::move(*session), engine, stream);
}

std::optional<challenge::Event> ChallengeRun::Start() { return session_.Start(); }

std::optional<challenge::Event> ChallengeRun::OnArrival() { return session_.OnMessage(); }

std::optional<challenge::Event> ChallengeRun::OnBadMessage(std::string message) {
    return session_.OnError(std::move(message));
}

std::optional<challenge::Event> ChallengeRun::OnTick() { return session_.OnTick(); }

StreamObservation ChallengeRun::Analyze(const Frame& frame, double t,
                                        const challenge::ActionCheck& check) {
    if (engine_ == nullptr) {
        StreamObservation o;
        o.error = Error{ErrorCode::Internal, "no engine: the server is not ready"};
        return o;
    }
    if (!stream_) stream_.emplace(*engine_, stream_options_);
    const FaceStream::Decisive decisive = DecisiveFor(check);
    if (frame.bgr != nullptr) {
        return stream_->FeedBgr(frame.bgr, frame.width, frame.height, frame.stride, t, decisive);
    }
    return stream_->Feed(frame.encoded, t, decisive);
}

std::optional<challenge::Event> ChallengeRun::Judge(const StreamObservation& o) {
    if (session_.Finished()) return std::nullopt;
    if (o.error) return session_.OnError(FrameErrorMessage(*o.error));
    std::optional<challenge::Event> event = session_.OnFrame(FromStream(o));
    if (!session_.Finished() && session_.CurrentState() == challenge::State::Verifying) {
        // The fused evidence: the sampled frames and the completing frame itself.
        // No stream means no evidence at all: a spoof.
        event = session_.SetPassiveVerdict(!stream_ || stream_->JudgeSpoof(o));
    }
    return event;
}

std::optional<challenge::Event> ChallengeRun::Feed(const Frame& frame, double t,
                                                   StreamObservation* observation) {
    if (observation != nullptr) *observation = StreamObservation{};
    if (!session_.Started() || session_.Finished()) return std::nullopt;
    if (auto e = OnArrival()) return e;
    StreamObservation o = Analyze(frame, t, CurrentActionCheck());
    auto event = Judge(o);
    if (observation != nullptr) *observation = std::move(o);
    return event;
}

}  // namespace liveproof::active
