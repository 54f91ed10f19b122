// The crops Face Mesh runs on: from a detection (MANIFEST.md §4) and from a previous mesh
// (MediaPipe's tracking ROI).
#include <gtest/gtest.h>

#include <cmath>

#include "vision/face_mesh.hpp"

namespace liveproof::vision {
namespace {

TEST(MeshRoi, FromMeshIsTheAxisAlignedBoxOfThePointsRotatedByTheEyeCorners) {
    std::vector<cv::Point2f> mesh(468, cv::Point2f(100, 100));
    mesh[0] = {60, 80};  // extremes: x 60..160, y 80..220
    mesh[1] = {160, 220};
    mesh[33] = {90, 120};  // image-left eye outer corner
    mesh[263] = {130, 130};
    const MeshRoi roi = RoiFromMesh(mesh);
    EXPECT_FLOAT_EQ(roi.centre.x, 110);
    EXPECT_FLOAT_EQ(roi.centre.y, 150);
    EXPECT_FLOAT_EQ(roi.side, 1.5f * 140);
    EXPECT_NEAR(roi.angle, std::atan2(10.0, 40.0), 1e-6);
}

TEST(MeshRoi, FromDetectionIsTheBoxCentreAndTheEyeLine) {
    Detection d;
    d.box = cv::Rect2f(10, 20, 100, 80);
    d.kps[0] = {40, 50};
    d.kps[1] = {80, 50};
    const MeshRoi roi = RoiFromDetection(d);
    EXPECT_FLOAT_EQ(roi.centre.x, 60);
    EXPECT_FLOAT_EQ(roi.centre.y, 60);
    EXPECT_FLOAT_EQ(roi.side, 150);
    EXPECT_FLOAT_EQ(roi.angle, 0);
}

}  // namespace
}  // namespace liveproof::vision
