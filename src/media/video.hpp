// Decodes a short video held in memory, frame by frame, inside the configured caps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <span>

#include "liveproof/expected.hpp"
#include "liveproof/options.hpp"

namespace liveproof::media {

/// @brief What the container says.
struct VideoInfo {
    double fps = 0;       ///< frames per second (0 if unknown)
    int width = 0;        ///< frame width
    int height = 0;       ///< frame height
    int frames_read = 0;  ///< frames delivered to the callback
};

/// @brief Container families accepted (sniffed from magic bytes before FFmpeg sees the data).
enum class VideoContainer { Mp4, Matroska, Avi };

/// @brief Identifies the container from its leading bytes, or fails with VideoUnsupported.
Expected<VideoContainer> SniffVideo(std::span<const std::uint8_t> bytes);

/// @brief Calls on_frame(index, bgr) for each frame. The bytes go to a private in-memory file
/// (memfd), never to disk. Fails with VideoTooLarge / VideoTooLong as soon as a cap is passed,
/// and with VideoUndecodable when no frame decodes. Fails with TimeBudgetExceeded when a frame
/// would start after @p deadline (decoding and on_frame's work both count).
Expected<VideoInfo> ForEachVideoFrame(
    std::span<const std::uint8_t> bytes, const MediaLimits& limits,
    const std::function<void(int, const cv::Mat&)>& on_frame,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace liveproof::media
