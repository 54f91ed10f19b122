// YuNet 2022mar on XNNPACK: the network's four heads, and cv::FaceDetectorYN's decoding after them.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <opencv2/core.hpp>
#include <utility>
#include <vector>

#include "liveproof/expected.hpp"
#include "vision/xnn_net.hpp"

namespace liveproof::vision {

/// @brief WHAT THIS OBJECT REPRESENTS: YuNet (face_detection_yunet_2022mar.onnx) run by
/// XNNPACK up to its four detection heads, then decoded exactly as OpenCV 4.6's
/// cv::FaceDetectorYN does (priors of 10-256 px on strides 8-64, variances 0.1/0.2, score =
/// sqrt(class x IoU), NMS on integer boxes), so that both paths give the same faces.
///
/// An XNNPACK runtime has a fixed input size and YuNet runs at the size of each downscaled
/// image, so runtimes are kept for the kCachedSizes sizes used last (a webcam stream uses one;
/// a new size costs one build, a few milliseconds).
///
/// THREAD SAFETY: not thread-safe; one per worker.
class YuNetXnnpack {
  public:
    /// @brief Checks that the model converts (at 160x120); ModelCorrupt otherwise.
    static Expected<std::unique_ptr<YuNetXnnpack>> Create(std::vector<std::uint8_t> onnx,
                                                          float score_threshold,
                                                          float nms_threshold);
    /// @brief cv::FaceDetectorYN::detect's rows (x, y, w, h, 5 keypoints, score) for a BGR
    /// image of at least 64 px a side. Throws std::runtime_error if XNNPACK fails.
    cv::Mat Detect(const cv::Mat& bgr);

  private:
    static constexpr std::size_t kCachedSizes = 4;
    YuNetXnnpack(std::vector<std::uint8_t> onnx, float score_threshold, float nms_threshold)
        : onnx_(std::move(onnx)),
          score_threshold_(score_threshold),
          nms_threshold_(nms_threshold) {}
    XnnNet& RuntimeFor(cv::Size size);

    std::vector<std::uint8_t> onnx_;
    float score_threshold_;
    float nms_threshold_;
    std::list<std::pair<cv::Size, std::unique_ptr<XnnNet>>> runtimes_;  // most recent first
    cv::Mat input_f32_;
};

}  // namespace liveproof::vision
