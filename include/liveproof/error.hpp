// Error codes shared by every layer; each maps to one HTTP status in the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "liveproof/export.hpp"

namespace liveproof {

/// @brief What went wrong, banded by subsystem (1xx input, 2xx media, 3xx video, 4xx models, 9xx
/// internal).
enum class ErrorCode : std::uint16_t {
    Ok = 0,
    InvalidArgument = 100,     ///< a caller-supplied option or parameter is out of range
    EmptyInput = 101,          ///< zero bytes were given
    InputTooLarge = 102,       ///< byte size over the configured cap
    InvalidEncoding = 103,     ///< base64 or multipart framing that cannot be parsed
    InvalidJson = 104,         ///< JSON text that cannot be parsed (syntax, UTF-8, depth, range)
    TimeBudgetExceeded = 105,  ///< decoding or analysis took longer than the configured budget
    UnsupportedFormat = 200,   ///< not a recognised image container
    ImageTooLarge = 201,       ///< pixel count or a side over the cap (read from the header)
    CorruptImage = 202,        ///< header or data could not be decoded
    VideoUnsupported = 300,    ///< not a recognised video container
    VideoTooLarge = 301,       ///< bytes, frame size or frame count over the cap
    VideoTooLong = 302,        ///< duration over the cap
    VideoUndecodable = 303,    ///< the container opened but yielded no frames
    ModelMissing = 400,        ///< a model file is absent
    ModelCorrupt = 401,        ///< a model file does not match its manifest sha256 or fails to load
    ManifestInvalid = 402,     ///< the manifest cannot be read
    Internal = 900,            ///< a bug or an unexpected library failure
};

/// @brief A failure with a stable code and a human-readable detail (never secrets or image data).
struct Error {
    ErrorCode code = ErrorCode::Internal;  ///< machine-readable reason
    std::string detail;                    ///< what was wrong, for people
};

/// @brief Stable snake_case name of a code, used as the JSON "error" field.
LIVEPROOF_EXPORT std::string_view ErrorCodeName(ErrorCode code);

}  // namespace liveproof
