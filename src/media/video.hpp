// Decodes a short video held in memory, frame by frame, inside the configured caps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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

/// @brief WHAT THIS OBJECT REPRESENTS: one video being decoded frame by frame, so that its
/// analysis can be spread over several worker slices. The bytes go to a private in-memory file
/// (memfd), never to disk.
/// THREAD SAFETY: one thread at a time (successive slices may run on different threads).
class VideoReader {
  public:
    /// @brief Checks the byte cap and the container, opens the video and checks its declared
    /// size, duration and frame count against @p limits before any frame is decoded.
    static Expected<std::unique_ptr<VideoReader>> Open(std::span<const std::uint8_t> bytes,
                                                       const MediaLimits& limits);
    ~VideoReader();
    VideoReader(const VideoReader&) = delete;
    VideoReader& operator=(const VideoReader&) = delete;

    /// @brief Decodes the next frame into @p bgr (8-bit BGR): true, or false at the end of the
    /// video. Fails with VideoTooLarge / VideoTooLong as soon as a cap is passed (the container
    /// may lie), and with VideoUndecodable at the end when no frame decoded.
    Expected<bool> Next(cv::Mat& bgr);
    /// @brief What the container says, and the frames delivered so far.
    [[nodiscard]] const VideoInfo& info() const;

  private:
    struct Impl;
    explicit VideoReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// @brief Calls on_frame(index, bgr) for each frame (a VideoReader run to the end). The bytes go to
/// a private in-memory file (memfd), never to disk. Fails with VideoTooLarge / VideoTooLong as soon
/// as a cap is passed, and with VideoUndecodable when no frame decodes. Fails with
/// TimeBudgetExceeded when a frame would start after @p deadline (decoding and on_frame's work both
/// count).
Expected<VideoInfo> ForEachVideoFrame(
    std::span<const std::uint8_t> bytes, const MediaLimits& limits,
    const std::function<void(int, const cv::Mat&)>& on_frame,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace liveproof::media
