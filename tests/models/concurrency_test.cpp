// Analyze from many threads at once gives exactly the single-threaded results (one pipeline per
// worker).
#include <gtest/gtest.h>

#include <thread>

#include "support/test_support.hpp"

namespace liveproof::test {
namespace {

TEST(Concurrency, ParallelAnalysesMatchSequentialResultsExactly) {
    LIVEPROOF_REQUIRE_MODELS();
    const Engine* engine = DefaultEngine();  // 2 workers: callers beyond 2 wait for a pipeline
    std::vector<std::vector<std::uint8_t>> images;
    for (const char* name : {"image_T1.jpg", "image_F1.jpg", "image_F2.jpg"}) {
        images.push_back(ReadBytes(SharedDir() / "models/samples" / name));
    }
    std::vector<ImageAnalysis> expected;
    for (const auto& bytes : images) expected.push_back(*engine->Analyze(bytes));

    constexpr int kThreads = 6;
    constexpr int kRounds = 4;
    std::vector<std::thread> threads;
    std::vector<int> mismatches(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                const std::size_t i = static_cast<std::size_t>(t + round) % images.size();
                auto r = engine->Analyze(images[i]);
                const bool same =
                    r && r->faces.size() == 1 && r->faces[0].x1 == expected[i].faces[0].x1 &&
                    r->faces[0].antispoof->p_real == expected[i].faces[0].antispoof->p_real &&
                    r->faces[0].pose->yaw == expected[i].faces[0].pose->yaw &&
                    r->faces[0].eye_image_left->ear == expected[i].faces[0].eye_image_left->ear;
                if (!same) ++mismatches[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace liveproof::test
