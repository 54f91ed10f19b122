// Face detection: YuNet 2022mar (boxes + 5 keypoints) or the Haar cascade fallback (boxes only).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"

namespace liveproof::vision {

/// @brief One detected face in full-image pixels.
struct Detection {
    cv::Rect2f box;                    ///< x, y, w, h
    std::array<cv::Point2f, 5> kps{};  ///< right eye, left eye, nose, right mouth, left mouth
    float score = 0;                   ///< detector confidence (1 for Haar)
    bool has_keypoints = false;        ///< false for Haar: kps are estimated from the box
};

/// @brief Detector settings.
struct DetectorConfig {
    std::string yunet_path;                ///< YuNet ONNX file; empty = use Haar
    std::vector<std::uint8_t> yunet_onnx;  ///< its bytes, checked against the manifest (XNNPACK)
    std::string haar_path;                 ///< Haar cascade XML
    int max_side = 320;                    ///< run on a copy whose long side is at most this
    float score_threshold = 0.8f;          ///< YuNet score threshold
    float nms_threshold = 0.3f;            ///< YuNet NMS threshold
    int min_face_side = 24;                ///< drop smaller faces (full-image pixels)
    /// Who runs YuNet: cv::FaceDetectorYN, or XNNPACK with the same decoding (YuNetXnnpack).
    InferenceBackend backend = InferenceBackend::Xnnpack;
};

/// @brief WHAT THIS OBJECT REPRESENTS: one loaded detector network or cascade.
///
/// THREAD SAFETY: not thread-safe (cv::FaceDetectorYN mutates its input size); one per worker.
class FaceDetector {
  public:
    /// @brief Loads YuNet (when yunet_path is set) or the Haar cascade.
    static Expected<std::unique_ptr<FaceDetector>> Create(const DetectorConfig& config);
    virtual ~FaceDetector() = default;
    /// @brief Detects faces in an upright BGR image, largest first, on a copy whose long side is
    /// at most max_side (0: the configured side). A smaller side is faster and finds only larger
    /// faces (a webcam stream's face is large).
    virtual std::vector<Detection> Detect(const cv::Mat& bgr, int max_side) = 0;
    /// @brief "yunet" or "haar".
    [[nodiscard]] virtual const char* name() const = 0;
};

}  // namespace liveproof::vision
