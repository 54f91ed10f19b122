// Face attributes from pixels and mesh: luminance, sharpness, quality, occlusion, eye and mouth
// state.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "liveproof/options.hpp"

namespace liveproof::vision {

/// @brief Mean grey level (0..255, BT.601 weights) over the box clipped to the image.
float FaceLuminance(const cv::Mat& bgr, const cv::Rect2f& box);

/// @brief 1 - exp(-v / ref) of the Laplacian variance v of the face rescaled to 128 px wide
/// (so the score does not depend on resolution).
float FaceSharpness(const cv::Mat& bgr, const cv::Rect2f& box, float ref_variance);

/// @brief Weighted geometric mean: sharpness^0.5 * exposure^0.25 * size^0.25, where exposure
/// is 1 for luminance in [70,185] falling linearly to 0 at 0 and 255, and size is
/// min(1, eye_dist / full_eye_dist).
float FaceQuality(float sharpness, float luminance, float eye_dist, float full_eye_dist);

/// @brief Share (0..1) of lower-face probes (nose, philtrum, lower cheeks, chin) whose redness
/// (Cr - Cb) falls below max(8, 0.4 x the median redness of forehead/cheekbone skin). A fabric
/// mask, scarf or object over the lower face scores high; a skin-coloured hand does not; a
/// colourless image scores 0 (no reference). See docs/attributes.md.
/// Far-cheek probes are skipped when |yaw| > 25 degrees (pass 0 when the pose is unknown).
float FaceOcclusion(const cv::Mat& bgr, const std::vector<cv::Point2f>& mesh, float eye_dist,
                    float yaw);

/// @brief Inner-lip mouth aspect ratio on the mesh: (|13-14|+|82-87|+|312-317|) / (3|78-308|).
float MouthAspectRatio(const std::vector<cv::Point2f>& mesh);

/// @brief Mesh EAR (|p2-p6|+|p3-p5|)/(2|p1-p4|) for the image-left (left=true) or -right eye.
float MeshEyeAspectRatio(const std::vector<cv::Point2f>& mesh, bool image_left);

/// @brief Linear map of v from [zero_at, one_at] to [0,1], clamped (either order of ends).
float Ramp(float v, float zero_at, float one_at);

/// @brief True when the box lies within rate * side of any image edge (system C's rule, with
/// its x1/x2 and W/H mix-up fixed).
bool IsBoundaryFace(const cv::Rect2f& box, int width, int height, float rate);

}  // namespace liveproof::vision
