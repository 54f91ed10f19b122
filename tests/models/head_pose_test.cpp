// Head pose from the mesh's points and depths, on synthetic projections of the canonical face.
#include "vision/head_pose.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

constexpr double kRad = CV_PI / 180.0;

std::optional<vision::CanonicalFace> Canonical() {
    std::ifstream in(ModelDir() / "mediapipe_canonical_face_model.obj");
    if (!in) return std::nullopt;
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto face = vision::CanonicalFace::FromObj(text);
    if (!face) return std::nullopt;
    return *face;
}

// What Face Mesh gives for a face: image points of a pinhole camera, and depths relative to the
// face in pixels at the face's scale (f / distance pixels per cm).
struct Projected {
    std::vector<cv::Point2f> points;
    std::vector<float> depth;
};

Projected Project(const vision::CanonicalFace& face, double yaw, double pitch, double roll,
                  cv::Vec3d at_cm, double focal, cv::Size size) {
    const double a = pitch * kRad, b = yaw * kRad, g = roll * kRad;
    const cv::Matx33d rx(1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a));
    const cv::Matx33d ry(std::cos(b), 0, std::sin(b), 0, 1, 0, -std::sin(b), 0, std::cos(b));
    const cv::Matx33d rz(std::cos(g), -std::sin(g), 0, std::sin(g), std::cos(g), 0, 0, 0, 1);
    const cv::Matx33d r = rz * ry * rx;
    Projected out;
    for (const cv::Point3f& p : face.points) {
        const cv::Vec3d c = r * cv::Vec3d(p.x, p.y, p.z) + at_cm;
        out.points.emplace_back(static_cast<float>(focal * c[0] / c[2] + size.width / 2.0),
                                static_cast<float>(focal * c[1] / c[2] + size.height / 2.0));
        out.depth.push_back(static_cast<float>((c[2] - at_cm[2]) * focal / at_cm[2]));
    }
    return out;
}

#define REQUIRE_CANONICAL(face)    \
    const auto face = Canonical(); \
    if (!face) GTEST_SKIP() << "canonical face absent: run scripts/install_models.sh"

TEST(HeadPose, RecoversATurnedFaceFromPointsAndDepth) {
    REQUIRE_CANONICAL(face);
    const cv::Size size(640, 480);
    // Off the optical axis and near the camera, so that perspective matters.
    const Projected m = Project(*face, 60, -20, 10, {3, -2, 40}, size.width, size);
    const auto pose = vision::EstimateHeadPose(*face, m.points, m.depth, size);
    ASSERT_TRUE(pose);
    EXPECT_NEAR(pose->yaw, 60, 1.5);
    EXPECT_NEAR(pose->pitch, -20, 1.5);
    EXPECT_NEAR(pose->roll, 10, 1.5);
}

TEST(HeadPose, SignsFollowTheProjectConvention) {
    REQUIRE_CANONICAL(face);
    const cv::Size size(640, 480);
    for (const auto& [yaw, pitch, roll] :
         {std::array<double, 3>{-45, 0, 0}, {0, 25, 0}, {0, 0, -30}, {30, -10, 5}}) {
        const Projected m = Project(*face, yaw, pitch, roll, {0, 0, 60}, size.width, size);
        const auto pose = vision::EstimateHeadPose(*face, m.points, m.depth, size);
        ASSERT_TRUE(pose);
        EXPECT_NEAR(pose->yaw, yaw, 1.5) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(pose->pitch, pitch, 1.5) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(pose->roll, roll, 1.5) << yaw << " " << pitch << " " << roll;
    }
}

TEST(HeadPose, DegenerateMeshHasNoPose) {
    REQUIRE_CANONICAL(face);
    const std::vector<cv::Point2f> flat(face->points.size(), cv::Point2f(10, 10));
    const std::vector<float> depth(face->points.size(), 0.0f);
    EXPECT_FALSE(vision::EstimateHeadPose(*face, flat, depth, cv::Size(64, 64)));
    EXPECT_FALSE(vision::EstimateHeadPose(*face, flat, {}, cv::Size(64, 64)));
}

}  // namespace
}  // namespace liveproof::test
