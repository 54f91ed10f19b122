// The active-challenge state machine (system A's WebSocket protocol, fixed): pure logic with an
// injected clock and random source, so every transition can be replayed in a unit test.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "liveproof/challenge_config.hpp"
#include "liveproof/expected.hpp"
#include "liveproof/export.hpp"

namespace liveproof::challenge {

/// @brief Where a session is. Verifying exists only with require_passive_verdict: every
/// challenge passed, the session waits for SetPassiveVerdict(). Complete and Failed are final.
enum class State { WaitingCenter, WaitingAction, Verifying, Complete, Failed };

/// @brief The "type" of a message for the client (system A's names via EventTypeName()).
enum class EventType { Start, NoFace, Waiting, Challenge, Success, Complete, Failed, Error };

/// @brief What the client is asked to do now: A's "instruction" (CENTER ... VERIFIED).
enum class Instruction { Center, Left, Right, Up, Down, Blink, Verified };

/// @brief Why a session failed. The first three are A's; the rest are new and English.
enum class FailReason {
    Timeout,             ///< session_timeout_s passed since Start()
    ChallengeTimeout,    ///< challenge_timeout_s passed since the challenge was issued
    WrongAttempts,       ///< max_wrong_attempts wrong moves during one challenge
    MultipleFaces,       ///< an observation reported face_count > 1
    FaceChanged,         ///< an observation reported track_jump (another person or a jump)
    IdleTimeout,         ///< no client message for idle_timeout_s
    SpoofDetected,       ///< passive evidence said spoof; reported only when all challenges passed
    TooFast,             ///< a challenge passed sooner than ChallengeConfig::min_action_s
    InjectionSuspected,  ///< the frames are not one camera's (a pose jump, a replay signal)
};

/// @brief A's "state" string: WAITING_CENTER, WAITING_ACTION, COMPLETE; VERIFYING and FAILED
/// never reach an A client (failed messages carry no state).
LIVEPROOF_EXPORT std::string_view StateName(State state);
/// @brief A's "type" string: start, no_face, waiting, challenge, success, complete, failed, error.
LIVEPROOF_EXPORT std::string_view EventTypeName(EventType type);
/// @brief A's "instruction" string: CENTER, LEFT, RIGHT, UP, DOWN, BLINK or VERIFIED.
LIVEPROOF_EXPORT std::string_view InstructionName(Instruction instruction);
/// @brief A's "reason" string: timeout, challenge_timeout, wrong_attempts, multiple_faces,
/// face_changed, idle_timeout, spoof_detected, too_fast, injection_suspected.
LIVEPROOF_EXPORT std::string_view FailReasonName(FailReason reason);
/// @brief The instruction that asks for a direction.
LIVEPROOF_EXPORT Instruction ToInstruction(Direction direction);

/// @brief One issued challenge and how it went (for the session's record and its signals).
struct ChallengeTiming {
    Direction direction = Direction::Left;  ///< what was asked
    double issued_at = 0;                   ///< session clock when it was issued
    std::optional<double> passed_at;        ///< when it passed; empty if it did not
    int transition_frames = 0;              ///< frames between rest and the threshold (head turns)
};

/// @brief What the engine saw in one processed frame (the transport fills it).
struct Observation {
    bool face = false;   ///< a usable face with a pose (false -> a no_face event)
    int face_count = 0;  ///< faces detected; > 1 fails the session (checked even when !face)
    float yaw = 0;       ///< true degrees as computed on the frame (mirroring undone here)
    float pitch = 0;     ///< absolute true degrees; the session subtracts its baseline
    std::optional<float> eyes_closed;  ///< mean eyes-closed score in [0,1]; only for BLINK
    bool track_jump = false;           ///< the face jumped (another person, a discontinuity): fails
};

/// @brief One message for the client. Which fields matter per type mirrors system A (§1.3):
/// yaw/pitch are set for waiting/challenge/success/complete and empty otherwise; wrong_direction
/// is meaningful only for waiting events in WaitingAction (empty = A's null); live is true only
/// on complete; reason and message only on failed; message only on error.
struct Event {
    EventType type = EventType::Error;              ///< the message type
    State state = State::WaitingCenter;             ///< the session state after this event
    Instruction instruction = Instruction::Center;  ///< what the user should do now
    int success = 0;                                ///< challenges passed so far
    int total = 0;                                  ///< required_successes
    std::optional<float> yaw;    ///< judged yaw: mirroring undone, degrees, < 0 = own left
    std::optional<float> pitch;  ///< judged pitch: minus the baseline once one exists
    std::optional<Direction> wrong_direction;  ///< the other direction the pose is beyond
    int wrong_attempts = 0;                    ///< wrong moves counted in this challenge
    bool live = false;                         ///< true only on complete
    std::optional<FailReason> reason;          ///< set only on failed
    std::string message;  ///< failed: A's Uzbek text or the new English one; error: the cause
};

/// @brief Monotonic seconds (production: std::chrono::steady_clock).
using Clock = std::function<double()>;
/// @brief Uniform 32-bit values (production: libsodium randombytes_random, a CSPRNG).
using Random = std::function<std::uint32_t()>;

/// @brief A copy of the session's judgement of actions, for a thread that cannot ask the
/// session itself: which challenge a frame may complete now and how a raw pose is read (mirroring
/// undone, pitch against the session's baseline). The stream core uses it to put passive
/// evidence on every frame that could complete a challenge.
/// THREAD SAFETY: a plain value.
struct LIVEPROOF_EXPORT ActionCheck {
    std::optional<Direction> awaited;  ///< the challenge being performed (WaitingAction only)
    float pitch_baseline = 0;          ///< the session's level pitch
    bool mirrored = false;             ///< LEFT and RIGHT swap
    float action_yaw = 0;              ///< ChallengeConfig::action_yaw
    float action_pitch = 0;            ///< ChallengeConfig::action_pitch

    /// @brief True when a frame with this raw pose (none: no face) could complete `awaited`,
    /// the thresholds eased by @p slack_deg; always true for Blink, false with nothing awaited.
    [[nodiscard]] bool MayComplete(std::optional<std::pair<float, float>> raw_yaw_pitch,
                                   float slack_deg) const;
};

/// @brief Whether a session-frame pose (mirroring undone, pitch relative) is beyond the action
/// thresholds in @p direction, less @p slack_deg (never for Blink). The one test of an action.
LIVEPROOF_EXPORT bool PoseBeyond(Direction direction, float yaw, float pitch, float action_yaw,
                                 float action_pitch, float slack_deg = 0);

/// @brief One active-challenge session: the user centres, is asked for a random move, performs
/// it, returns to the centre, and so on until required_successes moves have passed.
///
/// Rules (compat.md §1.4 with the §6 fixes):
/// - Every call that takes time into account first checks, in this order, the session timeout
///   (now - Start() > session_timeout_s), the challenge timeout (WaitingAction only) and the
///   idle timeout (now - last client message > idle_timeout_s; not in Verifying). All compare
///   strictly, as A. The outcome therefore does not depend on how often OnTick() runs.
/// - Centring: the first centring uses A's absolute test |yaw| < center_yaw, |pitch| <
///   center_pitch. The mean absolute pitch of the centred run that issues the first challenge
///   becomes the session's pitch baseline; from then on every pitch test (centre and UP/DOWN)
///   uses pitch - baseline, and yaw stays absolute. So a camera below the face (rest pitch -20)
///   must first be brought inside |pitch| < 12 once; after that a rest pitch near the baseline
///   counts as centred. Once centred, the face stays centred until |angle| >= limit + margin.
///   A challenge is issued after center_hold_frames consecutive centred face frames.
/// - An action passes after action_hold_frames consecutive frames beyond its threshold (BLINK:
///   open (< open threshold), closed (> close threshold, at most blink_max_closed_frames
///   scored frames), open again, all after the challenge was issued; hold frames do not apply).
///   A frame that meets the asked action is never a wrong move (A checks success first).
/// - A wrong move is a frame beyond another direction's threshold (first of LEFT, RIGHT, UP,
///   DOWN); it counts once per excursion: the pose must come back inside every other
///   direction's threshold before another one counts. Reaching max_wrong_attempts fails.
/// - No-face frames, error messages and failed action frames break the hold runs.
/// - Challenges are drawn from `allowed` minus the previous challenge (when more than one is
///   allowed), index = r mod n with rejection of the top partial range (no modulo bias).
///
/// THREAD SAFETY: not thread safe; one session belongs to one connection, and its calls must be
/// serialised (a strand). The clock and random source are called from those same calls.
class LIVEPROOF_EXPORT ChallengeSession {
  public:
    /// @brief Builds a session that has not started yet.
    /// @requires nothing; @ensures an InvalidArgument error when config.Validate() fails or
    /// clock/random are empty, otherwise a session in WaitingCenter that has not started.
    static Expected<ChallengeSession> Create(ChallengeConfig config, Clock clock, Random random);

    ChallengeSession(ChallengeSession&&) = default;
    ChallengeSession& operator=(ChallengeSession&&) = default;
    ChallengeSession(const ChallengeSession&) = delete;
    ChallengeSession& operator=(const ChallengeSession&) = delete;
    ~ChallengeSession() = default;

    /// @brief Starts the session clock (A: at accept) and returns A's 'start' message.
    /// @requires not started; @ensures the start event the first time, nullopt afterwards.
    std::optional<Event> Start();

    /// @brief Feeds one processed frame.
    /// @requires Started() and not Finished(), else nullopt and no change.
    /// @ensures a failed event when a timeout passed (checked first), when face_count > 1
    /// (multiple_faces) or track_jump (face_changed); otherwise no_face, waiting, challenge,
    /// success, complete or failed (wrong_attempts / spoof_detected) per the class rules;
    /// nullopt in Verifying (frames are ignored until SetPassiveVerdict) and when the last
    /// challenge passes with require_passive_verdict and no live verdict yet (state Verifying).
    /// Counts as client activity for the idle timeout.
    std::optional<Event> OnFrame(const Observation& observation);

    /// @brief A client message that could not be used (A: "frame field required", "Invalid
    /// image data", "Could not decode image"); `message` is echoed in the error event.
    /// @requires Started() and not Finished(), else nullopt.
    /// @ensures the failed event when a timeout passed, else an error event; the state does not
    /// change but hold runs restart. Counts as client activity.
    std::optional<Event> OnError(std::string message);

    /// @brief A client message arrived (call on receipt, including frames that will be dropped
    /// or are still queued for inference), so the idle clock is judged at arrival time.
    /// @requires Started() and not Finished(), else nullopt.
    /// @ensures the failed event when a timeout passed (idle judged before this message),
    /// else nullopt and the idle clock restarts.
    std::optional<Event> OnMessage();

    /// @brief Periodic check (e.g. every 250 ms) so timeouts fire without frames or faces.
    /// @requires Started() and not Finished(), else nullopt.
    /// @ensures the failed event when a timeout passed, else nullopt; never counts as activity.
    std::optional<Event> OnTick();

    /// @brief Passive (anti-spoof) evidence from the transport. A spoof verdict is sticky and is
    /// not revealed early: it turns the final 'complete' into failed/spoof_detected, so an
    /// attacker gets no per-frame oracle.
    /// @requires Started() and not Finished(), else nullopt and no change.
    /// @ensures in Verifying: the session timeout is checked first, then spoof -> failed/
    /// spoof_detected, live -> complete (with the pose of the frame that passed the last
    /// challenge); in other states: the verdict is recorded and nullopt is returned.
    std::optional<Event> SetPassiveVerdict(bool spoof);

    /// @brief A judgement from outside the session (a door's replay signals) ends it.
    /// @requires Started() and not Finished(), else nullopt and no change.
    /// @ensures the failed event with @p reason; the state is Failed.
    std::optional<Event> Reject(FailReason reason);
    /// @brief The current state.
    [[nodiscard]] State CurrentState() const { return state_; }
    /// @brief True once Start() ran.
    [[nodiscard]] bool Started() const { return started_; }
    /// @brief True in Complete or Failed: the transport sends the last event and closes.
    [[nodiscard]] bool Finished() const {
        return state_ == State::Complete || state_ == State::Failed;
    }
    /// @brief Challenges passed so far.
    [[nodiscard]] int Successes() const { return success_; }
    /// @brief Wrong moves counted during the current challenge.
    [[nodiscard]] int WrongAttempts() const { return wrong_attempts_; }
    /// @brief The challenge being performed (WaitingAction), else the last one issued.
    [[nodiscard]] std::optional<Direction> CurrentChallenge() const { return challenge_; }
    /// @brief Every challenge issued, in order (for the audit trail).
    [[nodiscard]] const std::vector<Direction>& IssuedChallenges() const { return issued_; }
    /// @brief Every challenge issued with its timing, in order.
    [[nodiscard]] const std::vector<ChallengeTiming>& Timings() const { return timings_; }
    /// @brief The absolute pitch the session treats as level; empty before the first challenge.
    [[nodiscard]] std::optional<float> PitchBaseline() const { return baseline_; }
    /// @brief Why the session failed; empty unless Failed.
    [[nodiscard]] std::optional<FailReason> Failure() const { return failure_; }
    /// @brief The configuration in use.
    [[nodiscard]] const ChallengeConfig& Config() const { return config_; }
    /// @brief The session's judgement of actions as it stands now (a copy for other threads).
    [[nodiscard]] ActionCheck CurrentActionCheck() const;

  private:
    struct Pose {
        float yaw = 0;
        float pitch = 0;
    };

    ChallengeSession(ChallengeConfig config, Clock clock, Random random);

    std::optional<Event> CheckTimeouts(double now);
    Event Fail(FailReason reason);
    Event Complete(Pose pose);
    Event MakeEvent(EventType type, std::optional<Pose> pose) const;
    Pose Judge(const Observation& observation) const;
    Event OnCenterFrame(const Observation& observation, double now);
    std::optional<Event> OnActionFrame(const Observation& observation);
    std::optional<Event> Succeed(Pose pose);
    [[nodiscard]] bool InTransition(Direction asked, Pose pose) const;
    bool UpdateBlink(std::optional<float> eyes_closed);
    Direction Draw();
    void ResetRuns();

    ChallengeConfig config_;
    Clock clock_;
    Random random_;

    State state_ = State::WaitingCenter;
    bool started_ = false;
    double start_time_ = 0;
    double last_activity_ = 0;
    double challenge_start_ = 0;
    int success_ = 0;
    int wrong_attempts_ = 0;
    bool wrong_excursion_ = false;  // a wrong move was counted and the pose has not come back
    std::optional<Direction> challenge_;
    std::vector<Direction> issued_;
    std::vector<ChallengeTiming> timings_;
    std::optional<FailReason> failure_;

    bool centred_latched_ = false;  // hysteresis: inside the wider exit box since entering
    int center_run_ = 0;
    double center_pitch_sum_ = 0;  // absolute pitches of the run, for the first baseline
    std::optional<float> baseline_;
    int action_run_ = 0;

    bool blink_seen_open_ = false;
    bool blink_closed_ = false;
    int blink_closed_frames_ = 0;

    bool spoof_seen_ = false;
    bool live_seen_ = false;
    Pose final_pose_;
};

}  // namespace liveproof::challenge
