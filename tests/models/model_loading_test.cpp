// Start-up checks: missing or altered model files are refused with the file named; Haar fallback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

namespace fs = std::filesystem;

// A private copy of the installed model folder that a test may damage.
class ModelDirCopy : public ::testing::Test {
  protected:
    void SetUp() override {
        LIVEPROOF_REQUIRE_MODELS();
        dir_ = fs::temp_directory_path() /
               ("liveproof-models-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        for (const auto& entry : fs::directory_iterator(ModelDir())) {
            fs::copy_file(entry.path(), dir_ / entry.path().filename());
        }
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    Expected<std::unique_ptr<Engine>> Create(DetectorKind detector = DetectorKind::Auto) const {
        EngineOptions o;
        o.model_dir = dir_.string();
        o.workers = 1;
        o.detector = detector;
        return Engine::Create(o);
    }
    fs::path dir_;
};

TEST_F(ModelDirCopy, IntactFolderStarts) { EXPECT_TRUE(Create()); }

TEST_F(ModelDirCopy, MissingModelIsRefusedNamingTheFile) {
    fs::remove(dir_ / "mediapipe_iris_landmark.onnx");
    auto e = Create();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::ModelMissing);
    EXPECT_NE(e.error().detail.find("mediapipe_iris_landmark.onnx"), std::string::npos)
        << e.error().detail;
}

TEST_F(ModelDirCopy, AlteredModelIsRefusedAsCorruptNamingTheFile) {
    {
        std::fstream f(dir_ / "2.7_80x80_MiniFASNetV2.onnx",
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(1000);
        f.put('\x42');  // one byte changed, size unchanged
    }
    auto e = Create();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::ModelCorrupt);
    EXPECT_NE(e.error().detail.find("2.7_80x80_MiniFASNetV2.onnx"), std::string::npos)
        << e.error().detail;
}

TEST_F(ModelDirCopy, MissingManifestIsRefused) {
    fs::remove(dir_ / "MANIFEST");
    auto e = Create();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::ManifestInvalid);
}

TEST_F(ModelDirCopy, ExplicitYuNetWithoutItsFileIsRefused) {
    fs::remove(dir_ / "face_detection_yunet_2022mar.onnx");
    auto e = Create(DetectorKind::YuNet);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::ModelMissing);
}

TEST_F(ModelDirCopy, WithoutYuNetAutoFallsBackToHaarAndStillJudgesTheSamples) {
    fs::remove(dir_ / "face_detection_yunet_2022mar.onnx");
    auto e = Create(DetectorKind::Auto);
    ASSERT_TRUE(e) << e.error().detail;
    for (const auto& [name, live] :
         {std::pair{"image_T1.jpg", true}, std::pair{"image_F2.jpg", false}}) {
        auto r = (*e)->Analyze(ReadBytes(SharedDir() / "models/samples" / name));
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(r->detector, "haar");
        ASSERT_EQ(r->faces.size(), 1u) << name;
        EXPECT_EQ(r->faces[0].antispoof->p_real >= 0.5f, live)
            << name << " " << r->faces[0].antispoof->p_real;
        EXPECT_EQ(r->faces[0].landmark_68.size(), 68u);
    }
}

}  // namespace
}  // namespace liveproof::test
