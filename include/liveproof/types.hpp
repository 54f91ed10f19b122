// Result types of the engine: per-face measurements, per-image analysis, video blink analysis.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace liveproof {

/// @brief A 2-D point in image pixels (x right, y down) of the upright image.
struct Point2 {
    float x = 0;  ///< column
    float y = 0;  ///< row
};

/// @brief The five detector keypoints. "right_eye" is the subject's right eye (image-left).
struct Keypoints {
    Point2 right_eye;    ///< subject's right eye centre (image-left)
    Point2 left_eye;     ///< subject's left eye centre (image-right)
    Point2 nose;         ///< nose tip
    Point2 right_mouth;  ///< subject's right mouth corner (image-left)
    Point2 left_mouth;   ///< subject's left mouth corner (image-right)
};

/// @brief Head pose in true degrees (see docs/attributes.md for the sign convention).
struct HeadPose {
    float yaw = 0;    ///< < 0: the person turned to their own left (nose towards image-right)
    float pitch = 0;  ///< < 0: looking up
    float roll = 0;   ///< > 0: face rotated clockwise in the image
};

/// @brief Passive anti-spoofing output of the MiniFASNet ensemble.
struct AntiSpoofResult {
    float p_real = 0;                   ///< fused P(real) = (softmax(V2)[1] + softmax(V1SE)[1]) / 2
    int label = 0;                      ///< argmax of the summed softmaxes (1 = real)
    std::array<float, 3> v2_probs{};    ///< softmax of MiniFASNetV2 on the 2.7x crop
    std::array<float, 3> v1se_probs{};  ///< softmax of MiniFASNetV1SE on the 4.0x crop
};

/// @brief Per-eye output of the iris model (image-left or image-right eye).
struct EyeResult {
    float ear = 0;                     ///< eyelid gap over eye width, iris-model contour
    float closed = 0;                  ///< EAR mapped to [0,1]; 1 = fully closed
    std::array<Point2, 16> contour{};  ///< eyelid contour points 0..15 (iris model layout)
    Point2 iris_center;                ///< iris centre
};

/// @brief Everything measured for one face. Optional members are absent when their stage was not
/// run.
struct FaceResult {
    float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  ///< detector box, image pixels (x2/y2 exclusive edge)
    float score = 0;                       ///< detector confidence
    Keypoints keypoints;                   ///< detector keypoints
    float eye_dist = 0;                    ///< distance between the detector eye keypoints, pixels
    float luminance = 0;                   ///< mean grey level 0..255 on the face box
    bool is_boundary = false;              ///< box within border_rate of an image edge
    bool is_small = false;                 ///< eye_dist below small_face_eye_dist

    std::optional<float> mesh_presence;        ///< Face Mesh face flag (sigmoid)
    std::vector<Point2> mesh;                  ///< 468 mesh points (empty unless requested)
    std::vector<Point2> landmark_68;           ///< iBUG-68 subset of the mesh
    std::optional<HeadPose> pose;              ///< solvePnP against the canonical face
    std::optional<float> mouth_ratio;          ///< MAR on the inner lips (mesh)
    std::optional<float> mouth_opened;         ///< MAR mapped to [0,1]
    std::optional<float> mesh_ear_left;        ///< mesh EAR, image-left eye (diagnostic)
    std::optional<float> mesh_ear_right;       ///< mesh EAR, image-right eye (diagnostic)
    std::optional<EyeResult> eye_image_left;   ///< iris model on the image-left eye
    std::optional<EyeResult> eye_image_right;  ///< iris model on the image-right eye
    std::optional<float> sharpness;            ///< 0..1 from the Laplacian variance of the face
    std::optional<float> quality;              ///< 0..1: sharpness, exposure and size combined
    std::optional<float> occlusion;            ///< 0..1: share of lower-face probes not skin-like
    std::optional<AntiSpoofResult> antispoof;  ///< passive liveness
};

/// @brief Analysis of one image.
struct ImageAnalysis {
    int width = 0;                             ///< upright image width (after EXIF orientation)
    int height = 0;                            ///< upright image height
    int exif_orientation = 1;                  ///< EXIF orientation tag applied (1 = none)
    std::string detector;                      ///< "yunet" or "haar"
    std::vector<FaceResult> faces;             ///< largest face first
    std::map<std::string, double> timings_ms;  ///< wall time per stage, summed over faces
    /// Luminance at 32 x 24 fixed points of the decoded image (AnalyzeOptions::fingerprint).
    std::vector<std::uint8_t> fingerprint;
};

/// @brief One blink: frames where the eyes were judged closed (inclusive range).
struct Blink {
    int start_frame = 0;  ///< first closed frame
    int end_frame = 0;    ///< last closed frame
};

/// @brief Per-frame eye measurement in a video.
struct FrameEyes {
    int frame = 0;        ///< frame index from 0
    bool face = false;    ///< a face was found
    float openness = 0;   ///< 1 - mean closed score of both eyes (0 when no face)
    float ear_left = 0;   ///< image-left eye EAR
    float ear_right = 0;  ///< image-right eye EAR
};

/// @brief Summary of passive scores on sampled video frames.
struct PassiveSummary {
    int frames_scored = 0;    ///< frames the anti-spoof ensemble ran on
    float mean_p_real = 0;    ///< mean fused P(real)
    float min_p_real = 0;     ///< lowest fused P(real)
    float real_fraction = 0;  ///< share of scored frames with P(real) >= threshold
    bool spoof = false;       ///< mean P(real) below the threshold
};

/// @brief Result of a blink check on a short video.
struct BlinkAnalysis {
    int frames_decoded = 0;                    ///< frames read from the video
    int frames_with_face = 0;                  ///< frames with exactly one usable face
    int frames_multi_face = 0;                 ///< frames with more than one face
    int track_breaks = 0;                      ///< jumps of the face between consecutive frames
    double fps = 0;                            ///< container frame rate (0 if unknown)
    std::vector<Blink> blinks;                 ///< detected blinks in order
    std::vector<FrameEyes> frames;             ///< per-frame eye openness
    PassiveSummary passive;                    ///< anti-spoof on sampled frames
    bool passed = false;                       ///< >= 1 blink, one consistent face, not spoof
    std::string reason;                        ///< why it failed ("" when passed)
    std::map<std::string, double> timings_ms;  ///< wall time per stage
};

}  // namespace liveproof
