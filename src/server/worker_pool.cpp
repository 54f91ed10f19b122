// WorkerPool: one mutex over both lanes; jobs never throw across the pool (they are wrapped).
#include "server/worker_pool.hpp"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>

namespace liveproof::server {

namespace {

// Minor page faults of the calling thread so far (0 where the kernel cannot say).
std::int64_t ThreadMinorFaults() {
    rusage usage{};
    if (getrusage(RUSAGE_THREAD, &usage) != 0) return 0;
    return static_cast<std::int64_t>(usage.ru_minflt);
}

// The CPUs this process may run on, in order (empty when the kernel cannot say).
std::vector<int> AllowedCpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
    return cpus;
}

void PinCallingThreadTo(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
        spdlog::warn("worker: cannot pin to CPU {}; it runs unpinned", cpu);
    }
}

}  // namespace

WorkerPool::WorkerPool(int threads, std::size_t capacity, SessionLaneOptions lane,
                       WorkerThreadOptions thread_options)
    : capacity_(capacity), lane_(std::move(lane)), observe_(std::move(thread_options.observe)) {
    running_threads_ = threads;
    const std::vector<int> cpus = thread_options.pin_to_cpus ? AllowedCpus() : std::vector<int>{};
    for (int i = 0; i < threads; ++i) {
        const int cpu = cpus.empty() ? -1 : cpus[static_cast<std::size_t>(i) % cpus.size()];
        threads_.emplace_back([this, cpu] {
            if (cpu >= 0) PinCallingThreadTo(cpu);
            Run();
            std::lock_guard lock(mutex_);
            --running_threads_;
            exited_.notify_all();
        });
    }
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TrySubmit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        queue_.push_back(std::move(job));
        ++depth_;
    }
    cv_.notify_one();
    return true;
}

bool WorkerPool::OfferLatest(const void* key, std::function<void()> job) {
    std::function<void()> replaced;  // destroyed outside the lock: it may own its session
    bool ready = false;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        const Clock::time_point now = lane_.now();
        auto it = latest_.find(key);
        if (it != latest_.end()) {
            replaced = std::move(it->second.job);
            it->second = Waiting{std::move(job), now};
        } else {
            latest_.emplace(key, Waiting{std::move(job), now});
            ++depth_;
            if (!in_flight_.contains(key)) {
                latest_order_.push_back(key);
                ready = true;
            }
        }
    }
    if (ready) cv_.notify_one();
    return static_cast<bool>(replaced);
}

void WorkerPool::Release(const void* key) {
    bool ready = false;
    {
        std::lock_guard lock(mutex_);
        if (in_flight_.erase(key) == 0) return;
        if (latest_.contains(key)) {
            latest_order_.push_back(key);  // back of the line: the others go first
            ready = true;
        }
    }
    if (ready) cv_.notify_one();
}

void WorkerPool::Forget(const void* key) {
    std::function<void()> dropped;
    {
        std::lock_guard lock(mutex_);
        in_flight_.erase(key);
        auto it = latest_.find(key);
        if (it == latest_.end()) return;
        dropped = std::move(it->second.job);
        latest_.erase(it);
        --depth_;
        std::erase(latest_order_, key);
    }
}

std::function<void()> WorkerPool::TakeLatest() {
    // The first fresh frame in line, unless the front one has waited too long; the front one
    // when none is fresh. A skipped session keeps its place.
    const Clock::time_point now = lane_.now();
    auto pick = latest_order_.begin();
    if (now - latest_.at(*pick).since < lane_.max_wait) {
        auto fresh = std::find_if(latest_order_.begin(), latest_order_.end(), [&](const void* k) {
            return now - latest_.at(k).since <= lane_.fresh;
        });
        if (fresh != latest_order_.end()) pick = fresh;
    }
    const void* key = *pick;
    latest_order_.erase(pick);
    auto it = latest_.find(key);
    std::function<void()> job = std::move(it->second.job);
    latest_.erase(it);
    in_flight_.insert(key);
    return job;
}

std::function<void()> WorkerPool::TakeNext() {
    const bool has_latest = !latest_order_.empty();
    if (!queue_.empty() && !(has_latest && latest_turn_)) {
        latest_turn_ = true;
        std::function<void()> job = std::move(queue_.front());
        queue_.pop_front();
        return job;
    }
    latest_turn_ = false;
    if (has_latest) return TakeLatest();
    return {};
}

void WorkerPool::Run() {
    while (true) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            // Shutdown empties the session lane under this lock, so stopping leaves requests only.
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !latest_order_.empty(); });
            if (stopping_ && queue_.empty()) return;  // stopping and drained
            job = TakeNext();
        }
        const std::int64_t faults_before = observe_ ? ThreadMinorFaults() : 0;
        try {
            job();
        } catch (const std::exception& e) {
            // Jobs handle their own failures (RunOnWorker answers 500); this keeps the thread.
            spdlog::error("worker job failed: {}", e.what());
        } catch (...) {
            spdlog::error("worker job failed with a non-standard exception");
        }
        job = nullptr;  // release what it owns before counting it done
        if (observe_) observe_(ThreadMinorFaults() - faults_before);
        --depth_;
    }
}

void WorkerPool::Shutdown() { Shutdown(Clock::time_point::max()); }

bool WorkerPool::Shutdown(Clock::time_point deadline) {
    std::unordered_map<const void*, Waiting> dropped;
    {
        std::unique_lock lock(mutex_);
        if (stopping_ && threads_.empty()) return true;
        stopping_ = true;
        dropped.swap(latest_);
        latest_order_.clear();
        depth_ -= dropped.size();
        cv_.notify_all();
        const auto done = [&] { return running_threads_ == 0; };
        bool all_done = true;
        if (deadline == Clock::time_point::max()) {
            exited_.wait(lock, done);
        } else {
            all_done = exited_.wait_until(lock, deadline, done);
        }
        if (!all_done) {
            for (auto& t : threads_) t.detach();
            threads_.clear();
            return false;
        }
    }
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
    return true;
}

}  // namespace liveproof::server
