// ChallengeSession: every transition, timeout, failure reason, hold, hysteresis, baseline,
// mirroring, draw and the passive-verdict gate, driven by a fake clock and scripted draws.
#include "liveproof/challenge_session.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "liveproof/challenge_config.hpp"

namespace liveproof::challenge {
namespace {

Observation Face(float yaw, float pitch) {
    Observation o;
    o.face = true;
    o.face_count = 1;
    o.yaw = yaw;
    o.pitch = pitch;
    return o;
}

Observation NoFace() { return Observation{}; }

Observation Eyes(float closed, float yaw = 0, float pitch = 0) {
    Observation o = Face(yaw, pitch);
    o.eyes_closed = closed;
    return o;
}

// A session with a hand-moved clock and a scripted random source (0 once the script is used
// up). With the default four directions, draws of 0 give LEFT, RIGHT, LEFT, RIGHT...
class Rig {
  public:
    explicit Rig(ChallengeConfig config = {}, std::vector<std::uint32_t> draws = {})
        : now_(std::make_shared<double>(100.0)),
          script_(std::make_shared<Script>(Script{std::move(draws), 0})),
          session_(Make(std::move(config), now_, script_)) {}

    ChallengeSession& S() { return session_; }
    void Advance(double seconds) { *now_ += seconds; }
    std::size_t DrawsUsed() const { return script_->next; }

    std::optional<Event> Start() { return session_.Start(); }
    // The default step (125 ms, close to A's 150 ms client pace) is exact in binary, so the
    // "exactly at the timeout" checks below compare exact values.
    std::optional<Event> Frame(const Observation& o, double dt = 0.125) {
        Advance(dt);
        return session_.OnFrame(o);
    }
    std::optional<Event> At(float yaw, float pitch, double dt = 0.125) {
        return Frame(Face(yaw, pitch), dt);
    }
    std::optional<Event> Tick(double dt) {
        Advance(dt);
        return session_.OnTick();
    }

    // Start, then one centred frame: the session is in WaitingAction.
    Event StartAndCentre() {
        EXPECT_TRUE(Start());
        auto ev = At(0, 0);
        EXPECT_TRUE(ev);
        EXPECT_EQ(ev->type, EventType::Challenge);
        return *ev;
    }

  private:
    struct Script {
        std::vector<std::uint32_t> values;
        std::size_t next = 0;
    };

    static ChallengeSession Make(ChallengeConfig config, std::shared_ptr<double> now,
                                 std::shared_ptr<Script> script) {
        auto s = ChallengeSession::Create(
            std::move(config), [now] { return *now; },
            [script]() -> std::uint32_t {
                if (script->next < script->values.size()) return script->values[script->next++];
                ++script->next;
                return 0;
            });
        if (!s) {
            ADD_FAILURE() << s.error().detail;
            std::abort();
        }
        return std::move(s).value();
    }

    std::shared_ptr<double> now_;
    std::shared_ptr<Script> script_;
    ChallengeSession session_;
};

void ExpectFailed(const std::optional<Event>& ev, FailReason reason) {
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->type, EventType::Failed);
    EXPECT_EQ(ev->state, State::Failed);
    ASSERT_TRUE(ev->reason);
    EXPECT_EQ(*ev->reason, reason);
    EXPECT_FALSE(ev->yaw);
    EXPECT_FALSE(ev->pitch);
    EXPECT_FALSE(ev->live);
}

void ExpectType(const std::optional<Event>& ev, EventType type) {
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->type, type) << EventTypeName(ev->type);
}

// ---------------------------------------------------------------- configuration and parsing

TEST(ChallengeConfig, DefaultsAreSystemAValuesAndValid) {
    const ChallengeConfig c;
    EXPECT_TRUE(c.Validate());
    EXPECT_EQ(c.required_successes, 3);
    EXPECT_EQ(c.challenge_timeout_s, 5.0);
    EXPECT_EQ(c.session_timeout_s, 30.0);
    EXPECT_EQ(c.max_wrong_attempts, 1);
    EXPECT_EQ(c.center_yaw, 15.0f);
    EXPECT_EQ(c.center_pitch, 12.0f);
    EXPECT_EQ(c.action_yaw, 20.0f);
    EXPECT_EQ(c.action_pitch, 12.0f);
    EXPECT_EQ(c.center_hold_frames, 1);
    EXPECT_EQ(c.action_hold_frames, 1);
    EXPECT_EQ(c.allowed, (std::vector<Direction>{Direction::Left, Direction::Right, Direction::Up,
                                                 Direction::Down}));
    EXPECT_FALSE(c.blink_enabled);
    EXPECT_FALSE(c.mirrored);
    EXPECT_FALSE(c.require_passive_verdict);
}

TEST(ChallengeConfig, ValidateRejectsEveryOutOfRangeField) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<std::pair<const char*, void (*)(ChallengeConfig&)>> cases = {
        {"successes 0", [](ChallengeConfig& c) { c.required_successes = 0; }},
        {"successes 11", [](ChallengeConfig& c) { c.required_successes = 11; }},
        {"challenge timeout 0", [](ChallengeConfig& c) { c.challenge_timeout_s = 0; }},
        {"session timeout < 0", [](ChallengeConfig& c) { c.session_timeout_s = -1; }},
        {"idle timeout 0", [](ChallengeConfig& c) { c.idle_timeout_s = 0; }},
        {"idle timeout inf",
         [](ChallengeConfig& c) { c.idle_timeout_s = std::numeric_limits<double>::infinity(); }},
        {"wrong attempts 0", [](ChallengeConfig& c) { c.max_wrong_attempts = 0; }},
        {"wrong attempts 101", [](ChallengeConfig& c) { c.max_wrong_attempts = 101; }},
        {"center yaw 0", [](ChallengeConfig& c) { c.center_yaw = 0; }},
        {"center pitch 90", [](ChallengeConfig& c) { c.center_pitch = 90; }},
        {"margin < 0", [](ChallengeConfig& c) { c.center_exit_margin = -1; }},
        {"action yaw < center yaw", [](ChallengeConfig& c) { c.action_yaw = 10; }},
        {"action pitch < center pitch", [](ChallengeConfig& c) { c.action_pitch = 11; }},
        {"action yaw 90", [](ChallengeConfig& c) { c.action_yaw = 90; }},
        {"center hold 0", [](ChallengeConfig& c) { c.center_hold_frames = 0; }},
        {"action hold 31", [](ChallengeConfig& c) { c.action_hold_frames = 31; }},
        {"allowed empty", [](ChallengeConfig& c) { c.allowed.clear(); }},
        {"allowed repeat",
         [](ChallengeConfig& c) {
             c.allowed = {Direction::Left, Direction::Left};
         }},
        {"blink without enable", [](ChallengeConfig& c) { c.allowed = {Direction::Blink}; }},
        {"blink open >= close",
         [](ChallengeConfig& c) {
             c.blink_open_threshold = 0.6f;
             c.blink_close_threshold = 0.6f;
         }},
        {"blink close > 1", [](ChallengeConfig& c) { c.blink_close_threshold = 1.5f; }},
        {"blink max closed 0", [](ChallengeConfig& c) { c.blink_max_closed_frames = 0; }},
    };
    for (const auto& [name, mutate] : cases) {
        ChallengeConfig c;
        mutate(c);
        const auto v = c.Validate();
        ASSERT_FALSE(v) << name;
        EXPECT_EQ(v.error().code, ErrorCode::InvalidArgument) << name;
        EXPECT_FALSE(v.error().detail.empty()) << name;
    }
    ChallengeConfig c;
    c.challenge_timeout_s = nan;
    EXPECT_FALSE(c.Validate());
}

TEST(ChallengeConfig, BlinkIsValidWhenEnabled) {
    ChallengeConfig c;
    c.allowed = {Direction::Left, Direction::Blink};
    c.blink_enabled = true;
    EXPECT_TRUE(c.Validate());
}

TEST(ChallengeConfig, ParseDirectionIgnoresCaseAndBlanks) {
    EXPECT_EQ(*ParseDirection("LEFT"), Direction::Left);
    EXPECT_EQ(*ParseDirection(" right "), Direction::Right);
    EXPECT_EQ(*ParseDirection("Up"), Direction::Up);
    EXPECT_EQ(*ParseDirection("down\t"), Direction::Down);
    EXPECT_EQ(*ParseDirection("BLINK"), Direction::Blink);
    for (const char* bad : {"", "CENTER", "LEFTT", "L", "le ft"}) {
        const auto d = ParseDirection(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_EQ(d.error().code, ErrorCode::InvalidArgument);
    }
    EXPECT_NE(ParseDirection("sideways").error().detail.find("sideways"), std::string::npos);
}

TEST(ChallengeConfig, DirectionNamesRoundTrip) {
    for (Direction d :
         {Direction::Left, Direction::Right, Direction::Up, Direction::Down, Direction::Blink}) {
        EXPECT_EQ(*ParseDirection(DirectionName(d)), d);
    }
}

TEST(ChallengeConfig, ParseChallengeListKeepsOrderAndRejectsEmptyOrRepeatedItems) {
    EXPECT_EQ(*ParseChallengeList("LEFT,RIGHT"),
              (std::vector<Direction>{Direction::Left, Direction::Right}));
    EXPECT_EQ(*ParseChallengeList(" down , up,BLINK "),
              (std::vector<Direction>{Direction::Down, Direction::Up, Direction::Blink}));
    EXPECT_EQ(*ParseChallengeList("UP"), (std::vector<Direction>{Direction::Up}));
    for (const char* bad : {"", "  ", "LEFT,", ",LEFT", "LEFT,,RIGHT", "LEFT,left", "LEFT,NOD"}) {
        EXPECT_FALSE(ParseChallengeList(bad)) << bad;
    }
}

TEST(ChallengeSessionCreate, RejectsInvalidConfigAndMissingClockOrRandom) {
    ChallengeConfig bad;
    bad.required_successes = 0;
    EXPECT_FALSE(ChallengeSession::Create(
        bad, [] { return 0.0; }, [] { return 0u; }));
    EXPECT_FALSE(ChallengeSession::Create({}, nullptr, [] { return 0u; }));
    EXPECT_FALSE(ChallengeSession::Create(
        {}, [] { return 0.0; }, nullptr));
    auto ok = ChallengeSession::Create(
        {}, [] { return 0.0; }, [] { return 0u; });
    ASSERT_TRUE(ok);
    EXPECT_FALSE(ok->Started());
    EXPECT_EQ(ok->CurrentState(), State::WaitingCenter);
}

// ---------------------------------------------------------------- start and basic flow

TEST(ChallengeSessionStart, StartEventOnceAndNothingBeforeStart) {
    Rig r;
    EXPECT_FALSE(r.S().OnFrame(Face(0, 0)));
    EXPECT_FALSE(r.S().OnTick());
    EXPECT_FALSE(r.S().OnMessage());
    EXPECT_FALSE(r.S().OnError("x"));
    EXPECT_FALSE(r.S().SetPassiveVerdict(false));
    EXPECT_EQ(r.S().CurrentState(), State::WaitingCenter);
    EXPECT_EQ(r.DrawsUsed(), 0u);

    const auto ev = r.Start();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->type, EventType::Start);
    EXPECT_EQ(ev->state, State::WaitingCenter);
    EXPECT_EQ(ev->instruction, Instruction::Center);
    EXPECT_EQ(ev->success, 0);
    EXPECT_EQ(ev->total, 3);
    EXPECT_FALSE(ev->yaw);
    EXPECT_FALSE(ev->pitch);
    EXPECT_TRUE(r.S().Started());
    EXPECT_FALSE(r.Start());
}

TEST(ChallengeSessionStart, TotalIsRequiredSuccesses) {
    ChallengeConfig c;
    c.required_successes = 5;
    Rig r(c);
    EXPECT_EQ(r.Start()->total, 5);
}

TEST(ChallengeSessionCenter, OffCentreFaceGivesWaitingWithPose) {
    Rig r;
    r.Start();
    const auto ev = r.At(30, 2);
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->state, State::WaitingCenter);
    EXPECT_EQ(ev->instruction, Instruction::Center);
    EXPECT_FLOAT_EQ(*ev->yaw, 30);
    EXPECT_FLOAT_EQ(*ev->pitch, 2);
    EXPECT_FALSE(ev->wrong_direction);
    EXPECT_EQ(r.S().CurrentState(), State::WaitingCenter);
    EXPECT_EQ(r.DrawsUsed(), 0u);
}

TEST(ChallengeSessionCenter, CentreTestIsStrictAsInA) {
    Rig r;
    r.Start();
    ExpectType(r.At(15, 0), EventType::Waiting);
    ExpectType(r.At(-15, 0), EventType::Waiting);
    ExpectType(r.At(0, 12), EventType::Waiting);
    ExpectType(r.At(0, -12), EventType::Waiting);
    ExpectType(r.At(-14.9f, 11.9f), EventType::Challenge);
}

TEST(ChallengeSessionCenter, CentredFrameIssuesChallenge) {
    Rig r({}, {2});
    r.Start();
    const auto ev = r.At(3, 0);
    ExpectType(ev, EventType::Challenge);
    EXPECT_EQ(ev->state, State::WaitingAction);
    EXPECT_EQ(ev->instruction, Instruction::Up);
    EXPECT_EQ(ev->success, 0);
    EXPECT_FLOAT_EQ(*ev->yaw, 3);
    EXPECT_EQ(r.S().CurrentState(), State::WaitingAction);
    EXPECT_EQ(r.S().CurrentChallenge(), Direction::Up);
    EXPECT_EQ(r.S().IssuedChallenges(), std::vector<Direction>{Direction::Up});
}

TEST(ChallengeSessionNoFace, NoFaceSaysCentreOrTheCurrentChallengeWithoutPose) {
    Rig r({}, {1});
    r.Start();
    auto ev = r.Frame(NoFace());
    ExpectType(ev, EventType::NoFace);
    EXPECT_EQ(ev->state, State::WaitingCenter);
    EXPECT_EQ(ev->instruction, Instruction::Center);
    EXPECT_FALSE(ev->yaw);
    EXPECT_FALSE(ev->pitch);

    r.At(0, 0);
    ev = r.Frame(NoFace());
    ExpectType(ev, EventType::NoFace);
    EXPECT_EQ(ev->state, State::WaitingAction);
    EXPECT_EQ(ev->instruction, Instruction::Right);
    EXPECT_FALSE(ev->yaw);
    EXPECT_FALSE(ev->wrong_direction);
    EXPECT_EQ(r.S().CurrentState(), State::WaitingAction);
}

TEST(ChallengeSessionNoFace, NonFinitePoseCountsAsNoFace) {
    Rig r;
    r.Start();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    ExpectType(r.At(nan, 0), EventType::NoFace);
    ExpectType(r.At(0, std::numeric_limits<float>::infinity()), EventType::NoFace);
    EXPECT_EQ(r.S().CurrentState(), State::WaitingCenter);
}

// ---------------------------------------------------------------- actions

struct DirectionCase {
    std::uint32_t draw;
    Direction asked;
    Instruction instruction;
    float yaw;
    float pitch;
};

TEST(ChallengeSessionAction, EachDirectionPassesBeyondItsThresholdOnly) {
    const std::array<DirectionCase, 4> cases = {{
        {0, Direction::Left, Instruction::Left, -20.5f, 0},
        {1, Direction::Right, Instruction::Right, 20.5f, 0},
        {2, Direction::Up, Instruction::Up, 0, -12.5f},
        {3, Direction::Down, Instruction::Down, 0, 12.5f},
    }};
    for (const auto& c : cases) {
        ChallengeConfig cfg;
        cfg.max_wrong_attempts = 100;
        Rig r(cfg, {c.draw});
        const Event ch = r.StartAndCentre();
        EXPECT_EQ(ch.instruction, c.instruction);
        // Exactly at the threshold is not enough (strict, as A).
        const float at_yaw = c.yaw == 0 ? 0 : std::copysign(20.0f, c.yaw);
        const float at_pitch = c.pitch == 0 ? 0 : std::copysign(12.0f, c.pitch);
        ExpectType(r.At(at_yaw, at_pitch), EventType::Waiting);
        const auto ev = r.At(c.yaw, c.pitch);
        ExpectType(ev, EventType::Success);
        EXPECT_EQ(ev->state, State::WaitingCenter);
        EXPECT_EQ(ev->instruction, Instruction::Center);
        EXPECT_EQ(ev->success, 1);
        EXPECT_FLOAT_EQ(*ev->yaw, c.yaw);
        EXPECT_FLOAT_EQ(*ev->pitch, c.pitch);
        EXPECT_EQ(r.S().Successes(), 1);
    }
}

TEST(ChallengeSessionAction, NotYetMetGivesWaitingWithNullWrongDirection) {
    Rig r;
    r.StartAndCentre();
    const auto ev = r.At(-10, 5);
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->state, State::WaitingAction);
    EXPECT_EQ(ev->instruction, Instruction::Left);
    EXPECT_FALSE(ev->wrong_direction);
    EXPECT_EQ(ev->wrong_attempts, 0);
}

TEST(ChallengeSessionAction, OvershootOnTheOtherAxisWhileMeetingTheAskedOneIsASuccess) {
    Rig r;
    r.StartAndCentre();  // LEFT
    ExpectType(r.At(-25, 20), EventType::Success);
}

TEST(ChallengeSessionAction, ReturnToCentreIsRequiredBeforeTheNextChallenge) {
    Rig r;
    r.StartAndCentre();
    ExpectType(r.At(-25, 0), EventType::Success);
    // Still turned: waiting for the centre, and no wrong-move logic in WaitingCenter.
    auto ev = r.At(-25, 0);
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->state, State::WaitingCenter);
    ExpectType(r.At(25, 0), EventType::Waiting);
    ev = r.At(0, 0);
    ExpectType(ev, EventType::Challenge);
    EXPECT_EQ(ev->instruction, Instruction::Right);
    EXPECT_EQ(ev->success, 1);
}

TEST(ChallengeSessionAction, ThirdSuccessCompletesAndTheSessionGoesInert) {
    Rig r;
    r.StartAndCentre();                            // LEFT
    ExpectType(r.At(-25, 0), EventType::Success);  // 1
    ExpectType(r.At(0, 0), EventType::Challenge);  // RIGHT
    ExpectType(r.At(25, 0), EventType::Success);   // 2
    ExpectType(r.At(0, 0), EventType::Challenge);  // LEFT
    const auto ev = r.At(-30, 1.5f);
    ExpectType(ev, EventType::Complete);
    EXPECT_EQ(ev->state, State::Complete);
    EXPECT_EQ(ev->instruction, Instruction::Verified);
    EXPECT_EQ(ev->success, 3);
    EXPECT_EQ(ev->total, 3);
    EXPECT_TRUE(ev->live);
    EXPECT_FLOAT_EQ(*ev->yaw, -30);
    EXPECT_FLOAT_EQ(*ev->pitch, 1.5f);
    EXPECT_FALSE(ev->reason);
    EXPECT_TRUE(r.S().Finished());
    EXPECT_EQ(r.S().IssuedChallenges(),
              (std::vector<Direction>{Direction::Left, Direction::Right, Direction::Left}));

    EXPECT_FALSE(r.At(0, 0));
    EXPECT_FALSE(r.Frame(NoFace()));
    EXPECT_FALSE(r.Tick(100));
    EXPECT_FALSE(r.S().OnMessage());
    EXPECT_FALSE(r.S().OnError("late"));
    EXPECT_FALSE(r.S().SetPassiveVerdict(true));
    EXPECT_FALSE(r.Start());
    EXPECT_EQ(r.S().CurrentState(), State::Complete);
    EXPECT_EQ(r.S().Successes(), 3);
}

TEST(ChallengeSessionAction, SingleRequiredSuccessCompletesAtOnce) {
    ChallengeConfig c;
    c.required_successes = 1;
    Rig r(c);
    r.StartAndCentre();
    ExpectType(r.At(-25, 0), EventType::Complete);
}

// ---------------------------------------------------------------- wrong moves

TEST(ChallengeSessionWrong, FirstWrongMoveFailsWithADefaults) {
    Rig r;
    r.StartAndCentre();  // LEFT
    const auto ev = r.At(25, 0);
    ExpectFailed(ev, FailReason::WrongAttempts);
    EXPECT_EQ(ev->message, "Juda ko'p noto'g'ri harakat!");
    EXPECT_EQ(r.S().Failure(), FailReason::WrongAttempts);
    EXPECT_EQ(r.S().WrongAttempts(), 1);
}

TEST(ChallengeSessionWrong, WrongDirectionIsReportedBeforeFailureWithThreeAttempts) {
    ChallengeConfig c;
    c.max_wrong_attempts = 3;
    Rig r(c, {2});
    r.StartAndCentre();  // UP
    auto ev = r.At(-25, 0);
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->wrong_direction, Direction::Left);
    EXPECT_EQ(ev->wrong_attempts, 1);
    EXPECT_EQ(ev->state, State::WaitingAction);
    EXPECT_EQ(ev->instruction, Instruction::Up);

    ev = r.At(0, 0);  // back inside: the excursion ends
    ExpectType(ev, EventType::Waiting);
    EXPECT_FALSE(ev->wrong_direction);
    EXPECT_EQ(ev->wrong_attempts, 1);

    ev = r.At(0, 15);
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->wrong_direction, Direction::Down);
    EXPECT_EQ(ev->wrong_attempts, 2);

    r.At(0, 0);
    ExpectFailed(r.At(22, 0), FailReason::WrongAttempts);
}

TEST(ChallengeSessionWrong, AWrongMoveCountsOncePerExcursion) {
    ChallengeConfig c;
    c.max_wrong_attempts = 2;
    Rig r(c);
    r.StartAndCentre();  // LEFT
    for (int i = 0; i < 10; ++i) {
        const auto ev = r.At(25.0f + static_cast<float>(i), 0);
        ExpectType(ev, EventType::Waiting);
        EXPECT_EQ(ev->wrong_direction, Direction::Right);  // still shown while it lasts
        EXPECT_EQ(ev->wrong_attempts, 1);
    }
    // Switching to another wrong direction without coming back inside is the same excursion.
    auto ev = r.At(25, 20);
    EXPECT_EQ(ev->wrong_attempts, 1);
    ev = r.At(10, 20);
    EXPECT_EQ(ev->wrong_direction, Direction::Down);
    EXPECT_EQ(ev->wrong_attempts, 1);
    // A no-face frame does not end the excursion either.
    ExpectType(r.Frame(NoFace()), EventType::NoFace);
    EXPECT_EQ(r.At(25, 0)->wrong_attempts, 1);
    // Inside again (|yaw| <= 20 and |pitch| <= 12 count as inside: the tests are strict).
    EXPECT_FALSE(r.At(20, 12)->wrong_direction);
    ExpectFailed(r.At(21, 0), FailReason::WrongAttempts);
}

TEST(ChallengeSessionWrong, WrongDirectionIsTheFirstMatchInAsOrder) {
    ChallengeConfig c;
    c.max_wrong_attempts = 10;
    {
        Rig r(c, {2});
        r.StartAndCentre();  // UP
        EXPECT_EQ(r.At(25, 15)->wrong_direction, Direction::Right);
        r.At(0, 0);
        EXPECT_EQ(r.At(-25, 15)->wrong_direction, Direction::Left);
    }
    {
        Rig r(c, {0});
        r.StartAndCentre();  // LEFT
        EXPECT_EQ(r.At(5, -15)->wrong_direction, Direction::Up);
        r.At(0, 0);
        EXPECT_EQ(r.At(25, -15)->wrong_direction, Direction::Right);
    }
}

TEST(ChallengeSessionWrong, WrongAttemptsResetWithEachNewChallenge) {
    ChallengeConfig c;
    c.max_wrong_attempts = 2;
    Rig r(c);
    r.StartAndCentre();  // LEFT
    EXPECT_EQ(r.At(25, 0)->wrong_attempts, 1);
    ExpectType(r.At(-25, 0), EventType::Success);
    const auto ch = r.At(0, 0);  // RIGHT
    ExpectType(ch, EventType::Challenge);
    EXPECT_EQ(ch->wrong_attempts, 0);
    EXPECT_EQ(r.S().WrongAttempts(), 0);
    EXPECT_EQ(r.At(-25, 0)->wrong_attempts, 1);
}

TEST(ChallengeSessionWrong, MeetingTheAskedPoseDuringAHoldIsNotAWrongMove) {
    ChallengeConfig c;
    c.action_hold_frames = 3;
    Rig r(c);
    r.StartAndCentre();        // LEFT
    auto ev = r.At(-25, -15);  // LEFT and beyond UP: progress, not a mistake
    ExpectType(ev, EventType::Waiting);
    EXPECT_FALSE(ev->wrong_direction);
    ExpectType(r.At(-25, -15), EventType::Waiting);
    ExpectType(r.At(-25, -15), EventType::Success);
}

// ---------------------------------------------------------------- timeouts

TEST(ChallengeSessionTimeout, SessionTimeoutIsStrictAndCheckedOnFaceFrames) {
    ChallengeConfig c;
    c.idle_timeout_s = 100;
    Rig r(c);
    r.Start();
    ExpectType(r.At(30, 0, 30.0), EventType::Waiting);  // exactly 30 s: not yet
    const auto ev = r.At(30, 0, 0.01);
    ExpectFailed(ev, FailReason::Timeout);
    EXPECT_EQ(ev->message, "Vaqt tugadi! Qaytadan urinib ko'ring.");
    EXPECT_EQ(r.S().CurrentState(), State::Failed);
}

TEST(ChallengeSessionTimeout, SessionTimeoutFiresOnFramesWithoutAFace) {
    Rig r;
    r.Start();
    for (int i = 0; i < 232; ++i) ExpectType(r.Frame(NoFace()), EventType::NoFace);  // 29 s
    ExpectType(r.Frame(NoFace(), 1.0), EventType::NoFace);                           // 30 s
    ExpectFailed(r.Frame(NoFace()), FailReason::Timeout);
}

TEST(ChallengeSessionTimeout, SessionTimeoutFiresOnBadFrames) {
    Rig r;
    r.Start();
    for (int i = 0; i < 30; ++i) {
        r.Advance(1.0);
        const auto ev = r.S().OnError("Could not decode image");
        ExpectType(ev, EventType::Error);
        EXPECT_EQ(ev->message, "Could not decode image");
    }
    r.Advance(0.5);
    ExpectFailed(r.S().OnError("Could not decode image"), FailReason::Timeout);
}

TEST(ChallengeSessionTimeout, SessionTimeoutFiresOnTicksWithNoMessages) {
    ChallengeConfig c;
    c.idle_timeout_s = 1000;
    Rig r(c);
    r.Start();
    EXPECT_FALSE(r.Tick(29.9));
    ExpectFailed(r.Tick(0.2), FailReason::Timeout);
}

TEST(ChallengeSessionTimeout, ChallengeTimeoutNamesTheChallenge) {
    Rig r({}, {3});
    r.StartAndCentre();                               // DOWN
    ExpectType(r.At(0, 0, 5.0), EventType::Waiting);  // exactly 5 s: not yet
    const auto ev = r.At(0, 0, 0.01);
    ExpectFailed(ev, FailReason::ChallengeTimeout);
    EXPECT_EQ(ev->message, "'DOWN' uchun vaqt tugadi!");
}

TEST(ChallengeSessionTimeout, ChallengeTimeoutFiresWithoutAFaceBadFramesOrAnyMessage) {
    {
        Rig r;
        r.StartAndCentre();
        for (int i = 0; i < 40; ++i) ExpectType(r.Frame(NoFace()), EventType::NoFace);  // 5 s
        ExpectFailed(r.Frame(NoFace()), FailReason::ChallengeTimeout);
    }
    {
        Rig r;
        r.StartAndCentre();
        r.Advance(5.1);
        ExpectFailed(r.S().OnError("Invalid image data"), FailReason::ChallengeTimeout);
    }
    {
        Rig r;
        r.StartAndCentre();
        EXPECT_FALSE(r.Tick(4.9));
        const auto ev = r.Tick(0.2);
        ExpectFailed(ev, FailReason::ChallengeTimeout);
        EXPECT_EQ(ev->message, "'LEFT' uchun vaqt tugadi!");
    }
    {
        Rig r;
        r.StartAndCentre();
        r.Advance(5.1);
        ExpectFailed(r.S().OnMessage(), FailReason::ChallengeTimeout);
    }
}

TEST(ChallengeSessionTimeout, ChallengeClockRunsOnlyInWaitingActionAndRestartsPerChallenge) {
    Rig r;
    r.Start();
    for (int i = 0; i < 20; ++i) ExpectType(r.At(40, 0, 0.5), EventType::Waiting);  // 10 s
    ExpectType(r.At(0, 0), EventType::Challenge);
    ExpectType(r.At(-25, 0, 4.9), EventType::Success);
    ExpectType(r.At(40, 0, 3.0), EventType::Waiting);  // return to centre is not timed
    ExpectType(r.At(0, 0, 3.0), EventType::Challenge);
    ExpectType(r.At(0, 0, 4.9), EventType::Waiting);
    ExpectFailed(r.At(0, 0, 0.2), FailReason::ChallengeTimeout);
}

TEST(ChallengeSessionTimeout, IdleTimeoutOnTicksWhenNothingArrives) {
    Rig r;
    r.Start();
    EXPECT_FALSE(r.Tick(5));
    EXPECT_FALSE(r.Tick(5));  // exactly 10 s: not yet
    const auto ev = r.Tick(0.1);
    ExpectFailed(ev, FailReason::IdleTimeout);
    EXPECT_FALSE(ev->message.empty());
}

TEST(ChallengeSessionTimeout, EveryKindOfMessageKeepsTheSessionAliveButTicksDoNot) {
    ChallengeConfig c;
    c.session_timeout_s = 100;
    Rig r(c);
    r.Start();
    r.Advance(9);
    EXPECT_FALSE(r.S().OnMessage());
    EXPECT_FALSE(r.Tick(9));
    ExpectType(r.Frame(NoFace(), 0.5), EventType::NoFace);
    EXPECT_FALSE(r.Tick(9.5));
    ExpectType(r.At(40, 0, 0.25), EventType::Waiting);
    EXPECT_FALSE(r.Tick(9.75));
    r.Advance(0.125);
    ExpectType(r.S().OnError("frame field required"), EventType::Error);
    EXPECT_FALSE(r.Tick(9.5));
    EXPECT_FALSE(r.Tick(0.5));  // exactly 10 s since the error
    ExpectFailed(r.Tick(0.125), FailReason::IdleTimeout);
}

TEST(ChallengeSessionTimeout, AFrameAfterAnIdleGapFailsWhateverTheTickRate) {
    Rig r;
    r.Start();
    ExpectFailed(r.At(0, 0, 10.5), FailReason::IdleTimeout);
}

TEST(ChallengeSessionTimeout, SessionTimeoutWinsOverChallengeTimeoutWhichWinsOverIdle) {
    {
        Rig r;
        r.StartAndCentre();
        ExpectFailed(r.Tick(31), FailReason::Timeout);
    }
    {
        Rig r;
        r.StartAndCentre();
        ExpectFailed(r.Tick(11), FailReason::ChallengeTimeout);
    }
    {
        ChallengeConfig c;
        c.idle_timeout_s = 2;
        Rig r(c);
        r.StartAndCentre();
        ExpectFailed(r.Tick(3), FailReason::IdleTimeout);
    }
}

TEST(ChallengeSessionError, ErrorEventKeepsStateAndEchoesTheMessage) {
    Rig r;
    r.StartAndCentre();
    r.Advance(0.1);
    const auto ev = r.S().OnError("Invalid image data");
    ExpectType(ev, EventType::Error);
    EXPECT_EQ(ev->message, "Invalid image data");
    EXPECT_EQ(ev->state, State::WaitingAction);
    EXPECT_FALSE(ev->yaw);
    EXPECT_EQ(r.S().CurrentState(), State::WaitingAction);
    ExpectType(r.At(-25, 0), EventType::Success);
}

// ---------------------------------------------------------------- faces

TEST(ChallengeSessionFaces, SeveralFacesFailInEveryActiveStateEvenWithoutAUsableFace) {
    {
        Rig r;
        r.Start();
        Observation o = Face(0, 0);
        o.face_count = 2;
        const auto ev = r.Frame(o);
        ExpectFailed(ev, FailReason::MultipleFaces);
        EXPECT_FALSE(ev->message.empty());
    }
    {
        Rig r;
        r.StartAndCentre();
        Observation o = NoFace();
        o.face_count = 3;
        ExpectFailed(r.Frame(o), FailReason::MultipleFaces);
    }
}

TEST(ChallengeSessionFaces, ATrackJumpFailsAsFaceChanged) {
    Rig r;
    r.StartAndCentre();
    ExpectType(r.At(-25, 0), EventType::Success);
    Observation o = Face(0, 0);
    o.track_jump = true;
    const auto ev = r.Frame(o);
    ExpectFailed(ev, FailReason::FaceChanged);
    EXPECT_EQ(r.S().Failure(), FailReason::FaceChanged);
}

TEST(ChallengeSessionFaces, TimeoutsAreCheckedBeforeFaceCounts) {
    Rig r;
    r.Start();
    Observation o = Face(0, 0);
    o.face_count = 2;
    ExpectFailed(r.Frame(o, 31), FailReason::Timeout);
}

TEST(ChallengeSessionTerminal, AfterFailureEveryCallIsInert) {
    Rig r;
    r.StartAndCentre();
    ExpectFailed(r.At(25, 0), FailReason::WrongAttempts);
    EXPECT_FALSE(r.At(-25, 0));
    EXPECT_FALSE(r.Tick(100));
    EXPECT_FALSE(r.S().OnMessage());
    EXPECT_FALSE(r.S().OnError("x"));
    EXPECT_FALSE(r.S().SetPassiveVerdict(false));
    EXPECT_FALSE(r.Start());
    EXPECT_EQ(r.S().CurrentState(), State::Failed);
    EXPECT_EQ(r.S().Failure(), FailReason::WrongAttempts);
    EXPECT_EQ(r.S().Successes(), 0);
}

// ---------------------------------------------------------------- hold frames and hysteresis

TEST(ChallengeSessionHold, CentreMustHoldConsecutiveFaceFrames) {
    ChallengeConfig c;
    c.center_hold_frames = 3;
    Rig r(c);
    r.Start();
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.Frame(NoFace()), EventType::NoFace);  // breaks the run
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(0, 0), EventType::Waiting);
    r.Advance(0.1);
    r.S().OnError("Could not decode image");  // breaks the run too
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(30, 0), EventType::Waiting);  // and so does an off-centre frame
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(0, 0), EventType::Waiting);
    ExpectType(r.At(0, 0), EventType::Challenge);
}

TEST(ChallengeSessionHold, ActionMustHoldConsecutiveFrames) {
    ChallengeConfig c;
    c.action_hold_frames = 3;
    Rig r(c);
    r.StartAndCentre();  // LEFT
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.At(-10, 0), EventType::Waiting);  // breaks
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.Frame(NoFace()), EventType::NoFace);  // breaks
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.At(-25, 0), EventType::Waiting);
    ExpectType(r.At(-25, 0), EventType::Success);
}

TEST(ChallengeSessionHysteresis, OnceCentredTheFaceStaysCentredUntilTheExitMargin) {
    ChallengeConfig c;
    c.center_hold_frames = 3;  // hysteresis only matters while a centre is being held
    Rig r(c);
    r.Start();
    ExpectType(r.At(14, 0), EventType::Waiting);     // enters (|yaw| < 15)
    ExpectType(r.At(17.9f, 0), EventType::Waiting);  // still inside 15 + 3
    ExpectType(r.At(-17.9f, 14.9f), EventType::Challenge);
}

TEST(ChallengeSessionHysteresis, LeavingTheExitBoxResetsAndReentryNeedsTheInnerBox) {
    ChallengeConfig c;
    c.center_hold_frames = 2;
    Rig r(c);
    r.Start();
    ExpectType(r.At(14, 0), EventType::Waiting);
    ExpectType(r.At(18, 0), EventType::Waiting);  // |yaw| >= 18: left the centre
    ExpectType(r.At(16, 0), EventType::Waiting);  // not latched: 16 >= 15 is not centred
    ExpectType(r.At(16, 0), EventType::Waiting);
    ExpectType(r.At(0, 11), EventType::Waiting);     // enters
    ExpectType(r.At(0, 15), EventType::Waiting);     // pitch exit at 12 + 3
    ExpectType(r.At(0, 14.9f), EventType::Waiting);  // needs the inner box again
    ExpectType(r.At(0, 11.9f), EventType::Waiting);  // enters
    ExpectType(r.At(0, 14.9f), EventType::Challenge);
}

TEST(ChallengeSessionHysteresis, ZeroMarginIsAsPlainThreshold) {
    ChallengeConfig c;
    c.center_hold_frames = 2;
    c.center_exit_margin = 0;
    Rig r(c);
    r.Start();
    ExpectType(r.At(14, 0), EventType::Waiting);
    ExpectType(r.At(15, 0), EventType::Waiting);
    ExpectType(r.At(14, 0), EventType::Waiting);
    ExpectType(r.At(14.5f, 0), EventType::Challenge);
}

// ---------------------------------------------------------------- pitch baseline

TEST(ChallengeSessionBaseline, BaselineIsTheMeanPitchOfTheCentredRunBeforeTheFirstChallenge) {
    ChallengeConfig c;
    c.center_hold_frames = 3;
    Rig r(c, {2});
    r.Start();
    EXPECT_FALSE(r.S().PitchBaseline());
    ExpectType(r.At(0, -30), EventType::Waiting);  // not part of the run
    ExpectType(r.At(0, 9), EventType::Waiting);
    ExpectType(r.At(0, 10), EventType::Waiting);
    const auto ev = r.At(0, 11);
    ExpectType(ev, EventType::Challenge);  // UP
    ASSERT_TRUE(r.S().PitchBaseline());
    EXPECT_FLOAT_EQ(*r.S().PitchBaseline(), 10);
    EXPECT_FLOAT_EQ(*ev->pitch, 1);  // reported relative to the baseline from now on
    // UP is relative: 10 - 12 = -2 is the threshold.
    ExpectType(r.At(0, -2), EventType::Waiting);
    const auto up = r.At(0, -2.5f);
    ExpectType(up, EventType::Success);
    EXPECT_FLOAT_EQ(*up->pitch, -12.5f);
}

TEST(ChallengeSessionBaseline, CameraBelowTheFaceCentresOnceThenRestPitchIsCentred) {
    ChallengeConfig c;
    c.max_wrong_attempts = 10;
    Rig r(c, {3, 0});
    r.Start();
    // Rule: A's absolute CENTER test gates the first centring, so a rest pitch of -20 is not
    // centred until the user brings it inside |pitch| < 12 once.
    for (int i = 0; i < 5; ++i) ExpectType(r.At(0, -20), EventType::Waiting);
    ExpectType(r.At(0, -11), EventType::Challenge);  // DOWN; baseline -11
    EXPECT_FLOAT_EQ(*r.S().PitchBaseline(), -11);
    ExpectType(r.At(0, 0), EventType::Waiting);  // relative 11: not yet DOWN
    ExpectType(r.At(0, 1.5f), EventType::Success);
    // Back at rest (-20 absolute, -9 relative): centred now.
    const auto ev = r.At(0, -20);
    ExpectType(ev, EventType::Challenge);
    EXPECT_EQ(ev->instruction, Instruction::Left);  // pool LEFT, RIGHT, UP; draw 0
    EXPECT_FLOAT_EQ(*ev->pitch, -9);
    // UP is now relative too: absolute -23 is -12 (not yet), but this is a LEFT challenge,
    // so -24 (relative -13) is a wrong UP, counted and reported.
    EXPECT_FALSE(r.At(0, -23)->wrong_direction);
    EXPECT_EQ(r.At(0, -24)->wrong_direction, Direction::Up);
}

TEST(ChallengeSessionBaseline, BaselineStaysFixedAfterTheFirstChallenge) {
    ChallengeConfig c;
    c.center_hold_frames = 2;
    Rig r(c);
    r.Start();
    r.At(0, 4);
    r.At(0, 6);  // LEFT, baseline 5
    ExpectType(r.At(-25, 0), EventType::Success);
    r.At(0, -5);
    const auto ev = r.At(0, -5);  // relative -10: centred; the baseline does not move
    ExpectType(ev, EventType::Challenge);
    EXPECT_FLOAT_EQ(*r.S().PitchBaseline(), 5);
    EXPECT_FLOAT_EQ(*ev->pitch, -10);
    // RIGHT is asked: 17 absolute = 12 relative is not beyond DOWN; 18 = 13 is a wrong DOWN.
    EXPECT_FALSE(r.At(0, 17)->wrong_direction);
    ExpectFailed(r.At(0, 18), FailReason::WrongAttempts);
}

TEST(ChallengeSessionBaseline, YawStaysAbsolute) {
    ChallengeConfig c;
    c.center_hold_frames = 1;
    Rig r(c);
    r.Start();
    ExpectType(r.At(10, 5), EventType::Challenge);  // LEFT; baseline pitch 5, yaw untouched
    EXPECT_FLOAT_EQ(*r.At(-5, 5)->yaw, -5);
    ExpectType(r.At(-20.5f, 5), EventType::Success);
}

// ---------------------------------------------------------------- mirrored frames

TEST(ChallengeSessionMirror, MirroredFramesSwapLeftAndRight) {
    ChallengeConfig c;
    c.mirrored = true;
    c.max_wrong_attempts = 5;
    Rig r(c);
    r.StartAndCentre();      // LEFT
    auto ev = r.At(-25, 0);  // image-left turn on a mirrored frame is the user's RIGHT
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->wrong_direction, Direction::Right);
    EXPECT_FLOAT_EQ(*ev->yaw, 25);  // reported in the user's terms
    r.At(0, 0);
    ev = r.At(25, 0);
    ExpectType(ev, EventType::Success);
    EXPECT_FLOAT_EQ(*ev->yaw, -25);
}

TEST(ChallengeSessionMirror, MirroringLeavesPitchAlone) {
    ChallengeConfig c;
    c.mirrored = true;
    Rig r(c, {2});
    r.StartAndCentre();  // UP
    ExpectType(r.At(0, -13), EventType::Success);
}

// ---------------------------------------------------------------- draws

TEST(ChallengeSessionDraw, FirstDrawIndexesAllowedModuloItsSize) {
    const std::array<Instruction, 4> expected = {Instruction::Left, Instruction::Right,
                                                 Instruction::Up, Instruction::Down};
    for (std::uint32_t v = 0; v < 8; ++v) {
        Rig r({}, {v});
        EXPECT_EQ(r.StartAndCentre().instruction, expected[v % 4]) << v;
        EXPECT_EQ(r.DrawsUsed(), 1u);
    }
}

TEST(ChallengeSessionDraw, NextDrawExcludesThePreviousChallenge) {
    // After LEFT the pool is RIGHT, UP, DOWN; after UP it is LEFT, RIGHT, DOWN.
    Rig r({}, {0, 1, 0});
    r.StartAndCentre();
    r.At(-25, 0);
    auto ev = r.At(0, 0);
    EXPECT_EQ(ev->instruction, Instruction::Up);
    r.At(0, -13);
    ev = r.At(0, 0);
    EXPECT_EQ(ev->instruction, Instruction::Left);
}

TEST(ChallengeSessionDraw, TopPartialRangeIsRejectedToAvoidModuloBias) {
    // Pool of 3: 2^32 mod 3 == 1, so only 0xFFFFFFFF is rejected.
    Rig r({}, {0, 0xFFFFFFFFu, 0xFFFFFFFEu});
    r.StartAndCentre();
    r.At(-25, 0);
    const auto ev = r.At(0, 0);
    // 0xFFFFFFFE mod 3 == 2 -> DOWN from RIGHT, UP, DOWN.
    EXPECT_EQ(ev->instruction, Instruction::Down);
    EXPECT_EQ(r.DrawsUsed(), 3u);
}

TEST(ChallengeSessionDraw, ABrokenSourceCannotHangTheDraw) {
    ChallengeConfig c;
    c.allowed = {Direction::Left, Direction::Right, Direction::Up};
    auto s = ChallengeSession::Create(
        c, [] { return 0.0; }, [] { return 0xFFFFFFFFu; });
    ASSERT_TRUE(s);
    s->Start();
    const auto ev = s->OnFrame(Face(0, 0));
    ExpectType(ev, EventType::Challenge);
}

TEST(ChallengeSessionDraw, NoImmediateRepeatAndUniformOverManySessions) {
    std::mt19937 gen(12345);
    ChallengeConfig c;
    c.required_successes = 10;
    c.session_timeout_s = 1000;
    std::map<Direction, int> first;
    std::map<std::pair<Direction, Direction>, int> pairs;
    const int sessions = 400;
    for (int n = 0; n < sessions; ++n) {
        double now = 0;
        auto s = ChallengeSession::Create(
            c, [&now] { return now; }, [&gen] { return static_cast<std::uint32_t>(gen()); });
        ASSERT_TRUE(s);
        s->Start();
        for (int k = 0; k < c.required_successes; ++k) {
            now += 0.1;
            auto ev = s->OnFrame(Face(0, 0));
            ASSERT_EQ(ev->type, EventType::Challenge);
            const Direction d = *s->CurrentChallenge();
            const Observation act = d == Direction::Left    ? Face(-25, 0)
                                    : d == Direction::Right ? Face(25, 0)
                                    : d == Direction::Up    ? Face(0, -15)
                                                            : Face(0, 15);
            now += 0.1;
            ev = s->OnFrame(act);
            ASSERT_TRUE(ev->type == EventType::Success || ev->type == EventType::Complete);
        }
        const auto& issued = s->IssuedChallenges();
        ASSERT_EQ(issued.size(), 10u);
        ++first[issued[0]];
        for (std::size_t i = 1; i < issued.size(); ++i) {
            ASSERT_NE(issued[i], issued[i - 1]) << "session " << n << " index " << i;
            ++pairs[{issued[i - 1], issued[i]}];
        }
    }
    // 4 first draws at 100 expected each; 12 ordered pairs at 300 expected each.
    ASSERT_EQ(first.size(), 4u);
    for (const auto& [d, count] : first) EXPECT_NEAR(count, 100, 40) << DirectionName(d);
    ASSERT_EQ(pairs.size(), 12u);
    for (const auto& [p, count] : pairs) EXPECT_NEAR(count, 300, 75);
}

TEST(ChallengeSessionDraw, ASingleAllowedChallengeRepeats) {
    ChallengeConfig c;
    c.allowed = *ParseChallengeList("RIGHT");
    Rig r(c, {7, 8, 9});
    EXPECT_EQ(r.StartAndCentre().instruction, Instruction::Right);
    r.At(25, 0);
    EXPECT_EQ(r.At(0, 0)->instruction, Instruction::Right);
}

TEST(ChallengeSessionDraw, TwoAllowedChallengesAlternate) {
    ChallengeConfig c;
    c.allowed = *ParseChallengeList("UP,DOWN");
    Rig r(c, {5, 5, 5});
    EXPECT_EQ(r.StartAndCentre().instruction, Instruction::Down);  // 5 mod 2
    r.At(0, 15);
    EXPECT_EQ(r.At(0, 0)->instruction, Instruction::Up);
    r.At(0, -15);
    EXPECT_EQ(r.At(0, 0)->instruction, Instruction::Down);
}

// ---------------------------------------------------------------- blink

ChallengeConfig BlinkOnly() {
    ChallengeConfig c;
    c.allowed = {Direction::Blink};
    c.blink_enabled = true;
    return c;
}

TEST(ChallengeSessionBlink, OpenClosedOpenPasses) {
    Rig r(BlinkOnly());
    const Event ch = r.StartAndCentre();
    EXPECT_EQ(ch.instruction, Instruction::Blink);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);
    auto ev = r.Frame(Eyes(0.9f));
    ExpectType(ev, EventType::Waiting);
    EXPECT_EQ(ev->instruction, Instruction::Blink);
    ev = r.Frame(Eyes(0.2f));
    ExpectType(ev, EventType::Success);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Challenge);  // BLINK again (only one allowed)
}

TEST(ChallengeSessionBlink, ClosedEyesBeforeAnOpenFrameDoNotCount) {
    Rig r(BlinkOnly());
    r.StartAndCentre();
    ExpectType(r.Frame(Eyes(0.9f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);  // first open frame
    ExpectType(r.Frame(Eyes(0.9f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Success);
}

TEST(ChallengeSessionBlink, ScoresBetweenThresholdsKeepTheCurrentEyeState) {
    Rig r(BlinkOnly());
    r.StartAndCentre();
    ExpectType(r.Frame(Eyes(0.5f)), EventType::Waiting);   // neither open nor closed
    ExpectType(r.Frame(Eyes(0.7f)), EventType::Waiting);   // no open frame seen yet
    ExpectType(r.Frame(Eyes(0.3f)), EventType::Waiting);   // open
    ExpectType(r.Frame(Eyes(0.6f)), EventType::Waiting);   // not > 0.6
    ExpectType(r.Frame(Eyes(0.61f)), EventType::Waiting);  // closed
    ExpectType(r.Frame(Eyes(0.4f)), EventType::Waiting);   // still closed (not < 0.35)
    ExpectType(r.Frame(Eyes(0.35f)), EventType::Waiting);  // not < 0.35
    ExpectType(r.Frame(Eyes(0.34f)), EventType::Success);
}

TEST(ChallengeSessionBlink, FramesWithoutAScoreOrAFaceAreSkipped) {
    Rig r(BlinkOnly());
    r.StartAndCentre();
    r.Frame(Eyes(0.1f));
    r.Frame(Face(0, 0));
    r.Frame(Eyes(0.9f));
    r.Frame(NoFace());
    r.Frame(Eyes(std::numeric_limits<float>::quiet_NaN()));
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Success);
}

TEST(ChallengeSessionBlink, ALongClosureIsNotABlink) {
    ChallengeConfig c = BlinkOnly();
    c.blink_max_closed_frames = 3;
    Rig r(c);
    r.StartAndCentre();
    r.Frame(Eyes(0.1f));
    for (int i = 0; i < 4; ++i) r.Frame(Eyes(0.9f));
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);
    for (int i = 0; i < 3; ++i) r.Frame(Eyes(0.9f));
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Success);
}

TEST(ChallengeSessionBlink, HeadMovesDuringABlinkChallengeAreWrong) {
    Rig r(BlinkOnly());
    r.StartAndCentre();
    ExpectFailed(r.Frame(Eyes(0.1f, 0, 13)), FailReason::WrongAttempts);
}

TEST(ChallengeSessionBlink, BlinkingDuringAHeadChallengeIsNeitherSuccessNorWrong) {
    Rig r;
    r.StartAndCentre();  // LEFT
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.9f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);
    EXPECT_EQ(r.S().WrongAttempts(), 0);
}

TEST(ChallengeSessionBlink, BlinkStateRestartsWithEachChallenge) {
    ChallengeConfig c;
    c.allowed = {Direction::Left, Direction::Blink};
    c.blink_enabled = true;
    Rig r(c, {1, 0, 0});
    r.StartAndCentre();  // BLINK
    r.Frame(Eyes(0.1f));
    r.Frame(Eyes(0.9f));
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Success);
    r.At(0, 0);  // LEFT
    ExpectType(r.At(-25, 0), EventType::Success);
    ExpectType(r.At(0, 0), EventType::Challenge);  // BLINK again
    // The open frame seen in the first BLINK challenge no longer counts: closed-open is not
    // enough, the new challenge needs its own open, closed, open.
    ExpectType(r.Frame(Eyes(0.9f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.9f)), EventType::Waiting);
    ExpectType(r.Frame(Eyes(0.1f)), EventType::Complete);
}

// ---------------------------------------------------------------- passive evidence

// Runs the default scripted session (LEFT, RIGHT, LEFT) to its last action frame.
std::optional<Event> PassAll(Rig& r) {
    r.StartAndCentre();
    r.At(-25, 0);
    r.At(0, 0);
    r.At(25, 0);
    r.At(0, 0);
    return r.At(-25, 2);
}

TEST(ChallengeSessionPassive, WithoutEvidenceTheSessionCompletesAsA) {
    Rig r;
    ExpectType(PassAll(r), EventType::Complete);
}

TEST(ChallengeSessionPassive, AnEarlierSpoofVerdictTurnsCompleteIntoSpoofDetected) {
    Rig r;
    r.StartAndCentre();
    EXPECT_FALSE(r.S().SetPassiveVerdict(true));  // not revealed early
    ExpectType(r.At(-25, 0), EventType::Success);
    EXPECT_FALSE(r.S().SetPassiveVerdict(false));  // a later live verdict cannot clear it
    ExpectType(r.At(0, 0), EventType::Challenge);
    r.At(25, 0);
    r.At(0, 0);
    const auto ev = r.At(-25, 0);
    ExpectFailed(ev, FailReason::SpoofDetected);
    EXPECT_FALSE(ev->message.empty());
    EXPECT_EQ(r.S().Successes(), 3);
}

TEST(ChallengeSessionPassive, RequiredVerdictHoldsTheCompletionUntilItArrives) {
    ChallengeConfig c;
    c.require_passive_verdict = true;
    Rig r(c);
    EXPECT_FALSE(PassAll(r));
    EXPECT_EQ(r.S().CurrentState(), State::Verifying);
    EXPECT_FALSE(r.S().Finished());
    EXPECT_FALSE(r.At(25, 0));  // frames are ignored while verifying
    Observation two = Face(0, 0);
    two.face_count = 2;
    EXPECT_FALSE(r.Frame(two));
    EXPECT_FALSE(r.Tick(12));  // no idle timeout: the client is waiting for us
    r.Advance(0.1);
    const auto ev = r.S().SetPassiveVerdict(false);
    ExpectType(ev, EventType::Complete);
    EXPECT_TRUE(ev->live);
    EXPECT_EQ(ev->instruction, Instruction::Verified);
    EXPECT_FLOAT_EQ(*ev->yaw, -25);  // the frame that passed the last challenge
    EXPECT_FLOAT_EQ(*ev->pitch, 2);
    EXPECT_EQ(r.S().CurrentState(), State::Complete);
}

TEST(ChallengeSessionPassive, RequiredVerdictCanBeSpoof) {
    ChallengeConfig c;
    c.require_passive_verdict = true;
    Rig r(c);
    EXPECT_FALSE(PassAll(r));
    ExpectFailed(r.S().SetPassiveVerdict(true), FailReason::SpoofDetected);
}

TEST(ChallengeSessionPassive, RequiredVerdictAlreadyLiveCompletesAtOnce) {
    ChallengeConfig c;
    c.require_passive_verdict = true;
    Rig r(c);
    r.Start();
    EXPECT_FALSE(r.S().SetPassiveVerdict(false));
    r.At(0, 0);
    r.At(-25, 0);
    r.At(0, 0);
    r.At(25, 0);
    r.At(0, 0);
    ExpectType(r.At(-25, 0), EventType::Complete);
}

TEST(ChallengeSessionPassive, SessionTimeoutStillBoundsVerifying) {
    ChallengeConfig c;
    c.require_passive_verdict = true;
    Rig r(c);
    EXPECT_FALSE(PassAll(r));
    ExpectFailed(r.Tick(30), FailReason::Timeout);
}

TEST(ChallengeSessionPassive, ALateVerdictAfterTheSessionTimeoutIsATimeout) {
    ChallengeConfig c;
    c.require_passive_verdict = true;
    Rig r(c);
    EXPECT_FALSE(PassAll(r));
    r.Advance(30);
    ExpectFailed(r.S().SetPassiveVerdict(false), FailReason::Timeout);
}

// ---------------------------------------------------------------- a replayed session

std::vector<Observation> Ramp(float yaw0, float yaw1, float pitch0, float pitch1, int n) {
    std::vector<Observation> out;
    for (int i = 1; i <= n; ++i) {
        const float t = static_cast<float>(i) / static_cast<float>(n);
        out.push_back(Face(yaw0 + (yaw1 - yaw0) * t, pitch0 + (pitch1 - pitch0) * t));
    }
    return out;
}

TEST(ChallengeSessionReplay, SyntheticLeftRightLeftSessionCompletes) {
    // A person whose rest pitch reads +4 (camera slightly above), 150 ms between frames (A's
    // stop-and-wait client), small pose jitter, two-frame holds for the centre and the actions.
    ChallengeConfig c;
    c.center_hold_frames = 2;
    c.action_hold_frames = 2;
    Rig r(c);  // draws 0, 0, 0: LEFT, RIGHT, LEFT
    std::vector<Observation> seq;
    for (int i = 0; i < 3; ++i) seq.push_back(NoFace());
    for (auto& o : Ramp(35, 20, 4, 4, 6)) seq.push_back(o);  // looks at the screen
    for (int i = 0; i < 3; ++i) seq.push_back(Face(i % 2 ? 1.0f : -1.0f, 4.5f));
    for (auto& o : Ramp(0, -32, 4, 5, 5)) seq.push_back(o);  // turns to own left
    seq.push_back(Face(-33, 5));
    for (auto& o : Ramp(-32, 0, 5, 4, 5)) seq.push_back(o);  // back to the centre
    seq.push_back(Face(0.5f, 3.5f));
    for (auto& o : Ramp(0, 30, 4, 3, 5)) seq.push_back(o);  // turns right
    seq.push_back(Face(31, 3));
    for (auto& o : Ramp(30, 0, 3, 4, 5)) seq.push_back(o);
    seq.push_back(NoFace());  // a dropped detection on the way
    seq.push_back(Face(-0.5f, 4));
    seq.push_back(Face(0.5f, 4));
    for (auto& o : Ramp(0, -30, 4, 4, 5)) seq.push_back(o);  // left again
    seq.push_back(Face(-30, 4));

    r.Start();
    std::vector<EventType> types;
    std::optional<Event> last;
    for (const auto& o : seq) {
        auto ev = r.Frame(o, 0.15);
        if (!ev) continue;
        last = ev;
        if (types.empty() || types.back() != ev->type) types.push_back(ev->type);
        ASSERT_NE(ev->type, EventType::Failed) << FailReasonName(*ev->reason);
    }
    const std::vector<EventType> expected = {
        EventType::NoFace,  EventType::Waiting, EventType::Challenge, EventType::Waiting,
        EventType::Success, EventType::Waiting, EventType::Challenge, EventType::Waiting,
        EventType::Success, EventType::Waiting, EventType::Challenge, EventType::Waiting,
        EventType::NoFace,  EventType::Waiting, EventType::Complete};
    EXPECT_EQ(types, expected);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->type, EventType::Complete);
    EXPECT_EQ(r.S().IssuedChallenges(),
              (std::vector<Direction>{Direction::Left, Direction::Right, Direction::Left}));
    ASSERT_TRUE(r.S().PitchBaseline());
    EXPECT_NEAR(*r.S().PitchBaseline(), 4.5, 1e-5);  // the two held centred frames
    EXPECT_FALSE(r.At(0, 0));
}

// ---------------------------------------------------------------- replay rules (sessions)

TEST(ChallengeSessionReplayRules, ATurnPassedSoonerThanMinActionFailsTooFast) {
    ChallengeConfig cfg;
    cfg.min_action_s = 0.35;
    cfg.max_wrong_attempts = 100;
    Rig r(cfg, {0});  // LEFT
    r.StartAndCentre();
    ExpectType(r.At(-10, 0, 0.1), EventType::Waiting);     // on the way
    ExpectFailed(r.At(-25, 0, 0.1), FailReason::TooFast);  // 0.2 s after it was issued
    ASSERT_EQ(r.S().Timings().size(), 1u);
    EXPECT_NEAR(*r.S().Timings()[0].passed_at - r.S().Timings()[0].issued_at, 0.2, 1e-9);
}

TEST(ChallengeSessionReplayRules, AHumanPacedTurnPassesAndIsTimed) {
    ChallengeConfig cfg;
    cfg.min_action_s = 0.35;
    cfg.min_transition_frames = 1;
    cfg.max_wrong_attempts = 100;
    Rig r(cfg, {0});
    r.StartAndCentre();
    ExpectType(r.At(-3, 0, 0.2), EventType::Waiting);   // still at rest: not a transition
    ExpectType(r.At(-12, 0, 0.2), EventType::Waiting);  // beyond 30% of 20 deg: on the way
    ExpectType(r.At(-25, 0, 0.2), EventType::Success);
    const ChallengeTiming& t = r.S().Timings()[0];
    EXPECT_EQ(t.direction, Direction::Left);
    EXPECT_EQ(t.transition_frames, 1);
    EXPECT_NEAR(*t.passed_at - t.issued_at, 0.6, 1e-9);
}

TEST(ChallengeSessionReplayRules, ATurnThatJumpsFromRestFailsInjectionSuspected) {
    ChallengeConfig cfg;
    cfg.min_transition_frames = 1;
    cfg.max_wrong_attempts = 100;
    Rig r(cfg, {0});
    r.StartAndCentre();
    ExpectType(r.At(-2, 0, 0.4), EventType::Waiting);
    ExpectFailed(r.At(-30, 0, 0.4), FailReason::InjectionSuspected);
    EXPECT_EQ(FailReasonName(FailReason::InjectionSuspected), "injection_suspected");
    EXPECT_EQ(FailReasonName(FailReason::TooFast), "too_fast");
}

TEST(ChallengeSessionReplayRules, OffByDefaultAsInA) {
    Rig r({}, {0});
    r.StartAndCentre();
    ExpectType(r.At(-30, 0, 0.01), EventType::Success);  // a jump, at once: A accepts it
}

TEST(ChallengeSessionReplayRules, RejectEndsARunningSessionOnce) {
    Rig r({}, {0});
    EXPECT_FALSE(r.S().Reject(FailReason::InjectionSuspected));  // not started
    r.StartAndCentre();
    ExpectFailed(r.S().Reject(FailReason::InjectionSuspected), FailReason::InjectionSuspected);
    EXPECT_FALSE(r.S().Reject(FailReason::TooFast));  // already over
    EXPECT_EQ(*r.S().Failure(), FailReason::InjectionSuspected);
}

TEST(ChallengeConfig, ValidatesTheReplayRules) {
    ChallengeConfig c;
    c.min_action_s = -1;
    EXPECT_FALSE(c.Validate());
    c.min_action_s = c.challenge_timeout_s;
    EXPECT_FALSE(c.Validate());
    c.min_action_s = 0.3;
    c.min_transition_frames = 31;
    EXPECT_FALSE(c.Validate());
    c.min_transition_frames = 2;
    EXPECT_TRUE(c.Validate());
}

}  // namespace
}  // namespace liveproof::challenge
