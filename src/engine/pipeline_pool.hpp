// A fixed set of pipelines lent to one caller at a time (blocking when all are busy).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/pipeline.hpp"

namespace liveproof::engine {

/// @brief WHAT THIS OBJECT REPRESENTS: the worker pipelines and which of them are free.
/// THREAD SAFETY: Acquire/Release are thread-safe.
class PipelinePool {
  public:
    /// @brief Returns a pipeline to the pool when it goes out of scope.
    class Lease {
      public:
        Lease(PipelinePool& pool, Pipeline* p) : pool_(pool), p_(p) {}
        ~Lease() { pool_.Release(p_); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Pipeline* operator->() const { return p_; }
        Pipeline& operator*() const { return *p_; }

      private:
        PipelinePool& pool_;
        Pipeline* p_;
    };

    /// @brief Takes ownership of the pipelines.
    explicit PipelinePool(std::vector<std::unique_ptr<Pipeline>> pipelines)
        : all_(std::move(pipelines)) {
        for (auto& p : all_) free_.push_back(p.get());
    }

    /// @brief Waits for a free pipeline.
    Lease Acquire() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !free_.empty(); });
        Pipeline* p = free_.back();
        free_.pop_back();
        return Lease(*this, p);
    }

  private:
    void Release(Pipeline* p) {
        {
            std::lock_guard lock(mutex_);
            free_.push_back(p);
        }
        cv_.notify_one();
    }

    std::vector<std::unique_ptr<Pipeline>> all_;
    std::vector<Pipeline*> free_;
    std::mutex mutex_;
    std::condition_variable cv_;
};

}  // namespace liveproof::engine
