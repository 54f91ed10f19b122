// Rotated square/rectangular crops and their inverse mapping, as the models' references define
// them.
#pragma once

#include <opencv2/core.hpp>

namespace liveproof::vision {

/// @brief A rotated crop: the forward affine (image -> crop) and its inverse.
struct AffineCrop {
    cv::Mat patch;         ///< the cropped patch (out_w x out_h)
    cv::Matx23d to_crop;   ///< image -> crop
    cv::Matx23d to_image;  ///< crop -> image

    /// @brief Maps a crop point back to image coordinates.
    [[nodiscard]] cv::Point2f ToImage(float x, float y) const {
        return {static_cast<float>(to_image(0, 0) * x + to_image(0, 1) * y + to_image(0, 2)),
                static_cast<float>(to_image(1, 0) * x + to_image(1, 1) * y + to_image(1, 2))};
    }
};

/// @brief MANIFEST.md crop_affine: the w x h rectangle centred on c, rotated by angle (radians,
/// image coordinates, y down), warped to out_w x out_h with INTER_LINEAR and a constant border.
AffineCrop CropAffine(const cv::Mat& image, cv::Point2f c, float w, float h, float angle, int out_w,
                      int out_h, const cv::Scalar& border = cv::Scalar());

/// @brief Resizes so that the long side is at most max_side, keeping the aspect ratio (the two
/// axes differ only by integer rounding). The image is shared, not copied, when small enough.
void ResizeLongSide(const cv::Mat& in, int max_side, cv::Mat& out);

}  // namespace liveproof::vision
