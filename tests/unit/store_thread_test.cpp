// The store threads (PostToStore, RunOnStore, RunOnStoreThread) on a real WorkerPool: jobs run
// off the calling thread, every request is answered exactly once (a job that throws gets 500, a
// full queue 503 store_busy at once), and without store threads the calls run inline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "server/metrics_registry.hpp"
#include "server/server_context.hpp"
#include "server/worker_pool.hpp"

namespace liveproof::server {
namespace {

using namespace std::chrono_literals;

struct StoreThreads : ::testing::Test {
    StoreThreads() {
        metrics.Describe("liveproof_internal_errors_total", MetricType::Counter, "test");
        metrics.Describe("liveproof_rejections_total", MetricType::Counter, "test");
        ctx.metrics = &metrics;
        ctx.store_workers = &pool;
    }
    MetricsRegistry metrics;
    WorkerPool pool{1, 2};
    ServerContext ctx;
};

// Every answer a reply got.
struct Answers {
    Reply reply() {
        return [this](HttpResponse r) {
            std::lock_guard lock(mutex);
            statuses.push_back(r.status);
            errors.push_back(r.body);
        };
    }
    std::vector<int> Take() {
        std::lock_guard lock(mutex);
        return statuses;
    }
    std::mutex mutex;
    std::vector<int> statuses;
    std::vector<std::string> errors;
};

void WaitIdle(const WorkerPool& pool) {
    for (int i = 0; i < 500 && pool.depth() > 0; ++i) std::this_thread::sleep_for(2ms);
}

TEST_F(StoreThreads, JobsRunOffTheCallingThreadAndAreAnsweredOnce) {
    Answers answers;
    std::promise<std::thread::id> ran_on;
    EXPECT_TRUE(RunOnStore(ctx, answers.reply(), [&] {
        ran_on.set_value(std::this_thread::get_id());
        return HttpResponse::Json(201, {});
    }));
    EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
    WaitIdle(pool);
    EXPECT_EQ(answers.Take(), std::vector<int>{201});
}

TEST_F(StoreThreads, AJobThatThrowsIsAnswered500OnceEvenAfterItReplied) {
    Answers answers;
    EXPECT_TRUE(RunOnStoreThread(ctx, answers.reply(),
                                 [](const Reply&) -> void { throw std::runtime_error("a bug"); }));
    // A job that answered and then threw: its answer stays the only one.
    EXPECT_TRUE(RunOnStoreThread(ctx, answers.reply(), [](const Reply& reply) {
        reply(HttpResponse::Json(200, {}));
        throw 42;
    }));
    WaitIdle(pool);
    EXPECT_EQ(answers.Take(), (std::vector<int>{500, 200}));
    EXPECT_NE(metrics.Render().find("liveproof_internal_errors_total{where=\"worker\"} 2"),
              std::string::npos)
        << metrics.Render();
}

TEST_F(StoreThreads, AFullQueueIsAnswered503AtOnceAndNothingRuns) {
    Answers answers;
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::atomic<int> ran{0};
    const auto blocked = [&, gate] {
        gate.wait();
        ++ran;
        return HttpResponse::Json(200, {});
    };
    // One running and two waiting fill a pool of one thread and a queue of two.
    EXPECT_TRUE(RunOnStore(ctx, answers.reply(), blocked));
    for (int i = 0; i < 100 && pool.depth() < 1; ++i) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // the first job is taken off the queue
    EXPECT_TRUE(RunOnStore(ctx, answers.reply(), blocked));
    EXPECT_TRUE(RunOnStore(ctx, answers.reply(), blocked));
    EXPECT_FALSE(RunOnStore(ctx, answers.reply(), blocked));
    EXPECT_FALSE(PostToStore(ctx, [&] { ++ran; }));
    EXPECT_EQ(answers.Take(), std::vector<int>{503});
    EXPECT_NE(answers.errors[0].find("store_busy"), std::string::npos) << answers.errors[0];
    release.set_value();
    WaitIdle(pool);
    EXPECT_EQ(ran.load(), 3);
    EXPECT_EQ(answers.Take(), (std::vector<int>{503, 200, 200, 200}));
    EXPECT_NE(metrics.Render().find("liveproof_rejections_total{reason=\"store_queue_full\"} 2"),
              std::string::npos)
        << metrics.Render();
}

TEST(StoreThreadsAbsent, CallsRunInlineWithoutStoreThreads) {
    MetricsRegistry metrics;
    ServerContext ctx;
    ctx.metrics = &metrics;
    std::thread::id ran_on;
    int status = 0;
    EXPECT_TRUE(RunOnStore(
        ctx, [&](HttpResponse r) { status = r.status; },
        [&] {
            ran_on = std::this_thread::get_id();
            return HttpResponse::Json(204, {});
        }));
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_EQ(status, 204);
}

}  // namespace
}  // namespace liveproof::server
