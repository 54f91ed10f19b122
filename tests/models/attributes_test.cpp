// Face counts, head pose, eyes, mouth, occlusion, quality and boundary on the labelled shared data.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/labels.hpp"
#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

ImageAnalysis AnalyzeFile(const Engine* engine, const std::string& rel) {
    auto r = engine->Analyze(ReadBytes(SharedDir() / "data" / rel));
    EXPECT_TRUE(r) << rel << ": " << (r ? "" : r.error().detail);
    return r ? *r : ImageAnalysis{};
}

std::vector<LabelRow> Rows(const std::string& task) {
    std::vector<LabelRow> out;
    for (auto& row : ReadLabels(SharedDir() / "data/labels.csv")) {
        if (row.task == task) out.push_back(row);
    }
    return out;
}

TEST(FaceCount, ImagesWithoutFacesGiveNoFace) {
    LIVEPROOF_REQUIRE_MODELS();
    int checked = 0;
    for (const auto& row : Rows("face_count")) {
        if (row.label != "0") continue;
        EXPECT_EQ(AnalyzeFile(DefaultEngine(), row.file).faces.size(), 0u) << row.file;
        ++checked;
    }
    EXPECT_GE(checked, 4);
}

// Stated tolerance: labelled counts exact within +-1 face; "many" means at least 4.
TEST(FaceCount, MultiFaceImagesGiveTheLabelledCountWithinOne) {
    LIVEPROOF_REQUIRE_MODELS();
    int checked = 0;
    for (const auto& row : Rows("face_count")) {
        if (row.label == "0") continue;
        const auto n = static_cast<int>(AnalyzeFile(DefaultEngine(), row.file).faces.size());
        if (row.label == "many") {
            EXPECT_GE(n, 4) << row.file;
        } else {
            EXPECT_LE(std::abs(n - std::stoi(row.label)), 1) << row.file << " found " << n;
        }
        ++checked;
    }
    EXPECT_GE(checked, 10);
}

struct PoseMae {
    double yaw = 0, pitch = 0, roll = 0;
};

PoseMae AflwMae(const Engine* engine) {
    PoseMae mae;
    int n = 0;
    for (const auto& row : Rows("headpose")) {
        if (row.file.find("aflw2000") == std::string::npos) continue;
        const auto gt = nlohmann::json::parse(row.extra);
        const auto a = AnalyzeFile(engine, row.file);
        if (a.faces.empty() || !a.faces[0].pose) {
            ADD_FAILURE() << row.file << ": no face";
            continue;
        }
        const HeadPose& p = *a.faces[0].pose;
        // AFLW2000: yaw > 0 towards image-left (same as ours), pitch > 0 looking up (opposite),
        // roll with our sign (checked on the images).
        mae.yaw += std::abs(p.yaw - gt["yaw_deg"].get<double>());
        mae.pitch += std::abs(p.pitch + gt["pitch_deg"].get<double>());
        mae.roll += std::abs(p.roll - gt["roll_deg"].get<double>());
        ++n;
    }
    if (n > 0) mae = {mae.yaw / n, mae.pitch / n, mae.roll / n};
    return mae;
}

TEST(HeadPose, Aflw2000MeanAbsoluteErrorWithinTargets) {
    LIVEPROOF_REQUIRE_MODELS();
    const PoseMae full = AflwMae(SharedEngine());
    const PoseMae fast = AflwMae(DefaultEngine());
    std::printf(
        "AFLW2000 (11 images) pose MAE, detector at full resolution: yaw %.2f pitch %.2f roll %.2f "
        "deg\n",
        full.yaw, full.pitch, full.roll);
    std::printf(
        "AFLW2000 (11 images) pose MAE, default 320-px detector:     yaw %.2f pitch %.2f roll %.2f "
        "deg\n",
        fast.yaw, fast.pitch, fast.roll);
    // Targets of the issue, met by the reference pipeline (full-resolution detection).
    EXPECT_LE(full.yaw, 6.0);
    EXPECT_LE(full.pitch, 8.0);
    EXPECT_LE(full.roll, 5.0);
    // The downscaled detector shifts the mesh crop; large yaws read lower (docs/attributes.md).
    EXPECT_LE(fast.yaw, 9.0);
    EXPECT_LE(fast.pitch, 8.0);
    EXPECT_LE(fast.roll, 5.0);
}

// Before the mesh was re-run on its own landmarks' box, faces turned past 30 degrees read about
// 0.7 of their yaw (docs/accuracy.md): a yaw MAE of 16.1 over these four, now about 10.
TEST(HeadPose, TurnedAflwFacesKeepMostOfTheirYaw) {
    LIVEPROOF_REQUIRE_MODELS();
    double sum = 0;
    int n = 0;
    for (const auto& row : Rows("headpose")) {
        const auto gt = nlohmann::json::parse(row.extra);
        const double yaw_true = gt["yaw_deg"].get<double>();
        if (std::abs(yaw_true) < 30) continue;
        const auto a = AnalyzeFile(DefaultEngine(), row.file);
        ASSERT_TRUE(!a.faces.empty() && a.faces[0].pose) << row.file;
        sum += std::abs(a.faces[0].pose->yaw - yaw_true);
        ++n;
    }
    ASSERT_EQ(n, 4);
    EXPECT_LE(sum / n, 12.0);
}

TEST(HeadPose, QualitativeDirectionsHaveTheProjectSigns) {
    LIVEPROOF_REQUIRE_MODELS();
    for (const auto& row : Rows("headpose_qualitative")) {
        const auto a = AnalyzeFile(DefaultEngine(), row.file);
        ASSERT_EQ(a.faces.size(), 1u) << row.file;
        const HeadPose& p = *a.faces[0].pose;
        if (row.label == "yaw_left") {
            EXPECT_GT(p.yaw, 15) << row.file;  // towards image-left
        }
        if (row.label == "yaw_right") {
            EXPECT_LT(p.yaw, -15) << row.file;
        }
        if (row.label == "pitch_up") {
            EXPECT_LT(p.pitch, -10) << row.file;  // up is negative
        }
        if (row.label == "roll_left") {
            EXPECT_LT(p.roll, -15) << row.file;  // counter-clockwise
        }
    }
}

TEST(Eyes, OpenClosedAndWinkLabelsAreReproduced) {
    LIVEPROOF_REQUIRE_MODELS();
    int checked = 0;
    for (const auto& row : Rows("eyes")) {
        const auto a = AnalyzeFile(DefaultEngine(), row.file);
        ASSERT_EQ(a.faces.size(), 1u) << row.file;
        const bool l = a.faces[0].eye_image_left->closed > 0.5f;
        const bool r = a.faces[0].eye_image_right->closed > 0.5f;
        if (row.label == "eyes_open") {
            EXPECT_TRUE(!l && !r) << row.file;
        }
        if (row.label == "eyes_closed") {
            EXPECT_TRUE(l && r) << row.file;
        }
        if (row.label == "one_eye_closed") {
            EXPECT_TRUE(l != r) << row.file;
        }
        ++checked;
    }
    EXPECT_GE(checked, 9);
}

TEST(Mouth, OpenAndClosedLabelsAreReproduced) {
    LIVEPROOF_REQUIRE_MODELS();
    for (const auto& row : Rows("mouth")) {
        const auto a = AnalyzeFile(DefaultEngine(), row.file);
        ASSERT_EQ(a.faces.size(), 1u) << row.file;
        EXPECT_EQ(*a.faces[0].mouth_opened > 0.5f, row.label == "mouth_open") << row.file;
    }
}

TEST(Occlusion, MaskedFacesPassSystemCsFlagAndUnmaskedFacesDoNot) {
    LIVEPROOF_REQUIRE_MODELS();
    for (const auto& row : Rows("occlusion")) {
        const auto a = AnalyzeFile(DefaultEngine(), row.file);
        ASSERT_EQ(a.faces.size(), 1u) << row.file;
        EXPECT_GT(*a.faces[0].occlusion, 0.9f) << row.file;  // system C: is_occluded > 0.9
    }
    for (const char* task : {"headpose", "eyes", "mouth"}) {
        for (const auto& row : Rows(task)) {
            const auto a = AnalyzeFile(DefaultEngine(), row.file);
            ASSERT_FALSE(a.faces.empty()) << row.file;
            EXPECT_LE(*a.faces[0].occlusion, 0.9f) << row.file;
        }
    }
}

TEST(Quality, BlurredFaceScoresFarBelowSharpFace) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto blur = AnalyzeFile(DefaultEngine(), "conditions/quality/inspireface_blur.jpg");
    const auto sharp = AnalyzeFile(DefaultEngine(), "conditions/quality/inspireface_kun.jpg");
    ASSERT_EQ(blur.faces.size(), 1u);
    ASSERT_EQ(sharp.faces.size(), 1u);
    EXPECT_LT(*blur.faces[0].quality, 0.5f);   // not "High" (system C: >= 0.7)
    EXPECT_GE(*sharp.faces[0].quality, 0.7f);  // "High"
    EXPECT_LT(*blur.faces[0].sharpness + 0.5f, *sharp.faces[0].sharpness);
}

TEST(Boundary, FaceCutByTheBorderIsFlaggedAndCentredFaceIsNot) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto cut =
        AnalyzeFile(DefaultEngine(), "conditions/border_partial/fr_obama_partial_face.jpg");
    ASSERT_EQ(cut.faces.size(), 1u);
    EXPECT_TRUE(cut.faces[0].is_boundary);
    auto t1 = DefaultEngine()->Analyze(ReadBytes(SharedDir() / "models/samples/image_T1.jpg"));
    ASSERT_TRUE(t1);
    EXPECT_FALSE(t1->faces[0].is_boundary);
}

TEST(Blink, WolfVideoHasExactlyThreeBlinksAtTheLabelledFrames) {
    LIVEPROOF_REQUIRE_MODELS();
    auto r = DefaultEngine()->AnalyzeBlinkVideo(
        ReadBytes(SharedDir() / "data/video/wolf_live_blinks.mp4"));
    ASSERT_TRUE(r) << r.error().detail;
    const int labelled[3][2] = {{35, 38}, {102, 104}, {125, 128}};  // labels.csv, "by eye"
    ASSERT_EQ(r->blinks.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_NEAR(r->blinks[i].start_frame, labelled[i][0], 2) << "blink " << i;
        EXPECT_NEAR(r->blinks[i].end_frame, labelled[i][1], 2) << "blink " << i;
    }
    EXPECT_TRUE(r->passed) << r->reason;
    EXPECT_FALSE(r->passive.spoof);
    EXPECT_EQ(r->frames_decoded, 130);
}

TEST(Blink, InSlicesOfOneFrameTheAnswerIsTheSameAsInOneGo) {
    LIVEPROOF_REQUIRE_MODELS();
    const auto video = ReadBytes(SharedDir() / "data/video/wolf_live_blinks.mp4");
    auto whole = DefaultEngine()->AnalyzeBlinkVideo(video);
    ASSERT_TRUE(whole) << whole.error().detail;
    auto job = DefaultEngine()->StartBlinkVideo(video);
    ASSERT_TRUE(job) << job.error().detail;
    EXPECT_FALSE((*job)->Result()) << "a result before the end";
    int steps = 0;
    // A deadline already past: each Step analyses exactly one frame.
    while (!(*job)->Step(std::chrono::steady_clock::now())) {
        ++steps;
        ASSERT_EQ((*job)->frames_done(), steps);
    }
    EXPECT_EQ(steps, 130);  // the last Step found the end of the clip
    auto sliced = (*job)->Result();
    ASSERT_TRUE(sliced) << sliced.error().detail;
    EXPECT_EQ(sliced->passed, whole->passed);
    EXPECT_EQ(sliced->frames_decoded, whole->frames_decoded);
    EXPECT_EQ(sliced->frames_with_face, whole->frames_with_face);
    ASSERT_EQ(sliced->blinks.size(), whole->blinks.size());
    for (std::size_t i = 0; i < whole->blinks.size(); ++i) {
        EXPECT_EQ(sliced->blinks[i].start_frame, whole->blinks[i].start_frame);
        EXPECT_EQ(sliced->blinks[i].end_frame, whole->blinks[i].end_frame);
    }
    EXPECT_FLOAT_EQ(sliced->passive.mean_p_real, whole->passive.mean_p_real);
    EXPECT_TRUE((*job)->Step(std::chrono::steady_clock::now())) << "finished stays finished";
}

TEST(Blink, PhoneReplayFailsOnThePassiveEvidence) {
    LIVEPROOF_REQUIRE_MODELS();
    auto r = DefaultEngine()->AnalyzeBlinkVideo(
        ReadBytes(SharedDir() / "data/video/apfol_fake2_replay_phone.webm"));
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_FALSE(r->passed);
    EXPECT_EQ(r->reason, "spoof_detected");
    EXPECT_LT(r->passive.mean_p_real, 0.5f);
}

}  // namespace
}  // namespace liveproof::test
