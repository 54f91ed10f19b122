// Engine: verified models, a pool of pipelines, and the image and video entry points.
#include "liveproof/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <opencv2/core.hpp>
#include <thread>

#include "engine/engine_impl.hpp"
#include "engine/stage_timer.hpp"
#include "media/decode.hpp"
#include "media/fingerprint.hpp"

namespace liveproof {

using engine::DeadlineAfter;
using engine::Guarded;

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
    auto job = StartBlinkVideo(bytes, options);
    if (!job) return Unexpected{job.error()};
    while (!(*job)->Step(std::chrono::steady_clock::time_point::max())) {
    }
    return (*job)->Result();
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
    if (engine::ThreadCpuClock::now() > deadline) {
        return MakeError(ErrorCode::TimeBudgetExceeded,
                         "decoding the image took longer than the time budget (" +
                             std::to_string(static_cast<int>(out.timings_ms["decode"])) + " ms)");
    }
    out.exif_orientation = image.header.exif_orientation;
    if (what.fingerprint) out.fingerprint = media::LumaFingerprint(image.bgr);
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
    if (what.fingerprint) out.fingerprint = media::LumaFingerprint(image);
    auto lease = impl_->pool->Acquire();
    {
        engine::StageTimer t(out.timings_ms, "total");
        lease->Analyze(image, what, out);
    }
    return out;
}

}  // namespace liveproof
