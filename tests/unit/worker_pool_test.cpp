// WorkerPool: bounded request queue, and the session lane's latest-frame-wins and fairness.
#include "server/worker_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace liveproof::server {
namespace {

using namespace std::chrono_literals;

// Holds the only worker inside a job until Open(), so that the test decides what waits.
class Gate {
  public:
    std::function<void()> Job() {
        return [this] {
            entered_.set_value();
            open_.get_future().wait();
        };
    }
    void WaitEntered() { entered_.get_future().wait(); }
    void Open() { open_.set_value(); }

  private:
    std::promise<void> entered_, open_;
};

// Records the order in which jobs ran.
class Log {
  public:
    std::function<void()> Job(std::string name) {
        return [this, name] {
            std::lock_guard lock(mutex_);
            names_.push_back(name);
        };
    }
    std::vector<std::string> Names() {
        std::lock_guard lock(mutex_);
        return names_;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> names_;
};

void WaitIdle(const WorkerPool& pool) {
    for (int i = 0; i < 2000 && pool.depth() != 0; ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(pool.depth(), 0u);
}

TEST(WorkerPool, RequestQueueRefusesPastCapacity) {
    WorkerPool pool(1, 2);
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    EXPECT_TRUE(pool.TrySubmit(log.Job("a")));
    EXPECT_TRUE(pool.TrySubmit(log.Job("b")));
    EXPECT_FALSE(pool.TrySubmit(log.Job("c")));  // full: refused, not queued
    gate.Open();
    WaitIdle(pool);
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"a", "b"}));
}

TEST(WorkerPool, NewerSessionFrameReplacesTheWaitingOne) {
    WorkerPool pool(1, 4);
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int key = 0;
    EXPECT_FALSE(pool.OfferLatest(&key, log.Job("f1")));
    EXPECT_TRUE(pool.OfferLatest(&key, log.Job("f2")));  // f1 dropped
    EXPECT_TRUE(pool.OfferLatest(&key, log.Job("f3")));  // f2 dropped
    gate.Open();
    for (int i = 0; i < 2000 && log.Names().empty(); ++i) std::this_thread::sleep_for(1ms);
    pool.Release(&key);
    WaitIdle(pool);
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"f3"}));
}

TEST(WorkerPool, ASessionRunsOneFrameAtATimeUntilReleased) {
    WorkerPool pool(2, 4);
    Log log;
    int key = 0;
    ASSERT_FALSE(pool.OfferLatest(&key, log.Job("f1")));
    for (int i = 0; i < 2000 && log.Names().empty(); ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(log.Names().size(), 1u);
    // f1 has run but is not released: f2 waits although a worker is free.
    EXPECT_FALSE(pool.OfferLatest(&key, log.Job("f2")));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(log.Names().size(), 1u);
    EXPECT_EQ(pool.depth(), 1u);
    pool.Release(&key);
    for (int i = 0; i < 2000 && log.Names().size() < 2; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"f1", "f2"}));
    pool.Release(&key);
    WaitIdle(pool);
}

TEST(WorkerPool, SessionsTakeTurnsAndInterleaveWithRequests) {
    WorkerPool pool(1, 8);
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int a = 0, b = 0, c = 0;
    pool.OfferLatest(&a, log.Job("a"));
    pool.OfferLatest(&b, log.Job("b"));
    pool.OfferLatest(&c, log.Job("c"));
    ASSERT_TRUE(pool.TrySubmit(log.Job("r1")));
    ASSERT_TRUE(pool.TrySubmit(log.Job("r2")));
    gate.Open();
    WaitIdle(pool);
    // After a request ran (the gate), the kinds alternate: session, request, session, ...
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"a", "r1", "b", "r2", "c"}));
    for (const void* k :
         {static_cast<const void*>(&a), static_cast<const void*>(&b), static_cast<const void*>(&c)})
        pool.Release(k);
}

TEST(WorkerPool, ReleasedSessionGoesBehindTheOthers) {
    WorkerPool pool(1, 4);
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int a = 0, b = 0;
    pool.OfferLatest(&a, log.Job("a1"));
    gate.Open();
    for (int i = 0; i < 2000 && log.Names().empty(); ++i) std::this_thread::sleep_for(1ms);
    // a1 ran and is in flight; a2 waits for its release, b1 is ready now.
    Gate gate2;
    ASSERT_TRUE(pool.TrySubmit(gate2.Job()));
    gate2.WaitEntered();
    pool.OfferLatest(&a, log.Job("a2"));
    pool.OfferLatest(&b, log.Job("b1"));
    pool.Release(&a);
    gate2.Open();
    WaitIdle(pool);
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"a1", "b1", "a2"}));
}

// A clock the test moves by hand.
struct ManualClock {
    std::atomic<long long> ms{0};
    SessionLaneOptions Lane() {
        SessionLaneOptions lane;
        lane.fresh = 100ms;
        lane.max_wait = 500ms;
        lane.now = [this] {
            return WorkerPool::Clock::time_point(std::chrono::milliseconds(ms.load()));
        };
        return lane;
    }
};

TEST(WorkerPool, AFreshFrameGoesBeforeAStaleOneThatKeepsItsPlace) {
    ManualClock clock;
    WorkerPool pool(1, 4, clock.Lane());
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int a = 0, b = 0, c = 0;
    pool.OfferLatest(&a, log.Job("a"));  // t = 0
    clock.ms = 150;                      // a: 150 ms old, stale
    pool.OfferLatest(&b, log.Job("b"));  // fresh
    pool.OfferLatest(&c, log.Job("c"));  // fresh
    gate.Open();
    WaitIdle(pool);
    // b is the first fresh one; then c, still fresh; then a, the only one left.
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"b", "c", "a"}));
    for (const void* k :
         {static_cast<const void*>(&a), static_cast<const void*>(&b), static_cast<const void*>(&c)})
        pool.Release(k);
}

TEST(WorkerPool, AFrameThatWaitedMaxWaitIsTakenFirst) {
    ManualClock clock;
    WorkerPool pool(1, 4, clock.Lane());
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int a = 0, b = 0;
    pool.OfferLatest(&a, log.Job("a"));  // t = 0
    clock.ms = 600;                      // a has waited past max_wait
    pool.OfferLatest(&b, log.Job("b"));  // fresh, but a goes first
    gate.Open();
    WaitIdle(pool);
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"a", "b"}));
    pool.Release(&a);
    pool.Release(&b);
}

TEST(WorkerPool, ForgetDropsTheWaitingFrame) {
    WorkerPool pool(1, 4);
    Gate gate;
    ASSERT_TRUE(pool.TrySubmit(gate.Job()));
    gate.WaitEntered();
    Log log;
    int key = 0;
    pool.OfferLatest(&key, log.Job("f1"));
    pool.Forget(&key);
    gate.Open();
    WaitIdle(pool);
    EXPECT_TRUE(log.Names().empty());
}

TEST(WorkerPool, ShutdownFinishesRequestsAndDropsSessionFrames) {
    Log log;
    {
        WorkerPool pool(1, 4);
        Gate gate;
        ASSERT_TRUE(pool.TrySubmit(gate.Job()));
        gate.WaitEntered();
        int key = 0;
        pool.OfferLatest(&key, log.Job("frame"));
        ASSERT_TRUE(pool.TrySubmit(log.Job("request")));
        // Shutdown drops the waiting frame (depth 3 -> 2: the gate and the request) before the
        // gate opens, whatever the scheduling; then it waits for the request to finish.
        std::thread stopper([&] { pool.Shutdown(); });
        for (int i = 0; i < 5000 && pool.depth() != 2; ++i) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(pool.depth(), 2u);
        gate.Open();
        stopper.join();
        EXPECT_FALSE(pool.TrySubmit(log.Job("late")));
        EXPECT_FALSE(pool.OfferLatest(&key, log.Job("late frame")));
        EXPECT_EQ(pool.depth(), 0u);
    }
    EXPECT_EQ(log.Names(), (std::vector<std::string>{"request"}));
}

}  // namespace
}  // namespace liveproof::server
