// The stream core (MediaPipe's LIVE_STREAM running mode for liveproof): one camera's frames in
// time order, one face followed through them, passive evidence gathered and fused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "liveproof/error.hpp"
#include "liveproof/expected.hpp"
#include "liveproof/export.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"

namespace liveproof {

class Engine;

/// @brief How a FaceStream analyses its frames. The defaults are what the WebSocket challenge
/// runs with (measured on the shared head-turn and replay clips; see docs/performance.md).
struct StreamOptions {
    /// Detector input long side for stream frames (webcam frames: the face is large).
    int detect_max_side = 192;
    /// Faces looked for per frame: enough to see "more than one".
    int max_faces = 3;
    /// Eye closure from the iris model on every frame (blink challenges; ~11 ms per frame).
    bool eyes = false;
    /// Passive anti-spoofing on every N-th frame (1 = all), plus every decisive frame.
    int passive_every = 3;
    /// Between detections the face is tracked from the previous frame's landmarks (the
    /// detector is a third of a frame's cost); every N-th frame detects again, which is when a
    /// second face or a swapped face is seen.
    int redetect_every = 5;
    /// Tracking follows only a recent frame: after a longer gap (a slow client, frames dropped
    /// under load) the head may have turned far from the hint, and the mesh on the old crop
    /// under-reads the turn (head-turn clip with 0.2 s gaps: mean |yaw| difference to a fresh
    /// detection 1.6 deg, up to 25 deg on the fastest turn).
    double track_max_gap_s = 0.35;
    /// Continuity: a face centre moving more than this many eye distances per jump_window_s
    /// between detected frames is a different face (a swap in front of the camera), not head
    /// movement. The allowance grows with the time between detections (a real head turn moves
    /// the box ~75 px in 0.6 s), up to jump_max_scale times.
    float jump_eye_distances = 1.5f;
    double jump_window_s = 0.25;      ///< see jump_eye_distances
    float jump_max_scale = 3.0f;      ///< see jump_eye_distances
    float liveness_threshold = 0.5f;  ///< P(real) below which evidence counts as a spoof
};

/// @brief What one frame of a stream showed.
struct StreamObservation {
    std::optional<Error> error;        ///< the frame could not be used (undecodable, budget)
    int face_count = 0;                ///< faces confirmed on the frame
    std::optional<HeadPose> pose;      ///< the main face's pose
    std::optional<float> eyes_closed;  ///< mean closed score of both eyes (StreamOptions::eyes)
    std::optional<float> p_real;       ///< passive P(real), when it ran on this frame
    bool tracked = false;              ///< the face was followed from the last frame, not detected
    bool face_jump = false;            ///< the face moved too far since the last detection
    std::optional<FaceResult> face;    ///< the main face's full result
    std::map<std::string, double> timings_ms;  ///< per stage
    double ms = 0;                             ///< the whole frame
    std::vector<std::uint8_t> fingerprint;     ///< ImageAnalysis::fingerprint of the frame
};

/// @brief The passive evidence of a stream so far.
struct StreamEvidence {
    int frames_scored = 0;  ///< frames that got a P(real)
    float mean_p_real = 0;  ///< their mean
    float min_p_real = 1;   ///< their minimum
};

/// @brief WHAT THIS OBJECT REPRESENTS: one camera stream's face: the tracking hint and the
/// re-detection cadence, the continuity check between detections, and the passive evidence
/// sampled from frames and fused into one verdict. Fed frames in time order with their
/// timestamps; returns one observation per frame. The WebSocket door, the SDK and the session
/// doors all drive this object; ChallengeSession judges the observations.
///
/// THREAD SAFETY: one thread at a time (successive frames may come from different threads if
/// the caller orders them). The Engine must outlive the stream.
class LIVEPROOF_EXPORT FaceStream {
  public:
    /// @brief Whether this frame's main face could decide the outcome (complete a challenge):
    /// such frames always get passive evidence.
    using Decisive = std::function<bool(const FaceResult&)>;

    /// @brief A stream over @p engine's pipelines.
    FaceStream(const Engine& engine, StreamOptions options);

    /// @brief Analyses one encoded frame (JPEG, PNG, BMP, WebP) taken at @p t seconds.
    StreamObservation Feed(std::span<const std::uint8_t> encoded, double t,
                           const Decisive& decisive = {});
    /// @brief Analyses one decoded 8-bit BGR frame taken at @p t seconds.
    StreamObservation FeedBgr(const unsigned char* bgr, int width, int height, std::size_t stride,
                              double t, const Decisive& decisive = {});

    /// @brief The evidence gathered so far.
    [[nodiscard]] const StreamEvidence& evidence() const { return evidence_; }
    /// @brief The fused passive verdict once a challenge is completed by @p completing: a spoof
    /// unless the sampled frames' mean AND the completing frame itself are at or above the
    /// liveness threshold (no evidence at all is a spoof).
    [[nodiscard]] bool JudgeSpoof(const StreamObservation& completing) const;
    /// @brief Frames fed so far.
    [[nodiscard]] int frames() const { return frames_; }
    /// @brief The options in use.
    [[nodiscard]] const StreamOptions& options() const { return options_; }

  private:
    struct Plan;
    Plan PlanFrame(double t, const Decisive& decisive);
    StreamObservation Absorb(const Plan& plan, Expected<ImageAnalysis> analysis, double t,
                             double ms);

    const Engine& engine_;
    StreamOptions options_;
    int frames_ = 0;
    StreamEvidence evidence_;
    float p_real_sum_ = 0;
    // Tracking: where the face is, to skip the detector on the next frame.
    std::optional<TrackHint> hint_;
    int since_detect_ = 0;            // tracked frames since the last detection
    float box_dx_ = 0, box_dy_ = 0;   // detector box centre minus landmark centroid
    float box_w_ = 0, box_h_ = 0;     // detector box size at the last detection
    double last_face_time_ = -1e300;  // when a single face was last seen (s)
    // Continuity: the face at the last detection.
    std::optional<Point2> last_centre_;
    float last_eye_dist_ = 0;
    double last_detect_time_ = 0;
};

}  // namespace liveproof
