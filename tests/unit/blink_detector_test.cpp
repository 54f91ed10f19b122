// FindBlinks: open -> closed -> open with hysteresis, gaps, long closures and edge cases.
#include "engine/blink_detector.hpp"

#include <gtest/gtest.h>

namespace liveproof::engine {
namespace {

std::vector<std::optional<float>> Series(std::initializer_list<float> v) {
    std::vector<std::optional<float>> out;
    for (float x : v) {
        if (x < 0)
            out.emplace_back(std::nullopt);  // -1 = no face in that frame
        else
            out.emplace_back(x);
    }
    return out;
}

TEST(FindBlinks, OpenClosedOpenIsOneBlinkWithTheClosedFrameRange) {
    const auto b = FindBlinks(Series({0, 0, 0.9f, 1, 0.8f, 0.1f, 0}), BlinkOptions{});
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].start_frame, 2);
    EXPECT_EQ(b[0].end_frame, 4);
}

TEST(FindBlinks, ScoresBetweenThresholdsDoNotEndOrStartABlink) {
    // 0.5 lies between open (0.35) and close (0.6): hysteresis keeps the current state.
    const auto b =
        FindBlinks(Series({0, 0.5f, 0.5f, 0.9f, 0.5f, 0.9f, 0.2f, 0.5f, 0}), BlinkOptions{});
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].start_frame, 3);
    EXPECT_EQ(b[0].end_frame, 5);
}

TEST(FindBlinks, VideoStartingWithClosedEyesNeedsAnOpenFrameFirst) {
    const auto b = FindBlinks(Series({1, 1, 0, 0, 1, 0}), BlinkOptions{});
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].start_frame, 4);
}

TEST(FindBlinks, ClosureStillOpenAtTheEndIsNotABlink) {
    EXPECT_TRUE(FindBlinks(Series({0, 0, 1, 1}), BlinkOptions{}).empty());
}

TEST(FindBlinks, LongClosureIsNotABlink) {
    BlinkOptions o;
    o.max_closed_frames = 2;
    EXPECT_TRUE(FindBlinks(Series({0, 1, 1, 1, 0}), o).empty());
    EXPECT_EQ(FindBlinks(Series({0, 1, 1, 0}), o).size(), 1u);
}

TEST(FindBlinks, FramesWithoutAFaceAreSkipped) {
    const auto b = FindBlinks(Series({0, -1, 1, -1, 1, -1, 0, 1, 0}), BlinkOptions{});
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].start_frame, 2);
    EXPECT_EQ(b[0].end_frame, 4);
    EXPECT_EQ(b[1].start_frame, 7);
}

TEST(FindBlinks, EmptyAndFacelessSeriesGiveNoBlink) {
    EXPECT_TRUE(FindBlinks({}, BlinkOptions{}).empty());
    EXPECT_TRUE(FindBlinks(Series({-1, -1, -1}), BlinkOptions{}).empty());
}

TEST(FindBlinks, ShallowSwingsAboveAHalfClosedOpenLevelAreNotBlinks) {
    // A still photo as MPEG-4: key frames read 0.33 closed, the frames between 0.61 (the
    // measured pattern that passed /active/blink): thresholds crossed, depth 0.28 < 0.45.
    const auto flicker = FindBlinks(
        Series({0.33f, 0.61f, 0.61f, 0.33f, 0.61f, 0.61f, 0.33f, 0.61f, 0.33f}), BlinkOptions{});
    EXPECT_TRUE(flicker.empty());
    // The same person really blinking from that open level: deep enough.
    const auto real = FindBlinks(Series({0.33f, 0.33f, 0.95f, 1.0f, 0.33f}), BlinkOptions{});
    ASSERT_EQ(real.size(), 1u);
    EXPECT_EQ(real[0].start_frame, 2);
    // The weakest blink of the shared clip (open 0.0, peak 0.70) stays a blink.
    EXPECT_EQ(FindBlinks(Series({0, 0, 0.70f, 0.66f, 0.18f, 0}), BlinkOptions{}).size(), 1u);
}

}  // namespace
}  // namespace liveproof::engine
