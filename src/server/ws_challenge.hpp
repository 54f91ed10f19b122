// One WebSocket challenge connection without the transport: messages in, A's messages out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "active/replay_signals.hpp"
#include "liveproof/challenge_run.hpp"
#include "server/server_context.hpp"
#include "server/session_service.hpp"

namespace liveproof::server {

/// @brief WHAT THIS OBJECT REPRESENTS: the server side of one system-A WebSocket session: a
/// challenge run (active::ChallengeRun: the session and the stream core) whose frames go to the
/// worker pool's session lane (one frame in flight, one waiting; a newer frame replaces the
/// waiting one and the drop is counted; sessions take turns). This class keeps only the
/// transport's part: A's JSON in and out, caps, metrics, the frame replay signals, and the
/// session the run belongs to: its end is recorded (durably, with the audit frames) before the
/// last message, which then carries the session id and the signed verdict.
///
/// THREAD SAFETY: every public function must be called on the connection's strand; the run's
/// frame side (Analyze) runs on the worker pool and its result comes back through `post`, onto
/// that strand, where Judge runs before the pool is told the frame is done (Release), so the
/// two never overlap.
class ChallengeConnection : public std::enable_shared_from_this<ChallengeConnection> {
  public:
    /// @brief Sends one text message; close_after asks the transport to close once it is sent.
    using Send = std::function<void(std::string text, bool close_after)>;
    /// @brief Runs a function on the connection's strand.
    using Post = std::function<void(std::function<void()>)>;

    /// @brief Creates the connection; Start() sends A's "start" message. @p session: the
    /// session this run performs (started by the transport), or none (no session service).
    static Expected<std::shared_ptr<ChallengeConnection>> Create(
        ServerContext& ctx, bool mirrored, Send send, Post post,
        std::optional<SessionRun> session = std::nullopt);
    /// @brief The end recorded for a session whose socket closed before its run finished.
    static RunOutcome Abandoned();

    /// @brief Sends "start" and starts the session clock (A starts it at accept).
    void Start();
    /// @brief A text message from the client ({"frame": "<base64 JPEG>"}).
    void OnText(const std::string& message);
    /// @brief A binary message: answered with an "error", the session goes on.
    void OnBinary();
    /// @brief Periodic check of the session, challenge and idle timeouts.
    void OnTick();
    /// @brief The socket closed (by either side): late inference results are ignored.
    void OnClosed();
    /// @brief True once complete or failed.
    [[nodiscard]] bool finished() const { return run_.session().Finished() || closed_; }

  private:
    ChallengeConnection(ServerContext& ctx, active::ChallengeRun run, Send send, Post post,
                        std::optional<SessionRun> session)
        : ctx_(ctx),
          run_(std::move(run)),
          send_(std::move(send)),
          post_(std::move(post)),
          signals_(SignalRulesFor(ctx, session)),
          session_(std::move(session)) {}

    static active::FrameSignalRules SignalRulesFor(const ServerContext& ctx,
                                                   const std::optional<SessionRun>& session) {
        active::FrameSignalRules rules = ctx.config.frame_signals;
        rules.enforce = session && !session->anonymous;
        return rules;
    }

    struct FrameResult {
        std::uint64_t seq = 0;  // which client message this frame was
        StreamObservation observation;
        std::vector<std::uint8_t> bytes;  // the frame, back for the audit images
        std::uint64_t digest = 0;         // ReplaySignals::Digest of the frame
        nlohmann::json box;               // the main face's box, or null
    };

    void Submit(std::uint64_t seq, std::vector<std::uint8_t> jpeg);
    // Runs on a worker: the run's frame side.
    FrameResult AnalyzeFrame(std::uint64_t seq, std::vector<std::uint8_t> jpeg);
    void KeepImages(const FrameResult& r, const challenge::Event& event);
    // Records the session's end on a store thread, then sends @p last (with the session id and
    // the verdict, or "not_recorded" when it could not be recorded) from the strand.
    void RecordEndThenSend(const challenge::Event& event, nlohmann::ordered_json last);
    void OnResult(const FrameResult& r);
    void Emit(const std::optional<challenge::Event>& event);
    void Finish(const challenge::Event& event);

    ServerContext& ctx_;
    active::ChallengeRun run_;
    Send send_;
    Post post_;
    std::uint64_t messages_ = 0;  // client messages received
    // The client message the next emitted event answers (its number goes out as "frame_seq",
    // an extra key A's clients ignore), or none for server-initiated events (timeouts).
    std::optional<std::uint64_t> answering_;
    // The session's judgement of actions, copied on the strand whenever the state changes and
    // read by the frame job to decide whether its frame needs passive evidence.
    std::mutex action_check_mutex_;
    challenge::ActionCheck action_check_;
    void PublishState();
    bool closed_ = false;
    bool counted_end_ = false;
    active::ReplaySignals signals_;
    std::optional<SessionRun> session_;
    bool recorded_ = false;  // the session's end is in the store
    int frames_analysed_ = 0;
    std::vector<RunOutcome::Image> images_;  // reference first, then audit frames
};

}  // namespace liveproof::server
