// A frame's luminance at fixed points: what tells the same picture sent again (re-encoded, its
// metadata or a few pixels edited) from a new frame of a live camera, whose sensor noise alone
// changes most points.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>
#include <vector>

namespace liveproof::media {

/// Grid of the fingerprint: points spread evenly over the whole frame.
inline constexpr int kFingerprintCols = 32;
inline constexpr int kFingerprintRows = 24;

/// @brief The 8-bit luminance (BT.601 weights) of @p bgr (CV_8UC3) at the centres of a
/// kFingerprintCols x kFingerprintRows grid, one pixel each: no averaging, so that a camera's
/// noise stays in it. Empty for an empty image.
std::vector<std::uint8_t> LumaFingerprint(const cv::Mat& bgr);

/// @brief How many points of two fingerprints differ by more than @p tolerance levels; the
/// number of points when their sizes differ.
int FingerprintDistance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                        int tolerance);

}  // namespace liveproof::media
