// Turns encoded image bytes into an upright 8-bit BGR matrix, enforcing the caps first.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"
#include "liveproof/types.hpp"
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

/// @brief What a walk over a JPEG's scans found.
struct JpegScanWalk {
    int scans = 0;       ///< SOS segments seen
    bool ended = false;  ///< the EOI marker was reached where the segments end
};

/// @brief Walks a JPEG from its first scan over segment lengths and entropy-coded data, counting
/// scans (SOS) up to @p stop_after (the walk stops there: a scan bomb costs one pass at most)
/// and stopping at EOI; bytes after EOI (trailers, appended data) are not read. Malformed input
/// gives a result the decoder then rejects anyway.
JpegScanWalk WalkJpegScans(std::span<const std::uint8_t> bytes, int stop_after);

/// @brief WalkJpegScans(bytes, stop_after).scans.
int CountJpegScans(std::span<const std::uint8_t> bytes, int stop_after);

/// @brief Applies an EXIF orientation (1..8) so that the image is upright.
cv::Mat ApplyExifOrientation(const cv::Mat& image, int orientation);

/// @brief Where a point of the upright image (ApplyExifOrientation's output; continuous
/// coordinates, a pixel's centre at +0.5) lies in the stored pixel grid of @p stored_width x
/// @p stored_height: the inverse of the orientation, for clients that crop the raw pixels.
Point2 UprightToStored(Point2 upright, int orientation, int stored_width, int stored_height);

}  // namespace liveproof::media
