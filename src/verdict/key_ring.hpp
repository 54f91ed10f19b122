// The server's Ed25519 signing keys: a key file, its JWKS, and compact JWS over verdicts.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::verdict {

/// @brief The JWS header's "typ" of a verdict.
inline constexpr std::string_view kVerdictType = "liveproof-verdict+jwt";

/// @brief One Ed25519 key pair.
struct SigningKey {
    std::string kid;  ///< key id: base64url of the first 12 bytes of SHA-256(public)
    std::array<std::uint8_t, 32> seed{};  ///< the private seed (libsodium seed_keypair)
    std::array<std::uint8_t, 32> public_key{};
    std::int64_t created_s = 0;  ///< Unix seconds
    bool active = false;         ///< the one that signs (exactly one per ring)
};

/// @brief WHAT THIS OBJECT REPRESENTS: the keys a server signs verdicts with, and publishes.
/// Several keys for rotation: one active (signs), the others only verify until removed.
/// Key file (JSON, mode 0600): {"keys": [{"kid", "d" (base64url seed), "x" (base64url public),
/// "created" (Unix s), "active" (bool)}]}.
/// THREAD SAFETY: const functions are thread-safe; the others are for start-up and the CLI.
class KeyRing {
  public:
    /// @brief A ring with one new active key (libsodium's CSPRNG).
    static KeyRing Generate();
    /// @brief Reads a key file. Refuses a file others may read or write (mode & 007), a file
    /// with no key, no or several active keys, a public key that does not match its seed, or
    /// duplicate kids; errors say which.
    static Expected<KeyRing> Load(const std::string& path);
    /// @brief Load, or when the file does not exist, Generate and Save; @p created tells which.
    static Expected<KeyRing> LoadOrCreate(const std::string& path, bool* created);

    /// @brief Writes the file with mode 0600 (a temporary file renamed over it).
    Expected<void> Save(const std::string& path) const;
    /// @brief Rotation: adds a new key and makes it the active one; older keys stay (verify
    /// only). Returns the new kid.
    std::string Rotate();
    /// @brief Removes a non-active key; false when unknown or active.
    bool Remove(const std::string& kid);

    /// @brief The public keys as a JWK Set: {"keys": [{"kty":"OKP","crv":"Ed25519","x","kid",
    /// "use":"sig","alg":"EdDSA"}]}, active key first.
    [[nodiscard]] nlohmann::json Jwks() const;
    /// @brief Compact JWS (header {"alg":"EdDSA","typ":kVerdictType,"kid"}) over @p claims with
    /// the active key.
    [[nodiscard]] std::string Sign(const nlohmann::json& claims) const;
    /// @brief Checks a compact JWS made by any key of the ring: three base64url parts, header
    /// alg "EdDSA" or "Ed25519" (RFC 9864), a known kid, a valid signature; returns the claims.
    /// Expiry is the caller's business (the claims carry exp).
    [[nodiscard]] Expected<nlohmann::json> Verify(std::string_view jws) const;

    [[nodiscard]] const std::vector<SigningKey>& keys() const { return keys_; }
    [[nodiscard]] const SigningKey& active() const;

  private:
    std::vector<SigningKey> keys_;
};

}  // namespace liveproof::verdict
