// Reads an encoded image's format, size and EXIF orientation from its header, without decoding.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "liveproof/expected.hpp"

namespace liveproof::media {

/// @brief Container formats the decoder accepts.
enum class ImageFormat { Jpeg, Png, Bmp, WebP };

/// @brief What the header says about an image.
struct ImageHeader {
    ImageFormat format = ImageFormat::Jpeg;  ///< container
    int width = 0;                           ///< stored width (before EXIF orientation)
    int height = 0;                          ///< stored height
    int exif_orientation = 1;                ///< EXIF tag 0x0112 (1..8), 1 when absent
};

/// @brief Name of a format for messages ("jpeg", "png", ...).
std::string_view FormatName(ImageFormat format);

/// @brief Parses the header. Fails with UnsupportedFormat for unknown magic bytes and
/// CorruptImage for a header that ends early or holds impossible sizes.
Expected<ImageHeader> ReadImageHeader(std::span<const std::uint8_t> bytes);

}  // namespace liveproof::media
