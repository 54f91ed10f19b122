// One active-challenge run: the stream core's observations judged by a challenge session. Every
// door that runs a challenge (WebSocket, system A's HTTP polling, the C API) drives this object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "liveproof/challenge_session.hpp"
#include "liveproof/error.hpp"
#include "liveproof/expected.hpp"
#include "liveproof/export.hpp"
#include "liveproof/face_stream.hpp"

namespace liveproof::active {

/// @brief One frame as a door received it: encoded bytes (JPEG, PNG, BMP, WebP) or a decoded
/// 8-bit BGR image (the caller keeps either alive for the call).
struct Frame {
    std::span<const std::uint8_t> encoded;  ///< used when bgr is null
    const unsigned char* bgr = nullptr;     ///< decoded pixels, or null
    int width = 0;                          ///< bgr only
    int height = 0;                         ///< bgr only
    std::size_t stride = 0;                 ///< bgr only: bytes per row

    /// @brief An encoded frame.
    static Frame Encoded(std::span<const std::uint8_t> bytes) { return Frame{bytes}; }
    /// @brief A decoded BGR frame.
    static Frame Bgr(const unsigned char* pixels, int w, int h, std::size_t row_bytes) {
        return Frame{{}, pixels, w, h, row_bytes};
    }
};

/// @brief The error message a client gets for a frame that could not be analysed: the time
/// budget has its own advice, anything else is A's "Could not decode image".
LIVEPROOF_EXPORT std::string FrameErrorMessage(const Error& error);

/// @brief WHAT THIS OBJECT REPRESENTS: one challenge run: a ChallengeSession (what the user is
/// asked, timeouts, verdict) fed by a FaceStream (tracking, continuity, passive evidence on the
/// frames that may complete a challenge, fused once every challenge passed). The rules that join
/// the two live here once: which frames get passive evidence (DecisiveFor), how an observation
/// is read (FromStream), what an unusable frame answers (FrameErrorMessage), and that the
/// session never says "complete" before the fused evidence said live.
///
/// Two sides. The session side (Start, OnArrival, OnBadMessage, OnTick, Judge, the accessors)
/// touches the session; the frame side (Analyze) touches only the stream core. A door that
/// analyses on another thread takes CurrentActionCheck() on the session side, runs Analyze on
/// its worker and hands the observation back to Judge; Analyze and Judge must never overlap, and
/// each side's calls must be serialised. Feed does all three in one thread.
///
/// The stream core is made by the first Analyze (on the thread that analyses), so a run can be
/// created and answer messages before any engine is used.
///
/// THREAD SAFETY: not thread safe beyond the two-sided use above. The Engine must outlive it.
class LIVEPROOF_EXPORT ChallengeRun {
  public:
    /// @brief A run that has not started. The stream computes eye closure whenever the config
    /// allows BLINK, and the session always waits for the passive verdict.
    /// @p engine may be null only where no frame is ever analysed (a server whose engine is not
    /// up; the fuzzers): Analyze then reports an Internal error for every frame.
    /// @ensures InvalidArgument when the config does not validate or clock/random are empty.
    static Expected<ChallengeRun> Create(const Engine* engine, challenge::ChallengeConfig config,
                                         StreamOptions stream, challenge::Clock clock,
                                         challenge::Random random);

    /// @brief Starts the session clock; A's "start" event the first time, nullopt afterwards.
    std::optional<challenge::Event> Start();
    /// @brief A client message arrived (judged at arrival: idle and session clocks).
    /// @ensures a failed event when a timeout passed, else nullopt.
    std::optional<challenge::Event> OnArrival();
    /// @brief A client message that holds no usable frame; @p message goes back in an error
    /// event (or the failed event of a timeout).
    std::optional<challenge::Event> OnBadMessage(std::string message);
    /// @brief Periodic check, so that timeouts fire without frames.
    std::optional<challenge::Event> OnTick();
    /// @brief Ends the run failed for a reason the door found (replay signals on the frames
    /// themselves: exact repeats, a change of camera); nullopt when already finished.
    std::optional<challenge::Event> Reject(challenge::FailReason reason) {
        return session_.Reject(reason);
    }

    /// @brief Frame side: analyses one frame taken at @p t seconds; frames whose pose could
    /// complete @p check's awaited challenge get passive evidence.
    StreamObservation Analyze(const Frame& frame, double t, const challenge::ActionCheck& check);
    /// @brief Session side: judges an observation Analyze returned: an error event for an
    /// unusable frame, else the session's event for the frame; when that frame passed the last
    /// challenge, the fused passive verdict turns it into complete or failed/spoof_detected.
    std::optional<challenge::Event> Judge(const StreamObservation& observation);

    /// @brief OnArrival, Analyze and Judge in one thread (the C API, the polling door, tests).
    /// @p observation, when given, receives what the frame showed (empty if not analysed).
    std::optional<challenge::Event> Feed(const Frame& frame, double t,
                                         StreamObservation* observation = nullptr);

    /// @brief The session's judgement of actions now, for Analyze on another thread.
    [[nodiscard]] challenge::ActionCheck CurrentActionCheck() const {
        return session_.CurrentActionCheck();
    }
    /// @brief The challenge session (state, successes, issued challenges).
    [[nodiscard]] const challenge::ChallengeSession& session() const { return session_; }
    /// @brief The passive evidence gathered so far (none before the first frame).
    [[nodiscard]] StreamEvidence evidence() const {
        return stream_ ? stream_->evidence() : StreamEvidence{};
    }

  private:
    ChallengeRun(challenge::ChallengeSession session, const Engine* engine, StreamOptions stream)
        : session_(std::move(session)), engine_(engine), stream_options_(stream) {}

    challenge::ChallengeSession session_;
    const Engine* engine_;
    StreamOptions stream_options_;
    std::optional<FaceStream> stream_;  // frame side: made by the first Analyze
};

}  // namespace liveproof::active
