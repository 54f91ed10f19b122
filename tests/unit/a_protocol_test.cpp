// System A's WebSocket JSON: exact text, key order and Python round(x, 2) for every message.
#include "challenge/a_protocol.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json_text.hpp"

namespace liveproof::challenge {
namespace {

Event Make(EventType type, State state, Instruction instruction, int success = 0) {
    Event e;
    e.type = type;
    e.state = state;
    e.instruction = instruction;
    e.success = success;
    e.total = 3;
    return e;
}

Event WithPose(Event e, float yaw, float pitch) {
    e.yaw = yaw;
    e.pitch = pitch;
    return e;
}

Event Failed(FailReason reason, std::string message) {
    Event e = Make(EventType::Failed, State::Failed, Instruction::Left);
    e.reason = reason;
    e.message = std::move(message);
    e.yaw = 1;  // never rendered on failed messages
    return e;
}

std::vector<std::string> Keys(const nlohmann::ordered_json& j) {
    std::vector<std::string> keys;
    for (const auto& item : j.items()) keys.push_back(item.key());
    return keys;
}

TEST(AProtocol, Start) {
    const Event e = Make(EventType::Start, State::WaitingCenter, Instruction::Center);
    EXPECT_EQ(ToAText(e),
              R"({"type":"start","state":"WAITING_CENTER","instruction":"CENTER","success":0,)"
              R"("total":3})");
}

TEST(AProtocol, NoFaceHasNoPoseEvenWhenTheEventCarriesOne) {
    Event e = Make(EventType::NoFace, State::WaitingAction, Instruction::Up, 1);
    e.yaw = 3;
    EXPECT_EQ(ToAText(e),
              R"({"type":"no_face","state":"WAITING_ACTION","instruction":"UP","success":1,)"
              R"("total":3})");
    const Event c = Make(EventType::NoFace, State::WaitingCenter, Instruction::Center);
    EXPECT_EQ(Keys(ToAJson(c)),
              (std::vector<std::string>{"type", "state", "instruction", "success", "total"}));
}

TEST(AProtocol, WaitingInWaitingCenterHasNoWrongDirectionKey) {
    const Event e = WithPose(Make(EventType::Waiting, State::WaitingCenter, Instruction::Center),
                             30.456f, -2.0f);
    EXPECT_EQ(ToAText(e), R"({"type":"waiting","state":"WAITING_CENTER","instruction":"CENTER",)"
                          R"("yaw":30.46,"pitch":-2.0,"success":0,"total":3})");
}

TEST(AProtocol, ChallengeCarriesTheDirectionAndPose) {
    const Event e = WithPose(Make(EventType::Challenge, State::WaitingAction, Instruction::Left, 2),
                             1.004f, -0.5f);
    EXPECT_EQ(ToAText(e),
              R"({"type":"challenge","state":"WAITING_ACTION","instruction":"LEFT","yaw":1.0,)"
              R"("pitch":-0.5,"success":2,"total":3})");
}

TEST(AProtocol, WaitingInWaitingActionEndsWithWrongDirectionNullOrAName) {
    Event e =
        WithPose(Make(EventType::Waiting, State::WaitingAction, Instruction::Right), -5, 7.125f);
    EXPECT_EQ(ToAText(e),
              R"({"type":"waiting","state":"WAITING_ACTION","instruction":"RIGHT","yaw":-5.0,)"
              R"("pitch":7.12,"success":0,"total":3,"wrong_direction":null})");
    e.wrong_direction = Direction::Left;
    EXPECT_EQ(ToAText(e),
              R"({"type":"waiting","state":"WAITING_ACTION","instruction":"RIGHT","yaw":-5.0,)"
              R"("pitch":7.12,"success":0,"total":3,"wrong_direction":"LEFT"})");
    e.instruction = Instruction::Blink;
    e.wrong_direction = Direction::Down;
    EXPECT_EQ(ToAJson(e)["instruction"], "BLINK");
    EXPECT_EQ(ToAJson(e)["wrong_direction"], "DOWN");
}

TEST(AProtocol, SuccessGoesBackToCentre) {
    const Event e = WithPose(Make(EventType::Success, State::WaitingCenter, Instruction::Center, 1),
                             -25.5f, 0.0f);
    EXPECT_EQ(ToAText(e),
              R"({"type":"success","state":"WAITING_CENTER","instruction":"CENTER","yaw":-25.5,)"
              R"("pitch":0.0,"success":1,"total":3})");
}

TEST(AProtocol, CompleteEndsWithLiveTrue) {
    Event e =
        WithPose(Make(EventType::Complete, State::Complete, Instruction::Verified, 3), 22, -1);
    e.live = true;
    EXPECT_EQ(ToAText(e),
              R"({"type":"complete","state":"COMPLETE","instruction":"VERIFIED","yaw":22.0,)"
              R"("pitch":-1.0,"success":3,"total":3,"live":true})");
}

TEST(AProtocol, FailedHasOnlyTypeReasonMessage) {
    EXPECT_EQ(ToAText(Failed(FailReason::Timeout, "Vaqt tugadi! Qaytadan urinib ko'ring.")),
              R"({"type":"failed","reason":"timeout",)"
              R"("message":"Vaqt tugadi! Qaytadan urinib ko'ring."})");
    EXPECT_EQ(ToAText(Failed(FailReason::ChallengeTimeout, "'UP' uchun vaqt tugadi!")),
              R"({"type":"failed","reason":"challenge_timeout",)"
              R"("message":"'UP' uchun vaqt tugadi!"})");
    EXPECT_EQ(ToAText(Failed(FailReason::WrongAttempts, "Juda ko'p noto'g'ri harakat!")),
              R"({"type":"failed","reason":"wrong_attempts",)"
              R"("message":"Juda ko'p noto'g'ri harakat!"})");
    const std::vector<std::pair<FailReason, std::string>> extra = {
        {FailReason::MultipleFaces, "multiple_faces"},
        {FailReason::FaceChanged, "face_changed"},
        {FailReason::IdleTimeout, "idle_timeout"},
        {FailReason::SpoofDetected, "spoof_detected"}};
    for (const auto& [reason, name] : extra) {
        const auto j = ToAJson(Failed(reason, "m"));
        EXPECT_EQ(Keys(j), (std::vector<std::string>{"type", "reason", "message"}));
        EXPECT_EQ(j["reason"], name);
    }
}

TEST(AProtocol, ErrorHasOnlyTypeAndMessage) {
    for (std::string_view m :
         {kAErrorFrameRequired, kAErrorInvalidImageData, kAErrorCouldNotDecode}) {
        Event e = Make(EventType::Error, State::WaitingAction, Instruction::Left);
        e.message = std::string(m);
        EXPECT_EQ(ToAText(e), R"({"type":"error","message":")" + std::string(m) + R"("})");
    }
    EXPECT_EQ(kAErrorFrameRequired, "frame field required");
    EXPECT_EQ(kAErrorInvalidImageData, "Invalid image data");
    EXPECT_EQ(kAErrorCouldNotDecode, "Could not decode image");
}

TEST(AProtocol, RoundingMatchesPythonRound2) {
    // Python: round(2.675, 2) == 2.67, round(0.125, 2) == 0.12, round(0.375, 2) == 0.38,
    // round(1.005, 2) == 1.0, round(-0.001, 2) == -0.0, round(-12.345, 2) == -12.35 (binary
    // -12.3450000000000006).
    EXPECT_EQ(RoundTo2Decimals(2.675), 2.67);
    EXPECT_EQ(RoundTo2Decimals(0.125), 0.12);
    EXPECT_EQ(RoundTo2Decimals(0.375), 0.38);
    EXPECT_EQ(RoundTo2Decimals(1.005), 1.0);
    EXPECT_EQ(RoundTo2Decimals(-12.345), -12.35);
    EXPECT_EQ(RoundTo2Decimals(19.999), 20.0);
    EXPECT_TRUE(std::signbit(RoundTo2Decimals(-0.001)));
    const Event e = WithPose(Make(EventType::Waiting, State::WaitingCenter, Instruction::Center),
                             -0.001f, 12.3456f);
    EXPECT_EQ(ToAText(e), R"({"type":"waiting","state":"WAITING_CENTER","instruction":"CENTER",)"
                          R"("yaw":-0.0,"pitch":12.35,"success":0,"total":3})");
}

// End to end: a real session's events rendered in order.
TEST(AProtocol, ASessionsMessagesInOrder) {
    auto now = std::make_shared<double>(0);
    ChallengeConfig c;
    c.max_wrong_attempts = 2;
    auto s = ChallengeSession::Create(
        c, [now] { return *now; }, [] { return 0u; });
    ASSERT_TRUE(s);
    std::vector<std::string> out;
    const auto feed = [&](std::optional<Event> ev) {
        ASSERT_TRUE(ev);
        out.push_back(ToAText(*ev));
    };
    const auto face = [](float yaw, float pitch) {
        Observation o;
        o.face = true;
        o.face_count = 1;
        o.yaw = yaw;
        o.pitch = pitch;
        return o;
    };
    feed(s->Start());
    *now += 0.25;
    feed(s->OnFrame(Observation{}));
    *now += 0.25;
    feed(s->OnFrame(face(20, 3)));
    *now += 0.25;
    feed(s->OnFrame(face(1, 3)));  // LEFT, baseline 3
    *now += 0.25;
    feed(s->OnFrame(face(24, 3)));  // wrong RIGHT, 1 of 2
    *now += 0.25;
    feed(s->OnError(std::string(kAErrorCouldNotDecode)));
    *now += 0.25;
    feed(s->OnFrame(face(-21, 4)));
    *now += 10.25;
    feed(s->OnTick());
    const std::vector<std::string> expected = {
        R"({"type":"start","state":"WAITING_CENTER","instruction":"CENTER","success":0,"total":3})",
        R"({"type":"no_face","state":"WAITING_CENTER","instruction":"CENTER","success":0,"total":3})",
        R"({"type":"waiting","state":"WAITING_CENTER","instruction":"CENTER","yaw":20.0,"pitch":3.0,"success":0,"total":3})",
        R"({"type":"challenge","state":"WAITING_ACTION","instruction":"LEFT","yaw":1.0,"pitch":0.0,"success":0,"total":3})",
        R"({"type":"waiting","state":"WAITING_ACTION","instruction":"LEFT","yaw":24.0,"pitch":0.0,"success":0,"total":3,"wrong_direction":"RIGHT"})",
        R"({"type":"error","message":"Could not decode image"})",
        R"({"type":"success","state":"WAITING_CENTER","instruction":"CENTER","yaw":-21.0,"pitch":1.0,"success":1,"total":3})",
        R"({"type":"failed","reason":"idle_timeout","message":"No message received in time."})",
    };
    EXPECT_EQ(out, expected);
}

TEST(AProtocolPolling, NoFaceIsAsStatusFirst) {
    const auto j = ToAPollJson(
        WithPose(Make(EventType::NoFace, State::WaitingAction, Instruction::Left, 1), 5, 5));
    EXPECT_EQ(ToJsonText(j), R"({"status":"NO_FACE","success":1,"live":false,"type":"no_face",)"
                             R"("state":"WAITING_ACTION","instruction":"LEFT","total":3})");
}

TEST(AProtocolPolling, AJudgedFrameHasAsKeysFirstAndLiveOnlyOnComplete) {
    const auto waiting = ToAPollJson(WithPose(
        Make(EventType::Waiting, State::WaitingAction, Instruction::Right, 2), 10.005f, -3.5f));
    EXPECT_EQ(Keys(waiting),
              (std::vector<std::string>{"yaw", "pitch", "challenge", "success", "live", "type",
                                        "state", "instruction", "total"}));
    EXPECT_EQ(waiting["challenge"], "RIGHT");
    EXPECT_EQ(waiting["live"], false);
    EXPECT_EQ(waiting["pitch"], -3.5);
    // A's live = success >= 2 would say true here; only complete does.
    EXPECT_EQ(
        ToAPollJson(Make(EventType::Success, State::WaitingCenter, Instruction::Center, 2))["live"],
        false);
    Event complete =
        WithPose(Make(EventType::Complete, State::Complete, Instruction::Verified, 3), 1, 2);
    complete.live = true;
    const auto done = ToAPollJson(complete);
    EXPECT_EQ(done["live"], true);
    EXPECT_EQ(done["challenge"], "VERIFIED");
}

TEST(AProtocolPolling, FailedSaysWhy) {
    const auto j = ToAPollJson(Failed(FailReason::SpoofDetected, "Presentation attack detected."));
    EXPECT_EQ(ToJsonText(j),
              R"({"status":"FAILED","reason":"spoof_detected",)"
              R"("message":"Presentation attack detected.","success":0,"live":false,)"
              R"("type":"failed","total":3})");
}

TEST(AProtocol, NamesOfEveryEnum) {
    EXPECT_EQ(StateName(State::WaitingCenter), "WAITING_CENTER");
    EXPECT_EQ(StateName(State::WaitingAction), "WAITING_ACTION");
    EXPECT_EQ(StateName(State::Complete), "COMPLETE");
    EXPECT_EQ(EventTypeName(EventType::NoFace), "no_face");
    EXPECT_EQ(InstructionName(Instruction::Verified), "VERIFIED");
    EXPECT_EQ(InstructionName(ToInstruction(Direction::Blink)), "BLINK");
    EXPECT_EQ(FailReasonName(FailReason::ChallengeTimeout), "challenge_timeout");
}

}  // namespace
}  // namespace liveproof::challenge
