// TrackHint: analysing at the previous frame's face skips the detector and agrees with detection.
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

TrackHint HintFrom(const FaceResult& f) {
    TrackHint h;
    h.x = f.x1;
    h.y = f.y1;
    h.w = f.x2 - f.x1;
    h.h = f.y2 - f.y1;
    h.right_eye = f.keypoints.right_eye;
    h.left_eye = f.keypoints.left_eye;
    return h;
}

TEST(Tracking, HintAtTheDetectedFaceReproducesTheDetectedAnalysis) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto bytes = ReadBytes(SharedDir() / "models/samples/image_T1.jpg");
    auto detected = DefaultEngine()->Analyze(bytes);
    ASSERT_TRUE(detected);
    ASSERT_EQ(detected->faces.size(), 1u);
    AnalyzeOptions what;
    what.track = HintFrom(detected->faces[0]);
    auto tracked = DefaultEngine()->Analyze(bytes, what);
    ASSERT_TRUE(tracked) << tracked.error().detail;
    EXPECT_EQ(tracked->detector, "track");
    EXPECT_EQ(tracked->timings_ms.count("detect"), 0u) << "the detector must not run";
    ASSERT_EQ(tracked->faces.size(), 1u);
    const FaceResult& a = detected->faces[0];
    const FaceResult& b = tracked->faces[0];
    EXPECT_NEAR(a.pose->yaw, b.pose->yaw, 0.01);
    EXPECT_NEAR(a.antispoof->p_real, b.antispoof->p_real, 1e-4);
    EXPECT_NEAR(a.landmark_68[30].x, b.landmark_68[30].x, 0.01);
}

TEST(Tracking, HintWhereNoFaceIsFallsBackToTheDetector) {
    LIVEPROOF_REQUIRE_MODELS();
    // The top-right corner of T1 is background: the mesh's face flag rejects it, and the
    // detector finds the face where it is.
    const auto bytes = ReadBytes(SharedDir() / "models/samples/image_T1.jpg");
    auto detected = DefaultEngine()->Analyze(bytes);
    ASSERT_TRUE(detected);
    ASSERT_EQ(detected->faces.size(), 1u);
    AnalyzeOptions what;
    what.track = TrackHint{380, 10, 90, 110, {400, 50}, {450, 50}};
    auto r = DefaultEngine()->Analyze(bytes, what);
    ASSERT_TRUE(r);
    EXPECT_NE(r->detector, "track");
    EXPECT_EQ(r->timings_ms.count("detect"), 1u);
    ASSERT_EQ(r->faces.size(), 1u);
    EXPECT_NEAR(r->faces[0].x1, detected->faces[0].x1, 0.01);
}

}  // namespace
}  // namespace liveproof::test
