// The verdict keys: base64url, the key file's checks, JWKS, and JWS sign/verify round trips.
#include "verdict/key_ring.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "verdict/base64url.hpp"

namespace liveproof::verdict {
namespace {

namespace fs = std::filesystem;

// RFC 8037 appendix A.1: an Ed25519 private key and its public key.
constexpr const char* kRfcD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr const char* kRfcX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

class KeyFile : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("liveproof_keys_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "keys.json").string();
    }
    void TearDown() override { fs::remove_all(dir_); }
    void Write(const std::string& text, mode_t mode = 0600) {
        std::ofstream(path_) << text;
        ::chmod(path_.c_str(), mode);
    }
    fs::path dir_;
    std::string path_;
};

std::string Text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
    EXPECT_EQ(Base64UrlEncode(std::string_view("")), "");
    EXPECT_EQ(Base64UrlEncode(std::string_view("f")), "Zg");
    EXPECT_EQ(Base64UrlEncode(std::string_view("fo")), "Zm8");
    EXPECT_EQ(Base64UrlEncode(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(Base64UrlEncode(std::string_view("foobar")), "Zm9vYmFy");
    const std::vector<std::uint8_t> high{0xfb, 0xff, 0xbf};
    EXPECT_EQ(Base64UrlEncode(high), "-_-_");  // the URL-safe alphabet, not '+' and '/'
}

TEST(Base64Url, DecodesOnlyCanonicalUnpaddedText) {
    EXPECT_EQ(Text(*Base64UrlDecode("Zm9vYmFy", 64)), "foobar");
    EXPECT_EQ(Text(*Base64UrlDecode("Zg", 64)), "f");
    EXPECT_FALSE(Base64UrlDecode("Zg==", 64));  // padding
    EXPECT_FALSE(Base64UrlDecode("Zh", 64));    // leftover bits set: a second spelling of "f"
    EXPECT_FALSE(Base64UrlDecode("Z", 64));     // impossible length
    EXPECT_FALSE(Base64UrlDecode("+/+/", 64));  // the other alphabet
    EXPECT_FALSE(Base64UrlDecode("Zm9v YmFy", 64));
    // libsodium 1.0.18 alone decodes every byte >= 0x80 as '_' ("____" is ff ff ff).
    EXPECT_TRUE(Base64UrlDecode("____", 64));
    EXPECT_FALSE(Base64UrlDecode("\xff\xff\xff\xff", 64));
    EXPECT_FALSE(Base64UrlDecode("Zm9v\x80mFy", 64));
    EXPECT_FALSE(Base64UrlDecode("Zm9vYmFy", 5));  // over the cap
    EXPECT_TRUE(Base64UrlDecode("Zm9vYmFy", 6));
}

TEST_F(KeyFile, LoadsTheRfc8037KeyAndDerivesItsPublicKey) {
    Write(std::string(R"({"keys":[{"d":")") + kRfcD + R"(","x":")" + kRfcX +
          R"(","active":true}]})");
    auto ring = KeyRing::Load(path_);
    ASSERT_TRUE(ring) << ring.error().detail;
    EXPECT_EQ(Base64UrlEncode(ring->active().public_key), kRfcX);
    const auto jwks = ring->Jwks();
    ASSERT_EQ(jwks["keys"].size(), 1u);
    EXPECT_EQ(jwks["keys"][0]["kty"], "OKP");
    EXPECT_EQ(jwks["keys"][0]["crv"], "Ed25519");
    EXPECT_EQ(jwks["keys"][0]["x"], kRfcX);
    EXPECT_EQ(jwks["keys"][0]["alg"], "EdDSA");
    EXPECT_EQ(jwks["keys"][0]["kid"], ring->active().kid);
    EXPECT_FALSE(jwks["keys"][0].contains("d"));  // never the private part
    EXPECT_EQ(ring->active().kid.size(), 16u);    // 12 bytes of SHA-256, base64url
}

TEST_F(KeyFile, RefusesWhatCannotBeTrusted) {
    const std::string key = std::string(R"({"d":")") + kRfcD + R"(","x":")" + kRfcX + R"(",)";
    const auto refused = [&](const std::string& text, mode_t mode, const std::string& why) {
        Write(text, mode);
        auto ring = KeyRing::Load(path_);
        ASSERT_FALSE(ring) << text;
        EXPECT_NE(ring.error().detail.find(why), std::string::npos) << ring.error().detail;
    };
    refused("{\"keys\":[" + key + "\"active\":true}]}", 0644, "other users");
    refused("{\"keys\":[]}", 0600, "no \"keys\"");
    refused("{\"keys\":[" + key + "\"active\":false}]}", 0600, "0 keys are active");
    refused("{\"keys\":[" + key + "\"active\":true}," + key + "\"active\":false}]}", 0600, "twice");
    // A public key that is not the seed's (the RFC's x with another seed).
    refused(std::string(R"({"keys":[{"d":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","x":")") +
                kRfcX + R"(","active":true}]})",
            0600, "not the public key");
    refused(std::string(R"({"keys":[{"d":"short","x":")") + kRfcX + R"(","active":true}]})", 0600,
            "32 bytes");
    refused("not json", 0600, "keys.json");
}

TEST_F(KeyFile, SavesOwnerOnlyAndLoadsBackTheSameKeys) {
    bool created = false;
    auto ring = KeyRing::LoadOrCreate(path_, &created);
    ASSERT_TRUE(ring) << ring.error().detail;
    EXPECT_TRUE(created);
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto again = KeyRing::LoadOrCreate(path_, &created);
    ASSERT_TRUE(again) << again.error().detail;
    EXPECT_FALSE(created);
    EXPECT_EQ(again->active().kid, ring->active().kid);
    EXPECT_EQ(again->active().seed, ring->active().seed);
}

TEST(KeyRing, SignsVerifiableCompactJws) {
    const KeyRing ring = KeyRing::Generate();
    const nlohmann::json claims = {{"sub", "abc"}, {"decision", "live"}, {"exp", 123}};
    const std::string jws = ring.Sign(claims);
    ASSERT_EQ(std::count(jws.begin(), jws.end(), '.'), 2);
    const auto header =
        nlohmann::json::parse(Text(*Base64UrlDecode(jws.substr(0, jws.find('.')), 1024)));
    EXPECT_EQ(header["alg"], "EdDSA");
    EXPECT_EQ(header["typ"], kVerdictType);
    EXPECT_EQ(header["kid"], ring.active().kid);
    auto verified = ring.Verify(jws);
    ASSERT_TRUE(verified) << verified.error().detail;
    EXPECT_EQ(*verified, claims);
}

TEST(KeyRing, RefusesForgedAndMalformedTokens) {
    const KeyRing ring = KeyRing::Generate();
    const std::string jws = ring.Sign({{"decision", "spoof"}});
    const auto dot1 = jws.find('.');
    const auto dot2 = jws.find('.', dot1 + 1);
    const std::string header = jws.substr(0, dot1);
    const std::string sig = jws.substr(dot2 + 1);
    // The attacker's claims under the server's header and signature.
    const std::string forged =
        header + "." + Base64UrlEncode(std::string_view(R"({"decision":"live"})")) + "." + sig;
    EXPECT_FALSE(ring.Verify(forged));
    // alg none, and a signature stripped.
    const std::string none_header = Base64UrlEncode(std::string_view(R"({"alg":"none"})"));
    EXPECT_FALSE(ring.Verify(none_header + jws.substr(dot1, dot2 - dot1) + "."));
    EXPECT_FALSE(ring.Verify(jws.substr(0, dot2 + 1)));
    // A key the ring does not hold.
    EXPECT_FALSE(ring.Verify(KeyRing::Generate().Sign({{"decision", "live"}})));
    EXPECT_FALSE(ring.Verify(jws + ".x"));
    EXPECT_FALSE(ring.Verify(""));
    EXPECT_FALSE(ring.Verify(std::string(70000, 'a')));
    // The same signature spelt with a byte that a lax decoder reads as '_' or '/'.
    std::string respelt = jws;
    respelt[dot2 + 1] = static_cast<char>(0xBF);
    EXPECT_FALSE(ring.Verify(respelt));
    // One flipped signature character.
    std::string flipped = jws;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(ring.Verify(flipped));
}

TEST(KeyRing, RotationKeepsOldVerdictsVerifiable) {
    KeyRing ring = KeyRing::Generate();
    const std::string old_kid = ring.active().kid;
    const std::string old_jws = ring.Sign({{"n", 1}});
    const std::string new_kid = ring.Rotate();
    EXPECT_NE(new_kid, old_kid);
    EXPECT_EQ(ring.active().kid, new_kid);
    EXPECT_EQ(ring.Jwks()["keys"][0]["kid"], new_kid);  // the active key first
    EXPECT_EQ(ring.Jwks()["keys"].size(), 2u);
    EXPECT_TRUE(ring.Verify(old_jws));
    EXPECT_FALSE(ring.Remove(new_kid));  // the active key cannot be removed
    EXPECT_TRUE(ring.Remove(old_kid));
    EXPECT_FALSE(ring.Verify(old_jws));
    EXPECT_TRUE(ring.Verify(ring.Sign({{"n", 2}})));
}

}  // namespace
}  // namespace liveproof::verdict
