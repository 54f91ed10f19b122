// YuNet heads on XNNPACK; priors and decoding follow OpenCV 4.6's FaceDetectorYN (2022mar model).
#include "vision/yunet_xnnpack.hpp"

#include <array>
#include <cmath>
#include <opencv2/dnn.hpp>
#include <stdexcept>
#include <string>

namespace liveproof::vision {
namespace {

// The four head convolutions of face_detection_yunet_2022mar.onnx (pinned by its sha256 in the
// manifest), before the Transpose/Reshape/Concat/Softmax tail that XNNPACK cannot run. Each is
// [1, H, W, anchors x 17] in NHWC: per anchor 14 box and keypoint deltas, 2 class logits, IoU.
const std::vector<std::string> kHeads = {"242", "249", "256", "263"};
constexpr std::array<int, 4> kSteps = {8, 16, 32, 64};
const std::array<std::vector<float>, 4> kMinSizes = {std::vector<float>{10.0f, 16.0f, 24.0f},
                                                     {32.0f, 48.0f},
                                                     {64.0f, 96.0f},
                                                     {128.0f, 192.0f, 256.0f}};
constexpr int kValuesPerAnchor = 17;
constexpr float kVariance0 = 0.1f, kVariance1 = 0.2f;
constexpr int kTopK = 5000;  // as FaceDetector::Create asks of FaceDetectorYN

}  // namespace

Expected<std::unique_ptr<YuNetXnnpack>> YuNetXnnpack::Create(std::vector<std::uint8_t> onnx,
                                                             float score_threshold,
                                                             float nms_threshold) {
    std::unique_ptr<YuNetXnnpack> d(
        new YuNetXnnpack(std::move(onnx), score_threshold, nms_threshold));
    auto probe = XnnNet::FromOnnx(d->onnx_, "YuNet", {kHeads, {120, 160}});
    if (!probe) return Unexpected{probe.error()};
    for (std::size_t k = 0; k < kHeads.size(); ++k) {
        const auto& dims = (*probe)->output_dims(k);
        if (dims.size() != 4 || dims[3] != kMinSizes[k].size() * kValuesPerAnchor) {
            return MakeError(ErrorCode::ModelCorrupt,
                             "YuNet head " + kHeads[k] + " does not have the 2022mar layout");
        }
    }
    return d;
}

XnnNet* YuNetXnnpack::RuntimeFor(cv::Size size) {
    ++detections_since_build_;
    for (auto it = runtimes_.begin(); it != runtimes_.end(); ++it) {
        if (it->first == size) {
            runtimes_.splice(runtimes_.begin(), runtimes_, it);
            return runtimes_.front().second.get();
        }
    }
    if (runtimes_.size() >= kCachedSizes && detections_since_build_ < kDetectionsPerBuild) {
        return nullptr;
    }
    detections_since_build_ = 0;
    auto net = XnnNet::FromOnnx(
        onnx_, "YuNet",
        {kHeads, {static_cast<std::size_t>(size.height), static_cast<std::size_t>(size.width)}});
    if (!net) throw std::runtime_error(net.error().detail);
    if (runtimes_.size() >= kCachedSizes) runtimes_.pop_back();
    runtimes_.emplace_front(size, std::move(*net));
    return runtimes_.front().second.get();
}

std::optional<cv::Mat> YuNetXnnpack::Detect(const cv::Mat& bgr) {
    XnnNet* runtime = RuntimeFor(bgr.size());
    if (runtime == nullptr) return std::nullopt;
    XnnNet& net = *runtime;
    net.RunImage(bgr, 1.0, /*swap_rb=*/false);  // blobFromImage's defaults, as FaceDetectorYN

    const float in_w = static_cast<float>(bgr.cols), in_h = static_cast<float>(bgr.rows);
    std::vector<cv::Rect2i> boxes;
    std::vector<float> scores;
    std::vector<std::array<float, 15>> rows;
    for (std::size_t k = 0; k < kHeads.size(); ++k) {
        const auto& dims = net.output_dims(k);
        const std::size_t fh = dims[1], fw = dims[2], anchors = kMinSizes[k].size();
        const float* v = net.output(k).data();
        const float step = static_cast<float>(kSteps[k]);
        for (std::size_t y = 0; y < fh; ++y) {
            for (std::size_t x = 0; x < fw; ++x) {
                for (std::size_t a = 0; a < anchors; ++a, v += kValuesPerAnchor) {
                    // Softmax of the two class logits, then FaceDetectorYN's score.
                    const float face = 1.0f / (1.0f + std::exp(v[14] - v[15]));
                    const float iou = std::clamp(v[16], 0.0f, 1.0f);
                    const float score = std::sqrt(face * iou);
                    if (!(score > score_threshold_)) continue;  // as NMSBoxes' own filter
                    // Priors in units of the input size, as FaceDetectorYN computes them.
                    const float pw = kMinSizes[k][a] / in_w, ph = kMinSizes[k][a] / in_h;
                    const float px = (static_cast<float>(x) + 0.5f) * step / in_w;
                    const float py = (static_cast<float>(y) + 0.5f) * step / in_h;
                    std::array<float, 15> r{};
                    const float cx = (px + v[0] * kVariance0 * pw) * in_w;
                    const float cy = (py + v[1] * kVariance0 * ph) * in_h;
                    // FaceDetectorYN uses the first variance for the width, the second for the
                    // height; kept, so that both paths give the same boxes.
                    const float w = pw * std::exp(v[2] * kVariance0) * in_w;
                    const float h = ph * std::exp(v[3] * kVariance1) * in_h;
                    r[0] = cx - w / 2;
                    r[1] = cy - h / 2;
                    r[2] = w;
                    r[3] = h;
                    for (int p = 0; p < 5; ++p) {
                        r[4 + 2 * p] = (px + v[4 + 2 * p] * kVariance0 * pw) * in_w;
                        r[5 + 2 * p] = (py + v[5 + 2 * p] * kVariance0 * ph) * in_h;
                    }
                    r[14] = score;
                    boxes.emplace_back(static_cast<int>(r[0]), static_cast<int>(r[1]),
                                       static_cast<int>(r[2]), static_cast<int>(r[3]));
                    scores.push_back(score);
                    rows.push_back(r);
                }
            }
        }
    }
    std::vector<int> keep;
    cv::dnn::NMSBoxes(boxes, scores, score_threshold_, nms_threshold_, keep, 1.f, kTopK);
    cv::Mat out(static_cast<int>(keep.size()), 15, CV_32F);
    for (int i = 0; i < out.rows; ++i) {
        const auto& r = rows[static_cast<std::size_t>(keep[static_cast<std::size_t>(i)])];
        std::copy(r.begin(), r.end(), out.ptr<float>(i));
    }
    return out;
}

}  // namespace liveproof::vision
