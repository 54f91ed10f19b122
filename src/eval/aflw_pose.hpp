// AFLW2000-3D pose labels (Pose_Para) re-expressed in the project's head-pose convention.
#pragma once

namespace liveproof::eval {

/// @brief Head-pose angles in degrees, in the project's convention (HeadPose): R = Rz * Ry * Rx,
/// yaw > 0 towards image-left, pitch > 0 head down, roll > 0 clockwise.
struct EulerAngles {
    double yaw = 0, pitch = 0, roll = 0;
};

/// @brief Converts AFLW2000-3D Pose_Para angles (degrees, as labels.csv gives them: pitch > 0
/// looking up) to the project's convention. AFLW2000 composes its rotation in the other order,
/// R = Rx(-pitch) * Ry(yaw) * Rz(roll) in our axes, so beyond small angles the same head has
/// different Euler angles in the two conventions (at yaw -55 and roll -15, a pitch of 7 up in
/// AFLW's order is 8.5 down in ours). Near frontal this is (yaw, -pitch, roll).
/// THREAD SAFETY: pure function.
EulerAngles AflwPoseToOurs(double yaw_deg, double pitch_deg, double roll_deg);

}  // namespace liveproof::eval
