// AFLW2000-3D labels in the project's Euler convention.
#include "eval/aflw_pose.hpp"

#include <gtest/gtest.h>

namespace liveproof::eval {
namespace {

TEST(AflwPose, NearFrontalOnlyNegatesPitch) {
    const EulerAngles e = AflwPoseToOurs(0.94, -4.66, 5.64);  // image00050
    EXPECT_NEAR(e.yaw, 0.94, 0.5);
    EXPECT_NEAR(e.pitch, 4.66, 0.5);
    EXPECT_NEAR(e.roll, 5.64, 0.5);
}

TEST(AflwPose, SingleAxisTurnsKeepTheirAngle) {
    EXPECT_NEAR(AflwPoseToOurs(70, 0, 0).yaw, 70, 1e-9);
    EXPECT_NEAR(AflwPoseToOurs(0, 30, 0).pitch, -30, 1e-9);
    EXPECT_NEAR(AflwPoseToOurs(0, 0, -25).roll, -25, 1e-9);
}

// image00251: its own 3-D landmarks say the head is tilted down by about 10 degrees in our
// convention, although Pose_Para's pitch reads 7 "up" in AFLW's rotation order.
TEST(AflwPose, TurnedFaceChangesPitchAndRoll) {
    const EulerAngles e = AflwPoseToOurs(-54.69, 6.99, -14.58);
    EXPECT_NEAR(e.yaw, -54.54, 0.05);
    EXPECT_NEAR(e.pitch, 8.53, 0.05);
    EXPECT_NEAR(e.roll, -15.36, 0.05);
}

}  // namespace
}  // namespace liveproof::eval
