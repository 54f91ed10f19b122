// libFuzzer target: system C's licence check (src/server/licence): forged text never activates,
// and the JSON behind a valid signature is judged exactly as documented.
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/json_text.hpp"
#include "fuzz_support.hpp"
#include "licence/licence.hpp"
#include "media/base64.hpp"

namespace {

using liveproof::licence::LicenceStatus;

struct Keys {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    std::string pk_b64;
    std::string machine_code;
};

const Keys& TheKeys() {
    static const Keys keys = [] {
        liveproof::fuzz::QuietProcess();
        Keys k;
        crypto_sign_keypair(k.pk, k.sk);
        k.pk_b64 = liveproof::media::EncodeBase64(std::span<const std::uint8_t>(k.pk));
        k.machine_code = liveproof::licence::MachineCode();
        return k;
    }();
    return keys;
}

std::string B64(std::span<const std::uint8_t> bytes, bool url) {
    std::string s = liveproof::media::EncodeBase64(bytes);
    if (!url) return s;
    for (char& c : s) c = c == '+' ? '-' : (c == '/' ? '_' : c);
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
}

// What VerifyLicence must answer for a correctly signed payload (licence.hpp): the payload is a
// JSON object whose "machine_code" is this machine's and whose "expires" (Unix seconds, an
// integer: a float or a boolean is Invalid) is not before now.
LicenceStatus Oracle(std::string_view payload, const std::string& machine_code, std::time_t now) {
    auto j = liveproof::ParseJsonObject(payload);
    if (!j) return LicenceStatus::Invalid;
    const auto mc = j->find("machine_code");
    if (mc == j->end() || !mc->is_string() || mc->get<std::string>() != machine_code)
        return LicenceStatus::Invalid;
    const auto ex = j->find("expires");
    if (ex == j->end()) return LicenceStatus::Invalid;
    std::int64_t expires = 0;
    if (ex->is_number_unsigned()) {
        expires = static_cast<std::int64_t>(ex->get<std::uint64_t>());  // wraps, as nlohmann does
    } else if (ex->is_number_integer()) {
        expires = ex->get<std::int64_t>();
    } else {
        return LicenceStatus::Invalid;
    }
    return expires < static_cast<std::int64_t>(now) ? LicenceStatus::Expired : LicenceStatus::Ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using liveproof::fuzz::Fail;
    namespace lic = liveproof::licence;
    const Keys& k = TheKeys();
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::time_t now = std::time_t{1'700'000'000} + std::time_t{mode >> 4} * 100'000'000;

    switch (mode % 3) {
        case 0: {
            // Arbitrary text: nobody without the secret key gets Ok, or even Expired (which is
            // only answered behind a valid signature).
            if (lic::VerifyLicence(k.pk_b64, rest, k.machine_code, now) != LicenceStatus::Invalid)
                Fail("licence", "unsigned text was accepted: " + rest);
            break;
        }
        case 1: {
            // The JSON part behind a valid signature. "@MC@" stands for this machine's code, so
            // that seeds (and mutations) reach the expiry check.
            std::string text = rest;
            for (auto p = text.find("@MC@"); p != std::string::npos; p = text.find("@MC@", p))
                text.replace(p, 4, k.machine_code);
            const auto payload = std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
            unsigned char sig[crypto_sign_BYTES];
            crypto_sign_detached(sig, nullptr, payload.data(), payload.size(), k.sk);
            const bool url = (mode & 8) != 0;
            const std::string licence = B64(payload, url) + "." + B64(sig, url);
            const LicenceStatus want =
                licence.size() > 4096 ? LicenceStatus::Invalid : Oracle(text, k.machine_code, now);
            const LicenceStatus got = lic::VerifyLicence(k.pk_b64, licence, k.machine_code, now);
            if (got != want)
                Fail("licence", "signed payload judged " + std::to_string(static_cast<int>(got)) +
                                    ": " + text);
            // A licence for another machine, or checked against another key, never passes.
            if (lic::VerifyLicence(k.pk_b64, licence, k.machine_code + "x", now) ==
                LicenceStatus::Ok)
                Fail("licence", "accepted for another machine");
            break;
        }
        default: {
            // The public key setting itself (checked at start-up) and verification under it.
            const bool well_formed = lic::LicenceKeyWellFormed(rest);
            auto decoded = liveproof::media::DecodeBase64(rest, 64);
            if (well_formed != (decoded && decoded->size() == crypto_sign_PUBLICKEYBYTES))
                Fail("licence", "LicenceKeyWellFormed disagrees with the decoder");
            // A valid licence passes only under the key that signed it.
            const std::string good =
                "{\"machine_code\": \"" + k.machine_code + "\", \"expires\": 4000000000}";
            const auto payload = std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(good.data()), good.size());
            unsigned char sig[crypto_sign_BYTES];
            crypto_sign_detached(sig, nullptr, payload.data(), payload.size(), k.sk);
            const std::string licence = B64(payload, true) + "." + B64(sig, true);
            const bool ours = decoded && decoded->size() == crypto_sign_PUBLICKEYBYTES &&
                              std::equal(decoded->begin(), decoded->end(), k.pk);
            const bool ok =
                lic::VerifyLicence(rest, licence, k.machine_code, now) == LicenceStatus::Ok;
            if (ok != ours) Fail("licence", "key/signature mismatch judged wrongly: " + rest);
            break;
        }
    }
    return 0;
}
