// Detection at a reduced side for webcam streams (AnalyzeOptions::detect_max_side): on every
// frame of the head-turn video, including turns to -45 deg, it finds the face the default
// 320-px detection finds, in the same place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <opencv2/core.hpp>

#include "media/video.hpp"
#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

constexpr int kStreamSide = 192;  // the server's ws_detect_max_side default

std::vector<cv::Mat> HeadTurnFrames(int every) {
    const auto bytes = ReadBytes(SharedDir() / "data/video/apfol_real2_live_headturn.webm");
    std::vector<cv::Mat> frames;
    MediaLimits limits;
    auto info = media::ForEachVideoFrame(bytes, limits, [&](int i, const cv::Mat& bgr) {
        if (i % every == 0) frames.push_back(bgr.clone());
    });
    EXPECT_TRUE(info) << (info ? "" : info.error().detail);
    return frames;
}

AnalyzeOptions DetectionOnly(int side) {
    AnalyzeOptions o = AnalyzeOptions::PassiveOnly();
    o.antispoof = false;
    o.detect_max_side = side;
    return o;
}

float IoU(const FaceResult& a, const FaceResult& b) {
    const float ix = std::max(0.f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
    const float iy = std::max(0.f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
    const float inter = ix * iy;
    const float uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
    return uni > 0 ? inter / uni : 0.f;
}

TEST(StreamDetection, SmallSideFindsTheWebcamFaceOnEveryFrame) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto frames = HeadTurnFrames(3);
    ASSERT_GT(frames.size(), 50u);
    for (int side : {160, kStreamSide, 256}) {
        int both = 0, missed = 0, extra = 0;
        float min_iou = 1, sum_iou = 0;
        for (const cv::Mat& f : frames) {
            auto full =
                DefaultEngine()->AnalyzeBgr(f.data, f.cols, f.rows, f.step, DetectionOnly(0));
            auto small =
                DefaultEngine()->AnalyzeBgr(f.data, f.cols, f.rows, f.step, DetectionOnly(side));
            ASSERT_TRUE(full && small);
            if (full->faces.empty()) continue;
            if (small->faces.empty()) {
                ++missed;
                continue;
            }
            extra += small->faces.size() > full->faces.size() ? 1 : 0;
            ++both;
            const float iou = IoU(full->faces[0], small->faces[0]);
            min_iou = std::min(min_iou, iou);
            sum_iou += iou;
        }
        std::printf(
            "detect side %d: %d frames found at both, %d missed, %d with extra faces, IoU "
            "mean %.3f min %.3f\n",
            side, both, missed, extra, both ? sum_iou / static_cast<float>(both) : 0.f, min_iou);
        if (side == kStreamSide) {
            EXPECT_EQ(missed, 0);
            EXPECT_EQ(extra, 0);
            EXPECT_GT(both, 50);
            EXPECT_GT(min_iou, 0.7f);
            EXPECT_GT(sum_iou / static_cast<float>(both), 0.85f);
        }
    }
}

}  // namespace
}  // namespace liveproof::test
