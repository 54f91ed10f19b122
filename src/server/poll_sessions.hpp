// The open sessions of system A's HTTP polling door (POST /start, POST /frame), capped and
// expiring: A kept them in a dict per worker, forever.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "active/replay_signals.hpp"
#include "liveproof/challenge_run.hpp"
#include "server/session_service.hpp"

namespace liveproof::server {

/// @brief One polling session: its challenge run and the last answer it gave.
/// THREAD SAFETY: `mutex` guards everything else; a frame's job holds it while it analyses,
/// and a second frame of the same session finds it taken (the door answers 409).
struct PollSession {
    PollSession(active::ChallengeRun r, double t, active::FrameSignalRules rules)
        : run(std::move(r)), created(t), signals(rules) {}
    std::mutex mutex;
    active::ChallengeRun run;
    double created = 0;             ///< steady-clock seconds
    nlohmann::ordered_json answer;  ///< the last /frame answer, repeated once finished
    bool ended = false;             ///< counted as completed or failed
    /// Recorded on every run; enforced on a backend session's run (an anonymous run keeps A's
    /// behaviour).
    active::ReplaySignals signals;
    std::optional<SessionRun> record;  ///< the session this run is recorded as
    /// SHA-256 (hex) of the client token every frame must present: a backend session's run;
    /// "" for an anonymous run (A's /start with an API key when keys are set).
    std::string token_hash;
    std::vector<RunOutcome::Image> images;  ///< reference and audit frames kept so far
    int frames_analysed = 0;
};

/// @brief WHAT THIS OBJECT REPRESENTS: the polling sessions by id, at most `max_sessions`, each
/// kept `ttl_s` seconds from its start. Ids are uuid4 text from libsodium's CSPRNG (122 random
/// bits); the table is keyed by the id's SHA-256, so lookup time says nothing about how much of
/// a guessed id was right.
/// THREAD SAFETY: every function is thread-safe.
class PollSessions {
  public:
    PollSessions(std::size_t max_sessions, double ttl_s) : max_(max_sessions), ttl_s_(ttl_s) {}

    /// @brief Stores @p session started at @p now and returns its new id; nullopt when
    /// `max_sessions` unexpired sessions are open.
    std::optional<std::string> Add(std::shared_ptr<PollSession> session, double now);
    /// @brief Stores @p session under @p id (a backend session's own id, which cannot collide
    /// with a uuid4); false when the table is full or the id is already held.
    bool AddAs(const std::string& id, std::shared_ptr<PollSession> session, double now);
    /// @brief The session with this id, or null when unknown or expired at @p now.
    std::shared_ptr<PollSession> Find(const std::string& id, double now);
    /// @brief Sessions held (expired ones included until the next Add sweeps them).
    std::size_t size() const;

  private:
    static std::string Key(const std::string& id);
    bool Insert(const std::string& id, std::shared_ptr<PollSession>& session, double now);
    void SweepExpired(double now);

    const std::size_t max_;
    const double ttl_s_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<PollSession>> sessions_;  // by Key(id)
};

}  // namespace liveproof::server
