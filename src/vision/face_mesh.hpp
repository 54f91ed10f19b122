// MediaPipe Face Mesh v1 (468 points) on a rotated 1.5x square crop of a detection.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "liveproof/expected.hpp"
#include "vision/face_detector.hpp"

namespace liveproof::vision {

/// @brief 468 mesh points in image pixels and the model's face-presence score.
struct MeshResult {
    std::vector<cv::Point2f> points;  ///< 468 points, MediaPipe order
    float presence = 0;               ///< sigmoid of the face flag
};

/// @brief WHAT THIS OBJECT REPRESENTS: one Face Mesh network instance.
///
/// THREAD SAFETY: not thread-safe (cv::dnn::Net::forward); one per worker.
class FaceMesh {
  public:
    /// @brief Builds the network from ONNX bytes (loaded once, shared between workers).
    static Expected<FaceMesh> Create(const std::vector<std::uint8_t>& onnx);
    /// @brief Runs on the crop MANIFEST.md §4 defines: side 1.5*max(w,h), eye line horizontal.
    MeshResult Run(const cv::Mat& bgr, const Detection& face);

  private:
    explicit FaceMesh(cv::dnn::Net net) : net_(std::move(net)) {}
    cv::dnn::Net net_;
};

}  // namespace liveproof::vision
