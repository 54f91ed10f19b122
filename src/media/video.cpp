// Video decoding through OpenCV's FFmpeg backend from a memfd, with caps on bytes, size and time.
#include "media/video.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <opencv2/videoio.hpp>
#include <string>

namespace liveproof::media {

namespace {

// Closes the memfd on every exit path.
class MemFile {
  public:
    MemFile() : fd_(memfd_create("liveproof-video", MFD_CLOEXEC)) {}
    ~MemFile() {
        if (fd_ >= 0) close(fd_);
    }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;
    [[nodiscard]] bool ok() const { return fd_ >= 0; }
    bool Write(std::span<const std::uint8_t> bytes) const {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    [[nodiscard]] std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

  private:
    int fd_;
};

}  // namespace

Expected<VideoContainer> SniffVideo(std::span<const std::uint8_t> b) {
    if (b.empty()) return MakeError(ErrorCode::EmptyInput, "the video is empty (0 bytes)");
    if (b.size() >= 12 && std::memcmp(&b[4], "ftyp", 4) == 0) return VideoContainer::Mp4;
    if (b.size() >= 4 && b[0] == 0x1A && b[1] == 0x45 && b[2] == 0xDF && b[3] == 0xA3) {
        return VideoContainer::Matroska;
    }
    if (b.size() >= 12 && std::memcmp(b.data(), "RIFF", 4) == 0 &&
        std::memcmp(&b[8], "AVI ", 4) == 0) {
        return VideoContainer::Avi;
    }
    return MakeError(ErrorCode::VideoUnsupported,
                     "not an MP4/MOV, WebM/MKV or AVI video (unrecognised leading bytes)");
}

struct VideoReader::Impl {
    MediaLimits limits;
    MemFile file;  // the capture reads it through /proc/self/fd for as long as it lives
    cv::VideoCapture cap;
    VideoInfo info;
};

VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const { return impl_->info; }

Expected<std::unique_ptr<VideoReader>> VideoReader::Open(std::span<const std::uint8_t> bytes,
                                                         const MediaLimits& limits) {
    if (bytes.size() > limits.max_video_bytes) {
        return MakeError(ErrorCode::VideoTooLarge, "video is " + std::to_string(bytes.size()) +
                                                       " bytes; the cap is " +
                                                       std::to_string(limits.max_video_bytes));
    }
    auto container = SniffVideo(bytes);
    if (!container) return Unexpected{container.error()};
    auto impl = std::make_unique<Impl>();
    impl->limits = limits;
    if (!impl->file.ok() || !impl->file.Write(bytes)) {
        return MakeError(ErrorCode::Internal, "could not buffer the video in memory");
    }
    cv::VideoCapture& cap = impl->cap;
    try {
        cap.open(impl->file.path(), cv::CAP_FFMPEG);
    } catch (const cv::Exception&) {
        return MakeError(ErrorCode::VideoUndecodable, "the video could not be opened");
    }
    if (!cap.isOpened())
        return MakeError(ErrorCode::VideoUndecodable, "the video could not be opened");

    VideoInfo& info = impl->info;
    info.fps = cap.get(cv::CAP_PROP_FPS);
    if (!(info.fps > 0 && info.fps < 1000)) info.fps = 0;
    info.width = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_WIDTH));
    info.height = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_HEIGHT));
    if (std::uint64_t(std::max(info.width, 0)) * std::uint64_t(std::max(info.height, 0)) >
        limits.max_video_frame_pixels) {
        return MakeError(ErrorCode::VideoTooLarge,
                         "video frames are " + std::to_string(info.width) + "x" +
                             std::to_string(info.height) + "; the cap is " +
                             std::to_string(limits.max_video_frame_pixels) + " pixels");
    }
    const double declared = cap.get(cv::CAP_PROP_FRAME_COUNT);
    if (info.fps > 0 && declared > 0 && declared / info.fps > limits.max_video_seconds + 0.5) {
        return MakeError(ErrorCode::VideoTooLong,
                         "video lasts " + std::to_string(declared / info.fps) + " s; the cap is " +
                             std::to_string(limits.max_video_seconds) + " s");
    }
    // Refused before any frame is decoded when the container says so (checked again per frame:
    // the container may lie).
    if (declared > limits.max_video_frames) {
        return MakeError(ErrorCode::VideoTooLong,
                         "video has " + std::to_string(static_cast<long long>(declared)) +
                             " frames; the cap is " + std::to_string(limits.max_video_frames));
    }
    return std::unique_ptr<VideoReader>(new VideoReader(std::move(impl)));
}

Expected<bool> VideoReader::Next(cv::Mat& frame) {
    const MediaLimits& limits = impl_->limits;
    VideoInfo& info = impl_->info;
    bool got = false;
    try {
        got = impl_->cap.read(frame);
    } catch (const cv::Exception&) {
        got = false;
    }
    if (!got || frame.empty()) {
        if (info.frames_read == 0)
            return MakeError(ErrorCode::VideoUndecodable, "the video has no decodable frames");
        return false;
    }
    if (info.frames_read >= limits.max_video_frames) {
        return MakeError(
            ErrorCode::VideoTooLong,
            "video has more than " + std::to_string(limits.max_video_frames) + " frames");
    }
    const double ms = impl_->cap.get(cv::CAP_PROP_POS_MSEC);
    if (ms > (limits.max_video_seconds + 0.5) * 1000.0) {
        return MakeError(
            ErrorCode::VideoTooLong,
            "video lasts longer than " + std::to_string(limits.max_video_seconds) + " s");
    }
    if (frame.type() != CV_8UC3 || std::uint64_t(frame.total()) > limits.max_video_frame_pixels) {
        return MakeError(ErrorCode::VideoTooLarge, "a video frame has an unexpected size or type");
    }
    ++info.frames_read;
    return true;
}

Expected<VideoInfo> ForEachVideoFrame(std::span<const std::uint8_t> bytes,
                                      const MediaLimits& limits,
                                      const std::function<void(int, const cv::Mat&)>& on_frame,
                                      std::chrono::steady_clock::time_point deadline) {
    auto reader = VideoReader::Open(bytes, limits);
    if (!reader) return Unexpected{reader.error()};
    cv::Mat frame;
    while (true) {
        if (std::chrono::steady_clock::now() > deadline) {
            return MakeError(ErrorCode::TimeBudgetExceeded,
                             "the video took longer to analyse than the time budget (" +
                                 std::to_string((*reader)->info().frames_read) +
                                 " frames done); send a shorter or smaller clip");
        }
        auto more = (*reader)->Next(frame);
        if (!more) return Unexpected{more.error()};
        if (!*more) break;
        on_frame((*reader)->info().frames_read - 1, frame);
    }
    return (*reader)->info();
}

}  // namespace liveproof::media
