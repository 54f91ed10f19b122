// Pose by similarity Procrustes (Kabsch with scale) on the perspective-unprojected mesh; Euler
// angles from R = Rz * Ry * Rx.
#include "vision/head_pose.hpp"

#include <cmath>
#include <sstream>

namespace liveproof::vision {

namespace {
constexpr std::size_t kMeshPoints = 468;
constexpr double kDeg = 180.0 / CV_PI;
// Two passes, as MediaPipe's geometry pipeline: the first fixes the face's distance, the second
// fits the rotation on points unprojected at that distance.
constexpr int kPasses = 2;
// Pixels per cm (first fit) or cm per cm (later fits) below which the points have no spread
// left, only rounding: even a 24-pixel face is more than 1 pixel per cm.
constexpr double kMinScale = 1e-3;

struct Similarity {
    cv::Matx33d rotation;  // canonical -> camera
    double scale = 0;      // camera units per canonical cm
};

// Least-squares q ~ scale * R * p + t over all points (Umeyama's closed form, equal weights):
// the rotation is the polar factor of the cross-covariance, with the reflection excluded.
Similarity FitSimilarity(const std::vector<cv::Point3f>& p, const std::vector<cv::Vec3d>& q) {
    const double n = static_cast<double>(p.size());
    cv::Vec3d pc(0, 0, 0), qc(0, 0, 0);
    for (std::size_t i = 0; i < p.size(); ++i) {
        pc += cv::Vec3d(p[i].x, p[i].y, p[i].z);
        qc += q[i];
    }
    pc /= n;
    qc /= n;
    cv::Matx33d cov = cv::Matx33d::zeros();
    double p_var = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const cv::Vec3d a = cv::Vec3d(p[i].x, p[i].y, p[i].z) - pc;
        const cv::Vec3d b = q[i] - qc;
        cov += b * a.t();
        p_var += a.dot(a);
    }
    cv::Matx33d u, vt;
    cv::Vec3d w;
    cv::SVD::compute(cov, w, u, vt);
    const double d = cv::determinant(u * vt) < 0 ? -1.0 : 1.0;
    Similarity s;
    s.rotation = u * cv::Matx33d(1, 0, 0, 0, 1, 0, 0, 0, d) * vt;
    s.scale = (w[0] + w[1] + d * w[2]) / p_var;
    return s;
}
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

// MediaPipe's face geometry pipeline fits the canonical face this way, using the mesh's z. On
// AFLW2000 it is about as good as solvePnP on the 2-D points near frontal and about a degree
// closer on turned faces; most of the error there came from the crop, not the fit (RoiFromMesh,
// docs/accuracy.md "Head pose").
std::optional<HeadPose> EstimateHeadPose(const CanonicalFace& face,
                                         const std::vector<cv::Point2f>& points,
                                         const std::vector<float>& depth, cv::Size image_size) {
    const std::size_t n = face.points.size();
    if (n == 0 || points.size() != n || depth.size() != n) return std::nullopt;
    const double f = image_size.width;
    const double cx = image_size.width / 2.0;
    const double cy = image_size.height / 2.0;
    double mean_z = 0;
    for (float z : depth) mean_z += z;
    mean_z /= static_cast<double>(n);

    // Weak perspective first: pixels as they are, so the scale is pixels per cm.
    std::vector<cv::Vec3d> q(n);
    for (std::size_t i = 0; i < n; ++i) q[i] = {points[i].x, points[i].y, depth[i] - mean_z};
    Similarity s = FitSimilarity(face.points, q);
    if (!(s.scale > kMinScale) || !std::isfinite(s.scale)) return std::nullopt;
    // A face whose 1 cm spans `scale` pixels is f / scale cm away; each point's own depth is
    // that plus its mesh z converted to cm.
    double distance = f / s.scale;
    const double px_per_cm = s.scale;
    for (int pass = 0; pass < kPasses; ++pass) {
        for (std::size_t i = 0; i < n; ++i) {
            const double z = distance + (depth[i] - mean_z) / px_per_cm;
            q[i] = {(points[i].x - cx) * z / f, (points[i].y - cy) * z / f, z};
        }
        s = FitSimilarity(face.points, q);
        if (!(s.scale > kMinScale) || !std::isfinite(s.scale)) return std::nullopt;
        distance /= s.scale;  // in canonical cm: the unprojected face is `scale` times too big
    }
    const cv::Matx33d& r = s.rotation;
    HeadPose pose;
    pose.pitch = static_cast<float>(std::atan2(r(2, 1), r(2, 2)) * kDeg);
    pose.yaw = static_cast<float>(std::atan2(-r(2, 0), std::hypot(r(0, 0), r(1, 0))) * kDeg);
    pose.roll = static_cast<float>(std::atan2(r(1, 0), r(0, 0)) * kDeg);
    return pose;
}

}  // namespace liveproof::vision
