// The stream core without sockets: frames of the shared clips through FaceStream, judged by a
// ChallengeSession (joined by active::ChallengeRun, as every door does) on the clip's own clock.
// The outcomes the WebSocket integration tests show: the head-turn clip completes, the phone replay
// fails spoof_detected, a swapped face fails face_changed.
#include "liveproof/face_stream.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <vector>

#include "liveproof/challenge_run.hpp"
#include "media/video.hpp"
#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

struct Clip {
    std::vector<cv::Mat> frames;
    double fps = 30;
};

Clip Decode(const std::string& relative) {
    Clip clip;
    const auto bytes = ReadBytes(SharedDir() / relative);
    MediaLimits limits;
    auto reader = media::VideoReader::Open(bytes, limits);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().detail);
    if (!reader) return clip;
    cv::Mat frame;
    while (true) {
        auto more = (*reader)->Next(frame);
        if (!more || !*more) break;
        clip.frames.push_back(frame.clone());
    }
    if ((*reader)->info().fps > 0) clip.fps = (*reader)->info().fps;
    return clip;
}

struct Outcome {
    std::optional<challenge::Event> last;
    int frames = 0;
    int scored = 0;
};

// Plays the frames in order, looping, at the clip's rate on the session's clock, until the
// session ends or `max_frames` were fed.
Outcome PlayChallenge(const std::vector<cv::Mat>& frames, double fps,
                      challenge::ChallengeConfig config, int max_frames, std::uint32_t seed = 7) {
    Outcome out;
    double now = 0;
    std::mt19937 random(seed);
    auto run = active::ChallengeRun::Create(
        DefaultEngine(), config, StreamOptions{}, [&now] { return now; },
        [&random] { return random(); });
    EXPECT_TRUE(run) << (run ? "" : run.error().detail);
    if (!run) return out;
    run->Start();
    for (int i = 0; i < max_frames && !run->session().Finished(); ++i) {
        now = i / fps;
        const cv::Mat& f = frames[static_cast<std::size_t>(i) % frames.size()];
        StreamObservation o;
        auto e = run->Feed(active::Frame::Bgr(f.data, f.cols, f.rows, f.step), now, &o);
        EXPECT_FALSE(o.error) << o.error->detail;
        ++out.frames;
        if (e) out.last = e;
    }
    out.scored = run->evidence().frames_scored;
    return out;
}

// The WebSocket integration tests' settings for the head-turn clip.
challenge::ChallengeConfig HeadTurnConfig() {
    challenge::ChallengeConfig c;
    c.allowed = {challenge::Direction::Left, challenge::Direction::Right};
    c.required_successes = 2;
    c.max_wrong_attempts = 50;
    c.challenge_timeout_s = 30;
    c.session_timeout_s = 90;
    return c;
}

TEST(FaceStreamTest, TheHeadTurnClipCompletesLive) {
    LIVEPROOF_REQUIRE_MODELS();
    const Clip clip = Decode("data/video/apfol_real2_live_headturn.webm");
    ASSERT_GT(clip.frames.size(), 100u);
    const Outcome out = PlayChallenge(clip.frames, clip.fps, HeadTurnConfig(),
                                      3 * static_cast<int>(clip.frames.size()));
    ASSERT_TRUE(out.last);
    EXPECT_EQ(out.last->type, challenge::EventType::Complete)
        << "ended " << static_cast<int>(out.last->type) << " after " << out.frames << " frames";
    EXPECT_GT(out.scored, 0);
}

TEST(FaceStreamTest, ThePhoneReplayFailsSpoofDetected) {
    LIVEPROOF_REQUIRE_MODELS();
    const Clip clip = Decode("data/video/apfol_fake2_replay_phone.webm");
    ASSERT_GT(clip.frames.size(), 100u);
    const Outcome out = PlayChallenge(clip.frames, clip.fps, HeadTurnConfig(),
                                      3 * static_cast<int>(clip.frames.size()));
    ASSERT_TRUE(out.last);
    ASSERT_EQ(out.last->type, challenge::EventType::Failed) << out.frames << " frames";
    ASSERT_TRUE(out.last->reason);
    EXPECT_EQ(challenge::FailReasonName(*out.last->reason), "spoof_detected");
}

TEST(FaceStreamTest, AFaceThatJumpsFailsFaceChanged) {
    LIVEPROOF_REQUIRE_MODELS();
    const Clip clip = Decode("data/video/apfol_real2_live_headturn.webm");
    ASSERT_FALSE(clip.frames.empty());
    // The first frame, then the same frame with the face 220 px to the left, 0.1 s later: not
    // head movement, another face in another place.
    const cv::Mat first = clip.frames[0];
    cv::Mat moved;
    const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, -220, 0, 1, 0);
    cv::warpAffine(first, moved, shift, first.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    const Outcome out = PlayChallenge({first, moved}, 10.0, HeadTurnConfig(), 2);
    ASSERT_TRUE(out.last);
    ASSERT_EQ(out.last->type, challenge::EventType::Failed);
    EXPECT_EQ(*out.last->reason, challenge::FailReason::FaceChanged);
    // The same frame twice is the same face.
    const Outcome same = PlayChallenge({first, first}, 10.0, HeadTurnConfig(), 2);
    EXPECT_FALSE(same.last && same.last->type == challenge::EventType::Failed);
}

TEST(FaceStreamTest, TracksBetweenDetectionsAndDetectsEveryFifthFrame) {
    LIVEPROOF_REQUIRE_MODELS();
    const Clip clip = Decode("data/video/apfol_real2_live_headturn.webm");
    ASSERT_GE(clip.frames.size(), 10u);
    FaceStream stream(*DefaultEngine(), StreamOptions{});
    std::vector<bool> tracked;
    for (int i = 0; i < 10; ++i) {
        const cv::Mat& f = clip.frames[static_cast<std::size_t>(i)];
        const auto o = stream.FeedBgr(f.data, f.cols, f.rows, f.step, i / clip.fps);
        ASSERT_EQ(o.face_count, 1) << "frame " << i;
        tracked.push_back(o.tracked);
    }
    const std::vector<bool> expected = {false, true, true, true, true,
                                        false, true, true, true, true};
    EXPECT_EQ(tracked, expected);
    // Sampled evidence: frames 1, 4, 7, 10 (every third) and nothing else without a predicate.
    EXPECT_EQ(stream.evidence().frames_scored, 4);
}

}  // namespace
}  // namespace liveproof::test
