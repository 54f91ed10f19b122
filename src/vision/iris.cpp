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
constexpr std::size_t kContourValues = 213;  // 71 points x/y/z; the first 16 are the eyelids
constexpr std::size_t kIrisValues = 15;      // 5 points x/y/z; the first is the centre

float Dist(cv::Point2f a, cv::Point2f b) { return static_cast<float>(cv::norm(a - b)); }
}  // namespace

Expected<Iris> Iris::Create(const std::vector<std::uint8_t>& onnx, InferenceBackend backend) {
    if (backend == InferenceBackend::Xnnpack) {
        auto xnn = XnnNet::FromOnnx(onnx, "Iris");
        if (!xnn) return Unexpected{xnn.error()};
        // Graph order: output_eyes_contours_and_brows then output_iris, both 2-D, the order the
        // OpenCV path asks for; the sizes tell the two apart, so a reordered graph is refused.
        const std::vector<std::size_t> input{1, kInput, kInput, 3};
        if ((*xnn)->input_dims() != input || (*xnn)->output_count() != 2 ||
            (*xnn)->output(0).size() != kContourValues || (*xnn)->output(1).size() != kIrisValues) {
            return MakeError(ErrorCode::ModelCorrupt,
                             "Iris is not a 1x3x64x64 -> 213 contour + 15 iris values network");
        }
        return Iris(cv::dnn::Net(), std::move(*xnn));
    }
    auto net = LoadOnnxNet(onnx, "Iris");
    if (!net) return Unexpected{net.error()};
    return Iris(std::move(*net), nullptr);
}

IrisEye Iris::Run(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool flip) {
    const cv::Point2f centre = (a + b) * 0.5f;
    const float side = kRoiScale * Dist(a, b);
    const float angle = std::atan2(b.y - a.y, b.x - a.x);
    AffineCrop crop = CropAffine(bgr, centre, side, side, angle, kInput, kInput);
    if (flip) cv::flip(crop.patch, crop.patch, 1);
    const float* contour = nullptr;
    const float* iris = nullptr;
    std::vector<cv::Mat> outs;
    if (xnn_) {
        xnn_->RunImage(crop.patch, 1.0 / 255.0, /*swap_rb=*/true);  // as the blob below
        contour = xnn_->output(0).data();
        iris = xnn_->output(1).data();
    } else {
        const cv::Mat blob = cv::dnn::blobFromImage(
            crop.patch, 1.0 / 255.0, cv::Size(kInput, kInput), cv::Scalar(), /*swapRB=*/true);
        net_.setInput(blob);
        net_.forward(outs,
                     std::vector<cv::String>{"output_eyes_contours_and_brows", "output_iris"});
        contour = outs[0].ptr<float>();
        iris = outs[1].ptr<float>();
    }
    const auto to_image = [&](const float* p) {
        const float x = flip ? static_cast<float>(kInput) - p[0] : p[0];
        return crop.ToImage(x, p[1]);
    };
    IrisEye eye;
    for (int i = 0; i < 16; ++i) eye.lids[i] = to_image(contour + 3 * i);
    eye.iris_center = to_image(iris);
    const float width = Dist(eye.lids[0], eye.lids[8]);
    eye.ear = width > 0 ? (Dist(eye.lids[11], eye.lids[3]) + Dist(eye.lids[13], eye.lids[5])) /
                              (2.0f * width)
                        : 0.0f;
    return eye;
}

}  // namespace liveproof::vision
