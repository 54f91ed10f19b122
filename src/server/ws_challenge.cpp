// System A's per-frame loop, fixed: bounded mailbox, timeouts on every message, passive evidence.
#include "server/ws_challenge.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "challenge/a_protocol.hpp"
#include "challenge/from_stream.hpp"
#include "media/base64.hpp"
#include "media/image_header.hpp"
#include "server/api/api_common.hpp"

namespace liveproof::server {

namespace {

double NowSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Degrees of slack when deciding that a frame could complete a challenge (the session judges
// the same frame; this covers rounding).
constexpr float kDecisiveSlackDeg = 1.0f;

StreamOptions StreamOptionsFrom(const ServerConfig& c, const challenge::ChallengeConfig& cc) {
    StreamOptions o;
    o.detect_max_side = c.ws_detect_max_side;
    o.eyes = cc.blink_enabled;
    o.passive_every = c.ws_passive_every;
    o.liveness_threshold = c.liveness_threshold;
    return o;
}

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
            FrameResult r{seq, self->AnalyseFrame(bytes)};
            self->post_([self, r = std::move(r)] { self->OnResult(r); });
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

StreamObservation ChallengeConnection::AnalyseFrame(const std::vector<std::uint8_t>& jpeg) {
    if (!stream_) {
        stream_ = std::make_unique<FaceStream>(*ctx_.engine,
                                               StreamOptionsFrom(ctx_.config, session_.Config()));
    }
    challenge::ActionCheck check;
    {
        std::lock_guard lock(action_check_mutex_);
        check = action_check_;
    }
    // Evidence on every frame that may complete a challenge: in WAITING_ACTION, a pose beyond
    // the action threshold, or any frame when BLINK is asked.
    StreamObservation o =
        stream_->Feed(jpeg, NowSeconds(), challenge::DecisiveFor(check, kDecisiveSlackDeg));
    if (o.error) {
        CountEngineError(ctx_, *o.error, "ws_frame");
    } else {
        ObserveStages(ctx_, o.timings_ms);
    }
    o.face.reset();  // A's messages need none of it; the copy to the strand stays small
    return o;
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
    const StreamObservation& o = r.observation;
    ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "processed"}});
    ctx_.metrics->Observe("liveproof_ws_frame_seconds", {}, o.ms / 1000.0);
    if (finished()) return;
    answering_ = r.seq;
    if (o.error) {
        return Emit(session_.OnError(o.error->code == ErrorCode::TimeBudgetExceeded
                                         ? "Frame took too long to analyse; send smaller frames"
                                         : std::string(challenge::kAErrorCouldNotDecode)));
    }
    Emit(session_.OnFrame(challenge::FromStream(o)));
    if (!finished() && session_.CurrentState() == challenge::State::Verifying) {
        // The fused evidence: the sampled frames and the completing frame itself.
        Emit(session_.SetPassiveVerdict(stream_->JudgeSpoof(o)));
    }
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
    std::lock_guard lock(action_check_mutex_);
    action_check_ = session_.CurrentActionCheck();
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
