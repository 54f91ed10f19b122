// The fingerprint of a JPEG's quantisation tables: one camera and encoder keep them for a whole
// session, so a change within a session says the frames came from different sources.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace liveproof::media {

/// @brief A 64-bit hash of every DQT segment before the first SOS, or nullopt when the bytes
/// are not a JPEG or hold no table. Reads at most 64 marker segments (hostile input).
std::optional<std::uint64_t> JpegQuantTablesDigest(std::span<const std::uint8_t> bytes);

}  // namespace liveproof::media
