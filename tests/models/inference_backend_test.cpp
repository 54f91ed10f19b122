// The XNNPACK path (YuNet, the two MiniFASNets, Face Mesh, Iris) gives OpenCV's answers on the
// shared data's real images, and refuses what it cannot run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <set>
#include <tuple>

#include "media/decode.hpp"
#include "support/labels.hpp"
#include "support/test_support.hpp"
#include "vision/attributes.hpp"
#include "vision/iris.hpp"
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

constexpr double kMaxLandmarkDifferencePx = 0.05;
constexpr double kMaxPresenceDifference = 1e-4;
constexpr double kMaxClosedScoreDifference = 1e-4;
// Through the engine the iris crop is placed by the mesh's eye corners, and warpAffine samples
// at 1/32 px with 8-bit results: a corner that moves by a few thousandths of a pixel (the mesh's
// own difference) flips the rounding of some crop pixels, which moves the iris output far more
// than the two backends differ on one crop. OpenCV alone moves as much when handed the other
// backend's corners (printed as "OpenCV, other corners"), so this bound is about the pipeline's
// sensitivity, not XNNPACK.
constexpr double kMaxEndToEndEyeDifferencePx = 0.25;
constexpr double kMaxEndToEndClosedScoreDifference = 0.01;

double Distance(const Point2& a, const Point2& b) {
    return std::hypot(double{a.x} - double{b.x}, double{a.y} - double{b.y});
}
double Distance(cv::Point2f a, cv::Point2f b) {
    return Distance(Point2{a.x, a.y}, Point2{b.x, b.y});
}

// Every image under the shared data folders that hold faces for the mesh and eye tasks, plus the
// anti-spoofing faces (webcam frames and tight crops).
std::vector<std::filesystem::path> MeshAndEyeImages() {
    const std::set<std::string> image_ext{".jpg", ".jpeg", ".png"};
    std::vector<std::filesystem::path> files;
    for (const char* dir : {"eyes_mouth", "headpose/aflw2000", "antispoof"}) {
        const auto root = SharedDir() / "data" / dir;
        if (!std::filesystem::is_directory(root)) continue;
        for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
            if (e.is_regular_file() && image_ext.count(e.path().extension().string()))
                files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// The largest differences between pairs of eye results.
struct EyeWorst {
    double px = 0, closed = 0, ear = 0;
    int eyes = 0;
    void Add(const vision::IrisEye& p, const vision::IrisEye& q) {
        const AttributeOptions a;
        for (std::size_t k = 0; k < p.lids.size(); ++k)
            px = std::max(px, Distance(p.lids[k], q.lids[k]));
        px = std::max(px, Distance(p.iris_center, q.iris_center));
        closed = std::max(closed, double{std::abs(vision::Ramp(p.ear, a.ear_open, a.ear_closed) -
                                                  vision::Ramp(q.ear, a.ear_open, a.ear_closed))});
        ear = std::max(ear, double{std::abs(p.ear - q.ear)});
        ++eyes;
    }
    void Add(const EyeResult& p, const EyeResult& q) {
        for (std::size_t k = 0; k < p.contour.size(); ++k)
            px = std::max(px, Distance(p.contour[k], q.contour[k]));
        px = std::max(px, Distance(p.iris_center, q.iris_center));
        closed = std::max(closed, double{std::abs(p.closed - q.closed)});
        ear = std::max(ear, double{std::abs(p.ear - q.ear)});
        ++eyes;
    }
    void Print(const char* what) const {
        std::printf("%-38s %3d eyes: max point distance %.3g px, |d closed| %.3g, |d EAR| %.3g\n",
                    what, eyes, px, closed, ear);
    }
};

TEST(InferenceBackend, XnnpackGivesOpenCvsMeshAndEyesOnRealImages) {
    LIVEPROOF_REQUIRE_MODELS();
    auto opencv = EngineOn(InferenceBackend::OpenCV);
    auto xnnpack = EngineOn(InferenceBackend::Xnnpack);
    ASSERT_TRUE(opencv && xnnpack);
    const auto iris_onnx = ReadBytes(ModelDir() / "mediapipe_iris_landmark.onnx");
    auto iris_cv = vision::Iris::Create(iris_onnx, InferenceBackend::OpenCV);
    auto iris_xnn = vision::Iris::Create(iris_onnx, InferenceBackend::Xnnpack);
    ASSERT_TRUE(iris_cv && iris_xnn);
    AnalyzeOptions what;
    what.antispoof = false;  // compared above
    what.keep_mesh = true;
    int faces = 0;
    double mesh_px = 0, presence = 0;
    EyeWorst same_crop, end_to_end, cv_other_corners;
    for (const auto& file : MeshAndEyeImages()) {
        const auto bytes = ReadBytes(file);
        auto a = opencv->Analyze(bytes, what);
        auto b = xnnpack->Analyze(bytes, what);
        ASSERT_EQ(bool(a), bool(b)) << file;
        if (!a) continue;  // refused on both (over a cap): nothing to compare
        // The detector runs on OpenCV either way, so the mesh sees the same crop; its face flag
        // filters detections, so equal counts also mean no flag crossed mesh_min_presence on
        // one side only.
        ASSERT_EQ(a->faces.size(), b->faces.size()) << file;
        const auto image = media::DecodeImage(bytes, EngineOptions{}.limits);
        ASSERT_TRUE(image) << file;
        for (std::size_t i = 0; i < a->faces.size(); ++i) {
            const FaceResult& x = a->faces[i];
            const FaceResult& y = b->faces[i];
            ASSERT_TRUE(x.mesh_presence && y.mesh_presence) << file;
            presence = std::max(presence, double{std::abs(*x.mesh_presence - *y.mesh_presence)});
            ASSERT_EQ(x.mesh.size(), 468u) << file;
            ASSERT_EQ(y.mesh.size(), 468u) << file;
            for (std::size_t k = 0; k < x.mesh.size(); ++k)
                mesh_px = std::max(mesh_px, Distance(x.mesh[k], y.mesh[k]));
            ASSERT_TRUE(x.eye_image_left && y.eye_image_left && x.eye_image_right &&
                        y.eye_image_right)
                << file;
            end_to_end.Add(*x.eye_image_left, *y.eye_image_left);
            end_to_end.Add(*x.eye_image_right, *y.eye_image_right);
            // The iris network alone: both backends on the crop OpenCV's mesh corners give
            // (the pipeline's eyes: corners 33-133, and 362-263 mirrored).
            const auto corner = [](const FaceResult& f, int k) {
                return cv::Point2f(f.mesh[static_cast<std::size_t>(k)].x,
                                   f.mesh[static_cast<std::size_t>(k)].y);
            };
            for (const auto& [c0, c1, flip] : {std::tuple{33, 133, false}, {362, 263, true}}) {
                const vision::IrisEye p =
                    iris_cv->Run(image->bgr, corner(x, c0), corner(x, c1), flip);
                same_crop.Add(p, iris_xnn->Run(image->bgr, corner(x, c0), corner(x, c1), flip));
                cv_other_corners.Add(p,
                                     iris_cv->Run(image->bgr, corner(y, c0), corner(y, c1), flip));
            }
            ++faces;
        }
    }
    std::printf("%d faces: max mesh point distance %.3g px, max |d presence| %.3g\n", faces,
                mesh_px, presence);
    same_crop.Print("iris network, same crop:");
    end_to_end.Print("end to end (crop from each mesh):");
    cv_other_corners.Print("OpenCV, other corners (no XNNPACK):");
    EXPECT_GT(faces, 150);  // the folders were found and most of their faces confirmed
    EXPECT_LE(mesh_px, kMaxLandmarkDifferencePx);
    EXPECT_LE(presence, kMaxPresenceDifference);
    EXPECT_LE(same_crop.px, kMaxLandmarkDifferencePx);
    EXPECT_LE(same_crop.closed, kMaxClosedScoreDifference);
    EXPECT_LE(end_to_end.px, kMaxEndToEndEyeDifferencePx);
    EXPECT_LE(end_to_end.closed, kMaxEndToEndClosedScoreDifference);
}

// Face Mesh and Iris have two graph outputs each; XnnNet keeps them all, in graph order.
TEST(InferenceBackend, XnnpackKeepsEveryGraphOutputInGraphOrder) {
    LIVEPROOF_REQUIRE_MODELS();
    auto mesh = vision::XnnNet::FromOnnx(ReadBytes(ModelDir() / "mediapipe_face_landmark.onnx"),
                                         "Face Mesh");
    ASSERT_TRUE(mesh) << mesh.error().detail;
    ASSERT_EQ((*mesh)->output_count(), 2u);
    EXPECT_EQ((*mesh)->output(0).size(), 1404u);  // conv2d_21: 468 x/y/z
    EXPECT_EQ((*mesh)->output(1).size(), 1u);     // conv2d_31: the face flag
    EXPECT_EQ((*mesh)->output_size(), 1404u);     // the first output, as before
    auto iris =
        vision::XnnNet::FromOnnx(ReadBytes(ModelDir() / "mediapipe_iris_landmark.onnx"), "Iris");
    ASSERT_TRUE(iris) << iris.error().detail;
    ASSERT_EQ((*iris)->output_count(), 2u);
    EXPECT_EQ((*iris)->output(0).size(), 213u);  // output_eyes_contours_and_brows
    EXPECT_EQ((*iris)->output(1).size(), 15u);   // output_iris
    EXPECT_EQ((*iris)->output_dims(1), (std::vector<std::size_t>{1, 15}));
    auto v2 = vision::XnnNet::FromOnnx(ReadBytes(ModelDir() / "2.7_80x80_MiniFASNetV2.onnx"),
                                       "MiniFASNetV2");
    ASSERT_TRUE(v2) << v2.error().detail;
    EXPECT_EQ((*v2)->output_count(), 1u);
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
