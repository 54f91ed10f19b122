// Key ids and the constant-time match of a presented key.
#include "server/api_keys.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace liveproof::server {

namespace {

using Digest = std::array<unsigned char, crypto_hash_sha256_BYTES>;

Digest Sha256(const std::string& text) {
    Digest d{};
    crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
    return d;
}

bool IdChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

}  // namespace

ApiKey ParseApiKey(const std::string& entry) {
    const auto colon = entry.find(':');
    if (colon != std::string::npos && colon >= 1 && colon <= 64 && colon + 1 < entry.size() &&
        std::all_of(entry.begin(), entry.begin() + static_cast<std::ptrdiff_t>(colon), IdChar)) {
        return {entry.substr(0, colon), entry.substr(colon + 1)};
    }
    const Digest d = Sha256(entry);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id = "key-";
    for (int i = 0; i < 4; ++i) {
        id += kHex[d[static_cast<std::size_t>(i)] >> 4];
        id += kHex[d[static_cast<std::size_t>(i)] & 0xF];
    }
    return {id, entry};
}

std::optional<std::string> MatchApiKey(const std::string& presented,
                                       const std::vector<std::string>& entries) {
    const Digest given = Sha256(presented);
    std::optional<std::string> found;
    for (const auto& entry : entries) {
        const ApiKey key = ParseApiKey(entry);
        const Digest want = Sha256(key.secret);
        // Every key is hashed and compared; only the bookkeeping differs on a match.
        const bool same = sodium_memcmp(given.data(), want.data(), given.size()) == 0;
        if (same && !found) found = key.id;
    }
    if (presented.empty()) return std::nullopt;
    return found;
}

}  // namespace liveproof::server
