// API keys with ids: `id:secret` entries (or plain secrets, which get an id derived from their
// hash), matched in constant time, so that sessions and the audit trail name a key without ever
// storing its secret.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace liveproof::server {

/// @brief One configured key: the id the audit trail shows, and the secret a client presents.
struct ApiKey {
    std::string id;
    std::string secret;
};

/// @brief Reads one `api_keys` entry: `id:secret` when id is 1-64 of [A-Za-z0-9_.-] and the
/// secret is non-empty, else the whole entry is the secret and the id is "key-" + the first 8
/// hex digits of its SHA-256 (stable, says nothing useful about the secret).
ApiKey ParseApiKey(const std::string& entry);

/// @brief The id of the configured key @p presented matches, or nullopt. Every key is compared
/// (no early exit) on SHA-256 digests, so neither content nor length leaks.
std::optional<std::string> MatchApiKey(const std::string& presented,
                                       const std::vector<std::string>& entries);

/// @brief True when @p presented matches a configured key.
inline bool ApiKeyMatches(const std::string& presented, const std::vector<std::string>& entries) {
    return MatchApiKey(presented, entries).has_value();
}

}  // namespace liveproof::server
