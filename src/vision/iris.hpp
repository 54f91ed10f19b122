// MediaPipe Iris: eyelid contour and iris per eye, for eye openness (EAR).
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::vision {

/// @brief Iris-model output for one eye, in image pixels.
struct IrisEye {
    std::array<cv::Point2f, 16> lids{};  ///< eyelid contour points 0..15 (MANIFEST.md §5 layout)
    cv::Point2f iris_center;             ///< iris centre
    float ear = 0;                       ///< (|e11-e3| + |e13-e5|) / (2|e0-e8|)
};

/// @brief WHAT THIS OBJECT REPRESENTS: one Iris network instance.
///
/// THREAD SAFETY: not thread-safe; one per worker.
class Iris {
  public:
    /// @brief Builds the network from ONNX bytes.
    static Expected<Iris> Create(const std::vector<std::uint8_t>& onnx);
    /// @brief Runs on the eye whose mesh corners are a (first) and b; flip for the image-right
    /// eye, which the model only sees mirrored.
    IrisEye Run(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool flip);

  private:
    explicit Iris(cv::dnn::Net net) : net_(std::move(net)) {}
    cv::dnn::Net net_;
};

}  // namespace liveproof::vision
