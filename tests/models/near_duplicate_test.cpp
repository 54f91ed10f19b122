// Near-duplicate frames on real video (../shared/data/video): every frame of a live camera is
// new to the fingerprint, and the same frame sent again re-encoded or slightly edited is not.
// Frames are JPEG-encoded at quality 92 first, as a browser's canvas does, and judged as the
// doors judge them: the bytes' digest, then the fingerprint of the decoded JPEG.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "active/replay_signals.hpp"
#include "liveproof/challenge_session.hpp"
#include "media/decode.hpp"
#include "media/fingerprint.hpp"
#include "media/video.hpp"
#include "support/test_support.hpp"

namespace liveproof {
namespace {

struct Frame {
    std::vector<std::uint8_t> jpeg;
    std::vector<std::uint8_t> fingerprint;
};

Frame Encode(const cv::Mat& bgr) {
    Frame f;
    cv::imencode(".jpg", bgr, f.jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
    auto decoded = media::DecodeImage(f.jpeg, MediaLimits{});
    EXPECT_TRUE(decoded);
    if (decoded) f.fingerprint = media::LumaFingerprint(decoded->bgr);
    return f;
}

std::vector<cv::Mat> VideoFrames(const std::string& name) {
    const auto bytes = test::ReadBytes(test::SharedDir() / "data/video" / name);
    std::vector<cv::Mat> frames;
    MediaLimits limits;
    auto info = media::ForEachVideoFrame(
        bytes, limits, [&](int, const cv::Mat& bgr) { frames.push_back(bgr.clone()); });
    EXPECT_TRUE(info) << name;
    return frames;
}

int CountedNearDuplicates(const active::ReplaySignals& s) {
    auto session = challenge::ChallengeSession::Create(
        {}, [] { return 0.0; }, [] { return 0u; });
    return s.ToJson(*session)["near_duplicate_frames"].get<int>();
}

class NearDuplicates : public ::testing::TestWithParam<std::string> {};

TEST_P(NearDuplicates, EveryLiveFrameIsNewAndEveryResentFrameIsCaught) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto frames = VideoFrames(GetParam());
    ASSERT_GT(frames.size(), 30u);
    active::FrameSignalRules record_only;
    record_only.enforce = false;
    active::ReplaySignals live(record_only);
    std::vector<Frame> sent;
    int closest = 768;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        Frame f = Encode(frames[i]);
        (void)live.OnFrame(static_cast<double>(i) / 30, f.jpeg, frames[i].cols, frames[i].rows);
        (void)live.OnDecoded(active::ReplaySignals::Digest(f.jpeg), f.fingerprint);
        if (!sent.empty() && sent.back().jpeg != f.jpeg) {
            closest = std::min(closest, media::FingerprintDistance(
                                            f.fingerprint, sent.back().fingerprint,
                                            active::ReplaySignals::kNearDuplicateTolerance));
        }
        sent.push_back(std::move(f));
    }
    EXPECT_EQ(CountedNearDuplicates(live), 0) << GetParam();
    // The margin: the closest two successive byte-distinct frames came, against the threshold.
    EXPECT_GT(closest, 2 * active::FrameSignalRules{}.near_duplicate_points) << GetParam();

    // Every 10th of the last 100 frames sent again (a run compares a frame with its latest 128
    // decoded frames), edited so that its bytes are new: one pixel set red and the brightness
    // raised a level, re-encoded with the same tables.
    int resent = 0;
    int widest = 0;
    for (std::size_t i = frames.size() - 100; i < frames.size(); i += 10) {
        cv::Mat edited;
        frames[i].convertTo(edited, -1, 1.0, 1.0);
        edited.at<cv::Vec3b>(10, 10) = cv::Vec3b(0, 0, 255);
        const Frame f = Encode(edited);
        ASSERT_NE(f.jpeg, sent[i].jpeg);
        widest = std::max(
            widest, media::FingerprintDistance(f.fingerprint, sent[i].fingerprint,
                                               active::ReplaySignals::kNearDuplicateTolerance));
        (void)live.OnFrame(static_cast<double>(frames.size() + resent) / 30, f.jpeg, edited.cols,
                           edited.rows);
        (void)live.OnDecoded(active::ReplaySignals::Digest(f.jpeg), f.fingerprint);
        ++resent;
    }
    EXPECT_EQ(CountedNearDuplicates(live), resent) << GetParam();
    RecordProperty("closest_live_points", closest);
    RecordProperty("widest_resent_points", widest);
    std::printf(
        "[near-duplicates] %s: %zu frames, closest successive live frames differ in %d "
        "points, resent frames in at most %d (threshold %d)\n",
        GetParam().c_str(), frames.size(), closest, widest,
        active::FrameSignalRules{}.near_duplicate_points);
}

INSTANTIATE_TEST_SUITE_P(SharedVideos, NearDuplicates,
                         ::testing::Values("apfol_real2_live_headturn.webm",
                                           "apfol_fake2_replay_phone.webm", "wolf_live_blinks.mp4"),
                         [](const auto& param_info) {
                             std::string n = param_info.param.substr(0, param_info.param.find('.'));
                             for (char& c : n)
                                 c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return n;
                         });

}  // namespace
}  // namespace liveproof
