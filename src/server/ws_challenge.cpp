// System A's per-frame loop, fixed: bounded mailbox, timeouts on every message, passive evidence.
#include "server/ws_challenge.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "challenge/a_protocol.hpp"
#include "media/base64.hpp"
#include "media/image_header.hpp"
#include "server/api/api_common.hpp"

namespace liveproof::server {

Expected<std::shared_ptr<ChallengeConnection>> ChallengeConnection::Create(
    ServerContext& ctx, bool mirrored, Send send, Post post, std::optional<SessionRun> session) {
    challenge::ChallengeConfig config =
        session && ctx.sessions ? ctx.sessions->ChallengeFor(*session) : ctx.config.challenge;
    config.mirrored = mirrored;
    auto run =
        active::ChallengeRun::Create(ctx.engine, std::move(config), ctx.config.stream,
                                     &ChallengeClockSeconds, [] { return randombytes_random(); });
    if (!run) return Unexpected{run.error()};
    return std::shared_ptr<ChallengeConnection>(new ChallengeConnection(
        ctx, std::move(*run), std::move(send), std::move(post), std::move(session)));
}

RunOutcome ChallengeConnection::Abandoned() {
    RunOutcome o;
    o.decision = "failed";
    o.reason = "abandoned";
    return o;
}

void ChallengeConnection::Start() {
    ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "started"}});
    Emit(run_.Start());
}

void ChallengeConnection::OnBinary() {
    if (finished()) return;
    answering_ = ++messages_;
    if (auto e = run_.OnArrival()) return Emit(e);
    Emit(
        run_.OnBadMessage("Binary messages are not accepted; send {\"frame\": \"<base64 JPEG>\"}"));
}

void ChallengeConnection::OnText(const std::string& message) {
    if (finished()) return;
    answering_ = ++messages_;
    // The idle and session clocks are judged at arrival, whatever happens to the frame.
    if (auto e = run_.OnArrival()) return Emit(e);
    auto parsed = ParseJson(message);
    if (!parsed) return Emit(run_.OnBadMessage("Invalid JSON"));
    const nlohmann::json& j = *parsed;
    if (!j.is_object() || !j.contains("frame"))
        return Emit(run_.OnBadMessage(std::string(challenge::kAErrorFrameRequired)));
    if (!j["frame"].is_string())
        return Emit(run_.OnBadMessage(std::string(challenge::kAErrorInvalidImageData)));
    auto bytes = media::DecodeBase64(j["frame"].get_ref<const std::string&>(),
                                     static_cast<std::size_t>(ctx_.config.ws_max_message_bytes));
    if (!bytes) return Emit(run_.OnBadMessage(std::string(challenge::kAErrorInvalidImageData)));
    auto header = media::ReadImageHeader(*bytes);
    if (!header) return Emit(run_.OnBadMessage(std::string(challenge::kAErrorCouldNotDecode)));
    if (std::int64_t{header->width} * header->height > ctx_.config.ws_max_frame_pixels) {
        return Emit(run_.OnBadMessage("Frame too large: " + std::to_string(header->width) + "x" +
                                      std::to_string(header->height) + " pixels, the cap is " +
                                      std::to_string(ctx_.config.ws_max_frame_pixels)));
    }
    if (const auto reason =
            signals_.OnFrame(ChallengeClockSeconds(), *bytes, header->width, header->height)) {
        return Emit(run_.Reject(*reason));
    }
    Submit(messages_, std::move(*bytes));
}

void ChallengeConnection::OnTick() {
    if (finished()) return;
    answering_.reset();
    Emit(run_.OnTick());
}

void ChallengeConnection::OnClosed() {
    closed_ = true;
    ctx_.workers->Forget(this);
    if (session_ && !recorded_ && ctx_.sessions) {
        recorded_ = true;
        // On a store thread (inline when its queue is full: the end must not be lost).
        auto self = shared_from_this();
        auto record = [self] {
            (void)self->ctx_.sessions->FinishRun(*self->session_, Abandoned());
        };
        if (!PostToStore(ctx_, record)) record();
    }
    if (!counted_end_ && !run_.session().Finished()) {
        counted_end_ = true;
        ctx_.metrics->Inc("liveproof_ws_sessions_total", {{"event", "abandoned"}});
    }
}

void ChallengeConnection::Submit(std::uint64_t seq, std::vector<std::uint8_t> jpeg) {
    // Latest frame wins: a frame still waiting when a newer one arrives is stale and dropped.
    auto self = shared_from_this();
    const bool dropped = ctx_.workers->OfferLatest(this, [self, seq, bytes = std::move(jpeg)] {
        try {
            FrameResult r = self->AnalyzeFrame(seq, bytes);
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

ChallengeConnection::FrameResult ChallengeConnection::AnalyzeFrame(std::uint64_t seq,
                                                                   std::vector<std::uint8_t> jpeg) {
    challenge::ActionCheck check;
    {
        std::lock_guard lock(action_check_mutex_);
        check = action_check_;
    }
    StreamObservation o =
        run_.Analyze(active::Frame::Encoded(jpeg), ChallengeClockSeconds(), check);
    if (o.error) {
        CountEngineError(ctx_, *o.error, "ws_frame");
    } else {
        ObserveStages(ctx_, o.timings_ms);
    }
    FrameResult r;
    r.seq = seq;
    r.digest = active::ReplaySignals::Digest(jpeg);
    if (o.face) r.box = {o.face->x1, o.face->y1, o.face->x2, o.face->y2};
    o.face.reset();  // A's messages need none of it; the copy to the strand stays small
    r.observation = std::move(o);
    // Only a session's run keeps frames (its audit images).
    if (session_) r.bytes = std::move(jpeg);
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
    const StreamObservation& o = r.observation;
    ctx_.metrics->Inc("liveproof_ws_frames_total", {{"outcome", "processed"}});
    ctx_.metrics->Observe("liveproof_ws_frame_seconds", {}, o.ms / 1000.0);
    if (finished()) return;
    ++frames_analysed_;
    answering_ = r.seq;
    // What the decoded picture says about its source comes before what its face says.
    if (const auto reason = signals_.OnDecoded(r.digest, o.fingerprint)) {
        return Emit(run_.Reject(*reason));
    }
    const auto event = run_.Judge(o);
    if (event) KeepImages(r, *event);
    Emit(event);
}

void ChallengeConnection::KeepImages(const FrameResult& r, const challenge::Event& event) {
    if (session_) KeepSessionImage(session_->settings, event, r.bytes, r.box, images_);
}

void ChallengeConnection::Emit(const std::optional<challenge::Event>& event) {
    if (!event || closed_) return;
    PublishState();
    const bool last = run_.session().Finished();
    nlohmann::ordered_json j = challenge::ToAJson(*event);
    if (answering_) j["frame_seq"] = *answering_;
    if (last && session_ && ctx_.sessions && !recorded_) return RecordEndThenSend(*event, j);
    send_(ToJsonText(j), last);
    if (last) Finish(*event);
}

void ChallengeConnection::RecordEndThenSend(const challenge::Event& event,
                                            nlohmann::ordered_json last) {
    RunOutcome o = ChallengeOutcome(event, run_, signals_, frames_analysed_);
    o.images = std::move(images_);
    images_.clear();
    recorded_ = true;
    Finish(event);  // the run is over: counted, and nothing more of it reaches the workers
    // Stored before it is said (a verdict the client sees is always in the store), on a store
    // thread: the commit waits on the disk. The message goes out from the strand after it.
    auto self = shared_from_this();
    auto outcome = std::make_shared<RunOutcome>(std::move(o));
    auto message = std::make_shared<nlohmann::ordered_json>(std::move(last));
    auto record = [self, outcome, message] {
        auto verdict = self->ctx_.sessions->FinishRun(*self->session_, std::move(*outcome));
        if (!verdict) {
            *message = {
                {"type", "failed"},
                {"reason", "not_recorded"},
                {"message", "The session could not be recorded: " + verdict.error().detail}};
        } else if (!self->session_->anonymous) {
            // The anonymous /ws door keeps system A's exact messages; its run is recorded all
            // the same (GET /v1/sessions lists it).
            (*message)["session_id"] = self->session_->record.id;
            (*message)["verdict"] = *verdict;
        }
        self->post_([self, message] {
            if (!self->closed_) self->send_(ToJsonText(*message), true);
        });
    };
    if (!PostToStore(ctx_, record)) record();  // a full queue: inline, the end must not be lost
}

void ChallengeConnection::PublishState() {
    std::lock_guard lock(action_check_mutex_);
    action_check_ = run_.CurrentActionCheck();
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
