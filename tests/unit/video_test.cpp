// SniffVideo and ForEachVideoFrame: containers by magic bytes, every cap (bytes, duration, frame
// count, frame size) enforced with a clear error, and empty, foreign, truncated or garbage videos
// rejected (or read up to the cut) without a crash or a hang.
#include "media/video.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "support/media_fixtures.hpp"
#include "support/test_support.hpp"

namespace liveproof::media {
namespace {

namespace fs = std::filesystem;
using test::Bytes;

constexpr int kWidth = 64;
constexpr int kHeight = 48;
constexpr double kFps = 30.0;

using test::AviFrameLevel;
using test::MakeMjpegAvi;

// Shared across the tests of this binary: a 1.5 s clip and a 5 s clip.
const Bytes& ShortAvi() {
    static const Bytes bytes = MakeMjpegAvi(45, kWidth, kHeight, kFps);
    return bytes;
}
const Bytes& FiveSecondAvi() {
    static const Bytes bytes = MakeMjpegAvi(150, kWidth, kHeight, kFps);
    return bytes;
}

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes Prefix(const Bytes& b, std::size_t n) {
    return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(n, b.size())));
}

// Runs ForEachVideoFrame, recording the frames' indices and checking each is 8-bit BGR.
struct FrameRun {
    Expected<VideoInfo> info = MakeError(ErrorCode::Internal, "not run");
    std::vector<int> indices;
    std::vector<double> levels;  // mean of the bottom-right quarter of each frame
    cv::Size size;
    bool all_bgr = true;
};

FrameRun Decode(const Bytes& bytes, const MediaLimits& limits = {}) {
    FrameRun run;
    run.info = ForEachVideoFrame(bytes, limits, [&run](int index, const cv::Mat& frame) {
        run.indices.push_back(index);
        run.size = frame.size();
        run.all_bgr = run.all_bgr && frame.type() == CV_8UC3 && !frame.empty();
        const cv::Rect quarter(frame.cols / 2, frame.rows / 2, frame.cols / 2, frame.rows / 2);
        run.levels.push_back(cv::mean(frame(quarter))[1]);
    });
    return run;
}

void ExpectError(const FrameRun& run, ErrorCode code, const std::string& detail_part,
                 const std::string& what) {
    ASSERT_FALSE(run.info) << what << ": read " << run.info->frames_read << " frames";
    EXPECT_EQ(run.info.error().code, code) << what << ": " << run.info.error().detail;
    EXPECT_NE(run.info.error().detail.find(detail_part), std::string::npos)
        << what << ": detail '" << run.info.error().detail << "' lacks '" << detail_part << "'";
}

fs::path SharedVideo(const std::string& name) {
    return test::SharedDir() / "data" / "video" / name;
}

// --- Sniffing --------------------------------------------------------------------------------

TEST(SniffVideoTest, EmptyIsEmptyInput) {
    auto c = SniffVideo({});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::EmptyInput);
}

TEST(SniffVideoTest, RecognisesAviMp4AndMatroskaMagic) {
    auto avi = SniffVideo(ShortAvi());
    ASSERT_TRUE(avi) << avi.error().detail;
    EXPECT_EQ(*avi, VideoContainer::Avi);

    Bytes mp4 = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    auto m = SniffVideo(mp4);
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, VideoContainer::Mp4);

    const Bytes ebml = {0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81};
    auto w = SniffVideo(ebml);
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, VideoContainer::Matroska);
}

TEST(SniffVideoTest, ForeignBytesAreVideoUnsupported) {
    const cv::Mat card = test::TestCard(32, 24);
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"text", Text("this is not a video at all")},
        {"JPEG", test::EncodeJpeg(card)},
        {"PNG", test::Encode(card, ".png")},
        {"WebP (RIFF but not AVI)", test::Encode(card, ".webp")},
        {"ftyp cut before the brand", Bytes{0, 0, 0, 0x20, 'f', 't', 'y', 'p'}},
        {"one byte", Bytes{0x1A}},
    };
    for (const auto& [what, bytes] : cases) {
        auto c = SniffVideo(bytes);
        ASSERT_FALSE(c) << what;
        EXPECT_EQ(c.error().code, ErrorCode::VideoUnsupported) << what;
        EXPECT_NE(c.error().detail.find("not an MP4/MOV, WebM/MKV or AVI"), std::string::npos)
            << what << ": " << c.error().detail;
    }
}

TEST(SniffVideoTest, SharedVideosAreSniffedByContent) {
    const std::vector<std::pair<std::string, VideoContainer>> files = {
        {"apfol_real2_live_headturn.webm", VideoContainer::Matroska},
        {"wolf_live_blinks.mp4", VideoContainer::Mp4}};
    int seen = 0;
    for (const auto& [name, want] : files) {
        if (!fs::exists(SharedVideo(name))) continue;
        ++seen;
        auto c = SniffVideo(test::ReadBytes(SharedVideo(name)));
        ASSERT_TRUE(c) << name << ": " << c.error().detail;
        EXPECT_EQ(*c, want) << name;
    }
    if (seen == 0) GTEST_SKIP() << "../shared/data/video absent";
}

// --- Rejected before decoding ----------------------------------------------------------------

TEST(VideoFramesTest, EmptyIsEmptyInputAndNoFrameIsDelivered) {
    const FrameRun run = Decode({});
    ExpectError(run, ErrorCode::EmptyInput, "empty", "0 bytes");
    EXPECT_TRUE(run.indices.empty());
}

TEST(VideoFramesTest, TextAndImagesAreVideoUnsupported) {
    ExpectError(Decode(Text("GET / HTTP/1.1\r\n\r\n")), ErrorCode::VideoUnsupported, "not an MP4",
                "text");
    ExpectError(Decode(test::EncodeJpeg(test::TestCard(64, 48))), ErrorCode::VideoUnsupported,
                "not an MP4", "a JPEG");
}

TEST(VideoFramesTest, BytesOverTheCapAreVideoTooLargeBeforeSniffing) {
    ASSERT_FALSE(ShortAvi().empty()) << "OpenCV's MJPEG writer failed";
    MediaLimits limits;
    limits.max_video_bytes = ShortAvi().size() - 1;
    const FrameRun run = Decode(ShortAvi(), limits);
    ExpectError(run, ErrorCode::VideoTooLarge,
                std::to_string(ShortAvi().size()) + " bytes; the cap is " +
                    std::to_string(ShortAvi().size() - 1),
                "one byte over");
    EXPECT_TRUE(run.indices.empty());
    limits.max_video_bytes = 100;
    ExpectError(Decode(Text(std::string(101, 'x')), limits), ErrorCode::VideoTooLarge,
                "the cap is 100", "text over the cap");
}

// --- A good video and its caps ---------------------------------------------------------------

TEST(VideoFramesTest, ShortAviDeliversEveryFrameInOrderWithItsSize) {
    ASSERT_FALSE(ShortAvi().empty()) << "OpenCV's MJPEG writer failed";
    const FrameRun run = Decode(ShortAvi());
    ASSERT_TRUE(run.info) << run.info.error().detail;
    EXPECT_EQ(run.info->frames_read, 45);
    EXPECT_EQ(run.info->width, kWidth);
    EXPECT_EQ(run.info->height, kHeight);
    EXPECT_NEAR(run.info->fps, kFps, 0.01);
    ASSERT_EQ(run.indices.size(), 45u);
    EXPECT_TRUE(run.all_bgr);
    EXPECT_EQ(run.size, cv::Size(kWidth, kHeight));
    for (int i = 0; i < 45; ++i) {
        EXPECT_EQ(run.indices[static_cast<std::size_t>(i)], i);
        EXPECT_NEAR(run.levels[static_cast<std::size_t>(i)], AviFrameLevel(i), 12.0)
            << "frame " << i;
    }
}

TEST(VideoFramesTest, DurationOverTheCapIsVideoTooLong) {
    ASSERT_FALSE(FiveSecondAvi().empty()) << "OpenCV's MJPEG writer failed";
    MediaLimits limits;
    limits.max_video_seconds = 1.0;
    const FrameRun run = Decode(FiveSecondAvi(), limits);
    ExpectError(run, ErrorCode::VideoTooLong, "the cap is 1.0", "5 s video, 1 s cap");
    // Judged from the container or while reading, never after decoding all of it.
    EXPECT_LE(run.indices.size(), static_cast<std::size_t>(1.5 * kFps) + 1);
}

TEST(VideoFramesTest, DurationWithinTheCapIsAccepted) {
    MediaLimits limits;
    limits.max_video_seconds = 5.0;
    const FrameRun run = Decode(FiveSecondAvi(), limits);
    ASSERT_TRUE(run.info) << run.info.error().detail;
    EXPECT_EQ(run.info->frames_read, 150);
}

TEST(VideoFramesTest, DeclaredFrameCountOverTheCapIsVideoTooLongBeforeAnyFrame) {
    MediaLimits limits;
    limits.max_video_frames = 10;
    const FrameRun run = Decode(FiveSecondAvi(), limits);
    ExpectError(run, ErrorCode::VideoTooLong, "150 frames; the cap is 10", "150 frames, cap 10");
    EXPECT_TRUE(run.indices.empty());
}

TEST(VideoFramesTest, FramePixelsOverTheCapAreVideoTooLarge) {
    MediaLimits limits;
    limits.max_video_frame_pixels = kWidth * kHeight - 1;
    const FrameRun run = Decode(ShortAvi(), limits);
    ExpectError(run, ErrorCode::VideoTooLarge, "64x48", "64x48 frames, cap 3071 pixels");
    EXPECT_TRUE(run.indices.empty());
    limits.max_video_frame_pixels = kWidth * kHeight;
    EXPECT_TRUE(Decode(ShortAvi(), limits).info) << "exactly at the cap is allowed";
}

// --- Truncated and garbage -------------------------------------------------------------------

// A cut video either fails as undecodable or yields fewer frames than the whole, all well formed.
void ExpectCutHandled(const Bytes& full, std::size_t n, int full_frames, cv::Size size,
                      const std::string& what) {
    const FrameRun run = Decode(Prefix(full, n));
    const std::string label = what + " cut to " + std::to_string(n) + " bytes";
    if (run.info) {
        EXPECT_GT(run.info->frames_read, 0) << label;
        EXPECT_LT(run.info->frames_read, full_frames) << label;
        EXPECT_TRUE(run.all_bgr) << label;
        EXPECT_EQ(run.size, size) << label;
    } else {
        EXPECT_EQ(run.info.error().code, ErrorCode::VideoUndecodable)
            << label << ": " << run.info.error().detail;
        EXPECT_FALSE(run.info.error().detail.empty()) << label;
    }
}

TEST(VideoFramesTest, TruncatedAviIsUndecodableOrReadUpToTheCut) {
    const Bytes& avi = FiveSecondAvi();
    ASSERT_FALSE(avi.empty());
    for (std::size_t n : {std::size_t{12}, std::size_t{200}, std::size_t{4096}, avi.size() / 2,
                          avi.size() * 9 / 10}) {  // (the last ~2.4 KB are only the idx1 index)
        ExpectCutHandled(avi, n, 150, cv::Size(kWidth, kHeight), "AVI");
    }
    // Cut in the middle, the frames before the cut are all there, in order.
    const FrameRun half = Decode(Prefix(avi, avi.size() / 2));
    ASSERT_TRUE(half.info) << half.info.error().detail;
    EXPECT_GE(half.info->frames_read, 60);
    for (std::size_t i = 0; i < half.indices.size(); ++i) {
        EXPECT_NEAR(half.levels[i], AviFrameLevel(static_cast<int>(i)), 12.0) << "frame " << i;
    }
}

TEST(VideoFramesTest, TruncatedSharedWebmAndMp4AreUndecodableOrReadUpToTheCut) {
    const std::vector<std::tuple<std::string, int, cv::Size>> files = {
        {"apfol_real2_live_headturn.webm", 214, cv::Size(640, 480)},
        {"wolf_live_blinks.mp4", 130, cv::Size(544, 960)}};
    int seen = 0;
    for (const auto& [name, frames, size] : files) {
        if (!fs::exists(SharedVideo(name))) continue;
        ++seen;
        const Bytes full = test::ReadBytes(SharedVideo(name));
        for (std::size_t n : {std::size_t{16}, std::size_t{1024}, std::size_t{4096},
                              std::size_t{65536}, full.size() / 3}) {
            ExpectCutHandled(full, n, frames, size, name);
        }
    }
    if (seen == 0) GTEST_SKIP() << "../shared/data/video absent";
}

TEST(VideoFramesTest, ContainerMagicFollowedByGarbageIsUndecodable) {
    const std::vector<std::pair<std::string, Bytes>> heads = {
        {"MP4", Bytes{0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'}},
        {"Matroska", Bytes{0x1A, 0x45, 0xDF, 0xA3}},
        {"AVI", Bytes{'R', 'I', 'F', 'F', 0, 0x10, 0, 0, 'A', 'V', 'I', ' '}}};
    for (const auto& [what, head] : heads) {
        for (std::uint32_t seed = 1; seed <= 3; ++seed) {
            std::mt19937 rng(seed);
            Bytes bytes = head;
            for (int i = 0; i < 8192; ++i) bytes.push_back(static_cast<std::uint8_t>(rng()));
            const FrameRun run = Decode(bytes);
            ExpectError(run, ErrorCode::VideoUndecodable, "the video",
                        what + " + garbage, seed " + std::to_string(seed));
            EXPECT_TRUE(run.indices.empty());
        }
    }
}

TEST(VideoFramesTest, LongSharedWebmIsStoppedAtTheDurationCap) {
    const fs::path file = SharedVideo("apfol_fake2_replay_phone.webm");  // ~15 s
    if (!fs::exists(file)) GTEST_SKIP() << file << " absent";
    MediaLimits limits;
    limits.max_video_seconds = 2.0;
    const FrameRun run = Decode(test::ReadBytes(file), limits);
    ExpectError(run, ErrorCode::VideoTooLong, "the cap is 2.0", "15 s WebM, 2 s cap");
    EXPECT_LE(run.indices.size(), static_cast<std::size_t>(2.5 * 30) + 1);
}

}  // namespace
}  // namespace liveproof::media
