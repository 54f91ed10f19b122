// ServerConfig: values are checked before they are used, and environment variables that are set
// but empty count as unset.
#include "server/server_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace liveproof::server {
namespace {

TEST(ServerConfig, LogLevelAcceptsOnlySpdlogNames) {
    ServerConfig c;
    EXPECT_TRUE(c.Set("log_level", "warn"));
    EXPECT_EQ(c.log_level, "warn");
    // spdlog would read these as "off" and silence every log.
    for (const char* bad : {"warning", "INFO", ""}) {
        auto r = c.Set("log_level", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().detail.find("expected trace, debug"), std::string::npos);
    }
    EXPECT_EQ(c.log_level, "warn");
}

TEST(ServerConfig, NumbersOutOfAnyRangeAreRefusedNotCast) {
    ServerConfig c;
    for (const char* bad : {"inf", "-inf", "nan", "1e300", "2.5", "64x"}) {
        auto r = c.Set("workers", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().detail.find("whole number from 0 to 64"), std::string::npos)
            << r.error().detail;
    }
    EXPECT_TRUE(c.Set("workers", "4"));
    EXPECT_EQ(c.workers, 4);
}

TEST(ServerConfig, EmptyEnvironmentVariableDoesNotSwitchAuthOff) {
    ::setenv("API_KEY", "seed-key-123456", 1);
    ::setenv("LIVEPROOF_API_KEYS", "", 1);
    ServerConfig c;
    auto r = c.ApplyEnvironment();
    ::unsetenv("API_KEY");
    ::unsetenv("LIVEPROOF_API_KEYS");
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(c.api_keys, (std::vector<std::string>{"seed-key-123456"}));
}

TEST(ServerConfig, StreamDetectorSideIsZeroOrAtLeast64) {
    ServerConfig c;
    ASSERT_TRUE(c.Set("ws_detect_max_side", "32"));
    auto r = c.Finalize();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("ws_detect_max_side"), std::string::npos) << r.error().detail;
    ServerConfig ok;
    ASSERT_TRUE(ok.Set("ws_detect_max_side", "0"));
    EXPECT_TRUE(ok.Finalize());
}

}  // namespace
}  // namespace liveproof::server
