// Inference worker threads fed by a bounded queue: admission control instead of unbounded queueing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace liveproof::server {

/// @brief WHAT THIS OBJECT REPRESENTS: N threads running submitted jobs in order, with at most
/// `capacity` jobs waiting. A full queue refuses new work at once (the caller answers 503).
///
/// THREAD SAFETY: TrySubmit, depth and Shutdown may be called from any thread.
class WorkerPool {
  public:
    /// @brief Starts `threads` workers; `capacity` bounds the waiting jobs.
    WorkerPool(int threads, std::size_t capacity);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// @brief Queues a job; false (nothing queued) when the queue is full or shutting down.
    bool TrySubmit(std::function<void()> job);

    /// @brief Jobs waiting plus jobs running.
    [[nodiscard]] std::size_t depth() const { return depth_.load(); }
    /// @brief Worker threads.
    [[nodiscard]] int threads() const { return static_cast<int>(threads_.size()); }

    /// @brief Finishes every queued and running job, then joins the threads. Idempotent.
    void Shutdown();

  private:
    void Run();

    std::size_t capacity_;
    std::deque<std::function<void()>> queue_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<std::size_t> depth_{0};
    std::vector<std::thread> threads_;
};

}  // namespace liveproof::server
