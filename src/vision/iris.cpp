// Iris inference on a 2.3x eye-width square crop; the image-right eye is mirrored in and out.
#include "vision/iris.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/geometry.hpp"
#include "vision/onnx_net.hpp"

namespace liveproof::vision {

namespace {
constexpr int kInput = 64;
constexpr float kRoiScale = 2.3f;

float Dist(cv::Point2f a, cv::Point2f b) { return static_cast<float>(cv::norm(a - b)); }
}  // namespace

Expected<Iris> Iris::Create(const std::vector<std::uint8_t>& onnx) {
    auto net = LoadOnnxNet(onnx, "Iris");
    if (!net) return Unexpected{net.error()};
    return Iris(std::move(*net));
}

IrisEye Iris::Run(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool flip) {
    const cv::Point2f centre = (a + b) * 0.5f;
    const float side = kRoiScale * Dist(a, b);
    const float angle = std::atan2(b.y - a.y, b.x - a.x);
    AffineCrop crop = CropAffine(bgr, centre, side, side, angle, kInput, kInput);
    if (flip) cv::flip(crop.patch, crop.patch, 1);
    const cv::Mat blob = cv::dnn::blobFromImage(crop.patch, 1.0 / 255.0, cv::Size(kInput, kInput),
                                                cv::Scalar(), /*swapRB=*/true);
    net_.setInput(blob);
    std::vector<cv::Mat> outs;
    net_.forward(outs, std::vector<cv::String>{"output_eyes_contours_and_brows", "output_iris"});
    const auto to_image = [&](const float* p) {
        const float x = flip ? static_cast<float>(kInput) - p[0] : p[0];
        return crop.ToImage(x, p[1]);
    };
    IrisEye eye;
    const float* contour = outs[0].ptr<float>();
    for (int i = 0; i < 16; ++i) eye.lids[i] = to_image(contour + 3 * i);
    eye.iris_center = to_image(outs[1].ptr<float>());
    const float width = Dist(eye.lids[0], eye.lids[8]);
    eye.ear = width > 0 ? (Dist(eye.lids[11], eye.lids[3]) + Dist(eye.lids[13], eye.lids[5])) /
                              (2.0f * width)
                        : 0.0f;
    return eye;
}

}  // namespace liveproof::vision
