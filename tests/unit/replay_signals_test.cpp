// The frame-level replay signals: repeats, a change of resolution or JPEG tables, and the rhythm.
#include "active/replay_signals.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "media/jpeg_tables.hpp"

namespace liveproof::active {
namespace {

// The markers of a JPEG up to its scan: SOI, one DQT with @p table_byte, SOS, then @p payload
// (distinct payloads make distinct frames with the same tables).
std::vector<std::uint8_t> Jpeg(std::uint8_t table_byte, std::uint8_t payload) {
    return {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x05,    0x00, table_byte,
            0x11, 0xFF, 0xDA, 0x00, 0x02, payload, 0xFF, 0xD9};
}

TEST(JpegQuantTables, DigestFollowsTheTablesOnly) {
    EXPECT_EQ(media::JpegQuantTablesDigest(Jpeg(1, 1)), media::JpegQuantTablesDigest(Jpeg(1, 2)));
    EXPECT_NE(media::JpegQuantTablesDigest(Jpeg(1, 1)), media::JpegQuantTablesDigest(Jpeg(2, 1)));
    EXPECT_FALSE(media::JpegQuantTablesDigest(std::vector<std::uint8_t>{0x89, 'P', 'N', 'G'}));
    // A segment length past the end is not read.
    EXPECT_FALSE(media::JpegQuantTablesDigest(
        std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF, 0xDB, 0xFF, 0xFF, 0x00}));
    EXPECT_FALSE(media::JpegQuantTablesDigest(std::vector<std::uint8_t>{}));
}

TEST(ReplaySignals, RepeatsBeyondTheToleranceFail) {
    ReplaySignals s({/*max_duplicate_frames=*/2, /*fail_on_source_change=*/true, true});
    const auto a = Jpeg(1, 1);
    EXPECT_FALSE(s.OnFrame(0.0, a, 640, 480));
    EXPECT_FALSE(s.OnFrame(0.1, a, 640, 480));  // 1 repeat
    EXPECT_FALSE(s.OnFrame(0.2, a, 640, 480));  // 2
    EXPECT_EQ(s.OnFrame(0.3, a, 640, 480), challenge::FailReason::InjectionSuspected);
    EXPECT_EQ(s.frames(), 4);
}

TEST(ReplaySignals, NewFramesOfOneCameraPass) {
    ReplaySignals s({0, true, true});
    for (int i = 0; i < 50; ++i) {
        EXPECT_FALSE(s.OnFrame(i * 0.15, Jpeg(1, static_cast<std::uint8_t>(i)), 640, 480)) << i;
    }
}

TEST(ReplaySignals, AChangeOfResolutionOrTablesFails) {
    ReplaySignals size({2, true, true});
    EXPECT_FALSE(size.OnFrame(0, Jpeg(1, 1), 640, 480));
    EXPECT_EQ(size.OnFrame(0.1, Jpeg(1, 2), 1280, 720), challenge::FailReason::InjectionSuspected);
    ReplaySignals tables({2, true, true});
    EXPECT_FALSE(tables.OnFrame(0, Jpeg(1, 1), 640, 480));
    EXPECT_EQ(tables.OnFrame(0.1, Jpeg(9, 2), 640, 480), challenge::FailReason::InjectionSuspected);
    ReplaySignals lenient({2, false, true});
    EXPECT_FALSE(lenient.OnFrame(0, Jpeg(1, 1), 640, 480));
    EXPECT_FALSE(lenient.OnFrame(0.1, Jpeg(9, 2), 1280, 720));
}

TEST(ReplaySignals, RecordOnlyNeverFailsButRecords) {
    ReplaySignals s({0, true, /*enforce=*/false});
    const auto a = Jpeg(1, 1);
    EXPECT_FALSE(s.OnFrame(0, a, 640, 480));
    EXPECT_FALSE(s.OnFrame(0.2, a, 640, 480));
    EXPECT_FALSE(s.OnFrame(0.3, Jpeg(2, 3), 320, 240));
    auto session = challenge::ChallengeSession::Create(
        {}, [] { return 0.0; }, [] { return 0u; });
    ASSERT_TRUE(session);
    const auto j = s.ToJson(*session);
    EXPECT_EQ(j["frames_received"], 3);
    EXPECT_EQ(j["duplicate_frames"], 1);
    EXPECT_EQ(j["resolution_changes"], 1);
    EXPECT_EQ(j["jpeg_table_changes"], 1);
    EXPECT_EQ(j["trigger"], "duplicate_frames");
    EXPECT_DOUBLE_EQ(j["inter_arrival_ms"]["mean"].get<double>(), 150.0);
    EXPECT_DOUBLE_EQ(j["inter_arrival_ms"]["max"].get<double>(), 200.0);
    EXPECT_TRUE(j["challenges"].is_array());
}

// A fingerprint: 768 points of @p level, with @p changed of them moved by @p by.
std::vector<std::uint8_t> Print(std::uint8_t level, int changed = 0, int by = 10) {
    std::vector<std::uint8_t> f(768, level);
    for (int i = 0; i < changed; ++i)
        f[static_cast<std::size_t>(i)] += static_cast<std::uint8_t>(by);
    return f;
}

TEST(ReplaySignals, TheSamePictureInNewBytesIsANearDuplicate) {
    ReplaySignals s({/*max_duplicate_frames=*/1, true, true});
    EXPECT_FALSE(s.OnDecoded(1, Print(100)));
    EXPECT_FALSE(s.OnDecoded(2, Print(150)));     // a new picture
    EXPECT_FALSE(s.OnDecoded(3, Print(100, 8)));  // 8 points moved: the same picture (1)
    auto session = challenge::ChallengeSession::Create(
        {}, [] { return 0.0; }, [] { return 0u; });
    EXPECT_EQ(s.ToJson(*session)["near_duplicate_frames"], 1);
    // Every point within 3 levels: the same picture (2), past the tolerance of 1 repeat.
    EXPECT_EQ(s.OnDecoded(4, Print(100, 768, 3)), challenge::FailReason::InjectionSuspected);
    EXPECT_EQ(s.ToJson(*session)["near_duplicate_frames"], 2);
    EXPECT_EQ(s.ToJson(*session)["trigger"], "near_duplicate_frames");
}

TEST(ReplaySignals, NearDuplicatesKeepTheirDistanceAndExactRepeatsAreNotCountedTwice) {
    ReplaySignals s({0, true, true});
    EXPECT_FALSE(s.OnDecoded(1, Print(100)));
    EXPECT_FALSE(s.OnDecoded(2, Print(100, 9)));       // 9 points moved: a new frame
    EXPECT_FALSE(s.OnDecoded(3, Print(100, 768, 4)));  // every point moved by 4
    EXPECT_FALSE(s.OnDecoded(1, Print(100)));          // the same bytes: OnFrame's to count
    EXPECT_FALSE(s.OnDecoded(9, {}));                  // nothing decoded: nothing to compare
    FrameSignalRules off;
    off.near_duplicate_points = -1;
    ReplaySignals unchecked(off);
    EXPECT_FALSE(unchecked.OnDecoded(1, Print(100)));
    EXPECT_FALSE(unchecked.OnDecoded(2, Print(100)));
    EXPECT_FALSE(unchecked.OnDecoded(3, Print(100)));
    EXPECT_FALSE(unchecked.OnDecoded(4, Print(100)));
}

}  // namespace
}  // namespace liveproof::active
