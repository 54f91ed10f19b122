// Silent-Face passive anti-spoofing: MiniFASNetV2 (2.7x crop) + MiniFASNetV1SE (4.0x crop).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"
#include "vision/xnn_net.hpp"

namespace liveproof::vision {

/// @brief The reference patch box for a face box (integer x, y, w, h) and a scale S:
/// MANIFEST.md §2-3 steps 2-5 (shift inside the image without shrinking, truncate, inclusive).
cv::Rect SilentFacePatch(const cv::Rect& box, int image_w, int image_h, float scale);

/// @brief WHAT THIS OBJECT REPRESENTS: the two MiniFASNet networks of the ensemble.
///
/// THREAD SAFETY: not thread-safe; one per worker.
class AntiSpoof {
  public:
    /// @brief Builds both networks from their ONNX bytes, run by @p backend.
    static Expected<AntiSpoof> Create(const std::vector<std::uint8_t>& v2_onnx,
                                      const std::vector<std::uint8_t>& v1se_onnx,
                                      InferenceBackend backend);
    /// @brief Scores one face. The box is truncated to integers first, as the reference does.
    AntiSpoofResult Run(const cv::Mat& bgr, const cv::Rect2f& box);

  private:
    // One MiniFASNet, on whichever library runs it (exactly one of the two is set).
    struct Network {
        cv::dnn::Net opencv;
        std::unique_ptr<XnnNet> xnnpack;
    };
    static Expected<Network> Load(const std::vector<std::uint8_t>& onnx, const char* what,
                                  InferenceBackend backend);
    AntiSpoof(Network v2, Network v1se) : v2_(std::move(v2)), v1se_(std::move(v1se)) {}
    std::array<float, 3> Forward(Network& net, const cv::Mat& bgr, const cv::Rect& box,
                                 float scale);
    Network v2_;
    Network v1se_;
    cv::Mat patch_;  // reused crop: no allocation per face
};

}  // namespace liveproof::vision
