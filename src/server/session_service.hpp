// Liveness sessions: created by the integrator's backend, run once by a client holding a token,
// recorded in the store, and ended by a verdict only this server can sign.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "active/replay_signals.hpp"
#include "liveproof/challenge_config.hpp"
#include "liveproof/challenge_run.hpp"
#include "server/http_types.hpp"
#include "server/server_context.hpp"
#include "store/session_store.hpp"
#include "verdict/key_ring.hpp"

namespace liveproof::server {

/// @brief A session a door has started (its run is this caller's alone).
struct SessionRun {
    store::SessionRecord record;
    nlohmann::json settings;  ///< the parameters it was created with (parsed settings_json)
    /// A run of an anonymous door (/ws, A's /start), recorded as a session of its own: its
    /// replay signals are recorded but not enforced (A's clients and their behaviour unchanged).
    bool anonymous = false;
};

/// @brief How a door's run of a session ended.
struct RunOutcome {
    std::string decision;             ///< "live", "spoof", "failed"
    std::string reason;               ///< "" when live
    std::optional<float> confidence;  ///< fused passive P(real), when any frame was scored
    nlohmann::ordered_json details;   ///< challenges, signals, frame counts (goes in the result)
    /// An image to keep with the session (reference or audit).
    struct Image {
        std::string kind;                ///< "reference" or "audit"
        std::vector<std::uint8_t> jpeg;  ///< as the client sent it
        nlohmann::json box;              ///< the face box [x1, y1, x2, y2] in it, or null
    };
    std::vector<Image> images;
};

/// @brief WHAT THIS OBJECT REPRESENTS: the session API of one server: the store, the signing
/// keys, the attempt limits and the sweeper (expiry and retention, every few seconds on its own
/// thread). The HTTP routes and the WebSocket door call it; it holds no run itself.
/// THREAD SAFETY: every function is thread-safe (the store and the key ring are).
class SessionService {
  public:
    /// @brief Opens the store and the signing keys named by @p ctx's settings (creating the
    /// data directory and a first key file when absent), marks the runs a previous process of
    /// this node left in progress FAILED "interrupted", and starts the sweeper.
    static Expected<std::unique_ptr<SessionService>> Open(ServerContext& ctx);
    ~SessionService();
    SessionService(const SessionService&) = delete;
    SessionService& operator=(const SessionService&) = delete;

    // The backend's API (an API key when keys are set; sessions belong to their key).

    /// @brief POST /v1/sessions: 201 with the id, the client token (returned only here) and
    /// the client URLs; 400 for a bad body, 429 under an attempt lockout.
    HttpResponse Create(const HttpRequest& request);
    /// @brief GET /v1/sessions/{id}: the whole record (status, decision, signals, images,
    /// verdict, audit trail); 404 for an unknown id or another key's session.
    HttpResponse Read(const HttpRequest& request, const std::string& id);
    /// @brief GET /v1/sessions/{id}/images/{n}: the JPEG.
    HttpResponse ReadImage(const HttpRequest& request, const std::string& id, int index);
    /// @brief DELETE /v1/sessions/{id}: erased with its images (the audit trail keeps a line).
    HttpResponse Remove(const HttpRequest& request, const std::string& id);
    /// @brief GET /v1/sessions?status=&since=&limit=&cursor=: one page, newest first.
    HttpResponse List(const HttpRequest& request);
    /// @brief GET /.well-known/jwks.json.
    [[nodiscard]] HttpResponse Jwks() const;

    // The client's doors (the client token).

    /// @brief Starts the one run of session @p id for a client presenting @p token, at a door
    /// of @p mode ("active", "passive", "blink"): 401 for a wrong token, 404 unknown, 409 a
    /// second run or the wrong door, 410 expired. On success the session is IN_PROGRESS.
    std::variant<SessionRun, HttpResponse> BeginRun(const std::string& id, const std::string& token,
                                                    std::string_view mode,
                                                    const std::string& remote);
    /// @brief The session @p id when @p token is its client token (compared in constant time;
    /// a wrong one is audited), without starting anything: 401, 404, or 503 when the store did
    /// not answer. BeginRun's first step, and what a door checks before it says anything else.
    std::variant<store::SessionRecord, HttpResponse> CheckToken(const std::string& id,
                                                                const std::string& token,
                                                                const std::string& remote);
    /// @brief Records a run of an anonymous door (/ws, A's /start) as a session of its own,
    /// already IN_PROGRESS, so that every run leaves a record.
    Expected<SessionRun> BeginAnonymous(const std::string& key_id, const std::string& remote,
                                        std::string_view door);
    /// @brief Writes the run's end (durably, compare-and-set) with its images and signed
    /// verdict, and returns the verdict (compact JWS). An error when the session was no longer
    /// in progress (expired, interrupted, deleted): then no verdict exists and none may be sent.
    Expected<std::string> FinishRun(const SessionRun& run, RunOutcome outcome);

    /// @brief The challenge a session's active run uses: the server's, narrowed by the
    /// session's own settings.
    [[nodiscard]] challenge::ChallengeConfig ChallengeFor(const SessionRun& run) const;

    /// @brief One pass of the sweeper (also run by its thread): expiry, stale runs, retention.
    void Sweep();

    /// @brief The store (for /readyz and the tests).
    store::SessionStore& store() { return *store_; }

  private:
    SessionService(ServerContext& ctx, std::unique_ptr<store::SessionStore> store,
                   verdict::KeyRing keys, std::string model_digest);
    void Audit(const std::string& session_id, const std::string& action, const std::string& key,
               const std::string& remote, const std::string& detail);
    std::optional<HttpResponse> AttemptLockout(const std::string& key_id,
                                               const std::string& device_id);
    nlohmann::ordered_json RecordJson(const store::SessionRecord& s, const std::string& base);
    void SweepLoop();

    ServerContext& ctx_;
    std::unique_ptr<store::SessionStore> store_;
    verdict::KeyRing keys_;
    std::string model_digest_;  // SHA-256 of the model manifest, in every verdict
    std::string node_;

    std::mutex sweep_mutex_;
    std::condition_variable sweep_wake_;
    bool stopping_ = false;
    std::thread sweeper_;
};

/// @brief The recorded end of a challenge run that emitted @p last: decision and reason, the
/// fused passive confidence, the challenges' timings, frame counts and replay signals.
RunOutcome ChallengeOutcome(const challenge::Event& last, const active::ChallengeRun& run,
                            const active::ReplaySignals& signals, int frames_analysed);

/// @brief True when @p token is the client token whose SHA-256 (hex) is @p token_hash;
/// compared in constant time.
bool ClientTokenMatches(const std::string& token_hash, const std::string& token);

/// @brief Keeps @p jpeg (a frame that produced @p event, its face at @p box) among a session's
/// @p images when the session's settings ask for it: the reference image (the centred face that
/// earned the first challenge) and up to `audit_images` frames that passed challenges.
void KeepSessionImage(const nlohmann::json& settings, const challenge::Event& event,
                      const std::vector<std::uint8_t>& jpeg, const nlohmann::json& box,
                      std::vector<RunOutcome::Image>& images);

/// @brief The current wall-clock time in Unix milliseconds.
std::int64_t UnixMillis();

}  // namespace liveproof::server
