// The three Silent-Face samples reproduce the Python/OpenCV reference (golden_outputs.json)
// within its stated tolerances, stage by stage.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

using nlohmann::json;

// Tolerances from golden_outputs.json "_doc".
constexpr double kBoxTol = 0.5;            // px, YuNet box and keypoints
constexpr double kLandmarkTol = 0.5;       // px
constexpr double kProbTol = 1e-3;          // anti-spoof probabilities (golden rounded to 3 dp)
constexpr double kRatioTol = 0.01;         // EAR / MAR
constexpr double kPoseAgreementTol = 4.0;  // degrees, a different pose method (see below)

class GoldenTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        LIVEPROOF_REQUIRE_MODELS();
        std::ifstream in(SharedDir() / "models/samples/golden_outputs.json");
        golden_ = json::parse(in).at(GetParam());
        const auto bytes = ReadBytes(SharedDir() / "models/samples" / GetParam());
        AnalyzeOptions what;
        what.keep_mesh = true;
        auto result = SharedEngine()->Analyze(bytes, what);
        ASSERT_TRUE(result) << result.error().detail;
        analysis_ = std::move(*result);
        ASSERT_EQ(analysis_.faces.size(), 1u);
    }
    const FaceResult& face() const { return analysis_.faces[0]; }
    json golden_;
    ImageAnalysis analysis_;
};

void ExpectPoints(const std::vector<Point2>& got, const json& want, double tol, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        worst = std::max({worst, std::abs(got[i].x - want[i][0].get<double>()),
                          std::abs(got[i].y - want[i][1].get<double>())});
    }
    EXPECT_LE(worst, tol) << what << ": worst coordinate error " << worst << " px";
}

TEST_P(GoldenTest, DetectorBoxAndKeypointsMatchYuNetReference) {
    const auto& row = golden_.at("yunet_row");
    const FaceResult& f = face();
    EXPECT_NEAR(f.x1, row[0].get<double>(), kBoxTol);
    EXPECT_NEAR(f.y1, row[1].get<double>(), kBoxTol);
    EXPECT_NEAR(f.x2 - f.x1, row[2].get<double>(), kBoxTol);
    EXPECT_NEAR(f.y2 - f.y1, row[3].get<double>(), kBoxTol);
    const Point2 kps[5] = {f.keypoints.right_eye, f.keypoints.left_eye, f.keypoints.nose,
                           f.keypoints.right_mouth, f.keypoints.left_mouth};
    for (int k = 0; k < 5; ++k) {
        EXPECT_NEAR(kps[k].x, row[4 + 2 * k].get<double>(), kBoxTol) << "keypoint " << k;
        EXPECT_NEAR(kps[k].y, row[5 + 2 * k].get<double>(), kBoxTol) << "keypoint " << k;
    }
}

TEST_P(GoldenTest, MeshAndIbug68MatchReference) {
    EXPECT_NEAR(*face().mesh_presence, golden_.at("mesh_face_flag").get<double>(), 1e-3);
    ExpectPoints(face().mesh, golden_.at("mesh468_xy"), kLandmarkTol, "mesh468");
    ExpectPoints(face().landmark_68, golden_.at("mesh_to_ibug68_xy"), kLandmarkTol, "ibug68");
}

TEST_P(GoldenTest, AntiSpoofProbabilitiesMatchReference) {
    const auto& fas = golden_.at("fas_with_yunet_box");
    const AntiSpoofResult& a = *face().antispoof;
    for (int i = 0; i < 3; ++i) {
        EXPECT_NEAR(a.v2_probs[i], fas.at("p_MiniFASNetV2_2.7")[i].get<double>(), kProbTol);
        EXPECT_NEAR(a.v1se_probs[i], fas.at("p_MiniFASNetV1SE_4.0")[i].get<double>(), kProbTol);
    }
    EXPECT_EQ(a.label, fas.at("label").get<int>());
}

// The reference's pose is solvePnP of the 2-D mesh points; ours is a 3-D fit on a second mesh
// run (vision/head_pose.hpp), so only the agreement of yaw and roll is pinned here. Pitch differs
// by up to 10 degrees: the reference reads these faces 5-10 degrees more downward (the bias
// MANIFEST.md notes); on T1 the independent Peppa regressor says 0.3, we 3.7, the reference 13.8.
TEST_P(GoldenTest, HeadPoseYawAndRollAgreeWithTheSolvePnpReference) {
    const auto& p = golden_.at("pose_pnp_pitch_yaw_roll_deg");
    EXPECT_NEAR(face().pose->yaw, p[1].get<double>(), kPoseAgreementTol);
    EXPECT_NEAR(face().pose->roll, p[2].get<double>(), kPoseAgreementTol);
}

TEST_P(GoldenTest, IrisContoursAndEyeRatiosMatchReference) {
    const auto& ear = golden_.at("ear_iris_image_left_right");
    EXPECT_NEAR(face().eye_image_left->ear, ear[0].get<double>(), kRatioTol);
    EXPECT_NEAR(face().eye_image_right->ear, ear[1].get<double>(), kRatioTol);
    const auto contour = [](const EyeResult& e) {
        return std::vector<Point2>(e.contour.begin(), e.contour.end());
    };
    ExpectPoints(contour(*face().eye_image_left), golden_.at("iris_eye_contour16_image_left"),
                 kLandmarkTol, "left eye contour");
    ExpectPoints(contour(*face().eye_image_right), golden_.at("iris_eye_contour16_image_right"),
                 kLandmarkTol, "right eye contour");
    ExpectPoints({face().eye_image_left->iris_center},
                 json::array({golden_.at("iris_center_image_left")}), kLandmarkTol, "left iris");
    const auto& mesh_ear = golden_.at("ear_mesh_image_left_right");
    EXPECT_NEAR(*face().mesh_ear_left, mesh_ear[0].get<double>(), kRatioTol);
    EXPECT_NEAR(*face().mesh_ear_right, mesh_ear[1].get<double>(), kRatioTol);
}

TEST_P(GoldenTest, MouthRatioMatchesReference) {
    EXPECT_NEAR(*face().mouth_ratio, golden_.at("mar_mesh").get<double>(), kRatioTol);
}

INSTANTIATE_TEST_SUITE_P(Samples, GoldenTest,
                         ::testing::Values("image_T1.jpg", "image_F1.jpg", "image_F2.jpg"),
                         [](const auto& param_info) { return param_info.param.substr(6, 2); });

// The same verdicts with the default (downscaled) detector the server uses.
TEST(SampleVerdicts, T1IsLiveAndF1F2AreSpoofsWithDefaultDetector) {
    LIVEPROOF_REQUIRE_MODELS();
    const float threshold = DefaultEngine()->options().liveness_threshold;
    for (const auto& [name, live] :
         {std::pair{"image_T1.jpg", true}, std::pair{"image_F1.jpg", false},
          std::pair{"image_F2.jpg", false}}) {
        auto r = DefaultEngine()->Analyze(ReadBytes(SharedDir() / "models/samples" / name),
                                          AnalyzeOptions::PassiveOnly());
        ASSERT_TRUE(r) << r.error().detail;
        ASSERT_EQ(r->faces.size(), 1u) << name;
        const AntiSpoofResult& a = *r->faces[0].antispoof;
        EXPECT_EQ(a.p_real >= threshold, live) << name << " P(real)=" << a.p_real;
        EXPECT_EQ(a.label == 1, live) << name;
    }
}

}  // namespace
}  // namespace liveproof::test
