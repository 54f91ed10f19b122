// Base64url without padding (RFC 4648 §5), the encoding of JWS and JWK fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace liveproof::verdict {

/// @brief The base64url text of @p bytes, without '=' padding.
std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
/// @brief The same for text bytes.
std::string Base64UrlEncode(std::string_view text);
/// @brief The bytes of unpadded base64url text; nullopt for any other character, padding, an
/// impossible length, or more than @p max_bytes decoded bytes.
std::optional<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text,
                                                         std::size_t max_bytes);

}  // namespace liveproof::verdict
