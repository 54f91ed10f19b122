// Every knob of the engine, each with a default and the reason for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "liveproof/types.hpp"

namespace liveproof {

/// @brief Which face detector to use.
enum class DetectorKind {
    Auto,   ///< YuNet when its model file is present, else the Haar cascade (with a warning)
    YuNet,  ///< YuNet 2022mar via cv::FaceDetectorYN; missing file is an error
    Haar,   ///< OpenCV Haar cascade from the opencv-data package (no keypoints; slower, weaker)
};

/// @brief Which library runs the networks: YuNet (the detector), the two MiniFASNets, Face Mesh
/// and Iris. Both give the same answers to float rounding
/// (tests/models/inference_backend_test.cpp).
enum class InferenceBackend {
    OpenCV,  ///< cv::dnn (OpenCV 4.6)
    /// XNNPACK (Debian libxnnpack-dev), from the same ONNX files; per network ~2x (YuNet),
    /// 2.5-2.8x (MiniFASNets), 2.65-2.9x (Face Mesh) and 3.1-3.6x (Iris) faster than cv::dnn
    Xnnpack,
};

/// @brief "opencv" or "xnnpack".
inline const char* InferenceBackendName(InferenceBackend b) {
    return b == InferenceBackend::Xnnpack ? "xnnpack" : "opencv";
}

/// @brief The backend of that name ("opencv", "xnnpack"), or nothing.
inline std::optional<InferenceBackend> ParseInferenceBackend(std::string_view name) {
    if (name == "opencv") return InferenceBackend::OpenCV;
    if (name == "xnnpack") return InferenceBackend::Xnnpack;
    return std::nullopt;
}

/// @brief Limits on what an input may cost before it is decoded.
struct MediaLimits {
    std::size_t max_image_bytes = 32u << 20;      ///< encoded image size cap
    std::uint64_t max_image_pixels = 40'000'000;  ///< width*height cap, read from the header
    int max_image_side = 16384;                   ///< either side cap
    std::size_t max_video_bytes = 64u << 20;      ///< encoded video size cap
    double max_video_seconds = 20.0;              ///< duration cap (container or frames/fps)
    int max_video_frames = 900;                   ///< frames decoded at most
    std::uint64_t max_video_frame_pixels = 1920u * 1088u;  ///< per-frame pixel cap
    /// Progressive JPEG scans at most: each scan re-reads the whole coefficient buffer, so a
    /// small file with thousands of scans held a worker 21 s (6000x6000, 20,000 scans).
    /// Ordinary progressive JPEGs have about 10.
    int max_jpeg_scans = 64;
};

/// @brief Thresholds that turn raw measures into scores and flags (docs/attributes.md).
struct AttributeOptions {
    float ear_open = 0.27f;              ///< iris EAR at or above which an eye scores 0 closed
    float ear_closed = 0.12f;            ///< iris EAR at or below which an eye scores 1 closed
    float mar_closed = 0.06f;            ///< inner-lip MAR at or below which mouth_opened = 0
    float mar_open = 0.28f;              ///< MAR at or above which mouth_opened = 1 (0.5 at 0.17)
    float border_rate = 0.05f;           ///< is_boundary margin, share of the image side (system C)
    float small_face_eye_dist = 100.0f;  ///< is_small below this eye distance in pixels (system C)
    float sharp_laplacian_var = 150.0f;  ///< Laplacian variance giving sharpness 0.63 (1-1/e)
    float size_full_eye_dist = 60.0f;    ///< eye distance giving the full size term of quality
};

/// @brief Options fixed when the engine is created.
struct EngineOptions {
    std::string model_dir;         ///< folder with the model files and MANIFEST
    bool verify_checksums = true;  ///< check every model against the manifest sha256 at start-up
    DetectorKind detector = DetectorKind::Auto;  ///< which detector
    /// Which library runs the networks (parity and speed: docs/performance.md).
    InferenceBackend inference_backend = InferenceBackend::Xnnpack;
    std::string haar_cascade =
        "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    ///< Haar fallback cascade (Debian package opencv-data)
    int workers = 0;            ///< pipelines (concurrent analyses); 0 = hardware threads
    int opencv_threads = 1;     ///< cv::setNumThreads for intra-op parallelism; -1 = leave
    int detect_max_side = 320;  ///< detector runs on a copy whose long side is at most this
    float detect_score_threshold = 0.8f;  ///< YuNet score threshold
    float detect_nms_threshold = 0.3f;    ///< YuNet NMS IoU threshold
    int min_face_side = 24;          ///< faces smaller than this (pixels, full image) are dropped
    int max_faces = 10;              ///< faces analysed per image (largest first); system C uses 10
    float mesh_min_presence = 0.5f;  ///< Face Mesh face-flag below which a detection is dropped
    float liveness_threshold = 0.5f;  ///< P(real) at or above which a face is judged real
    MediaLimits limits;               ///< input caps
    AttributeOptions attributes;      ///< score mappings and flags
    /// CPU time (of the analysing thread) one image's decode may take before the analysis is
    /// abandoned with TimeBudgetExceeded; 0 = no budget. CPU time, not wall time, so that
    /// waiting for a pipeline or a busy machine never counts against an input.
    double time_budget_seconds = 0;
    /// The same for a video: every frame's decode and analysis count (CPU time of the thread
    /// that runs them; FFmpeg's own decoder threads are bounded by the frame and pixel caps).
    /// A real 4-second blink clip takes ~3 s, so videos get their own, larger budget; 0 = none.
    double video_time_budget_seconds = 0;
};

/// @brief Where the face was in the previous frame of a stream. With it, Analyze skips the
/// detector and runs the mesh on the crop this place gives (MediaPipe's tracking); the mesh's
/// face flag decides whether the face is still there (no face otherwise: detect again).
struct TrackHint {
    float x = 0, y = 0, w = 0, h = 0;  ///< detector-like face box
    Point2 right_eye;                  ///< subject's right eye centre (image-left)
    Point2 left_eye;                   ///< subject's left eye centre (image-right)
};

/// @brief Which stages one Analyze call runs; stages not asked for cost nothing.
struct AnalyzeOptions {
    bool mesh = true;                ///< 468-point mesh and the 68-point subset
    bool pose = true;                ///< head pose (needs mesh)
    bool eyes = true;                ///< iris-model eye openness (needs mesh; ~11 ms per face)
    bool mouth = true;               ///< mouth opening (needs mesh)
    bool quality = true;             ///< sharpness, quality and occlusion (occlusion needs mesh)
    bool antispoof = true;           ///< MiniFASNet ensemble
    bool keep_mesh = false;          ///< return all 468 mesh points, not only the 68 subset
    int max_faces = -1;              ///< cap for this call; -1 = the engine's max_faces
    std::optional<TrackHint> track;  ///< skip detection: analyse the face tracked here
    /// Detector input long side for this call; 0 = the engine's detect_max_side. Smaller is
    /// faster and finds only larger faces (a face in a webcam stream is large).
    int detect_max_side = 0;
    /// When set (and antispoof is on), the ensemble runs only on faces for which this returns
    /// true; it sees the face after mesh and pose. A stream uses it to spend the ~10 ms only on
    /// frames whose pose may complete a challenge.
    std::function<bool(const FaceResult&)> antispoof_if;
    /// Fill ImageAnalysis::fingerprint (a stream's near-duplicate frame signal).
    bool fingerprint = false;

    /// @brief Detection and passive score only (what system B needs).
    static AnalyzeOptions PassiveOnly() {
        AnalyzeOptions o;
        o.mesh = o.pose = o.eyes = o.mouth = o.quality = false;
        return o;
    }
};

/// @brief Options of a video blink check.
struct BlinkOptions {
    float close_threshold = 0.60f;  ///< mean eye closed score that starts a blink
    float open_threshold = 0.35f;   ///< mean closed score below which the eyes count as open again
    int max_closed_frames = 15;     ///< a longer closure is not a blink (eyes shut, not blinking)
    /// How far the closed score must rise above the most open level before it (the weakest real
    /// blink of the shared clip rises 0.70; a still photo's codec flicker 0.28).
    float min_depth = 0.45f;
    int antispoof_every = 6;      ///< run the passive ensemble on every Nth face frame
    int min_face_frames = 5;      ///< fewer usable frames -> fail
    float max_track_jump = 0.5f;  ///< face centre jump between frames, in eye distances
    int max_track_breaks = 0;     ///< more jumps than this -> not one consistent face
};

}  // namespace liveproof
