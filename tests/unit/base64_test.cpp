// DecodeBase64 / EncodeBase64: RFC 4648 vectors, alphabets, whitespace, data: URLs, errors, caps.
#include "media/base64.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace liveproof::media {
namespace {

constexpr std::size_t kNoCap = std::numeric_limits<std::size_t>::max();

std::vector<std::uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string Str(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

std::string DecodeOk(std::string_view text, std::size_t cap = kNoCap) {
    auto r = DecodeBase64(text, cap);
    EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().detail);
    return r ? Str(*r) : std::string();
}

Error DecodeErr(std::string_view text, std::size_t cap = kNoCap) {
    auto r = DecodeBase64(text, cap);
    EXPECT_FALSE(r.has_value()) << "decoded: " << text;
    return r ? Error{} : r.error();
}

struct Vector {
    const char* plain;
    const char* encoded;
};

// RFC 4648 section 10.
constexpr Vector kRfc4648[] = {{"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
                               {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

TEST(Base64, Rfc4648VectorsEncode) {
    EXPECT_EQ(EncodeBase64({}), "");
    for (const auto& v : kRfc4648) EXPECT_EQ(EncodeBase64(Bytes(v.plain)), v.encoded) << v.plain;
}

TEST(Base64, Rfc4648VectorsDecodePaddedAndUnpadded) {
    for (const auto& v : kRfc4648) {
        EXPECT_EQ(DecodeOk(v.encoded), v.plain);
        std::string unpadded = v.encoded;
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
        EXPECT_EQ(DecodeOk(unpadded), v.plain);
    }
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
    std::vector<std::uint8_t> all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
    for (std::size_t n = 0; n <= all.size(); n += 1) {
        const std::vector<std::uint8_t> in(all.begin(), all.begin() + static_cast<long>(n));
        const std::string enc = EncodeBase64(in);
        EXPECT_EQ(enc.size() % 4, 0u);
        if (n == 0) continue;
        auto dec = DecodeBase64(enc, n);  // cap exactly the size: allowed
        ASSERT_TRUE(dec.has_value()) << n;
        EXPECT_EQ(*dec, in);
    }
}

TEST(Base64, UrlSafeAlphabetAndMixedAlphabets) {
    const std::vector<std::uint8_t> bytes = {0xfb, 0xff, 0xbf, 0xfe};
    EXPECT_EQ(EncodeBase64(bytes), "+/+//g==");
    EXPECT_EQ(*DecodeBase64("-_-__g", kNoCap), bytes);
    EXPECT_EQ(*DecodeBase64("-_-__g==", kNoCap), bytes);
    EXPECT_EQ(*DecodeBase64("+_-/_g", kNoCap), bytes);
}

TEST(Base64, IgnoresWhitespaceAnywhere) {
    EXPECT_EQ(DecodeOk(" Zm9v\r\nYmFy \t"), "foobar");
    EXPECT_EQ(DecodeOk("Z m 9 v Y g = ="), "foob");
    EXPECT_EQ(DecodeOk("Zm9vYg=\n="), "foob");
    EXPECT_EQ(DecodeOk("\n\n\nZg==\n\n"), "f");
}

TEST(Base64, StripsDataUrlPrefix) {
    EXPECT_EQ(DecodeOk("data:image/jpeg;base64,Zm9vYmFy"), "foobar");
    EXPECT_EQ(DecodeOk("DATA:image/png;BASE64,Zm9v"), "foo");
    EXPECT_EQ(DecodeOk("  data:;base64,Zg=="), "f");
    EXPECT_EQ(DecodeOk("data:image/jpeg;name=a.jpg;base64,\nZm9v"), "foo");
}

TEST(Base64, DataUrlWithoutBase64MarkerIsInvalid) {
    EXPECT_EQ(DecodeErr("data:image/jpeg,Zm9v").code, ErrorCode::InvalidEncoding);
    EXPECT_EQ(DecodeErr("data:image/jpeg;base64Zm9v").code, ErrorCode::InvalidEncoding);
}

TEST(Base64, EmptyAfterStrippingIsEmptyInput) {
    EXPECT_EQ(DecodeErr("").code, ErrorCode::EmptyInput);
    EXPECT_EQ(DecodeErr(" \r\n\t ").code, ErrorCode::EmptyInput);
    EXPECT_EQ(DecodeErr("data:image/png;base64,").code, ErrorCode::EmptyInput);
    EXPECT_EQ(DecodeErr("data:image/png;base64, \n").code, ErrorCode::EmptyInput);
}

TEST(Base64, InvalidCharacterNamesItsOffset) {
    const Error e = DecodeErr("Zm9vYmFyZm9vYmFyZ%9v");
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_NE(e.detail.find("invalid base64 character"), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("at offset 17"), std::string::npos) << e.detail;
    // Offsets count from the caller's text, data: prefix included.
    EXPECT_NE(DecodeErr("data:a;base64,Zm.v").detail.find("offset 16"), std::string::npos);
    EXPECT_EQ(DecodeErr(std::string_view("Zm9\0v", 5)).code, ErrorCode::InvalidEncoding);
    EXPECT_EQ(DecodeErr("Zm9v\xc3\xa9").code, ErrorCode::InvalidEncoding);
    EXPECT_EQ(DecodeErr("Zm9v\vYmFy").code, ErrorCode::InvalidEncoding);  // \v is not allowed
}

TEST(Base64, SingleTrailingCharacterIsTruncated) {
    const Error e = DecodeErr("Zm9vY");
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_NE(e.detail.find("truncated base64"), std::string::npos) << e.detail;
    EXPECT_EQ(DecodeErr("Z").code, ErrorCode::InvalidEncoding);
    EXPECT_EQ(DecodeErr("Z===").code, ErrorCode::InvalidEncoding);
}

TEST(Base64, BadPaddingIsRejected) {
    for (const char* bad : {"Zg=", "Zg===", "Zm8==", "Zm9v=", "Zm9v==", "Zg==Zg==", "Zg=a",
                            "==", "=", "Zm=9v", "Zm9vYmFy===="}) {
        const Error e = DecodeErr(bad);
        EXPECT_EQ(e.code, ErrorCode::InvalidEncoding) << bad;
        EXPECT_FALSE(e.detail.empty()) << bad;
    }
    EXPECT_NE(DecodeErr("Zg==Zg==").detail.find("after padding at offset 4"), std::string::npos);
}

TEST(Base64, SizeCapIsExactAndCheckedBeforeDecoding) {
    EXPECT_EQ(DecodeOk("Zm9vYmFy", 6), "foobar");
    EXPECT_EQ(DecodeErr("Zm9vYmFy", 5).code, ErrorCode::InputTooLarge);
    EXPECT_EQ(DecodeOk("Zm9vYg==", 4), "foob");
    EXPECT_EQ(DecodeErr("Zm9vYg==", 3).code, ErrorCode::InputTooLarge);
    EXPECT_EQ(DecodeErr("Zg==", 0).code, ErrorCode::InputTooLarge);
    // Whitespace does not count towards the decoded size.
    EXPECT_EQ(DecodeOk("Zm9v" + std::string(1000, '\n') + "YmFy", 6), "foobar");
}

TEST(Base64, HugeInputOverTheCapFailsBeforeReachingItsEnd) {
    // 64 MiB of 'A' with a bad character at the very end: the cap is hit long before the bad
    // character is read, so the answer is InputTooLarge (and comes without a 48 MiB allocation).
    std::string huge(64u << 20, 'A');
    huge.back() = '%';
    EXPECT_EQ(DecodeErr(huge, 1024).code, ErrorCode::InputTooLarge);
}

TEST(Base64, NonCanonicalTrailingBitsAreAccepted) {
    // "Zh" has low bits set that "Zg" does not; both decode to "f" (RFC 4648 3.5 allows this).
    EXPECT_EQ(DecodeOk("Zh=="), "f");
}

}  // namespace
}  // namespace liveproof::media
