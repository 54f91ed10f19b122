// solvePnP (iterative) on all 468 points; Euler angles from R = Rz * Ry * Rx.
#include "vision/head_pose.hpp"

#include <cmath>
#include <opencv2/calib3d.hpp>
#include <sstream>

namespace liveproof::vision {

namespace {
constexpr int kMeshPoints = 468;
constexpr double kDeg = 180.0 / CV_PI;
}  // namespace

Expected<CanonicalFace> CanonicalFace::FromObj(const std::string& text) {
    CanonicalFace face;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() < 2 || line[0] != 'v' || line[1] != ' ') continue;
        std::istringstream v(line.substr(2));
        float x = 0, y = 0, z = 0;
        if (!(v >> x >> y >> z)) {
            return MakeError(ErrorCode::ModelCorrupt, "canonical face: malformed vertex line");
        }
        face.points.emplace_back(x, -y, -z);
    }
    if (face.points.size() != kMeshPoints) {
        return MakeError(ErrorCode::ModelCorrupt, "canonical face: expected 468 vertices, found " +
                                                      std::to_string(face.points.size()));
    }
    return face;
}

HeadPose EstimateHeadPose(const CanonicalFace& face, const std::vector<cv::Point2f>& mesh,
                          cv::Size image_size) {
    const double f = image_size.width;
    const cv::Matx33d k(f, 0, image_size.width / 2.0, 0, f, image_size.height / 2.0, 0, 0, 1);
    cv::Vec3d rvec, tvec;
    cv::solvePnP(face.points, mesh, k, cv::noArray(), rvec, tvec, false, cv::SOLVEPNP_ITERATIVE);
    cv::Matx33d r;
    cv::Rodrigues(rvec, r);
    HeadPose pose;
    pose.pitch = static_cast<float>(std::atan2(r(2, 1), r(2, 2)) * kDeg);
    pose.yaw = static_cast<float>(std::atan2(-r(2, 0), std::hypot(r(0, 0), r(1, 0))) * kDeg);
    pose.roll = static_cast<float>(std::atan2(r(1, 0), r(0, 0)) * kDeg);
    return pose;
}

}  // namespace liveproof::vision
