// System A's per-frame loop, fixed: bounded mailbox, timeouts on every message, passive evidence.
#include "server/ws_challenge.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "challenge/a_protocol.hpp"
#include "media/base64.hpp"
#include "media/image_header.hpp"

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
// load) the face may have moved far from the hint, and a crop in the wrong place reads badly.
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
    if (auto e = session_.OnMessage()) return Emit(e);
    Emit(session_.OnError("Binary messages are not accepted; send {\"frame\": \"<base64 JPEG>\"}"));
}

void ChallengeConnection::OnText(const std::string& message) {
    if (finished()) return;
    // The idle and session clocks are judged at arrival, whatever happens to the frame.
    if (auto e = session_.OnMessage()) return Emit(e);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(message);
    } catch (const nlohmann::json::exception&) {
        return Emit(session_.OnError("Invalid JSON"));
    }
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
    if (in_flight_) {
        // Latest frame wins: a frame still waiting is stale once a newer one arrives.
        if (pending_) ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "dropped"}});
        pending_ = std::move(*bytes);
        return;
    }
    Submit(std::move(*bytes));
}

void ChallengeConnection::OnTick() {
    if (finished()) return;
    Emit(session_.OnTick());
}

void ChallengeConnection::OnClosed() {
    closed_ = true;
    pending_.reset();
    if (!counted_end_ && !session_.Finished()) {
        counted_end_ = true;
        ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "abandoned"}});
    }
}

void ChallengeConnection::Submit(std::vector<std::uint8_t> jpeg) {
    in_flight_ = true;
    ++frames_seen_;
    AnalyzeOptions what = AnalyzeOptions::PassiveOnly();
    what.pose = true;
    what.max_faces = 3;  // enough to see "more than one"
    if (hint_ && since_detect_ < kRedetectEvery - 1 && NowSeconds() - last_time_ < kTrackMaxGapS) {
        what.track = *hint_;
        ++since_detect_;
    } else {
        since_detect_ = 0;
    }
    what.eyes = session_.Config().blink_enabled;
    // Evidence on sampled frames and on every frame that may complete a challenge.
    what.antispoof = session_.CurrentState() == challenge::State::WaitingAction ||
                     (frames_seen_ - 1) % ctx_.config.ws_passive_every == 0;
    auto self = shared_from_this();
    ServerContext& ctx = ctx_;
    const bool queued = ctx_.workers->TrySubmit([self, &ctx, what, bytes = std::move(jpeg)] {
        const auto start = std::chrono::steady_clock::now();
        FrameResult r;
        auto a = ctx.engine->Analyze(bytes, what);
        if (!a) {
            r.error = std::string(challenge::kAErrorCouldNotDecode);
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
            ObserveStages(ctx, a->timings_ms);
        }
        r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                   .count();
        self->post_([self, r] { self->OnResult(r); });
    });
    if (!queued) {
        in_flight_ = false;
        ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "busy"}});
        send_(R"({"type":"busy","message":"Server busy: frame dropped, keep sending"})", false);
    }
}

void ChallengeConnection::OnResult(const FrameResult& r) {
    in_flight_ = false;
    ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "processed"}});
    ctx_.metrics->Observe("liveproof_ws_frame_seconds", {}, r.ms / 1000.0);
    if (finished()) return;
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
            if (last_centre_) {
                const float d = std::hypot(r.cx - last_centre_->first, r.cy - last_centre_->second);
                // A turning head shrinks its eye distance: judge against the larger of the two.
                const float eye = std::max({r.eye_dist, last_eye_dist_, 1.0f});
                const auto gap = static_cast<float>((now - last_time_) / kTrackJumpWindowS);
                obs.track_jump =
                    d > kTrackJumpEyeDistances * eye * std::clamp(gap, 1.0f, kTrackJumpMaxScale);
            }
            last_centre_ = std::make_pair(r.cx, r.cy);
            last_eye_dist_ = r.eye_dist;
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
    if (!finished() && pending_) {
        auto next = std::move(*pending_);
        pending_.reset();
        Submit(std::move(next));
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
    const bool last = session_.Finished();
    send_(challenge::ToAText(*event), last);
    if (last) Finish(*event);
}

void ChallengeConnection::Finish(const challenge::Event& event) {
    if (counted_end_) return;
    counted_end_ = true;
    pending_.reset();
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
