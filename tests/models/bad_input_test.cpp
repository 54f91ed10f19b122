// Bad inputs through the real engine: each is rejected by Analyze / AnalyzeBlinkVideo with the
// right code and a useful detail; re-encoded variants of a live sample (grey, RGBA, 16-bit, CMYK,
// EXIF-rotated) still give one live face in the same place; and bad inputs leave it healthy.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/cmyk_jpeg.hpp"
#include "support/media_fixtures.hpp"
#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

namespace fs = std::filesystem;

constexpr float kBoxTol = 3.0f;       // px: re-encoding and rotation move the box by about 1 px
constexpr float kGreyBoxTol = 10.0f;  // px, on a face box about 190 px across

fs::path T1Path() { return SharedDir() / "models" / "samples" / "image_T1.jpg"; }

// The sample as decoded by OpenCV (upright; it has no EXIF orientation).
const cv::Mat& T1() {
    static const cv::Mat image = cv::imread(T1Path().string(), cv::IMREAD_COLOR);
    return image;
}

// The engine's analysis of the untouched sample, the reference for every variant.
const ImageAnalysis& T1Reference() {
    static const ImageAnalysis analysis = [] {
        auto r = SharedEngine()->Analyze(ReadBytes(T1Path()));
        return r ? *r : ImageAnalysis{};
    }();
    return analysis;
}

struct BadCase {
    std::string what;
    Bytes bytes;
    ErrorCode code;
    std::string detail_part;
};

// One of every class of bad image, with the error it must give.
std::vector<BadCase> BadImages() {
    const Bytes t1 = ReadBytes(T1Path());
    const Bytes png = Encode(T1(), ".png");
    std::mt19937 rng(11);
    Bytes garbage = {0xFF, 0xD8, 0xFF};
    for (int i = 0; i < 4000; ++i) garbage.push_back(static_cast<std::uint8_t>(rng()));
    const std::string text = "<html>not an image</html>";
    Bytes oversized(33u << 20, 0);  // over the default 32 MiB cap, with JPEG magic
    oversized[0] = 0xFF;
    oversized[1] = 0xD8;
    oversized[2] = 0xFF;
    return {
        {"empty", {}, ErrorCode::EmptyInput, "empty"},
        {"HTML text", Bytes(text.begin(), text.end()), ErrorCode::UnsupportedFormat, "not a JPEG"},
        {"AVI video", MakeMjpegAvi(3, 64, 48, 30), ErrorCode::UnsupportedFormat, "not a JPEG"},
        {"T1 cut in half",
         Bytes(t1.begin(), t1.begin() + static_cast<std::ptrdiff_t>(t1.size() / 2)),
         ErrorCode::CorruptImage, "truncated"},
        {"T1 PNG cut in half",
         Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)),
         ErrorCode::CorruptImage, "could not be decoded"},
        {"garbage after JPEG magic", garbage, ErrorCode::CorruptImage, "JPEG"},
        {"PNG forged to 60000x60000", ForgedPng(60000, 60000), ErrorCode::ImageTooLarge,
         "60000x60000"},
        {"33 MiB", oversized, ErrorCode::InputTooLarge, "the cap is 33554432"},
    };
}

// One of every class of bad video, with the error it must give.
std::vector<BadCase> BadVideos() {
    const std::string text = "not a video\n";
    Bytes oversized(65u << 20, 0);  // over the default 64 MiB cap, with Matroska magic
    oversized[0] = 0x1A;
    oversized[1] = 0x45;
    oversized[2] = 0xDF;
    oversized[3] = 0xA3;
    std::mt19937 rng(5);
    Bytes garbage = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    for (int i = 0; i < 8000; ++i) garbage.push_back(static_cast<std::uint8_t>(rng()));
    return {
        {"empty", {}, ErrorCode::EmptyInput, "empty"},
        {"text", Bytes(text.begin(), text.end()), ErrorCode::VideoUnsupported, "not an MP4"},
        {"a JPEG", ReadBytes(T1Path()), ErrorCode::VideoUnsupported, "not an MP4"},
        {"65 MiB", oversized, ErrorCode::VideoTooLarge, "the cap is 67108864"},
        {"MP4 magic + garbage", garbage, ErrorCode::VideoUndecodable, "the video"},
        // 31 s at 30 fps: over the 20 s cap by the container's frame count.
        {"31 s AVI", MakeMjpegAvi(930, 64, 48, 30), ErrorCode::VideoTooLong, "the cap is 20"},
        // 1920x1200 frames: over the 1920x1088 pixel cap.
        {"1920x1200 AVI", MakeMjpegAvi(2, 1920, 1200, 30), ErrorCode::VideoTooLarge, "1920x1200"},
    };
}

class BadInputTest : public ::testing::Test {
  protected:
    void SetUp() override {
        LIVEPROOF_REQUIRE_MODELS();
        ASSERT_FALSE(T1().empty()) << T1Path() << " unreadable";
        ASSERT_EQ(T1Reference().faces.size(), 1u) << "the reference analysis of T1 failed";
    }
    const Engine& engine() const { return *SharedEngine(); }

    // The variant must give one live face whose box matches the untouched sample's.
    void ExpectOneLiveFaceLikeT1(const Bytes& bytes, float box_tol, const std::string& what) {
        auto r = engine().Analyze(bytes);
        ASSERT_TRUE(r) << what << ": " << r.error().detail;
        EXPECT_EQ(r->width, T1().cols) << what;
        EXPECT_EQ(r->height, T1().rows) << what;
        ASSERT_EQ(r->faces.size(), 1u) << what;
        const FaceResult& f = r->faces[0];
        const FaceResult& ref = T1Reference().faces[0];
        ASSERT_TRUE(f.antispoof.has_value()) << what;
        EXPECT_GE(f.antispoof->p_real, 0.5f) << what << ": judged a spoof";
        EXPECT_NEAR(f.x1, ref.x1, box_tol) << what;
        EXPECT_NEAR(f.y1, ref.y1, box_tol) << what;
        EXPECT_NEAR(f.x2, ref.x2, box_tol) << what;
        EXPECT_NEAR(f.y2, ref.y2, box_tol) << what;
    }
};

// --- Images ------------------------------------------------------------------------------------

TEST_F(BadInputTest, EveryBadImageIsRejectedWithItsCodeAndDetail) {
    for (const BadCase& c : BadImages()) {
        auto r = engine().Analyze(c.bytes);
        ASSERT_FALSE(r) << c.what << ": analysed, " << r->faces.size() << " faces";
        EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().detail;
        EXPECT_NE(r.error().detail.find(c.detail_part), std::string::npos)
            << c.what << ": detail '" << r.error().detail << "' lacks '" << c.detail_part << "'";
    }
}

TEST_F(BadInputTest, GreyscaleJpegAndPngOfT1GiveOneLiveFace) {
    cv::Mat grey;
    cv::cvtColor(T1(), grey, cv::COLOR_BGR2GRAY);
    // Grey changes what the detector sees more than re-encoding does (the box moves ~7 px).
    ExpectOneLiveFaceLikeT1(EncodeJpeg(grey), kGreyBoxTol, "grey JPEG");
    ExpectOneLiveFaceLikeT1(Encode(grey, ".png"), kGreyBoxTol, "grey PNG");
}

TEST_F(BadInputTest, RgbaPngOfT1GivesOneLiveFace) {
    cv::Mat bgra;
    cv::cvtColor(T1(), bgra, cv::COLOR_BGR2BGRA);
    bgra.forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 128; });  // half transparent
    ExpectOneLiveFaceLikeT1(Encode(bgra, ".png"), kBoxTol, "RGBA PNG");
}

TEST_F(BadInputTest, SixteenBitPngsOfT1GiveOneLiveFace) {
    cv::Mat wide;
    T1().convertTo(wide, CV_16UC3, 257.0);
    ExpectOneLiveFaceLikeT1(Encode(wide, ".png"), kBoxTol, "16-bit RGB PNG");
    cv::Mat grey, grey_wide;
    cv::cvtColor(T1(), grey, cv::COLOR_BGR2GRAY);
    grey.convertTo(grey_wide, CV_16UC1, 257.0);
    ExpectOneLiveFaceLikeT1(Encode(grey_wide, ".png"), kGreyBoxTol, "16-bit grey PNG");
}

TEST_F(BadInputTest, CmykJpegOfT1GivesOneLiveFace) {
    const Bytes cmyk = EncodeCmykJpeg(T1());
    ASSERT_EQ(JpegComponents(cmyk), 4);
    ExpectOneLiveFaceLikeT1(cmyk, kBoxTol, "CMYK JPEG");
}

class ExifT1Test : public BadInputTest, public ::testing::WithParamInterface<int> {};

TEST_P(ExifT1Test, ExifRotatedT1GivesTheUprightFaceBox) {
    const int orientation = GetParam();
    const Bytes jpeg = ExifRotatedJpeg(T1(), orientation, orientation == 6);
    ExpectOneLiveFaceLikeT1(jpeg, kBoxTol, "EXIF orientation " + std::to_string(orientation));
    auto r = engine().Analyze(jpeg);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->exif_orientation, orientation);
}

INSTANTIATE_TEST_SUITE_P(Orientations, ExifT1Test, ::testing::Values(3, 6, 8));

TEST_F(BadInputTest, SharedRotatedPhotosWithAnExifTagMatchTheUprightOne) {
    // conditions/rotated/*.jpg hold PNG data: the upright photo and its pixels rotated. Tagged
    // with the EXIF orientation that undoes the rotation, they must give the upright face boxes.
    const fs::path dir = SharedDir() / "data" / "conditions" / "rotated";
    const cv::Mat up = cv::imread((dir / "inspireface_rot_0.jpg").string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(up.empty());
    auto upright = engine().Analyze(ReadBytes(dir / "inspireface_rot_0.jpg"));
    ASSERT_TRUE(upright) << upright.error().detail;
    ASSERT_GE(upright->faces.size(), 1u);
    for (const char* name : {"inspireface_rot_90.jpg", "inspireface_rot_180.jpg"}) {
        const cv::Mat stored = cv::imread((dir / name).string(), cv::IMREAD_COLOR);
        ASSERT_FALSE(stored.empty()) << name;
        // Which orientation undoes the rotation, found from the pixels themselves.
        int orientation = 0;
        for (int o : {3, 6, 8}) {
            const cv::Mat candidate = StoredForOrientation(up, o);
            if (candidate.size() == stored.size() && MeanAbsDiff(candidate, stored) < 5.0) {
                orientation = o;
            }
        }
        ASSERT_NE(orientation, 0) << name << " is not a 90/180/270 rotation of rot_0";
        const Bytes tagged =
            InsertAfterSoi(EncodeJpeg(stored), App1Exif(ExifTiff(orientation, false)));
        auto r = engine().Analyze(tagged);
        ASSERT_TRUE(r) << name << ": " << r.error().detail;
        EXPECT_EQ(r->width, up.cols) << name;
        EXPECT_EQ(r->height, up.rows) << name;
        ASSERT_EQ(r->faces.size(), upright->faces.size()) << name;
        const FaceResult& f = r->faces[0];
        const FaceResult& ref = upright->faces[0];
        EXPECT_NEAR(f.x1, ref.x1, kBoxTol) << name;
        EXPECT_NEAR(f.y1, ref.y1, kBoxTol) << name;
        EXPECT_NEAR(f.x2, ref.x2, kBoxTol) << name;
        EXPECT_NEAR(f.y2, ref.y2, kBoxTol) << name;
    }
}

TEST_F(BadInputTest, ImagesTooSmallForTheDetectorGiveNoFaceNotAnException) {
    // YuNet cannot run on a side under 63 px; tiny images and thin strips (which downscaling
    // makes thinner still) must come back with zero faces.
    const std::vector<cv::Size> sizes = {{1, 1}, {40, 30}, {64, 48}, {62, 400}, {3000, 100}};
    for (const Engine* e : {SharedEngine(), DefaultEngine()}) {
        for (const cv::Size& size : sizes) {
            const cv::Mat img(size, CV_8UC3, cv::Scalar(90, 120, 150));
            const std::string what = std::to_string(size.width) + "x" +
                                     std::to_string(size.height) +
                                     (e == SharedEngine() ? " full-res" : " downscaled");
            try {
                auto r = e->Analyze(Encode(img, ".png"));
                ASSERT_TRUE(r) << what << ": " << r.error().detail;
                EXPECT_EQ(r->width, size.width) << what;
                EXPECT_TRUE(r->faces.empty()) << what;
            } catch (const std::exception& ex) {
                ADD_FAILURE() << what << ": exception " << ex.what();
            }
        }
    }
}

// --- Videos ------------------------------------------------------------------------------------

TEST_F(BadInputTest, EveryBadVideoIsRejectedWithItsCodeAndDetail) {
    for (const BadCase& c : BadVideos()) {
        auto r = engine().AnalyzeBlinkVideo(c.bytes);
        ASSERT_FALSE(r) << c.what << ": analysed " << r->frames_decoded << " frames";
        EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().detail;
        EXPECT_NE(r.error().detail.find(c.detail_part), std::string::npos)
            << c.what << ": detail '" << r.error().detail << "' lacks '" << c.detail_part << "'";
    }
}

TEST_F(BadInputTest, InconsistentBlinkOptionsAreInvalidArgument) {
    const Bytes avi = MakeMjpegAvi(3, 64, 48, 30);
    BlinkOptions o;
    o.open_threshold = o.close_threshold;
    auto r = engine().AnalyzeBlinkVideo(avi, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().detail.find("open_threshold"), std::string::npos) << r.error().detail;
    o = BlinkOptions{};
    o.antispoof_every = 0;
    r = engine().AnalyzeBlinkVideo(avi, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
}

TEST_F(BadInputTest, TruncatedSharedVideosAreUndecodableOrAnalysedUpToTheCut) {
    const std::vector<std::pair<std::string, int>> files = {{"apfol_real2_live_headturn.webm", 214},
                                                            {"wolf_live_blinks.mp4", 130}};
    for (const auto& [name, frames] : files) {
        const Bytes full = ReadBytes(SharedDir() / "data" / "video" / name);
        ASSERT_FALSE(full.empty()) << name;
        for (std::size_t n : {std::size_t{4096}, full.size() / 10}) {
            const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            auto r = engine().AnalyzeBlinkVideo(cut);
            const std::string label = name + " cut to " + std::to_string(n);
            if (r) {
                EXPECT_GT(r->frames_decoded, 0) << label;
                EXPECT_LT(r->frames_decoded, frames) << label;
                EXPECT_EQ(r->frames.size(), static_cast<std::size_t>(r->frames_decoded)) << label;
            } else {
                EXPECT_EQ(r.error().code, ErrorCode::VideoUndecodable)
                    << label << ": " << r.error().detail;
            }
        }
    }
}

TEST_F(BadInputTest, VideoWithoutAFaceFailsWithAReasonNotAnError) {
    auto r = engine().AnalyzeBlinkVideo(MakeMjpegAvi(10, 64, 48, 30));
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->frames_decoded, 10);
    EXPECT_EQ(r->frames_with_face, 0);
    EXPECT_FALSE(r->passed);
    EXPECT_EQ(r->reason, "too_few_face_frames");
}

// --- Recovery ----------------------------------------------------------------------------------

TEST_F(BadInputTest, ManyBadInputsInARowLeaveTheEngineAnalysingGoodImagesIdentically) {
    const std::vector<BadCase> images = BadImages();
    const std::vector<BadCase> videos = BadVideos();
    // Two threads hammer both pipelines with every bad input, then a good image must give the
    // same answer as before.
    auto hammer = [&] {
        for (int round = 0; round < 5; ++round) {
            for (const BadCase& c : images) {
                auto r = engine().Analyze(c.bytes);
                if (r || r.error().code != c.code) ADD_FAILURE() << c.what << " (image)";
            }
            for (const BadCase& c : videos) {
                auto r = engine().AnalyzeBlinkVideo(c.bytes);
                if (r || r.error().code != c.code) ADD_FAILURE() << c.what << " (video)";
            }
        }
    };
    std::thread a(hammer), b(hammer);
    a.join();
    b.join();
    for (int i = 0; i < 2; ++i) {  // both workers
        auto r = engine().Analyze(ReadBytes(T1Path()));
        ASSERT_TRUE(r) << r.error().detail;
        ASSERT_EQ(r->faces.size(), 1u);
        const FaceResult& f = r->faces[0];
        const FaceResult& ref = T1Reference().faces[0];
        EXPECT_FLOAT_EQ(f.x1, ref.x1);
        EXPECT_FLOAT_EQ(f.y1, ref.y1);
        EXPECT_FLOAT_EQ(f.x2, ref.x2);
        EXPECT_FLOAT_EQ(f.y2, ref.y2);
        EXPECT_NEAR(f.antispoof->p_real, ref.antispoof->p_real, 1e-5f);
        EXPECT_GE(f.antispoof->p_real, 0.5f);
    }
}

}  // namespace
}  // namespace liveproof::test

// --- Time budget (a legal 20 s 1080p clip held a worker 45 s) -----------------------------------

namespace liveproof {
namespace {

std::unique_ptr<Engine> EngineWithBudgets(double image_s, double video_s) {
    EngineOptions o;
    o.model_dir = test::ModelDir().string();
    o.workers = 1;
    o.time_budget_seconds = image_s;
    o.video_time_budget_seconds = video_s;
    auto e = Engine::Create(o);
    EXPECT_TRUE(e) << (e ? "" : e.error().detail);
    return e ? std::move(*e) : nullptr;
}

TEST(TimeBudgetTest, VideoOverItsBudgetIsAbandonedWithTheFramesDone) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto video = test::ReadBytes(test::SharedDir() / "data/video/wolf_live_blinks.mp4");
    ASSERT_FALSE(video.empty());
    // 0.5 s is a sixth of what the 130-frame clip needs here (~3 s).
    auto engine = EngineWithBudgets(0, 0.5);
    ASSERT_TRUE(engine);
    const auto start = std::chrono::steady_clock::now();
    auto r = engine->AnalyzeBlinkVideo(video);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeBudgetExceeded) << r.error().detail;
    EXPECT_NE(r.error().detail.find("frames done"), std::string::npos) << r.error().detail;
    // Abandoned within about one frame's work of the budget, not at the end of the clip.
    EXPECT_LT(took, 2.0);
    // Without a budget the same clip passes.
    auto unbounded = EngineWithBudgets(0, 0);
    ASSERT_TRUE(unbounded);
    auto full = unbounded->AnalyzeBlinkVideo(video);
    ASSERT_TRUE(full) << full.error().detail;
    EXPECT_TRUE(full->passed) << full->reason;
}

TEST(TimeBudgetTest, TheVideoBudgetIsTheAnalysisTimeSummedOverSlices) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto video = test::ReadBytes(test::SharedDir() / "data/video/wolf_live_blinks.mp4");
    auto engine = EngineWithBudgets(0, 0.5);
    ASSERT_TRUE(engine);
    auto job = engine->StartBlinkVideo(video);
    ASSERT_TRUE(job) << job.error().detail;
    // One frame per slice (each far below 0.5 s): only the sum can pass the budget.
    while (!(*job)->Step(std::chrono::steady_clock::now())) {
    }
    auto r = (*job)->Result();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeBudgetExceeded) << r.error().detail;
    EXPECT_LT((*job)->frames_done(), 130);
}

TEST(TimeBudgetTest, ImageWhoseDecodeTakesLongerThanTheBudgetIsNotAnalysed) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto t1 = test::ReadBytes(test::SharedDir() / "models/samples/image_T1.jpg");
    ASSERT_FALSE(t1.empty());
    // A budget far below any decode: the analysis is refused after the decode.
    auto tiny = EngineWithBudgets(1e-6, 0);
    ASSERT_TRUE(tiny);
    auto r = tiny->Analyze(t1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::TimeBudgetExceeded);
    auto ample = EngineWithBudgets(2.0, 0);
    ASSERT_TRUE(ample);
    auto ok = ample->Analyze(t1);
    ASSERT_TRUE(ok) << ok.error().detail;
    EXPECT_EQ(ok->faces.size(), 1u);
}

}  // namespace
}  // namespace liveproof
