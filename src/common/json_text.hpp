// The one way client bytes become JSON values and JSON values become text: bounded, never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "liveproof/error.hpp"
#include "liveproof/expected.hpp"

namespace liveproof {

/// @brief How deep JSON from outside may nest. The APIs' bodies are two levels deep; without a
/// cap 24 MB of "[" builds millions of nested arrays (gigabytes) before any shape check runs.
inline constexpr int kMaxJsonDepth = 16;

/// @brief Parses JSON text from any source (HTTP bodies, WebSocket messages, config files,
/// labels). Never throws: syntax errors, invalid UTF-8, nesting deeper than @p max_depth and
/// numbers outside double range (`1e400`) all come back as InvalidJson with a detail that names
/// the problem (and the byte offset where the parser knows it) without echoing the input.
/// @requires max_depth >= 1.
Expected<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

/// @brief ParseJson, then requires an object ("the body must be a JSON object").
Expected<nlohmann::json> ParseJsonObject(std::string_view text, int max_depth = kMaxJsonDepth);

/// @brief JSON text of a value. Never throws: invalid UTF-8 in any string (an echoed path, a
/// client's field name) is replaced by U+FFFD instead of throwing as nlohmann's dump() does.
/// @param indent -1 for compact output, else spaces per level.
std::string ToJsonText(const nlohmann::json& value, int indent = -1) noexcept;
/// @brief ToJsonText for insertion-ordered JSON (system A's messages keep their key order).
std::string ToJsonText(const nlohmann::ordered_json& value, int indent = -1) noexcept;

/// @brief True when @p text is valid UTF-8 (RFC 3629: no overlong forms, surrogates or code
/// points above U+10FFFF).
bool IsValidUtf8(std::string_view text);

/// @brief @p text with every invalid UTF-8 sequence replaced by U+FFFD and control characters
/// (newlines included) replaced by '?': safe to put in a log line or an error detail.
std::string PrintableUtf8(std::string_view text);

}  // namespace liveproof
