// Documented heuristics for the attribute scores (docs/attributes.md explains each choice).
#include "vision/attributes.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace liveproof::vision {

namespace {

float Dist(cv::Point2f a, cv::Point2f b) { return static_cast<float>(cv::norm(a - b)); }

cv::Rect ClipToImage(const cv::Rect2f& box, const cv::Mat& image) {
    const cv::Rect r(
        cv::Point(static_cast<int>(std::floor(box.x)), static_cast<int>(std::floor(box.y))),
        cv::Point(static_cast<int>(std::ceil(box.x + box.width)),
                  static_cast<int>(std::ceil(box.y + box.height))));
    return r & cv::Rect(0, 0, image.cols, image.rows);
}

// Mesh indices (MediaPipe order). Reference patches: forehead and cheekbones, skin that masks
// rarely cover; the median over them tolerates one or two landing on hair or a mask edge.
// Probes: lower-face skin away from the lips (whose colour is not skin's).
constexpr std::array<int, 7> kReferenceSkin = {151, 108, 337, 117, 346, 50, 280};
constexpr std::array<int, 8> kLowerProbes = {4, 164, 206, 426, 18, 199, 214, 434};
// Probes on the image-left (subject's right) and image-right cheek; the far one is hidden by
// the face itself when the head is turned, so it is skipped past kSideYaw degrees.
constexpr std::array<int, 2> kImageLeftProbes = {206, 214};
constexpr std::array<int, 2> kImageRightProbes = {426, 434};
constexpr float kSideYaw = 25.0f;
// Skin's "redness" Cr - Cb is ~15..80 under ordinary white balance; fabric, paper and plastic
// masks (white, grey, black, blue) sit near 0 or below. Measured on the shared mask images and
// AFLW2000 faces (docs/attributes.md).
constexpr float kMinRedness = 8.0f;
constexpr float kRednessShare = 0.4f;

}  // namespace

float FaceLuminance(const cv::Mat& bgr, const cv::Rect2f& box) {
    const cv::Rect r = ClipToImage(box, bgr);
    if (r.empty()) return 0.0f;
    const cv::Scalar m = cv::mean(bgr(r));
    return static_cast<float>(0.114 * m[0] + 0.587 * m[1] + 0.299 * m[2]);
}

float FaceSharpness(const cv::Mat& bgr, const cv::Rect2f& box, float ref_variance) {
    const cv::Rect r = ClipToImage(box, bgr);
    if (r.width < 4 || r.height < 4) return 0.0f;
    cv::Mat gray, scaled, lap;
    cv::cvtColor(bgr(r), gray, cv::COLOR_BGR2GRAY);
    const double s = 128.0 / r.width;
    cv::resize(gray, scaled, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Laplacian(scaled, lap, CV_32F);
    cv::Scalar mean, stddev;
    cv::meanStdDev(lap, mean, stddev);
    const double var = stddev[0] * stddev[0];
    return static_cast<float>(1.0 - std::exp(-var / ref_variance));
}

float FaceQuality(float sharpness, float luminance, float eye_dist, float full_eye_dist) {
    float exposure = 1.0f;
    if (luminance < 70.0f) exposure = std::max(0.0f, luminance / 70.0f);
    if (luminance > 185.0f) exposure = std::max(0.0f, (255.0f - luminance) / 70.0f);
    const float size = std::clamp(eye_dist / full_eye_dist, 0.0f, 1.0f);
    return std::pow(std::max(sharpness, 0.0f), 0.5f) * std::pow(exposure, 0.25f) *
           std::pow(size, 0.25f);
}

float FaceOcclusion(const cv::Mat& bgr, const std::vector<cv::Point2f>& mesh, float eye_dist,
                    float yaw) {
    if (mesh.size() < 468 || eye_dist <= 0) return 0.0f;
    const int half = std::max(1, static_cast<int>(0.08f * eye_dist));
    const cv::Rect bounds(0, 0, bgr.cols, bgr.rows);
    // Mean Cr - Cb of a small square around a mesh point; false when it falls off the image.
    auto redness = [&](int idx, float& out) {
        const cv::Point c(static_cast<int>(mesh[idx].x), static_cast<int>(mesh[idx].y));
        const cv::Rect r = cv::Rect(c.x - half, c.y - half, 2 * half + 1, 2 * half + 1) & bounds;
        if (r.area() < 4) return false;
        cv::Mat ycc;
        cv::cvtColor(bgr(r), ycc, cv::COLOR_BGR2YCrCb);
        const cv::Scalar m = cv::mean(ycc);
        out = static_cast<float>(m[1] - m[2]);
        return true;
    };
    std::vector<float> ref;
    for (int idx : kReferenceSkin) {
        float v = 0;
        if (redness(idx, v)) ref.push_back(v);
    }
    if (ref.size() < 3) return 0.0f;
    std::nth_element(ref.begin(), ref.begin() + static_cast<long>(ref.size() / 2), ref.end());
    const float skin = ref[ref.size() / 2];
    // A colourless (grey) or strongly tinted image gives no skin reference to judge against.
    if (skin < kMinRedness) return 0.0f;
    const float limit = std::max(kMinRedness, kRednessShare * skin);
    int probes = 0, off = 0;
    const auto hidden = [&](int idx) {
        const auto in = [idx](const auto& set) {
            return std::find(set.begin(), set.end(), idx) != set.end();
        };
        // yaw < 0: nose towards image-right, so the image-right cheek turns away.
        return (yaw < -kSideYaw && in(kImageRightProbes)) ||
               (yaw > kSideYaw && in(kImageLeftProbes));
    };
    for (int idx : kLowerProbes) {
        float v = 0;
        if (hidden(idx) || !redness(idx, v)) continue;
        ++probes;
        if (v < limit) ++off;
    }
    return probes == 0 ? 0.0f : static_cast<float>(off) / static_cast<float>(probes);
}

float MouthAspectRatio(const std::vector<cv::Point2f>& m) {
    const float width = Dist(m[78], m[308]);
    if (width <= 0) return 0.0f;
    return (Dist(m[13], m[14]) + Dist(m[82], m[87]) + Dist(m[312], m[317])) / (3.0f * width);
}

float MeshEyeAspectRatio(const std::vector<cv::Point2f>& m, bool image_left) {
    // p1..p6 as in landmark_maps.json.
    const std::array<int, 6> l = {33, 160, 158, 133, 153, 144};
    const std::array<int, 6> r = {362, 385, 387, 263, 373, 380};
    const auto& p = image_left ? l : r;
    const float width = Dist(m[p[0]], m[p[3]]);
    if (width <= 0) return 0.0f;
    return (Dist(m[p[1]], m[p[5]]) + Dist(m[p[2]], m[p[4]])) / (2.0f * width);
}

float Ramp(float v, float zero_at, float one_at) {
    if (zero_at == one_at) return v >= one_at ? 1.0f : 0.0f;
    return std::clamp((v - zero_at) / (one_at - zero_at), 0.0f, 1.0f);
}

bool IsBoundaryFace(const cv::Rect2f& box, int width, int height, float rate) {
    const float w = static_cast<float>(width), h = static_cast<float>(height);
    return box.x < rate * w || box.y < rate * h || box.x + box.width > (1.0f - rate) * w ||
           box.y + box.height > (1.0f - rate) * h;
}

}  // namespace liveproof::vision
