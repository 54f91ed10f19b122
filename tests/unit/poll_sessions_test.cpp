// A's polling sessions: uuid4 ids, the cap, expiry from the start, lookup by exact id only.
#include "server/poll_sessions.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace liveproof::server {
namespace {

std::shared_ptr<PollSession> NewSession() {
    // No engine: these sessions never analyse a frame (the store does not care).
    auto run = active::ChallengeRun::Create(
        nullptr, challenge::ChallengeConfig{}, StreamOptions{}, [] { return 0.0; },
        [] { return 7u; });
    EXPECT_TRUE(run) << (run ? "" : run.error().detail);
    return std::make_shared<PollSession>(std::move(*run), 0.0, active::FrameSignalRules{});
}

TEST(PollSessions, IdsAreDistinctUuid4Text) {
    PollSessions store(100, 60);
    const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        auto id = store.Add(NewSession(), 1.0);
        ASSERT_TRUE(id);
        EXPECT_TRUE(std::regex_match(*id, uuid4)) << *id;
        ids.insert(*id);
    }
    EXPECT_EQ(ids.size(), 50u);
}

TEST(PollSessions, FindsOnlyTheExactId) {
    PollSessions store(10, 60);
    auto session = NewSession();
    const auto id = store.Add(session, 1.0);
    ASSERT_TRUE(id);
    EXPECT_EQ(store.Find(*id, 2.0), session);
    std::string near = *id;
    near.back() = near.back() == '0' ? '1' : '0';
    EXPECT_EQ(store.Find(near, 2.0), nullptr);
    EXPECT_EQ(store.Find(id->substr(0, 35), 2.0), nullptr);
    EXPECT_EQ(store.Find("", 2.0), nullptr);
    EXPECT_EQ(store.Find(*id + "x", 2.0), nullptr);
}

TEST(PollSessions, TheCapRefusesUntilASessionExpires) {
    PollSessions store(2, 10);
    const auto first = store.Add(NewSession(), 0.0);
    ASSERT_TRUE(first);
    ASSERT_TRUE(store.Add(NewSession(), 5.0));
    EXPECT_FALSE(store.Add(NewSession(), 9.0)) << "two open sessions: the cap is reached";
    // At 10.5 the first (started at 0) has expired: it is swept and the new one fits.
    EXPECT_TRUE(store.Add(NewSession(), 10.5));
    EXPECT_EQ(store.Find(*first, 10.5), nullptr);
    EXPECT_EQ(store.size(), 2u);
}

TEST(PollSessions, ASessionExpiresTtlAfterItsStartEvenIfUsed) {
    PollSessions store(10, 10);
    const auto id = store.Add(NewSession(), 100.0);
    ASSERT_TRUE(id);
    EXPECT_NE(store.Find(*id, 110.0), nullptr) << "at exactly the TTL it is still there";
    EXPECT_EQ(store.Find(*id, 110.5), nullptr);
    EXPECT_EQ(store.size(), 0u) << "an expired session found by Find is removed";
}

}  // namespace
}  // namespace liveproof::server
