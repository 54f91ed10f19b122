// MediaPipe Iris: eyelid contour and iris per eye, for eye openness (EAR).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "vision/xnn_net.hpp"

namespace liveproof::vision {

/// @brief Iris-model output for one eye, in image pixels.
struct IrisEye {
    std::array<cv::Point2f, 16> lids{};  ///< eyelid contour points 0..15 (MANIFEST.md §5 layout)
    cv::Point2f iris_center;             ///< iris centre
    float ear = 0;                       ///< (|e11-e3| + |e13-e5|) / (2|e0-e8|)
};

/// @brief WHAT THIS OBJECT REPRESENTS: one Iris network instance, run by cv::dnn or by XNNPACK
/// (exactly one of the two is loaded).
///
/// THREAD SAFETY: not thread-safe (cv::dnn::Net::forward, the XNNPACK runtime's buffers and the
/// reused input buffers); one per worker.
class Iris {
  public:
    /// @brief Builds the network from ONNX bytes, run by @p backend.
    static Expected<Iris> Create(const std::vector<std::uint8_t>& onnx, InferenceBackend backend);
    /// @brief Runs on the eye whose mesh corners are a (first) and b; flip for the image-right
    /// eye, which the model only sees mirrored.
    IrisEye Run(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool flip);

  private:
    Iris(cv::dnn::Net net, std::unique_ptr<XnnNet> xnn)
        : net_(std::move(net)), xnn_(std::move(xnn)) {}
    cv::dnn::Net net_;             // the OpenCV backend's network (empty on XNNPACK)
    std::unique_ptr<XnnNet> xnn_;  // the XNNPACK backend's network (null on OpenCV)
};

}  // namespace liveproof::vision
