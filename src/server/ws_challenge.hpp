// One WebSocket challenge connection without the transport: messages in, A's messages out.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "challenge/challenge_session.hpp"
#include "server/server_context.hpp"

namespace liveproof::server {

/// @brief Builds the challenge configuration from the server settings and the connection's
/// query (mirrored=1). Fails with a clear message on an invalid challenge list.
Expected<challenge::ChallengeConfig> ChallengeConfigFrom(const ServerConfig& config, bool mirrored);

/// @brief WHAT THIS OBJECT REPRESENTS: the server side of one system-A WebSocket session: the
/// challenge state machine, frames handed to the worker pool's session lane (one frame in
/// flight, one waiting; a newer frame replaces the waiting one and the drop is counted; sessions
/// take turns), passive anti-spoof evidence sampled from frames and fused into the final
/// verdict, and one face tracked throughout.
///
/// THREAD SAFETY: every public function must be called on the connection's strand; inference
/// runs on the worker pool and its result comes back through `post`, onto that strand. The
/// tracking state is read by the frame job and written by OnResult before the pool is told the
/// frame is done (Release), so the two never overlap.
class ChallengeConnection : public std::enable_shared_from_this<ChallengeConnection> {
  public:
    /// @brief Sends one text message; close_after asks the transport to close once it is sent.
    using Send = std::function<void(std::string text, bool close_after)>;
    /// @brief Runs a function on the connection's strand.
    using Post = std::function<void(std::function<void()>)>;

    /// @brief Creates the connection; Start() sends A's "start" message.
    static Expected<std::shared_ptr<ChallengeConnection>> Create(ServerContext& ctx, bool mirrored,
                                                                 Send send, Post post);

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
    [[nodiscard]] bool finished() const { return session_.Finished() || closed_; }

  private:
    ChallengeConnection(ServerContext& ctx, challenge::ChallengeSession session, Send send,
                        Post post)
        : ctx_(ctx), session_(std::move(session)), send_(std::move(send)), post_(std::move(post)) {}

    struct FrameResult {
        std::uint64_t seq = 0;  // which client message this frame was
        bool ok = false;        // decoded and analysed
        std::string error;      // A's error text when !ok
        int face_count = 0;
        float yaw = 0, pitch = 0;
        float cx = 0, cy = 0, eye_dist = 0;
        std::optional<float> eyes_closed;
        std::optional<float> p_real;
        double ms = 0;
        bool tracked = false;        // the detector was skipped (TrackHint)
        float box_w = 0, box_h = 0;  // the face box used
        float lm_x = 0, lm_y = 0;    // centroid of the 68 landmarks
        Point2 right_eye, left_eye;  // eye centres from the landmarks
        bool has_landmarks = false;
    };

    void Submit(std::uint64_t seq, std::vector<std::uint8_t> jpeg);
    // Runs on a worker: the analysis of one frame, with the tracking state of the last result.
    FrameResult AnalyseFrame(const std::vector<std::uint8_t>& jpeg);
    void OnResult(const FrameResult& r);
    void UpdateTrack(const FrameResult& r);
    void Emit(const std::optional<challenge::Event>& event);
    void Finish(const challenge::Event& event);

    ServerContext& ctx_;
    challenge::ChallengeSession session_;
    Send send_;
    Post post_;
    int frames_seen_ = 0;         // frames analysed (counted by the frame job)
    std::uint64_t messages_ = 0;  // client messages received
    // The client message the next emitted event answers (its number goes out as "frame_seq",
    // an extra key A's clients ignore), or none for server-initiated events (timeouts).
    std::optional<std::uint64_t> answering_;
    // The challenge a frame may complete now (a Direction, -1 outside WAITING_ACTION) and the
    // session's pitch baseline: set on the strand whenever the state changes, read by the frame
    // job to decide whether the frame needs passive evidence.
    std::atomic<int> awaited_action_{-1};
    std::atomic<float> pitch_baseline_{0.0f};
    void PublishState();
    std::optional<std::pair<float, float>> last_centre_;  // face centre at the last detection
    float last_eye_dist_ = 0;                             // its eye distance
    double last_detect_time_ = 0;                         // when (s)
    std::optional<TrackHint> hint_;  // where the face is, to skip the detector next frame
    int since_detect_ = 0;           // tracked frames since the last detection
    float box_dx_ = 0, box_dy_ = 0;  // detector box centre minus landmark centroid
    float box_w_ = 0, box_h_ = 0;    // detector box size at the last detection
    double last_time_ = 0;           // when it was analysed (s)
    float p_real_sum_ = 0;           // passive P(real) over the sampled frames, for the fused mean
    int p_real_count_ = 0;
    bool closed_ = false;
    bool counted_end_ = false;
};

}  // namespace liveproof::server
