// System A's per-frame loop, fixed: bounded mailbox, timeouts on every message, passive evidence.
#include "server/ws_challenge.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "challenge/a_protocol.hpp"
#include "media/base64.hpp"
#include "media/image_header.hpp"
#include "server/api/api_common.hpp"

namespace liveproof::server {

namespace {

double NowSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A face centre moving more than this many eye distances per kTrackJumpWindowS between analysed
// frames is treated as a different face (a swap in front of the camera), not as head movement.
// The allowance grows with the time between analysed frames (dropped frames under load, slow
// clients: a real head turn moves the box ~75 px in 0.6 s), up to kTrackJumpMaxScale times.
constexpr float kTrackJumpEyeDistances = 1.5f;
constexpr double kTrackJumpWindowS = 0.25;
constexpr float kTrackJumpMaxScale = 3.0f;
// Between detections the face is tracked from the previous frame's landmarks (the detector is
// a third of a frame's cost); every kRedetectEvery-th frame detects again, which is when a second
// face or a swapped face would be seen.
constexpr int kRedetectEvery = 5;
// Tracking follows only a recent frame: after a longer gap (a slow client, frames dropped under
// load) the head may have turned far from the hint, and the mesh on the old crop under-reads the
// turn. Measured on the head-turn clip with 0.2 s gaps: mean |yaw| difference to a fresh detection
// 1.6 deg, but up to 25 deg on the fastest turn; a crop moved with the landmark centroid did not
// help (it follows translation, not rotation: 2.2 deg mean). (The engine also detects again when
// the tracked face has left its crop.)
constexpr double kTrackMaxGapS = 0.35;

}  // namespace

Expected<challenge::ChallengeConfig> ChallengeConfigFrom(const ServerConfig& c, bool mirrored) {
    challenge::ChallengeConfig cc;
    cc.required_successes = c.required_successes;
    cc.challenge_timeout_s = c.challenge_timeout;
    cc.session_timeout_s = c.session_timeout;
    cc.idle_timeout_s = c.ws_idle_timeout;
    cc.max_wrong_attempts = c.max_wrong_attempts;
    cc.center_yaw = c.center_yaw;
    cc.center_pitch = c.center_pitch;
    cc.action_yaw = c.action_yaw;
    cc.action_pitch = c.action_pitch;
    cc.action_hold_frames = c.action_hold_frames;
    auto allowed = challenge::ParseChallengeList(c.challenges);
    if (!allowed) return Unexpected{allowed.error()};
    cc.allowed = *allowed;
    cc.blink_enabled = std::find(cc.allowed.begin(), cc.allowed.end(),
                                 challenge::Direction::Blink) != cc.allowed.end();
    cc.mirrored = mirrored;
    // The session never says "complete" before the passive evidence has been judged.
    cc.require_passive_verdict = true;
    if (auto v = cc.Validate(); !v) return Unexpected{v.error()};
    return cc;
}

Expected<std::shared_ptr<ChallengeConnection>> ChallengeConnection::Create(ServerContext& ctx,
                                                                           bool mirrored, Send send,
                                                                           Post post) {
    auto config = ChallengeConfigFrom(ctx.config, mirrored);
    if (!config) return Unexpected{config.error()};
    auto session = challenge::ChallengeSession::Create(*config, &NowSeconds,
                                                       [] { return randombytes_random(); });
    if (!session) return Unexpected{session.error()};
    return std::shared_ptr<ChallengeConnection>(
        new ChallengeConnection(ctx, std::move(*session), std::move(send), std::move(post)));
}

void ChallengeConnection::Start() {
    ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "started"}});
    Emit(session_.Start());
}

void ChallengeConnection::OnBinary() {
    if (finished()) return;
    answering_ = ++messages_;
    if (auto e = session_.OnMessage()) return Emit(e);
    Emit(session_.OnError("Binary messages are not accepted; send {\"frame\": \"<base64 JPEG>\"}"));
}

void ChallengeConnection::OnText(const std::string& message) {
    if (finished()) return;
    answering_ = ++messages_;
    // The idle and session clocks are judged at arrival, whatever happens to the frame.
    if (auto e = session_.OnMessage()) return Emit(e);
    auto parsed = ParseJson(message);
    if (!parsed) return Emit(session_.OnError("Invalid JSON"));
    const nlohmann::json& j = *parsed;
    if (!j.is_object() || !j.contains("frame"))
        return Emit(session_.OnError(std::string(challenge::kAErrorFrameRequired)));
    if (!j["frame"].is_string())
        return Emit(session_.OnError(std::string(challenge::kAErrorInvalidImageData)));
    auto bytes = media::DecodeBase64(j["frame"].get_ref<const std::string&>(),
                                     static_cast<std::size_t>(ctx_.config.ws_max_message_bytes));
    if (!bytes) return Emit(session_.OnError(std::string(challenge::kAErrorInvalidImageData)));
    auto header = media::ReadImageHeader(*bytes);
    if (!header) return Emit(session_.OnError(std::string(challenge::kAErrorCouldNotDecode)));
    if (std::int64_t{header->width} * header->height > ctx_.config.ws_max_frame_pixels) {
        return Emit(session_.OnError("Frame too large: " + std::to_string(header->width) + "x" +
                                     std::to_string(header->height) + " pixels, the cap is " +
                                     std::to_string(ctx_.config.ws_max_frame_pixels)));
    }
    Submit(messages_, std::move(*bytes));
}

void ChallengeConnection::OnTick() {
    if (finished()) return;
    answering_.reset();
    Emit(session_.OnTick());
}

void ChallengeConnection::OnClosed() {
    closed_ = true;
    ctx_.workers->Forget(this);
    if (!counted_end_ && !session_.Finished()) {
        counted_end_ = true;
        ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "abandoned"}});
    }
}

void ChallengeConnection::Submit(std::uint64_t seq, std::vector<std::uint8_t> jpeg) {
    // Latest frame wins: a frame still waiting when a newer one arrives is stale and dropped.
    auto self = shared_from_this();
    const bool dropped = ctx_.workers->OfferLatest(this, [self, seq, bytes = std::move(jpeg)] {
        try {
            FrameResult r = self->AnalyseFrame(bytes);
            r.seq = seq;
            self->post_([self, r] { self->OnResult(r); });
        } catch (...) {
            // A bug, not a client mistake: rethrown on the connection's strand, where the
            // transport's last-resort guard counts it and closes the session with 1011.
            self->post_([self, e = std::current_exception()] {
                self->ctx_.workers->Release(self.get());
                std::rethrow_exception(e);
            });
        }
    });
    if (dropped) ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "dropped"}});
}

ChallengeConnection::FrameResult ChallengeConnection::AnalyseFrame(
    const std::vector<std::uint8_t>& jpeg) {
    ++frames_seen_;
    AnalyzeOptions what = AnalyzeOptions::PassiveOnly();
    what.pose = true;
    what.max_faces = 3;  // enough to see "more than one"
    what.detect_max_side = ctx_.config.ws_detect_max_side;
    if (hint_ && since_detect_ < kRedetectEvery - 1 && NowSeconds() - last_time_ < kTrackMaxGapS) {
        what.track = *hint_;
        ++since_detect_;
    } else {
        since_detect_ = 0;
    }
    const challenge::ChallengeConfig& cc = session_.Config();
    what.eyes = cc.blink_enabled;
    // Evidence on sampled frames and on every frame that may complete a challenge: in
    // WAITING_ACTION, a pose beyond an action threshold (either side: mirroring), or any frame
    // when BLINK is on. The session judges this same frame, so the test is exact up to rounding.
    what.antispoof = true;
    const bool sampled = (frames_seen_ - 1) % ctx_.config.ws_passive_every == 0;
    if (!sampled) {
        const int awaited = awaited_action_.load();
        const float baseline = pitch_baseline_.load();
        what.antispoof_if = [awaited, baseline, &cc](const FaceResult& f) {
            if (awaited < 0) return false;
            const auto action = static_cast<challenge::Direction>(awaited);
            if (action == challenge::Direction::Blink) return true;
            if (!f.pose) return false;
            // The session's own reading of this frame (mirroring undone, pitch vs baseline),
            // with a degree of slack for rounding.
            constexpr float kMarginDeg = 1.0f;
            const float yaw = cc.mirrored ? -f.pose->yaw : f.pose->yaw;
            const float pitch = f.pose->pitch - baseline;
            switch (action) {
                case challenge::Direction::Left:
                    return yaw <= -(cc.action_yaw - kMarginDeg);
                case challenge::Direction::Right:
                    return yaw >= cc.action_yaw - kMarginDeg;
                case challenge::Direction::Up:
                    return pitch <= -(cc.action_pitch - kMarginDeg);
                case challenge::Direction::Down:
                    return pitch >= cc.action_pitch - kMarginDeg;
                case challenge::Direction::Blink:
                    return true;
            }
            return true;
        };
    }
    const auto start = std::chrono::steady_clock::now();
    FrameResult r;
    auto a = ctx_.engine->Analyze(jpeg, what);
    if (a && what.track && a->detector != "track") since_detect_ = 0;  // the face left its crop
    if (!a) {
        CountEngineError(ctx_, a.error(), "ws_frame");
        r.error = a.error().code == ErrorCode::TimeBudgetExceeded
                      ? "Frame took too long to analyse; send smaller frames"
                      : std::string(challenge::kAErrorCouldNotDecode);
    } else {
        r.ok = true;
        r.face_count = static_cast<int>(a->faces.size());
        if (!a->faces.empty()) {
            const FaceResult& f = a->faces[0];
            if (f.pose) {
                r.yaw = f.pose->yaw;
                r.pitch = f.pose->pitch;
            }
            r.cx = (f.x1 + f.x2) / 2;
            r.cy = (f.y1 + f.y2) / 2;
            r.eye_dist = f.eye_dist;
            if (f.eye_image_left && f.eye_image_right) {
                r.eyes_closed = (f.eye_image_left->closed + f.eye_image_right->closed) / 2;
            }
            if (f.antispoof) r.p_real = f.antispoof->p_real;
            r.tracked = a->detector == "track";
            r.box_w = f.x2 - f.x1;
            r.box_h = f.y2 - f.y1;
            if (f.landmark_68.size() == 68) {
                r.has_landmarks = true;
                for (const Point2& p : f.landmark_68) {
                    r.lm_x += p.x / 68.f;
                    r.lm_y += p.y / 68.f;
                }
                // iBUG 36-41: image-left eye (subject's right); 42-47: image-right eye.
                for (int i = 0; i < 6; ++i) {
                    r.right_eye.x += f.landmark_68[36 + i].x / 6.f;
                    r.right_eye.y += f.landmark_68[36 + i].y / 6.f;
                    r.left_eye.x += f.landmark_68[42 + i].x / 6.f;
                    r.left_eye.y += f.landmark_68[42 + i].y / 6.f;
                }
            }
        }
        ObserveStages(ctx_, a->timings_ms);
    }
    r.ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return r;
}

void ChallengeConnection::OnResult(const FrameResult& r) {
    // The next frame may run once this result is applied (tracking, state): see the end.
    struct ReleaseAtEnd {
        ChallengeConnection* c;
        ~ReleaseAtEnd() {
            c->PublishState();
            c->ctx_.workers->Release(c);
        }
    } release{this};
    ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "processed"}});
    ctx_.metrics->Observe("liveproof_ws_frame_seconds", {}, r.ms / 1000.0);
    if (finished()) return;
    answering_ = r.seq;
    if (!r.ok) {
        Emit(session_.OnError(r.error));
    } else {
        challenge::Observation obs;
        obs.face = r.face_count >= 1;
        obs.face_count = r.face_count;
        obs.yaw = r.yaw;
        obs.pitch = r.pitch;
        obs.eyes_closed = r.eyes_closed;
        if (obs.face && r.face_count == 1) {
            const double now = NowSeconds();
            // Judged between detected frames only: a tracked box follows the previous landmarks
            // (it cannot show a swap), and on a fast turn it can drift; the next detection then
            // puts the box back, which read as a jump (3 of 71 sessions of the head-turn clip at
            // 7 fps failed as face_changed). A face that leaves the tracked crop is detected at
            // once (the engine falls back), so a swap still meets this check.
            if (!r.tracked) {
                if (last_centre_) {
                    const float d =
                        std::hypot(r.cx - last_centre_->first, r.cy - last_centre_->second);
                    // A turning head shrinks its eye distance: judge against the larger one.
                    const float eye = std::max({r.eye_dist, last_eye_dist_, 1.0f});
                    const auto gap =
                        static_cast<float>((now - last_detect_time_) / kTrackJumpWindowS);
                    obs.track_jump = d > kTrackJumpEyeDistances * eye *
                                             std::clamp(gap, 1.0f, kTrackJumpMaxScale);
                }
                last_centre_ = std::make_pair(r.cx, r.cy);
                last_eye_dist_ = r.eye_dist;
                last_detect_time_ = now;
            }
            last_time_ = now;
        }
        if (r.p_real) {
            p_real_sum_ += *r.p_real;
            ++p_real_count_;
        }
        UpdateTrack(r);
        Emit(session_.OnFrame(obs));
        if (!finished() && session_.CurrentState() == challenge::State::Verifying) {
            // Fused evidence: the mean over sampled frames and the completing frame itself.
            const float threshold = ctx_.config.liveness_threshold;
            const bool spoof = p_real_count_ == 0 ||
                               p_real_sum_ / static_cast<float>(p_real_count_) < threshold ||
                               !r.p_real || *r.p_real < threshold;
            Emit(session_.SetPassiveVerdict(spoof));
        }
    }
}

void ChallengeConnection::UpdateTrack(const FrameResult& r) {
    if (!r.ok || r.face_count != 1 || !r.has_landmarks) {
        hint_.reset();  // lost or ambiguous: detect on the next frame
        return;
    }
    if (!r.tracked) {
        // Anchor: where the detector puts its box relative to the landmarks, and its size.
        box_dx_ = (r.cx - r.lm_x);
        box_dy_ = (r.cy - r.lm_y);
        box_w_ = r.box_w;
        box_h_ = r.box_h;
    }
    TrackHint h;
    h.x = r.lm_x + box_dx_ - box_w_ / 2;
    h.y = r.lm_y + box_dy_ - box_h_ / 2;
    h.w = box_w_;
    h.h = box_h_;
    h.right_eye = r.right_eye;
    h.left_eye = r.left_eye;
    hint_ = h;
}

void ChallengeConnection::Emit(const std::optional<challenge::Event>& event) {
    if (!event || closed_) return;
    PublishState();
    const bool last = session_.Finished();
    nlohmann::ordered_json j = challenge::ToAJson(*event);
    if (answering_) j["frame_seq"] = *answering_;
    send_(ToJsonText(j), last);
    if (last) Finish(*event);
}

void ChallengeConnection::PublishState() {
    const auto challenge = session_.CurrentChallenge();
    awaited_action_.store(session_.CurrentState() == challenge::State::WaitingAction && challenge
                              ? static_cast<int>(*challenge)
                              : -1);
    pitch_baseline_.store(session_.PitchBaseline().value_or(0.0f));
}

void ChallengeConnection::Finish(const challenge::Event& event) {
    if (counted_end_) return;
    counted_end_ = true;
    ctx_.workers->Forget(this);
    if (event.type == challenge::EventType::Complete) {
        ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "completed"}});
    } else {
        const std::string reason = event.reason
                                       ? std::string(challenge::FailReasonName(*event.reason))
                                       : std::string("unknown");
        ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "failed"}, {"reason", reason}});
    }
}

}  // namespace liveproof::server
