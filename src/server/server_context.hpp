// What every route handler may use: the engine, the worker pool, metrics, settings.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "liveproof/engine.hpp"
#include "server/admission_gate.hpp"
#include "server/http_types.hpp"
#include "server/log_limiter.hpp"
#include "server/metrics_registry.hpp"
#include "server/server_config.hpp"
#include "server/worker_pool.hpp"

namespace liveproof::licence {
class LicenceState;
}  // namespace liveproof::licence

namespace liveproof::server {

class SessionService;

/// @brief WHAT THIS OBJECT REPRESENTS: the shared state of one running server.
/// THREAD SAFETY: members are thread-safe themselves (Engine, WorkerPool, MetricsRegistry) or
/// immutable after start-up (config).
struct ServerContext {
    ServerConfig config;             ///< effective settings
    const Engine* engine = nullptr;  ///< shared engine (its own pipeline pool)
    WorkerPool* workers = nullptr;   ///< inference workers and their queue
    /// Admission to the workers before a body is read (null: the fuzzers, which have no
    /// transport; requests then meet only the queue's own cap).
    AdmissionGate* admission = nullptr;
    MetricsRegistry* metrics = nullptr;        ///< Prometheus registry
    licence::LicenceState* licence = nullptr;  ///< system C activation state
    SessionService* sessions = nullptr;        ///< liveness sessions (null: the fuzzers)
    /// The threads that call the session store (null: calls run inline, as in the fuzzers).
    WorkerPool* store_workers = nullptr;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::atomic<bool> ready{false};  ///< models loaded and workers up
    LogLimiter log_limiter;          ///< budget for repeated warning and error lines
};

/// @brief The clock of the challenge sessions (WebSocket and polling): monotonic seconds.
double ChallengeClockSeconds();

/// @brief Runs job on an inference worker and replies with its result; answers 503 with
/// Retry-After at once when the queue is full (admission control, never unbounded queueing).
/// Returns false when it was refused that way.
bool RunOnWorker(ServerContext& ctx, Reply reply, std::function<HttpResponse()> job);

/// @brief Runs @p job on a store thread (inline where the server has none), so that no network
/// thread waits on the store. False when the store queue is full: nothing ran.
bool PostToStore(ServerContext& ctx, std::function<void()> job);

/// @brief Runs @p job on a store thread with the request's reply, which the job calls itself,
/// then or later from another thread (a door hands it on to an inference job). A job that
/// throws is answered 500 and counted (once: a reply already given stays the only one); a full
/// store queue is answered 503 store_busy at once. False when refused.
bool RunOnStoreThread(ServerContext& ctx, Reply reply, std::function<void(Reply)> job);

/// @brief RunOnStoreThread for a job whose answer is its return value.
bool RunOnStore(ServerContext& ctx, Reply reply, std::function<HttpResponse()> job);

/// @brief One slice of a long job: runs until @p until, then returns the answer when the job is
/// over, or nullopt to be continued in a later slice.
using SliceStep = std::function<std::optional<HttpResponse>(std::chrono::steady_clock::time_point)>;

/// @brief Runs a long job (a blink video) in slices of config.video_slice_seconds, so that it
/// never holds a worker longer than that: admitted like RunOnWorker (503 when the queue is
/// full), each further slice waits its turn in the workers' fair session lane behind the other
/// work. A job dropped at shutdown is answered 503 shutting_down. Returns false when refused.
bool RunInSlices(ServerContext& ctx, Reply reply, SliceStep step);

/// @brief Counts an engine failure that has its own metric (an input abandoned at the time
/// budget); others are counted by the requests' status. @p kind: "image", "video", "ws_frame".
void CountEngineError(ServerContext& ctx, const Error& error, const char* kind);

/// @brief Records an analysis' per-stage timings in the stage histogram.
void ObserveStages(ServerContext& ctx, const std::map<std::string, double>& timings_ms);

}  // namespace liveproof::server
