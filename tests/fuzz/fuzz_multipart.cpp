// libFuzzer target: multipart/form-data parsing; parts must lie inside the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // First line (up to 100 bytes) is a Content-Type value; the rest is the body.
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = all.find('\n');
    if (nl == std::string_view::npos || nl > 100) return 0;
    const std::string body(all.substr(nl + 1));  // exact-size heap copy: ASan sees over-reads
    auto boundary = liveproof::server::MultipartBoundary(all.substr(0, nl));
    if (!boundary) return 0;
    auto parts = liveproof::server::ParseMultipart(body, *boundary);
    if (parts) {
        for (const auto& p : *parts) {
            // An empty view may point anywhere; a non-empty one must lie inside the body.
            if (!p.data.empty() && (p.data.data() < body.data() ||
                                    p.data.data() + p.data.size() > body.data() + body.size())) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
