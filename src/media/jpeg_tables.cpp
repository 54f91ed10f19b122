// Walks a JPEG's marker segments up to the first scan, hashing the DQT payloads (FNV-1a).
#include "media/jpeg_tables.hpp"

namespace liveproof::media {

std::optional<std::uint64_t> JpegQuantTablesDigest(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return std::nullopt;
    constexpr int kMaxSegments = 64;
    std::uint64_t hash = 1469598103934665603ull;
    bool any = false;
    std::size_t pos = 2;
    for (int segment = 0; segment < kMaxSegments && pos + 4 <= bytes.size(); ++segment) {
        if (bytes[pos] != 0xFF) return std::nullopt;
        const std::uint8_t marker = bytes[pos + 1];
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) break;  // start of scan / end of image
        const std::size_t length = (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
        if (length < 2 || pos + 2 + length > bytes.size()) return std::nullopt;
        if (marker == 0xDB) {
            any = true;
            for (std::size_t i = pos + 4; i < pos + 2 + length; ++i) {
                hash = (hash ^ bytes[i]) * 1099511628211ull;
            }
        }
        pos += 2 + length;
    }
    if (!any) return std::nullopt;
    return hash;
}

}  // namespace liveproof::media
