// RunInSlices on a real WorkerPool: a long job gives the worker back between slices (other
// work runs in between), is answered exactly once, and is answered 503 when the queue is full
// or the server stops before it ends.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics_registry.hpp"
#include "server/server_context.hpp"
#include "server/worker_pool.hpp"

namespace liveproof::server {
namespace {

using namespace std::chrono_literals;

// One worker, so that "something else ran in between" means the long job gave it back.
struct OneWorker {
    OneWorker() {
        ctx.metrics = &metrics;
        ctx.workers = &pool;
        ctx.config.video_slice_seconds = 0.01;
    }
    MetricsRegistry metrics;
    WorkerPool pool{1, 8};
    ServerContext ctx;
};

// The order in which things happened on the worker.
struct Log {
    void Add(const std::string& s) {
        std::lock_guard lock(mutex);
        entries.push_back(s);
    }
    std::vector<std::string> Take() {
        std::lock_guard lock(mutex);
        return entries;
    }
    std::mutex mutex;
    std::vector<std::string> entries;
};

// A step that needs `slices` slices, each taking until its deadline.
SliceStep Slices(int slices, Log& log) {
    auto done = std::make_shared<int>(0);
    return [slices, done,
            &log](std::chrono::steady_clock::time_point until) -> std::optional<HttpResponse> {
        while (std::chrono::steady_clock::now() < until) {
        }
        log.Add("slice");
        if (++*done < slices) return std::nullopt;
        return HttpResponse::Json(200, {{"slices", *done}});
    };
}

TEST(RunInSlicesTest, OtherWorkRunsBetweenTheSlicesAndTheJobIsAnsweredOnce) {
    OneWorker w;
    Log log;
    std::promise<HttpResponse> answer;
    int replies = 0;
    RunInSlices(
        w.ctx,
        [&](HttpResponse r) {
            ++replies;
            answer.set_value(std::move(r));
        },
        Slices(5, log));
    // Queued while the long job runs: must not wait for its end.
    std::promise<void> quick_done;
    ASSERT_TRUE(w.pool.TrySubmit([&] {
        log.Add("quick");
        quick_done.set_value();
    }));
    auto fut = answer.get_future();
    ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
    quick_done.get_future().wait();
    const HttpResponse r = fut.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(nlohmann::json::parse(r.body)["slices"], 5);
    w.pool.Shutdown();
    EXPECT_EQ(replies, 1);
    const auto entries = log.Take();
    ASSERT_EQ(entries.size(), 6u);
    EXPECT_EQ(entries.front(), "slice");
    EXPECT_NE(entries.back(), "quick") << "the quick job waited for the whole long job";
}

TEST(RunInSlicesTest, TwoLongJobsTakeTurns) {
    OneWorker w;
    Log a, b;
    Log order;
    std::promise<void> a_done, b_done;
    auto tagged = [&order](Log& own, const char* tag, int n) {
        SliceStep inner = Slices(n, own);
        return SliceStep([inner, tag, &order](std::chrono::steady_clock::time_point until) {
            order.Add(tag);
            return inner(until);
        });
    };
    RunInSlices(
        w.ctx, [&](HttpResponse) { a_done.set_value(); }, tagged(a, "a", 4));
    RunInSlices(
        w.ctx, [&](HttpResponse) { b_done.set_value(); }, tagged(b, "b", 4));
    ASSERT_EQ(a_done.get_future().wait_for(10s), std::future_status::ready);
    ASSERT_EQ(b_done.get_future().wait_for(10s), std::future_status::ready);
    w.pool.Shutdown();
    const auto seq = order.Take();
    ASSERT_EQ(seq.size(), 8u);
    // Neither runs all its slices before the other starts: they alternate after the first.
    const auto first_b = std::find(seq.begin(), seq.end(), "b") - seq.begin();
    EXPECT_LT(first_b, 3) << "b waited for most of a";
}

TEST(RunInSlicesTest, AFullQueueIsAnswered503AtOnce) {
    MetricsRegistry metrics;
    WorkerPool pool{0, 0};  // no threads, no room: every submission is refused
    ServerContext ctx;
    ctx.metrics = &metrics;
    ctx.workers = &pool;
    Log log;
    int status = 0;
    RunInSlices(
        ctx, [&](HttpResponse r) { status = r.status; }, Slices(3, log));
    EXPECT_EQ(status, 503);
    EXPECT_TRUE(log.Take().empty());
}

TEST(RunInSlicesTest, AJobDroppedAtShutdownIsAnswered503ShuttingDown) {
    OneWorker w;
    Log log;
    std::promise<HttpResponse> answer;
    std::promise<void> first_slice;
    std::promise<void> go;
    std::shared_future<void> go_f = go.get_future().share();
    bool first = true;
    RunInSlices(
        w.ctx, [&](HttpResponse r) { answer.set_value(std::move(r)); },
        [&, go_f](std::chrono::steady_clock::time_point) -> std::optional<HttpResponse> {
            if (first) {
                first = false;
                first_slice.set_value();
                go_f.wait();  // hold the first slice until the pool is stopping
            }
            return std::nullopt;  // never done
        });
    first_slice.get_future().wait();
    std::thread stopper([&] { w.pool.Shutdown(); });
    // Either way the job is dropped: its next slice is refused (the pool is stopping) or waits
    // in the lane, which Shutdown empties.
    std::this_thread::sleep_for(50ms);
    go.set_value();
    stopper.join();
    auto fut = answer.get_future();
    ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
    const HttpResponse r = fut.get();
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("shutting_down"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace liveproof::server
