// Head pose in true degrees: similarity Procrustes of the mesh's 3-D landmarks (x, y and z) against
// MediaPipe's canonical face, as MediaPipe's face geometry pipeline does.
#pragma once

#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "liveproof/expected.hpp"
#include "liveproof/types.hpp"

namespace liveproof::vision {

/// @brief The canonical face in OpenCV camera axes (x right, y down, z forward), cm.
struct CanonicalFace {
    std::vector<cv::Point3f> points;  ///< 468 vertices in mesh order

    /// @brief Parses the 468 "v x y z" lines of mediapipe_canonical_face_model.obj, mapping
    /// (x, y, z) -> (x, -y, -z).
    static Expected<CanonicalFace> FromObj(const std::string& text);
};

/// @brief Estimates pose from the mesh's 468 points (image pixels) and depths (image pixels at
/// the x scale, larger = further from the camera, any origin), with an uncalibrated pinhole
/// camera (f = image width, centre = image centre). yaw < 0: nose towards image-right; pitch < 0:
/// looking up; roll > 0: clockwise. Euler angles from R = Rz * Ry * Rx.
///
/// Requires points.size() == depth.size() == face.points.size(). Returns nullopt when the
/// points have no spread (a degenerate mesh on a flat image).
/// THREAD SAFETY: pure function.
std::optional<HeadPose> EstimateHeadPose(const CanonicalFace& face,
                                         const std::vector<cv::Point2f>& points,
                                         const std::vector<float>& depth, cv::Size image_size);

}  // namespace liveproof::vision
