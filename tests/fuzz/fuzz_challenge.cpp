// libFuzzer target: system A's challenge state machine (src/challenge) with an injected clock and
// random source, driven by fuzz-chosen observations; every event is rendered as A's JSON.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "challenge/a_protocol.hpp"
#include "common/json_text.hpp"
#include "fuzz_support.hpp"
#include "liveproof/challenge_session.hpp"

namespace {

namespace ch = liveproof::challenge;
using liveproof::fuzz::Fail;

struct Run {
    ch::ChallengeConfig config;
    double now = 1000.0;
    double start = 0;
    bool spoof_given = false;
    bool live_given = false;
    int success_events = 0;
    int challenge_events = 0;
    int last_successes = 0;
};

// Checks one event against the session it came from and renders it.
void CheckEvent(const Run& run, const ch::ChallengeSession& s, const ch::Event& e) {
    const auto& c = run.config;
    if (e.total != c.required_successes) Fail("event", "total differs from the config");
    if (e.success < 0 || e.success > e.total) Fail("event", "success out of 0..total");
    if (e.success != s.Successes()) Fail("event", "success differs from the session");
    if (e.state != s.CurrentState()) Fail("event", "state differs from the session");
    if (e.type != ch::EventType::Error && e.type != ch::EventType::Failed &&
        e.state == ch::State::Verifying)
        Fail("event", "an event that shows its state was emitted in VERIFYING");
    if ((e.type == ch::EventType::Complete) != e.live) Fail("event", "live outside complete");
    if (e.yaw && !std::isfinite(*e.yaw)) Fail("event", "yaw not finite");
    if (e.pitch && !std::isfinite(*e.pitch)) Fail("event", "pitch not finite");
    if (e.type == ch::EventType::Failed) {
        if (!e.reason || !s.Finished() || s.Failure() != e.reason)
            Fail("event", "failed without a reason or not final");
    } else if (e.reason) {
        Fail("event", "a reason outside failed");
    }
    if (e.type == ch::EventType::Complete) {
        if (s.CurrentState() != ch::State::Complete || e.success != e.total)
            Fail("event", "complete before every challenge passed");
        if (run.spoof_given) Fail("event", "complete after a spoof verdict");
        if (c.require_passive_verdict && !run.live_given)
            Fail("event", "complete without a live verdict");
        if (run.now - run.start > c.session_timeout_s) Fail("event", "complete after timeout");
    }
    if (e.type == ch::EventType::Waiting && e.wrong_direction && s.CurrentChallenge() &&
        *e.wrong_direction == *s.CurrentChallenge())
        Fail("event", "the asked direction reported as wrong");
    if (e.type == ch::EventType::Challenge &&
        (!s.CurrentChallenge() || e.instruction != ch::ToInstruction(*s.CurrentChallenge())))
        Fail("event", "challenge instruction differs from the challenge");

    const std::string text = liveproof::ToJsonText(ch::ToAJson(e));
    auto j = liveproof::ParseJson(text);
    if (!j || !j->is_object()) Fail("a_json", "not a JSON object: " + text);
    if ((*j)["type"] != ch::EventTypeName(e.type)) Fail("a_json", "type differs: " + text);
    const bool counted = e.type != ch::EventType::Failed && e.type != ch::EventType::Error;
    if (counted && (!j->contains("success") || !j->contains("total") || !j->contains("state")))
        Fail("a_json", "counts or state missing: " + text);
    if (!counted && !j->contains("message")) Fail("a_json", "message missing: " + text);
}

std::uint32_t NextRandom(std::uint32_t& state) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 8) return 0;
    Run run;
    ch::ChallengeConfig& c = run.config;
    c.required_successes = 1 + data[0] % 5;
    c.max_wrong_attempts = 1 + data[1] % 3;
    c.mirrored = (data[1] & 0x80) != 0;
    c.require_passive_verdict = (data[1] & 0x40) != 0;
    const bool start_late = (data[1] & 0x20) != 0;
    c.allowed.clear();
    for (int d = 0; d < 5; ++d) {
        if (data[2] & (1 << d)) c.allowed.push_back(static_cast<ch::Direction>(d));
    }
    if ((data[2] & 0x20) && !c.allowed.empty()) c.allowed.push_back(c.allowed.front());  // repeat
    c.blink_enabled = (data[2] & 0x40) != 0;
    c.center_hold_frames = 1 + data[3] % 3;
    c.action_hold_frames = 1 + (data[3] >> 2) % 3;
    c.challenge_timeout_s = 0.5 + data[4] % 8;
    c.session_timeout_s = 2.0 + (data[4] >> 3) * 2.0;
    c.idle_timeout_s = 0.5 + data[5] % 6;
    if (data[5] & 0x80) c.action_yaw = c.center_yaw - 1;  // invalid: action inside centre
    std::uint32_t seed = (std::uint32_t{data[6]} << 8 | data[7]) | 1u;
    const bool broken_random = data[6] == 0xFF;  // always the top value: the rejection fallback

    auto created = ch::ChallengeSession::Create(
        c, [&run] { return run.now; },
        [&seed, broken_random] { return broken_random ? 0xFFFFFFFFu : NextRandom(seed); });
    if (static_cast<bool>(created) != static_cast<bool>(c.Validate()))
        Fail("create", "Create and Validate disagree");
    if (!created) return 0;
    ch::ChallengeSession& s = *created;

    auto start = [&] {
        run.start = run.now;
        auto e = s.Start();
        if (!e || e->type != ch::EventType::Start) Fail("start", "no start event");
        CheckEvent(run, s, *e);
    };
    if (!start_late) start();

    for (std::size_t i = 8; i + 4 <= size; i += 4) {
        const std::uint8_t op = data[i] % 16, dt = data[i + 1], p1 = data[i + 2], p2 = data[i + 3];
        run.now += dt >= 0xF0 ? (dt - 0xF0) * 5.0 : dt * 0.01;
        const bool was_started = s.Started(), was_finished = s.Finished();
        const ch::State before = s.CurrentState();
        const bool timed =
            was_started && !was_finished && run.now - run.start > c.session_timeout_s;
        bool takes_time = true;
        std::optional<ch::Event> e;
        ch::Observation obs;
        obs.face = true;
        obs.face_count = 1;
        const auto challenge = s.CurrentChallenge();
        const float baseline = s.PitchBaseline().value_or(0.0f);
        const float sign = c.mirrored ? -1.0f : 1.0f;
        switch (op) {
            case 0:  // any pose
                obs.yaw = static_cast<float>(static_cast<std::int8_t>(p1)) * 0.5f;
                obs.pitch = static_cast<float>(static_cast<std::int8_t>(p2)) * 0.5f;
                e = s.OnFrame(obs);
                break;
            case 1:  // centred
                obs.yaw = static_cast<float>(p1 % 11) - 5.0f;
                obs.pitch = baseline + static_cast<float>(p2 % 11) - 5.0f;
                e = s.OnFrame(obs);
                break;
            case 2:    // the asked move (or a blink step)
            case 3: {  // another direction
                ch::Direction d = challenge.value_or(ch::Direction::Left);
                if (op == 3) d = static_cast<ch::Direction>((static_cast<int>(d) + 1 + p2 % 3) % 4);
                const float extra = 1.0f + static_cast<float>(p1 % 20);
                obs.pitch = baseline;
                if (d == ch::Direction::Left) obs.yaw = sign * -(c.action_yaw + extra);
                if (d == ch::Direction::Right) obs.yaw = sign * (c.action_yaw + extra);
                if (d == ch::Direction::Up) obs.pitch = baseline - (c.action_pitch + extra);
                if (d == ch::Direction::Down) obs.pitch = baseline + (c.action_pitch + extra);
                obs.eyes_closed = static_cast<float>(p2) / 255.0f;
                e = s.OnFrame(obs);
                break;
            }
            case 4:  // no face
                obs.face = false;
                obs.face_count = p1 % 2;
                e = s.OnFrame(obs);
                break;
            case 5:
                obs.face_count = 2 + p1 % 3;
                obs.face = (p2 & 1) != 0;
                e = s.OnFrame(obs);
                if (e && !was_finished && !timed && e->type != ch::EventType::Failed)
                    Fail("frame", "two faces did not fail the session");
                break;
            case 6:
                obs.track_jump = true;
                e = s.OnFrame(obs);
                break;
            case 7:
                e = s.OnTick();
                break;
            case 8:
                e = s.OnMessage();
                if (e && e->type != ch::EventType::Failed) Fail("message", "not a failure");
                break;
            case 9:
                e = s.OnError(std::string(reinterpret_cast<const char*>(&data[i + 2]), 2));
                break;
            case 10:
                takes_time = before == ch::State::Verifying;
                if (!was_finished && was_started)
                    (p1 & 1 ? run.spoof_given : run.live_given) = true;
                e = s.SetPassiveVerdict((p1 & 1) != 0);
                break;
            case 11: {  // a pose that is not a number
                const float bad[] = {std::numeric_limits<float>::quiet_NaN(),
                                     std::numeric_limits<float>::infinity(),
                                     -std::numeric_limits<float>::infinity(), 1e38f};
                obs.yaw = bad[p1 % 4];
                obs.pitch = bad[p2 % 4];
                e = s.OnFrame(obs);
                break;
            }
            case 12: {  // a blink step with a centred pose
                obs.yaw = 0;
                obs.pitch = baseline;
                if (p2 & 1) {
                    obs.eyes_closed = static_cast<float>(p1) / 255.0f;
                } else if (p2 & 2) {
                    obs.eyes_closed = std::numeric_limits<float>::quiet_NaN();
                }
                e = s.OnFrame(obs);
                break;
            }
            case 13:
                takes_time = false;
                if (!s.Started()) {
                    start();
                    continue;
                }
                if (s.Start()) Fail("start", "a second start event");
                break;
            default:  // huge but finite poses
                obs.yaw = static_cast<float>(static_cast<std::int8_t>(p1)) * 1e36f;
                obs.pitch = static_cast<float>(static_cast<std::int8_t>(p2)) * 1e36f;
                obs.eyes_closed = 1e30f;
                e = s.OnFrame(obs);
                break;
        }
        if (!was_started || was_finished) {
            if (e) Fail("session", "an event before start or after the end");
            if (s.CurrentState() != before) Fail("session", "state changed after the end");
            continue;
        }
        if (timed && takes_time && (!e || e->reason != ch::FailReason::Timeout))
            Fail("session", "the session timeout did not fail the call");
        if (s.Successes() < run.last_successes) Fail("session", "successes went down");
        run.last_successes = s.Successes();
        if (!e) continue;
        CheckEvent(run, s, *e);
        if (e->type == ch::EventType::Success) ++run.success_events;
        if (e->type == ch::EventType::Challenge) ++run.challenge_events;
    }
    // The audit trail: every challenge drawn from the allowed ones, no immediate repeat.
    const auto& issued = s.IssuedChallenges();
    if (static_cast<int>(issued.size()) != run.challenge_events)
        Fail("session", "issued challenges differ from challenge events");
    if (s.Successes() > static_cast<int>(issued.size())) Fail("session", "more passes than asks");
    for (std::size_t i = 0; i < issued.size(); ++i) {
        if (std::find(c.allowed.begin(), c.allowed.end(), issued[i]) == c.allowed.end())
            Fail("session", "a challenge outside the allowed list");
        if (i > 0 && c.allowed.size() > 1 && issued[i] == issued[i - 1])
            Fail("session", "the same challenge twice in a row");
    }
    return 0;
}
