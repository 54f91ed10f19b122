// Turns encoded image bytes into an upright 8-bit BGR matrix, enforcing the caps first.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "media/image_header.hpp"

namespace liveproof::media {

/// @brief A decoded, upright image.
struct DecodedImage {
    cv::Mat bgr;         ///< CV_8UC3, EXIF orientation applied
    ImageHeader header;  ///< what the header said (stored size, orientation)
};

/// @brief Checks byte size, header and pixel caps, then decodes. Grey, RGBA, 16-bit and CMYK
/// inputs come out as 8-bit BGR; a JPEG without its end marker is rejected as truncated, one
/// with more than limits.max_jpeg_scans scans as ImageTooLarge.
Expected<DecodedImage> DecodeImage(std::span<const std::uint8_t> bytes, const MediaLimits& limits);

/// @brief The number of scans (SOS segments) of a JPEG, counting at most @p stop_after (the walk
/// stops there, so a scan bomb costs one pass over its bytes at most). Walks segment lengths and
/// entropy-coded data; malformed input gives a count the decoder then rejects anyway.
int CountJpegScans(std::span<const std::uint8_t> bytes, int stop_after);

/// @brief Applies an EXIF orientation (1..8) so that the image is upright.
cv::Mat ApplyExifOrientation(const cv::Mat& image, int orientation);

}  // namespace liveproof::media
