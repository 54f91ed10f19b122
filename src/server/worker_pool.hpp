// Inference worker threads fed by a bounded request queue and a fair lane of real-time sessions.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace liveproof::server {

/// @brief How WorkerPool's session lane picks among waiting frames (see WorkerPool).
struct SessionLaneOptions {
    using Clock = std::chrono::steady_clock;
    Clock::duration fresh = std::chrono::milliseconds(70);
    Clock::duration max_wait = std::chrono::milliseconds(500);
    std::function<Clock::time_point()> now = [] { return Clock::now(); };  // tests inject
};

/// @brief Called on the worker after each job with the first-touch (minor) page faults the job
/// took on that thread: how much fresh memory the hot path touched (each fault costs 15-22 us on
/// the project's VM). Must not throw.
using JobObserver = std::function<void(std::int64_t minor_faults)>;

/// @brief How the worker threads run (the defaults: unpinned, unobserved).
struct WorkerThreadOptions {
    /// Pins worker i to the i-th CPU this process may run on (modulo their count), so that a
    /// worker's pipeline (its weights and buffers) stays in one core's caches.
    bool pin_to_cpus = false;
    JobObserver observe;  ///< called after each job (may be empty)
};

/// @brief WHAT THIS OBJECT REPRESENTS: N threads running two kinds of work.
///
/// Requests (HTTP): jobs run in order, at most `capacity` waiting; a full queue refuses new work
/// at once (the caller answers 503) instead of queueing without bound.
///
/// Real-time sessions (WebSocket frames): each session, named by a key, has at most one frame
/// in flight and one waiting; a newer frame replaces the waiting one (latest frame wins, the
/// older one is dropped). Sessions with a waiting frame are served round-robin, so past
/// capacity every session gets its share of the workers and what runs is always its newest
/// frame. Past capacity a frame may wait up to a client's frame interval before it is replaced;
/// to keep replies prompt, a free worker takes the first session in line whose frame is still
/// fresh (waited at most `fresh`), and a session with a stale frame keeps its place for its
/// next, fresh frame. A frame that has waited `max_wait` is taken whatever else waits, so a
/// client that sends the next frame only after a reply is never starved. A session's frame
/// counts as in flight from dispatch until Release(key), which the session calls once it has
/// applied the result, so the next frame sees that result.
///
/// The two kinds take turns when both have work waiting.
///
/// THREAD SAFETY: every public function may be called from any thread.
class WorkerPool {
  public:
    using Clock = SessionLaneOptions::Clock;

    /// @brief Starts `threads` workers; `capacity` bounds the waiting requests.
    WorkerPool(int threads, std::size_t capacity, SessionLaneOptions lane = {},
               WorkerThreadOptions thread_options = {});
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// @brief Queues a request job; false (nothing queued) when the queue is full or stopping.
    bool TrySubmit(std::function<void()> job);

    /// @brief Offers a session's newest frame job. Returns true when it replaced a frame that
    /// was still waiting (that frame is dropped). Ignored once stopping.
    bool OfferLatest(const void* key, std::function<void()> job);
    /// @brief The key's in-flight frame is done; its waiting frame (if any) may now run.
    void Release(const void* key);
    /// @brief Forgets the key (the session ended): its waiting frame is dropped.
    void Forget(const void* key);

    /// @brief Jobs waiting plus jobs running, both kinds.
    [[nodiscard]] std::size_t depth() const { return depth_.load(); }
    /// @brief Worker threads.
    [[nodiscard]] int threads() const { return static_cast<int>(threads_.size()); }

    /// @brief Finishes every queued and running request, drops waiting session frames, then
    /// joins the threads. Idempotent.
    void Shutdown();
    /// @brief Shutdown() that waits for the workers only until @p deadline. False when some
    /// job was still running then: the threads are detached (the caller is expected to end the
    /// process, as `serve` does at the end of its grace period).
    bool Shutdown(Clock::time_point deadline);

  private:
    void Run();
    // Next job to run, or empty when there is none; called with mutex_ held.
    std::function<void()> TakeNext();
    std::function<void()> TakeLatest();

    struct Waiting {
        std::function<void()> job;
        Clock::time_point since;  // when this frame arrived
    };

    std::size_t capacity_;
    SessionLaneOptions lane_;
    JobObserver observe_;
    std::deque<std::function<void()>> queue_;
    // Session lane: waiting frame per key, keys in round-robin order, keys in flight.
    std::unordered_map<const void*, Waiting> latest_;
    std::deque<const void*> latest_order_;
    std::unordered_set<const void*> in_flight_;
    bool latest_turn_ = false;  // whose turn it is when both kinds wait
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<std::size_t> depth_{0};
    int running_threads_ = 0;  // workers that have not returned from Run(); under mutex_
    std::condition_variable exited_;
    std::vector<std::thread> threads_;
};

}  // namespace liveproof::server
