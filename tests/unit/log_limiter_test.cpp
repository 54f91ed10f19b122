// LogLimiter: a flood of one kind of line is cut to the budget and the rest are counted.
#include "server/log_limiter.hpp"

#include <gtest/gtest.h>

namespace liveproof::server {
namespace {

using Clock = LogLimiter::Clock;

TEST(LogLimiter, WritesAtMostTheBudgetPerSecondAndCountsTheRest) {
    LogLimiter limiter(3);
    const Clock::time_point t0 = Clock::now();
    int written = 0;
    for (int i = 0; i < 1000; ++i) written += limiter.Admit("k", t0).write ? 1 : 0;
    EXPECT_EQ(written, 3);
    // The next window lets a line through and reports what was held back.
    const auto v = limiter.Admit("k", t0 + std::chrono::milliseconds(1001));
    EXPECT_TRUE(v.write);
    EXPECT_EQ(v.skipped, 997u);
    EXPECT_EQ(LogLimiter::Suffix(v), " (+997 similar)");
    EXPECT_EQ(LogLimiter::Suffix(limiter.Admit("k", t0 + std::chrono::milliseconds(1002))), "");
}

TEST(LogLimiter, KindsHaveTheirOwnBudget) {
    LogLimiter limiter(1);
    const Clock::time_point t0 = Clock::now();
    EXPECT_TRUE(limiter.Admit("a", t0).write);
    EXPECT_FALSE(limiter.Admit("a", t0).write);
    EXPECT_TRUE(limiter.Admit("b", t0).write);
}

TEST(LogLimiter, ManyDistinctKeysStayBounded) {
    LogLimiter limiter(1);
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < 20000; ++i) EXPECT_TRUE(limiter.Admit(std::to_string(i), t0).write);
}

}  // namespace
}  // namespace liveproof::server
