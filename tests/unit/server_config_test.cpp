// ServerConfig: values are checked before they are used, and environment variables that are set
// but empty count as unset.
#include "server/server_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/json_text.hpp"

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
    EXPECT_EQ(c.engine.workers, 4);
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

namespace liveproof::server {
namespace {

TEST(ServerConfig, NumbersAreDecimalOnly) {
    ServerConfig c;
    // std::stod read "0x50" as 80: port=0x50 bound port 80.
    for (const char* bad : {"0x50", " 80", "80 ", "+80", "8e1x", "0x1p3", ""}) {
        EXPECT_FALSE(c.Set("port", bad)) << bad;
    }
    EXPECT_EQ(c.port, 8001);
    EXPECT_TRUE(c.Set("port", "8080"));
    EXPECT_EQ(c.port, 8080);
    EXPECT_TRUE(c.Set("confidence_threshold", "0.5"));
    EXPECT_TRUE(c.Set("confidence_threshold", "5e-1"));
    EXPECT_FALSE(c.Set("confidence_threshold", "0x0.8p0"));
}

TEST(ServerConfig, KeyListOfOnlySeparatorsIsRefusedNotAuthOff) {
    ::setenv("API_KEY", " , ", 1);
    ServerConfig c;
    auto r = c.ApplyEnvironment();
    ::unsetenv("API_KEY");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("API_KEY"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().detail.find("only separators"), std::string::npos) << r.error().detail;
    EXPECT_FALSE(c.Set("api_keys", ",,"));
    EXPECT_TRUE(c.Set("api_keys", "key-one-123, key-two-456,"));
    EXPECT_EQ(c.api_keys.size(), 2u);
}

TEST(ServerConfig, ChallengeListThatNamesAnInvalidChallengeIsRefusedWhenSet) {
    for (const char* bad : {"FOO", "LEFT,FOO", ",", "LEFT,left"}) {
        ServerConfig c;
        auto r = c.Set("challenges", bad);  // the list is judged as a whole, at once
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().detail.find("challenges"), std::string::npos) << r.error().detail;
        EXPECT_EQ(c.ToJson()["challenges"], "LEFT,RIGHT,UP,DOWN") << "unchanged after " << bad;
    }
    // A valid list that breaks a cross-field rule is refused by Finalize.
    ServerConfig centre_wide;
    ASSERT_TRUE(centre_wide.Set("center_yaw", "30"));
    auto r = centre_wide.Finalize();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("center_yaw"), std::string::npos) << r.error().detail;
    ServerConfig ok;
    ASSERT_TRUE(ok.Set("challenges", "LEFT,RIGHT,BLINK"));
    EXPECT_TRUE(ok.Finalize());
}

TEST(ServerConfig, MalformedLicenceKeyDoesNotStart) {
    ServerConfig c;
    ASSERT_TRUE(c.Set("licence_public_key", "not-a-key"));
    auto r = c.Finalize();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("licence_public_key"), std::string::npos);
    // The detail does not echo the (secret-flagged) value.
    EXPECT_EQ(r.error().detail.find("not-a-key"), std::string::npos);
}

TEST(ServerConfig, ConfigTextIsParsedBoundedAndErrorsNameTheSource) {
    ServerConfig c;
    EXPECT_TRUE(c.ApplyJsonText(R"({"port": 9000, "challenges": ["LEFT", "UP"]})", "cfg.json"));
    EXPECT_EQ(c.port, 9000);
    EXPECT_EQ(c.challenge.allowed, (std::vector<challenge::Direction>{challenge::Direction::Left,
                                                                      challenge::Direction::Up}));
    EXPECT_EQ(c.ToJson()["challenges"], "LEFT,UP");
    for (const char* bad :
         {R"({"port": 1e400})", "[1]", "{", R"({"port": "0x50"})", R"({"nope": 1})"}) {
        auto r = c.ApplyJsonText(bad, "cfg.json");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().detail.rfind("cfg.json: ", 0), 0u) << r.error().detail;
    }
    const std::string deep = std::string(100, '[') + std::string(100, ']');
    EXPECT_FALSE(c.ApplyJsonText(deep, "cfg.json"));
}

}  // namespace
}  // namespace liveproof::server

namespace liveproof::server {
namespace {

TEST(ServerConfig, BlankLiveproofVariableCountsAsUnset) {
    // Found by fuzz_config: a blank LIVEPROOF_API_KEYS used to replace API_KEY's keys with none.
    ::setenv("API_KEY", "seed-key-123456", 1);
    ::setenv("LIVEPROOF_API_KEYS", "  \t", 1);
    ServerConfig c;
    auto r = c.ApplyEnvironment();
    ::unsetenv("API_KEY");
    ::unsetenv("LIVEPROOF_API_KEYS");
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(c.api_keys, (std::vector<std::string>{"seed-key-123456"}));
}

TEST(ServerConfig, SettingsThatAreNotUtf8StillPrint) {
    // Found by fuzz_config: --print-config aborted on such a value.
    ServerConfig c;
    ASSERT_TRUE(c.Set("web_root", "/srv/\xff\xfe"));
    const std::string text = ToJsonText(c.ToJson(), 2);
    EXPECT_TRUE(IsValidUtf8(text));
    EXPECT_NE(text.find("web_root"), std::string::npos);
}

}  // namespace
}  // namespace liveproof::server

namespace liveproof::server {
namespace {

// System C's is_small / is_boundary_face are the engine's flags: its two settings set the
// engine's thresholds, so the REST door and the pipeline cannot disagree.
TEST(ServerConfig, SystemCsFaceFlagSettingsAreTheEngines) {
    ServerConfig c;
    EXPECT_EQ(c.ToJson()["c_border_rate"], c.engine.attributes.border_rate);
    ASSERT_TRUE(c.Set("c_border_rate", "0.1"));
    ASSERT_TRUE(c.Set("c_small_eye_dist", "42"));
    EXPECT_FLOAT_EQ(c.engine.attributes.border_rate, 0.1f);
    EXPECT_FLOAT_EQ(c.engine.attributes.small_face_eye_dist, 42.0f);
    EXPECT_FALSE(c.Set("c_border_rate", "0.6"));
}

}  // namespace
}  // namespace liveproof::server
