// multipart/form-data (RFC 7578 over RFC 2046) parsing for image and video uploads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::server {

/// @brief Largest header block of one part, in bytes (lines and their CRLFs, not the blank line).
inline constexpr std::size_t kMaxPartHeaderBytes = 8192;

/// @brief Longest boundary RFC 2046 allows.
inline constexpr std::size_t kMaxBoundaryLength = 70;

/// @brief One part of a multipart/form-data body.
///
/// THREAD SAFETY: a plain value type; @c data views into the parsed body, which must outlive it.
struct MultipartPart {
    std::string name;          ///< Content-Disposition name (the form field)
    std::string filename;      ///< Content-Disposition filename, empty when absent
    std::string content_type;  ///< the part's Content-Type as sent (trimmed), empty when absent
    std::string_view data;     ///< the part's bytes, a view into the body passed to ParseMultipart
};

/// @brief Extracts the boundary parameter from a Content-Type header value such as
/// "multipart/form-data; charset=utf-8; boundary=\"a b;c\"": parameters in any order, quoted or
/// token values, case-insensitive media type and parameter names, optional whitespace. Fails with
/// InvalidEncoding for another media type, a missing, empty, duplicated or over-70-character
/// boundary, or one holding control or non-ASCII characters (they could never delimit a line).
Expected<std::string> MultipartBoundary(std::string_view content_type);

/// @brief Parses a multipart/form-data body in one linear pass, never reading outside @p body.
///
/// A preamble before the first delimiter and an epilogue after the close delimiter are ignored;
/// spaces and tabs after a delimiter are allowed. "CRLF--boundary" followed by anything other than
/// padding+CRLF or "--" is part of the data, as is the boundary text anywhere else. Fails with
/// InvalidEncoding when there is no opening or no close delimiter (a truncated body), a part lacks
/// a form-data Content-Disposition with a name (or has two), a header block exceeds
/// kMaxPartHeaderBytes, or there are more than @p max_parts parts; with InvalidArgument when
/// @p boundary itself is empty, too long or holds control characters.
Expected<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                    std::string_view boundary,
                                                    std::size_t max_parts = 16);

/// @brief The first part whose field name is @p name, or nullptr.
const MultipartPart* FindPart(const std::vector<MultipartPart>& parts, std::string_view name);

}  // namespace liveproof::server
