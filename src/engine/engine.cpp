// Engine: verified models, a pool of pipelines, and the image and video entry points.
#include "liveproof/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <opencv2/core.hpp>
#include <thread>

#include "engine/blink_detector.hpp"
#include "engine/models.hpp"
#include "engine/pipeline_pool.hpp"
#include "engine/stage_timer.hpp"
#include "media/decode.hpp"
#include "media/video.hpp"

namespace liveproof {

struct Engine::Impl {
    EngineOptions options;
    engine::Models models;
    std::unique_ptr<engine::PipelinePool> pool;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const EngineOptions& Engine::options() const { return impl_->options; }

Expected<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    EngineOptions& o = impl->options;
    if (o.workers <= 0)  // one per core, within the cap below
        o.workers = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
    if (o.workers > 64) return MakeError(ErrorCode::InvalidArgument, "workers must be 1..64");
    if (o.max_faces < 1 || o.max_faces > 100) {
        return MakeError(ErrorCode::InvalidArgument, "max_faces must be 1..100");
    }
    if (o.detect_max_side < 64 && o.detect_max_side != 0) {
        return MakeError(ErrorCode::InvalidArgument,
                         "detect_max_side must be 0 (full size) or >= 64");
    }
    if (o.opencv_threads >= 0) cv::setNumThreads(o.opencv_threads);

    auto models = engine::Models::Load(o);
    if (!models) return Unexpected{models.error()};
    impl->models = std::move(*models);

    std::vector<std::unique_ptr<engine::Pipeline>> pipelines;
    for (int i = 0; i < o.workers; ++i) {
        auto p = engine::Pipeline::Create(impl->models, impl->options);
        if (!p) return Unexpected{p.error()};
        pipelines.push_back(std::move(*p));
    }
    impl->pool = std::make_unique<engine::PipelinePool>(std::move(pipelines));
    spdlog::debug("engine ready: {} workers, detector {}", o.workers,
                  impl->models.yunet_path.empty() ? "haar" : "yunet");
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

namespace {

// When a call must be abandoned (EngineOptions::time_budget_seconds), from now.
std::chrono::steady_clock::time_point DeadlineAfter(double seconds) {
    if (seconds <= 0) return std::chrono::steady_clock::time_point::max();
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::duration<double>(seconds));
}

// No exception may cross the public API: OpenCV reports some input problems by throwing.
template <typename F>
auto Guarded(F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const cv::Exception& e) {
        spdlog::error("OpenCV error during analysis: {}", e.what());
        return MakeError(ErrorCode::Internal, "the image could not be processed (library error)");
    } catch (const std::bad_alloc&) {
        return MakeError(ErrorCode::Internal, "out of memory while processing the input");
    } catch (const std::exception& e) {
        spdlog::error("unexpected error during analysis: {}", e.what());
        return MakeError(ErrorCode::Internal, "unexpected error while processing the input");
    } catch (...) {
        spdlog::error("unexpected non-standard exception during analysis");
        return MakeError(ErrorCode::Internal, "unexpected error while processing the input");
    }
}

}  // namespace

Expected<ImageAnalysis> Engine::Analyze(std::span<const std::uint8_t> bytes,
                                        const AnalyzeOptions& what) const {
    return Guarded([&] { return AnalyzeUnguarded(bytes, what); });
}

Expected<ImageAnalysis> Engine::AnalyzeBgr(const unsigned char* bgr, int width, int height,
                                           std::size_t stride, const AnalyzeOptions& what) const {
    return Guarded([&] { return AnalyzeBgrUnguarded(bgr, width, height, stride, what); });
}

Expected<BlinkAnalysis> Engine::AnalyzeBlinkVideo(std::span<const std::uint8_t> bytes,
                                                  const BlinkOptions& options) const {
    return Guarded([&] { return AnalyzeBlinkVideoUnguarded(bytes, options); });
}

Expected<ImageAnalysis> Engine::AnalyzeUnguarded(std::span<const std::uint8_t> bytes,
                                                 const AnalyzeOptions& what) const {
    ImageAnalysis out;
    media::DecodedImage image;
    const auto deadline = DeadlineAfter(impl_->options.time_budget_seconds);
    {
        engine::StageTimer t(out.timings_ms, "decode");
        auto decoded = media::DecodeImage(bytes, impl_->options.limits);
        if (!decoded) return Unexpected{decoded.error()};
        image = std::move(*decoded);
    }
    // A decode cannot be interrupted (the caps bound it); what it cost decides whether the
    // analysis still runs.
    if (std::chrono::steady_clock::now() > deadline) {
        return MakeError(ErrorCode::TimeBudgetExceeded,
                         "decoding the image took longer than the time budget (" +
                             std::to_string(static_cast<int>(out.timings_ms["decode"])) + " ms)");
    }
    out.exif_orientation = image.header.exif_orientation;
    auto lease = impl_->pool->Acquire();
    {
        engine::StageTimer t(out.timings_ms, "analyze");
        lease->Analyze(image.bgr, what, out);
    }
    out.timings_ms["total"] = out.timings_ms["decode"] + out.timings_ms["analyze"];
    out.timings_ms.erase("analyze");
    return out;
}

Expected<ImageAnalysis> Engine::AnalyzeBgrUnguarded(const unsigned char* bgr, int width, int height,
                                                    std::size_t stride,
                                                    const AnalyzeOptions& what) const {
    const auto& limits = impl_->options.limits;
    if (bgr == nullptr || width <= 0 || height <= 0 || stride < std::size_t(width) * 3) {
        return MakeError(ErrorCode::InvalidArgument,
                         "null buffer, non-positive size or short stride");
    }
    if (width > limits.max_image_side || height > limits.max_image_side ||
        std::uint64_t(width) * std::uint64_t(height) > limits.max_image_pixels) {
        return MakeError(ErrorCode::ImageTooLarge, "image exceeds the pixel cap");
    }
    const cv::Mat image(height, width, CV_8UC3, const_cast<unsigned char*>(bgr), stride);
    ImageAnalysis out;
    auto lease = impl_->pool->Acquire();
    {
        engine::StageTimer t(out.timings_ms, "total");
        lease->Analyze(image, what, out);
    }
    return out;
}

Expected<BlinkAnalysis> Engine::AnalyzeBlinkVideoUnguarded(std::span<const std::uint8_t> bytes,
                                                           const BlinkOptions& bo) const {
    if (!(bo.open_threshold < bo.close_threshold) || bo.antispoof_every < 1) {
        return MakeError(ErrorCode::InvalidArgument,
                         "blink options: open_threshold must be below close_threshold and "
                         "antispoof_every >= 1");
    }
    BlinkAnalysis out;
    std::vector<std::optional<float>> closed;
    std::vector<float> p_real;
    std::optional<cv::Point2f> last_centre;
    int face_frames = 0;
    AnalyzeOptions eyes_only = AnalyzeOptions::PassiveOnly();
    eyes_only.antispoof = false;
    eyes_only.eyes = true;

    auto lease = impl_->pool->Acquire();
    auto on_frame = [&](int index, const cv::Mat& frame) {
        FrameEyes fe;
        fe.frame = index;
        std::vector<vision::Detection> faces;
        {
            engine::StageTimer t(out.timings_ms, "detect");
            faces = lease->Detect(frame);
        }
        if (faces.size() > 1) ++out.frames_multi_face;
        if (faces.empty()) {
            closed.emplace_back(std::nullopt);
            out.frames.push_back(fe);
            return;
        }
        const vision::Detection& d = faces.front();
        AnalyzeOptions what = eyes_only;
        what.antispoof = face_frames % bo.antispoof_every == 0;
        FaceResult f = lease->AnalyzeFace(frame, d, what, out.timings_ms);
        ++face_frames;
        const cv::Point2f centre(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
        if (last_centre && cv::norm(centre - *last_centre) > bo.max_track_jump * f.eye_dist) {
            ++out.track_breaks;
        }
        last_centre = centre;
        if (f.antispoof) p_real.push_back(f.antispoof->p_real);
        fe.face = true;
        fe.ear_left = f.eye_image_left->ear;
        fe.ear_right = f.eye_image_right->ear;
        const float mean_closed = (f.eye_image_left->closed + f.eye_image_right->closed) / 2;
        fe.openness = 1.0f - mean_closed;
        closed.emplace_back(mean_closed);
        out.frames.push_back(fe);
    };
    auto info = media::ForEachVideoFrame(bytes, impl_->options.limits, on_frame,
                                         DeadlineAfter(impl_->options.video_time_budget_seconds));
    if (!info) return Unexpected{info.error()};
    out.frames_decoded = info->frames_read;
    out.fps = info->fps;
    out.frames_with_face = face_frames;
    out.blinks = engine::FindBlinks(closed, bo);

    PassiveSummary& ps = out.passive;
    ps.frames_scored = static_cast<int>(p_real.size());
    if (!p_real.empty()) {
        float sum = 0;
        int real = 0;
        ps.min_p_real = 1.0f;
        for (float p : p_real) {
            sum += p;
            ps.min_p_real = std::min(ps.min_p_real, p);
            if (p >= impl_->options.liveness_threshold) ++real;
        }
        ps.mean_p_real = sum / static_cast<float>(p_real.size());
        ps.real_fraction = static_cast<float>(real) / static_cast<float>(p_real.size());
        ps.spoof = ps.mean_p_real < impl_->options.liveness_threshold;
    }
    // Judged in order of severity, so the reason names the most serious failure.
    if (face_frames < bo.min_face_frames) {
        out.reason = "too_few_face_frames";
    } else if (out.frames_multi_face * 10 > out.frames_decoded) {
        out.reason = "multiple_faces";
    } else if (out.track_breaks > bo.max_track_breaks) {
        out.reason = "face_changed";
    } else if (ps.spoof) {
        out.reason = "spoof_detected";
    } else if (out.blinks.empty()) {
        out.reason = "no_blink";
    }
    out.passed = out.reason.empty();
    return out;
}

}  // namespace liveproof
