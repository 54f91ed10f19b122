// Offline licence checks with libsodium; nothing here phones home.
#include "licence/licence.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/json_text.hpp"
#include "engine/models.hpp"
#include "media/base64.hpp"

namespace liveproof::licence {

namespace {
constexpr std::size_t kMaxLicenceBytes = 4096;
}  // namespace

std::optional<std::string> ReadLicenceFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(kMaxLicenceBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (in.bad() || text.empty() || text.size() > kMaxLicenceBytes) return std::nullopt;
    return text;
}

std::string MachineCode() {
    std::string id = ReadLicenceFile("/etc/machine-id").value_or("");
    if (id.empty()) {
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        id = host;
    }
    const std::string hex = engine::Sha256Hex(std::vector<std::uint8_t>(id.begin(), id.end()));
    return "LP1-" + hex.substr(0, 32);
}

bool LicenceKeyWellFormed(const std::string& public_key_b64) {
    auto key = media::DecodeBase64(public_key_b64, 64);
    return key && key->size() == crypto_sign_PUBLICKEYBYTES;
}

namespace {

struct LicenceParts {
    std::vector<std::uint8_t> payload;
    std::vector<std::uint8_t> signature;
};

// base64url(statement) "." base64url(64-byte signature), or nullopt for any other text.
std::optional<LicenceParts> SplitLicence(const std::string& licence) {
    if (licence.empty() || licence.size() > kMaxLicenceBytes) return std::nullopt;
    const auto dot = licence.find('.');
    if (dot == std::string::npos) return std::nullopt;
    auto payload = media::DecodeBase64(licence.substr(0, dot), kMaxLicenceBytes);
    auto sig = media::DecodeBase64(licence.substr(dot + 1), 128);
    if (!payload || !sig || sig->size() != crypto_sign_BYTES) return std::nullopt;
    return LicenceParts{std::move(*payload), std::move(*sig)};
}

// What the statement says: this machine, not expired.
LicenceStatus CheckStatement(const std::vector<std::uint8_t>& payload,
                             const std::string& machine_code, std::time_t now) {
    const auto j = ParseJsonObject(
        std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
    if (!j) return LicenceStatus::Invalid;
    try {
        if (j->at("machine_code").get<std::string>() != machine_code) return LicenceStatus::Invalid;
        // An integer only: converting a float such as 1e30 to int64 is undefined behaviour.
        if (!j->at("expires").is_number_integer()) return LicenceStatus::Invalid;
        if (j->at("expires").get<std::int64_t>() < static_cast<std::int64_t>(now)) {
            return LicenceStatus::Expired;
        }
    } catch (const nlohmann::json::exception&) {
        return LicenceStatus::Invalid;
    }
    return LicenceStatus::Ok;
}

}  // namespace

LicenceStatus VerifyLicence(const std::string& public_key_b64, const std::string& licence,
                            const std::string& machine_code, std::time_t now) {
    const auto parts = SplitLicence(licence);
    auto key = media::DecodeBase64(public_key_b64, 64);
    if (!parts || !key || key->size() != crypto_sign_PUBLICKEYBYTES) return LicenceStatus::Invalid;
    if (crypto_sign_verify_detached(parts->signature.data(), parts->payload.data(),
                                    parts->payload.size(), key->data()) != 0) {
        return LicenceStatus::Invalid;
    }
    return CheckStatement(parts->payload, machine_code, now);
}

LicenceStatus CheckLicenceWithoutKey(const std::string& licence, const std::string& machine_code,
                                     std::time_t now) {
    const auto parts = SplitLicence(licence);
    if (!parts) return LicenceStatus::Invalid;
    return CheckStatement(parts->payload, machine_code, now);
}

LicenceState::LicenceState(std::string public_key_b64, std::string licence_file)
    : public_key_(std::move(public_key_b64)),
      file_(std::move(licence_file)),
      machine_code_(MachineCode()) {
    if (enforced() && !file_.empty()) {
        const std::string stored = ReadLicenceFile(file_).value_or("");
        if (!stored.empty() && Activate(stored) != LicenceStatus::Ok) {
            spdlog::warn("the stored licence in {} is not valid for this machine", file_);
        }
    }
}

bool LicenceState::Activated() {
    if (!enforced()) return true;
    std::lock_guard lock(mutex_);
    // Re-checked on every call so that expiry takes effect without a restart.
    return !licence_.empty() && VerifyLicence(public_key_, licence_, machine_code_,
                                              std::time(nullptr)) == LicenceStatus::Ok;
}

LicenceStatus LicenceState::Activate(const std::string& licence) {
    // Nothing is enforced without a key, but text that is no licence for this machine is still
    // refused, as system C refuses it (a client must not be told "activated" for garbage).
    if (!enforced()) return CheckLicenceWithoutKey(licence, machine_code_, std::time(nullptr));
    const LicenceStatus s = VerifyLicence(public_key_, licence, machine_code_, std::time(nullptr));
    if (s != LicenceStatus::Ok) return s;
    std::lock_guard lock(mutex_);
    licence_ = licence;
    if (!file_.empty()) {
        std::ofstream out(file_, std::ios::trunc);
        out << licence << "\n";
        if (!out) spdlog::warn("could not write the licence to {}", file_);
    }
    return LicenceStatus::Ok;
}

}  // namespace liveproof::licence
