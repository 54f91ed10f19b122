// ParseJson / ToJsonText: client text never throws, and every refusal says why.
#include "common/json_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace liveproof {
namespace {

TEST(JsonText, NumbersOutsideDoubleRangeAreInvalidJsonNotAnException) {
    for (const char* text : {"1e400", "{\"frame\":1e400}", "[0.1e99999]", "{\"x\":-1e999}"}) {
        auto j = ParseJson(text);
        ASSERT_FALSE(j) << text;
        EXPECT_EQ(j.error().code, ErrorCode::InvalidJson);
        EXPECT_NE(j.error().detail.find("range of a double"), std::string::npos);
    }
    EXPECT_TRUE(ParseJson("1e300"));
}

TEST(JsonText, NestingIsCappedAndSyntaxErrorsGiveTheByte) {
    EXPECT_TRUE(ParseJson(std::string(16, '[') + std::string(16, ']')));
    // nlohmann counts the depth of what an array holds: 17 empty levels hold nothing at 17.
    auto deep = ParseJson(std::string(18, '[') + std::string(18, ']'));
    ASSERT_FALSE(deep);
    EXPECT_NE(deep.error().detail.find("deeper than 16"), std::string::npos);
    auto bad = ParseJson("{\"a\": tru}");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().detail.find("at byte"), std::string::npos);
    EXPECT_FALSE(ParseJsonObject("[1]"));
}

TEST(JsonText, NulByteAnywhereIsInvalidNotTheEndOfTheText) {
    // Found by fuzz_json: nlohmann's lexer stops at NUL, so "{}\0..." parsed as {}.
    auto j = ParseJson(std::string("{}\0{\"x\"", 7));
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().detail.find("NUL byte at byte 2"), std::string::npos);
    EXPECT_TRUE(ParseJson(R"({"a":"\u0000"})"));  // an escaped NUL is fine
}

TEST(JsonText, InvalidUtf8IsRefusedOnInputAndReplacedOnOutput) {
    EXPECT_FALSE(ParseJson("\"\xff\""));
    const nlohmann::json j = {{"path", std::string("/\xff\xc3\x28")}};
    const std::string text = ToJsonText(j);
    EXPECT_TRUE(IsValidUtf8(text));
    EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
    EXPECT_EQ(PrintableUtf8("a\nb\xff"), "a?b\xEF\xBF\xBD");
    EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
    EXPECT_FALSE(IsValidUtf8("\xc0\xae"));      // overlong
    EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
}

}  // namespace
}  // namespace liveproof
