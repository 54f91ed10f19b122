// ChallengeSession: A's per-frame algorithm with timeouts on every call, hysteresis, hold
// frames, a pitch baseline, counted-once wrong moves, BLINK and a passive-verdict gate.
#include "liveproof/challenge_session.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

namespace liveproof::challenge {
namespace {

// A's failure texts, kept byte for byte: clients may display them.
constexpr std::string_view kTimeoutText = "Vaqt tugadi! Qaytadan urinib ko'ring.";
constexpr std::string_view kWrongAttemptsText = "Juda ko'p noto'g'ri harakat!";

// A's order for naming a wrong direction.
constexpr std::array<Direction, 4> kPoseDirections = {Direction::Left, Direction::Right,
                                                      Direction::Up, Direction::Down};

// Draws beyond this many rejections fall back to a plain modulo: only a broken source gets
// there (for n <= 5 a CSPRNG is rejected with probability < 1e-9 per draw).
constexpr int kMaxRejections = 16;

std::string FailMessage(FailReason reason, std::optional<Direction> challenge) {
    switch (reason) {
        case FailReason::Timeout:
            return std::string(kTimeoutText);
        case FailReason::ChallengeTimeout: {
            // Built with append: GCC 12 at -O3 warns falsely (-Wrestrict) on "'" + std::string.
            std::string text = "'";
            text.append(challenge ? DirectionName(*challenge) : "CENTER");
            text.append("' uchun vaqt tugadi!");
            return text;
        }
        case FailReason::WrongAttempts:
            return std::string(kWrongAttemptsText);
        case FailReason::MultipleFaces:
            return "More than one face in view.";
        case FailReason::FaceChanged:
            return "The face changed during the session.";
        case FailReason::IdleTimeout:
            return "No message received in time.";
        case FailReason::SpoofDetected:
            return "Presentation attack detected.";
        case FailReason::TooFast:
            return "The challenge was answered faster than a person can.";
        case FailReason::InjectionSuspected:
            return "The frames do not come from one live camera.";
    }
    return "Failed.";
}

}  // namespace

std::string_view StateName(State state) {
    switch (state) {
        case State::WaitingCenter:
            return "WAITING_CENTER";
        case State::WaitingAction:
            return "WAITING_ACTION";
        case State::Verifying:
            return "VERIFYING";
        case State::Complete:
            return "COMPLETE";
        case State::Failed:
            return "FAILED";
    }
    return "FAILED";
}

std::string_view EventTypeName(EventType type) {
    switch (type) {
        case EventType::Start:
            return "start";
        case EventType::NoFace:
            return "no_face";
        case EventType::Waiting:
            return "waiting";
        case EventType::Challenge:
            return "challenge";
        case EventType::Success:
            return "success";
        case EventType::Complete:
            return "complete";
        case EventType::Failed:
            return "failed";
        case EventType::Error:
            return "error";
    }
    return "error";
}

std::string_view InstructionName(Instruction instruction) {
    switch (instruction) {
        case Instruction::Center:
            return "CENTER";
        case Instruction::Left:
            return "LEFT";
        case Instruction::Right:
            return "RIGHT";
        case Instruction::Up:
            return "UP";
        case Instruction::Down:
            return "DOWN";
        case Instruction::Blink:
            return "BLINK";
        case Instruction::Verified:
            return "VERIFIED";
    }
    return "CENTER";
}

std::string_view FailReasonName(FailReason reason) {
    switch (reason) {
        case FailReason::Timeout:
            return "timeout";
        case FailReason::ChallengeTimeout:
            return "challenge_timeout";
        case FailReason::WrongAttempts:
            return "wrong_attempts";
        case FailReason::MultipleFaces:
            return "multiple_faces";
        case FailReason::FaceChanged:
            return "face_changed";
        case FailReason::IdleTimeout:
            return "idle_timeout";
        case FailReason::SpoofDetected:
            return "spoof_detected";
        case FailReason::TooFast:
            return "too_fast";
        case FailReason::InjectionSuspected:
            return "injection_suspected";
    }
    return "timeout";
}

Instruction ToInstruction(Direction direction) {
    switch (direction) {
        case Direction::Left:
            return Instruction::Left;
        case Direction::Right:
            return Instruction::Right;
        case Direction::Up:
            return Instruction::Up;
        case Direction::Down:
            return Instruction::Down;
        case Direction::Blink:
            return Instruction::Blink;
    }
    return Instruction::Center;
}

Expected<ChallengeSession> ChallengeSession::Create(ChallengeConfig config, Clock clock,
                                                    Random random) {
    if (auto valid = config.Validate(); !valid) return Unexpected{valid.error()};
    if (!clock) return MakeError(ErrorCode::InvalidArgument, "challenge session needs a clock");
    if (!random) {
        return MakeError(ErrorCode::InvalidArgument, "challenge session needs a random source");
    }
    return ChallengeSession(std::move(config), std::move(clock), std::move(random));
}

ChallengeSession::ChallengeSession(ChallengeConfig config, Clock clock, Random random)
    : config_(std::move(config)), clock_(std::move(clock)), random_(std::move(random)) {}

std::optional<Event> ChallengeSession::Start() {
    if (started_) return std::nullopt;
    started_ = true;
    start_time_ = clock_();
    last_activity_ = start_time_;
    return MakeEvent(EventType::Start, std::nullopt);
}

std::optional<Event> ChallengeSession::OnTick() {
    if (!started_ || Finished()) return std::nullopt;
    return CheckTimeouts(clock_());
}

std::optional<Event> ChallengeSession::OnMessage() {
    if (!started_ || Finished()) return std::nullopt;
    const double now = clock_();
    if (auto failed = CheckTimeouts(now)) return failed;
    last_activity_ = now;
    return std::nullopt;
}

std::optional<Event> ChallengeSession::OnError(std::string message) {
    if (!started_ || Finished()) return std::nullopt;
    const double now = clock_();
    if (auto failed = CheckTimeouts(now)) return failed;
    last_activity_ = now;
    // Holds mean consecutive usable frames; an unusable message in between breaks them.
    ResetRuns();
    Event event = MakeEvent(EventType::Error, std::nullopt);
    event.message = std::move(message);
    return event;
}

std::optional<Event> ChallengeSession::SetPassiveVerdict(bool spoof) {
    if (!started_ || Finished()) return std::nullopt;
    if (spoof) {
        spoof_seen_ = true;
    } else {
        live_seen_ = true;
    }
    if (state_ != State::Verifying) return std::nullopt;
    if (auto failed = CheckTimeouts(clock_())) return failed;
    if (spoof_seen_) return Fail(FailReason::SpoofDetected);
    return Complete(final_pose_);
}

std::optional<Event> ChallengeSession::OnFrame(const Observation& observation) {
    if (!started_ || Finished()) return std::nullopt;
    const double now = clock_();
    if (auto failed = CheckTimeouts(now)) return failed;
    last_activity_ = now;
    if (state_ == State::Verifying) return std::nullopt;

    if (observation.face_count > 1) return Fail(FailReason::MultipleFaces);
    if (observation.track_jump) return Fail(FailReason::FaceChanged);
    // A pose that is not a number cannot be judged; treating it as no face keeps NaN out of
    // every comparison and out of the JSON.
    if (!observation.face || !std::isfinite(observation.yaw) || !std::isfinite(observation.pitch)) {
        ResetRuns();
        return MakeEvent(EventType::NoFace, std::nullopt);
    }
    if (state_ == State::WaitingCenter) return OnCenterFrame(observation, now);
    return OnActionFrame(observation);
}

std::optional<Event> ChallengeSession::CheckTimeouts(double now) {
    if (now - start_time_ > config_.session_timeout_s) return Fail(FailReason::Timeout);
    if (state_ == State::WaitingAction && now - challenge_start_ > config_.challenge_timeout_s) {
        return Fail(FailReason::ChallengeTimeout);
    }
    // In Verifying the client waits for us (stop-and-wait clients send nothing), so silence
    // there is not the client's fault; the session timeout still bounds it.
    if (state_ != State::Verifying && now - last_activity_ > config_.idle_timeout_s) {
        return Fail(FailReason::IdleTimeout);
    }
    return std::nullopt;
}

ChallengeSession::Pose ChallengeSession::Judge(const Observation& observation) const {
    Pose pose;
    pose.yaw = config_.mirrored ? -observation.yaw : observation.yaw;
    pose.pitch = baseline_ ? observation.pitch - *baseline_ : observation.pitch;
    return pose;
}

Event ChallengeSession::OnCenterFrame(const Observation& observation, double now) {
    Pose pose = Judge(observation);
    const float margin = centred_latched_ ? config_.center_exit_margin : 0.0f;
    const bool centred = std::fabs(pose.yaw) < config_.center_yaw + margin &&
                         std::fabs(pose.pitch) < config_.center_pitch + margin;
    if (!centred) {
        ResetRuns();
        return MakeEvent(EventType::Waiting, pose);
    }
    centred_latched_ = true;
    ++center_run_;
    center_pitch_sum_ += observation.pitch;
    if (center_run_ < config_.center_hold_frames) return MakeEvent(EventType::Waiting, pose);

    if (!baseline_) {
        baseline_ = static_cast<float>(center_pitch_sum_ / center_run_);
        pose.pitch = observation.pitch - *baseline_;
    }
    const Direction next = Draw();
    challenge_ = next;
    issued_.push_back(next);
    timings_.push_back({next, now - start_time_, std::nullopt, 0});
    challenge_start_ = now;
    wrong_attempts_ = 0;
    wrong_excursion_ = false;
    blink_seen_open_ = false;
    blink_closed_ = false;
    blink_closed_frames_ = 0;
    ResetRuns();
    state_ = State::WaitingAction;
    return MakeEvent(EventType::Challenge, pose);
}

std::optional<Event> ChallengeSession::OnActionFrame(const Observation& observation) {
    const Pose pose = Judge(observation);
    const Direction asked = *challenge_;
    bool meets_asked = false;
    bool passed = false;
    if (asked == Direction::Blink) {
        passed = UpdateBlink(observation.eyes_closed);
    } else {
        meets_asked =
            PoseBeyond(asked, pose.yaw, pose.pitch, config_.action_yaw, config_.action_pitch);
        action_run_ = meets_asked ? action_run_ + 1 : 0;
        if (InTransition(asked, pose)) ++timings_.back().transition_frames;
        passed = action_run_ >= config_.action_hold_frames;
    }
    // Success is checked before wrong moves, as in A: overshooting on the other axis while
    // meeting the asked one is not a mistake.
    if (passed) return Succeed(pose);

    std::optional<Direction> other;
    for (const Direction d : kPoseDirections) {
        if (d != asked &&
            PoseBeyond(d, pose.yaw, pose.pitch, config_.action_yaw, config_.action_pitch)) {
            other = d;
            break;
        }
    }
    if (!other) wrong_excursion_ = false;
    Event event = MakeEvent(EventType::Waiting, pose);
    if (!other || meets_asked) return event;

    event.wrong_direction = other;
    if (!wrong_excursion_) {
        wrong_excursion_ = true;
        ++wrong_attempts_;
        if (wrong_attempts_ >= config_.max_wrong_attempts) return Fail(FailReason::WrongAttempts);
        event.wrong_attempts = wrong_attempts_;
    }
    return event;
}

bool ChallengeSession::InTransition(Direction asked, Pose pose) const {
    // Beyond 30% of the threshold but not beyond it: on the way, neither at rest nor there.
    constexpr float kRestShare = 0.3f;
    const bool sideways = asked == Direction::Left || asked == Direction::Right;
    const float threshold = sideways ? config_.action_yaw : config_.action_pitch;
    return PoseBeyond(asked, pose.yaw, pose.pitch, config_.action_yaw, config_.action_pitch,
                      (1 - kRestShare) * threshold) &&
           !PoseBeyond(asked, pose.yaw, pose.pitch, config_.action_yaw, config_.action_pitch);
}

std::optional<Event> ChallengeSession::Succeed(Pose pose) {
    ChallengeTiming& timing = timings_.back();
    timing.passed_at = clock_() - start_time_;
    if (*timing.passed_at - timing.issued_at < config_.min_action_s) {
        return Fail(FailReason::TooFast);
    }
    if (timing.direction != Direction::Blink &&
        timing.transition_frames < config_.min_transition_frames) {
        return Fail(FailReason::InjectionSuspected);
    }
    ++success_;
    ResetRuns();
    if (success_ >= config_.required_successes) {
        final_pose_ = pose;
        if (spoof_seen_) return Fail(FailReason::SpoofDetected);
        if (config_.require_passive_verdict && !live_seen_) {
            state_ = State::Verifying;
            return std::nullopt;
        }
        return Complete(pose);
    }
    state_ = State::WaitingCenter;
    return MakeEvent(EventType::Success, pose);
}

bool PoseBeyond(Direction direction, float yaw, float pitch, float action_yaw, float action_pitch,
                float slack_deg) {
    switch (direction) {
        case Direction::Left:
            return yaw < -(action_yaw - slack_deg);
        case Direction::Right:
            return yaw > action_yaw - slack_deg;
        case Direction::Up:
            return pitch < -(action_pitch - slack_deg);
        case Direction::Down:
            return pitch > action_pitch - slack_deg;
        case Direction::Blink:
            return false;
    }
    return false;
}

bool ActionCheck::MayComplete(std::optional<std::pair<float, float>> raw_yaw_pitch,
                              float slack_deg) const {
    if (!awaited) return false;
    if (*awaited == Direction::Blink) return true;
    if (!raw_yaw_pitch) return false;
    const float yaw = mirrored ? -raw_yaw_pitch->first : raw_yaw_pitch->first;
    const float pitch = raw_yaw_pitch->second - pitch_baseline;
    return PoseBeyond(*awaited, yaw, pitch, action_yaw, action_pitch, slack_deg);
}

ActionCheck ChallengeSession::CurrentActionCheck() const {
    ActionCheck c;
    if (state_ == State::WaitingAction) c.awaited = challenge_;
    c.pitch_baseline = baseline_.value_or(0.0f);
    c.mirrored = config_.mirrored;
    c.action_yaw = config_.action_yaw;
    c.action_pitch = config_.action_pitch;
    return c;
}

bool ChallengeSession::UpdateBlink(std::optional<float> eyes_closed) {
    if (!eyes_closed || !std::isfinite(*eyes_closed)) return false;
    const float score = *eyes_closed;
    if (!blink_closed_) {
        if (score < config_.blink_open_threshold) {
            blink_seen_open_ = true;
        } else if (score > config_.blink_close_threshold && blink_seen_open_) {
            blink_closed_ = true;
            blink_closed_frames_ = 1;
        }
        return false;
    }
    if (score < config_.blink_open_threshold) {
        blink_closed_ = false;
        return blink_closed_frames_ <= config_.blink_max_closed_frames;
    }
    ++blink_closed_frames_;
    return false;
}

Direction ChallengeSession::Draw() {
    std::vector<Direction> pool;
    for (const Direction d : config_.allowed) {
        if (config_.allowed.size() > 1 && challenge_ && d == *challenge_) continue;
        pool.push_back(d);
    }
    const auto n = static_cast<std::uint64_t>(pool.size());
    const std::uint64_t bound = ((std::uint64_t{1} << 32) / n) * n;
    std::uint64_t r = random_();
    for (int i = 0; i < kMaxRejections && r >= bound; ++i) r = random_();
    return pool[static_cast<std::size_t>(r % n)];
}

void ChallengeSession::ResetRuns() {
    centred_latched_ = false;
    center_run_ = 0;
    center_pitch_sum_ = 0;
    action_run_ = 0;
}

std::optional<Event> ChallengeSession::Reject(FailReason reason) {
    if (!started_ || Finished()) return std::nullopt;
    return Fail(reason);
}

Event ChallengeSession::Fail(FailReason reason) {
    // The instruction is the one in force when it failed (the challenge that timed out).
    Event event = MakeEvent(EventType::Failed, std::nullopt);
    state_ = State::Failed;
    failure_ = reason;
    event.state = state_;
    event.reason = reason;
    event.message = FailMessage(reason, challenge_);
    return event;
}

Event ChallengeSession::Complete(Pose pose) {
    state_ = State::Complete;
    Event event = MakeEvent(EventType::Complete, pose);
    event.live = true;
    return event;
}

Event ChallengeSession::MakeEvent(EventType type, std::optional<Pose> pose) const {
    Event event;
    event.type = type;
    event.state = state_;
    switch (state_) {
        case State::WaitingCenter:
            event.instruction = Instruction::Center;
            break;
        case State::WaitingAction:
            event.instruction = ToInstruction(*challenge_);
            break;
        case State::Verifying:
        case State::Complete:
            event.instruction = Instruction::Verified;
            break;
        case State::Failed:
            event.instruction = challenge_ ? ToInstruction(*challenge_) : Instruction::Center;
            break;
    }
    event.success = success_;
    event.total = config_.required_successes;
    event.wrong_attempts = wrong_attempts_;
    if (pose) {
        event.yaw = pose->yaw;
        event.pitch = pose->pitch;
    }
    return event;
}

}  // namespace liveproof::challenge
