// Base64 (RFC 4648) decoding of JSON/data-URL image payloads and encoding for responses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::media {

/// @brief Decodes standard or URL-safe base64 (A-Z a-z 0-9 + / and - _; both alphabets may be
/// mixed), ignoring ASCII whitespace (space, \\t, \\r, \\n) anywhere and an optional leading
/// "data:<anything>;base64," prefix ("data:" and ";base64" case-insensitive). Padding is
/// optional, but when present it must be exactly what the length requires. Non-zero trailing
/// bits in the last group are accepted (RFC 4648 section 3.5 leaves that to the decoder).
///
/// Fails with EmptyInput when nothing is left after stripping, InputTooLarge when the decoded
/// size would exceed @p max_decoded_bytes (decided while scanning, before any allocation, and
/// as soon as the cap is passed so a huge payload is not scanned to its end), and
/// InvalidEncoding with the offset (into @p text) of the first bad character or padding.
Expected<std::vector<std::uint8_t>> DecodeBase64(std::string_view text,
                                                 std::size_t max_decoded_bytes);

/// @brief Encodes with the standard alphabet and '=' padding, without line breaks.
std::string EncodeBase64(std::span<const std::uint8_t> bytes);

}  // namespace liveproof::media
