// Ed25519 keys (libsodium), their key file and JWKS, and compact JWS (RFC 7515, RFC 8037).
#include "verdict/key_ring.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/json_text.hpp"
#include "verdict/base64url.hpp"

namespace liveproof::verdict {

namespace {

constexpr std::size_t kMaxKeyFileBytes = 1 << 20;
constexpr std::size_t kMaxJwsBytes = 64 * 1024;
constexpr std::size_t kMaxHeaderBytes = 1024;

std::string KidOf(const std::array<std::uint8_t, 32>& public_key) {
    std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), public_key.data(), public_key.size());
    return Base64UrlEncode(std::span(digest.data(), 12));
}

SigningKey NewKey(bool active) {
    // Idempotent and thread-safe; the CSPRNG needs it before its first use.
    if (sodium_init() < 0) std::abort();
    SigningKey k;
    randombytes_buf(k.seed.data(), k.seed.size());
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
    crypto_sign_seed_keypair(k.public_key.data(), secret.data(), k.seed.data());
    sodium_memzero(secret.data(), secret.size());
    k.kid = KidOf(k.public_key);
    k.created_s = static_cast<std::int64_t>(std::time(nullptr));
    k.active = active;
    return k;
}

// A 32-byte field of the key file, or an error naming it.
Expected<std::array<std::uint8_t, 32>> Field32(const nlohmann::json& key, const char* name,
                                               std::size_t index) {
    const auto where = "key " + std::to_string(index) + ": \"" + name + "\"";
    if (!key.contains(name) || !key[name].is_string())
        return MakeError(ErrorCode::InvalidArgument, where + " is missing or not a string");
    auto bytes = Base64UrlDecode(key[name].get<std::string>(), 32);
    if (!bytes || bytes->size() != 32)
        return MakeError(ErrorCode::InvalidArgument, where + " is not 32 bytes of base64url");
    std::array<std::uint8_t, 32> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    sodium_memzero(bytes->data(), bytes->size());
    return out;
}

Expected<SigningKey> KeyFromJson(const nlohmann::json& j, std::size_t index) {
    if (!j.is_object())
        return MakeError(ErrorCode::InvalidArgument,
                         "key " + std::to_string(index) + " is not an object");
    SigningKey k;
    auto seed = Field32(j, "d", index);
    if (!seed) return Unexpected{seed.error()};
    auto pub = Field32(j, "x", index);
    if (!pub) return Unexpected{pub.error()};
    k.seed = *seed;
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
    crypto_sign_seed_keypair(k.public_key.data(), secret.data(), k.seed.data());
    sodium_memzero(secret.data(), secret.size());
    if (sodium_memcmp(k.public_key.data(), pub->data(), 32) != 0)
        return MakeError(ErrorCode::InvalidArgument,
                         "key " + std::to_string(index) + ": \"x\" is not the public key of \"d\"");
    k.kid = KidOf(k.public_key);
    if (j.contains("kid") && (!j["kid"].is_string() || j["kid"].get<std::string>() != k.kid))
        return MakeError(ErrorCode::InvalidArgument,
                         "key " + std::to_string(index) + ": \"kid\" is not the key's id " + k.kid);
    if (j.contains("created") && j["created"].is_number_integer())
        k.created_s = j["created"].get<std::int64_t>();
    if (!j.contains("active") || !j["active"].is_boolean())
        return MakeError(ErrorCode::InvalidArgument,
                         "key " + std::to_string(index) + ": \"active\" must be true or false");
    k.active = j["active"].get<bool>();
    return k;
}

Expected<std::string> ReadSmallFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return MakeError(ErrorCode::InvalidArgument, path + ": cannot be read");
    std::string text(kMaxKeyFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxKeyFileBytes)
        return MakeError(ErrorCode::InputTooLarge, path + ": larger than 1 MiB");
    return text;
}

}  // namespace

KeyRing KeyRing::Generate() {
    KeyRing ring;
    ring.keys_.push_back(NewKey(true));
    return ring;
}

Expected<KeyRing> KeyRing::Load(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return MakeError(ErrorCode::InvalidArgument, path + ": " + std::strerror(errno));
    if ((st.st_mode & 007) != 0)
        return MakeError(ErrorCode::InvalidArgument,
                         path + ": other users may read or write it; chmod 600 " + path);
    auto text = ReadSmallFile(path);
    if (!text) return Unexpected{text.error()};
    auto j = ParseJsonObject(*text);
    sodium_memzero(text->data(), text->size());
    if (!j) return MakeError(ErrorCode::InvalidArgument, path + ": " + j.error().detail);
    if (!j->contains("keys") || !(*j)["keys"].is_array() || (*j)["keys"].empty())
        return MakeError(ErrorCode::InvalidArgument, path + ": no \"keys\" array with a key");
    KeyRing ring;
    std::set<std::string> kids;
    int active = 0;
    for (std::size_t i = 0; i < (*j)["keys"].size(); ++i) {
        auto key = KeyFromJson((*j)["keys"][i], i);
        if (!key) return MakeError(ErrorCode::InvalidArgument, path + ": " + key.error().detail);
        if (!kids.insert(key->kid).second)
            return MakeError(ErrorCode::InvalidArgument, path + ": key " + key->kid + " twice");
        active += key->active ? 1 : 0;
        ring.keys_.push_back(*key);
    }
    if (active != 1)
        return MakeError(ErrorCode::InvalidArgument, path + ": " + std::to_string(active) +
                                                         " keys are active; exactly one must be");
    return ring;
}

Expected<KeyRing> KeyRing::LoadOrCreate(const std::string& path, bool* created) {
    *created = false;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return Load(path);
    KeyRing ring = Generate();
    if (auto saved = ring.Save(path); !saved) return Unexpected{saved.error()};
    *created = true;
    return ring;
}

Expected<void> KeyRing::Save(const std::string& path) const {
    nlohmann::json j;
    j["keys"] = nlohmann::json::array();
    for (const auto& k : keys_) {
        j["keys"].push_back({{"kid", k.kid},
                             {"d", Base64UrlEncode(std::span(k.seed))},
                             {"x", Base64UrlEncode(std::span(k.public_key))},
                             {"created", k.created_s},
                             {"active", k.active}});
    }
    std::string text = ToJsonText(j, 2) + "\n";
    const std::string tmp = path + ".tmp";
    // O_EXCL: a stale .tmp (or a link someone planted) is never written through.
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(ErrorCode::InvalidArgument, tmp + ": " + std::strerror(errno));
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ok = ::close(fd) == 0 && ok;
    sodium_memzero(text.data(), text.size());
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return MakeError(ErrorCode::InvalidArgument, path + ": cannot be written: " + why);
    }
    return {};
}

std::string KeyRing::Rotate() {
    for (auto& k : keys_) k.active = false;
    keys_.push_back(NewKey(true));
    return keys_.back().kid;
}

bool KeyRing::Remove(const std::string& kid) {
    for (auto it = keys_.begin(); it != keys_.end(); ++it) {
        if (it->kid == kid && !it->active) {
            keys_.erase(it);
            return true;
        }
    }
    return false;
}

const SigningKey& KeyRing::active() const {
    for (const auto& k : keys_)
        if (k.active) return k;
    return keys_.front();  // unreachable: Generate and Load guarantee one active key
}

nlohmann::json KeyRing::Jwks() const {
    nlohmann::json keys = nlohmann::json::array();
    const auto add = [&](const SigningKey& k) {
        keys.push_back({{"kty", "OKP"},
                        {"crv", "Ed25519"},
                        {"x", Base64UrlEncode(std::span(k.public_key))},
                        {"kid", k.kid},
                        {"use", "sig"},
                        {"alg", "EdDSA"}});
    };
    add(active());
    for (const auto& k : keys_)
        if (!k.active) add(k);
    return {{"keys", keys}};
}

std::string KeyRing::Sign(const nlohmann::json& claims) const {
    const SigningKey& k = active();
    nlohmann::ordered_json header;
    header["alg"] = "EdDSA";
    header["typ"] = kVerdictType;
    header["kid"] = k.kid;
    const std::string input =
        Base64UrlEncode(ToJsonText(header)) + "." + Base64UrlEncode(ToJsonText(claims));
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
    std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pub{};
    crypto_sign_seed_keypair(pub.data(), secret.data(), k.seed.data());
    std::array<std::uint8_t, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(input.data()),
                         input.size(), secret.data());
    sodium_memzero(secret.data(), secret.size());
    return input + "." + Base64UrlEncode(std::span(sig));
}

Expected<nlohmann::json> KeyRing::Verify(std::string_view jws) const {
    const auto bad = [](const std::string& why) {
        return MakeError(ErrorCode::InvalidArgument, why);
    };
    if (jws.size() > kMaxJwsBytes) return bad("the token is longer than 64 KiB");
    const auto dot1 = jws.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : jws.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || jws.find('.', dot2 + 1) != std::string_view::npos)
        return bad("a compact JWS has three parts separated by '.'");
    auto header_bytes = Base64UrlDecode(jws.substr(0, dot1), kMaxHeaderBytes);
    if (!header_bytes) return bad("the header is not base64url (or over 1 KiB)");
    auto header = ParseJsonObject(std::string_view(
        reinterpret_cast<const char*>(header_bytes->data()), header_bytes->size()));
    if (!header) return bad("the header is not a JSON object");
    const auto str = [&](const char* name) {
        return header->contains(name) && (*header)[name].is_string()
                   ? (*header)[name].get<std::string>()
                   : std::string();
    };
    const std::string alg = str("alg");
    if (alg != "EdDSA" && alg != "Ed25519") return bad("alg must be EdDSA or Ed25519");
    if (header->contains("crit")) return bad("no critical header extension is understood");
    const std::string kid = str("kid");
    const SigningKey* key = nullptr;
    for (const auto& k : keys_)
        if (k.kid == kid) key = &k;
    if (key == nullptr) return bad("unknown kid");
    auto sig = Base64UrlDecode(jws.substr(dot2 + 1), crypto_sign_BYTES);
    if (!sig || sig->size() != crypto_sign_BYTES) return bad("the signature is not 64 bytes");
    const std::string_view input = jws.substr(0, dot2);
    if (crypto_sign_verify_detached(sig->data(),
                                    reinterpret_cast<const unsigned char*>(input.data()),
                                    input.size(), key->public_key.data()) != 0) {
        return bad("the signature does not verify");
    }
    auto payload = Base64UrlDecode(jws.substr(dot1 + 1, dot2 - dot1 - 1), kMaxJwsBytes);
    if (!payload) return bad("the payload is not base64url");
    auto claims = ParseJsonObject(
        std::string_view(reinterpret_cast<const char*>(payload->data()), payload->size()));
    if (!claims) return bad("the payload is not a JSON object");
    return *claims;
}

}  // namespace liveproof::verdict
