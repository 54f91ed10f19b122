// libFuzzer target: base64 decoding must never over-read, and must round-trip what it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto decoded = liveproof::media::DecodeBase64(text, 1 << 20);
    if (decoded) {
        const std::string again = liveproof::media::EncodeBase64(*decoded);
        auto round = liveproof::media::DecodeBase64(again, 1 << 20);
        if (!round || *round != *decoded) __builtin_trap();
    }
    return 0;
}
