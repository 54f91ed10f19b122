// System C's machine code and offline licence activation (Ed25519-signed statements).
#pragma once

#include <ctime>
#include <mutex>
#include <optional>
#include <string>

namespace liveproof::licence {

/// @brief Activation outcome codes, as system C's SDK_ERROR (0 success, -1 invalid, -3 expired).
enum class LicenceStatus : int { Ok = 0, Invalid = -1, Expired = -3 };

/// @brief The text of a small file (a licence, /etc/machine-id), trailing whitespace trimmed;
/// nullopt when it cannot be read, is empty or holds more than 4096 bytes. Reads at most that
/// many bytes, so a path such as /dev/zero cannot make it read forever.
std::optional<std::string> ReadLicenceFile(const std::string& path);

/// @brief A stable fingerprint of this host: "LP1-" + 32 hex of SHA-256(/etc/machine-id, else
/// the host name).
std::string MachineCode();

/// @brief True when @p public_key_b64 is the base64 of a 32-byte Ed25519 public key (checked at
/// start-up: a malformed key would make every system C call answer 403).
bool LicenceKeyWellFormed(const std::string& public_key_b64);

/// @brief Verifies base64url(JSON {"machine_code","expires"}) "." base64url(Ed25519 signature)
/// against a base64 public key, for machine_code and time now. `expires` is Unix seconds.
LicenceStatus VerifyLicence(const std::string& public_key_b64, const std::string& licence,
                            const std::string& machine_code, std::time_t now);

/// @brief VerifyLicence's checks that need no key (the form, the machine code, the expiry), for
/// a server that enforces nothing: garbage is still Invalid.
LicenceStatus CheckLicenceWithoutKey(const std::string& licence, const std::string& machine_code,
                                     std::time_t now);

/// @brief WHAT THIS OBJECT REPRESENTS: whether this server is activated. Enforcement is off
/// (always activated) unless a public key is configured.
/// THREAD SAFETY: all members are thread-safe.
class LicenceState {
  public:
    /// @brief Loads a previously accepted licence from licence_file when enforcement is on.
    LicenceState(std::string public_key_b64, std::string licence_file);
    /// @brief True when enforcement is off or a valid licence was accepted.
    bool Activated();
    /// @brief Verifies and, on success, keeps (and writes to licence_file) the licence. Without
    /// enforcement nothing is kept, and only CheckLicenceWithoutKey's checks apply.
    LicenceStatus Activate(const std::string& licence);
    /// @brief True when a public key is configured.
    [[nodiscard]] bool enforced() const { return !public_key_.empty(); }

  private:
    std::string public_key_;
    std::string file_;
    std::string machine_code_;
    std::string licence_;
    std::mutex mutex_;
};

}  // namespace liveproof::licence
