// The XNNPACK path (YuNet, the two MiniFASNets) gives OpenCV's answers on every anti-spoofing
// image of the shared data, and refuses what it cannot run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "support/labels.hpp"
#include "support/test_support.hpp"
#include "vision/xnn_net.hpp"
#include "vision/yunet_xnnpack.hpp"

namespace liveproof::test {
namespace {

// Both backends compute the same fp32 graph; only the order of the sums differs. Measured:
// 1.0e-6 at most over the 178 scored faces (docs/performance.md).
constexpr double kMaxProbabilityDifference = 1e-4;
// YuNet on XNNPACK is decoded as cv::FaceDetectorYN decodes it: the boxes agree to float
// rounding (the same faces survive NMS).
constexpr double kMaxBoxDifference = 0.01;

std::unique_ptr<Engine> EngineOn(InferenceBackend backend) {
    EngineOptions o;
    o.model_dir = ModelDir().string();
    o.workers = 1;
    o.inference_backend = backend;
    auto e = Engine::Create(o);
    EXPECT_TRUE(e) << e.error().detail;
    return e ? std::move(*e) : nullptr;
}

TEST(InferenceBackend, XnnpackGivesOpenCvsFacesAndProbabilitiesOnEveryAntiSpoofingImage) {
    LIVEPROOF_REQUIRE_MODELS();
    auto opencv = EngineOn(InferenceBackend::OpenCV);
    auto xnnpack = EngineOn(InferenceBackend::Xnnpack);
    ASSERT_TRUE(opencv && xnnpack);
    int faces = 0;
    double worst = 0;
    double worst_box = 0;  // detector box corners, full-image pixels
    for (const LabelRow& row : ReadLabels(SharedDir() / "data" / "labels.csv")) {
        if (row.task != "antispoof" && row.task != "antispoof_crop") continue;
        const auto bytes = ReadBytes(SharedDir() / "data" / row.file);
        auto a = opencv->Analyze(bytes, AnalyzeOptions::PassiveOnly());
        auto b = xnnpack->Analyze(bytes, AnalyzeOptions::PassiveOnly());
        ASSERT_TRUE(a && b) << row.file;
        ASSERT_EQ(a->faces.size(), b->faces.size()) << row.file;
        for (std::size_t i = 0; i < a->faces.size(); ++i) {
            const AntiSpoofResult& x = *a->faces[i].antispoof;
            const AntiSpoofResult& y = *b->faces[i].antispoof;
            for (int k = 0; k < 3; ++k) {
                worst = std::max({worst, double{std::abs(x.v2_probs[k] - y.v2_probs[k])},
                                  double{std::abs(x.v1se_probs[k] - y.v1se_probs[k])}});
            }
            EXPECT_EQ(x.label, y.label) << row.file;
            const FaceResult& fa = a->faces[i];
            const FaceResult& fb = b->faces[i];
            for (const float d : {fa.x1 - fb.x1, fa.y1 - fb.y1, fa.x2 - fb.x2, fa.y2 - fb.y2}) {
                worst_box = std::max(worst_box, double{std::abs(d)});
            }
            ++faces;
        }
    }
    EXPECT_GT(faces, 150);  // the shared data's anti-spoofing rows were all read
    EXPECT_LE(worst, kMaxProbabilityDifference);
    EXPECT_LE(worst_box, kMaxBoxDifference);
    std::printf(
        "over %d faces: max |difference| of any class probability %.3g, of a box corner "
        "%.3g px\n",
        faces, worst, worst_box);
}

TEST(InferenceBackend, YuNetOnXnnpackBuildsNewSizesOnlyAtABoundedRate) {
    LIVEPROOF_REQUIRE_MODELS();
    auto yunet = vision::YuNetXnnpack::Create(
        ReadBytes(ModelDir() / "face_detection_yunet_2022mar.onnx"), 0.8f, 0.3f);
    ASSERT_TRUE(yunet) << yunet.error().detail;
    const cv::Mat frame =
        cv::imread((SharedDir() / "data/antispoof/video_frames/apfol_real2_f000.jpg").string());
    ASSERT_FALSE(frame.empty());
    const auto at = [&](int w, int h) {
        cv::Mat small;
        cv::resize(frame, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
        return small;
    };
    // Two sizes fill the cache; a third is declined (the caller runs OpenCV) ...
    ASSERT_TRUE((*yunet)->Detect(at(320, 240)));
    ASSERT_TRUE((*yunet)->Detect(at(240, 320)));
    EXPECT_FALSE((*yunet)->Detect(at(300, 240)));
    // ... while the cached ones keep running, until enough detections have passed to pay
    // for one more build.
    int declined = 0;
    for (int i = 0; i < 70; ++i) {
        if (!(*yunet)->Detect(at(300, 240))) ++declined;
        ASSERT_TRUE((*yunet)->Detect(at(320, 240)));
    }
    EXPECT_GT(declined, 10);
    EXPECT_LT(declined, 70);
    // The faces are cv::FaceDetectorYN's.
    auto cv_yunet =
        cv::FaceDetectorYN::create((ModelDir() / "face_detection_yunet_2022mar.onnx").string(), "",
                                   cv::Size(320, 240), 0.8f, 0.3f, 5000);
    cv::Mat want;
    cv_yunet->detect(at(320, 240), want);
    const auto got = (*yunet)->Detect(at(320, 240));
    ASSERT_TRUE(got);
    ASSERT_EQ(got->rows, want.rows);
    ASSERT_EQ(got->rows, 1);
    for (int c = 0; c < 15; ++c) {
        EXPECT_NEAR(got->at<float>(0, c), want.at<float>(0, c), 1e-3) << "column " << c;
    }
}

TEST(InferenceBackend, XnnpackRefusesBytesThatAreNotAModel) {
    const std::vector<std::uint8_t> garbage = {'n', 'o', 't', ' ', 'o', 'n', 'n', 'x', 0xff};
    auto net = vision::XnnNet::FromOnnx(garbage, "MiniFASNetV2");
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().code, ErrorCode::ModelCorrupt);
    EXPECT_NE(net.error().detail.find("MiniFASNetV2"), std::string::npos);
}

TEST(InferenceBackend, XnnpackRefusesAModelWithAnOpItCannotRun) {
    LIVEPROOF_REQUIRE_MODELS();
    // YuNet's whole graph ends in Transpose/Concat/Softmax, which the converter does not
    // handle (YuNetXnnpack cuts it at the heads).
    auto net = vision::XnnNet::FromOnnx(ReadBytes(ModelDir() / "face_detection_yunet_2022mar.onnx"),
                                        "YuNet");
    ASSERT_FALSE(net);
    EXPECT_EQ(net.error().code, ErrorCode::ModelCorrupt);
    EXPECT_NE(net.error().detail.find("unsupported ONNX op"), std::string::npos)
        << net.error().detail;
}

}  // namespace
}  // namespace liveproof::test
