// Head pose in true degrees from solvePnP of the 468 mesh points against MediaPipe's canonical
// face.
#pragma once

#include <opencv2/core.hpp>
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

/// @brief Estimates pose with an uncalibrated pinhole camera (f = image width, centre = image
/// centre). yaw < 0: nose towards image-right; pitch < 0: looking up; roll > 0: clockwise.
/// THREAD SAFETY: pure function.
HeadPose EstimateHeadPose(const CanonicalFace& face, const std::vector<cv::Point2f>& mesh,
                          cv::Size image_size);

}  // namespace liveproof::vision
