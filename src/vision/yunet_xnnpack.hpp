// YuNet 2022mar on XNNPACK: the network's four heads, and cv::FaceDetectorYN's decoding after them.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
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
/// image, so runtimes are kept for the kCachedSizes sizes used last (a webcam stream uses one,
/// photos mostly two: landscape and portrait).
/// Building one costs 40-80 ms, 10-30 detections' worth: so that clients sending images of ever
/// new sizes cannot make every request pay it, a new size is built only while the cache is not
/// full or once per kDetectionsPerBuild detections; otherwise Detect() declines and the caller
/// runs OpenCV's detector (same faces, its usual speed).
///
/// THREAD SAFETY: not thread-safe; one per worker.
class YuNetXnnpack {
  public:
    /// @brief Checks that the model converts (at 160x120, not kept); ModelCorrupt otherwise.
    static Expected<std::unique_ptr<YuNetXnnpack>> Create(std::vector<std::uint8_t> onnx,
                                                          float score_threshold,
                                                          float nms_threshold);
    /// @brief cv::FaceDetectorYN::detect's rows (x, y, w, h, 5 keypoints, score) for a BGR
    /// image of at least 64 px a side; nothing when no runtime for its size may be built now.
    /// Throws std::runtime_error if XNNPACK fails.
    std::optional<cv::Mat> Detect(const cv::Mat& bgr);

  private:
    // Each runtime holds ~14 MB at 320x240 (XNNPACK 2022 gives every tensor its own buffer).
    static constexpr std::size_t kCachedSizes = 2;
    static constexpr int kDetectionsPerBuild = 64;
    YuNetXnnpack(std::vector<std::uint8_t> onnx, float score_threshold, float nms_threshold)
        : onnx_(std::move(onnx)),
          score_threshold_(score_threshold),
          nms_threshold_(nms_threshold) {}
    XnnNet* RuntimeFor(cv::Size size);

    std::vector<std::uint8_t> onnx_;
    float score_threshold_;
    float nms_threshold_;
    std::list<std::pair<cv::Size, std::unique_ptr<XnnNet>>> runtimes_;  // most recent first
    int detections_since_build_ = 0;
};

}  // namespace liveproof::vision
