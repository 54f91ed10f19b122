// Pipeline::ConfirmFace: the Face Mesh's face flag, checked right after detection so that a
// detector false positive costs the mesh and nothing more, and never counts as a face.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "engine/models.hpp"
#include "engine/pipeline.hpp"
#include "media/decode.hpp"
#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

// The pipeline keeps references to the options and the models: they live on the heap, where a
// move of the fixture leaves them.
struct Fixture {
    std::unique_ptr<EngineOptions> options;
    std::unique_ptr<engine::Models> models;
    std::unique_ptr<engine::Pipeline> pipeline;
    cv::Mat bgr;
};

Fixture Make() {
    auto options = std::make_unique<EngineOptions>();
    options->model_dir = ModelDir().string();
    const EngineOptions& o = *options;
    auto models = engine::Models::Load(o);
    EXPECT_TRUE(models) << models.error().detail;
    Fixture f{
        std::move(options), std::make_unique<engine::Models>(std::move(*models)), nullptr, {}};
    auto p = engine::Pipeline::Create(*f.models, o);
    EXPECT_TRUE(p) << p.error().detail;
    f.pipeline = std::move(*p);
    auto decoded =
        media::DecodeImage(ReadBytes(SharedDir() / "models/samples/image_T1.jpg"), o.limits);
    EXPECT_TRUE(decoded);
    f.bgr = decoded->bgr;
    return f;
}

TEST(FacePresence, TheDetectedFaceIsConfirmedAndBackgroundIsNot) {
    LIVEPROOF_REQUIRE_MODELS();
    Fixture f = Make();
    const auto faces = f.pipeline->Detect(f.bgr, 320);
    ASSERT_EQ(faces.size(), 1u);
    std::map<std::string, double> timings;
    const auto mesh = f.pipeline->ConfirmFace(f.bgr, faces[0], timings);
    ASSERT_TRUE(mesh.has_value());
    EXPECT_GE(mesh->presence, 0.5f);
    EXPECT_EQ(timings.count("mesh"), 1u);
    // A "detection" on the background (T1's top-right corner), as a detector false positive
    // would give: the mesh says no face.
    vision::Detection fake;
    fake.box = cv::Rect2f(380, 10, 90, 110);
    fake.kps = {cv::Point2f(400, 50), cv::Point2f(450, 50), cv::Point2f(425, 75),
                cv::Point2f(405, 100), cv::Point2f(445, 100)};
    fake.score = 0.95f;
    fake.has_keypoints = true;
    const auto not_a_face = f.pipeline->ConfirmFace(f.bgr, fake, timings);
    EXPECT_FALSE(not_a_face.has_value()) << "presence " << not_a_face->presence;
}

TEST(FacePresence, TheConfirmedMeshIsTheOneTheAnalysisUses) {
    LIVEPROOF_REQUIRE_MODELS();
    Fixture f = Make();
    const auto faces = f.pipeline->Detect(f.bgr, 320);
    ASSERT_EQ(faces.size(), 1u);
    std::map<std::string, double> timings;
    const auto mesh = f.pipeline->ConfirmFace(f.bgr, faces[0], timings);
    ASSERT_TRUE(mesh.has_value());
    const FaceResult full =
        f.pipeline->AnalyzeFace(f.bgr, faces[0], AnalyzeOptions{}, timings, &*mesh);
    ASSERT_TRUE(full.mesh_presence.has_value());
    EXPECT_EQ(*full.mesh_presence, mesh->presence);
    // The whole image path agrees (it confirms, then analyses).
    ImageAnalysis a;
    f.pipeline->Analyze(f.bgr, AnalyzeOptions{}, a);
    ASSERT_EQ(a.faces.size(), 1u);
    EXPECT_NEAR(a.faces[0].landmark_68[30].x, full.landmark_68[30].x, 1e-3);
    EXPECT_NEAR(a.faces[0].antispoof->p_real, full.antispoof->p_real, 1e-6);
    // Passive only: no mesh, no presence (the passive check stays mesh-free).
    const FaceResult passive =
        f.pipeline->AnalyzeFace(f.bgr, faces[0], AnalyzeOptions::PassiveOnly(), timings, nullptr);
    EXPECT_FALSE(passive.mesh_presence.has_value());
    EXPECT_TRUE(passive.antispoof.has_value());
}

}  // namespace
}  // namespace liveproof::test
