// MiniFASNet preprocessing exactly as Silent-Face's test.py: BGR, raw 0..255, 80x80, softmax fused.
#include "vision/anti_spoof.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/onnx_net.hpp"

namespace liveproof::vision {

namespace {
constexpr int kInput = 80;
constexpr float kScaleV2 = 2.7f;
constexpr float kScaleV1se = 4.0f;
constexpr int kRealClass = 1;
}  // namespace

cv::Rect SilentFacePatch(const cv::Rect& box, int image_w, int image_h, float s) {
    // Float arithmetic in double, as the Python reference does.
    const double w = box.width, h = box.height;
    const double scale = std::min({(image_h - 1) / h, (image_w - 1) / w, static_cast<double>(s)});
    const double nw = w * scale, nh = h * scale;
    const double cx = box.x + w / 2.0, cy = box.y + h / 2.0;
    double l = cx - nw / 2.0, t = cy - nh / 2.0, r = cx + nw / 2.0, b = cy + nh / 2.0;
    if (l < 0) {
        r -= l;
        l = 0;
    }
    if (t < 0) {
        b -= t;
        t = 0;
    }
    if (r > image_w - 1) {
        l -= r - image_w + 1;
        r = image_w - 1;
    }
    if (b > image_h - 1) {
        t -= b - image_h + 1;
        b = image_h - 1;
    }
    const int li = static_cast<int>(l), ti = static_cast<int>(t);
    const int ri = static_cast<int>(r), bi = static_cast<int>(b);
    return {li, ti, ri - li + 1, bi - ti + 1};  // inclusive slice img[t:b+1, l:r+1]
}

Expected<AntiSpoof::Network> AntiSpoof::Load(const std::vector<std::uint8_t>& onnx,
                                             const char* what, InferenceBackend backend) {
    Network n;
    if (backend == InferenceBackend::Xnnpack) {
        auto xnn = XnnNet::FromOnnx(onnx, what);
        if (!xnn) return Unexpected{xnn.error()};
        const std::vector<std::size_t> expected{1, kInput, kInput, 3};
        if ((*xnn)->input_dims() != expected || (*xnn)->output_size() != 3) {
            return MakeError(ErrorCode::ModelCorrupt,
                             std::string(what) + " is not a 1x3x80x80 -> 3 classes network");
        }
        n.xnnpack = std::move(*xnn);
        return n;
    }
    auto net = LoadOnnxNet(onnx, what);
    if (!net) return Unexpected{net.error()};
    n.opencv = std::move(*net);
    return n;
}

Expected<AntiSpoof> AntiSpoof::Create(const std::vector<std::uint8_t>& v2_onnx,
                                      const std::vector<std::uint8_t>& v1se_onnx,
                                      InferenceBackend backend) {
    auto v2 = Load(v2_onnx, "MiniFASNetV2", backend);
    if (!v2) return Unexpected{v2.error()};
    auto v1se = Load(v1se_onnx, "MiniFASNetV1SE", backend);
    if (!v1se) return Unexpected{v1se.error()};
    return AntiSpoof(std::move(*v2), std::move(*v1se));
}

std::array<float, 3> AntiSpoof::Forward(Network& net, const cv::Mat& bgr, const cv::Rect& box,
                                        float scale) {
    const cv::Rect patch_box =
        SilentFacePatch(box, bgr.cols, bgr.rows, scale) & cv::Rect(0, 0, bgr.cols, bgr.rows);
    // INTER_LINEAR, as the reference; raw 0..255 BGR, no mean or scale.
    cv::resize(bgr(patch_box), patch_, cv::Size(kInput, kInput));
    std::array<float, 3> z{};
    if (net.xnnpack) {
        const auto logits = net.xnnpack->RunImage(patch_, 1.0, /*swap_rb=*/false);
        std::copy_n(logits.begin(), 3, z.begin());
    } else {
        net.opencv.setInput(cv::dnn::blobFromImage(patch_, 1.0, cv::Size(kInput, kInput),
                                                   cv::Scalar(), /*swapRB=*/false));
        const cv::Mat logits = net.opencv.forward();
        std::copy_n(logits.ptr<float>(), 3, z.begin());
    }
    const float m = std::max({z[0], z[1], z[2]});
    std::array<float, 3> p{std::exp(z[0] - m), std::exp(z[1] - m), std::exp(z[2] - m)};
    const float sum = p[0] + p[1] + p[2];
    for (float& v : p) v /= sum;
    return p;
}

AntiSpoofResult AntiSpoof::Run(const cv::Mat& bgr, const cv::Rect2f& box) {
    const cv::Rect ibox(static_cast<int>(box.x), static_cast<int>(box.y),
                        static_cast<int>(box.width), static_cast<int>(box.height));
    AntiSpoofResult r;
    r.v2_probs = Forward(v2_, bgr, ibox, kScaleV2);
    r.v1se_probs = Forward(v1se_, bgr, ibox, kScaleV1se);
    std::array<float, 3> sum{};
    for (int i = 0; i < 3; ++i) sum[i] = r.v2_probs[i] + r.v1se_probs[i];
    r.label = static_cast<int>(std::max_element(sum.begin(), sum.end()) - sum.begin());
    r.p_real = sum[kRealClass] / 2.0f;
    return r;
}

}  // namespace liveproof::vision
