// Affine crops shared by the mesh, iris and landmark models.
#include "vision/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace liveproof::vision {

AffineCrop CropAffine(const cv::Mat& image, cv::Point2f c, float w, float h, float angle, int out_w,
                      int out_h, const cv::Scalar& border) {
    const cv::Point2f u(std::cos(angle) * w / 2.0f, std::sin(angle) * w / 2.0f);
    const cv::Point2f v(-std::sin(angle) * h / 2.0f, std::cos(angle) * h / 2.0f);
    const cv::Point2f src[3] = {c - u - v, c + u - v, c - u + v};
    const cv::Point2f dst[3] = {
        {0.0f, 0.0f}, {static_cast<float>(out_w), 0.0f}, {0.0f, static_cast<float>(out_h)}};
    AffineCrop crop;
    const cv::Mat m = cv::getAffineTransform(src, dst);
    cv::warpAffine(image, crop.patch, m, cv::Size(out_w, out_h), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, border);
    cv::Mat inv;
    cv::invertAffineTransform(m, inv);
    crop.to_crop = cv::Matx23d(m);
    crop.to_image = cv::Matx23d(inv);
    return crop;
}

void ResizeLongSide(const cv::Mat& in, int max_side, cv::Mat& out) {
    const int long_side = std::max(in.cols, in.rows);
    if (max_side <= 0 || long_side <= max_side) {
        out = in;
        return;
    }
    const double scale = static_cast<double>(max_side) / long_side;
    const int w = std::max(1, static_cast<int>(std::lround(in.cols * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(in.rows * scale)));
    cv::resize(in, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
}

}  // namespace liveproof::vision
